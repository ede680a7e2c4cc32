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
  void twoSidecarsInOneJvmEachScrapeTheJvmOnce() {
    String first = new SidecarMetrics().scrape();
    String second = new SidecarMetrics().scrape();

    assertThat(Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} ").matcher(first).results().count())
        .isEqualTo(1);
    assertThat(second).contains("jvm_memory_used_bytes{area=\"heap\"}");
  }
}
