package io.flowtrace.cli.synth;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.recording.RecordingReader;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Plays a generated recording into a real system in real time: each Kafka record is produced at
 * its timestamp (to its original partition, landing at its original offset once {@link #fill}ed),
 * and each span export request (a line of the recording's OTLP/JSON files) is sent once its last
 * span ended, as an exporter would — to the Collector's spans topic as {@code otlp_proto}, or to
 * an OTLP/HTTP endpoint.
 */
public final class LivePlayback implements Closeable {

  private record Item(long atNanos, int order, KafkaRecord record, ExportTraceServiceRequest spans) {}

  private long spans;
  private long records;

  private final List<Item> items = new ArrayList<>();
  private final KafkaProducer<byte[], byte[]> producer;
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicInteger played = new AtomicInteger();
  private final AtomicInteger retried = new AtomicInteger();
  private volatile Throwable failure;

  /** Loads a recording to play into the cluster at {@code bootstrapServers}. */
  public LivePlayback(String bootstrapServers, Path recording) throws IOException {
    producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 0));
    int[] order = {0};
    RecordingReader.defaults().read(recording, t -> {
      if (t instanceof Telemetry.RecordEvent r) {
        items.add(new Item(r.record().timestampNanos(), order[0]++, r.record(), null));
        records++;
      }
    }, problem -> {
      throw new IllegalStateException(problem.toString());
    });
    try (Stream<Path> files = Files.list(recording)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).sorted().toList()) {
        try (BufferedReader in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
          String line;
          while ((line = in.readLine()) != null) {
            if (!line.isBlank()) {
              ExportTraceServiceRequest request = OtlpJson.parse(line);
              items.add(new Item(lastEnd(request), order[0]++, null, request));
              request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList()
                  .forEach(ss -> spans += ss.getSpansCount()));
            }
          }
        }
      }
    }
    items.sort(Comparator.comparingLong(Item::atNanos).thenComparingLong(i -> i.record == null ? 0 : i.record.offset())
        .thenComparingInt(Item::order));
  }

  private static long lastEnd(ExportTraceServiceRequest request) {
    long end = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
          end = Math.max(end, s.getEndTimeUnixNano());
        }
      }
    }
    return end;
  }

  /** Spans in the recording. */
  public long spans() {
    return spans;
  }

  /** Kafka records in the recording. */
  public long records() {
    return records;
  }

  /** Items (records and span requests) in the recording. */
  public int size() {
    return items.size();
  }

  /** Items sent so far. */
  public int played() {
    return played.get();
  }

  /** OTLP exports the receiver answered 429/503 (back-pressure) and that were sent again. */
  public int retried() {
    return retried.get();
  }

  /** First offset of each partition in the recording. */
  public Map<TopicPartition, Long> firstOffsets() {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (Item i : items) {
      if (i.record != null) {
        first.merge(new TopicPartition(i.record.topic(), i.record.partition()), i.record.offset(), Math::min);
      }
    }
    return first;
  }

  /** Produces unrelated records to each partition up to the recording's first offset there, stamped now. */
  public void fill() {
    fill(null);
  }

  /**
   * As {@link #fill()}, stamping the filler records with {@code timestamp} (null: now), e.g. just
   * before the recording starts when it is played as a backlog: the fillers then come first in
   * event time as they do in offsets.
   */
  public void fill(Instant timestamp) {
    byte[] filler = "filler".getBytes(StandardCharsets.UTF_8);
    Long millis = timestamp == null ? null : timestamp.toEpochMilli();
    firstOffsets().forEach((tp, first) -> {
      for (long i = 0; i < first; i++) {
        producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), millis, null, filler));
      }
    });
    producer.flush();
  }

  /**
   * Sends every item at its time, in order, on the calling thread. Spans go to {@code spansTopic}
   * when it is not null, else are posted to {@code otlpHttp}.
   *
   * @throws AssertionError if a record did not land at its recorded offset
   */
  public void play(String spansTopic, URI otlpHttp) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    List<KafkaRecord> expected = new ArrayList<>();
    for (Item item : items) {
      long wait = item.atNanos - epochNanos();
      while (wait > 0) {
        LockSupport.parkNanos(wait);
        wait = item.atNanos - epochNanos();
      }
      if (item.record != null) {
        KafkaRecord r = item.record;
        RecordHeaders headers = new RecordHeaders();
        for (RecordHeader h : r.headers()) {
          headers.add(h.name(), h.value());
        }
        byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
        sent.add(producer.send(new ProducerRecord<>(r.topic(), r.partition(), r.timestampMillis(), key, r.value(), headers)));
        expected.add(r);
      } else if (spansTopic != null) {
        sent.add(producer.send(new ProducerRecord<>(spansTopic, null, item.spans.toByteArray())));
        expected.add(null);
      } else {
        HttpRequest request = HttpRequest.newBuilder(otlpHttp)
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(item.spans.toByteArray())).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        // As OTLP exporters do: 429 and 503 are back-pressure, retried after the server's hint.
        while (response.statusCode() == 429 || response.statusCode() == 503) {
          retried.incrementAndGet();
          long seconds = response.headers().firstValueAsLong("Retry-After").orElse(1);
          Thread.sleep(Math.max(100, seconds * 1000));
          response = http.send(request, HttpResponse.BodyHandlers.ofString());
        }
        if (response.statusCode() != 200) {
          throw new AssertionError("OTLP export answered " + response.statusCode() + ": " + response.body());
        }
      }
      played.incrementAndGet();
    }
    producer.flush();
    for (int i = 0; i < sent.size(); i++) {
      RecordMetadata m = sent.get(i).get();
      KafkaRecord r = expected.get(i);
      if (r != null && m.offset() != r.offset()) {
        throw new AssertionError(r.coordinates() + " landed at offset " + m.offset());
      }
    }
  }

  /** Plays on a new thread; {@link #awaitPlayed()} waits for it and rethrows what it threw. */
  public Thread playInBackground(String spansTopic, URI otlpHttp) {
    Thread t = new Thread(() -> {
      try {
        play(spansTopic, otlpHttp);
      } catch (Throwable e) {
        failure = e;
      }
    }, "live-player");
    t.setDaemon(true);
    t.start();
    return t;
  }

  public void awaitPlayed(Thread player) throws InterruptedException, ExecutionException {
    player.join();
    if (failure != null) {
      throw new ExecutionException(failure);
    }
  }

  private static long epochNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  @Override
  public void close() {
    producer.close();
  }
}
