package io.flowtrace.cli.synth;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * @param flowName the declared flow the recording follows ({@code order-creation})
 * @param seed the generator seed that reproduces the recording
 * @param recordingStart the start of the first flow
 * @param recordingEnd the latest timestamp in the recording (where a replay's input ends)
 * @param spans the number of spans written
 * @param records the number of Kafka records written
 * @param flows every flow instance, in the order they started
 */
public record Manifest(
    String flowName,
    long seed,
    Instant recordingStart,
    Instant recordingEnd,
    long spans,
    long records,
    List<Flow> flows) {

  /** The file name of the manifest inside a recording directory. */
  public static final String FILE_NAME = "expected.json";

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  public Manifest {
    requireNonNull(flowName, "flowName");
    requireNonNull(recordingStart, "recordingStart");
    requireNonNull(recordingEnd, "recordingEnd");
    flows = List.copyOf(flows);
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
   * @param spans how many spans of this flow are in the recording
   * @param records how many Kafka records of this flow are in the recording
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
      int records) {
    public Flow {
      requireNonNull(requestId, "requestId");
      requireNonNull(orderId, "orderId");
      requireNonNull(payment, "payment");
      requireNonNull(status, "status");
      requireNonNull(start, "start");
      requireNonNull(traceId, "traceId");
      violations = List.copyOf(violations);
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
            node.required("records").asInt()));
      }
      JsonNode recording = root.required("recording");
      return new Manifest(
          root.required("flow").asString(),
          root.required("seed").asLong(),
          Instant.parse(recording.required("start").asString()),
          Instant.parse(recording.required("end").asString()),
          recording.required("spans").asLong(),
          recording.required("records").asLong(),
          flows);
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a manifest: " + e.getMessage(), e);
    }
  }
}
