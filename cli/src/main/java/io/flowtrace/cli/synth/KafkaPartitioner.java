package io.flowtrace.cli.synth;

import java.nio.charset.StandardCharsets;

/**
 * The partition Kafka's default producer partitioner picks for a keyed record: {@code
 * toPositive(murmur2(keyBytes)) % numPartitions}, with the same murmur2 as {@code
 * org.apache.kafka.common.utils.Utils}, so records land where a real producer would put them.
 */
final class KafkaPartitioner {
  private KafkaPartitioner() {}

  static int partition(String key, int numPartitions) {
    return (murmur2(key.getBytes(StandardCharsets.UTF_8)) & 0x7fffffff) % numPartitions;
  }

  @SuppressWarnings("fallthrough")
  static int murmur2(byte[] data) {
    int length = data.length;
    final int seed = 0x9747b28c;
    final int m = 0x5bd1e995;
    final int r = 24;
    int h = seed ^ length;
    int length4 = length / 4;
    for (int i = 0; i < length4; i++) {
      final int i4 = i * 4;
      int k = (data[i4] & 0xff)
          + ((data[i4 + 1] & 0xff) << 8)
          + ((data[i4 + 2] & 0xff) << 16)
          + ((data[i4 + 3] & 0xff) << 24);
      k *= m;
      k ^= k >>> r;
      k *= m;
      h *= m;
      h ^= k;
    }
    int tail = length & ~3;
    switch (length % 4) {
      case 3:
        h ^= (data[tail + 2] & 0xff) << 16;
        // fall through
      case 2:
        h ^= (data[tail + 1] & 0xff) << 8;
        // fall through
      case 1:
        h ^= data[tail] & 0xff;
        h *= m;
        break;
      default:
        break;
    }
    h ^= h >>> 13;
    h *= m;
    h ^= h >>> 15;
    return h;
  }
}
