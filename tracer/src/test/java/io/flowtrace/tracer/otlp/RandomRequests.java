package io.flowtrace.tracer.otlp;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.EntityRef;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.Random;

/**
 * Random {@code ExportTraceServiceRequest}s that use every field of the OTLP trace messages, with
 * the values that test a reader: ids of wrong length or all zeros, unknown enum numbers, 64-bit
 * values beyond {@code Long.MAX_VALUE} (unsigned), NaN and -0.0, nested array and key-value list
 * values, text with quotes, escapes, control characters and non-BMP characters.
 */
final class RandomRequests {

  private static final String[] WORDS = {"gateway", "order-service", "POST /api/orders", "send orders.created",
      "http.request.body", "service.name", "messaging.kafka.offset", "", " ", "a\"quoted\"", "back\\slash",
      "tab\there", "new\nline", "nul\u0000", "\u0001\u001f", "caf\u00e9", "\u4e2d\u6587", "\uD83D\uDE80 rocket",
      "{\"items\":[{\"productId\":\"p-1\",\"quantity\":2}]}", "</script>", "\u2028\u2029", "x".repeat(70)};

  private final Random random;

  RandomRequests(Random random) {
    this.random = random;
  }

  ExportTraceServiceRequest request() {
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    int resources = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(3);
    for (int r = 0; r < resources; r++) {
      request.addResourceSpans(resourceSpans());
    }
    return request.build();
  }

  private ResourceSpans resourceSpans() {
    ResourceSpans.Builder rs = ResourceSpans.newBuilder();
    if (random.nextInt(8) != 0) {
      Resource.Builder resource = Resource.newBuilder();
      int before = random.nextInt(3);
      for (int i = 0; i < before; i++) {
        resource.addAttributes(keyValue(1));
      }
      switch (random.nextInt(6)) {
        case 0 -> { } // no service.name
        case 1 -> resource.addAttributes(KeyValue.newBuilder().setKey(OtlpSpans.SERVICE_NAME)
            .setValue(AnyValue.newBuilder().setIntValue(7)));
        case 2 -> resource.addAttributes(KeyValue.newBuilder().setKey(OtlpSpans.SERVICE_NAME)
            .setValue(AnyValue.newBuilder().setStringValue(word())))
            .addAttributes(KeyValue.newBuilder().setKey(OtlpSpans.SERVICE_NAME)
            .setValue(AnyValue.newBuilder().setStringValue("second " + word())));
        default -> resource.addAttributes(KeyValue.newBuilder().setKey(OtlpSpans.SERVICE_NAME)
            .setValue(AnyValue.newBuilder().setStringValue(word())));
      }
      int after = random.nextInt(3);
      for (int i = 0; i < after; i++) {
        resource.addAttributes(keyValue(1));
      }
      if (random.nextInt(4) == 0) {
        resource.setDroppedAttributesCount(random.nextInt());
      }
      if (random.nextInt(3) == 0) {
        resource.addEntityRefs(EntityRef.newBuilder().setType("service").setSchemaUrl(word())
            .addIdKeys(OtlpSpans.SERVICE_NAME).addDescriptionKeys("service.version"));
      }
      rs.setResource(resource);
    }
    int scopes = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(2);
    for (int s = 0; s < scopes; s++) {
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      if (random.nextBoolean()) {
        InstrumentationScope.Builder is = InstrumentationScope.newBuilder().setName(word()).setVersion(word());
        if (random.nextInt(3) == 0) {
          is.addAttributes(keyValue(1)).setDroppedAttributesCount(random.nextInt(3));
        }
        scope.setScope(is);
      }
      int spans = random.nextInt(5);
      for (int i = 0; i < spans; i++) {
        scope.addSpans(span());
      }
      if (random.nextBoolean()) {
        scope.setSchemaUrl("https://opentelemetry.io/schemas/1.24.0");
      }
      rs.addScopeSpans(scope);
    }
    if (random.nextBoolean()) {
      rs.setSchemaUrl("https://opentelemetry.io/schemas/1." + random.nextInt(30) + ".0");
    }
    return rs.build();
  }

  private Span span() {
    Span.Builder span = Span.newBuilder()
        .setTraceId(id(16))
        .setSpanId(id(8))
        .setName(word())
        .setStartTimeUnixNano(time())
        .setEndTimeUnixNano(time());
    switch (random.nextInt(4)) {
      case 0 -> { } // root
      case 1 -> span.setParentSpanId(random.nextInt(4) == 0 ? ByteString.copyFrom(new byte[8]) : id(8));
      default -> span.setParentSpanId(id(8));
    }
    span.setKindValue(random.nextInt(10) == 0 ? random.nextInt(20) - 5 : random.nextInt(6));
    if (random.nextInt(3) == 0) {
      span.setTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    }
    if (random.nextBoolean()) {
      span.setFlags(random.nextInt(4) == 0 ? random.nextInt() : 0x100 | random.nextInt(4));
    }
    int attributes = random.nextInt(6);
    for (int i = 0; i < attributes; i++) {
      span.addAttributes(keyValue(0));
    }
    if (random.nextInt(5) == 0) {
      span.setDroppedAttributesCount(random.nextInt(5));
    }
    int events = random.nextInt(6) == 0 ? 1 + random.nextInt(2) : 0;
    for (int i = 0; i < events; i++) {
      Span.Event.Builder event = Span.Event.newBuilder().setName(word()).setTimeUnixNano(time());
      if (random.nextBoolean()) {
        event.addAttributes(keyValue(1));
      }
      if (random.nextInt(4) == 0) {
        event.setDroppedAttributesCount(1);
      }
      span.addEvents(event);
    }
    if (random.nextInt(6) == 0) {
      span.setDroppedEventsCount(random.nextInt(9));
    }
    int links = random.nextInt(4) == 0 ? 1 + random.nextInt(2) : 0;
    for (int i = 0; i < links; i++) {
      Span.Link.Builder link = Span.Link.newBuilder().setTraceId(id(16)).setSpanId(id(8));
      if (random.nextBoolean()) {
        link.addAttributes(keyValue(0));
      }
      if (random.nextInt(3) == 0) {
        link.setFlags(0x101).setTraceState("k=v").setDroppedAttributesCount(2);
      }
      span.addLinks(link);
    }
    if (random.nextInt(6) == 0) {
      span.setDroppedLinksCount(random.nextInt(3));
    }
    switch (random.nextInt(5)) {
      case 0 -> { } // no status
      case 1 -> span.setStatus(Status.getDefaultInstance());
      case 2 -> span.setStatus(Status.newBuilder().setCodeValue(random.nextInt(5)).setMessage(word()));
      default -> span.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage(word()));
    }
    return span.build();
  }

  /** An id of the given length; now and then empty, all zeros or of another length. */
  ByteString id(int length) {
    int pick = random.nextInt(30);
    byte[] bytes;
    if (pick == 0) {
      return ByteString.EMPTY;
    } else if (pick == 1) {
      bytes = new byte[length];
    } else if (pick == 2) {
      bytes = new byte[1 + random.nextInt(20)];
      random.nextBytes(bytes);
    } else {
      bytes = new byte[length];
      random.nextBytes(bytes);
    }
    return ByteString.copyFrom(bytes);
  }

  private long time() {
    return switch (random.nextInt(8)) {
      case 0 -> 0;
      case 1 -> random.nextLong(); // half of them beyond Long.MAX_VALUE as unsigned
      default -> 1_732_530_000_000_000_000L + random.nextInt(1_000_000_000);
    };
  }

  private KeyValue keyValue(int depth) {
    KeyValue.Builder kv = KeyValue.newBuilder().setKey(random.nextInt(10) == 0 ? "dup" : word());
    if (random.nextInt(12) != 0) {
      kv.setValue(anyValue(depth));
    }
    return kv.build();
  }

  AnyValue anyValue(int depth) {
    AnyValue.Builder v = AnyValue.newBuilder();
    int pick = random.nextInt(depth > 2 ? 6 : 9);
    switch (pick) {
      case 0, 1 -> v.setStringValue(word());
      case 2 -> v.setBoolValue(random.nextBoolean());
      case 3 -> v.setIntValue(switch (random.nextInt(5)) {
        case 0 -> Long.MIN_VALUE;
        case 1 -> Long.MAX_VALUE;
        case 2 -> 9_007_199_254_740_993L;
        default -> random.nextInt(2000) - 1000;
      });
      case 4 -> v.setDoubleValue(switch (random.nextInt(8)) {
        case 0 -> Double.NaN;
        case 1 -> Double.POSITIVE_INFINITY;
        case 2 -> -0.0;
        case 3 -> Double.MIN_VALUE;
        case 4 -> Double.MAX_VALUE;
        default -> random.nextGaussian() * 1000;
      });
      case 5 -> {
        byte[] bytes = new byte[random.nextInt(7)];
        random.nextBytes(bytes);
        v.setBytesValue(ByteString.copyFrom(bytes));
      }
      case 6 -> {
        ArrayValue.Builder array = ArrayValue.newBuilder();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          array.addValues(random.nextInt(8) == 0 ? AnyValue.getDefaultInstance() : anyValue(depth + 1));
        }
        v.setArrayValue(array);
      }
      case 7 -> {
        KeyValueList.Builder list = KeyValueList.newBuilder();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          list.addValues(keyValue(depth + 1));
        }
        v.setKvlistValue(list);
      }
      default -> v.setStringValueStrindex(random.nextInt(5));
    }
    return v.build();
  }

  String word() {
    return WORDS[random.nextInt(WORDS.length)];
  }
}
