/** Where verdicts go: {@link io.flowtrace.sidecar.output.VerdictSink} and its Kafka, JSON-lines and console forms. */
package io.flowtrace.sidecar.output;
