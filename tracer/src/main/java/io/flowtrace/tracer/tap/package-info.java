/**
 * The Kafka tap: a read-only consumer, in its own consumer group, that turns the records of the
 * topics a flow names into {@link io.flowtrace.tracer.model.KafkaRecord}s. Kafka client types stay
 * in this package's API edge (builder overrides, {@code TopicPartition} in the assignment).
 */
package io.flowtrace.tracer.tap;
