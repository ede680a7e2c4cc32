package io.flowtrace.verifier.schema;

import static io.flowtrace.verifier.schema.TestSchemas.NO_HEADERS;
import static io.flowtrace.verifier.schema.TestSchemas.confluent;
import static io.flowtrace.verifier.schema.TestSchemas.email;
import static io.flowtrace.verifier.schema.TestSchemas.longBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.verifier.schema.SchemaRegistryClient.SchemaRegistryException;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import io.flowtrace.verifier.spec.SpecProblem;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * The registry client against a tiny real HTTP server standing in for a Confluent-compatible
 * registry ({@code GET /schemas/ids/{id}}): what it fetches and caches, and what its failures say.
 */
class SchemaRegistryClientTest {

  private static final String EXPECTED_TREE =
      "{\"to\":\"jane@example.com\",\"template\":\"order_confirmation\","
          + "\"data\":{\"orderId\":\"ord-1\",\"customerName\":\"Jane Doe\",\"total\":39.98}}";

  private final Map<String, AtomicLong> hits = new ConcurrentHashMap<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final GenericRecord email = email("jane@example.com", "Jane Doe", 39.98);
  private HttpServer server;
  private URI url;

  @TempDir Path dir;

  @BeforeEach
  void startRegistry() throws IOException {
    String schemaJson = JsonMapper.builder().build().writeValueAsString(
        Map.of("schema", TestSchemas.emailSchema().toString()));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/registry/schemas/ids/", exchange -> {
      String id = exchange.getRequestURI().getPath().substring("/registry/schemas/ids/".length());
      hits.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
      switch (id) {
        case "1" -> reply(exchange, 200, schemaJson);
        case "4" -> reply(exchange, 200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");
        case "5" -> reply(exchange, 200, "{\"subject\":\"emails-value\"}");
        case "6" -> {
          try {
            release.await(5, TimeUnit.SECONDS); // slower than the client's request timeout
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          reply(exchange, 200, schemaJson);
        }
        default -> reply(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema " + id + " not found\"}");
      }
    });
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
    url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/registry");
  }

  @AfterEach
  void stopRegistry() {
    release.countDown();
    server.stop(0);
  }

  @Test
  void aFetchedSchemaIsKeptForGood() throws Exception {
    SchemaRegistryClient client = SchemaRegistryClient.create(url);

    for (int i = 0; i < 3; i++) {
      assertThat(client.schema(1).getFullName()).isEqualTo("shop.notifications.EmailNotification");
    }
    assertThat(client.schema(1)).isEqualTo(TestSchemas.emailSchema());
    assertThat(hits.get("1")).hasValue(1);
    assertThat(client.requests()).isEqualTo(1);
  }

  @Test
  void anUnknownIdIsAnErrorNamingTheUrlAndTheIdRememberedForAShortTime() {
    long[] now = {0};
    SchemaRegistryClient client = SchemaRegistryClient.builder(url).negativeTtl(Duration.ofSeconds(10))
        .nanoClock(() -> now[0]).build();
    String expected = "schema id 2 from schema registry " + url + "/schemas/ids/2: HTTP 404: the registry has no schema"
        + " with this id ({\"error_code\":40403,\"message\":\"Schema 2 not found\"})";

    assertThatThrownBy(() -> client.schema(2)).isInstanceOf(SchemaRegistryException.class).hasMessage(expected);
    now[0] += Duration.ofSeconds(9).toNanos();
    assertThatThrownBy(() -> client.schema(2)).hasMessage(expected);
    assertThat(hits.get("2")).as("requests within the negative TTL").hasValue(1);
    now[0] += Duration.ofSeconds(2).toNanos();
    assertThatThrownBy(() -> client.schema(2)).hasMessage(expected);
    assertThat(hits.get("2")).as("requests after the negative TTL").hasValue(2);
  }

  @Test
  void answersThatAreNoAvroSchemaSaySo() {
    SchemaRegistryClient client = SchemaRegistryClient.create(url);

    assertThatThrownBy(() -> client.schema(4))
        .hasMessage("schema id 4 from schema registry " + url + "/schemas/ids/4: a PROTOBUF schema, not Avro");
    assertThatThrownBy(() -> client.schema(5))
        .hasMessage("schema id 5 from schema registry " + url + "/schemas/ids/5: the answer has no \"schema\" text:"
            + " {\"subject\":\"emails-value\"}");
  }

  @Test
  void aSlowRegistryTimesOutAndAnUnreachableOneIsNamed() throws Exception {
    SchemaRegistryClient slow = SchemaRegistryClient.builder(url).requestTimeout(Duration.ofMillis(200)).build();
    assertThatThrownBy(() -> slow.schema(6))
        .hasMessageStartingWith("schema id 6 from schema registry " + url + "/schemas/ids/6: no answer within 200 ms")
        .satisfies(e -> assertThat(((SchemaRegistryException) e).unavailable()).as("the registry's fault").isTrue());

    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    URI nowhere = URI.create("http://127.0.0.1:" + closedPort);
    assertThatThrownBy(() -> SchemaRegistryClient.create(nowhere).schema(1))
        .hasMessageStartingWith("schema id 1 from schema registry " + nowhere + "/schemas/ids/1: cannot reach the registry: ")
        .satisfies(e -> assertThat(((SchemaRegistryException) e).unavailable()).isTrue());
    DecodedPayload unchecked = SchemaLoader.fromRegistry(SchemaRegistryClient.create(nowhere), Set.of())
        .decode(confluent(1, email), NO_HEADERS);
    assertThat(unchecked.problems()).singleElement().satisfies(p -> assertThat(p.unavailable()).isTrue());
    assertThatThrownBy(() -> SchemaRegistryClient.create(URI.create("file:///tmp/registry")))
        .hasMessage("schema registry URL must be http(s)://host[:port][/path], was 'file:///tmp/registry'");
  }

  @Test
  void registryPayloadsDecodeConfluentAndApicurioFramingWithTheFetchedSchema() {
    PayloadSchema schema = SchemaLoader.fromRegistry(SchemaRegistryClient.create(url), Set.of());

    DecodedPayload confluent = schema.decode(confluent(1, email), NO_HEADERS);
    DecodedPayload apicurio = schema.decode(TestSchemas.avro(email),
        List.of(new RecordHeader(AvroPayload.APICURIO_GLOBAL_ID, longBytes(1))));

    assertThat(confluent.problems()).isEmpty();
    assertThat(confluent.tree()).hasToString(EXPECTED_TREE);
    assertThat(apicurio.problems()).isEmpty();
    assertThat(apicurio.tree()).hasToString(EXPECTED_TREE);
    assertThat(hits.get("1")).hasValue(1);
    assertThat(schema.format()).isEqualTo(PayloadFormat.AVRO);
  }

  @Test
  void aFailedLookUpOrAnUndeclaredIdIsAProblemOfThePayload() {
    PayloadSchema schema = SchemaLoader.fromRegistry(SchemaRegistryClient.create(url), Set.of(1L, 3L));

    DecodedPayload unknown = schema.decode(confluent(3, email), NO_HEADERS);
    DecodedPayload undeclared = schema.decode(confluent(7, email), NO_HEADERS);
    DecodedPayload unframed = schema.decode("{\"to\":1}".getBytes(StandardCharsets.UTF_8), NO_HEADERS);

    assertThat(unknown.decoded()).isFalse();
    assertThat(unknown.problems()).extracting(SchemaProblem::toString).containsExactly(
        "$: cannot decode: schema id 3 from schema registry " + url + "/schemas/ids/3: HTTP 404: the registry has no"
            + " schema with this id ({\"error_code\":40403,\"message\":\"Schema 3 not found\"})");
    assertThat(unknown.problems()).noneMatch(SchemaProblem::unavailable);
    assertThat(undeclared.problems()).extracting(SchemaProblem::toString).startsWith(
        "$: schema id 7 is not a declared id (declared: 1, 3)");
    assertThat(unframed.problems()).extracting(SchemaProblem::toString).containsExactly(
        "$: no magic byte: expected 0x00 then a 4-byte schema id (Confluent framing), found 0x7b (looks like JSON text)");
  }

  @Test
  void aFlowSpecDeclaresARegistrySchemaAndNeedsARegistryUrl() throws Exception {
    Path spec = dir.resolve("emails.flow.yaml");
    Files.writeString(spec, """
        flow: emails
        keys: [orderId]
        stages:
          - id: sent
            terminal: true
            events:
              - id: email
                topic: notifications.email
                recordKey: orderId
                schema: {avro-registry: true, ids: [1]}
        """);
    List<SpecProblem> problems = new ArrayList<>();
    new FlowSpecLoader().loadAll(spec, problems);
    assertThat(problems).extracting(SpecProblem::toString).singleElement().asString()
        .endsWith("avro-registry: true needs a schema registry URL (flowtrace --schema-registry URL), or give the URL"
            + " here: avro-registry: http://registry:8081");

    problems.clear();
    var flows = new FlowSpecLoader(SchemaRegistryClient.create(url)).loadAll(spec, problems);
    assertThat(problems).isEmpty();
    PayloadSchema loaded = flows.get(0).eventsByTopic().get("notifications.email").get(0).schema();
    assertThat(loaded.description()).isEqualTo("Avro schema by id from schema registry " + url + " (ids 1)");
    assertThat(loaded.decode(confluent(1, email), NO_HEADERS).tree()).hasToString(EXPECTED_TREE);

    Files.writeString(spec, Files.readString(spec).replace("avro-registry: true", "avro-registry: " + url));
    problems.clear();
    flows = new FlowSpecLoader().loadAll(spec, problems);
    assertThat(problems).isEmpty();
    assertThat(flows.get(0).eventsByTopic().get("notifications.email").get(0).schema().decode(confluent(1, email),
        NO_HEADERS).tree()).hasToString(EXPECTED_TREE);
  }

  private static void reply(com.sun.net.httpserver.HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
