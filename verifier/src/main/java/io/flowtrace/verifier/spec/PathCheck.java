package io.flowtrace.verifier.spec;

import io.flowtrace.verifier.text.Spelling;
import io.flowtrace.verifier.schema.PayloadShape;
import io.flowtrace.verifier.schema.PayloadShape.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Whether a spec's field path ({@code carry}, {@code add}, {@code keys}, {@code dedupKey}, a rule's
 * {@code field}) can be in payloads of a given shape; if not, what is wrong in words, with the
 * closest path that exists. {@code {event}} in a message stands for the event's id.
 */
final class PathCheck {
  private PathCheck() {}

  /** What is wrong with {@code path} in payloads of {@code shape}, or null when it may be there. */
  static String problem(FieldPath path, PayloadShape shape) {
    List<String> segments = path.segments();
    PayloadShape at = shape;
    for (int i = 0; i < segments.size(); i++) {
      if (at.isUnknown()) {
        return null;
      }
      String segment = segments.get(i);
      String prefix = render(segments.subList(0, i));
      if (segment.equals("[]")) {
        if (!at.mayBe(Type.ARRAY)) {
          return "but " + prefix + " is " + kinds(at) + ", not an array, in {event}";
        }
        at = at.items();
        continue;
      }
      if (!at.mayBe(Type.OBJECT)) {
        if (at.mayBe(Type.ARRAY)) {
          List<String> fixed = new ArrayList<>(segments);
          fixed.add(i, "[]");
          return "but " + prefix + " is an array in {event}: write '" + render(fixed) + "'";
        }
        return "but " + prefix + " is " + kinds(at) + " in {event}, which has no fields";
      }
      PayloadShape next = at.field(segment);
      if (next == null) {
        String close = Spelling.didYouMean(segment, at.fieldNames());
        if (!close.isEmpty()) {
          String name = close.substring(" (did you mean '".length(), close.length() - "'?)".length());
          List<String> fixed = new ArrayList<>(segments);
          fixed.set(i, name);
          if (problem(new FieldPath(render(fixed), fixed), shape) == null) {
            return "which is not a field of {event} (did you mean '" + render(fixed) + "'?)";
          }
        }
        String there = at.fieldNames().isEmpty() ? "" : at.fieldNames().size() <= 12
            ? " (" + (i == 0 ? "its fields: " : prefix + " has: ") + String.join(", ", at.fieldNames()) + ")" : "";
        return "which is not a field of {event}" + there;
      }
      at = next;
    }
    return null;
  }

  /** The path in {@code shapes}' fields closest to {@code path} (one segment changed), or null. */
  static String closest(FieldPath path, List<PayloadShape> shapes) {
    for (PayloadShape shape : shapes) {
      String problem = problem(path, shape);
      int at = problem == null ? -1 : problem.indexOf("(did you mean '");
      if (at >= 0) {
        return problem.substring(at + "(did you mean '".length(), problem.indexOf("'?)", at));
      }
    }
    return null;
  }

  /** {@code items[].productId} from its segments. */
  static String render(List<String> segments) {
    StringBuilder sb = new StringBuilder();
    for (String s : segments) {
      if (s.equals("[]")) {
        sb.append("[]");
      } else {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(s);
      }
    }
    return sb.toString();
  }

  private static String kinds(PayloadShape shape) {
    return shape.types().stream().map(Type::article).collect(Collectors.joining(" or "));
  }
}
