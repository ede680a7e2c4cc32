package io.flowtrace.tracer;

import com.google.protobuf.ByteString;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/** Fixed sample telemetry of the reference order flow, for unit tests. */
public final class TestObjects {

  public static final String TRACE_ID = "5b8efff798038103d269b633813fc60c";
  public static final String SERVER_SPAN_ID = "eee19b7ec3c1b174";
  public static final String PRODUCER_SPAN_ID = "a1b2c3d4e5f60718";
  public static final long START_NANOS = 1_732_530_000_000_000_000L;
  public static final String TRACEPARENT = "00-" + TRACE_ID + "-" + PRODUCER_SPAN_ID + "-01";

  /** Confluent wire format: magic 0, schema id 1, then Avro binary (a 3-char string "a@b"). */
  public static final byte[] AVRO_VALUE = {0x00, 0x00, 0x00, 0x00, 0x01, 0x06, 'a', '@', 'b', (byte) 0xff};

  private TestObjects() {}

  public static ByteString id(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }

  public static KeyValue attribute(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }

  public static KeyValue attribute(String key, long value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setIntValue(value)).build();
  }

  public static KeyValue attribute(String key, AnyValue value) {
    return KeyValue.newBuilder().setKey(key).setValue(value).build();
  }

  /** A span of {@link #TRACE_ID} with the given ids (parent may be empty) and name. */
  public static Span.Builder span(String spanId, String parentSpanId, String name, Span.SpanKind kind) {
    return Span.newBuilder()
        .setTraceId(id(TRACE_ID))
        .setSpanId(id(spanId))
        .setParentSpanId(id(parentSpanId))
        .setName(name)
        .setKind(kind)
        .setStartTimeUnixNano(START_NANOS)
        .setEndTimeUnixNano(START_NANOS + 1_000_000);
  }

  public static ResourceSpans resourceSpans(String service, Span.Builder... spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (Span.Builder span : spans) {
      scope.addSpans(span);
    }
    return ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(attribute("service.name", service)))
        .addScopeSpans(scope)
        .build();
  }

  public static ExportTraceServiceRequest request(String service, Span.Builder... spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(resourceSpans(service, spans)).build();
  }

  /** The gateway's SERVER span and its PRODUCER child, as the agent would export them. */
  public static ExportTraceServiceRequest gatewayRequest() {
    return request("gateway",
        span(SERVER_SPAN_ID, "", "POST /api/orders", Span.SpanKind.SPAN_KIND_SERVER)
            .addAttributes(attribute("http.request.method", "POST"))
            .addAttributes(attribute("http.response.status_code", 201)),
        span(PRODUCER_SPAN_ID, SERVER_SPAN_ID, "send orders.requested", Span.SpanKind.SPAN_KIND_PRODUCER)
            .addAttributes(attribute("messaging.system", "kafka"))
            .addAttributes(attribute("messaging.destination.name", "orders.requested")));
  }

  /** An {@code orders.created} record with a JSON value and a traceparent header. */
  public static KafkaRecord orderCreated() {
    return new KafkaRecord("orders.created", 0, 42, 1_732_530_000_123L, "o-1",
        List.of(RecordHeader.ofString("traceparent", TRACEPARENT)),
        "{\"orderId\":\"o-1\",\"userName\":\"Zoë\",\"currency\":\"EUR\",\"total\":12.5}"
            .getBytes(StandardCharsets.UTF_8));
  }

  /** A {@code notifications.email} record: Avro, no key, two headers (one without a value). */
  public static KafkaRecord emailNotification() {
    return new KafkaRecord("notifications.email", 3, 7, 1_732_530_001_000L, null,
        List.of(RecordHeader.ofString("traceparent", TRACEPARENT), new RecordHeader("retry", null)),
        AVRO_VALUE);
  }
}
