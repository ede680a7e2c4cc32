package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatencySamplesTest {

  @Test
  void quantilesAreTakenFromTheKeptSamples() {
    LatencySamples samples = new LatencySamples(1000);
    for (int i = 1; i <= 100; i++) {
      samples.add(i);
    }
    assertThat(samples.quantile(0.5)).isEqualTo(50);
    assertThat(samples.quantile(0.99)).isEqualTo(99);
    assertThat(samples.quantile(1.0)).isEqualTo(100);
    assertThat(samples.count()).isEqualTo(100);
  }

  @Test
  void quantilesCanLeaveOutTheSamplesBeforeAMark() {
    LatencySamples samples = new LatencySamples(1000);
    for (int i = 0; i < 50; i++) {
      samples.add(1_000);
    }
    long mark = samples.count();
    for (int i = 1; i <= 10; i++) {
      samples.add(i);
    }
    assertThat(samples.quantile(1.0, mark)).isEqualTo(10);
    assertThat(samples.quantile(1.0)).isEqualTo(1_000);
  }

  @Test
  void quantilesCanBeTakenBetweenTwoMarks() {
    LatencySamples samples = new LatencySamples(1000);
    for (int i = 0; i < 20; i++) {
      samples.add(5_000);
    }
    long from = samples.count();
    for (int i = 1; i <= 10; i++) {
      samples.add(i);
    }
    long to = samples.count();
    samples.add(9_000);
    assertThat(samples.quantile(1.0, from, to)).isEqualTo(10);
    assertThat(samples.quantile(0.5, from, to)).isEqualTo(5);
    assertThat(samples.quantile(1.0, to, to)).isEqualTo(-1);
    assertThat(samples.quantile(1.0, from)).isEqualTo(9_000);
  }

  @Test
  void onlyTheMostRecentSamplesAreKept() {
    LatencySamples samples = new LatencySamples(10);
    for (int i = 1; i <= 100; i++) {
      samples.add(i);
    }
    assertThat(samples.quantile(0.0)).isEqualTo(91);
    assertThat(new LatencySamples(4).quantile(0.5)).isEqualTo(-1);
  }
}
