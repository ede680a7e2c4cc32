/**
 * Read-only Kafka sources, each in its own consumer group: the Kafka tap ({@link
 * io.flowtrace.tracer.tap.KafkaTap}) turns the records of the topics a flow names into {@link
 * io.flowtrace.tracer.model.KafkaRecord}s; {@link io.flowtrace.tracer.tap.OtlpSpansTopicSource} reads
 * the spans the OpenTelemetry Collector's kafka exporter writes ({@code otlp_spans}). Neither
 * auto-commits; both commit only offsets their caller hands them. Both, and the sidecar's Kafka input,
 * run on one poll loop, {@link io.flowtrace.tracer.tap.PartitionedConsumer} (skipping unreadable
 * records, pausing under back-pressure, committing on revocation), which is public for that reason. Kafka client types stay in this
 * package's API edge (builder overrides, {@code TopicPartition}/{@code OffsetAndMetadata} in
 * assignment and commits).
 */
package io.flowtrace.tracer.tap;
