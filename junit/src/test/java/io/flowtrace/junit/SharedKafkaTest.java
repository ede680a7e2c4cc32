package io.flowtrace.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.ConnectException;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/** One broker for the test classes of a run, closed when the run ends. */
class SharedKafkaTest {

  static final Set<String> seen = ConcurrentHashMap.newKeySet();

  @Test
  void twoClassesOfARunShareOneBrokerWithTheTopicsOfBothAndItClosesWithTheRun() throws Exception {
    EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(FirstSample.class), selectClass(SecondSample.class)).execute();

    results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(2));
    assertThat(seen).hasSize(1);
    String servers = seen.iterator().next();
    int port = Integer.parseInt(servers.substring(servers.lastIndexOf(':') + 1));
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("the broker is closed when the run ends")
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void theBrokerIsThereOnlyOnceTheClassStarted() {
    assertThat(SharedKafka.create().bootstrapServers()).isNull();
    assertThatThrownBy(() -> SharedKafka.create().broker())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("flowtrace: the shared Kafka broker starts before the test class");
  }

  static class FirstSample {
    @RegisterExtension
    static SharedKafka kafka = SharedKafka.create().withTopic("first", 1);

    @Test
    void seesItsTopic() throws Exception {
      seen.add(kafka.bootstrapServers());
      assertThat(topics(kafka)).contains("first");
    }
  }

  static class SecondSample {
    @RegisterExtension
    static SharedKafka kafka = SharedKafka.create().withTopic("first", 1).withTopic("second", 2);

    @BeforeAll
    static void noSecondBroker() {
      assertThat(seen).containsExactly(kafka.bootstrapServers());
    }

    @Test
    void seesBothTopics() throws Exception {
      seen.add(kafka.bootstrapServers());
      assertThat(topics(kafka)).contains("first", "second");
    }
  }

  static Set<String> topics(SharedKafka kafka) throws Exception {
    try (Admin admin = Admin.create(java.util.Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      return admin.listTopics().names().get();
    }
  }
}
