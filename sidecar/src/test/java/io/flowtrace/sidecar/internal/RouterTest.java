package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RouterTest {

  @Test
  void anEventWaitsForItsAliasLongerThanADeadRoutersPartitionsTakeToMove() {
    assertThat(Router.parkMillis(Map.of())).as("Kafka's default session timeout, 45 s").isEqualTo(55_000);
    assertThat(Router.parkMillis(Map.of("session.timeout.ms", "6000"))).isEqualTo(16_000);
    assertThat(Router.parkMillis(Map.of("session.timeout.ms", 10_000))).isEqualTo(20_000);
  }
}
