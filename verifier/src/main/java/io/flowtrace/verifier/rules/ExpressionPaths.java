package io.flowtrace.verifier.rules;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a checked expression reads from its variables, found by walking its AST once at compile
 * time: the outermost field-selection chains rooted at a declared variable (not at a
 * comprehension's loop variable), the variables mentioned, and, for error messages, the text of
 * the operand of every field selection and index by source offset.
 */
final class ExpressionPaths {

  private static final String INDEX = "_[_]";

  /** A chain such as {@code orders_created.items}: segment 0 is the variable. */
  record Path(String text, List<String> segments) {
    Path {
      segments = List.copyOf(segments);
    }
  }

  /** What a field selection ({@code index == false}) or an index reads from, as source-like text. */
  record Target(String operand, boolean index) {}

  private record Found(int position, int order, List<String> segments) {}

  private final Set<String> declared;
  private final Map<Long, Integer> positions;
  private final List<Found> found = new ArrayList<>();
  private final Map<Integer, Target> targets = new HashMap<>();

  private ExpressionPaths(Set<String> declared, Map<Long, Integer> positions) {
    this.declared = declared;
    this.positions = positions;
  }

  static Result analyze(CelAbstractSyntaxTree ast, Set<String> declared) {
    ExpressionPaths walker = new ExpressionPaths(declared, ast.getSource().getPositionsMap());
    walker.walk(ast.getExpr(), Set.of());
    walker.found.sort(Comparator.comparingInt(Found::position).thenComparingInt(Found::order));
    Map<String, Path> paths = new LinkedHashMap<>();
    Set<String> variables = new LinkedHashSet<>();
    for (Found f : walker.found) {
      String text = String.join(".", f.segments());
      paths.putIfAbsent(text, new Path(text, f.segments()));
      variables.add(f.segments().get(0));
    }
    return new Result(
        Collections.unmodifiableSet(variables),
        List.copyOf(paths.values()),
        Map.copyOf(walker.targets));
  }

  /**
   * @param variables declared variables mentioned, in order of appearance
   * @param paths outermost select chains rooted at those variables, in order of appearance
   * @param targets source offset of a field selection or index → what it reads from
   */
  record Result(Set<String> variables, List<Path> paths, Map<Integer, Target> targets) {}

  private void walk(CelExpr e, Set<String> shadowed) {
    switch (e.getKind()) {
      case IDENT -> {
        String name = e.ident().name();
        if (isVariable(name, shadowed)) {
          record(e, List.of(name));
        }
      }
      case SELECT -> {
        noteOperand(e, e.select().operand(), false);
        Deque<String> chain = new ArrayDeque<>();
        CelExpr base = e;
        while (base.getKind() == CelExpr.ExprKind.Kind.SELECT) {
          chain.addFirst(base.select().field());
          base = base.select().operand();
        }
        if (base.getKind() == CelExpr.ExprKind.Kind.IDENT && isVariable(base.ident().name(), shadowed)) {
          chain.addFirst(base.ident().name());
          record(base, List.copyOf(chain));
          noteInnerOperands(e);
        } else {
          walk(e.select().operand(), shadowed);
        }
      }
      case CALL -> {
        CelExpr.CelCall call = e.call();
        if (INDEX.equals(call.function()) && call.args().size() == 2) {
          noteOperand(e, call.args().get(0), true);
        }
        call.target().ifPresent(t -> walk(t, shadowed));
        call.args().forEach(a -> walk(a, shadowed));
      }
      case LIST -> e.list().elements().forEach(x -> walk(x, shadowed));
      case MAP ->
          e.map().entries().forEach(x -> {
            walk(x.key(), shadowed);
            walk(x.value(), shadowed);
          });
      case STRUCT -> e.struct().entries().forEach(x -> walk(x.value(), shadowed));
      case COMPREHENSION -> {
        CelExpr.CelComprehension c = e.comprehension();
        walk(c.iterRange(), shadowed);
        walk(c.accuInit(), shadowed);
        Set<String> inner = new HashSet<>(shadowed);
        inner.add(c.iterVar());
        inner.add(c.iterVar2());
        inner.add(c.accuVar());
        walk(c.loopCondition(), inner);
        walk(c.loopStep(), inner);
        walk(c.result(), inner);
      }
      default -> {
        // constants and unset expressions read nothing
      }
    }
  }

  private boolean isVariable(String name, Set<String> shadowed) {
    return declared.contains(name) && !shadowed.contains(name);
  }

  private void record(CelExpr root, List<String> segments) {
    found.add(new Found(positions.getOrDefault(root.id(), Integer.MAX_VALUE), found.size(), segments));
  }

  /** Operands inside a recorded chain ({@code a.b} in {@code a.b.c}) are not walked otherwise. */
  private void noteInnerOperands(CelExpr select) {
    CelExpr e = select.select().operand();
    while (e.getKind() == CelExpr.ExprKind.Kind.SELECT) {
      noteOperand(e, e.select().operand(), false);
      e = e.select().operand();
    }
  }

  private void noteOperand(CelExpr e, CelExpr operand, boolean index) {
    Integer at = positions.get(e.id());
    String text = text(operand);
    if (at != null && text != null) {
      targets.put(at, new Target(text, index));
    }
  }

  /** Source-like text of a simple operand ({@code a.b[0].c}), or {@code null} when not simple. */
  private static String text(CelExpr e) {
    switch (e.getKind()) {
      case IDENT:
        return e.ident().name();
      case SELECT:
        {
          String operand = text(e.select().operand());
          return operand == null || e.select().testOnly() ? null : operand + "." + e.select().field();
        }
      case CALL:
        {
          CelExpr.CelCall call = e.call();
          if (!INDEX.equals(call.function()) || call.args().size() != 2) {
            return null;
          }
          String operand = text(call.args().get(0));
          CelExpr key = call.args().get(1);
          if (operand == null || key.getKind() != CelExpr.ExprKind.Kind.CONSTANT) {
            return null;
          }
          CelConstant c = key.constant();
          return switch (c.getKind()) {
            case STRING_VALUE -> operand + "['" + c.stringValue() + "']";
            case INT64_VALUE -> operand + "[" + c.int64Value() + "]";
            default -> null;
          };
        }
      default:
        return null;
    }
  }
}
