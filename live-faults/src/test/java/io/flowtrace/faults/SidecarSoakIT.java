package io.flowtrace.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.cli.synth.LivePlayback;
import io.flowtrace.cli.synth.Manifest;
import io.flowtrace.cli.synth.SyntheticOrderFlows;
import io.flowtrace.kafka.testkit.Await;
import io.flowtrace.sidecar.SidecarConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A soak: the reference traffic at a steady rate with bursts (every 30 s, its last 5 s at four
 * times the rate), a broker outage at regular intervals (SIGTERM and kill -9 in turn, the kill
 * down past the consumer's session timeout), against one forked sidecar with a 512 MiB heap.
 * At the end it prints flows sent, final verdicts, lost, duplicated and contradicted verdicts,
 * and the sidecar's heap in use (from its own {@code /metrics}): its peak, and over time, whose
 * floor must not grow much from the middle of the run to its end.
 *
 * <p>Two minutes by default; {@code -Dflowtrace.soak.duration=30m} for the long run (also
 * {@code flowtrace.soak.rate}, flows per second outside bursts, default 10; and {@code
 * flowtrace.soak.outage-every}, default a third of the duration).
 */
class SidecarSoakIT extends LiveSidecarTestBase {

  private static final Pattern HEAP_USED = Pattern.compile("jvm_memory_used_bytes\\{area=\"heap\"}");

  /** One sample of the sidecar's heap: seconds into the run, bytes in use. */
  private record HeapSample(double second, long used) {}

  @Test
  void theSidecarRunsThroughBurstsAndBrokerOutagesLosingRepeatingAndContradictingNothingInSteadyMemory()
      throws Exception {
    Duration duration = duration(System.getProperty("flowtrace.soak.duration", "2m"));
    double rate = Double.parseDouble(System.getProperty("flowtrace.soak.rate", "10"));
    Duration outageEvery = duration(System.getProperty("flowtrace.soak.outage-every",
        duration.dividedBy(3).toSeconds() + "s"));
    Duration interArrival = Duration.ofNanos((long) (1e9 / rate));
    Duration burstEvery = Duration.ofSeconds(30);
    Duration burstLength = Duration.ofSeconds(5);
    int burstFactor = 4;
    long perPeriod = burstEvery.minus(burstLength).toNanos() / interArrival.toNanos()
        + burstLength.toNanos() / (interArrival.toNanos() / burstFactor);
    int flows = (int) (perPeriod * duration.toNanos() / burstEvery.toNanos());

    SyntheticOrderFlows.Builder generator = generator(flows, interArrival).bursts(burstEvery, burstLength, burstFactor);
    for (int i = PLANTED.size() * 2 + 1; i < flows; i += 97) {
      generator.plant(PLANTED.get(i % PLANTED.size()), i);
    }
    Path recording = filledRecording(generator);
    // The flows' own 30 s deadline, not the 10 s of the shorter live tests: over a long run on a
    // shared machine the player may fall seconds behind, and its records would then be late.
    copyWithDeadline(FLOWS, this.flows, "30s");
    ForkedSidecar sidecar = forkSidecar("soak");
    Manifest expected = generator.start(Instant.now().plusSeconds(1)).build().write(clean(recording));

    List<HeapSample> heap = Collections.synchronizedList(new ArrayList<>());
    List<String> outages = Collections.synchronizedList(new ArrayList<>());
    long t0 = System.nanoTime();
    Duration playerBehind;
    ScheduledExecutorService background = Executors.newScheduledThreadPool(2);
    try (LivePlayback player = new LivePlayback(broker.bootstrapServers(), recording)) {
      background.scheduleWithFixedDelay(() -> sampleHeap(sidecar, heap, t0), 0, 2, TimeUnit.SECONDS);
      background.scheduleWithFixedDelay(() -> outage(outages, t0), outageEvery.toMillis(), outageEvery.toMillis(),
          TimeUnit.MILLISECONDS);
      Thread playing = player.playInBackground(SPANS_TOPIC, null);
      player.awaitPlayed(playing, duration.plus(TIMEOUT).plus(TIMEOUT));
      playerBehind = player.mostBehind();
    } finally {
      background.shutdown(); // no new outage; one under way ends with the broker back
      assertThat(background.awaitTermination(2, TimeUnit.MINUTES)).as("the last outage ended").isTrue();
    }
    awaitReady(sidecar.opsPort()); // a broker outage may have been the last thing the player lived through
    List<JsonNode> verdicts = awaitVerdicts(SidecarConfig.DEFAULT_VERDICTS_TOPIC, expected);
    sampleHeap(sidecar, heap, t0);

    Outcome o = new Outcome(expected, verdicts, java.util.Set.of());
    Map<String, String> finals = latestByOrder(verdicts);
    long lost = expectedByOrder(expected).keySet().stream().filter(order -> !finals.containsKey(order)).count();
    long peak = heap.stream().mapToLong(HeapSample::used).max().orElse(0);
    List<HeapSample> samples = List.copyOf(heap);
    int third = Math.max(1, samples.size() / 3);
    long middleFloor = floor(samples.subList(third, Math.min(samples.size(), 2 * third)));
    long lastFloor = floor(samples.subList(Math.max(0, samples.size() - third), samples.size()));
    List<String> contradicted = o.contradicted();
    System.out.printf("soak %s: %d flows sent (%.0f/s, bursts of x%d), %d verdicts final, %d lost, %d duplicated,"
        + " %d contradicted (%d false alarms withdrawn); player at most %.1f s behind; outages %s; heap peak %d MiB, floor of the heap in use: middle"
        + " third %d MiB, last third %d MiB; over time (s:MiB) %s%n", duration, expected.flows().size(), rate,
        burstFactor, finals.size(), lost, o.resent(), contradicted.size(), o.withdrawn().size(),
        playerBehind.toMillis() / 1e3, outages, peak >> 20, middleFloor >> 20, lastFloor >> 20, trend(samples));
    contradicted.forEach(c -> System.out.println("  contradicted: " + c));

    assertThat(sidecar.process().isAlive()).as("the sidecar kept running (see %s)", sidecar.log()).isTrue();
    o.assertRightOnceWithoutFalseAlarms();
    assertThat(lost).isZero();
    assertThat(lastFloor).as("floor of the heap in use at the end vs the middle of the run (bytes)")
        .isLessThanOrEqualTo(middleFloor + middleFloor / 2 + (32L << 20));
  }

  /** Takes the broker down — SIGTERM, or kill -9 kept down past the session timeout — and back. */
  private void outage(List<String> log, long t0) {
    boolean kill = log.size() % 2 == 1;
    long start = System.nanoTime();
    try {
      if (kill) {
        broker.kill();
        Thread.sleep(12_000); // the outage itself: past the sidecar's 10 s session timeout
      } else {
        broker.stop();
      }
      broker.restart();
      log.add(String.format("%s at %.0f s, down %.1f s", kill ? "kill -9" : "SIGTERM", (start - t0) / 1e9,
          (System.nanoTime() - start) / 1e9));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      broker.restart();
    }
  }

  private static void sampleHeap(ForkedSidecar sidecar, List<HeapSample> heap, long t0) {
    try {
      Map<String, Double> metrics = scrape(sidecar.opsPort());
      long used = 0;
      for (Map.Entry<String, Double> e : metrics.entrySet()) {
        if (HEAP_USED.matcher(e.getKey()).matches()) {
          used = e.getValue().longValue();
        }
      }
      heap.add(new HeapSample((System.nanoTime() - t0) / 1e9, used));
    } catch (java.io.IOException e) {
      // the sidecar did not answer this time (busy machine): the next sample will tell
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The least heap in use in a stretch: what stays after young collections, garbage of the old generation included. */
  private static long floor(List<HeapSample> samples) {
    return samples.stream().mapToLong(HeapSample::used).filter(b -> b > 0).min().orElse(0);
  }

  /** The heap in use, about ten points across the run. */
  private static String trend(List<HeapSample> samples) {
    StringBuilder sb = new StringBuilder();
    int step = Math.max(1, samples.size() / 10);
    for (int i = 0; i < samples.size(); i += step) {
      HeapSample s = samples.get(i);
      sb.append(sb.length() == 0 ? "" : " ").append(String.format("%.0f:%d", s.second(), s.used() >> 20));
    }
    return sb.toString();
  }

  private static Duration duration(String text) {
    Matcher m = Pattern.compile("(\\d+)([smh])").matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("a duration like 90s, 2m or 1h, not '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
