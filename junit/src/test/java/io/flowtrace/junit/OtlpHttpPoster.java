package io.flowtrace.junit;

import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collection;

/** Posts spans as an OTLP/HTTP exporter does: protobuf to {@code ENDPOINT/v1/traces}. */
final class OtlpHttpPoster implements SpanExporter {
  private final URI traces;
  private final HttpClient http = HttpClient.newHttpClient();

  OtlpHttpPoster(String endpoint) {
    this.traces = URI.create(endpoint + "/v1/traces");
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      TraceRequestMarshaler.create(spans).writeBinaryTo(body);
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(traces)
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200 ? CompletableResultCode.ofSuccess() : CompletableResultCode.ofFailure();
    } catch (IOException e) {
      return CompletableResultCode.ofFailure();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableResultCode.ofFailure();
    }
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }
}
