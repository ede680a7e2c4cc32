package io.flowtrace.cli.synth;

import io.flowtrace.cli.synth.FlowPlan.PlannedRecord;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.apache.kafka.common.TopicPartition;

/**
 * Plays the broker: gives each planned record the next offset of its topic-partition in the order
 * the records were sent, across overlapping flows. Records wait until no later-planned flow can
 * still send before them: flows start in order and send nothing before they start, so once flow
 * {@code i} is planned every record sent before its start can be numbered.
 */
final class OffsetSequencer {

  /** Offsets of every partition start above zero, as on a topic with history; below this. */
  static final int MAX_BASE_OFFSET = 5000;

  private final PriorityQueue<PlannedRecord> waiting = new PriorityQueue<>(
      Comparator.<PlannedRecord>comparingLong(r -> r.sendNanos)
          .thenComparingInt(r -> r.flow.index)
          .thenComparingInt(r -> r.ordinal));
  private final Map<String, long[]> nextOffsets = new HashMap<>();
  private final int partitions;

  /**
   * @param partitions partitions of every topic
   * @param firstOffsets where each topic-partition's first record lands (a partition not named: 0),
   *     or {@code null} for random offsets below {@value #MAX_BASE_OFFSET}
   */
  OffsetSequencer(long seed, int partitions, Map<TopicPartition, Long> firstOffsets) {
    this.partitions = partitions;
    SplittableRandom random = new SplittableRandom(seed ^ 0x0FF5E7L);
    for (String topic : FlowPlanner.TOPICS) {
      long[] next = new long[partitions];
      for (int p = 0; p < next.length; p++) {
        next[p] = firstOffsets == null ? random.nextInt(MAX_BASE_OFFSET)
            : firstOffsets.getOrDefault(new TopicPartition(topic, p), 0L);
      }
      nextOffsets.put(topic, next);
    }
  }

  /** Partitions of every topic. */
  int partitions() {
    return partitions;
  }

  /** Queues the flow's records. */
  void add(FlowPlan flow) {
    waiting.addAll(flow.records);
  }

  /** Numbers every queued record sent strictly before {@code nanos}. */
  void assignSentBefore(long nanos) {
    while (!waiting.isEmpty() && waiting.peek().sendNanos < nanos) {
      assign(waiting.poll());
    }
  }

  /** Numbers every queued record. */
  void assignAll() {
    while (!waiting.isEmpty()) {
      assign(waiting.poll());
    }
  }

  /** The offset the next record of the topic-partition gets. */
  long nextOffset(String topic, int partition) {
    return nextOffsets.get(topic)[partition];
  }

  private void assign(PlannedRecord record) {
    long[] next = nextOffsets.get(record.topic);
    record.offset = next[record.partition]++;
    record.flow.unassignedRecords--;
  }
}
