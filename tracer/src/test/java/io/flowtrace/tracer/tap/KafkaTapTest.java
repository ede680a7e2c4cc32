package io.flowtrace.tracer.tap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** Builder validation and the consumer properties the tap asks for. */
class KafkaTapTest {

  @Test
  void reportsEveryMissingSettingAtOnce() {
    assertThatThrownBy(() -> KafkaTap.builder().start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Missing : bootstrapServers topics sink");
  }

  @Test
  void overridesMayNotTakeOverTheGroupCommitsOrDeserializers() {
    assertThatThrownBy(() -> KafkaTap.builder().overrides(Map.of("enable.auto.commit", true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("overrides may not set enable.auto.commit: the tap sets it itself (it never"
            + " auto-commits, reads raw bytes, and has its own group; use groupId(...) to name the group and"
            + " commit(...) to commit)");
    assertThatThrownBy(() -> KafkaTap.builder().overrides(Map.of("group.id", "order-service")))
        .hasMessageStartingWith("overrides may not set group.id:");
  }

  @Test
  void consumerIsReadOnlyInItsOwnGroupWithRawOverridesPassedThrough() {
    Map<String, Object> props = KafkaTap.builder()
        .bootstrapServers("127.0.0.1:9092")
        .overrides(Map.of("security.protocol", "SASL_SSL", "isolation.level", "read_uncommitted"))
        .consumerProperties("flowtrace-tap-x");
    assertThat(props)
        .containsEntry("group.id", "flowtrace-tap-x")
        .containsEntry("enable.auto.commit", false)
        .containsEntry("auto.offset.reset", "latest")
        .containsEntry("key.deserializer", ByteArrayDeserializer.class)
        .containsEntry("value.deserializer", ByteArrayDeserializer.class)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("isolation.level", "read_uncommitted");
    assertThat(KafkaTap.builder().bootstrapServers("h:1").consumerProperties("g"))
        .containsEntry("isolation.level", "read_committed");
  }
}
