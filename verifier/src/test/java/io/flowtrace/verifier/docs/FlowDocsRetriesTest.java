package io.flowtrace.verifier.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.report.TimelineEntry;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * A fee quote answered 503 and asked again: the page documents the attempt that answered — its
 * fields and its time — not the error body of the one made again (a trial saw {@code error} listed
 * as a field the fee quote adds, and a p95 latency that was the first attempt's).
 */
class FlowDocsRetriesTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;

  @Test
  void anAttemptMadeAgainIsNeitherAFieldSourceNorAHop() throws Exception {
    Files.writeString(dir.resolve("p.flow.yaml"), String.join("\n",
        "flow: p",
        "keys: [id]",
        "stages:",
        "  - id: quoted",
        "    events:",
        "      - id: fee_quote",
        "        span: {service: permits, kind: CLIENT, name: POST}",
        "        payload: {attribute: http.response.body}",
        "  - id: filed",
        "    after: quoted",
        "    terminal: true",
        "    events: [{id: filed_msg, topic: t.filed}]",
        ""));
    FlowSpec spec = new FlowSpecLoader().load(dir).get(0);
    FlowDocs docs = new FlowDocs(List.of(spec));
    for (int i = 0; i < 4; i++) {
      docs.finalized(new Verdict("p", Map.of("id", "p-" + i), VerdictStatus.PASSED, List.of(), List.of(), 0, 1, 0, "",
          List.of(call("{\"error\":\"ledger locked\"}", 0, "HTTP 503"), call("{\"fee\":12}", 150, null),
              new TimelineEntry("filed", "filed_msg", "t.filed[0]@" + i, 160_000_000L, "t",
                  new TimelineEntry.Detail("permits", "PRODUCER", "send t.filed", "s3", null, 1_000_000L, "t.filed", 0,
                      (long) i, 160_000_000L, List.of(), JSON.readTree("{\"id\":\"p-" + i + "\",\"fee\":12}"),
                      List.of(), true, false, null, null))),
          List.of(), List.of()));
    }

    String page = docs.flow(spec);
    assertThat(page).contains("`fee`").doesNotContain("`error`");
    assertThat(page).contains("| `fee_quote` → `filed_msg` | — | 10.0 ms | 10.0 ms | 10.0 ms | 10.0 ms | 4 |");
  }

  private static TimelineEntry call(String body, long ms, String retried) throws Exception {
    return new TimelineEntry("quoted", "fee_quote", "permits CLIENT 'POST'", ms * 1_000_000L, "t",
        new TimelineEntry.Detail("permits", "CLIENT", "POST", "s" + ms, null, 0, null, null, null, 0, List.of(),
            JSON.readTree(body), List.of(), true, false, "http://ledger/fees", retried));
  }
}
