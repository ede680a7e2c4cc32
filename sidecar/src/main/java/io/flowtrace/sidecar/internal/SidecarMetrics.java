package io.flowtrace.sidecar.internal;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.report.Verdict;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * The sidecar's Prometheus metrics, in their own registry, with the JVM's standard ones beside them
 * ({@code jvm_memory_used_bytes}, {@code jvm_memory_pool_collection_used_bytes} — live data after
 * the latest collection —, {@code jvm_gc_collection_seconds}, threads, {@code process_*}): whether
 * the heap holds steady over days is read from the same endpoint. Thread-safe.
 */
public final class SidecarMetrics {

  private final PrometheusRegistry registry = new PrometheusRegistry();

  {
    JvmMetrics.builder().register(registry);
  }

  private final LatencySamples samples = new LatencySamples(100_000);
  private final Counter verified = Counter.builder().name("flowtrace_flows_verified_total")
      .help("Flow instances decided, by flow and status (first decision of each instance)")
      .labelNames("flow", "status").register(registry);
  private final Counter verification = Counter.builder().name("flowtrace_flows_verification_total")
      .help("Flow instances decided, by flow and whether every check could run (full) or some could not, "
          + "e.g. on spans of unsampled traces (partial); first decision of each instance")
      .labelNames("flow", "verification").register(registry);
  private final Counter unverified = Counter.builder().name("flowtrace_unverified_total")
      .help("What checks could not verify in first decisions, by flow and check: schema (a payload whose schema"
          + " the schema registry did not give), stage, rule, enrichment, ... (mostly spans of unsampled traces)")
      .labelNames("flow", "check").register(registry);
  /** The checks that list what they could not verify ({@link io.flowtrace.verifier.check.Unverified#check()}). */
  private static final java.util.List<String> CHECKS =
      java.util.List.of("schema", "stage", "path", "rule", "enrichment", "idempotency", "order", "budget", "propagation");
  private final Counter late = Counter.builder().name("flowtrace_late_events_total")
      .help("Events that came after their instance's verdict was final (not verified), by flow")
      .labelNames("flow").register(registry);
  private final Counter finals = Counter.builder().name("flowtrace_flows_final_total")
      .help("Flow instances whose verdict became final (no later event can amend it), by flow and final status:"
          + " each instance once, with what it finally said — a first decision withdrawn when late spans came is"
          + " counted here as what it became")
      .labelNames("flow", "status").register(registry);
  private final Counter amended = Counter.builder().name("flowtrace_verdicts_amended_total")
      .help("Verdicts amended by late events, by flow and new status").labelNames("flow", "status").register(registry);
  private final Counter violations = Counter.builder().name("flowtrace_violations_total")
      .help("Violations in first decisions, by flow and kind").labelNames("flow", "kind").register(registry);
  private final Counter spans = Counter.builder().name("flowtrace_spans_ingested_total")
      .help("Spans received, by source").labelNames("source").register(registry);
  private final Counter records = Counter.builder().name("flowtrace_records_ingested_total")
      .help("Kafka records received").register(registry);
  private final Counter dropped = Counter.builder().name("flowtrace_telemetry_dropped_total")
      .help("Spans, records or messages not used, by reason").labelNames("reason").register(registry);
  private final Counter refused = Counter.builder().name("flowtrace_otlp_requests_refused_total")
      .help("OTLP export requests the receivers refused, by reason (undecodable, too_large, invalid_id, full,"
          + " closed): their spans never reached the engine").labelNames("reason").register(registry);
  private final Counter routedSpans = Counter.builder().name("flowtrace_router_correlation_spans_total")
      .help("Producer and consumer spans a cluster's router sent on: to the sidecar that assembles their trace's"
          + " instance (to=owner), or to every sidecar while no event of their trace was routed yet (to=all)")
      .labelNames("to").register(registry);
  private final Counter aliases = Counter.builder().name("flowtrace_router_aliases_total")
      .help("A cluster's alias claims by outcome: lost (another router's claim of the same key or trace came first"
          + " in the routes topic, and its root was adopted) or merged (two roots found to be one instance's)")
      .labelNames("outcome").register(registry);
  private final Gauge inFlight = Gauge.builder().name("flowtrace_instances_in_flight")
      .help("Flow instances open (not yet decided)").register(registry);
  private final Gauge decidedOpen = Gauge.builder().name("flowtrace_instances_amendable")
      .help("Decided instances still open to amendment").register(registry);
  private final Gauge spansHeld = Gauge.builder().name("flowtrace_correlation_spans_held")
      .help("Producer and consumer spans held to join records to their traces (kept for deadline, grace and"
          + " amendment window)").register(registry);
  private final Counter evicted = Counter.builder().name("flowtrace_instances_evicted_total")
      .help("Instances decided INCOMPLETE early because of a memory cap, by cap").labelNames("cap").register(registry);
  private final Counter amendWindowsCut = Counter.builder().name("flowtrace_amend_windows_cut_total")
      .help("Verdicts made final before their amendment window ended, to keep held events under max-retained-events")
      .register(registry);
  private final Histogram latency = Histogram.builder().name("flowtrace_verdict_latency_seconds")
      .help("Time from the last event an instance needed to its verdict (data-driven decisions)")
      .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
      .register(registry);
  private final Gauge lag = Gauge.builder().name("flowtrace_tap_lag_records")
      .help("Records behind the end of each input partition").labelNames("topic", "partition").register(registry);
  private final Gauge inbox = Gauge.builder().name("flowtrace_inbox_batches")
      .help("Batches waiting for the engine thread").register(registry);
  private final Counter commits = Counter.builder().name("flowtrace_offset_commits_total")
      .help("Offset commits requested after verdict outputs were flushed").register(registry);
  private final Gauge topicMissing = Gauge.builder().name("flowtrace_topic_missing")
      .help("1 while an input topic does not exist (the other topics are verified; it is read once it appears), else 0")
      .labelNames("topic").register(registry);
  private final Counter outputFailures = Counter.builder().name("flowtrace_output_failures_total")
      .help("Verdict output writes or flushes that failed (offsets were not committed)").register(registry);

  /**
   * Starts every series an alert may watch at 0 for these flows — verdicts by status, amendments,
   * late events, spans by source, the cluster's alias outcomes and correlation spans — so that
   * {@code /metrics} lists them before the first increment and a rate over them is defined.
   */
  public void startAtZero(java.util.Collection<String> flows, boolean cluster) {
    for (String flow : flows) {
      for (io.flowtrace.verifier.report.VerdictStatus status : io.flowtrace.verifier.report.VerdictStatus.values()) {
        verified.labelValues(flow, status.name());
        finals.labelValues(flow, status.name());
        amended.labelValues(flow, status.name());
      }
      verification.labelValues(flow, "full");
      verification.labelValues(flow, "partial");
      CHECKS.forEach(check -> unverified.labelValues(flow, check));
      late.labelValues(flow);
    }
    spans.labelValues("otlp");
    spans.labelValues("kafka");
    if (cluster) {
      spans.labelValues("broadcast");
      routedSpans.labelValues("owner");
      routedSpans.labelValues("all");
      aliases.labelValues("lost");
      aliases.labelValues("merged");
    }
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void decided(Verdict v) {
    if (v.revision() == 0) {
      verified.labelValues(v.flow(), v.status().name()).inc();
      verification.labelValues(v.flow(), v.verification().name().toLowerCase(java.util.Locale.ROOT)).inc();
      for (Violation x : v.violations()) {
        violations.labelValues(v.flow(), x.kind().name()).inc();
      }
      for (Unverified u : v.unverified()) {
        unverified.labelValues(v.flow(), u.check()).inc();
      }
    } else {
      amended.labelValues(v.flow(), v.status().name()).inc();
    }
  }

  /** An instance's verdict became final. */
  public void finalized(Verdict v) {
    finals.labelValues(v.flow(), v.status().name()).inc();
  }

  /** An event came after its instance's verdict was final. */
  public void late(String flow) {
    late.labelValues(flow).inc();
  }

  public void spans(String source, long n) {
    if (n > 0) {
      spans.labelValues(source).inc(n);
    }
  }

  public void records(long n) {
    if (n > 0) {
      records.inc(n);
    }
  }

  /** Records read from Kafka so far ({@code flowtrace_records_ingested_total}). */
  public long recordsRead() {
    return (long) records.get();
  }

  /** A correlation span routed to its instance's owner ({@code owner}) or broadcast ({@code all}). */
  public void correlationSpan(String to) {
    routedSpans.labelValues(to).inc();
  }

  public void dropped(String reason, long n) {
    if (n > 0) {
      dropped.labelValues(reason).inc(n);
    }
  }

  /** Sets a dropped-counter to a running total kept elsewhere (counts only go up). */
  public void droppedTotal(String reason, long total) {
    double now = dropped.labelValues(reason).get();
    if (total > now) {
      dropped.labelValues(reason).inc(total - now);
    }
  }

  /** Sets the refused-requests counter for {@code reason} to a running total kept by the receivers. */
  public void refusedTotal(String reason, long total) {
    double now = refused.labelValues(reason).get();
    if (total > now) {
      refused.labelValues(reason).inc(total - now);
    }
  }

  /** Sets an alias-outcome counter ({@code lost}, {@code merged}) to a running total kept by the router. */
  public void aliasesTotal(String outcome, long total) {
    double now = aliases.labelValues(outcome).get();
    if (total > now) {
      aliases.labelValues(outcome).inc(total - now);
    }
  }

  public void evictedTotal(String cap, long total) {
    double now = evicted.labelValues(cap).get();
    if (total > now) {
      evicted.labelValues(cap).inc(total - now);
    }
  }

  public void amendWindowsCut(long total) {
    double now = amendWindowsCut.get();
    if (total > now) {
      amendWindowsCut.inc(total - now);
    }
  }

  public void engine(long open, long amendable, long correlationSpans) {
    inFlight.set(open);
    decidedOpen.set(amendable);
    spansHeld.set(correlationSpans);
  }

  public void latencyNanos(long nanos) {
    latency.observe(nanos / 1e9);
    samples.add(nanos);
  }

  /** The last 100,000 decision latencies, exactly. */
  public LatencySamples latencySamples() {
    return samples;
  }

  public void lag(Map<TopicPartition, Long> byPartition, Set<TopicPartition> revoked) {
    byPartition.forEach((tp, l) -> lag.labelValues(tp.topic(), Integer.toString(tp.partition())).set(l));
    revoked.forEach(tp -> lag.remove(tp.topic(), Integer.toString(tp.partition())));
  }

  /** Whether an input topic is missing now (1) or exists (0). */
  public void topicMissing(String topic, boolean missing) {
    topicMissing.labelValues(topic).set(missing ? 1 : 0);
  }

  public void inbox(int batches) {
    inbox.set(batches);
  }

  public void committed() {
    commits.inc();
  }

  public void outputFailed() {
    outputFailures.inc();
  }

  /** The Prometheus text exposition of every metric. */
  public String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Content type of {@link #scrape()}. */
  public static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }
}
