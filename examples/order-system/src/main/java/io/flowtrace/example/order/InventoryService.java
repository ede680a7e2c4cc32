package io.flowtrace.example.order;

import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code inventory-service}: answers each {@code inventory.requests} record on {@code inventory.replies}
 * (same key, the {@code orderId}); an item asking for more than {@value #STOCK_PER_ITEM} is unavailable.
 */
final class InventoryService implements AutoCloseable {

  static final int STOCK_PER_ITEM = 100;

  private final Kafka kafka;

  InventoryService(String bootstrapServers) {
    this.kafka = new Kafka(bootstrapServers, "inventory-service");
    kafka.consume("inventory-service", List.of(Topics.INVENTORY_REQUESTS), this::handle);
  }

  private void handle(ConsumerRecord<String, byte[]> record) {
    JsonNode request = Json.read(record.value());
    boolean available = true;
    for (JsonNode item : request.path("items")) {
      available &= item.path("quantity").asInt() <= STOCK_PER_ITEM;
    }
    String orderId = request.path("orderId").asString();
    ObjectNode reply = Json.object().put("orderId", orderId).put("available", available);
    if (available) {
      reply.put("reservationId", "res-" + UUID.randomUUID());
    }
    kafka.send(Topics.INVENTORY_REPLIES, orderId, Json.bytes(reply));
  }

  @Override
  public void close() {
    kafka.close();
  }
}
