package io.flowtrace.verifier.rules;

import static java.util.Objects.requireNonNull;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelSource;
import dev.cel.common.CelSourceLocation;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypes;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import dev.cel.common.ast.CelExpr;
import io.flowtrace.verifier.schema.PayloadShape;
import io.flowtrace.verifier.text.Spelling;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compiles the CEL expressions of a flow — transformation rules and stage conditions — over the
 * flow's event ids. Each event id is a variable of type {@code dyn}, bound at evaluation to that
 * event's payload tree.
 *
 * <h2>Values</h2>
 *
 * A payload is seen by CEL as JSON: objects are maps with string keys, arrays are lists, strings,
 * booleans and {@code null} are CEL's own. Conversion is lazy: only the variables an expression
 * mentions are converted, and only the members it reads.
 *
 * <h2>Numbers</h2>
 *
 * CEL keeps {@code int} and {@code double} apart ({@code 2.5 * 2} is an error in plain CEL), while
 * JSON payloads mix them: {@code unitPrice: 12.5} times {@code quantity: 2}. So that rules work as
 * people write them:
 *
 * <ul>
 *   <li>every JSON number is bound as a CEL {@code double} (integers above 2<sup>53</sup> lose
 *       precision; {@code string(x.quantity)} gives {@code "2.0"});
 *   <li>comparisons across numeric types are enabled ({@link
 *       CelOptions#enableHeterogeneousNumericComparisons()}), so {@code x.quantity >= 1}, {@code
 *       x.quantity == 2} and {@code size(x.items) == 2} hold as expected;
 *   <li>{@code + - * /} accept a {@code double} with an {@code int} (either order) and give a
 *       {@code double}, so {@code x.total * 2} works; {@code %} stays integer-only.
 * </ul>
 *
 * <h2>Functions</h2>
 *
 * Besides the standard library and macros ({@code has}, {@code all}, {@code exists}, {@code
 * exists_one}, {@code map}, {@code filter}), the {@linkplain CelExtensions#strings() string
 * extensions} ({@code lowerAscii}, {@code split}, {@code replace}, …) and:
 *
 * <ul>
 *   <li>{@code sum(list)} or {@code list.sum()}: the sum of a list of numbers, as a double, e.g.
 *       {@code orders_created.items.map(i, i.unitPrice * i.quantity).sum()} (typed {@code dyn} so
 *       that {@code sum(l) == 3} type-checks);
 *   <li>{@code money_eq(a, b)}: {@code |a - b| ≤ 0.005} — money compared to the cent (a value rounded
 *       to the cent equals its exact value);
 *   <li>{@code approx_eq(a, b, tolerance)}: {@code |a - b| <= tolerance}.
 * </ul>
 *
 * <h2>Errors</h2>
 *
 * {@link #compile} rejects what does not parse or type-check, in plain words with the 1-based
 * column (a character offset from the start of the expression, counting line breaks as one
 * character): one problem for a syntax error (what the parser says after it is its own
 * confusion), every problem otherwise; an unknown name gets the closest event id or function.
 * Built {@linkplain #forVariables(Map) with the payloads' schemas}, it also rejects what would fail
 * or never hold on every instance (see {@link SchemaTypeCheck}). Evaluation never throws: a missing
 * field, a type mismatch or an unbound variable comes back as {@link Evaluation#error()}.
 *
 * <p>Instances are immutable and thread-safe; the CEL runtime is built once per JVM and compiled
 * expressions are meant to be compiled once and evaluated many times.
 */
public final class CelRules {

  /** CEL options shared by the compiler and the runtime. */
  private static final CelOptions OPTIONS =
      CelOptions.current().enableHeterogeneousNumericComparisons(true).populateMacroCalls(true).build();

  private static final RuleFunctions FUNCTIONS = RuleFunctions.create();

  private static final CelRuntime RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder()
          .setOptions(OPTIONS)
          .addLibraries(CelExtensions.strings())
          .addFunctionBindings(FUNCTIONS.bindings())
          .build();

  private static final Pattern IDENTIFIER = Pattern.compile("[_a-zA-Z][_a-zA-Z0-9]*");

  /** CEL's reserved words, which cannot name a variable. */
  private static final Set<String> RESERVED =
      Set.of(
          "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
          "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
          "void", "while");

  /** CEL's checker says where it looked up a name; with no container that is noise. */
  private static final String NO_CONTAINER = " (in container '')";

  /** Functions a misspelled call is compared with for "did you mean". */
  private static final Set<String> FUNCTION_NAMES =
      Set.of(
          "size", "has", "all", "exists", "exists_one", "map", "filter", "contains", "startsWith",
          "endsWith", "matches", "int", "uint", "double", "string", "bool", "bytes", "timestamp",
          "duration", "type", "dyn", "sum", "money_eq", "approx_eq", "lowerAscii", "upperAscii",
          "trim", "split", "replace", "substring", "indexOf", "lastIndexOf", "join", "charAt",
          "format", "quote", "reverse", "getFullYear", "getMonth", "getDate", "getDayOfMonth",
          "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds");

  private final Set<String> variables;
  private final CelCompiler compiler;
  private final SchemaTypeCheck typed;
  private final Map<String, VariableType> types;

  private CelRules(Set<String> variables, Map<String, VariableType> types) {
    this.variables = variables;
    CelCompilerBuilder builder =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addLibraries(CelExtensions.strings())
            .addFunctionDeclarations(FUNCTIONS.declarations());
    variables.forEach(v -> builder.addVar(v, SimpleType.DYN));
    this.compiler = builder.build();
    this.typed = types == null ? null : new SchemaTypeCheck(types, FUNCTIONS.declarations());
    this.types = types == null ? Map.of() : Map.copyOf(types);
  }

  /**
   * A read through an object its schema says may be null: {@code path} (e.g. {@code
   * assigned.courier.courierId}) goes through {@code nullable} ({@code assigned.courier}), which
   * the schema {@code schema} lets be {@code null}.
   */
  public record NullableRead(String path, String nullable, String schema) {}

  /**
   * The reads of an expression through an object its schema lets be null, where nothing in the
   * expression tests that object ({@code has(x.o)}, {@code x.o != null}) or, before it, anything
   * else of the same payload that a short-circuit could guard it by ({@code x.status != "ASSIGNED"
   * || …}): on such a payload the expression cannot be evaluated. Empty without schemas.
   */
  public List<NullableRead> nullableReads(CompiledExpression expression) {
    List<NullableRead> out = new ArrayList<>();
    String compact = expression.source().replaceAll("\\s+", "");
    for (String path : new java.util.LinkedHashSet<>(expression.observedPaths())) {
      String[] segments = path.split("\\.");
      VariableType type = types.get(segments[0]);
      if (type == null || type.schema() == null || segments.length < 3 || path.contains("[")) {
        continue;
      }
      PayloadShape shape = type.shape();
      String prefix = segments[0];
      for (int i = 1; i < segments.length - 1 && shape != null && !shape.isUnknown(); i++) {
        shape = shape.field(segments[i]);
        prefix += "." + segments[i];
        if (shape != null && shape.types().contains(PayloadShape.Type.NULL) && shape.mayBe(PayloadShape.Type.OBJECT)
            && !guarded(compact, prefix, segments[0] + ".")) {
          out.add(new NullableRead(path, prefix, type.schema()));
          break;
        }
      }
    }
    return out;
  }

  private static boolean guarded(String compact, String prefix, String variable) {
    if (compact.contains("has(" + prefix + ")") || compact.contains(prefix + "!=null")
        || compact.contains(prefix + "==null") || compact.contains("null!=" + prefix)
        || compact.contains("null==" + prefix)) {
      return true;
    }
    int at = compact.indexOf(prefix + ".");
    int before = compact.indexOf(variable);
    return before >= 0 && before < at && (compact.contains("||") || compact.contains("&&") || compact.contains("?"));
  }

  /**
   * Rules over these variables (a flow's event ids), each declared {@code dyn}.
   *
   * @throws IllegalArgumentException if a name is not a CEL identifier (letters, digits and
   *     {@code _}, not starting with a digit) or is a reserved word; see {@link #isVariableName}
   */
  public static CelRules forVariables(Set<String> variableNames) {
    return new CelRules(names(variableNames), null);
  }

  /**
   * Rules over these variables, evaluated as {@link #forVariables} does, whose compilation also
   * checks each expression against what is known of the variables' payloads (see {@link
   * SchemaTypeCheck}): fields their schemas do not have, operations on the wrong types, strings an
   * enum never takes, and events without a payload are compile errors.
   *
   * @throws IllegalArgumentException as {@link #forVariables}
   */
  public static CelRules forVariables(Map<String, VariableType> variableTypes) {
    requireNonNull(variableTypes, "variableTypes");
    return new CelRules(names(variableTypes.keySet()), variableTypes);
  }

  private static Set<String> names(Set<String> variableNames) {
    requireNonNull(variableNames, "variableNames");
    Set<String> names = new TreeSet<>();
    for (String name : variableNames) {
      requireNonNull(name, "variable name");
      if (!isVariableName(name)) {
        throw new IllegalArgumentException(
            "'" + name + "' cannot be a CEL variable: use letters, digits and '_', not starting"
                + " with a digit, and not a reserved word");
      }
      names.add(name);
    }
    return Collections.unmodifiableSet(names);
  }

  /** Whether {@code name} can be a variable: a CEL identifier that is not a reserved word. */
  public static boolean isVariableName(String name) {
    return name != null && IDENTIFIER.matcher(name).matches() && !RESERVED.contains(name);
  }

  /** The declared variables, sorted. */
  public Set<String> variables() {
    return variables;
  }

  /**
   * Parses and type-checks an expression of any result type.
   *
   * @throws RuleSyntaxException with every problem in plain words and its 1-based column (for a
   *     syntax error: the first only, since what follows it is rarely a mistake of its own)
   */
  public CompiledExpression compile(String expression) throws RuleSyntaxException {
    return compile(expression, false);
  }

  /**
   * Like {@link #compile}, for an expression that must give a bool (a stage condition or a rule):
   * also rejects an expression whose type is known not to be bool, and at evaluation turns a
   * non-bool result (possible when the type is {@code dyn}) into an {@link Evaluation#error()}.
   */
  public CompiledExpression compileCondition(String expression) throws RuleSyntaxException {
    return compile(expression, true);
  }

  private CompiledExpression compile(String expression, boolean condition) throws RuleSyntaxException {
    requireNonNull(expression, "expression");
    CelAbstractSyntaxTree ast = check(expression);
    if (condition) {
      CelType type = ast.getResultType();
      if (!mayBeBool(type.kind())) {
        throw new RuleSyntaxException(
            "expected a bool expression, but its type is " + CelTypes.format(type), 1);
      }
    }
    if (typed != null) {
      List<RuleSyntaxException.Problem> problems = typed.check(expression, condition);
      if (!problems.isEmpty()) {
        throw new RuleSyntaxException(problems);
      }
    }
    CelRuntime.Program program;
    try {
      program = RUNTIME.createProgram(ast);
    } catch (CelEvaluationException | RuntimeException e) {
      throw new RuleSyntaxException("cannot plan the expression: " + e.getMessage(), 1);
    }
    return new CelExpression(expression, program, ExpressionPaths.analyze(ast, variables), condition,
        condition ? ComparedSides.of(ast, RUNTIME) : ComparedSides.NONE);
  }

  private CelAbstractSyntaxTree check(String expression) throws RuleSyntaxException {
    CelValidationResult result;
    try {
      CelValidationResult parsed = compiler.parse(expression);
      if (parsed.hasError()) {
        // One syntax error is one mistake: what the parser says after it is its confusion.
        CelIssue first = parsed.getErrors().get(0);
        throw new RuleSyntaxException(
            CelMessages.parseError(first.getMessage()), offset(parsed.getSource(), first.getSourceLocation()) + 1);
      }
      result = compiler.check(parsed.getAst());
    } catch (CelValidationException e) {
      throw new RuleSyntaxException(String.valueOf(e.getMessage()), 1);
    } catch (RuntimeException e) {
      throw new RuleSyntaxException(String.valueOf(e.getMessage()), 1);
    }
    if (result.hasError()) {
      CelAbstractSyntaxTree parsed = CelMessages.parse(expression);
      List<RuleSyntaxException.Problem> problems = new ArrayList<>();
      for (CelIssue issue : result.getErrors()) {
        int offset = offset(result.getSource(), issue.getSourceLocation());
        problems.add(new RuleSyntaxException.Problem(offset + 1, describe(issue.getMessage(), offset, parsed)));
      }
      throw new RuleSyntaxException(problems);
    }
    try {
      return result.getAst();
    } catch (CelValidationException e) {
      throw new RuleSyntaxException(e.getMessage(), 1);
    }
  }

  /** A checker error in words: unknown names with the closest event or function. */
  private String describe(String message, int offset, CelAbstractSyntaxTree parsed) {
    Matcher undeclared = CelMessages.UNDECLARED.matcher(message);
    if (undeclared.matches()) {
      String name = undeclared.group(1);
      if (CelMessages.callAt(parsed, offset, name) != null) {
        return "unknown function '" + name + "'" + Spelling.didYouMean(name, FUNCTION_NAMES);
      }
      String close = Spelling.didYouMean(name, variables);
      if (!close.isEmpty()) {
        return "'" + name + "' is not an event of this flow" + close;
      }
      return "'" + name + "' is not an event of this flow"
          + (variables.isEmpty() || variables.size() > 12 ? "" : " (its events: " + String.join(", ", variables) + ")");
    }
    Matcher overload = CelMessages.NO_OVERLOAD.matcher(message);
    if (overload.matches()) {
      List<String> types = CelMessages.signature(overload.group(2));
      CelExpr call = CelMessages.callAt(parsed, offset, overload.group(1));
      List<CelExpr> operands = new ArrayList<>();
      if (call != null) {
        call.call().target().ifPresent(operands::add);
        operands.addAll(call.call().args());
      }
      List<String> described = new ArrayList<>();
      for (int i = 0; i < types.size(); i++) {
        String text = i < operands.size() ? CelMessages.text(parsed, operands.get(i)) : null;
        described.add(text == null ? types.get(i) : text + " (" + types.get(i) + ")");
      }
      String function = overload.group(1);
      String args = described.size() <= 1 ? String.join("", described)
          : String.join(", ", described.subList(0, described.size() - 1)) + " and " + described.get(described.size() - 1);
      return CelMessages.isOperator(function)
          ? "cannot apply " + CelMessages.operator(function) + " to " + args
          : "cannot call " + function + " with " + args;
    }
    return message.replace(NO_CONTAINER, "");
  }

  /** 0-based character offset of a location within the expression. */
  static int offset(CelSource source, CelSourceLocation location) {
    if (location == null || location.equals(CelSourceLocation.NONE)) {
      return 0;
    }
    return source.getLocationOffset(location).orElse(Math.max(0, location.getColumn()));
  }

  static boolean mayBeBool(CelKind kind) {
    switch (kind) {
      case BOOL:
      case DYN:
      case ANY:
      case TYPE_PARAM:
      case ERROR:
        return true;
      default:
        return false;
    }
  }

  @Override
  public String toString() {
    return "CelRules" + variables;
  }
}
