/**
 * A real single-node Apache Kafka broker (KRaft) started from the Maven Central jars, for
 * integration tests and demos: {@link io.flowtrace.kafka.testkit.KafkaBroker}.
 */
package io.flowtrace.kafka.testkit;
