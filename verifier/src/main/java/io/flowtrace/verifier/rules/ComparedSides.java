package io.flowtrace.verifier.rules;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelExpr;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelVariableResolver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The computed sides of the comparisons a rule makes at its top (alone or joined by {@code &&}),
 * each planned as a program of its own, so that a rule found false can say what each side came to:
 * {@code seats_held.seats.map(s, s.price).sum() = 135.5} beside the field it was compared with. A
 * side that is a field path is shown as read; a constant is left out.
 */
final class ComparedSides {

  static final ComparedSides NONE = new ComparedSides(List.of());

  private static final Set<String> COMPARISONS =
      Set.of("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "money_eq", "approx_eq");

  /** A side: a field path ({@code program} null) or a computed value. */
  private record Side(String text, CelRuntime.Program program) {}

  private final List<Side> sides;

  private ComparedSides(List<Side> sides) {
    this.sides = sides;
  }

  /** The computed sides of {@code checked}'s top comparisons; none when a side cannot be planned. */
  static ComparedSides of(CelAbstractSyntaxTree checked, CelRuntime runtime) {
    List<CelExpr> operands = new ArrayList<>();
    collect(checked.getExpr(), operands);
    List<Side> sides = new ArrayList<>();
    boolean computed = false;
    for (CelExpr operand : operands) {
      String text = CelMessages.text(checked, operand, JsonCelValues.MAX_RENDERED_LENGTH);
      if (text == null || sides.stream().anyMatch(s -> s.text().equals(text))) {
        continue;
      }
      if (!computed(operand)) {
        sides.add(new Side(text, null));
        continue;
      }
      try {
        CelAbstractSyntaxTree side = CelAbstractSyntaxTree.newCheckedAst(
            operand, checked.getSource(), checked.getReferenceMap(), checked.getTypeMap());
        sides.add(new Side(text, runtime.createProgram(side)));
        computed = true;
      } catch (Exception e) {
        // a side that cannot be planned alone is left unshown; the rule itself is unaffected
      }
    }
    return computed ? new ComparedSides(List.copyOf(sides)) : NONE;
  }

  private static void collect(CelExpr e, List<CelExpr> operands) {
    if (e.getKind() != CelExpr.ExprKind.Kind.CALL) {
      return;
    }
    CelExpr.CelCall call = e.call();
    if (call.function().equals("_&&_")) {
      call.args().forEach(a -> collect(a, operands));
    } else if (COMPARISONS.contains(call.function()) && call.target().isEmpty() && call.args().size() >= 2) {
      for (CelExpr side : call.args().subList(0, 2)) {
        if (side.getKind() != CelExpr.ExprKind.Kind.CONSTANT) {
          operands.add(side);
        }
      }
    }
  }

  private static boolean computed(CelExpr e) {
    return switch (e.getKind()) {
      case CONSTANT, IDENT -> false;
      case SELECT -> !e.select().testOnly() && computed(e.select().operand());
      default -> true;
    };
  }

  /**
   * What the rule saw, sides first: each side's text with the value it came to, in the order the
   * comparisons are written, then the fields read that are no side. {@code observed} itself when no
   * side is computed. Never throws: a side that fails reads {@code <not computed>}.
   */
  Map<String, String> withSides(Map<String, String> observed, CelVariableResolver resolver) {
    if (sides.isEmpty()) {
      return observed;
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Side side : sides) {
      if (side.program() == null) {
        String read = observed.get(side.text());
        if (read != null) {
          values.put(side.text(), read);
        }
        continue;
      }
      String value;
      try {
        value = JsonCelValues.renderValue(side.program().eval(resolver));
      } catch (Exception e) {
        value = "<not computed>";
      }
      values.put(side.text(), value);
    }
    observed.forEach(values::putIfAbsent);
    return values;
  }
}
