package io.flowtrace.cli.synth;

import java.util.Optional;

/**
 * A fault planted in one synthetic order flow. Each one breaks exactly one rule of the reference
 * order flow at one stage and keeps every other payload, key, trace and timing consistent, so a
 * verifier that reports anything else for that flow is wrong. {@link #expected()} is the verdict a
 * verifier must reach; it is empty for the two entries that are not faults of the system
 * ({@link #DUPLICATE_WEBHOOK_IDEMPOTENT} passes, {@link #TRUNCATED} is incomplete).
 */
public enum Defect {

  /** The gateway publishes {@code orders.requested} without {@code userId}. */
  DROP_ENRICHMENT("MISSING_ENRICHMENT", "order-requested", "userId"),

  /** {@code orders.created.total} is 10.00 more than the sum of its items; the payment charges it. */
  WRONG_TOTAL("BAD_TRANSFORMATION", "order-created", "total"),

  /** The payment request charges 4.99 more than {@code orders.created.total}. */
  PAYMENT_AMOUNT_MISMATCH("BAD_TRANSFORMATION", "payment-authorized", "amount"),

  /**
   * The payment response says {@code declined}, yet the provider calls the webhook, the order is
   * confirmed and a confirmation e-mail goes out: the wrong branch was taken.
   */
  DECLINED_BUT_CONFIRMED("BAD_TRANSFORMATION", "payment-captured", null),

  /**
   * The provider delivers the same webhook ({@code eventId}) twice, about 1 s apart, and the
   * handler publishes {@code orders.confirmed} and so an e-mail twice.
   */
  DUPLICATE_WEBHOOK_NON_IDEMPOTENT("NON_IDEMPOTENT", "payment-captured", "eventId"),

  /** The same double delivery, but the handler ignores the second one: a correct flow. */
  DUPLICATE_WEBHOOK_IDEMPOTENT(null, null, null),

  /**
   * The notification consumer drops the trace context: its {@code process} span starts a new trace
   * without a link, and the e-mail record's {@code traceparent} is in that new trace.
   */
  LOST_TRACEPARENT("BROKEN_PROPAGATION", "notification-sent", null),

  /** The e-mail is published about 7 s after {@code orders.confirmed} (budget 5 s). */
  SLOW_NOTIFICATION("LATENCY_BUDGET_EXCEEDED", "notification-sent", null),

  /**
   * The notification consumer fails (its span records the exception) and no e-mail is published;
   * the recording goes on more than 30 s past the flow's start.
   */
  NO_NOTIFICATION("MISSING_STAGE", "notification-sent", null),

  /**
   * The e-mail is encoded with another writer schema ({@code OrderData} without {@code total})
   * but framed with schema id 1, so it does not decode with the contract schema.
   */
  BAD_AVRO_EMAIL("SCHEMA_VIOLATION", "notification-sent", null),

  /** {@code orders.created} (and, consistently, the payment) uses currency {@code GBP}. */
  BAD_JSON_SCHEMA("SCHEMA_VIOLATION", "order-created", "currency"),

  /** {@code orders.created} is published 50 ms before the inventory reply arrives. */
  EARLY_ORDER_CREATED("ORDER_VIOLATION", "order-created", null),

  /**
   * Not a fault of the system: the recording ends before the payment webhook of this flow
   * arrives, so its verdict is {@code INCOMPLETE}. Its payment call is slow (about 4.7 s, payment
   * authorized) and the recording ends as the response comes back, about 5 s after the flow
   * started. Plant it on the last flow.
   */
  TRUNCATED(null, null, null);

  private final String kind;
  private final String stage;
  private final String field;

  Defect(String kind, String stage, String field) {
    this.kind = kind;
    this.stage = stage;
    this.field = field;
  }

  /** The one violation a verifier must report for a flow with this defect, if any. */
  public Optional<Manifest.ExpectedViolation> expected() {
    return kind == null
        ? Optional.empty()
        : Optional.of(new Manifest.ExpectedViolation(kind, stage, field));
  }

  /** The verdict status a verifier must reach for a flow with this defect. */
  public Manifest.Status expectedStatus() {
    if (this == TRUNCATED) {
      return Manifest.Status.INCOMPLETE;
    }
    return kind == null ? Manifest.Status.PASSED : Manifest.Status.FAILED;
  }
}
