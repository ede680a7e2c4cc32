package io.flowtrace.junit.internal;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.model.Observation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends a captured occurrence to the system again: a Kafka record is re-published to its topic and
 * partition with the same key, value and headers; an HTTP request seen as a span is re-sent (the
 * body from the event's payload attribute, the method from {@code http.request.method}, the URL
 * from {@code url.full}, else {@code url.scheme}, {@code server.address}, {@code server.port},
 * {@code url.path} and {@code url.query}, unless the test gives one). Internal: not API.
 */
public final class Redeliverer implements AutoCloseable {

  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);

  private final Supplier<String> bootstrapServers;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(SEND_TIMEOUT).build();
  private KafkaProducer<byte[], byte[]> producer;
  private String producerServers;

  Redeliverer(Supplier<String> bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
  }

  /**
   * Sends the occurrence again and says what was sent.
   *
   * @param payloadAttribute the span attribute holding the request body ({@code null} for records)
   * @param target where to send an HTTP request, or {@code null} to take it from the span
   * @throws IllegalStateException when it cannot be sent (no URL, no broker, refused)
   */
  public String redeliver(Observation occurrence, String payloadAttribute, URI target) {
    if (occurrence.record() != null) {
      return republish(occurrence.record());
    }
    return resend(occurrence.span(), payloadAttribute, target);
  }

  private synchronized String republish(KafkaRecord record) {
    String servers = bootstrapServers.get();
    if (servers == null) {
      throw new IllegalStateException("flowtrace: cannot re-publish " + record.coordinates()
          + ": no Kafka cluster is attached (give the extension bootstrap servers)");
    }
    if (producer == null || !servers.equals(producerServers)) {
      closeProducer();
      producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
          ProducerConfig.CLIENT_ID_CONFIG, "flowtrace-junit-redeliver",
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
      producerServers = servers;
    }
    List<Header> headers = new ArrayList<>(record.headers().size());
    for (io.flowtrace.tracer.model.RecordHeader h : record.headers()) {
      headers.add(new RecordHeader(h.name(), h.value()));
    }
    byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
    try {
      RecordMetadata sent = producer.send(new ProducerRecord<>(record.topic(), record.partition(), key,
          record.value(), headers)).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return "re-published " + record.coordinates() + " as " + sent.topic() + "[" + sent.partition() + "]@"
          + sent.offset() + " (key " + record.key() + ", same value and headers)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("flowtrace: interrupted re-publishing " + record.coordinates(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("flowtrace: could not re-publish " + record.coordinates() + " to "
          + servers + ": " + (e.getCause() != null ? e.getCause() : e), e);
    }
  }

  private String resend(Span span, String payloadAttribute, URI target) {
    String body = payloadAttribute == null ? null : span.attribute(payloadAttribute);
    URI uri = target != null ? target : urlOf(span);
    String method = span.attribute("http.request.method") != null ? span.attribute("http.request.method") : "POST";
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(SEND_TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    String contentType = contentType(span, body);
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return "re-sent " + method + " " + uri + " (" + (body == null ? "no body" : body.length() + " bytes")
          + ") -> " + response.statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("flowtrace: interrupted re-sending " + method + " " + uri, e);
    } catch (IOException e) {
      throw new IllegalStateException("flowtrace: could not re-send " + method + " " + uri + ": " + e, e);
    }
  }

  /** The request URL the span names, or fails saying which attributes were missing. */
  static URI urlOf(Span span) {
    String full = span.attribute("url.full");
    if (full != null) {
      return URI.create(full);
    }
    String host = span.attribute("server.address");
    String path = span.firstAttribute("url.path", "http.target");
    if (host == null || path == null) {
      throw new IllegalStateException("flowtrace: " + span.describe() + " names no URL to re-send to (it has"
          + " neither url.full nor server.address and url.path); give the target URL");
    }
    String scheme = span.attribute("url.scheme") != null ? span.attribute("url.scheme") : "http";
    String port = span.attribute("server.port");
    String query = span.attribute("url.query");
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return URI.create(scheme + "://" + host + (port == null ? "" : ":" + port) + path
        + (query == null || query.isEmpty() ? "" : "?" + query));
  }

  private static String contentType(Span span, String body) {
    Object captured = span.attributes().get("http.request.header.content-type");
    if (captured instanceof List<?> list && !list.isEmpty()) {
      return list.get(0).toString();
    }
    if (captured != null) {
      return captured.toString();
    }
    if (body != null && (body.startsWith("{") || body.startsWith("["))) {
      return "application/json";
    }
    return null;
  }

  private void closeProducer() {
    if (producer != null) {
      producer.close(SEND_TIMEOUT);
      producer = null;
    }
  }

  @Override
  public synchronized void close() {
    closeProducer();
  }
}
