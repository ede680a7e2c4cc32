package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KafkaPartitionerTest {

  @Test
  void murmur2MatchesKafkasReferenceValues() {
    assertThat(murmur2("21")).isEqualTo(-973932308);
    assertThat(murmur2("foobar")).isEqualTo(-790332482);
    assertThat(murmur2("a-little-bit-long-string")).isEqualTo(-985981536);
    assertThat(murmur2("a-little-bit-longer-string")).isEqualTo(-1486304829);
    assertThat(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")).isEqualTo(-58897971);
    assertThat(murmur2("abc")).isEqualTo(479470107);
    assertThat(murmur2("1")).isEqualTo(-1993445489);
    assertThat(murmur2("12345")).isEqualTo(-1188365604);
  }

  @Test
  void partitionIsThePositiveHashModuloThePartitions() {
    assertThat(KafkaPartitioner.partition("21", 3)).isEqualTo((-973932308 & 0x7fffffff) % 3);
    assertThat(KafkaPartitioner.partition("abc", 3)).isEqualTo(479470107 % 3);
  }

  private static int murmur2(String key) {
    return KafkaPartitioner.murmur2(key.getBytes(StandardCharsets.UTF_8));
  }
}
