package io.flowtrace.tracer.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.flowtrace.tracer.model.Span;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The streaming decoder against the reference ({@link OtlpJson#parse}, protobuf's JsonFormat, then
 * {@link OtlpSpans#convert}): for every recording the project ships and for thousands of generated
 * and mutated requests, both must refuse the request, or both must give the same spans and the
 * same invalid-id reports in the same order.
 *
 * <p>Requests are generated as protobuf messages that use every field ({@link RandomRequests}) and
 * printed the four ways JSON writers print them (OTLP/JSON with hex ids; protobuf's canonical JSON
 * with base64 ids and enum names, with its proto field names, and with default values written
 * out), or made by the OpenTelemetry SDK and written by its own OTLP/JSON marshaler; then their
 * text is mutated ({@link JsonMutator}). The seed of a failing case is printed; set {@code
 * -Dflowtrace.differential.seed=N} to change the run, {@code -Dflowtrace.differential.cases=N}
 * for more cases (default {@value #DEFAULT_CASES}, a few seconds), and {@code
 * -Dflowtrace.differential.recordings=DIR[:DIR...]} to compare recordings made elsewhere too, such
 * as those of {@code flowtrace generate}.
 */
class OtlpJsonDecoderDifferentialTest {

  private static final long SEED = Long.getLong("flowtrace.differential.seed", 20261202L);
  private static final int DEFAULT_CASES = 300;
  private static final int CASES = Integer.getInteger("flowtrace.differential.cases", DEFAULT_CASES);
  private static final String MORE_RECORDINGS = System.getProperty("flowtrace.differential.recordings", "");

  private static final Stats STATS = new Stats();

  /** What one decoder made of a request. */
  record Outcome(boolean refused, String reason, List<Span> spans, List<String> invalidIds) {
    boolean sameAs(Outcome other) {
      return refused == other.refused && spans.equals(other.spans) && invalidIds.equals(other.invalidIds);
    }

    @Override
    public String toString() {
      return refused ? "refused: " + reason : spans.size() + " spans " + spans + ", invalid ids " + invalidIds;
    }
  }

  static Outcome reference(String json) {
    ExportTraceServiceRequest request;
    try {
      request = OtlpJson.parse(json);
    } catch (InvalidProtocolBufferException e) {
      return new Outcome(true, e.getMessage(), List.of(), List.of());
    }
    List<Span> spans = new ArrayList<>();
    List<String> invalid = new ArrayList<>();
    var describer = OtlpJson.describer(json);
    OtlpSpans.convert(request, spans::add, id -> invalid.add(describer.apply(id)));
    return new Outcome(false, null, spans, invalid);
  }

  /**
   * The decoder's outcome for the text as a String; the same text given as UTF-8 bytes (inside a
   * larger array) must come out equal: the same spans and invalid ids, or refused too (the reader
   * reports a refused line from the String, so messages need not match). (A String holding a lone
   * surrogate has no UTF-8 form, as a file cannot hold one: the bytes are then not compared.)
   */
  static Outcome streaming(String json) {
    Outcome text = streaming(json, null);
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    if (!new String(utf8, StandardCharsets.UTF_8).equals(json)) {
      return text;
    }
    byte[] padded = new byte[utf8.length + 7];
    java.util.Arrays.fill(padded, (byte) '}');
    System.arraycopy(utf8, 0, padded, 3, utf8.length);
    Outcome bytes = streaming(json, padded);
    assertThat(bytes.sameAs(text)).as("bytes: %s%n text: %s", bytes, text).isTrue();
    return text;
  }

  /** Decodes {@code json}, or, when {@code padded} is given, its UTF-8 bytes at offset 3 of it. */
  private static Outcome streaming(String json, byte[] padded) {
    List<Span> spans = new ArrayList<>();
    List<String> invalid = new ArrayList<>();
    try {
      OtlpJsonDecoder decoder = new OtlpJsonDecoder();
      long n = padded == null ? decoder.decode(json, spans::add, id -> invalid.add(id.describe()))
          : decoder.decode(padded, 3, padded.length - 7, spans::add, id -> invalid.add(id.describe()));
      assertThat(n).isEqualTo(spans.size());
    } catch (OtlpJsonDecoder.MalformedRequestException e) {
      assertThat(spans).isEmpty();
      assertThat(invalid).isEmpty();
      return new Outcome(true, e.getMessage(), List.of(), List.of());
    }
    return new Outcome(false, null, spans, invalid);
  }

  /**
   * Decodes both ways, and salvaging ({@link #salvageDisagreement}); returns a description of the
   * disagreement, or null.
   */
  static String disagreement(String json) {
    Outcome expected = reference(json);
    Outcome actual = streaming(json);
    STATS.count(expected);
    if (expected.sameAs(actual)) {
      return salvageDisagreement(json, expected);
    }
    String difference;
    if (expected.refused || actual.refused) {
      difference = "reference: " + cut(expected.toString()) + "\n  decoder:   " + cut(actual.toString());
    } else if (!expected.spans.equals(actual.spans)) {
      int i = 0;
      while (i < Math.min(expected.spans.size(), actual.spans.size()) && expected.spans.get(i).equals(actual.spans.get(i))) {
        i++;
      }
      difference = "span " + i + " of " + expected.spans.size() + "/" + actual.spans.size() + "\n  reference: "
          + (i < expected.spans.size() ? expected.spans.get(i) : "none") + "\n  decoder:   "
          + (i < actual.spans.size() ? actual.spans.get(i) : "none");
    } else {
      difference = "invalid ids\n  reference: " + expected.invalidIds + "\n  decoder:   " + actual.invalidIds;
    }
    return difference + "\n  json:      " + cut(json);
  }

  /**
   * The decoder salvaging a request must give what the reference gives for the request without the
   * spans it skipped (spans and invalid ids, numbered as in that request), and skip nothing of a
   * request the reference reads; it may refuse only what the reference refuses.
   */
  static String salvageDisagreement(String json, Outcome expected) {
    List<Span> spans = new ArrayList<>();
    List<String> invalid = new ArrayList<>();
    List<OtlpJsonDecoder.SkippedSpan> skipped = new ArrayList<>();
    try {
      new OtlpJsonDecoder().decode(json, spans::add, id -> invalid.add(renumbered(id, skipped).describe()), skipped::add);
    } catch (OtlpJsonDecoder.MalformedRequestException e) {
      return expected.refused ? null : "salvaging refused what the reference reads: " + e.getMessage() + "\n  json: "
          + cut(json);
    }
    Outcome salvaged = new Outcome(false, null, spans, invalid);
    if (skipped.isEmpty()) {
      return expected.sameAs(salvaged) ? null
          : "salvaging skipped nothing, yet\n  reference: " + cut(expected.toString()) + "\n  salvaged:  "
              + cut(salvaged.toString()) + "\n  json:      " + cut(json);
    }
    STATS.salvaged(skipped.size());
    if (!expected.refused) {
      return "salvaging skipped spans of a request the reference reads: " + skipped + "\n  json: " + cut(json);
    }
    String pruned = without(json, skipped);
    Outcome reference = reference(pruned);
    return reference.sameAs(salvaged) ? null
        : "salvaged " + skipped + "\n  reference without them: " + cut(reference.toString()) + "\n  salvaged: "
            + cut(salvaged.toString()) + "\n  pruned json: " + cut(pruned);
  }

  /** The id as numbered in the request without the spans skipped before it in its scope. */
  private static OtlpSpans.InvalidId renumbered(OtlpSpans.InvalidId id, List<OtlpJsonDecoder.SkippedSpan> skipped) {
    int before = (int) skipped.stream().filter(k -> k.resourceIndex() == id.resourceIndex()
        && k.scopeIndex() == id.scopeIndex() && k.spanIndex() < id.spanIndex()).count();
    return new OtlpSpans.InvalidId(id.resourceIndex(), id.scopeIndex(), id.spanIndex() - before, id.linkIndex(),
        id.spanName(), id.field(), id.value(), id.text());
  }

  /** The text with each skipped span's text cut out, with the comma that separated it. */
  static String without(String json, List<OtlpJsonDecoder.SkippedSpan> skipped) {
    StringBuilder text = new StringBuilder(json);
    List<OtlpJsonDecoder.SkippedSpan> last = new ArrayList<>(skipped);
    last.sort((a, b) -> Long.compare(b.startOffset(), a.startOffset()));
    for (OtlpJsonDecoder.SkippedSpan k : last) {
      int from = (int) k.startOffset();
      int to = (int) k.endOffset();
      int after = to;
      while (after < text.length() && Character.isWhitespace(text.charAt(after))) {
        after++;
      }
      int before = from - 1;
      while (before >= 0 && Character.isWhitespace(text.charAt(before))) {
        before--;
      }
      if (after < text.length() && text.charAt(after) == ',') {
        text.delete(from, after + 1);
      } else if (before >= 0 && text.charAt(before) == ',') {
        text.delete(before, to);
      } else {
        text.delete(from, to);
      }
    }
    return text.toString();
  }

  // --- recordings -----------------------------------------------------------------------------

  static List<Path> recordings() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> files = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    for (String dir : List.of("samples/order-flow", "samples/order-flow-clean", "examples/order-system/recordings",
        "tracer/src/test/resources/recordings")) {
      dirs.add(root.resolve(dir));
    }
    for (String dir : MORE_RECORDINGS.split(java.io.File.pathSeparator)) {
      if (!dir.isBlank()) {
        dirs.add(Path.of(dir));
      }
    }
    for (Path dir : dirs) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.filter(p -> p.getFileName().toString().matches(".*\\.otlp\\.jsonl?")).sorted().forEach(files::add);
      }
    }
    return files;
  }

  /** The requests of a recording: its lines, or the whole file when it is one pretty-printed request. */
  static List<String> requests(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    if (file.toString().endsWith(".json")) {
      return List.of(text);
    }
    return text.lines().filter(line -> !line.isBlank()).toList();
  }

  @Test
  void everyShippedRecordingDecodesAsTheReferenceDecodesIt() throws IOException {
    List<Path> files = recordings();
    assertThat(files).hasSizeGreaterThanOrEqualTo(15);
    List<String> failures = new ArrayList<>();
    long requests = 0;
    long spans = 0;
    for (Path file : files) {
      List<String> lines = requests(file);
      for (int i = 0; i < lines.size(); i++) {
        String problem = disagreement(lines.get(i));
        if (problem != null) {
          failures.add(file + " request " + (i + 1) + ":\n  " + problem);
        }
        spans += streaming(lines.get(i)).spans.size();
        requests++;
      }
    }
    System.out.printf("differential: %d shipped recordings, %d requests, %d spans%n", files.size(), requests, spans);
    assertThat(spans).isGreaterThan(1000);
    assertNoFailures(failures);
  }

  @Test
  void mutatedLinesOfTheShippedRecordingsDecodeAsTheReferenceDecodesThem() throws IOException {
    List<String> lines = new ArrayList<>();
    for (Path file : recordings()) {
      lines.addAll(requests(file));
    }
    List<JsonText> donors = lines.stream().limit(20).map(JsonText::parse).toList();
    List<String> failures = new ArrayList<>();
    int cases = CASES / 8;
    for (int i = 0; i < cases; i++) {
      long seed = SEED * 31 + i;
      Random random = random(seed);
      String line = lines.get(random.nextInt(lines.size()));
      String json = mutate(line, random, donors);
      String problem = disagreement(json);
      if (problem != null) {
        failures.add("seed " + seed + ":\n  " + problem);
      }
    }
    assertNoFailures(failures);
  }

  // --- generated requests ---------------------------------------------------------------------

  private static final JsonFormat.Printer CANONICAL = JsonFormat.printer();
  private static final JsonFormat.Printer PROTO_NAMES = JsonFormat.printer().preservingProtoFieldNames();
  private static final JsonFormat.Printer WITH_DEFAULTS =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

  /** The request as one of the writers would print it. */
  static String print(ExportTraceServiceRequest request, Random random) throws InvalidProtocolBufferException {
    return switch (random.nextInt(6)) {
      case 0 -> CANONICAL.print(request);
      case 1 -> PROTO_NAMES.print(request);
      case 2 -> WITH_DEFAULTS.print(request);
      default -> OtlpJson.print(request);
    };
  }

  @Test
  void generatedRequestsDecodeAsTheReferenceDecodesThem() throws InvalidProtocolBufferException {
    List<JsonText> donors = new ArrayList<>();
    Random donorRandom = new Random(SEED - 1);
    for (int i = 0; i < 20; i++) {
      donors.add(JsonText.parse(print(new RandomRequests(donorRandom).request(), donorRandom)));
    }
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      long seed = SEED + i;
      Random random = random(seed);
      String printed = print(new RandomRequests(random).request(), random);
      String json = random.nextInt(8) == 0 ? printed : mutate(printed, random, donors);
      String problem = disagreement(json);
      if (problem != null) {
        failures.add("seed " + seed + ":\n  " + problem);
      }
    }
    assertNoFailures(failures);
  }

  @Test
  void spansOfTheOpenTelemetrySdkWrittenByItsOwnMarshalerDecodeAsTheReferenceDecodesThem() {
    List<String> failures = new ArrayList<>();
    List<JsonText> donors = List.of();
    for (int i = 0; i < CASES / 8; i++) {
      long seed = SEED * 7 + i;
      Random random = random(seed);
      String json = sdkJson(random);
      if (i % 2 == 1) {
        json = mutate(json, random, donors);
      }
      String problem = disagreement(json);
      if (problem != null) {
        failures.add("seed " + seed + ":\n  " + problem);
      }
    }
    assertNoFailures(failures);
  }

  /**
   * The generator of one case. Seeds are mixed first: {@link Random}s of neighbouring seeds draw
   * nearly the same first numbers, which would make neighbouring cases nearly the same request.
   */
  static Random random(long seed) {
    return new Random(new java.util.SplittableRandom(seed).nextLong());
  }

  static String mutate(String json, Random random, List<JsonText> donors) {
    boolean undecodableIds = random.nextInt(6) == 0;
    JsonText tree = JsonText.parse(json);
    JsonMutator mutator = new JsonMutator(random, undecodableIds, donors);
    mutator.mutate(tree, 1 + random.nextInt(4));
    STATS.mutations(mutator.applied);
    return JsonText.print(tree, JsonText.Style.random(random));
  }

  /** Spans made by the OpenTelemetry SDK with random attributes, as its OTLP/JSON marshaler writes them. */
  static String sdkJson(Random random) {
    List<SpanData> spans = new CopyOnWriteArrayList<>();
    SpanExporter exporter = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> batch) {
        spans.addAll(batch);
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    RandomRequests words = new RandomRequests(random);
    try (SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(
            Attributes.of(AttributeKey.stringKey("service.name"), words.word()))))
        .addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build()) {
      Tracer tracer = provider.get(words.word(), "1.0");
      int n = 1 + random.nextInt(4);
      io.opentelemetry.api.trace.Span parent = null;
      for (int i = 0; i < n; i++) {
        var builder = tracer.spanBuilder(words.word())
            .setSpanKind(io.opentelemetry.api.trace.SpanKind.values()[random.nextInt(5)])
            .setAllAttributes(sdkAttributes(random, words));
        if (parent != null && random.nextBoolean()) {
          builder.setParent(Context.root().with(parent));
        } else {
          builder.setNoParent();
        }
        if (random.nextInt(3) == 0) {
          byte[] trace = new byte[16];
          byte[] span = new byte[8];
          random.nextBytes(trace);
          random.nextBytes(span);
          builder.addLink(SpanContext.create(java.util.HexFormat.of().formatHex(trace),
              java.util.HexFormat.of().formatHex(span), TraceFlags.getSampled(), TraceState.getDefault()),
              sdkAttributes(random, words));
        }
        io.opentelemetry.api.trace.Span span = builder.startSpan();
        if (random.nextInt(3) == 0) {
          span.addEvent(words.word(), sdkAttributes(random, words));
        }
        if (random.nextInt(3) == 0) {
          span.setStatus(random.nextBoolean() ? StatusCode.ERROR : StatusCode.OK, words.word());
        }
        span.end();
        parent = span;
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TraceRequestMarshaler.create(spans).writeJsonTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static Attributes sdkAttributes(Random random, RandomRequests words) {
    AttributesBuilder attributes = Attributes.builder();
    for (int i = random.nextInt(5); i > 0; i--) {
      String key = words.word();
      switch (random.nextInt(8)) {
        case 0 -> attributes.put(AttributeKey.longKey(key), random.nextLong());
        case 1 -> attributes.put(AttributeKey.doubleKey(key), random.nextInt(4) == 0 ? Double.NaN : random.nextDouble());
        case 2 -> attributes.put(AttributeKey.booleanKey(key), random.nextBoolean());
        case 3 -> attributes.put(AttributeKey.stringArrayKey(key), List.of(words.word(), words.word()));
        case 4 -> attributes.put(AttributeKey.longArrayKey(key), List.of(random.nextLong(), -1L));
        case 5 -> attributes.put(AttributeKey.doubleArrayKey(key), List.of(0.5, -0.0));
        case 6 -> attributes.put(AttributeKey.booleanArrayKey(key), List.of(true, false));
        default -> attributes.put(AttributeKey.stringKey(key), words.word());
      }
    }
    return attributes.build();
  }

  // --- coverage -------------------------------------------------------------------------------

  /** How many requests were compared, how they came out, which mutations they had. */
  static final class Stats {
    long requests;
    long refused;
    long spans;
    long invalidIds;
    long salvagedRequests;
    long skippedSpans;
    final Map<String, Integer> mutations = new TreeMap<>();

    synchronized void salvaged(int skipped) {
      salvagedRequests++;
      skippedSpans += skipped;
    }

    synchronized void count(Outcome reference) {
      requests++;
      if (reference.refused) {
        refused++;
      }
      spans += reference.spans.size();
      invalidIds += reference.invalidIds.size();
    }

    synchronized void mutations(EnumMap<JsonMutator.Mutation, Integer> applied) {
      applied.forEach((m, n) -> mutations.merge(m.name(), n, Integer::sum));
    }
  }

  @AfterAll
  static void printCoverage() {
    System.out.printf("differential: %,d requests compared (%,d refused by both), %,d spans and %,d invalid-id "
        + "reports equal; %,d refused requests salvaged as the reference reads them without their %,d skipped "
        + "spans; mutations applied: %s%n", STATS.requests, STATS.refused, STATS.spans, STATS.invalidIds,
        STATS.salvagedRequests, STATS.skippedSpans, STATS.mutations);
  }

  private static void assertNoFailures(List<String> failures) {
    assertThat(failures)
        .withFailMessage(() -> failures.size() + " disagreements; the first:\n" + String.join("\n", failures.subList(0,
            Math.min(5, failures.size()))))
        .isEmpty();
  }

  private static String cut(String text) {
    return text.length() > 3000 ? text.substring(0, 3000) + "..." : text;
  }
}
