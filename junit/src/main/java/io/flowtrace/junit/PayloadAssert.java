package io.flowtrace.junit;

import io.flowtrace.verifier.spec.FieldPath;
import java.math.BigDecimal;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ObjectAssert;
import tools.jackson.databind.JsonNode;

/**
 * Assertions on the decoded payload of one event of a flow instance (from {@link
 * FlowAssert#payloadOf}). Paths are dotted field paths as in flow specs: {@code total}, {@code
 * data.orderId}. Avro payloads are decoded to the same tree as JSON ones.
 */
public final class PayloadAssert extends AbstractAssert<PayloadAssert, JsonNode> {

  private final String subject;

  PayloadAssert(JsonNode payload, String subject) {
    super(payload, PayloadAssert.class);
    this.subject = subject;
  }

  /** Asserts the field is present (and not JSON {@code null}). */
  public PayloadAssert hasField(String path) {
    if (value(path) == null) {
      failWithMessage("%s", "Expected " + subject + " to have the field " + path + ", but it has not: " + actual);
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
      failWithMessage("%s", "Expected " + subject + " to have " + path + " = " + expected + ", but it is "
          + (node == null ? "absent" : node.toString()) + " in " + actual);
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
    return Assertions.assertThat(plain).as("%s of %s", path, subject);
  }

  private JsonNode value(String path) {
    JsonNode node = FieldPath.parse(path).resolve(actual);
    return node == null || node.isNull() || node.isMissingNode() ? null : node;
  }
}
