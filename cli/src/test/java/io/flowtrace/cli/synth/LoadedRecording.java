package io.flowtrace.cli.synth;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.model.TraceContext;
import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.RecordingReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A recording read back with the tracer's {@link RecordingReader}, indexed for assertions. */
final class LoadedRecording {

  static final JsonMapper JSON = JsonMapper.builder().build();

  final Path dir;
  final List<Span> spans = new ArrayList<>();
  final List<KafkaRecord> records = new ArrayList<>();
  final List<ReadProblem> problems = new ArrayList<>();
  final Map<String, Span> spanById = new HashMap<>();
  final Map<String, List<Span>> spansByTrace = new HashMap<>();

  private LoadedRecording(Path dir) {
    this.dir = dir;
  }

  static LoadedRecording read(Path dir) throws IOException {
    LoadedRecording recording = new LoadedRecording(dir);
    RecordingReader.defaults().read(dir, telemetry -> {
      if (telemetry instanceof Telemetry.SpanEvent event) {
        recording.spans.add(event.span());
      } else if (telemetry instanceof Telemetry.RecordEvent event) {
        recording.records.add(event.record());
      }
    }, recording.problems::add);
    for (Span span : recording.spans) {
      recording.spanById.put(span.spanId(), span);
      recording.spansByTrace.computeIfAbsent(span.traceId(), t -> new ArrayList<>()).add(span);
    }
    recording.records.sort(Comparator.comparingLong(KafkaRecord::timestampMillis));
    return recording;
  }

  /** The producer span named by the record's traceparent. */
  Span producerOf(KafkaRecord record) {
    TraceContext context = record.traceContext().orElseThrow(
        () -> new AssertionError("no traceparent on " + record.coordinates()));
    Span span = spanById.get(context.spanId());
    if (span == null || !span.traceId().equals(context.traceId())) {
      throw new AssertionError("no span " + context + " for " + record.coordinates());
    }
    return span;
  }

  /** The record a consumer span processed (by topic, partition and offset attributes). */
  Optional<KafkaRecord> consumedBy(Span consumer) {
    String topic = consumer.attribute("messaging.destination.name");
    Long offset = consumer.longAttribute("messaging.kafka.offset", "messaging.kafka.message.offset");
    Long partition = consumer.longAttribute("messaging.destination.partition.id", "messaging.kafka.destination.partition");
    return records.stream()
        .filter(r -> r.topic().equals(topic) && r.partition() == partition && r.offset() == offset)
        .findFirst();
  }

  /** Every record of the flow (keyed by its requestId or orderId), in time order. */
  List<KafkaRecord> records(Manifest.Flow flow) {
    return records.stream()
        .filter(r -> flow.requestId().equals(r.key()) || flow.orderId().equals(r.key()))
        .toList();
  }

  List<KafkaRecord> records(Manifest.Flow flow, String topic) {
    return records(flow).stream().filter(r -> r.topic().equals(topic)).toList();
  }

  /**
   * Every span of the flow: the order's trace, the traces its records were produced in, webhook
   * traces (found by the orderId in the body) and traces whose root links to one of those spans.
   */
  List<Span> spans(Manifest.Flow flow) {
    Set<String> traces = new LinkedHashSet<>();
    traces.add(flow.traceId());
    for (KafkaRecord record : records(flow)) {
      traces.add(record.traceContext().orElseThrow().traceId());
    }
    for (Span span : spans) {
      String body = span.attribute("http.request.body");
      if (span.kind() == SpanKind.SERVER && body != null && body.contains("\"" + flow.orderId() + "\"")) {
        traces.add(span.traceId());
      }
    }
    Set<String> ids = new HashSet<>();
    for (String trace : traces) {
      spansByTrace.getOrDefault(trace, List.of()).forEach(s -> ids.add(s.spanId()));
    }
    for (Span span : spans) {
      for (SpanLink link : span.links()) {
        if (ids.contains(link.spanId())) {
          traces.add(span.traceId());
        }
      }
    }
    List<Span> result = new ArrayList<>();
    for (String trace : traces) {
      result.addAll(spansByTrace.getOrDefault(trace, List.of()));
    }
    result.sort(Comparator.comparingLong(Span::startEpochNanos));
    return result;
  }

  List<Span> spans(Manifest.Flow flow, SpanKind kind, String name) {
    return spans(flow).stream().filter(s -> s.kind() == kind && s.name().equals(name)).toList();
  }

  /** The payment CLIENT span of the flow. */
  Span payment(Manifest.Flow flow) {
    List<Span> payments = spans(flow, SpanKind.CLIENT, "POST");
    if (payments.size() != 1) {
      throw new AssertionError("expected one payment span in flow " + flow.index() + ", got " + payments);
    }
    return payments.get(0);
  }

  static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  static JsonNode payload(KafkaRecord record) {
    return JSON.readTree(new String(record.value(), StandardCharsets.UTF_8));
  }

  /** Decodes a Confluent-framed e-mail with the contract schema (id 1 checked). */
  static GenericRecord email(KafkaRecord record) throws IOException {
    byte[] value = record.value();
    ByteBuffer frame = ByteBuffer.wrap(value);
    if (frame.get() != 0 || frame.getInt() != EmailAvro.SCHEMA_ID) {
      throw new AssertionError("not framed with schema id 1: " + record.coordinates());
    }
    byte[] body = Arrays.copyOfRange(value, 5, value.length);
    var decoder = DecoderFactory.get().binaryDecoder(body, null);
    GenericRecord email = new GenericDatumReader<GenericRecord>(EmailAvro.CONTRACT_SCHEMA).read(null, decoder);
    if (!decoder.isEnd()) {
      throw new IOException("trailing bytes after the e-mail in " + record.coordinates());
    }
    return email;
  }
}
