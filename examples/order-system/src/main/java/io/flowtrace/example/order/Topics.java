package io.flowtrace.example.order;

import java.util.List;

/** The contract's topic names. */
public final class Topics {
  public static final String ORDERS_REQUESTED = "orders.requested";
  public static final String INVENTORY_REQUESTS = "inventory.requests";
  public static final String INVENTORY_REPLIES = "inventory.replies";
  public static final String ORDERS_CREATED = "orders.created";
  public static final String ORDERS_CONFIRMED = "orders.confirmed";
  public static final String ORDERS_CANCELLED = "orders.cancelled";
  public static final String NOTIFICATIONS_EMAIL = "notifications.email";

  /** Every topic of the flow. */
  public static final List<String> ALL = List.of(ORDERS_REQUESTED, INVENTORY_REQUESTS, INVENTORY_REPLIES,
      ORDERS_CREATED, ORDERS_CONFIRMED, ORDERS_CANCELLED, NOTIFICATIONS_EMAIL);

  private Topics() {}
}
