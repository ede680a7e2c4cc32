package io.flowtrace.tracer.receiver;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The settings {@link OtlpHttpReceiver.Builder} and {@link OtlpGrpcReceiver.Builder} share, with
 * one validation for both: where to listen, how many request threads and how many requests may
 * wait for one, the largest request, and the retry hint sent when overloaded. Package-private: not
 * API (the receivers' builders are).
 */
abstract class ReceiverBuilder<B extends ReceiverBuilder<B>> {

  /** Default host: {@code 127.0.0.1} (loopback only). */
  static final String DEFAULT_HOST = "127.0.0.1";
  /** Default largest request, after decompression: 16 MiB. */
  static final int DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
  /** Default number of request threads: 4. */
  static final int DEFAULT_THREADS = 4;
  /** Default number of requests that may wait for a thread: 64. */
  static final int DEFAULT_BACKLOG = 64;
  /** Default retry hint sent when overloaded: 1 s. */
  static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  final BoundedTelemetryQueue queue;
  String host = DEFAULT_HOST;
  int port;
  int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
  int threads = DEFAULT_THREADS;
  int backlog = DEFAULT_BACKLOG;
  Duration retryAfter = DEFAULT_RETRY_AFTER;

  ReceiverBuilder(BoundedTelemetryQueue queue, int defaultPort) {
    this.queue = requireNonNull(queue, "queue");
    this.port = defaultPort;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** The interface to bind. Defaults to {@code 127.0.0.1}; {@code 0.0.0.0} listens on all. */
  public B host(String host) {
    this.host = requireNonNull(host, "host");
    return self();
  }

  /** The port. Defaults to the protocol's OTLP port; 0 takes any free port (see the receiver's {@code port()}). */
  public B port(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, was " + port);
    }
    this.port = port;
    return self();
  }

  /** Request threads. Defaults to 4. */
  public B threads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, was " + threads);
    }
    this.threads = threads;
    return self();
  }

  /**
   * Requests that may wait for a thread; beyond them the receiver pushes back (HTTP answers 503,
   * gRPC runs the call on its transport thread, slowing that client). 0 waits for none. Defaults to 64.
   */
  public B backlog(int backlog) {
    if (backlog < 0) {
      throw new IllegalArgumentException("backlog must not be negative, was " + backlog);
    }
    this.backlog = backlog;
    return self();
  }

  /** The retry hint sent when the queue or the server is full. Defaults to 1 s. */
  public B retryAfter(Duration retryAfter) {
    requireNonNull(retryAfter, "retryAfter");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    this.retryAfter = retryAfter;
    return self();
  }

  /** Sets the largest request; {@code name} is the setting as the receiver's builder calls it. */
  B maxRequestBytes(int bytes, String name) {
    if (bytes < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, was " + bytes);
    }
    this.maxRequestBytes = bytes;
    return self();
  }

  /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger number = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + "-" + number.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
