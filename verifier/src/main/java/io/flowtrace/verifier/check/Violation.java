package io.flowtrace.verifier.check;

import static java.util.Objects.requireNonNull;

/**
 * One way a flow instance broke its spec, with context: the stage and event where it shows, the
 * field, what was expected and what was seen, and where to look (trace/span, topic/partition/offset).
 * {@code event}, {@code field}, {@code expected} and {@code actual} may be {@code null}.
 */
public record Violation(
    ViolationKind kind,
    String stage,
    String event,
    String field,
    String message,
    String expected,
    String actual,
    Evidence evidence) {

  public Violation {
    requireNonNull(kind, "kind");
    requireNonNull(stage, "stage");
    requireNonNull(message, "message");
    evidence = evidence == null ? Evidence.NONE : evidence;
  }

  /** A builder; kind, stage and message are required. */
  public static Builder builder(ViolationKind kind, String stage) {
    return new Builder(kind, stage);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(kind).append(" at ").append(stage);
    if (field != null) sb.append(" field ").append(field);
    sb.append(": ").append(message);
    return sb.toString();
  }

  /** Builds a {@link Violation}. */
  public static final class Builder {
    private final ViolationKind kind;
    private final String stage;
    private String event;
    private String field;
    private String message;
    private String expected;
    private String actual;
    private Evidence evidence = Evidence.NONE;

    private Builder(ViolationKind kind, String stage) {
      this.kind = kind;
      this.stage = stage;
    }

    public Builder event(String v) { this.event = v; return this; }
    public Builder field(String v) { this.field = v; return this; }
    public Builder message(String v) { this.message = v; return this; }
    public Builder expected(Object v) { this.expected = v == null ? null : v.toString(); return this; }
    public Builder actual(Object v) { this.actual = v == null ? null : v.toString(); return this; }
    public Builder evidence(Evidence v) { this.evidence = v; return this; }

    public Violation build() {
      return new Violation(kind, stage, event, field, message, expected, actual, evidence);
    }
  }
}
