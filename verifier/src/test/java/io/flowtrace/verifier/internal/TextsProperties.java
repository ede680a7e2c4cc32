package io.flowtrace.verifier.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** Durations read as {@code String.format} wrote them, without its cost: held to it on any value. */
class TextsProperties {

  @Property(tries = 5_000)
  void aDurationReadsAsTheFormatterWroteIt(@ForAll @LongRange(min = -100_000_000_000L, max = 100_000_000_000L) long nanos) {
    assertThat(Texts.duration(nanos)).isEqualTo(formatted(nanos));
  }

  @Property(tries = 5_000)
  void smallDurationsToo(@ForAll @LongRange(min = -20_000_000L, max = 20_000_000L) long nanos) {
    assertThat(Texts.duration(nanos)).isEqualTo(formatted(nanos));
  }

  @Test
  void halvesRoundUpAndZerosAreDropped() {
    assertThat(Texts.duration(50_000)).isEqualTo("0.1 ms").isEqualTo(formatted(50_000));
    assertThat(Texts.duration(-40_000)).isEqualTo("-0 ms").isEqualTo(formatted(-40_000));
    assertThat(Texts.duration(1_500_000_000L)).isEqualTo("1.5 s").isEqualTo(formatted(1_500_000_000L));
    assertThat(Texts.duration(10_000_000_000L)).isEqualTo("10 s").isEqualTo(formatted(10_000_000_000L));
    assertThat(Texts.duration(1_234_500_000L)).isEqualTo(formatted(1_234_500_000L));
    assertThat(Texts.duration(0)).isEqualTo("0 ms").isEqualTo(formatted(0));
    assertThat(Texts.duration(35_400_000)).isEqualTo("35 ms");
  }

  /** A trial's timeline read "−0 ms" for an event a clock correction put 40 µs before the start. */
  @Test
  void anOffsetThatRoundsToZeroHasNoMinusSign() {
    assertThat(Texts.offset(-40_000)).isEqualTo("+0 ms");
    assertThat(Texts.offset(-50_000)).isEqualTo("\u22120.1 ms");
    assertThat(Texts.offset(40_000)).isEqualTo("+0 ms");
  }

  /** A trial's order violation read "expected … (+10.1 h) … actual … at +10.1 h" for a notice four minutes early. */
  @Test
  void anExactOffsetKeepsTheMillisecondsOfAFlowOfHours() {
    assertThat(Texts.exactOffset(36_437_951_000_000L)).isEqualTo("+10:07:17.951");
    assertThat(Texts.exactOffset(36_187_427_000_000L)).isEqualTo("+10:03:07.427");
    assertThat(Texts.exactOffset(437_951_000_000L)).isEqualTo("+7:17.951");
    assertThat(Texts.exactOffset(-61_000_000_000L)).isEqualTo("\u22121:01.000");
    assertThat(Texts.exactOffset(59_999_000_000L)).isEqualTo(Texts.offset(59_999_000_000L)).isEqualTo("+59.999 s");
  }

  @Property(tries = 2_000)
  void exactOffsetsOrderAsTheirTimes(@ForAll @LongRange(min = 60_000, max = 400_000_000) long a,
      @ForAll @LongRange(min = 60_000, max = 400_000_000) long b) {
    String x = Texts.exactOffset(a * 1_000_000L);
    String y = Texts.exactOffset(b * 1_000_000L);
    assertThat(x.equals(y)).isEqualTo(a == b);
  }

  /** A trial read "the input went on 39385.598 s past payment_received". */
  @Test
  void longDurationsReadInMinutesFromTenAndInHoursFromTwo() {
    assertThat(Texts.duration(599_999_000_000L)).isEqualTo("599.999 s");
    assertThat(Texts.duration(600_000_000_000L)).isEqualTo("10 min");
    assertThat(Texts.duration(1_199_922_000_000L)).isEqualTo("20 min");
    assertThat(Texts.duration(7_199_000_000_000L)).isEqualTo("120 min");
    assertThat(Texts.duration(39_385_598_000_000L)).isEqualTo("10.9 h");
    assertThat(Texts.duration(-39_385_598_000_000L)).isEqualTo("-10.9 h");
  }

  /** How durations were written before: the formatter, then its trailing zeros cut by a regular expression. */
  private static String formatted(long nanos) {
    double ms = nanos / 1e6;
    if (Math.abs(ms) >= 1000) {
      return trim(String.format(Locale.ROOT, "%.3f", ms / 1000)) + " s";
    }
    if (Math.abs(ms) >= 10) {
      return Math.round(ms) + " ms";
    }
    return trim(String.format(Locale.ROOT, "%.1f", ms)) + " ms";
  }

  private static String trim(String s) {
    if (s.contains(".")) {
      s = s.replaceAll("0+$", "");
      if (s.endsWith(".")) {
        s = s.substring(0, s.length() - 1);
      }
    }
    return s;
  }
}
