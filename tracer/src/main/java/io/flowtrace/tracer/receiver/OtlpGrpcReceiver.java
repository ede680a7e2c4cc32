package io.flowtrace.tracer.receiver;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import io.flowtrace.tracer.otlp.OtlpSpans;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An OTLP/gRPC trace receiver ({@code opentelemetry.proto.collector.trace.v1.TraceService/Export})
 * on grpc-netty, plaintext. Answers as the OTLP specification says: OK with a {@code
 * partial_success} when some spans had invalid ids; {@code INVALID_ARGUMENT} when every span did;
 * {@code RESOURCE_EXHAUSTED} with a {@code RetryInfo} (retryable) when the queue cannot take the
 * request's spans now, and without one (not retryable) when the request alone has more spans than
 * the queue holds; {@code UNAVAILABLE} while shutting down. Messages larger than the limit are
 * refused by gRPC itself ({@code RESOURCE_EXHAUSTED}); gzip-compressed messages are accepted.
 */
public final class OtlpGrpcReceiver implements Closeable {

  /** Default host: {@code 127.0.0.1} (loopback only). */
  public static final String DEFAULT_HOST = ReceiverBuilder.DEFAULT_HOST;
  /** Default port: 4317, the OTLP/gRPC port. */
  public static final int DEFAULT_PORT = 4317;
  /** Default inbound message size limit: 16 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = ReceiverBuilder.DEFAULT_MAX_REQUEST_BYTES;
  /** Default number of call threads: 4. */
  public static final int DEFAULT_THREADS = ReceiverBuilder.DEFAULT_THREADS;
  /** Default number of calls that may wait for a thread: 64. */
  public static final int DEFAULT_BACKLOG = ReceiverBuilder.DEFAULT_BACKLOG;
  /** Default concurrent calls per connection: 16. */
  public static final int DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION = 16;
  /** Default retry hint sent with {@code RESOURCE_EXHAUSTED}: 1 s. */
  public static final Duration DEFAULT_RETRY_AFTER = ReceiverBuilder.DEFAULT_RETRY_AFTER;

  private final Server server;
  private final ThreadPoolExecutor pool;
  private final OtlpIngest ingest;
  private final Duration retryAfter;
  private final AtomicBoolean closed = new AtomicBoolean();

  private OtlpGrpcReceiver(Builder b) throws IOException {
    this.ingest = new OtlpIngest(b.queue, "OTLP/gRPC receiver");
    this.retryAfter = b.retryAfter;
    // A full backlog runs the call on the transport thread: export never blocks (it decodes and
    // offers), so this slows reading from clients instead of queueing calls without bound.
    this.pool = new ThreadPoolExecutor(b.threads, b.threads, 0, TimeUnit.MILLISECONDS,
        b.backlog == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(b.backlog),
        ReceiverBuilder.daemonThreads("flowtrace-otlp-grpc"), new ThreadPoolExecutor.CallerRunsPolicy());
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress(b.host, b.port))
        .executor(pool)
        .maxInboundMessageSize(b.maxRequestBytes)
        .maxConcurrentCallsPerConnection(b.maxConcurrentCallsPerConnection)
        .addService(ServerInterceptors.intercept(new Service(), new PeerInterceptor()))
        .build()
        .start();
  }

  /** A builder that offers received spans to {@code queue}. */
  public static Builder builder(BoundedTelemetryQueue queue) {
    return new Builder(queue);
  }

  /** The bound port (the real one when 0 was asked for). */
  public int port() {
    return server.getPort();
  }

  /** The address the server is bound to. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().get(0);
  }

  /** Stops taking calls, lets running ones finish (up to 5 s). Spans already queued stay queued. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
          server.awaitTermination(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        server.shutdownNow();
        Thread.currentThread().interrupt();
      }
      pool.shutdownNow();
    }
  }

  private static final io.grpc.Context.Key<String> PEER = io.grpc.Context.key("flowtrace-peer");

  /** Puts the client's address into the call context, for log lines. */
  private static final class PeerInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      io.grpc.Context context = io.grpc.Context.current()
          .withValue(PEER, String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
      return io.grpc.Contexts.interceptCall(context, call, headers, next);
    }
  }

  private final class Service extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> observer) {
      String peer = PEER.get();
      OtlpIngest.Result result;
      try {
        result = ingest.ingest(request, OtlpSpans.InvalidId::describe, peer == null ? "?" : peer);
      } catch (RuntimeException e) {
        ingest.logOnce(DropReason.UNDECODABLE, peer, "unexpected error: " + e);
        observer.onError(StatusProto.toStatusRuntimeException(
            Status.newBuilder().setCode(Code.INTERNAL_VALUE).setMessage("internal error: " + e).build()));
        return;
      }
      switch (result.outcome()) {
        case ACCEPTED -> {
          ExportTraceServiceResponse.Builder response = ExportTraceServiceResponse.newBuilder();
          if (!result.message().isEmpty()) {
            response.setPartialSuccess(ExportTracePartialSuccess.newBuilder()
                .setRejectedSpans(result.rejected())
                .setErrorMessage(result.message()));
          }
          observer.onNext(response.build());
          observer.onCompleted();
        }
        case ALL_INVALID -> observer.onError(error(Code.INVALID_ARGUMENT, result.message(), false));
        case OVERLOADED -> observer.onError(error(Code.RESOURCE_EXHAUSTED, result.message(), true));
        case TOO_MANY_SPANS -> observer.onError(error(Code.RESOURCE_EXHAUSTED, result.message(), false));
        case CLOSED -> observer.onError(error(Code.UNAVAILABLE, result.message(), true));
      }
    }
  }

  private RuntimeException error(Code code, String message, boolean retry) {
    Status.Builder status = Status.newBuilder().setCode(code.getNumber()).setMessage(message);
    if (retry) {
      status.addDetails(Any.pack(RetryInfo.newBuilder()
          .setRetryDelay(Durations.fromMillis(retryAfter.toMillis())).build()));
    }
    return StatusProto.toStatusRuntimeException(status.build());
  }

  /** Builds and starts an {@link OtlpGrpcReceiver}; the common settings are described in their setters. */
  public static final class Builder extends ReceiverBuilder<Builder> {
    private int maxConcurrentCallsPerConnection = DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION;

    private Builder(BoundedTelemetryQueue queue) {
      super(queue, DEFAULT_PORT);
    }

    /** The largest message taken (after decompression). Defaults to 16 MiB. */
    public Builder maxMessageBytes(int maxMessageBytes) {
      return maxRequestBytes(maxMessageBytes, "maxMessageBytes");
    }

    /** Concurrent calls per client connection. Defaults to 16. */
    public Builder maxConcurrentCallsPerConnection(int calls) {
      if (calls < 1) {
        throw new IllegalArgumentException("maxConcurrentCallsPerConnection must be at least 1, was " + calls);
      }
      this.maxConcurrentCallsPerConnection = calls;
      return this;
    }

    /** Binds the port and starts serving. */
    public OtlpGrpcReceiver start() throws IOException {
      return new OtlpGrpcReceiver(this);
    }
  }
}
