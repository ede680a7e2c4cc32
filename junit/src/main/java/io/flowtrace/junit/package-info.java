/**
 * Whole-flow assertions for JUnit 5 tests: {@link io.flowtrace.junit.FlowTraceExtension} (or
 * {@link io.flowtrace.junit.FlowTraceTest}) receives the system's spans and taps its Kafka topics
 * while a test drives it, and {@link io.flowtrace.junit.FlowTraceAssertions#assertThatFlow} asserts
 * on each flow instance's verdict, payloads and idempotency.
 */
package io.flowtrace.junit;
