package io.flowtrace.tracer.spill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.flowtrace.tracer.model.Span;
import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.tracer.model.SpanLink;
import io.flowtrace.tracer.model.Telemetry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TelemetryCodecTest {

  @Test
  void spansAndRecordsSurviveASpillRoundTrip() throws IOException {
    Span span = new Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "", "POST /api/orders",
        SpanKind.SERVER, "gateway", 1, 2,
        Map.of("s", "text", "l", 42L, "d", 1.5, "b", true, "a", List.of("x", 1L)),
        List.of(new SpanLink("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Map.of("k", "v"))), true);
    KafkaRecord record = new KafkaRecord("notifications.email", 2, 9, 1234, null,
        List.of(new RecordHeader("apicurio.value.globalId", new byte[] {0, 0, 0, 0, 0, 0, 0, 1}),
            new RecordHeader("empty", null)),
        new byte[] {0, 0, 0, 0, 1, 2, 3});
    KafkaRecord tombstone = new KafkaRecord("orders.created", 0, 1, 5, "k", List.of(), null);

    List<Telemetry> back = roundTrip(Telemetry.of(span), Telemetry.of(record), Telemetry.of(tombstone));

    assertThat(back).containsExactly(Telemetry.of(span), Telemetry.of(record), Telemetry.of(tombstone));
  }

  @Test
  void aCorruptFileFailsWithAClearErrorInsteadOfAllocating() {
    byte[] corrupt = {2, 0, 0, 0, 5, 'o', 'r', 'd', 'e', 'r', 0x7f, 0x7f, 0x7f, 0x7f};
    byte[] badTag = {9};

    assertThatThrownBy(() -> TelemetryCodec.read(new DataInputStream(new ByteArrayInputStream(badTag))))
        .isInstanceOf(IOException.class).hasMessage("corrupt spill file: unknown tag 9");
    assertThatThrownBy(() -> TelemetryCodec.read(new DataInputStream(new ByteArrayInputStream(corrupt))))
        .isInstanceOf(IOException.class);
  }

  private static List<Telemetry> roundTrip(Telemetry... items) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      for (Telemetry t : items) {
        TelemetryCodec.write(t, out);
      }
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    java.util.ArrayList<Telemetry> back = new java.util.ArrayList<>();
    for (int i = 0; i < items.length; i++) {
      back.add(TelemetryCodec.read(in));
    }
    assertThat(in.available()).isZero();
    return back;
  }
}
