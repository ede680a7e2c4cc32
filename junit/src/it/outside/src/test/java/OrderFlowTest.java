import static io.flowtrace.junit.FlowTraceAssertions.assertThatFlow;

import io.flowtrace.junit.FlowTraceExtension;
import io.flowtrace.junit.SharedKafka;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OrderFlowTest {
  @RegisterExtension                         // one test broker for all classes of the run, with these topics
  static SharedKafka kafka = SharedKafka.create()
      .withTopic("orders.requested", 1).withTopic("orders.confirmed", 1);

  @RegisterExtension
  static FlowTraceExtension flows = FlowTraceExtension.builder()
      // flow specs: src/test/resources/flows (the default); .flows(Path.of("specs")) reads a directory
      .kafka(kafka::bootstrapServers)        // asked before each test
      .build();

  static OrderSystem system;                 // your system under test

  @BeforeAll
  static void start() throws Exception {
    // In this JVM: your SDK exporting to flows.spanExporter() (batched, as in production), or
    // flows.openTelemetry("order-service") for each service. As a process of its own:
    // OTEL_EXPORTER_OTLP_ENDPOINT=flows.otlpEndpoint() (http/protobuf).
    system = OrderSystem.start(kafka.bootstrapServers(), flows.spanExporter());
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
  }

  @Test
  void anOrderGoesThrough() throws Exception {
    String id = system.placeOrder("45.48");   // drive the system as the test always did
    assertThatFlow("order-creation").withKey("requestId", id)
        .completesWithin(Duration.ofSeconds(15))
        .hasNoViolations();
  }
}
