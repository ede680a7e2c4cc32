package io.flowtrace.tracer.receiver;


import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.flowtrace.tracer.otlp.OtlpJson;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import tools.jackson.databind.json.JsonMapper;

/**
 * An OTLP/HTTP trace receiver on {@code POST /v1/traces}, built on the JDK's HTTP server. It takes
 * {@code application/x-protobuf} and {@code application/json} bodies, optionally {@code
 * Content-Encoding: gzip}, and answers as the OTLP specification says:
 *
 * <ul>
 *   <li>200 with an {@code ExportTraceServiceResponse} in the request's encoding; its {@code
 *       partial_success} counts spans rejected for invalid ids and says why;
 *   <li>400 when the body cannot be decoded or every span has an invalid id, 413 when the body (or
 *       its gzip expansion) exceeds the size limit or holds more spans than the queue, 415 for other
 *       content types or encodings, 404 for other paths, 405 for other methods, each with a
 *       {@code google.rpc.Status} body saying why (JSON when the request was not protobuf);
 *   <li>429 with {@code Retry-After} when the queue cannot take the request's spans, 503 with
 *       {@code Retry-After} when more requests are in flight than the server takes.
 * </ul>
 *
 * <p>A body is read up to the limit plus one byte and no further. Requests run on a fixed pool of
 * threads with a bounded backlog; beyond it requests are answered 503 without reading their body.
 */
public final class OtlpHttpReceiver implements Closeable {

  /** Default host: {@code 127.0.0.1} (loopback only). */
  public static final String DEFAULT_HOST = ReceiverBuilder.DEFAULT_HOST;
  /** Default port: 4318, the OTLP/HTTP port. */
  public static final int DEFAULT_PORT = 4318;
  /** Default body size limit, after gzip expansion: 16 MiB. */
  public static final int DEFAULT_MAX_BODY_BYTES = ReceiverBuilder.DEFAULT_MAX_REQUEST_BYTES;
  /** Default number of request threads: 4. */
  public static final int DEFAULT_THREADS = ReceiverBuilder.DEFAULT_THREADS;
  /** Default number of requests that may wait for a thread: 64. */
  public static final int DEFAULT_BACKLOG = ReceiverBuilder.DEFAULT_BACKLOG;
  /** Default retry hint sent with 429 and 503: 1 s. */
  public static final Duration DEFAULT_RETRY_AFTER = ReceiverBuilder.DEFAULT_RETRY_AFTER;

  /** The path traces are posted to. */
  public static final String PATH = "/v1/traces";

  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private static final JsonFormat.Printer JSON_PRINTER = JsonFormat.printer()
      .omittingInsignificantWhitespace()
      .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(RetryInfo.getDescriptor()).build());
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final ThreadLocal<Boolean> OVERLOADED = new ThreadLocal<>();

  /**
   * The JDK HTTP server's limit on how long a request may take to arrive, in seconds; it reads it
   * once per JVM, when its first server starts. Unset it is unlimited: a client that stops sending
   * in the middle of a body holds a request thread for good, and a few such clients starve the
   * receiver.
   */
  public static final String MAX_REQUEST_SECONDS_PROPERTY = "sun.net.httpserver.maxReqTime";

  /** What {@link #boundRequestTime()} sets when the property is not set: 30 s. */
  public static final int DEFAULT_MAX_REQUEST_SECONDS = 30;

  static {
    boundRequestTime();
  }

  /**
   * Sets {@value #MAX_REQUEST_SECONDS_PROPERTY} to {@value #DEFAULT_MAX_REQUEST_SECONDS} unless it
   * is set already. Call before the JVM's first JDK HTTP server starts (done here for the
   * receiver; other servers in the same JVM call it first).
   */
  public static void boundRequestTime() {
    if (System.getProperty(MAX_REQUEST_SECONDS_PROPERTY) == null) {
      System.setProperty(MAX_REQUEST_SECONDS_PROPERTY, Integer.toString(DEFAULT_MAX_REQUEST_SECONDS));
    }
  }

  private final HttpServer server;
  private final ExecutorService pool;
  private final OtlpIngest ingest;
  private final Semaphore admitted;
  private final int admissions;
  private final int maxBodyBytes;
  private final Duration retryAfter;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OtlpHttpReceiver(Builder b) throws IOException {
    this.ingest = new OtlpIngest(b.queue, "OTLP/HTTP receiver");
    this.maxBodyBytes = b.maxRequestBytes;
    this.retryAfter = b.retryAfter;
    this.pool = new ThreadPoolExecutor(b.threads, b.threads, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), ReceiverBuilder.daemonThreads("flowtrace-otlp-http"));
    Semaphore admitted = new Semaphore(b.threads + b.backlog);
    this.admitted = admitted;
    this.admissions = b.threads + b.backlog;
    Executor executor = task -> {
      if (admitted.tryAcquire()) {
        try {
          pool.execute(() -> {
            try {
              task.run();
            } finally {
              admitted.release();
            }
          });
          return;
        } catch (RejectedExecutionException e) {
          admitted.release();
        }
      }
      // Too many in flight: the exchange runs here, on the server's dispatcher thread, and its
      // handler answers 503 at once without reading the body.
      OVERLOADED.set(Boolean.TRUE);
      try {
        task.run();
      } finally {
        OVERLOADED.remove();
      }
    };
    this.server = HttpServer.create(new InetSocketAddress(b.host, b.port), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** A builder that offers received spans to {@code queue}. */
  public static Builder builder(BoundedTelemetryQueue queue) {
    return new Builder(queue);
  }

  /** The address the server is bound to (with the real port when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** The bound port. */
  /** Requests being served now (admitted, not yet finished); for tests. */
  int requestsInFlight() {
    return admissions - admitted.availablePermits();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The URL to post traces to, e.g. {@code http://127.0.0.1:4318/v1/traces}. */
  public URI endpoint() {
    InetSocketAddress address = address();
    String host = address.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + address.getPort() + PATH);
  }

  /** Stops accepting connections and request threads; spans already queued stay queued. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.stop(0);
      pool.shutdown();
      try {
        if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
          pool.shutdownNow();
        }
      } catch (InterruptedException e) {
        pool.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  private void handle(HttpExchange exchange) {
    try (exchange) {
      String peer = String.valueOf(exchange.getRemoteAddress());
      String mediaType = mediaType(exchange.getRequestHeaders().getFirst("Content-Type"));
      boolean protobuf = PROTOBUF.equals(mediaType);
      if (Boolean.TRUE.equals(OVERLOADED.get())) {
        String why = "flowtrace has too many requests in flight; retry later";
        ingest.refuse(DropReason.OVERLOADED, peer, why);
        retryLater(exchange, 503, Code.UNAVAILABLE, why, protobuf);
        return;
      }
      String path = exchange.getRequestURI().getPath();
      if (!PATH.equals(path)) {
        respond(exchange, 404, status(Code.NOT_FOUND, "no such path " + path + "; OTLP traces go to POST "
            + PATH), protobuf);
        return;
      }
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.getResponseHeaders().set("Allow", "POST");
        respond(exchange, 405, status(Code.UNIMPLEMENTED, "method " + exchange.getRequestMethod()
            + " is not allowed on " + PATH + "; use POST"), protobuf);
        return;
      }
      if (!protobuf && !JSON.equals(mediaType)) {
        String why = "unsupported Content-Type '" + exchange.getRequestHeaders().getFirst("Content-Type")
            + "'; send " + PROTOBUF + " or " + JSON;
        ingest.refuse(DropReason.UNDECODABLE, peer, why);
        respond(exchange, 415, status(Code.INVALID_ARGUMENT, why), false);
        return;
      }
      String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
      boolean gzip = encoding != null && encoding.trim().equalsIgnoreCase("gzip");
      if (encoding != null && !gzip && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
        String why = "unsupported Content-Encoding '" + encoding + "'; send gzip or none";
        ingest.refuse(DropReason.UNDECODABLE, peer, why);
        respond(exchange, 415, status(Code.INVALID_ARGUMENT, why), protobuf);
        return;
      }
      if (ingest.queue().isFull()) {
        String why = "flowtrace cannot keep up: its queue is full (" + ingest.queue().capacity()
            + " spans); retry later";
        ingest.refuse(DropReason.OVERLOADED, peer, why);
        retryLater(exchange, 429, Code.RESOURCE_EXHAUSTED, why, protobuf);
        return;
      }
      long declared = contentLength(exchange);
      if (declared > maxBodyBytes) {
        tooLarge(exchange, peer, "body of " + declared + " bytes exceeds the limit of " + maxBodyBytes
            + " bytes", protobuf);
        return;
      }
      byte[] body = readAtMost(exchange.getRequestBody(), maxBodyBytes);
      if (body == null) {
        tooLarge(exchange, peer, "body exceeds the limit of " + maxBodyBytes + " bytes", protobuf);
        return;
      }
      if (gzip) {
        try {
          body = readAtMost(new GZIPInputStream(new java.io.ByteArrayInputStream(body)), maxBodyBytes);
        } catch (ZipException | java.io.EOFException e) {
          undecodable(exchange, peer, "body is not valid gzip: " + e.getMessage(), protobuf);
          return;
        }
        if (body == null) {
          tooLarge(exchange, peer, "gzip body expands beyond the limit of " + maxBodyBytes + " bytes",
              protobuf);
          return;
        }
      }
      ExportTraceServiceRequest request;
      Function<OtlpSpans.InvalidId, String> describer;
      try {
        if (protobuf) {
          request = ExportTraceServiceRequest.parseFrom(body);
          describer = OtlpSpans.InvalidId::describe;
        } else {
          String json = new String(body, StandardCharsets.UTF_8);
          request = OtlpJson.parse(json);
          describer = OtlpJson.describer(json);
        }
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        undecodable(exchange, peer, "body is not an OTLP ExportTraceServiceRequest in "
            + (protobuf ? "protobuf" : "JSON") + ": " + e.getMessage(), protobuf);
        return;
      }
      OtlpIngest.Result result = ingest.ingest(request, describer, peer);
      switch (result.outcome()) {
        case ACCEPTED -> {
          ExportTraceServiceResponse.Builder response = ExportTraceServiceResponse.newBuilder();
          if (!result.message().isEmpty()) {
            response.setPartialSuccess(ExportTracePartialSuccess.newBuilder()
                .setRejectedSpans(result.rejected())
                .setErrorMessage(result.message()));
          }
          respond(exchange, 200, response.build(), protobuf);
        }
        case ALL_INVALID -> respond(exchange, 400, status(Code.INVALID_ARGUMENT, result.message()), protobuf);
        case OVERLOADED -> retryLater(exchange, 429, Code.RESOURCE_EXHAUSTED, result.message(), protobuf);
        case TOO_MANY_SPANS -> respond(exchange, 413, status(Code.INVALID_ARGUMENT, result.message()), protobuf);
        case CLOSED -> retryLater(exchange, 503, Code.UNAVAILABLE, result.message(), protobuf);
      }
    } catch (IOException | UncheckedIOException e) {
      // The client went away mid-exchange: nothing to answer, nothing was queued unless acknowledged.
      ingest.logOnce(DropReason.UNDECODABLE, String.valueOf(exchange.getRemoteAddress()),
          "I/O error while reading or answering: " + e);
    } catch (RuntimeException e) {
      ingest.logOnce(DropReason.UNDECODABLE, String.valueOf(exchange.getRemoteAddress()),
          "unexpected error: " + e);
      try {
        respond(exchange, 500, status(Code.INTERNAL, "internal error: " + e), false);
      } catch (IOException | RuntimeException ignored) {
        // headers may have gone already
      }
    }
  }

  private void undecodable(HttpExchange exchange, String peer, String why, boolean protobuf)
      throws IOException {
    ingest.refuse(DropReason.UNDECODABLE, peer, why);
    respond(exchange, 400, status(Code.INVALID_ARGUMENT, why), protobuf);
  }

  private void tooLarge(HttpExchange exchange, String peer, String why, boolean protobuf)
      throws IOException {
    ingest.refuse(DropReason.TOO_LARGE, peer, why);
    exchange.getResponseHeaders().set("Connection", "close");
    respond(exchange, 413, status(Code.INVALID_ARGUMENT, why), protobuf);
  }

  private void retryLater(HttpExchange exchange, int code, Code rpcCode, String why, boolean protobuf)
      throws IOException {
    long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    exchange.getResponseHeaders().set("Retry-After", Long.toString(seconds));
    Status status = status(rpcCode, why).toBuilder()
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(Durations.fromMillis(retryAfter.toMillis())).build()))
        .build();
    respond(exchange, code, status, protobuf);
  }

  private static Status status(Code code, String message) {
    return Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
  }

  private static void respond(HttpExchange exchange, int code, Message body, boolean protobuf)
      throws IOException {
    byte[] bytes = protobuf ? body.toByteArray() : json(body);
    exchange.getResponseHeaders().set("Content-Type", protobuf ? PROTOBUF : JSON);
    exchange.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** JSON as people read it: JsonFormat escapes {@code '} and {@code =}, Jackson rewrites them plainly. */
  private static byte[] json(Message body) throws IOException {
    return MAPPER.writeValueAsBytes(MAPPER.readTree(JSON_PRINTER.print(body)));
  }

  /** The media type without parameters, lower case, or {@code null}. */
  static String mediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
  }

  private static long contentLength(HttpExchange exchange) {
    String value = exchange.getRequestHeaders().getFirst("Content-Length");
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Reads the stream whole when it has at most {@code limit} bytes; returns {@code null} when it has more. */
  static byte[] readAtMost(InputStream in, int limit) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(limit, 64 * 1024) + 1);
    byte[] buffer = new byte[16 * 1024];
    long total = 0;
    int n;
    while ((n = in.read(buffer, 0, (int) Math.min(buffer.length, (long) limit + 1 - total))) > 0) {
      out.write(buffer, 0, n);
      total += n;
      if (total > limit) {
        return null;
      }
    }
    return out.toByteArray();
  }

  /** Builds and starts an {@link OtlpHttpReceiver}. */
  public static final class Builder extends ReceiverBuilder<Builder> {

    private Builder(BoundedTelemetryQueue queue) {
      super(queue, DEFAULT_PORT);
    }

    /** The largest body taken, after gzip expansion. Defaults to 16 MiB. */
    public Builder maxBodyBytes(int maxBodyBytes) {
      return maxRequestBytes(maxBodyBytes, "maxBodyBytes");
    }

    /** Binds the port and starts serving. */
    public OtlpHttpReceiver start() throws IOException {
      return new OtlpHttpReceiver(this);
    }
  }
}
