/**
 * Read-only Kafka sources, each in its own consumer group: the Kafka tap ({@link
 * io.flowtrace.tracer.tap.KafkaTap}) turns the records of the topics a flow names into {@link
 * io.flowtrace.tracer.model.KafkaRecord}s; {@link io.flowtrace.tracer.tap.OtlpSpansTopicSource} reads
 * the spans the OpenTelemetry Collector's kafka exporter writes ({@code otlp_spans}). Neither
 * auto-commits; both commit only offsets their caller hands them. Kafka client types stay in this
 * package's API edge (builder overrides, {@code TopicPartition}/{@code OffsetAndMetadata} in
 * assignment and commits).
 */
package io.flowtrace.tracer.tap;
