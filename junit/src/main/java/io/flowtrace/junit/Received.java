package io.flowtrace.junit;

import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the extension received and made of it, for debugging a test ({@link
 * FlowTraceExtension#received()}): the spans (by {@code service.name}) and records (by topic) that
 * reached it in the current test and in the whole class so far — declared events or not — the flow
 * instances that started during the test with their verdicts as they stand, and where the spans and
 * records come from. Its {@link #toString()} is what a failure message says when no flow was seen.
 *
 * @param test what arrived since the current test began
 * @param testClass what arrived since the test class began
 * @param flows every flow instance that started during the current test, first seen first
 * @param exporterShutdowns how many times {@code shutdown()} was called on {@link
 *     FlowTraceExtension#spanExporter()} (closing a tracer provider does it); the extension goes on
 *     taking spans from it
 * @param openTelemetryServices the services {@link FlowTraceExtension#openTelemetry(String)} was
 *     asked for
 * @param otlpEndpoint the OTLP/HTTP receiver's URL for spans ({@code …/v1/traces}), or {@code null}
 *     when it is off
 * @param topics the flows' topics, which the extension taps
 * @param bootstrapServers the Kafka cluster tapped, or {@code null} when none is known yet
 */
public record Received(
    Counts test,
    Counts testClass,
    List<Flow> flows,
    int exporterShutdowns,
    List<String> openTelemetryServices,
    String otlpEndpoint,
    List<String> topics,
    String bootstrapServers) {

  public Received {
    requireNonNull(test, "test");
    requireNonNull(testClass, "testClass");
    flows = List.copyOf(flows);
    openTelemetryServices = List.copyOf(openTelemetryServices);
    topics = List.copyOf(topics);
  }

  /**
   * Spans and records that reached the extension.
   *
   * @param spansByService spans by {@code service.name}, sorted by name
   * @param recordsByTopic records by topic, sorted by name
   */
  public record Counts(Map<String, Long> spansByService, Map<String, Long> recordsByTopic) {
    public Counts {
      spansByService = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(spansByService));
      recordsByTopic = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(recordsByTopic));
    }

    public long spans() {
      return spansByService.values().stream().mapToLong(Long::longValue).sum();
    }

    public long records() {
      return recordsByTopic.values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@code 3 spans (ledger 1, pay-service 2), 2 records (ledger.entries 1, payments.requested 1)}, or {@code nothing}. */
    @Override
    public String toString() {
      if (spans() == 0 && records() == 0) {
        return "nothing";
      }
      return count(spans(), "span") + by(spansByService) + ", " + count(records(), "record") + by(recordsByTopic);
    }

    private static String by(Map<String, Long> counts) {
      if (counts.isEmpty()) {
        return "";
      }
      StringBuilder sb = new StringBuilder(" (");
      counts.forEach((k, v) -> sb.append(sb.length() == 2 ? "" : ", ").append(k).append(' ').append(v));
      return sb.append(')').toString();
    }
  }

  /**
   * A flow instance that started during the test.
   *
   * @param flow the flow's name
   * @param keys its business keys as far as seen
   * @param verdict its verdict as it stands, or {@code null} while the engine has not decided it
   */
  public record Flow(String flow, Map<String, String> keys, Verdict verdict) {
    public Flow {
      requireNonNull(flow, "flow");
      keys = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    }

    public boolean decided() {
      return verdict != null;
    }

    /** {@code flow payment [paymentId=p1] (PASSED)}, or {@code (not decided yet)}. */
    @Override
    public String toString() {
      VerdictStatus status = verdict == null ? null : verdict.status();
      return Messages.subject(flow, keys) + " (" + (status == null ? "not decided yet" : status) + ")";
    }
  }

  /**
   * What arrived, in this test and in the class, and from where:
   *
   * <pre>
   * flowtrace received in this test: nothing; in this class: 3 spans (ledger 1, pay-service 2), 2 records (…)
   *   spans from: spanExporter(), the OTLP/HTTP receiver at http://127.0.0.1:41234/v1/traces
   *   records from: a tap of payments.requested, ledger.entries on 127.0.0.1:9092
   * </pre>
   */
  public String summary() {
    StringBuilder sb = new StringBuilder("flowtrace received in this test: ").append(test)
        .append("; in this class: ").append(testClass);
    sb.append("\n  spans from: spanExporter()");
    if (exporterShutdowns > 0) {
      sb.append(" (shut down ").append(exporterShutdowns).append(exporterShutdowns == 1 ? " time" : " times")
          .append(" by a caller, an SdkTracerProvider closing, say; flowtrace still takes spans from it)");
    }
    for (String s : openTelemetryServices) {
      sb.append(", openTelemetry(\"").append(s).append("\")");
    }
    if (otlpEndpoint != null) {
      sb.append(", the OTLP/HTTP receiver at ").append(otlpEndpoint);
    }
    sb.append("\n  records from: ");
    if (topics.isEmpty()) {
      sb.append("none (the flows name no topics)");
    } else if (bootstrapServers == null) {
      sb.append("none: no Kafka cluster to tap ").append(String.join(", ", topics))
          .append(" on (give one with kafka(...) on the builder, or attachKafka(...))");
    } else {
      sb.append("a tap of ").append(String.join(", ", topics)).append(" on ").append(bootstrapServers);
    }
    return sb.toString();
  }

  /** {@link #summary()}, then the flows of the test. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(summary());
    sb.append(flows.isEmpty() ? "\nno flow started during this test" : "\nflows that started during this test:");
    for (Flow f : flows) {
      sb.append("\n  - ").append(f);
    }
    return sb.toString();
  }

  private static String count(long n, String what) {
    return n + " " + what + (n == 1 ? "" : "s");
  }
}
