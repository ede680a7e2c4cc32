/**
 * Synthetic recordings of the reference order flow: {@link io.flowtrace.cli.synth.SyntheticOrderFlows}
 * generates spans through the real OpenTelemetry SDK and Kafka records in kcat's format, with
 * {@link io.flowtrace.cli.synth.Defect}s planted where asked, and a
 * {@link io.flowtrace.cli.synth.Manifest} of the verdicts a correct verifier reaches, optionally
 * under field conditions (head sampling, hosts' clock skew). Used for the bundled samples, test
 * fixtures and the benchmark.
 */
package io.flowtrace.cli.synth;
