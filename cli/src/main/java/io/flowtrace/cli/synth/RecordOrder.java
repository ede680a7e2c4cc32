package io.flowtrace.cli.synth;

import io.flowtrace.tracer.model.KafkaRecord;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Passes records on to the sink in offset order per topic-partition. Flows are rendered one after
 * another but their records were numbered in time order across flows, so a record may be ready
 * before a lower offset of its partition is; it waits here until the gap is filled.
 */
final class RecordOrder {
  private final RecordingSink sink;
  private final Map<String, long[]> next = new HashMap<>();
  private final Map<String, TreeMap<Long, KafkaRecord>> waiting = new HashMap<>();
  private long waitingCount;

  /** Expects each partition to start at the sequencer's current next offset. */
  RecordOrder(OffsetSequencer sequencer, RecordingSink sink) {
    this.sink = sink;
    for (String topic : FlowPlanner.TOPICS) {
      long[] offsets = new long[sequencer.partitions()];
      for (int p = 0; p < offsets.length; p++) {
        offsets[p] = sequencer.nextOffset(topic, p);
      }
      next.put(topic, offsets);
    }
  }

  void offer(KafkaRecord record) throws IOException {
    long[] offsets = next.get(record.topic());
    int partition = record.partition();
    if (record.offset() != offsets[partition]) {
      waiting.computeIfAbsent(record.topic() + "-" + partition, k -> new TreeMap<>()).put(record.offset(), record);
      waitingCount++;
      return;
    }
    sink.record(record);
    offsets[partition]++;
    TreeMap<Long, KafkaRecord> queue = waiting.get(record.topic() + "-" + partition);
    while (queue != null && !queue.isEmpty() && queue.firstKey() == offsets[partition]) {
      sink.record(queue.pollFirstEntry().getValue());
      waitingCount--;
      offsets[partition]++;
    }
  }

  /** Records still waiting for a lower offset (zero once every flow is rendered). */
  long waiting() {
    return waitingCount;
  }
}
