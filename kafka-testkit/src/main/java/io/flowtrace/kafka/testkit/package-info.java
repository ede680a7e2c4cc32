/**
 * A real single-node Apache Kafka broker (KRaft) started from the Maven Central jars, for
 * integration tests and demos: {@link io.flowtrace.kafka.testkit.KafkaBroker}. The broker runs in a
 * forked JVM on its own class path (the 44 jars, 45 MB, of {@code kafka_2.13} at the testkit's
 * Kafka version, taken from the local Maven repository or downloaded once from Maven Central), so
 * the test's own class path needs only the testkit, {@code kafka-clients} (3.9 or 4.x) and SLF4J.
 */
package io.flowtrace.kafka.testkit;
