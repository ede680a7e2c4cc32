package io.flowtrace.verifier.rules;

import dev.cel.common.CelErrorCode;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelUnknownSet;
import dev.cel.runtime.CelVariableResolver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** A checked CEL expression with its program; immutable, so evaluation is thread-safe. */
final class CelExpression implements CompiledExpression {

  /** CEL's evaluation errors read {@code evaluation error at <input>:OFFSET: DETAIL}. */
  private static final Pattern EVALUATION_ERROR =
      Pattern.compile("evaluation error(?: at [^:]*:(\\d+))?: (.*)", Pattern.DOTALL);

  private static final Pattern MISSING_KEY =
      Pattern.compile("key '(.*)' is not present in map\\.?", Pattern.DOTALL);

  private static final Pattern NOT_AN_OBJECT =
      Pattern.compile(
          "Error resolving field '(.*)'\\. Field selections must be performed on messages or maps\\.?",
          Pattern.DOTALL);

  /** The overload ids CEL lists after this are internal names, not something a user can act on. */
  private static final String CANDIDATES = ". Overload candidates: ";

  private static final Pattern OUT_OF_BOUNDS = Pattern.compile("Index out of bounds: (-?\\d+)");

  private final String source;
  private final CelRuntime.Program program;
  private final boolean requireBool;
  private final Set<String> variables;
  private final List<ExpressionPaths.Path> paths;
  private final List<String> pathTexts;
  private final Map<Integer, ExpressionPaths.Target> targets;
  private final ComparedSides sides;

  CelExpression(String source, CelRuntime.Program program, ExpressionPaths.Result analysis, boolean requireBool,
      ComparedSides sides) {
    this.source = source;
    this.sides = sides;
    this.program = program;
    this.requireBool = requireBool;
    this.variables = analysis.variables();
    this.paths = analysis.paths();
    this.targets = analysis.targets();
    List<String> texts = new ArrayList<>(paths.size());
    paths.forEach(p -> texts.add(p.text()));
    this.pathTexts = List.copyOf(texts);
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public Set<String> referencedVariables() {
    return variables;
  }

  @Override
  public List<String> observedPaths() {
    return pathTexts;
  }

  @Override
  public Evaluation evaluate(Map<String, JsonNode> bindings) {
    Map<String, JsonNode> payloads = bindings == null ? Map.of() : bindings;
    Map<String, String> observed;
    Object value;
    try {
      CelVariableResolver resolver = resolver(payloads);
      value = program.eval(resolver);
      // What the expression saw matters when it did not hold; skipping it otherwise keeps the
      // passing path (nearly every evaluation) cheap.
      observed = Boolean.TRUE.equals(value) ? Map.of() : observe(payloads);
      if (Boolean.FALSE.equals(value)) {
        observed = sides.withSides(observed, resolver);
      }
    } catch (CelEvaluationException e) {
      return new Evaluation(null, describe(e), safeObserve(payloads));
    } catch (RuntimeException e) {
      // CEL or a payload view failed in a way CEL does not report as an evaluation error:
      // still a value, never an exception on the hot path.
      return new Evaluation(null, "evaluation failed: " + e, safeObserve(payloads));
    }
    if (value instanceof CelUnknownSet) {
      return new Evaluation(null, "no payload for " + String.join(", ", unbound(payloads)), observed);
    }
    if (requireBool && !(value instanceof Boolean)) {
      return new Evaluation(null, "expected a bool result, but got " + describeValue(value), observed);
    }
    return new Evaluation(value, null, observed);
  }

  @Override
  public String toString() {
    return source;
  }

  private static CelVariableResolver resolver(Map<String, JsonNode> payloads) {
    return name -> {
      JsonNode node = payloads.get(name);
      return node == null || node.isMissingNode()
          ? Optional.empty()
          : Optional.of(JsonCelValues.toCel(node));
    };
  }

  private Map<String, String> observe(Map<String, JsonNode> payloads) {
    Map<String, String> observed = new LinkedHashMap<>();
    for (ExpressionPaths.Path path : paths) {
      JsonNode root = payloads.get(path.segments().get(0));
      JsonNode node = root == null ? null : JsonCelValues.at(root, path.segments(), 1);
      observed.put(path.text(), JsonCelValues.render(node));
    }
    return observed;
  }

  private Map<String, String> safeObserve(Map<String, JsonNode> payloads) {
    try {
      return observe(payloads);
    } catch (RuntimeException e) {
      return Map.of();
    }
  }

  private List<String> unbound(Map<String, JsonNode> payloads) {
    List<String> names = new ArrayList<>();
    for (String v : variables) {
      JsonNode node = payloads.get(v);
      if (node == null || node.isMissingNode()) {
        names.add(v);
      }
    }
    return names;
  }

  /** A user-facing text for a CEL evaluation error, naming the field or the column. */
  private String describe(CelEvaluationException e) {
    String message = String.valueOf(e.getMessage());
    Integer offset = null;
    String detail = message;
    Matcher m = EVALUATION_ERROR.matcher(message);
    if (m.matches()) {
      offset = m.group(1) == null ? null : Integer.valueOf(m.group(1));
      detail = m.group(2);
    }
    ExpressionPaths.Target target = offset == null ? null : targets.get(offset);
    String in = target == null ? at(offset) : " in " + target.operand();
    if (e.getErrorCode() == CelErrorCode.ATTRIBUTE_NOT_FOUND) {
      Matcher missing = MISSING_KEY.matcher(detail);
      if (missing.matches()) {
        return "no such field '" + missing.group(1) + "'" + in;
      }
      Matcher notAnObject = NOT_AN_OBJECT.matcher(detail);
      if (notAnObject.matches()) {
        return target == null
            ? "cannot read field '" + notAnObject.group(1) + "' of a value that is not an object" + at(offset)
            : "cannot read field '" + notAnObject.group(1) + "' of " + target.operand() + ": not an object";
      }
      if (target != null && target.index()) {
        return "no such key '" + detail + "'" + in;
      }
    }
    if (e.getErrorCode() == CelErrorCode.INDEX_OUT_OF_BOUNDS && target != null && target.index()) {
      Matcher bounds = OUT_OF_BOUNDS.matcher(detail);
      if (bounds.matches()) {
        return "index " + bounds.group(1) + " is out of bounds for " + target.operand();
      }
    }
    if (e.getErrorCode() == CelErrorCode.OVERLOAD_NOT_FOUND && detail.contains(CANDIDATES)) {
      detail = detail.substring(0, detail.indexOf(CANDIDATES));
    }
    return detail + at(offset);
  }

  private static String at(Integer offset) {
    return offset == null ? "" : " (at column " + (offset + 1) + ")";
  }

  private static String describeValue(Object value) {
    if (value instanceof String s) {
      return "\"" + s + "\"";
    }
    return String.valueOf(value);
  }
}
