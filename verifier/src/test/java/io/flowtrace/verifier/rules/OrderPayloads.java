package io.flowtrace.verifier.rules;

import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Payloads of one instance of the reference order flow, as the contract describes them. */
final class OrderPayloads {

  static final JsonMapper JSON = JsonMapper.builder().build();

  /** The event ids of the reference flow: the variables of its rules. */
  static final java.util.Set<String> EVENT_IDS =
      java.util.Set.of(
          "client_request", "orders_requested", "inventory_request", "inventory_reply",
          "orders_created", "payment_request", "payment_response", "webhook",
          "orders_confirmed", "orders_cancelled", "email");

  private OrderPayloads() {}

  static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  /** Two items, 2 × 12.5 + 1 × 74.5 = 99.5 USD. */
  static JsonNode ordersCreated() {
    return json(
        """
        {"orderId": "ord-7", "requestId": "9f1c2d3e-0000-4000-8000-000000000001",
         "userId": "u-42", "userEmail": "ann@example.com", "userName": "Ann Lee",
         "items": [{"productId": "p-1", "quantity": 2, "unitPrice": 12.5},
                   {"productId": "p-2", "quantity": 1, "unitPrice": 74.5}],
         "total": 99.5, "currency": "USD", "status": "pending"}
        """);
  }

  static JsonNode paymentRequest() {
    return json("""
        {"amount": 99.5, "currency": "USD", "orderId": "ord-7"}
        """);
  }

  static JsonNode paymentResponse(String status) {
    return json(
        """
        {"transactionId": "tx-1001", "status": "%s", "authCode": "A1"}
        """
            .formatted(status));
  }

  static JsonNode ordersConfirmed() {
    return json(
        """
        {"orderId": "ord-7", "transactionId": "tx-1001", "status": "confirmed",
         "confirmedAt": "2025-05-01T10:00:01.250Z"}
        """);
  }

  /** The Avro e-mail request as the decoder turns it into a tree. */
  static JsonNode email(String template) {
    return json(
        """
        {"to": "ann@example.com", "template": "%s",
         "data": {"orderId": "ord-7", "customerName": "Ann Lee", "total": 99.5}}
        """
            .formatted(template));
  }

  /** A consistent, authorized instance up to the e-mail. */
  static Map<String, JsonNode> authorizedFlow() {
    Map<String, JsonNode> b = new LinkedHashMap<>();
    b.put("orders_created", ordersCreated());
    b.put("payment_request", paymentRequest());
    b.put("payment_response", paymentResponse("authorized"));
    b.put("orders_confirmed", ordersConfirmed());
    b.put("email", email("order_confirmation"));
    return b;
  }
}
