package io.flowtrace.example.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class OrderSystemTest {

  @Test
  void framesWithMagicZeroAndSchemaIdOne() {
    byte[] bytes = EmailCodec.encode("alice@example.com", "order_confirmation", "ord-1", "Alice Example", 45.48);
    assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 0, 0, 0, 1);
    GenericRecord email = EmailCodec.decode(bytes);
    assertThat(email.get("to")).hasToString("alice@example.com");
    assertThat(email.get("template")).hasToString("order_confirmation");
    GenericRecord data = (GenericRecord) email.get("data");
    assertThat(data.get("orderId")).hasToString("ord-1");
    assertThat(data.get("customerName")).hasToString("Alice Example");
    assertThat(data.get("total")).isEqualTo(45.48);
  }

  @Test
  void theBrokenEmailDoesNotDecodeWithTheRegisteredSchema() {
    byte[] bytes = EmailCodec.encodeBroken("order_confirmation", "ord-1", 45.48);
    assertThat(Arrays.copyOf(bytes, 5)).containsExactly(0, 0, 0, 0, 1);
    assertThatThrownBy(() -> EmailCodec.decode(bytes)).isInstanceOf(RuntimeException.class);
  }

  @Test
  void rejectsAnotherSchemaId() {
    byte[] bytes = EmailCodec.encode("a@example.com", "order_cancelled", "ord-1", "A", 1.0);
    bytes[4] = 2;
    assertThatThrownBy(() -> EmailCodec.decode(bytes)).hasMessage("schema id 2, expected 1");
  }

  @Test
  void theProviderDeclinesAmountsWhoseCentsAre13() {
    assertThat(PaymentProvider.declines(new BigDecimal("7.13"))).isTrue();
    assertThat(PaymentProvider.declines(new BigDecimal("113.13"))).isTrue();
    assertThat(PaymentProvider.declines(new BigDecimal("7.14"))).isFalse();
    assertThat(PaymentProvider.declines(new BigDecimal("13.00"))).isFalse();
  }

  @Test
  void aScopedDefectIsOnOnlyForOrdersWithItsProduct() {
    DefectSwitches switches = DefectSwitches.parse("WRONG_TOTAL@P-902, slow_notification, WRONG_TOTAL@P-903");
    var withP902 = Json.read("[{\"productId\":\"P-100\",\"quantity\":1},{\"productId\":\"P-902\",\"quantity\":1}]"
        );
    var plain = Json.read("[{\"productId\":\"P-100\",\"quantity\":1}]");
    assertThat(switches.on(Defect.WRONG_TOTAL, withP902)).isTrue();
    assertThat(switches.on(Defect.WRONG_TOTAL, plain)).isFalse();
    assertThat(switches.on(Defect.SLOW_NOTIFICATION, plain)).isTrue();
    assertThat(switches.on(Defect.NO_NOTIFICATION, withP902)).isFalse();
    assertThat(switches.any(Defect.WRONG_TOTAL)).isTrue();
    assertThat(switches).hasToString("[WRONG_TOTAL@P-902|P-903, SLOW_NOTIFICATION]");
    assertThat(DefectSwitches.parse("WRONG_TOTAL@P-902,WRONG_TOTAL").on(Defect.WRONG_TOTAL, plain)).isTrue();
    assertThatThrownBy(() -> DefectSwitches.parse("WRONG_TOTAL@"))
        .hasMessage("defect 'WRONG_TOTAL@' has an empty product after '@'");
    assertThatThrownBy(() -> DefectSwitches.parse("TYPO@P-1")).hasMessageStartingWith("unknown defect 'TYPO'");
  }

  @Test
  void anUnknownDefectIsNamed() {
    assertThat(Defect.parse(" wrong_total , SLOW_NOTIFICATION,")).containsExactlyInAnyOrder(
        Defect.WRONG_TOTAL, Defect.SLOW_NOTIFICATION);
    assertThatThrownBy(() -> Defect.parse("WRONG_TOTAL,TYPO"))
        .hasMessage("unknown defect 'TYPO'; known: [DROP_ENRICHMENT, WRONG_TOTAL, PAYMENT_AMOUNT_MISMATCH, "
            + "NON_IDEMPOTENT_WEBHOOK, LOSE_TRACEPARENT, SLOW_NOTIFICATION, NO_NOTIFICATION, BROKEN_EMAIL_SCHEMA]");
  }
}
