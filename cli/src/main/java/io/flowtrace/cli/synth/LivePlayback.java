package io.flowtrace.cli.synth;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Telemetry;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.recording.RecordingReader;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Plays a generated recording into a real system in real time: each Kafka record is produced at
 * its timestamp (to its original partition, landing at its original offset once {@link #fill}ed),
 * and each span export request (a line of the recording's OTLP/JSON files) is sent once its last
 * span ended, as an exporter would — to the Collector's spans topic as {@code otlp_proto}, or to
 * an OTLP/HTTP endpoint.
 *
 * <p>The playback is not held in the heap: loading writes every item, encoded (records as their
 * coordinates, key, headers and value; span requests as OTLP protobuf), to a spool file beside the
 * process's temporary files, and keeps only a sorted index of primitives (≈ 25 bytes an item). So a
 * load generator in the same JVM as the system it measures does not weigh on that system's heap.
 * The spool is deleted on {@link #close()}.
 *
 * <p>Posted to OTLP/HTTP, spans are sent on their own thread, as an application's exporter sends
 * them: a 429/503 (back-pressure) holds back only the spans, retried after the server's
 * {@code Retry-After}, while the records go on being produced at their times.
 */
public final class LivePlayback implements Closeable {

  /**
   * How long a record may wait for the broker before the playback fails: long enough to ride out
   * the outages fault tests make (a killed broker, down past the session timeout, then recovering
   * its logs on a busy machine), as a producer set up for at-least-once delivery keeps retrying.
   */
  static final Duration DELIVERY_TIMEOUT = Duration.ofMinutes(10);

  private static final byte RECORD = 0;
  private static final byte SPANS = 1;

  private long spans;
  private long records;
  private int size;

  /** Per item, in play order: when, where in the spool, how long, and which kind. */
  private long[] atNanos = new long[1024];
  private long[] position = new long[1024];
  private int[] length = new int[1024];
  private byte[] kind = new byte[1024];
  /** While loading: a record's offset, 0 for span requests (the tie-break after time). */
  private long[] tieBreak = new long[1024];
  private final Map<TopicPartition, Long> firstOffsets = new HashMap<>();

  private final Path spool;
  private final FileChannel spoolChannel;
  private final KafkaProducer<byte[], byte[]> producer;
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicInteger played = new AtomicInteger();
  private final AtomicInteger retried = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong behindNanos = new java.util.concurrent.atomic.AtomicLong();
  private final AtomicReference<Throwable> sendFailure = new AtomicReference<>();
  private volatile Throwable failure;

  /** Loads a recording to play into the cluster at {@code bootstrapServers}. */
  public LivePlayback(String bootstrapServers, Path recording) throws IOException {
    spool = Files.createTempFile("flowtrace-playback", ".spool");
    try {
      load(recording);
      spoolChannel = FileChannel.open(spool, StandardOpenOption.READ);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(spool);
      throw e;
    }
    producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) DELIVERY_TIMEOUT.toMillis()));
  }

  private void load(Path recording) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(spool), 1 << 16))) {
      long[] written = {0};
      List<IOException> failed = new ArrayList<>(1);
      RecordingReader.defaults().read(recording, t -> {
        if (t instanceof Telemetry.RecordEvent r && failed.isEmpty()) {
          try {
            KafkaRecord k = r.record();
            byte[] bytes = encode(k);
            out.write(bytes);
            add(k.timestampNanos(), written[0], bytes.length, RECORD, k.offset());
            written[0] += bytes.length;
            records++;
            firstOffsets.merge(new TopicPartition(k.topic(), k.partition()), k.offset(), Math::min);
          } catch (IOException e) {
            failed.add(e);
          }
        }
      }, problem -> {
        throw new IllegalStateException(problem.toString());
      });
      if (!failed.isEmpty()) {
        throw failed.get(0);
      }
      try (Stream<Path> files = Files.list(recording)) {
        for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".otlp.jsonl")).sorted().toList()) {
          try (BufferedReader in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
              if (!line.isBlank()) {
                ExportTraceServiceRequest request = OtlpJson.parse(line);
                byte[] bytes = request.toByteArray();
                out.write(bytes);
                add(lastEnd(request), written[0], bytes.length, SPANS, 0);
                written[0] += bytes.length;
                request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList()
                    .forEach(ss -> spans += ss.getSpansCount()));
              }
            }
          }
        }
      }
    }
    sortIndex();
  }

  private void add(long at, long pos, int len, byte k, long offset) {
    if (size == atNanos.length) {
      int n = size * 2;
      atNanos = Arrays.copyOf(atNanos, n);
      position = Arrays.copyOf(position, n);
      length = Arrays.copyOf(length, n);
      kind = Arrays.copyOf(kind, n);
      tieBreak = Arrays.copyOf(tieBreak, n);
    }
    atNanos[size] = at;
    position[size] = pos;
    length[size] = len;
    kind[size] = k;
    tieBreak[size] = offset;
    size++;
  }

  /** Puts the items in play order: by time, then a record's offset, then load order. */
  private void sortIndex() {
    Integer[] order = new Integer[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> {
      int c = Long.compare(atNanos[a], atNanos[b]);
      if (c == 0) {
        c = Long.compare(tieBreak[a], tieBreak[b]);
      }
      return c != 0 ? c : Integer.compare(a, b);
    });
    long[] at = new long[size];
    long[] pos = new long[size];
    int[] len = new int[size];
    byte[] k = new byte[size];
    for (int i = 0; i < size; i++) {
      int from = order[i];
      at[i] = atNanos[from];
      pos[i] = position[from];
      len[i] = length[from];
      k[i] = kind[from];
    }
    atNanos = at;
    position = pos;
    length = len;
    kind = k;
    tieBreak = null;
  }

  private static byte[] encode(KafkaRecord r) throws IOException {
    java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream(256 + (r.value() == null ? 0 : r.value().length));
    DataOutputStream out = new DataOutputStream(buffer);
    out.writeUTF(r.topic());
    out.writeInt(r.partition());
    out.writeLong(r.offset());
    out.writeLong(r.timestampMillis());
    writeBytes(out, r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8));
    out.writeInt(r.headers().size());
    for (RecordHeader h : r.headers()) {
      out.writeUTF(h.name());
      writeBytes(out, h.value());
    }
    writeBytes(out, r.value());
    return buffer.toByteArray();
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes == null ? -1 : bytes.length);
    if (bytes != null) {
      out.write(bytes);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    return n < 0 ? null : in.readNBytes(n);
  }

  /** A spooled record as the producer sends it, with the offset it must land at. */
  private record Spooled(ProducerRecord<byte[], byte[]> record, long offset) {}

  private static Spooled decodeRecord(byte[] bytes) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    String topic = in.readUTF();
    int partition = in.readInt();
    long offset = in.readLong();
    long timestampMillis = in.readLong();
    byte[] key = readBytes(in);
    RecordHeaders headers = new RecordHeaders();
    for (int n = in.readInt(); n > 0; n--) {
      headers.add(in.readUTF(), readBytes(in));
    }
    byte[] value = readBytes(in);
    return new Spooled(new ProducerRecord<>(topic, partition, timestampMillis, key, value, headers), offset);
  }

  private byte[] read(int item) {
    ByteBuffer buffer = ByteBuffer.allocate(length[item]);
    long at = position[item];
    try {
      while (buffer.hasRemaining()) {
        int n = spoolChannel.read(buffer, at + buffer.position());
        if (n < 0) {
          throw new IOException("spool " + spool + " ends before item " + item);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.array();
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
    return size;
  }

  /**
   * How far behind its schedule the playback fell at worst: an item handed to the producer that
   * long after its recorded time (the machine was too busy, or a send blocked on an unreachable
   * broker). An event that much late is late to any verifier too.
   */
  public Duration mostBehind() {
    return Duration.ofNanos(behindNanos.get());
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
    return Map.copyOf(firstOffsets);
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
    firstOffsets.forEach((tp, first) -> {
      for (long i = 0; i < first; i++) {
        producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), millis, null, filler));
      }
    });
    producer.flush();
  }

  /**
   * Sends every item at its time, in order. Spans go to {@code spansTopic} when it is not null
   * (everything on the calling thread), else are posted to {@code otlpHttp} from a second thread
   * while the calling thread produces the records. Returns once everything was sent and
   * acknowledged.
   *
   * @throws AssertionError if a record did not land at its recorded offset
   */
  public void play(String spansTopic, URI otlpHttp) throws Exception {
    Thread exporter = null;
    AtomicReference<Throwable> exportFailure = new AtomicReference<>();
    if (spansTopic == null) {
      exporter = new Thread(() -> {
        try {
          playSpans(otlpHttp);
        } catch (Throwable e) {
          exportFailure.set(e);
        }
      }, "live-player-spans");
      exporter.setDaemon(true);
      exporter.start();
    }
    try {
      for (int i = 0; i < size && sendFailure.get() == null && exportFailure.get() == null; i++) {
        if (kind[i] == SPANS && spansTopic == null) {
          continue;
        }
        waitUntil(atNanos[i]);
        if (kind[i] == RECORD) {
          Spooled s = decodeRecord(read(i));
          ProducerRecord<byte[], byte[]> r = s.record();
          long expected = s.offset();
          producer.send(r, (m, e) -> {
            if (e != null) {
              sendFailure.compareAndSet(null, e);
            } else if (m.offset() != expected) {
              sendFailure.compareAndSet(null, new AssertionError(
                  r.topic() + "[" + r.partition() + "]@" + expected + " landed at offset " + m.offset()));
            }
          });
        } else {
          producer.send(new ProducerRecord<>(spansTopic, null, read(i)), (m, e) -> {
            if (e != null) {
              sendFailure.compareAndSet(null, e);
            }
          });
        }
        played.incrementAndGet();
      }
      producer.flush();
    } finally {
      if (exporter != null) {
        if (sendFailure.get() != null) {
          exporter.interrupt();
        }
        exporter.join();
      }
    }
    Throwable e = sendFailure.get() != null ? sendFailure.get() : exportFailure.get();
    if (e instanceof AssertionError a) {
      throw a;
    } else if (e instanceof Exception x) {
      throw x;
    } else if (e != null) {
      throw new ExecutionException(e);
    }
  }

  /** Posts the span requests at their times; 429 and 503 are back-pressure, retried after the server's hint. */
  private void playSpans(URI otlpHttp) throws IOException, InterruptedException {
    for (int i = 0; i < size && sendFailure.get() == null; i++) {
      if (kind[i] != SPANS) {
        continue;
      }
      waitUntil(atNanos[i]);
      HttpRequest request = HttpRequest.newBuilder(otlpHttp)
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(read(i))).build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      while ((response.statusCode() == 429 || response.statusCode() == 503) && sendFailure.get() == null) {
        retried.incrementAndGet();
        long seconds = response.headers().firstValueAsLong("Retry-After").orElse(1);
        Thread.sleep(Math.max(100, seconds * 1000));
        response = http.send(request, HttpResponse.BodyHandlers.ofString());
      }
      if (response.statusCode() != 200) {
        throw new AssertionError("OTLP export answered " + response.statusCode() + ": " + response.body());
      }
      played.incrementAndGet();
    }
  }

  private void waitUntil(long epochNanos) {
    long wait = epochNanos - epochNanos();
    if (wait < 0) {
      behindNanos.accumulateAndGet(-wait, Math::max);
    }
    while (wait > 0) {
      LockSupport.parkNanos(wait);
      wait = epochNanos - epochNanos();
    }
  }

  /** Plays on a new thread; {@link #awaitPlayed(Thread)} waits for it and rethrows what it threw. */
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
    awaitPlayed(player, DELIVERY_TIMEOUT.plusMinutes(1));
  }

  /**
   * Waits up to {@code timeout} for {@link #playInBackground} to finish and rethrows what it threw.
   *
   * @throws IllegalStateException if it is still playing after {@code timeout}
   */
  public void awaitPlayed(Thread player, Duration timeout) throws InterruptedException, ExecutionException {
    player.join(timeout.toMillis());
    if (player.isAlive()) {
      throw new IllegalStateException("Still playing after " + timeout + ": " + played() + " of " + size()
          + " items handed to the producer, waiting for the broker to acknowledge them");
    }
    if (failure != null) {
      throw new ExecutionException(failure);
    }
  }

  private static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Closes the producer and deletes the spool file. Idempotent. */
  @Override
  public void close() {
    producer.close();
    try {
      spoolChannel.close();
      Files.deleteIfExists(spool);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
