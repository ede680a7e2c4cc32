package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

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
  void twoSidecarsInOneJvmEachScrapeTheJvmOnce() {
    String first = new SidecarMetrics().scrape();
    String second = new SidecarMetrics().scrape();

    assertThat(Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} ").matcher(first).results().count())
        .isEqualTo(1);
    assertThat(second).contains("jvm_memory_used_bytes{area=\"heap\"}");
  }
}
