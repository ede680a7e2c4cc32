package io.flowtrace.verifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsoleReportTest {

  private static final long START = 1_764_000_000_123_456_789L;

  @Test
  void timelineColumnsFitTheLongestStageAndEventNames() {
    String text = ConsoleReport.format(verdict(List.of(
        new TimelineEntry("claim-submitted-by-broker", "portal_claim", "claims.submitted[0]@1", 0, "t"),
        new TimelineEntry("scored", "risk_scored_event", "claims.scored[0]@7", 12_000_000, "t"))));

    List<String> rows = text.lines().dropWhile(l -> !l.equals("  timeline:")).skip(1).toList();
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).indexOf("portal_claim")).isEqualTo(rows.get(1).indexOf("risk_scored_event"));
    assertThat(rows.get(0).indexOf("claims.submitted")).isEqualTo(rows.get(1).indexOf("claims.scored"));
    assertThat(rows.get(1)).contains("scored  ");
  }

  @Test
  void theStartIsShownToTheMillisecondWhateverItsSource() {
    String text = ConsoleReport.format(verdict(List.of()));

    assertThat(text.lines().findFirst().orElseThrow()).endsWith("(started 2025-11-24T16:00:00.123Z)");
  }

  /** A payload's U+202E turned "eurt" into "true" in a trial; an ESC would start a terminal's escape sequence. */
  @Test
  void controlCharactersOfTheDataAreShownNotObeyed() {
    String text = ConsoleReport.format(new Verdict("claims", Map.of("claimId", "c-\u202Eeurt"), VerdictStatus.FAILED,
        List.of(io.flowtrace.verifier.check.Violation.builder(io.flowtrace.verifier.check.ViolationKind.SCHEMA_VIOLATION,
            "scored").message("$.flag: was string \"\u202Eeurt\u001B[2J\"").build()), List.of("t"), START, START, 0,
        "deadline", List.of()));

    assertThat(text).contains("claimId=c-<U+202E>eurt", "was string \"<U+202E>eurt<U+001B>[2J\"")
        .doesNotContain("\u202E", "\u001B");
    assertThat(text.lines().count()).as("line breaks stay").isGreaterThan(2);
  }

  private static Verdict verdict(List<TimelineEntry> timeline) {
    return new Verdict("claims", Map.of("claimId", "c-1"), VerdictStatus.FAILED, List.of(), List.of("t"), START,
        START, 0, "deadline", timeline);
  }
}
