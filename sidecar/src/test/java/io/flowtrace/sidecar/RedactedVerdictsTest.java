package io.flowtrace.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.sidecar.internal.LiveVerdicts;
import io.flowtrace.sidecar.output.JsonLinesVerdictSink;
import io.flowtrace.verifier.assembly.FlowEngine;
import io.flowtrace.verifier.replay.Replay;
import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictListener;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the sidecar publishes — verdict records (the lines its verdict topic and files carry) and
 * its live page's {@code /verdicts.json} and {@code verdict.json?id=} — holds no value of a field
 * the flow redacts.
 */
class RedactedVerdictsTest {

  private static final List<String> SECRETS = List.of("hedy.lamarr@example.com", "Hedy Lamarr", "Kalverstraat 92");

  @TempDir Path dir;

  @Test
  void publishedVerdictsAndTheLivePageShowRedactedFieldsMasked() throws Exception {
    List<FlowSpec> flows = redactingFlows();
    LiveVerdicts live = new LiveVerdicts(flows, 1000);
    Path out = dir.resolve("verdicts");
    try (JsonLinesVerdictSink sink = new JsonLinesVerdictSink(out, 1 << 24)) {
      FlowEngine engine = FlowEngine.builder(flows).listener(new VerdictListener() {
        @Override
        public void decided(Verdict v) {
          write(v);
          live.add(null, v);
        }

        @Override
        public void amended(Verdict previous, Verdict current) {
          write(current);
          live.add(previous, current);
        }

        @Override
        public void late(LateEvent e) {
          try {
            sink.late(e);
          } catch (IOException x) {
            throw new UncheckedIOException(x);
          }
        }

        private void write(Verdict v) {
          try {
            sink.write(v);
          } catch (IOException x) {
            throw new UncheckedIOException(x);
          }
        }
      }).build();
      Replay.builder(engine).build().run(Path.of("../samples/order-flow"));
    }

    List<String> published = new ArrayList<>();
    try (Stream<Path> files = Files.list(out)) {
      for (Path f : files.toList()) {
        published.add(Files.readString(f));
      }
    }
    String page = live.verdictsJson(5);
    published.add(page);
    for (JsonNode row : JsonMapper.builder().build().readTree(page).get("verdicts")) {
      published.add(live.detailJson(row.get("id").asLong()));
    }
    assertThat(String.join("\n", published)).contains("‹redacted:").contains("userEmail");
    for (String output : published) {
      for (String secret : SECRETS) {
        assertThat(output).doesNotContain(secret);
      }
    }
  }

  private List<FlowSpec> redactingFlows() throws Exception {
    Path flows = dir.resolve("flows");
    Path from = Path.of("../flows");
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = flows.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    Path spec = flows.resolve("order-creation/order-creation.flow.yaml");
    Files.writeString(spec, Files.readString(spec)
        .replace("tolerance: 1ms", "redact: [userEmail, userName, shipping.address]\ntolerance: 1ms")
        .replace("        keys: {orderId: data.orderId}\n",
            "        keys: {orderId: data.orderId}\n        redact: [to, data.customerName]\n"));
    return new FlowSpecLoader().load(flows);
  }
}
