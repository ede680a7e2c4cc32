package io.flowtrace.junit;

import io.flowtrace.verifier.report.Redaction;
import io.flowtrace.verifier.spec.FieldPath;
import java.math.BigDecimal;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ObjectAssert;
import org.assertj.core.presentation.StandardRepresentation;
import tools.jackson.databind.JsonNode;

/**
 * Assertions on the decoded payload of one event of a flow instance (from {@link
 * FlowAssert#payloadOf}). Paths are dotted field paths as in flow specs: {@code total}, {@code
 * data.orderId}. Avro payloads are decoded to the same tree as JSON ones. Assertions compare the
 * real values; failure messages show the fields the flow spec redacts masked, as reports do.
 */
public final class PayloadAssert extends AbstractAssert<PayloadAssert, JsonNode> {

  private final String subject;
  private final String eventId;
  private final Redaction redaction;
  private final JsonNode shown;

  PayloadAssert(JsonNode payload, String subject, String eventId, Redaction redaction) {
    super(payload, PayloadAssert.class);
    this.subject = subject;
    this.eventId = eventId;
    this.redaction = redaction;
    this.shown = redaction.payload(eventId, payload);
  }

  /** Asserts the field is present (and not JSON {@code null}). */
  public PayloadAssert hasField(String path) {
    if (value(path) == null) {
      failWithMessage("%s", "Expected " + subject + " to have the field " + path + ", but it has not: " + shown);
    }
    return this;
  }

  /**
   * Asserts the field's value: a number is compared by value ({@code 26.48} equals {@code
   * 26.480}), anything else by its text.
   */
  public PayloadAssert hasFieldEqualTo(String path, Object expected) {
    JsonNode node = value(path);
    boolean equal;
    if (node == null) {
      equal = expected == null;
    } else if (expected instanceof Number n && node.isNumber()) {
      equal = new BigDecimal(n.toString()).compareTo(node.decimalValue()) == 0;
    } else {
      equal = expected != null && (node.isValueNode() ? node.asString() : node.toString()).equals(expected.toString());
    }
    if (!equal) {
      boolean masked = redaction.redacts(eventId, FieldPath.parse(path));
      JsonNode shownNode = FieldPath.parse(path).resolve(shown);
      String shownExpected = !masked || expected == null ? String.valueOf(expected) : Redaction.marker(expected.toString());
      failWithMessage("%s", "Expected " + subject + " to have " + path + " = " + redaction.text(shownExpected)
          + ", but it is " + (node == null ? "absent" : masked ? shownNode.toString() : node.toString()) + " in " + shown);
    }
    return this;
  }

  /**
   * Moves on to a field as a plain value (text as {@link String}, numbers as {@link Number},
   * booleans, or the {@link JsonNode} of an object or array; {@code null} when absent).
   */
  public ObjectAssert<Object> field(String path) {
    JsonNode node = value(path);
    Object plain = node == null ? null
        : node.isString() ? node.asString()
        : node.isNumber() ? node.numberValue()
        : node.isBoolean() ? (Object) node.booleanValue()
        : node;
    ObjectAssert<Object> field = Assertions.assertThat(plain).as("%s of %s", path, subject);
    if (!redaction.redacts(eventId, FieldPath.parse(path))) {
      return field;
    }
    return field.withRepresentation(new StandardRepresentation() {
      @Override
      public String toStringOf(Object o) {
        return o == null ? "null" : Redaction.marker(o.toString());
      }
    });
  }

  private JsonNode value(String path) {
    JsonNode node = FieldPath.parse(path).resolve(actual);
    return node == null || node.isNull() || node.isMissingNode() ? null : node;
  }
}
