package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.infer.Inference;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A condition of two fields is judged over every instance it decides, not only those that carry
 * both: where either is absent (an optional step not taken, a span not sampled) the condition is
 * not made true, so the stage must not happen there. Trial Z's draft took a coincidence of 44 of the
 * 45 loans with both fields for the condition of a correction no field decides, and failed 43 of
 * the 300 loans it was drafted from.
 */
class InferConditionTest {

  private static final long T0 = 1_796_893_200_000L;

  @TempDir Path work;

  @Test
  void aPairOfFieldsThatMostInstancesLackDecidesNothing() throws Exception {
    Random random = new Random(21);
    KcatLines kcat = new KcatLines(random);
    String[] terms = {"12", "24", "60"};
    String[] kinds = {"PAYSLIP", "BANK_STATEMENT"};
    for (int i = 0; i < 300; i++) {
      String id = String.format(Locale.ROOT, "L-%05d", i);
      String trace = kcat.trace();
      long t = T0 + i * 2_000L;
      Map<String, Object> applied = new LinkedHashMap<>(Map.of("loanId", id, "amount", 1000 + i));
      boolean term = i % 5 == 0; // the term is only in some applications
      if (term) {
        applied.put("termMonths", terms[i / 5 % 3]);
      }
      kcat.record("loans.applied", t, trace, id, applied);
      boolean document = i % 3 == 0; // documents are asked for some loans only
      String kind = kinds[i / 3 % 2];
      if (document) {
        kcat.record("loans.documents", t + 100, trace, id, Map.of("loanId", id, "docType", kind));
      }
      kcat.record("loans.paid", t + 300, trace, id, Map.of("loanId", id, "paid", true));
      // a correction no field decides: where both fields are there it happens for exactly one pair of
      // values (a coincidence), elsewhere at random
      boolean both = term && document;
      boolean corrected = both ? terms[i / 5 % 3].equals("12") && kind.equals("BANK_STATEMENT") : random.nextInt(7) == 0;
      if (corrected) {
        kcat.record("loans.corrected", t + 900, trace, id, Map.of("loanId", id, "reason", "rate"));
      }
    }
    Path recording = kcat.write(work.resolve("rec"));
    Path drafts = work.resolve("drafts");

    Inference.builder().build().infer(recording).write(drafts);
    String yaml;
    try (var files = Files.walk(drafts)) {
      yaml = Files.readString(files.filter(f -> f.toString().endsWith(".flow.yaml")).findFirst().orElseThrow());
    }

    assertThat(yaml).doesNotContain("termMonths ==", "&&");
    assertThat(Replays.run(new FlowSpecLoader().load(drafts), recording).finals()).as(yaml).hasSize(300)
        .allSatisfy(v -> assertThat(v.violations()).as(yaml + v).isEmpty());
  }
}
