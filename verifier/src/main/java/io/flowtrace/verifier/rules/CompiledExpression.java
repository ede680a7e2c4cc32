package io.flowtrace.verifier.rules;

import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** A CEL expression compiled once and evaluated many times; immutable and thread-safe. */
public interface CompiledExpression {

  /** The expression text as written in the spec. */
  String source();

  /**
   * The expression on one line, for messages: its line breaks, with the indentation around them,
   * become one space (a folded YAML {@code >} block keeps a newline at its end and between lines
   * written apart).
   */
  default String oneLine() {
    return source().strip().replaceAll("[ \\t]*\\R\\s*", " ");
  }

  /** The declared variables (event ids) the expression mentions. */
  Set<String> referencedVariables();

  /**
   * Field paths the expression reads from payload variables, outermost select chains rooted at a
   * declared variable, e.g. {@code orders_created.total}, in order of appearance.
   */
  List<String> observedPaths();

  /**
   * Evaluates with each variable bound to its payload tree. Never throws: a missing variable, a
   * missing field or a type error comes back as {@link Evaluation#error()}.
   */
  Evaluation evaluate(Map<String, JsonNode> bindings);
}
