package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class UntilStoppedTest {

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void endsAndStopsOnceTheWorkItWaitsOnHasFailed() throws Exception {
    AtomicInteger stops = new AtomicInteger();
    AtomicInteger asked = new AtomicInteger();
    UntilStopped lifetime = UntilStopped.install(stops::incrementAndGet);

    // no time limit: without the failure it would wait for a SIGTERM that never comes
    boolean failed = lifetime.await(null, () -> asked.incrementAndGet() >= 3);

    assertThat(failed).isTrue();
    assertThat(asked).as("asked again while waiting").hasValue(3);
    assertThat(stops).as("the stop action ran once").hasValue(1);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aTimeLimitThatPassesIsNoFailure() throws Exception {
    AtomicInteger stops = new AtomicInteger();
    UntilStopped lifetime = UntilStopped.install(stops::incrementAndGet);

    assertThat(lifetime.await(Duration.ofMillis(50), () -> false)).isFalse();
    assertThat(stops).hasValue(1);
  }
}
