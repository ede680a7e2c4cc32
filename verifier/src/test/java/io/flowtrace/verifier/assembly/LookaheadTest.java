package io.flowtrace.verifier.assembly;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.recording.ReadListener;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link Lookahead} is only right if it names every key and trace by which the engine will route
 * an event: the keys it reads from payloads parsed without validation must be those the engine
 * reads from payloads it decodes and validates — for valid payloads, for payloads their schema
 * rejects, and for payloads that are not JSON at all.
 */
class LookaheadTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void readsTheKeysAndTracesTheEngineRoutesBy() throws Exception {
    List<FlowSpec> flows = new FlowSpecLoader().load(Path.of("../flows/order-creation"));
    FlowEngine engine = FlowEngine.builder(flows).build();
    List<Telemetry> telemetry = new ArrayList<>();
    RecordingReader reader = RecordingReader.defaults();
    for (Path file : reader.files(Path.of("../samples/order-flow"))) {
      reader.readFile(file, telemetry::add, ReadListener.ignoring());
    }
    List<Telemetry> all = new ArrayList<>(telemetry);
    for (Telemetry t : telemetry) {
      if (t instanceof Telemetry.RecordEvent r && r.record().value() != null) {
        all.add(withValue(r.record(), schemaBreaking(r.record().value())));
        all.add(withValue(r.record(), "{\"orderId\": \"cut".getBytes(StandardCharsets.UTF_8)));
      }
    }

    int keyed = 0;
    int rejected = 0;
    for (Telemetry t : all) {
      Prepared prepared = engine.prepare(t);
      if (prepared == null) {
        continue;
      }
      if (prepared instanceof PreparedRecord r && r.decoded(0).stream().anyMatch(d -> !d.problems().isEmpty())) {
        rejected++;
      }
      LiveHooks.Routing routing = engine.routing(prepared);
      Set<String> expected = new TreeSet<>(routing.keys());
      expected.addAll(routing.traces());
      Set<String> ahead = new TreeSet<>();
      engine.tokens(engine.filter(t), new Lookahead.Tokens() {
        @Override
        public void key(String flow, String name, String value) {
          ahead.add(flow + '|' + name + '=' + value);
        }

        @Override
        public void trace(String traceId) {
          ahead.add(traceId);
        }
      });
      assertThat(ahead).as("tokens of %s", t).isEqualTo(expected);
      keyed += routing.keys().isEmpty() ? 0 : 1;
    }
    assertThat(keyed).as("events that carry keys").isGreaterThan(telemetry.size() / 4);
    assertThat(rejected).as("records their schema rejects").isGreaterThan(telemetry.size() / 8);
  }

  @Test
  void keepsTheLatestArrivalOfEachToken() {
    FlowEngine engine = FlowEngine.builder(List.of()).build();
    Lookahead a = engine.newLookahead();
    Lookahead b = engine.newLookahead();
    for (int i = 0; i < 5_000; i++) {
      a.note("k" + i, i);
      b.note("k" + i, 10_000 - i);
    }
    a.addAll(b);
    assertThat(a.size()).isEqualTo(5_000);
    assertThat(a.lastArrival("k0")).isEqualTo(10_000);
    assertThat(a.lastArrival("k4999")).isEqualTo(5_001);
    assertThat(a.lastArrival("k5000")).isEqualTo(Lookahead.NONE);
  }

  @Test
  void aKeyIsTheTokenFlowNameEqualsValueWhetherGivenWholeOrInParts() {
    FlowEngine engine = FlowEngine.builder(List.of()).build();
    Lookahead lookahead = engine.newLookahead();
    lookahead.note("order-creation|orderId=ord-1", 7);
    lookahead.note("zahlung|Kunde=Müller 🚀", 9);

    assertThat(lookahead.lastArrival("order-creation", "orderId", "ord-1")).isEqualTo(7);
    assertThat(lookahead.lastArrival("zahlung", "Kunde", "Müller 🚀")).isEqualTo(9);
    assertThat(lookahead.lastArrival("order-creation", "orderId", "ord-2")).isEqualTo(Lookahead.NONE);
    assertThat(Lookahead.hash("a", "b", "c")).isEqualTo(Lookahead.hash("a|b=c")).isNotEqualTo(Lookahead.hash("a|b=d"));
  }

  /** The payload with every number turned into text and a field no schema declares. */
  private static byte[] schemaBreaking(byte[] value) {
    try {
      JsonNode tree = JSON.readTree(value);
      if (tree instanceof ObjectNode o) {
        breakNumbers(o);
        o.put("undeclaredField", true);
      }
      return JSON.writeValueAsBytes(tree);
    } catch (RuntimeException e) {
      return value;
    }
  }

  private static void breakNumbers(ObjectNode node) {
    for (String name : new ArrayList<>(node.propertyNames())) {
      JsonNode v = node.get(name);
      if (v.isNumber()) {
        node.put(name, "not a number");
      } else if (v instanceof ObjectNode child) {
        breakNumbers(child);
      }
    }
  }

  private static Telemetry withValue(KafkaRecord r, byte[] value) {
    return Telemetry.of(new KafkaRecord(r.topic(), r.partition(), r.offset(), r.timestampMillis(), r.key(),
        r.headers(), value));
  }
}
