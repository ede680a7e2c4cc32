package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SidecarMetricsTest {

  @Test
  void theScrapeCarriesTheJvmHeapBesideTheSidecarsOwnMetrics() {
    SidecarMetrics metrics = new SidecarMetrics();
    metrics.records(3);

    String scrape = metrics.scrape();

    assertThat(scrape).contains("flowtrace_records_ingested_total 3.0");
    Matcher heap = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} (\\S+)$").matcher(scrape);
    assertThat(heap.find()).as("jvm_memory_used_bytes{area=\"heap\"} in%n%s", scrape).isTrue();
    assertThat(Double.parseDouble(heap.group(1))).isPositive();
    assertThat(scrape).containsPattern("(?m)^jvm_memory_pool_collection_used_bytes\\{pool=\"[^\"]+\"} ");
  }

  @Test
  void theSeriesAnAlertWatchesAreListedAtZeroBeforeTheirFirstIncrement() {
    SidecarMetrics metrics = new SidecarMetrics();
    metrics.startAtZero(java.util.List.of("library-loan"), true);

    String scrape = metrics.scrape();

    assertThat(scrape).contains(
        "flowtrace_flows_verified_total{flow=\"library-loan\",status=\"FAILED\"} 0.0",
        "flowtrace_flows_final_total{flow=\"library-loan\",status=\"PASSED\"} 0.0",
        "flowtrace_verdicts_amended_total{flow=\"library-loan\",status=\"PASSED\"} 0.0",
        "flowtrace_late_events_total{flow=\"library-loan\"} 0.0",
        "flowtrace_spans_ingested_total{source=\"otlp\"} 0.0",
        "flowtrace_router_correlation_spans_total{to=\"all\"} 0.0",
        "flowtrace_router_aliases_total{outcome=\"lost\"} 0.0");
    metrics.late("library-loan");
    assertThat(metrics.scrape()).contains("flowtrace_late_events_total{flow=\"library-loan\"} 1.0");
  }

  @Test
  void whatAFirstDecisionCouldNotVerifyIsCountedByCheck() {
    SidecarMetrics metrics = new SidecarMetrics();
    metrics.startAtZero(List.of("rides"), false);
    assertThat(metrics.scrape()).contains("flowtrace_unverified_total{check=\"schema\",flow=\"rides\"} 0.0");

    metrics.decided(verdict(0, new Unverified("schema", "matched", "rides_matched",
        "the schema registry did not answer: connection refused"), new Unverified("rule", "matched", "driver set",
        "it reads rides_matched, whose schema the registry did not give")));
    metrics.decided(verdict(1, new Unverified("schema", "matched", "rides_matched", "registry down")));

    assertThat(metrics.scrape()).as("an amended verdict is not counted again")
        .contains("flowtrace_unverified_total{check=\"schema\",flow=\"rides\"} 1.0",
            "flowtrace_unverified_total{check=\"rule\",flow=\"rides\"} 1.0",
            "flowtrace_unverified_total{check=\"stage\",flow=\"rides\"} 0.0");
  }

  private static Verdict verdict(int revision, Unverified... unverified) {
    return new Verdict("rides", Map.of("requestId", "REQ-1"), VerdictStatus.PASSED, List.of(), List.of(), 0, 0,
        revision, "complete", List.of(), List.of(unverified), List.of());
  }

  @Test
  void twoSidecarsInOneJvmEachScrapeTheJvmOnce() {
    String first = new SidecarMetrics().scrape();
    String second = new SidecarMetrics().scrape();

    assertThat(Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} ").matcher(first).results().count())
        .isEqualTo(1);
    assertThat(second).contains("jvm_memory_used_bytes{area=\"heap\"}");
  }
}
