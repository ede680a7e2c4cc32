package io.flowtrace.cli;

import static java.util.Objects.requireNonNull;

import io.flowtrace.tracer.receiver.BoundedTelemetryQueue;
import io.flowtrace.tracer.receiver.OtlpGrpcReceiver;
import io.flowtrace.tracer.receiver.OtlpHttpReceiver;
import io.flowtrace.tracer.recording.RecordingWriter;
import io.flowtrace.tracer.tap.KafkaTap;
import io.flowtrace.tracer.tap.OtlpSpansTopicSource;
import io.flowtrace.tracer.tap.StartPosition;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What {@code flowtrace record} runs: the OTLP receivers feed a bounded queue that drains into a
 * {@link RecordingWriter}; an optional Kafka tap writes records into the same writer. {@link
 * #close()} stops the receivers, delivers everything they acknowledged, stops the tap and closes
 * the writer, in that order, so nothing acknowledged is lost. With a spans topic, the spans the
 * OpenTelemetry Collector's kafka exporter writes there go into the writer as well.
 */
final class Recorder implements Closeable {

  private final RecordingWriter writer;
  private final BoundedTelemetryQueue queue;
  private final OtlpHttpReceiver http;
  private final OtlpGrpcReceiver grpc;
  private final KafkaTap tap;
  private final OtlpSpansTopicSource spansSource;
  private boolean closed;

  private Recorder(RecordingWriter writer, BoundedTelemetryQueue queue, OtlpHttpReceiver http,
      OtlpGrpcReceiver grpc, KafkaTap tap, OtlpSpansTopicSource spansSource) {
    this.writer = writer;
    this.queue = queue;
    this.http = http;
    this.grpc = grpc;
    this.tap = tap;
    this.spansSource = spansSource;
  }

  static Builder builder(Path out) {
    return new Builder(out);
  }

  /** The OTLP/HTTP endpoint, or {@code null} when that receiver is off (a negative port). */
  URI httpEndpoint() {
    return http == null ? null : http.endpoint();
  }

  /** The OTLP/gRPC address, or {@code null} when that receiver is off (a negative port). */
  String grpcEndpoint() {
    return grpc == null ? null : grpc.address().getAddress().getHostAddress() + ":" + grpc.port();
  }

  /** The tap, or {@code null} without bootstrap servers. */
  KafkaTap tap() {
    return tap;
  }

  /** The spans topic source, or {@code null} without a spans topic. */
  OtlpSpansTopicSource spansSource() {
    return spansSource;
  }

  RecordingWriter writer() {
    return writer;
  }

  BoundedTelemetryQueue queue() {
    return queue;
  }

  /** Stops receiving, drains what was acknowledged and closes the files. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      closeQuietly(http);
      closeQuietly(grpc);
      queue.close();
      closeQuietly(tap);
      closeQuietly(spansSource);
    } finally {
      writer.close();
    }
  }

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      System.err.println("flowtrace: closing " + c + ": " + e);
    }
  }

  static final class Builder {
    private final Path out;
    private String host = OtlpHttpReceiver.DEFAULT_HOST;
    private int httpPort = OtlpHttpReceiver.DEFAULT_PORT;
    private int grpcPort = OtlpGrpcReceiver.DEFAULT_PORT;
    private String bootstrapServers;
    private List<String> topics = List.of();
    private StartPosition startPosition = StartPosition.LATEST;
    private String spansTopic;
    private OtlpSpansTopicSource.Encoding spansEncoding = OtlpSpansTopicSource.Encoding.OTLP_PROTO;
    private Map<String, Object> kafkaProperties = Map.of();

    private Builder(Path out) {
      this.out = requireNonNull(out, "out");
    }

    Builder host(String host) {
      this.host = requireNonNull(host, "host");
      return this;
    }

    Builder httpPort(int port) {
      this.httpPort = port;
      return this;
    }

    Builder grpcPort(int port) {
      this.grpcPort = port;
      return this;
    }

    /** Also tap these topics on that cluster. */
    Builder kafka(String bootstrapServers, Collection<String> topics, StartPosition startPosition) {
      this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers");
      this.topics = List.copyOf(topics);
      this.startPosition = requireNonNull(startPosition, "startPosition");
      return this;
    }

    /** Where the tap and the spans source start. Defaults to latest. */
    Builder startPosition(StartPosition startPosition) {
      this.startPosition = requireNonNull(startPosition, "startPosition");
      return this;
    }

    /** Also read spans from this topic of the cluster given to {@link #kafka} (or {@link #bootstrapServers}). */
    Builder spansTopic(String topic, OtlpSpansTopicSource.Encoding encoding) {
      this.spansTopic = requireNonNull(topic, "topic");
      this.spansEncoding = requireNonNull(encoding, "encoding");
      return this;
    }

    /** Kafka client properties for the tap and the spans topic's reader (SASL, TLS, timeouts). */
    Builder kafkaProperties(Map<String, String> properties) {
      this.kafkaProperties = Map.copyOf(properties);
      return this;
    }

    Builder bootstrapServers(String bootstrapServers) {
      this.bootstrapServers = requireNonNull(bootstrapServers, "bootstrapServers");
      return this;
    }

    /** Opens the writer, binds the receivers and starts the tap; undoes what it did on failure. */
    Recorder start() throws IOException {
      RecordingWriter writer = RecordingWriter.open(out);
      BoundedTelemetryQueue queue = null;
      OtlpHttpReceiver http = null;
      OtlpGrpcReceiver grpc = null;
      KafkaTap tap = null;
      try {
        queue = BoundedTelemetryQueue.builder(writer).build();
        http = httpPort < 0 ? null : OtlpHttpReceiver.builder(queue).host(host).port(httpPort).start();
        grpc = grpcPort < 0 ? null : OtlpGrpcReceiver.builder(queue).host(host).port(grpcPort).start();
        tap = bootstrapServers == null || topics.isEmpty() ? null : KafkaTap.builder()
            .bootstrapServers(bootstrapServers).topics(topics).startPosition(startPosition)
            .overrides(kafkaProperties).sink(writer::accept).start();
        if (spansTopic != null && bootstrapServers == null) {
          throw new IllegalStateException("a spans topic needs bootstrap servers");
        }
        OtlpSpansTopicSource spans = spansTopic == null ? null : OtlpSpansTopicSource.builder()
            .bootstrapServers(bootstrapServers).topic(spansTopic).encoding(spansEncoding)
            .startPosition(startPosition).overrides(kafkaProperties).build().start(writer);
        return new Recorder(writer, queue, http, grpc, tap, spans);
      } catch (IOException | RuntimeException e) {
        closeQuietly(tap);
        closeQuietly(http);
        closeQuietly(grpc);
        if (queue != null) {
          queue.close();
        }
        writer.close();
        throw e;
      }
    }
  }
}
