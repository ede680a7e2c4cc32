import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.junit.FlowTraceExtension;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/** The setup build's one test: it makes Surefire resolve its provider, and checks what it resolved. */
class ClasspathTest {
  @Test
  void theOutsideBuildsDependenciesAreResolved() {
    assertThat(FlowTraceExtension.builder()).isNotNull();
    assertThat(SdkTracerProvider.builder().build()).isNotNull();
    assertThat(KafkaProducer.class.getPackage().getName()).isEqualTo("org.apache.kafka.clients.producer");
  }
}
