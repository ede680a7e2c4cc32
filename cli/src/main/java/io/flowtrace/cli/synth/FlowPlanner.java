package io.flowtrace.cli.synth;

import io.flowtrace.cli.synth.FlowPlan.ConsumerParent;
import io.flowtrace.cli.synth.FlowPlan.PlannedRecord;
import io.flowtrace.cli.synth.FlowPlan.PlannedSpan;
import io.flowtrace.cli.synth.FlowPlan.Scope;
import io.opentelemetry.api.trace.SpanKind;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Plans one order flow of the reference contract ({@code shared/reference-order-flow.md}): who
 * does what when, with which payloads, and where the planted {@link Defect} bends it. Everything
 * random comes from the flow's own generator, so a flow depends only on the seed and its index.
 */
final class FlowPlanner {

  static final String ORDERS_REQUESTED = "orders.requested";
  static final String INVENTORY_REQUESTS = "inventory.requests";
  static final String INVENTORY_REPLIES = "inventory.replies";
  static final String ORDERS_CREATED = "orders.created";
  static final String ORDERS_CONFIRMED = "orders.confirmed";
  static final String ORDERS_CANCELLED = "orders.cancelled";
  static final String NOTIFICATIONS_EMAIL = "notifications.email";

  /** Every topic, in the order {@code kafka-topics --list} prints them (a dump goes topic by topic). */
  static final List<String> TOPICS = List.of(
      INVENTORY_REPLIES, INVENTORY_REQUESTS, NOTIFICATIONS_EMAIL, ORDERS_CANCELLED,
      ORDERS_CONFIRMED, ORDERS_CREATED, ORDERS_REQUESTED);

  static final String PAYMENT_URL = "http://payment-provider:8080/payments";

  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final DateTimeFormatter RFC_3339_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final long MS = 1_000_000L;
  private static final BigDecimal WRONG_TOTAL_EXTRA = new BigDecimal("10.00");
  private static final BigDecimal SHIPPING_FEE = new BigDecimal("4.99");

  private record Product(String productId, BigDecimal unitPrice) {}

  private record Person(String first, String last) {}

  private record Address(String address, String city, String zipCode) {}

  private static final List<Product> CATALOG = List.of(
      new Product("SKU-1001", new BigDecimal("24.99")),
      new Product("SKU-1002", new BigDecimal("9.49")),
      new Product("SKU-1003", new BigDecimal("89.00")),
      new Product("SKU-1004", new BigDecimal("229.99")),
      new Product("SKU-1005", new BigDecimal("39.95")),
      new Product("SKU-1006", new BigDecimal("59.90")),
      new Product("SKU-1007", new BigDecimal("74.50")),
      new Product("SKU-1008", new BigDecimal("32.15")),
      new Product("SKU-1009", new BigDecimal("3.99")),
      new Product("SKU-1010", new BigDecimal("12.30")),
      new Product("SKU-1011", new BigDecimal("17.75")),
      new Product("SKU-1012", new BigDecimal("0.10")));

  private static final List<Person> PEOPLE = List.of(
      new Person("Ada", "Lovelace"), new Person("Grace", "Hopper"), new Person("Alan", "Turing"),
      new Person("Katherine", "Johnson"), new Person("Edsger", "Dijkstra"), new Person("Barbara", "Liskov"),
      new Person("Donald", "Knuth"), new Person("Frances", "Allen"), new Person("Tony", "Hoare"),
      new Person("Margaret", "Hamilton"), new Person("Niklaus", "Wirth"), new Person("Radia", "Perlman"),
      new Person("Ken", "Thompson"), new Person("Hedy", "Lamarr"), new Person("John", "Backus"),
      new Person("Shafi", "Goldwasser"));

  private static final List<Address> ADDRESSES = List.of(
      new Address("221B Baker Street", "London", "NW1 6XE"),
      new Address("12 Rue de Rivoli", "Paris", "75001"),
      new Address("Unter den Linden 77", "Berlin", "10117"),
      new Address("1600 Amphitheatre Pkwy", "Mountain View", "94043"),
      new Address("Via del Corso 300", "Roma", "00186"),
      new Address("Kalverstraat 92", "Amsterdam", "1012 PH"),
      new Address("350 Fifth Avenue", "New York", "10118"),
      new Address("Gran Via 28", "Madrid", "28013"));

  private static final List<String> USER_AGENTS = List.of(
      "shop-web/4.12.0 (+https://shop.example)", "ShopApp/7.3.1 (iPhone; iOS 18.1)",
      "ShopApp/7.3.0 (Android 15; Pixel 8)");

  private final Topology topology;
  private final double declineRate;
  private final int partitions;
  private final EmailAvro avro = new EmailAvro();

  FlowPlanner(Topology topology, double declineRate, int partitions) {
    this.topology = topology;
    this.declineRate = declineRate;
    this.partitions = partitions;
  }

  /** Plans flow {@code index}, starting when the gateway receives its request. */
  FlowPlan plan(int index, long startNanos, Defect defect, SplittableRandom random) {
    // Every draw happens whatever the defect, so a flow with a defect and the same flow without
    // one share their data (ids, customer, items, timings) and differ only where the defect bends.
    boolean declinedDraw = random.nextDouble() < declineRate;
    Manifest.Payment payment;
    if (defect == Defect.DECLINED_BUT_CONFIRMED) {
      payment = Manifest.Payment.DECLINED;
    } else if (defect != null) {
      payment = Manifest.Payment.AUTHORIZED;
    } else {
      payment = declinedDraw ? Manifest.Payment.DECLINED : Manifest.Payment.AUTHORIZED;
    }
    String requestId = uuid(random);
    String orderId = "ord-" + hex(random, 16);
    FlowPlan flow = new FlowPlan(index, startNanos, defect, payment, requestId, orderId, partitions);
    new FlowBuilder(flow, random).build();
    return flow;
  }

  /** Builds one flow's spans and records, stage by stage. */
  private final class FlowBuilder {
    private final FlowPlan flow;
    private final Defect defect;
    private final SplittableRandom random;
    private final int traceFlags;

    FlowBuilder(FlowPlan flow, SplittableRandom random) {
      this.flow = flow;
      this.defect = flow.defect;
      this.random = random;
      // W3C level 2 "random trace id" flag: some producers send 03 rather than 01.
      this.traceFlags = random.nextInt(100) < 15 ? 0x03 : 0x01;
    }

    void build() {
      // ---- the order's data -------------------------------------------------------------------
      Person person = PEOPLE.get(random.nextInt(PEOPLE.size()));
      String userId = "user-" + random.nextInt(10_000, 100_000);
      String userName = person.first() + " " + person.last();
      String userEmail = (person.first() + "." + person.last()).toLowerCase(Locale.ROOT) + "@example.com";
      String drawnCurrency = random.nextInt(4) == 0 ? "EUR" : "USD";
      String currency = defect == Defect.BAD_JSON_SCHEMA ? "GBP" : drawnCurrency;
      Address address = ADDRESSES.get(random.nextInt(ADDRESSES.size()));
      int itemCount = random.nextInt(1, 4);
      List<Product> products = new ArrayList<>(CATALOG);
      List<Map<String, Object>> clientItems = new ArrayList<>();
      List<Map<String, Object>> pricedItems = new ArrayList<>();
      BigDecimal sum = BigDecimal.ZERO;
      for (int i = 0; i < itemCount; i++) {
        Product product = products.remove(random.nextInt(products.size()));
        int quantity = random.nextInt(1, 5);
        clientItems.add(item(product.productId(), quantity, null));
        pricedItems.add(item(product.productId(), quantity, product.unitPrice()));
        sum = sum.add(product.unitPrice().multiply(BigDecimal.valueOf(quantity)));
      }
      BigDecimal total = sum.setScale(2, RoundingMode.HALF_EVEN);
      if (defect == Defect.WRONG_TOTAL) {
        total = total.add(WRONG_TOTAL_EXTRA);
      }
      BigDecimal amount = defect == Defect.PAYMENT_AMOUNT_MISMATCH ? total.add(SHIPPING_FEE) : total;
      String transactionId = "txn_" + hex(random, 16);
      String eventId = "evt_" + hex(random, 16);
      String reservationId = "rsv-" + hex(random, 12);
      String authCode = alnum(random, 6);

      Map<String, Object> clientBody = new LinkedHashMap<>();
      clientBody.put("items", clientItems);
      Map<String, Object> shipping = new LinkedHashMap<>();
      shipping.put("address", address.address());
      shipping.put("city", address.city());
      shipping.put("zipCode", address.zipCode());
      clientBody.put("shipping", shipping);

      // ---- stage 1: order-requested (gateway) -------------------------------------------------
      Topology.Instance gateway = topology.gateway(flow.index);
      long t0 = flow.startNanos;
      PlannedSpan request = flow.span(gateway, Scope.HTTP_SERVER, "POST /api/orders", SpanKind.SERVER, t0, null);
      String clientBodyJson = json(clientBody);
      request.attributes
          .put("http.request.method", "POST")
          .put("http.route", "/api/orders")
          .put("url.path", "/api/orders")
          .put("url.scheme", "http")
          .put("server.address", "api.shop.example")
          .put("server.port", 8080L)
          .put("network.protocol.version", "1.1")
          .put("client.address", "203.0.113." + random.nextInt(1, 255))
          .put("user_agent.original", USER_AGENTS.get(random.nextInt(USER_AGENTS.size())))
          .put("http.response.status_code", 202L)
          .put("http.request.body", clientBodyJson);

      Map<String, Object> requested = new LinkedHashMap<>(clientBody);
      if (defect != Defect.DROP_ENRICHMENT) {
        requested.put("userId", userId);
      }
      requested.put("timestamp", rfc3339(t0));
      requested.put("requestId", flow.requestId);
      PlannedSpan sendRequested = producer(gateway, request, ORDERS_REQUESTED, flow.requestId,
          json(requested).getBytes(StandardCharsets.UTF_8), false, t0 + ms(1, 4));
      request.endNanos = sendRequested.endNanos + us(200, 1500);

      // ---- stage 2: inventory-reserved ----------------------------------------------------------
      PlannedRecord requestedRecord = sendRequested.produces;
      Topology.Instance orderIn = topology.orderServiceConsuming(requestedRecord.partition);
      PlannedSpan processRequested = consumer(orderIn, requestedRecord, requestedRecord.sendNanos + ms(2, 15));
      Map<String, Object> inventoryRequest = new LinkedHashMap<>();
      inventoryRequest.put("orderId", flow.orderId);
      inventoryRequest.put("requestId", flow.requestId);
      inventoryRequest.put("items", clientItems);
      PlannedSpan sendInventoryRequest = producer(orderIn, processRequested, INVENTORY_REQUESTS, flow.orderId,
          json(inventoryRequest).getBytes(StandardCharsets.UTF_8), false, processRequested.startNanos + ms(1, 5));
      long last = sendInventoryRequest.endNanos;

      Map<String, Object> created = new LinkedHashMap<>();
      created.put("orderId", flow.orderId);
      created.put("requestId", flow.requestId);
      created.put("userId", userId);
      created.put("userEmail", userEmail);
      created.put("userName", userName);
      created.put("items", pricedItems);
      created.put("total", total);
      created.put("currency", currency);
      created.put("status", "pending");
      byte[] createdValue = json(created).getBytes(StandardCharsets.UTF_8);

      PlannedSpan sendCreated = null;
      if (defect == Defect.EARLY_ORDER_CREATED) {
        // The bug: the order is published before inventory has answered.
        sendCreated = producer(orderIn, processRequested, ORDERS_CREATED, flow.orderId, createdValue, false,
            last + ms(1, 4));
        last = sendCreated.endNanos;
      }
      processRequested.endNanos = last + us(200, 2000);

      PlannedRecord inventoryRequestRecord = sendInventoryRequest.produces;
      Topology.Instance inventory = topology.inventoryService();
      PlannedSpan processInventory = consumer(inventory, inventoryRequestRecord,
          inventoryRequestRecord.sendNanos + ms(2, 15));
      long replyAt = defect == Defect.EARLY_ORDER_CREATED
          ? sendCreated.produces.sendNanos + 50 * MS
          : processInventory.startNanos + ms(1, 8);
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("orderId", flow.orderId);
      reply.put("available", true);
      reply.put("reservationId", reservationId);
      PlannedSpan sendReply = producer(inventory, processInventory, INVENTORY_REPLIES, flow.orderId,
          json(reply).getBytes(StandardCharsets.UTF_8), false, replyAt);
      processInventory.endNanos = sendReply.endNanos + us(200, 1500);

      // ---- stage 3: order-created ----------------------------------------------------------------
      PlannedRecord replyRecord = sendReply.produces;
      Topology.Instance orderOut = topology.orderServiceConsuming(replyRecord.partition);
      PlannedSpan processReply = consumer(orderOut, replyRecord, replyRecord.sendNanos + ms(2, 15));
      last = processReply.startNanos;
      if (sendCreated == null) {
        // user lookup, pricing and the insert happen before the publish
        sendCreated = producer(orderOut, processReply, ORDERS_CREATED, flow.orderId, createdValue, false,
            last + ms(3, 20));
        last = sendCreated.endNanos;
      }

      // ---- stage 4: payment-authorized -----------------------------------------------------------
      Map<String, Object> paymentRequest = new LinkedHashMap<>();
      paymentRequest.put("amount", amount);
      paymentRequest.put("currency", currency);
      paymentRequest.put("orderId", flow.orderId);
      Map<String, Object> paymentResponse = new LinkedHashMap<>();
      paymentResponse.put("transactionId", transactionId);
      paymentResponse.put("status", flow.payment.wireValue());
      if (flow.payment == Manifest.Payment.AUTHORIZED) {
        paymentResponse.put("authCode", authCode);
      }
      PlannedSpan pay = flow.span(orderOut, Scope.HTTP_CLIENT, "POST", SpanKind.CLIENT, last + ms(1, 5), processReply);
      // a truncated flow meets a slow provider: the recording ends as the response comes back
      pay.endNanos = pay.startNanos + (defect == Defect.TRUNCATED ? ms(4500, 4900) : ms(100, 300));
      pay.attributes
          .put("http.request.method", "POST")
          .put("url.full", PAYMENT_URL)
          .put("server.address", "payment-provider")
          .put("server.port", 8080L)
          .put("network.protocol.version", "1.1")
          .put("http.response.status_code", 200L)
          .put("http.request.body", json(paymentRequest))
          .put("http.response.body", json(paymentResponse));
      last = pay.endNanos;

      List<PlannedRecord> outcomes = new ArrayList<>();
      boolean cancels = flow.payment == Manifest.Payment.DECLINED && defect != Defect.DECLINED_BUT_CONFIRMED;
      if (cancels) {
        // ---- stage 5': order-cancelled -----------------------------------------------------------
        long cancelAt = last + ms(1, 10);
        Map<String, Object> cancelled = new LinkedHashMap<>();
        cancelled.put("orderId", flow.orderId);
        cancelled.put("reason", "payment_declined");
        cancelled.put("cancelledAt", rfc3339(cancelAt));
        PlannedSpan sendCancelled = producer(orderOut, processReply, ORDERS_CANCELLED, flow.orderId,
            json(cancelled).getBytes(StandardCharsets.UTF_8), false, cancelAt);
        last = sendCancelled.endNanos;
        outcomes.add(sendCancelled.produces);
      }
      processReply.endNanos = last + us(300, 2500);

      if (defect == Defect.TRUNCATED) {
        return; // the recording ends before the provider calls back
      }

      // ---- stage 5: payment-captured (the provider calls back, in a new trace) -----------------
      if (!cancels) {
        Map<String, Object> webhookBody = new LinkedHashMap<>();
        webhookBody.put("eventId", eventId);
        webhookBody.put("transactionId", transactionId);
        webhookBody.put("orderId", flow.orderId);
        webhookBody.put("status", "captured");
        String webhookJson = json(webhookBody);
        long webhookAt = pay.endNanos + ms(300, 1500);
        outcomes.add(webhook(webhookAt, webhookJson, transactionId, true));
        if (defect == Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT || defect == Defect.DUPLICATE_WEBHOOK_IDEMPOTENT) {
          long again = webhookAt + ms(900, 1100);
          PlannedRecord second = webhook(again, webhookJson, transactionId,
              defect == Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT);
          if (second != null) {
            outcomes.add(second);
          }
        }
      }

      // ---- stage 6: notification-sent ------------------------------------------------------------
      for (PlannedRecord outcome : outcomes) {
        notify(outcome, userEmail, userName, total);
      }
    }

    /** One delivery of the payment webhook; returns the confirmation it publishes, if any. */
    private PlannedRecord webhook(long at, String body, String transactionId, boolean publishes) {
      Topology.Instance orderService = topology.orderServiceFor(random);
      PlannedSpan hook = flow.span(orderService, Scope.HTTP_SERVER, "POST /webhooks/payment", SpanKind.SERVER, at, null);
      hook.attributes
          .put("http.request.method", "POST")
          .put("http.route", "/webhooks/payment")
          .put("url.path", "/webhooks/payment")
          .put("url.scheme", "http")
          .put("server.address", "order-service")
          .put("server.port", 8080L)
          .put("network.protocol.version", "1.1")
          .put("client.address", "198.51.100." + random.nextInt(1, 255))
          .put("user_agent.original", "PaymentProvider-Webhooks/2.1")
          .put("http.response.status_code", 200L)
          .put("http.request.body", body);
      if (!publishes) {
        hook.endNanos = at + ms(1, 4); // already processed: acknowledged, nothing published
        return null;
      }
      long confirmAt = at + ms(2, 10);
      Map<String, Object> confirmed = new LinkedHashMap<>();
      confirmed.put("orderId", flow.orderId);
      confirmed.put("transactionId", transactionId);
      confirmed.put("status", "confirmed");
      confirmed.put("confirmedAt", rfc3339(confirmAt));
      PlannedSpan send = producer(orderService, hook, ORDERS_CONFIRMED, flow.orderId,
          json(confirmed).getBytes(StandardCharsets.UTF_8), false, confirmAt);
      hook.endNanos = send.endNanos + us(300, 2000);
      return send.produces;
    }

    /** notification-service consumes the outcome and publishes the e-mail request. */
    private void notify(PlannedRecord outcome, String userEmail, String userName, BigDecimal total) {
      Topology.Instance notification = topology.notificationServiceConsuming(outcome.partition);
      long consumeAt = defect == Defect.SLOW_NOTIFICATION
          ? outcome.sendNanos + ms(6900, 6950) // consumer lag: the e-mail goes out ~7 s later
          : outcome.sendNanos + ms(3, 30);
      PlannedSpan process = consumer(notification, outcome, consumeAt);
      if (defect == Defect.LOST_TRACEPARENT) {
        process.consumerParent = ConsumerParent.NONE;
      } else if (notification.receiveTelemetry()) {
        process.consumerParent = ConsumerParent.LINK;
      }
      if (defect == Defect.NO_NOTIFICATION) {
        process.exceptionType = "shop.notifications.TemplateRenderingException";
        process.exceptionMessage = "template 'order_confirmation' failed to render: locale bundle not found";
        process.endNanos = consumeAt + ms(5, 40);
        return;
      }
      String template = outcome.topic.equals(ORDERS_CANCELLED) ? "order_cancelled" : "order_confirmation";
      byte[] email = avro.encode(userEmail, template, flow.orderId, userName, total.doubleValue(),
          defect == Defect.BAD_AVRO_EMAIL);
      PlannedSpan send = producer(notification, process, NOTIFICATIONS_EMAIL, flow.orderId, email, true,
          consumeAt + ms(5, 50));
      process.endNanos = send.endNanos + us(300, 2000);
    }

    private PlannedSpan producer(
        Topology.Instance instance, PlannedSpan parent, String topic, String key, byte[] value, boolean binary,
        long start) {
      String name = instance.conventions() == Topology.Conventions.STABLE ? "send " + topic : topic + " publish";
      PlannedSpan span = flow.span(instance, Scope.KAFKA, name, SpanKind.PRODUCER, start, parent);
      // the client stamps the record a little after the span started; ms truncation may still
      // make the record look older than the span
      PlannedRecord record = flow.record(topic, key, value, binary, start + us(20, 300), traceFlags);
      record.producer = span;
      span.produces = record;
      span.endNanos = start + ms(1, 6); // the span ends when the broker acknowledged
      return span;
    }

    private PlannedSpan consumer(Topology.Instance instance, PlannedRecord record, long start) {
      String name = instance.conventions() == Topology.Conventions.STABLE
          ? "process " + record.topic
          : record.topic + " process";
      PlannedSpan span = flow.span(instance, Scope.KAFKA, name, SpanKind.CONSUMER, start, null);
      span.consumes = record;
      span.endNanos = start + ms(1, 3);
      return span;
    }

    private long ms(long fromMillis, long toMillis) {
      return random.nextLong(fromMillis * MS, toMillis * MS);
    }

    private long us(long fromMicros, long toMicros) {
      return random.nextLong(fromMicros * 1_000L, toMicros * 1_000L);
    }
  }

  private static Map<String, Object> item(String productId, int quantity, BigDecimal unitPrice) {
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("productId", productId);
    item.put("quantity", quantity);
    if (unitPrice != null) {
      item.put("unitPrice", unitPrice);
    }
    return item;
  }

  static String json(Object value) {
    return JSON.writeValueAsString(value);
  }

  static String rfc3339(long epochNanos) {
    return RFC_3339_MILLIS.format(Instant.ofEpochSecond(0, epochNanos));
  }

  private static String uuid(SplittableRandom random) {
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new java.util.UUID(high, low).toString();
  }

  private static String hex(SplittableRandom random, int length) {
    StringBuilder sb = new StringBuilder(length);
    while (sb.length() < length) {
      sb.append(String.format("%016x", random.nextLong()));
    }
    return sb.substring(0, length);
  }

  private static String alnum(SplittableRandom random, int length) {
    String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
