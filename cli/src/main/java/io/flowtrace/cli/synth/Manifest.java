package io.flowtrace.cli.synth;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a synthetic recording holds and the verdict a correct verifier reaches for each flow. It is
 * written beside the recording as {@value #FILE_NAME}, shaped like the JSON report of {@code
 * replay --format json} ({@code flows[].keys}, {@code status}, {@code violations}, {@code summary})
 * plus what was planted, so the two can be compared field by field.
 *
 * <p>Field conditions, written only when the recording has them (a recording at full sampling with
 * every clock right has neither, and its {@value #FILE_NAME} is as before):
 *
 * <pre>{@code
 * "recording": {"start": "...", "end": "...", "spans": 312, "records": 240,
 *               "sampleRatio": 0.3,
 *               "clockSkews": {"inventory-service": "PT0.04S", "order-service": "PT-0.04S"}},
 * "flows": [{"index": 0, ..., "spans": 5, "records": 6,
 *            "sampled": {"main": false, "webhooks": [true], "notification": []}}, ...]
 * }</pre>
 *
 * <ul>
 *   <li>{@code recording.sampleRatio}: head sampling as the Java agent's {@code
 *       parentbased_traceidratio} sampler does it, decided per trace from its trace id. An unsampled
 *       trace has no span in the recording; the records produced in it are all there, with a {@code
 *       traceparent} that names the unexported span and has the sampled bit ({@code 01}) clear.
 *   <li>{@code flows[].sampled} (see {@link Sampling}): which of the flow's traces were sampled:
 *       {@code main}, the order's trace (the gateway's request, stages 1 to 4 and, when they stay in
 *       it, the outcome and e-mail hops); {@code webhooks}, one entry per delivery of the payment
 *       webhook in delivery order, each a trace of its own (empty when the payment was declined or
 *       the recording ends first); {@code notification}, one entry per trace a {@code
 *       notification-service} consumer started instead of continuing the producer's (its receive
 *       telemetry instance links to the producer; a lost context does not), in the order they
 *       started. A span's trace is sampled exactly when the trace's root was.
 *   <li>{@code recording.clockSkews}: by service, how far its hosts' clocks are off (ISO-8601, as
 *       {@link Duration#parse} reads it). Every span of that service has its start and end, and every
 *       record it produces its {@code ts}, that much off true time; the true order of events and the
 *       offsets are as without the skew.
 * </ul>
 *
 * <p>{@code status} and {@code violations} are always the verdict at full sampling and with every
 * clock right: for a flow with an unsampled trace the verdict a correct verifier reaches follows
 * from {@code sampled} and is not written here. {@code start} is true time; {@code recordingEnd}
 * is the latest timestamp the recording holds, as the clocks read it (where a replay's input ends).
 *
 * @param flowName the declared flow the recording follows ({@code order-creation})
 * @param seed the generator seed that reproduces the recording
 * @param recordingStart the start of the first flow
 * @param recordingEnd the latest timestamp in the recording (where a replay's input ends)
 * @param spans the number of spans written
 * @param records the number of Kafka records written
 * @param flows every flow instance, in the order they started
 * @param sampleRatio the head sampling ratio, within [0, 1] ({@code 1}: every trace sampled)
 * @param clockSkews how far each skewed service's clocks are off, by service name (no zero entries)
 */
public record Manifest(
    String flowName,
    long seed,
    Instant recordingStart,
    Instant recordingEnd,
    long spans,
    long records,
    List<Flow> flows,
    double sampleRatio,
    Map<String, Duration> clockSkews) {

  /** The file name of the manifest inside a recording directory. */
  public static final String FILE_NAME = "expected.json";

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  public Manifest {
    requireNonNull(flowName, "flowName");
    requireNonNull(recordingStart, "recordingStart");
    requireNonNull(recordingEnd, "recordingEnd");
    flows = List.copyOf(flows);
    if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
      throw new IllegalArgumentException("sampleRatio must be within [0, 1]: " + sampleRatio);
    }
    TreeMap<String, Duration> skews = new TreeMap<>();
    requireNonNull(clockSkews, "clockSkews").forEach((service, offset) -> {
      if (!requireNonNull(offset, "clock skew of " + service).isZero()) {
        skews.put(requireNonNull(service, "service"), offset);
      }
    });
    clockSkews = Collections.unmodifiableMap(skews);
  }

  /** A recording at full sampling with every clock right. */
  public Manifest(
      String flowName, long seed, Instant recordingStart, Instant recordingEnd, long spans, long records,
      List<Flow> flows) {
    this(flowName, seed, recordingStart, recordingEnd, spans, records, flows, 1.0, Map.of());
  }

  /** A verdict status, as the JSON report names it. */
  public enum Status {
    PASSED,
    FAILED,
    INCOMPLETE
  }

  /** What the payment provider answered to the order's payment request. */
  public enum Payment {
    AUTHORIZED,
    DECLINED;

    /** The value of the payment response's {@code status}. */
    public String wireValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * A violation a verifier must report.
   *
   * @param kind the violation kind ({@code MISSING_STAGE}, {@code BAD_TRANSFORMATION}, ...)
   * @param stage the stage id it is reported on
   * @param field the payload field it names, or {@code null} when the violation is about the stage
   *     as a whole (ordering, latency, propagation, a missing or undecodable message)
   */
  public record ExpectedViolation(String kind, String stage, String field) {
    public ExpectedViolation {
      requireNonNull(kind, "kind");
      requireNonNull(stage, "stage");
    }
  }

  /**
   * Which traces of a flow were sampled (so have their spans in the recording); see the class
   * comment for the JSON shape.
   *
   * @param main whether the order's trace (the gateway's {@code POST /api/orders}) was sampled
   * @param webhooks per payment webhook delivery, in delivery order: whether its trace was sampled
   * @param notification per trace a {@code notification-service} consumer started (receive
   *     telemetry, or a lost context), in start order: whether it was sampled
   */
  public record Sampling(boolean main, List<Boolean> webhooks, List<Boolean> notification) {
    public Sampling {
      webhooks = List.copyOf(webhooks);
      notification = List.copyOf(notification);
    }

    /** Whether every trace of the flow was sampled. */
    public boolean all() {
      return main && !webhooks.contains(false) && !notification.contains(false);
    }

    /** Whether no trace of the flow was sampled. */
    public boolean none() {
      return !main && !webhooks.contains(true) && !notification.contains(true);
    }
  }

  /**
   * One flow instance of the recording.
   *
   * @param index its 0-based position in start order
   * @param requestId the instance key from stage 1
   * @param orderId the instance key from stage 2 on
   * @param defect what was planted in it, or {@code null} for a correct flow
   * @param payment the payment response's status
   * @param status the verdict a correct verifier reaches
   * @param violations the violations it reports (empty unless {@code FAILED})
   * @param start when the gateway received the order request
   * @param traceId the trace of the order (stages 1 to 4); webhooks and some notification spans
   *     have traces of their own
   * @param spans how many spans of this flow are in the recording (its sampled ones)
   * @param records how many Kafka records of this flow are in the recording
   * @param sampled which of its traces were sampled, or {@code null} when the recording was made at
   *     full sampling ({@link Manifest#sampleRatio()} 1), where every trace is
   */
  public record Flow(
      int index,
      String requestId,
      String orderId,
      Defect defect,
      Payment payment,
      Status status,
      List<ExpectedViolation> violations,
      Instant start,
      String traceId,
      int spans,
      int records,
      Sampling sampled) {
    public Flow {
      requireNonNull(requestId, "requestId");
      requireNonNull(orderId, "orderId");
      requireNonNull(payment, "payment");
      requireNonNull(status, "status");
      requireNonNull(start, "start");
      requireNonNull(traceId, "traceId");
      violations = List.copyOf(violations);
    }

    /** A flow of a recording at full sampling. */
    public Flow(
        int index, String requestId, String orderId, Defect defect, Payment payment, Status status,
        List<ExpectedViolation> violations, Instant start, String traceId, int spans, int records) {
      this(index, requestId, orderId, defect, payment, status, violations, start, traceId, spans, records, null);
    }

    /** Whether the order's trace was sampled (always, at full sampling). */
    public boolean mainSampled() {
      return sampled == null || sampled.main();
    }

    /**
     * Whether a verifier that observes every record but only the spans of sampled traces can see
     * this flow's defect (always at full sampling, and when nothing was planted). A flow whose defect
     * it cannot see is expected to pass.
     */
    public boolean defectObservable() {
      if (defect == null || sampled == null || sampled.all()) {
        return true;
      }
      boolean notification = sampled.notification().isEmpty() || sampled.notification().get(0);
      return switch (defect) {
        // in records alone
        case DROP_ENRICHMENT, WRONG_TOTAL, DUPLICATE_WEBHOOK_NON_IDEMPOTENT, SLOW_NOTIFICATION, NO_NOTIFICATION,
            BAD_AVRO_EMAIL, BAD_JSON_SCHEMA, DUPLICATE_WEBHOOK_IDEMPOTENT, TRUNCATED -> true;
        // in the payment call's span, on the order's trace
        case PAYMENT_AMOUNT_MISMATCH, DECLINED_BUT_CONFIRMED -> sampled.main();
        // the unlinked consumer span of the notification's own trace shows the loss
        case LOST_TRACEPARENT -> notification;
        // fifty milliseconds between records of two hosts, within the clock-skew allowance: needs the spans
        case EARLY_ORDER_CREATED -> sampled.main();
      };
    }
  }

  /** Counts of expected verdicts, as in the report's {@code summary}. */
  public record Summary(int flows, int passed, int failed, int incomplete) {}

  /** The counts of expected verdicts. */
  public Summary summary() {
    int passed = 0;
    int failed = 0;
    int incomplete = 0;
    for (Flow flow : flows) {
      switch (flow.status()) {
        case PASSED -> passed++;
        case FAILED -> failed++;
        case INCOMPLETE -> incomplete++;
      }
    }
    return new Summary(flows.size(), passed, failed, incomplete);
  }

  /** The flows that carry the given defect, in start order. */
  public List<Flow> flowsWith(Defect defect) {
    List<Flow> result = new ArrayList<>();
    for (Flow flow : flows) {
      if (flow.defect() == defect) {
        result.add(flow);
      }
    }
    return result;
  }

  /** Writes this manifest as JSON to {@code file}. */
  public void writeTo(Path file) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("flow", flowName);
    root.put("seed", seed);
    ObjectNode recording = root.putObject("recording");
    recording.put("start", recordingStart.toString());
    recording.put("end", recordingEnd.toString());
    recording.put("spans", spans);
    recording.put("records", records);
    if (sampleRatio != 1.0) {
      recording.put("sampleRatio", sampleRatio);
    }
    if (!clockSkews.isEmpty()) {
      ObjectNode skews = recording.putObject("clockSkews");
      clockSkews.forEach((service, offset) -> skews.put(service, offset.toString()));
    }
    ArrayNode array = root.putArray("flows");
    for (Flow flow : flows) {
      ObjectNode node = array.addObject();
      node.put("index", flow.index());
      node.put("flow", flowName);
      ObjectNode keys = node.putObject("keys");
      keys.put("requestId", flow.requestId());
      keys.put("orderId", flow.orderId());
      node.put("status", flow.status().name());
      ArrayNode violations = node.putArray("violations");
      for (ExpectedViolation v : flow.violations()) {
        ObjectNode vn = violations.addObject();
        vn.put("kind", v.kind());
        vn.put("stage", v.stage());
        if (v.field() != null) {
          vn.put("field", v.field());
        }
      }
      if (flow.defect() != null) {
        node.put("defect", flow.defect().name());
      } else {
        node.putNull("defect");
      }
      node.put("payment", flow.payment().wireValue());
      node.put("start", flow.start().toString());
      node.put("traceId", flow.traceId());
      node.put("spans", flow.spans());
      node.put("records", flow.records());
      if (flow.sampled() != null) {
        ObjectNode sampled = node.putObject("sampled");
        sampled.put("main", flow.sampled().main());
        ArrayNode webhooks = sampled.putArray("webhooks");
        flow.sampled().webhooks().forEach(webhooks::add);
        ArrayNode notification = sampled.putArray("notification");
        flow.sampled().notification().forEach(notification::add);
      }
    }
    Summary summary = summary();
    ObjectNode s = root.putObject("summary");
    s.put("flows", summary.flows());
    s.put("passed", summary.passed());
    s.put("failed", summary.failed());
    s.put("incomplete", summary.incomplete());
    try {
      Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    } catch (JacksonException e) {
      throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a manifest written by {@link #writeTo}; {@code path} is the file or the recording
   * directory that holds {@value #FILE_NAME}.
   */
  public static Manifest read(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
    JsonNode root;
    try {
      root = JSON.readTree(file);
    } catch (JacksonException e) {
      throw new IOException(file + ": not a manifest: " + e.getOriginalMessage(), e);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    try {
      List<Flow> flows = new ArrayList<>();
      for (JsonNode node : root.required("flows")) {
        List<ExpectedViolation> violations = new ArrayList<>();
        for (JsonNode v : node.required("violations")) {
          JsonNode field = v.get("field");
          violations.add(new ExpectedViolation(
              v.required("kind").asString(),
              v.required("stage").asString(),
              field == null || field.isNull() ? null : field.asString()));
        }
        JsonNode defect = node.get("defect");
        JsonNode sampled = node.get("sampled");
        flows.add(new Flow(
            node.required("index").asInt(),
            node.required("keys").required("requestId").asString(),
            node.required("keys").required("orderId").asString(),
            defect == null || defect.isNull() ? null : Defect.valueOf(defect.asString()),
            Payment.valueOf(node.required("payment").asString().toUpperCase(Locale.ROOT)),
            Status.valueOf(node.required("status").asString()),
            violations,
            Instant.parse(node.required("start").asString()),
            node.required("traceId").asString(),
            node.required("spans").asInt(),
            node.required("records").asInt(),
            sampled == null || sampled.isNull() ? null : new Sampling(
                sampled.required("main").asBoolean(),
                booleans(sampled.required("webhooks")),
                booleans(sampled.required("notification")))));
      }
      JsonNode recording = root.required("recording");
      JsonNode ratio = recording.get("sampleRatio");
      Map<String, Duration> skews = new TreeMap<>();
      JsonNode skewNode = recording.get("clockSkews");
      if (skewNode != null && !skewNode.isNull()) {
        for (var entry : skewNode.properties()) {
          skews.put(entry.getKey(), Duration.parse(entry.getValue().asString()));
        }
      }
      return new Manifest(
          root.required("flow").asString(),
          root.required("seed").asLong(),
          Instant.parse(recording.required("start").asString()),
          Instant.parse(recording.required("end").asString()),
          recording.required("spans").asLong(),
          recording.required("records").asLong(),
          flows,
          ratio == null || ratio.isNull() ? 1.0 : ratio.asDouble(),
          skews);
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a manifest: " + e.getMessage(), e);
    }
  }

  private static List<Boolean> booleans(JsonNode array) {
    List<Boolean> values = new ArrayList<>();
    for (JsonNode value : array) {
      if (!value.isBoolean()) {
        throw new IllegalArgumentException("expected true or false, got " + value);
      }
      values.add(value.asBoolean());
    }
    return values;
  }
}
