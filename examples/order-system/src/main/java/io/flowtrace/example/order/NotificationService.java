package io.flowtrace.example.order;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * {@code notification-service}: keeps the {@code orders.created} facts it needs (e-mail, name,
 * total) and, for each {@code orders.confirmed}/{@code orders.cancelled}, publishes the Avro e-mail
 * request ({@code order_confirmation}/{@code order_cancelled}) to {@code notifications.email}.
 */
final class NotificationService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NotificationService.class);
  static final long SLOW_MILLIS = 7_000;

  private final Kafka kafka;
  private final DefectSwitches defects;
  private final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
  private final Map<String, JsonNode> created = new ConcurrentHashMap<>();
  private final Map<String, List<Runnable>> waiting = new ConcurrentHashMap<>();

  NotificationService(String bootstrapServers, DefectSwitches defects) {
    this.defects = defects;
    this.kafka = new Kafka(bootstrapServers, "notification-service");
    kafka.consume("notification-service",
        List.of(Topics.ORDERS_CREATED, Topics.ORDERS_CONFIRMED, Topics.ORDERS_CANCELLED), this::handle);
    LOG.info("notification-service, defects {}", defects);
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    JsonNode event = Json.read(record.value());
    String orderId = event.path("orderId").asString();
    if (Topics.ORDERS_CREATED.equals(record.topic())) {
      created.put(orderId, event);
      List<Runnable> parked = waiting.remove(orderId);
      if (parked != null) {
        parked.forEach(Runnable::run);
      }
      return;
    }
    JsonNode order = created.get(orderId);
    if (order == null) {
      // One poll may hand over orders.cancelled before orders.created (two topics, no order between
      // them): handle it when orders.created comes, in this record's trace context.
      LOG.info("{} for order {} before its orders.created; e-mail once it arrives", record.topic(), orderId);
      waiting.computeIfAbsent(orderId, k -> new java.util.ArrayList<>()).add(Context.current().wrap(() -> handle(record)));
      return;
    }
    JsonNode items = order.path("items");
    if (defects.on(Defect.NO_NOTIFICATION, items)) {
      return;
    }
    if (defects.on(Defect.SLOW_NOTIFICATION, items)) {
      // Later, in this record's trace context, without holding up the e-mails of other orders.
      later.schedule(Context.current().wrap(() -> email(record, order, orderId, items)), SLOW_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    email(record, order, orderId, items);
  }

  private void email(ConsumerRecord<String, byte[]> record, JsonNode order, String orderId, JsonNode items) {
    String template = Topics.ORDERS_CONFIRMED.equals(record.topic()) ? "order_confirmation" : "order_cancelled";
    double total = order.path("total").asDouble();
    byte[] email = defects.on(Defect.BROKEN_EMAIL_SCHEMA, items)
        ? EmailCodec.encodeBroken(template, orderId, total)
        : EmailCodec.encode(order.path("userEmail").asString(), template, orderId, order.path("userName").asString(), total);
    if (defects.on(Defect.LOSE_TRACEPARENT, items)) {
      try (Scope root = Context.root().makeCurrent()) {
        kafka.send(Topics.NOTIFICATIONS_EMAIL, orderId, email);
      }
    } else {
      kafka.send(Topics.NOTIFICATIONS_EMAIL, orderId, email);
    }
  }

  @Override
  public void close() {
    later.shutdown(); // delayed e-mails still go out
    try {
      later.awaitTermination(SLOW_MILLIS + 1_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    kafka.close();
  }
}
