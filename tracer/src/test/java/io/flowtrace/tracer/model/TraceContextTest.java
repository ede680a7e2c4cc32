package io.flowtrace.tracer.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TraceContextTest {

  private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void aW3cHeaderGivesItsTraceSpanAndFlags() {
    assertThat(TraceContext.parse(VALID))
        .contains(new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1));
    assertThat(TraceContext.parse(" 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-FF-later "))
        .contains(new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 255));
  }

  @Test
  void malformedOrAllZeroHeadersGiveNothing() {
    assertThat(TraceContext.parse(null)).isEmpty();
    assertThat(TraceContext.parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).isEmpty();
    assertThat(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")).isEmpty();
    assertThat(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01")).isEmpty();
    assertThat(TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011")).isEmpty();
  }

  /** The in-place reading of the usual header agrees with the general split-based one on any text near it. */
  @Test
  void readsEveryMutationOfAHeaderAsTheSplitBasedParseDoes() {
    Random random = new Random(20261204);
    String alphabet = "0123456789abcdefABCDEFxyz- \t0";
    for (int i = 0; i < 200_000; i++) {
      StringBuilder h = new StringBuilder(VALID);
      int edits = 1 + random.nextInt(3);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(h.length() + 1);
        char c = alphabet.charAt(random.nextInt(alphabet.length()));
        switch (random.nextInt(4)) {
          case 0 -> h.insert(at, c);
          case 1 -> { if (at < h.length()) h.setCharAt(at, c); }
          case 2 -> { if (at < h.length()) h.deleteCharAt(at); }
          default -> h.append('-').append(c);
        }
      }
      String header = h.toString();
      assertThat(TraceContext.parse(header)).as("header '%s'", header).isEqualTo(reference(header));
    }
  }

  /** The parse as it was before the in-place reading: split on dashes, then check each part. */
  private static Optional<TraceContext> reference(String header) {
    String[] parts = header.trim().split("-");
    if (parts.length < 4 || parts[0].length() != 2 || parts[1].length() != 32
        || parts[2].length() != 16 || parts[3].length() != 2) {
      return Optional.empty();
    }
    String traceId = parts[1].toLowerCase(Locale.ROOT);
    String spanId = parts[2].toLowerCase(Locale.ROOT);
    if (!parts[1].matches("[0-9a-fA-F]*") || !parts[2].matches("[0-9a-fA-F]*") || !parts[3].matches("[0-9a-fA-F]*")
        || traceId.matches("0*") || spanId.matches("0*")) {
      return Optional.empty();
    }
    return Optional.of(new TraceContext(traceId, spanId, Integer.parseInt(parts[3], 16)));
  }
}
