package io.flowtrace.example.order;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The planted defects, switched on by name in {@code FLOWTRACE_DEFECTS} (environment) or the system
 * property {@code flowtrace.defects}, comma separated, e.g. {@code WRONG_TOTAL,SLOW_NOTIFICATION}; {@code
 * SLOW_NOTIFICATION@P-906} scopes one to orders with that product (see {@link DefectSwitches}).
 */
public enum Defect {
  /** The gateway publishes {@code orders.requested} without {@code userId}. */
  DROP_ENRICHMENT,
  /** {@code orders.created.total} is one unit more than the sum of the items. */
  WRONG_TOTAL,
  /** The payment request's {@code amount} is 0.50 more than the order total. */
  PAYMENT_AMOUNT_MISMATCH,
  /** A duplicate webhook delivery (same {@code eventId}) sends a second confirmation and e-mail. */
  NON_IDEMPOTENT_WEBHOOK,
  /** The notification service sends the e-mail in a new root context: the record starts a new trace. */
  LOSE_TRACEPARENT,
  /** The notification service sends the e-mail 7 s late (without holding up other orders' e-mails). */
  SLOW_NOTIFICATION,
  /** The notification service sends no e-mail at all. */
  NO_NOTIFICATION,
  /** The e-mail is written with a schema other than the registered one (id 1). */
  BROKEN_EMAIL_SCHEMA;

  /** The defects switched on in this JVM. */
  public static Set<Defect> active() {
    return parse(Config.get("flowtrace.defects", "FLOWTRACE_DEFECTS", ""));
  }

  /** Parses a comma-separated list of defect names; fails on an unknown name, naming it. */
  public static Set<Defect> parse(String names) {
    Set<Defect> defects = EnumSet.noneOf(Defect.class);
    for (String name : names.split(",")) {
      String n = name.trim();
      if (n.isEmpty()) {
        continue;
      }
      try {
        defects.add(valueOf(n.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown defect '" + n + "'; known: " + EnumSet.allOf(Defect.class), e);
      }
    }
    return defects;
  }
}
