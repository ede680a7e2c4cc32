package io.flowtrace.verifier.rules;

import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelFunctionOverload;
import java.util.ArrayList;
import java.util.List;

/**
 * The functions flowtrace adds to CEL: their declarations (for the checker) and implementations
 * (for the runtime), kept side by side so that each overload id is declared and bound once.
 *
 * <ul>
 *   <li>{@code sum(list)} and {@code list.sum()}: the sum of a list of numbers, a double at run
 *       time but declared {@code dyn} so that it compares with an int literal ({@code sum(l) == 3}:
 *       CEL's checker rejects {@code double == int} between statically typed operands).
 *   <li>{@code money_eq(a, b) -> bool}: money compared to the cent ({@link Money}: {@code |a - b| ≤ 0.005}).
 *   <li>{@code approx_eq(a, b, tolerance) -> bool}: {@code |a - b| <= tolerance}.
 *   <li>{@code + - * /} between a double and an int (either order), giving a double, so that a
 *       payload number (always a double) combines with an integer literal: {@code x.total * 2}.
 * </ul>
 */
final class RuleFunctions {

  private static final String PREFIX = "flowtrace_";

  private final List<CelFunctionDecl> declarations = new ArrayList<>();
  private final List<CelFunctionBinding> bindings = new ArrayList<>();

  private RuleFunctions() {
    CelType numbers = ListType.create(SimpleType.DYN);
    declarations.add(
        CelFunctionDecl.newFunctionDeclaration(
            "sum",
            CelOverloadDecl.newGlobalOverload(PREFIX + "sum_list", SimpleType.DYN, numbers),
            CelOverloadDecl.newMemberOverload(PREFIX + "list_sum", SimpleType.DYN, numbers)));
    bindings.add(CelFunctionBinding.from(PREFIX + "sum_list", List.class, RuleFunctions::sum));
    bindings.add(CelFunctionBinding.from(PREFIX + "list_sum", List.class, RuleFunctions::sum));

    numericOverloads(
        "money_eq",
        2,
        args -> Money.equalToTheCent(number("money_eq", args[0]), number("money_eq", args[1])));
    numericOverloads(
        "approx_eq",
        3,
        args ->
            Math.abs(number("approx_eq", args[0]) - number("approx_eq", args[1]))
                <= number("approx_eq", args[2]));

    mixedArithmetic("_+_", "add", (a, b) -> a + b);
    mixedArithmetic("_-_", "subtract", (a, b) -> a - b);
    mixedArithmetic("_*_", "multiply", (a, b) -> a * b);
    mixedArithmetic("_/_", "divide", (a, b) -> a / b);
  }

  static RuleFunctions create() {
    return new RuleFunctions();
  }

  List<CelFunctionDecl> declarations() {
    return List.copyOf(declarations);
  }

  List<CelFunctionBinding> bindings() {
    return List.copyOf(bindings);
  }

  /** Declares and binds {@code name} for every mix of double and int arguments, returning bool. */
  private void numericOverloads(String name, int arity, CelFunctionOverload impl) {
    List<CelOverloadDecl> overloads = new ArrayList<>();
    for (int mask = 0; mask < (1 << arity); mask++) {
      List<CelType> types = new ArrayList<>();
      List<Class<?>> classes = new ArrayList<>();
      StringBuilder id = new StringBuilder(PREFIX).append(name);
      for (int i = 0; i < arity; i++) {
        boolean isInt = (mask & (1 << i)) != 0;
        types.add(isInt ? SimpleType.INT : SimpleType.DOUBLE);
        classes.add(isInt ? Long.class : Double.class);
        id.append(isInt ? "_int" : "_double");
      }
      overloads.add(CelOverloadDecl.newGlobalOverload(id.toString(), SimpleType.BOOL, types));
      bindings.add(CelFunctionBinding.from(id.toString(), classes, impl));
    }
    declarations.add(CelFunctionDecl.newFunctionDeclaration(name, overloads));
  }

  private interface DoubleOp {
    double apply(double a, double b);
  }

  private void mixedArithmetic(String operator, String name, DoubleOp op) {
    String doubleInt = PREFIX + name + "_double_int";
    String intDouble = PREFIX + name + "_int_double";
    declarations.add(
        CelFunctionDecl.newFunctionDeclaration(
            operator,
            CelOverloadDecl.newGlobalOverload(doubleInt, SimpleType.DOUBLE, SimpleType.DOUBLE, SimpleType.INT),
            CelOverloadDecl.newGlobalOverload(intDouble, SimpleType.DOUBLE, SimpleType.INT, SimpleType.DOUBLE)));
    bindings.add(CelFunctionBinding.from(doubleInt, Double.class, Long.class, (a, b) -> op.apply(a, b)));
    bindings.add(CelFunctionBinding.from(intDouble, Long.class, Double.class, (a, b) -> op.apply(a, b)));
  }

  private static Double sum(List<?> values) throws CelEvaluationException {
    double total = 0;
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      if (!(v instanceof Number n)) {
        throw new CelEvaluationException(
            "sum() needs a list of numbers, but element " + i + " is " + describe(v));
      }
      total += n.doubleValue();
    }
    return total;
  }

  private static double number(String function, Object v) throws CelEvaluationException {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new CelEvaluationException(function + "() needs numbers, but got " + describe(v));
  }

  private static String describe(Object v) {
    return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
  }
}
