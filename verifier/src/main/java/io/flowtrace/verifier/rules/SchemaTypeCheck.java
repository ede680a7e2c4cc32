package io.flowtrace.verifier.rules;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.CelTypes;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import io.flowtrace.verifier.text.Spelling;
import io.flowtrace.verifier.schema.PayloadShape;
import io.flowtrace.verifier.schema.PayloadShape.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.stream.Collectors;

/**
 * Type-checks expressions against the payloads' schemas, at load time only: what would otherwise
 * fail on every instance at run time ({@code string + int}, a field the schema does not have, a
 * value an enum never takes) is a spec problem instead.
 *
 * <h2>How</h2>
 *
 * CEL's own checker does the work, with each variable declared with a CEL type derived from its
 * {@link PayloadShape}: an object with known fields is a {@link StructType} (named by its path,
 * e.g. {@code orders_created.items[]}) whose fields' types are derived on demand; other objects are
 * {@code map(string, T)}; arrays are lists; strings, booleans are themselves; every number is a
 * {@code double} (that is what JSON numbers are at run time, see {@link JsonCelValues}); a nullable
 * scalar is CEL's nullable (wrapper) type; unions of several types, and whatever the schema cannot
 * tell, are {@code dyn}. Overloads that the run time accepts but static types would not ({@code
 * double == int}, {@code double in list(int)}) are declared for this check. CEL's errors are then
 * put in words, and dropped where static types are stricter than the run time is (two objects of
 * different schemas compared with {@code ==}, {@code size()} or {@code in} of an object, the branches
 * of {@code ? :} of different types), so what remains fails (or never holds) at run time.
 *
 * <p>The run time is unchanged: rules are still compiled and evaluated over {@code dyn} variables.
 * Not thread-safe beyond {@link #check}, which is synchronized.
 */
final class SchemaTypeCheck {

  private static final CelOptions OPTIONS =
      CelOptions.current().enableHeterogeneousNumericComparisons(true).populateMacroCalls(true).build();

  /** Nesting deeper than this is typed {@code dyn}. */
  private static final int MAX_DEPTH = 32;

  private static final Set<String> PRIMITIVES = Set.of("string", "int", "uint", "double", "bool", "bytes", "null");

  private record StructInfo(String path, PayloadShape shape, String schema) {}

  private final Map<String, VariableType> variables;
  private final Map<String, StructInfo> structs = new HashMap<>();
  private final Map<String, StructType> structTypes = new HashMap<>();
  private final CelCompiler compiler;

  SchemaTypeCheck(Map<String, VariableType> variables, List<CelFunctionDecl> functions) {
    this.variables = Map.copyOf(variables);
    CelCompilerBuilder builder =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addLibraries(CelExtensions.strings())
            .addFunctionDeclarations(functions)
            .addFunctionDeclarations(runtimeAccepts())
            .setTypeProvider(new CelTypeProvider() {
              @Override
              public ImmutableCollection<CelType> types() {
                return ImmutableList.copyOf(structTypes.values());
              }

              @Override
              public Optional<CelType> findType(String name) {
                return Optional.ofNullable(structTypes.get(name));
              }
            });
    for (Map.Entry<String, VariableType> v : this.variables.entrySet()) {
      VariableType t = v.getValue();
      CelType type = t.schema() == null || t.shape().isUnknown()
          ? SimpleType.DYN
          : celType(t.shape(), v.getKey(), t.schema(), new IdentityHashMap<>(), 0);
      builder.addVar(v.getKey(), type);
    }
    this.compiler = builder.build();
  }

  /** Overloads the run time accepts (heterogeneous numeric equality) that static types would not. */
  private static List<CelFunctionDecl> runtimeAccepts() {
    List<CelFunctionDecl> out = new ArrayList<>();
    for (String[] f : new String[][] {{"_==_", "equals"}, {"_!=_", "not_equals"}}) {
      out.add(CelFunctionDecl.newFunctionDeclaration(f[0],
          CelOverloadDecl.newGlobalOverload("flowtrace_lint_" + f[1] + "_double_int", SimpleType.BOOL,
              SimpleType.DOUBLE, SimpleType.INT),
          CelOverloadDecl.newGlobalOverload("flowtrace_lint_" + f[1] + "_int_double", SimpleType.BOOL,
              SimpleType.INT, SimpleType.DOUBLE)));
    }
    out.add(CelFunctionDecl.newFunctionDeclaration("@in",
        CelOverloadDecl.newGlobalOverload("flowtrace_lint_in_double_list_int", SimpleType.BOOL,
            SimpleType.DOUBLE, ListType.create(SimpleType.INT)),
        CelOverloadDecl.newGlobalOverload("flowtrace_lint_in_int_list_double", SimpleType.BOOL,
            SimpleType.INT, ListType.create(SimpleType.DOUBLE))));
    return out;
  }

  private CelType celType(PayloadShape shape, String path, String schema, Map<PayloadShape, CelType> seen, int depth) {
    if (shape.isUnknown() || depth > MAX_DEPTH) {
      return SimpleType.DYN;
    }
    Set<Type> types = EnumSet.copyOf(shape.types());
    boolean nullable = types.remove(Type.NULL);
    if (types.isEmpty()) {
      return SimpleType.NULL_TYPE;
    }
    if (types.equals(EnumSet.of(Type.NUMBER, Type.INTEGER))) {
      types = EnumSet.of(Type.NUMBER);
    }
    if (types.size() > 1) {
      return SimpleType.DYN;
    }
    switch (types.iterator().next()) {
      case STRING:
        return nullable ? NullableType.create(SimpleType.STRING) : SimpleType.STRING;
      case NUMBER:
      case INTEGER:
        return nullable ? NullableType.create(SimpleType.DOUBLE) : SimpleType.DOUBLE;
      case BOOLEAN:
        return nullable ? NullableType.create(SimpleType.BOOL) : SimpleType.BOOL;
      case ARRAY:
        return nullable ? SimpleType.DYN
            : ListType.create(celType(shape.items(), path + "[]", schema, seen, depth + 1));
      case OBJECT: {
        if (!shape.fieldsListed()) {
          // StructType needs every field name up front: objects with other fields are maps
          PayloadShape other = shape.otherFields();
          boolean uniform = shape.fieldNames().isEmpty() && other != null;
          return nullable ? SimpleType.DYN : MapType.create(SimpleType.STRING,
              uniform ? celType(other, path + ".*", schema, seen, depth + 1) : SimpleType.DYN);
        }
        CelType known = seen.get(shape);
        if (known != null) {
          return known;
        }
        String name = uniqueName(path);
        Map<String, CelType> fieldTypes = new HashMap<>();
        StructType struct = StructType.create(name, ImmutableSet.copyOf(shape.fieldNames()), field -> {
          CelType cached = fieldTypes.get(field);
          if (cached != null) {
            return Optional.of(cached);
          }
          PayloadShape f = shape.field(field);
          if (f == null) {
            return Optional.empty();
          }
          CelType t = celType(f, path + "." + field, schema, seen, depth + 1);
          fieldTypes.put(field, t);
          return Optional.of(t);
        });
        seen.put(shape, struct);
        structs.put(name, new StructInfo(path, shape, schema));
        structTypes.put(name, struct);
        return struct;
      }
      default:
        return SimpleType.DYN;
    }
  }

  /** A type name no identifier can spell (so it never shadows a variable), unique per path. */
  private String uniqueName(String path) {
    String name = "payload:" + path;
    for (int i = 2; structTypes.containsKey(name); i++) {
      name = "payload:" + path + "#" + i;
    }
    return name;
  }

  /** Every problem of an expression that already compiles over {@code dyn} variables. */
  synchronized List<RuleSyntaxException.Problem> check(String expression, boolean condition) {
    List<RuleSyntaxException.Problem> problems = new ArrayList<>();
    CelAbstractSyntaxTree parsed = CelMessages.parse(expression);
    CelValidationResult result;
    try {
      result = compiler.compile(expression);
    } catch (RuntimeException e) {
      return List.of(); // the run-time compile accepted it; nothing more to say statically
    }
    noPayloadReads(parsed, problems);
    if (result.hasError()) {
      for (CelIssue issue : result.getErrors()) {
        int offset = CelRules.offset(result.getSource(), issue.getSourceLocation());
        RuleSyntaxException.Problem problem = describe(issue.getMessage(), offset, parsed, expression);
        if (problem != null) {
          problems.add(problem);
        }
      }
    } else {
      CelAbstractSyntaxTree ast;
      try {
        ast = result.getAst();
      } catch (CelValidationException e) {
        return problems;
      }
      CelType type = ast.getResultType();
      if (condition && !CelRules.mayBeBool(type.kind())) {
        problems.add(new RuleSyntaxException.Problem(1,
            "expected a bool expression, but its type is " + typeName(CelTypes.format(type))));
      }
      neverEqual(ast, problems);
    }
    problems.sort(Comparator.comparingInt(RuleSyntaxException.Problem::column));
    return List.copyOf(new LinkedHashSet<>(problems));
  }

  /** An event without payload read by the expression: it would never be evaluated. */
  private void noPayloadReads(CelAbstractSyntaxTree parsed, List<RuleSyntaxException.Problem> problems) {
    if (parsed == null) {
      return;
    }
    Set<String> reported = new HashSet<>();
    Map<Long, Integer> positions = parsed.getSource().getPositionsMap();
    walkIdents(parsed.getExpr(), Set.of(), (name, e) -> {
      VariableType v = variables.get(name);
      if (v != null && v.noPayload() != null && reported.add(name)) {
        problems.add(new RuleSyntaxException.Problem(positions.getOrDefault(e.id(), 0) + 1,
            name + " has no payload to read (" + v.noPayload() + "), so this is never evaluated"));
      }
    });
  }

  private interface IdentVisitor {
    void visit(String name, CelExpr ident);
  }

  private static void walkIdents(CelExpr e, Set<String> shadowed, IdentVisitor visit) {
    switch (e.getKind()) {
      case IDENT -> {
        if (!shadowed.contains(e.ident().name())) {
          visit.visit(e.ident().name(), e);
        }
      }
      case SELECT -> walkIdents(e.select().operand(), shadowed, visit);
      case CALL -> {
        e.call().target().ifPresent(t -> walkIdents(t, shadowed, visit));
        e.call().args().forEach(a -> walkIdents(a, shadowed, visit));
      }
      case LIST -> e.list().elements().forEach(x -> walkIdents(x, shadowed, visit));
      case MAP -> e.map().entries().forEach(x -> {
        walkIdents(x.key(), shadowed, visit);
        walkIdents(x.value(), shadowed, visit);
      });
      case STRUCT -> e.struct().entries().forEach(x -> walkIdents(x.value(), shadowed, visit));
      case COMPREHENSION -> {
        CelExpr.CelComprehension c = e.comprehension();
        walkIdents(c.iterRange(), shadowed, visit);
        walkIdents(c.accuInit(), shadowed, visit);
        Set<String> inner = new HashSet<>(shadowed);
        inner.add(c.iterVar());
        inner.add(c.iterVar2());
        inner.add(c.accuVar());
        walkIdents(c.loopCondition(), inner, visit);
        walkIdents(c.loopStep(), inner, visit);
        walkIdents(c.result(), inner, visit);
      }
      default -> {
        // constants
      }
    }
  }

  /**
   * A checker error in words at its column, or null when the run time would accept what static
   * types do not.
   */
  private RuleSyntaxException.Problem describe(String message, int offset, CelAbstractSyntaxTree parsed,
      String expression) {
    Matcher m;
    if ((m = CelMessages.UNDEFINED_FIELD.matcher(message)).matches()) {
      String field = m.group(1);
      Located operand = selectOperandAt(parsed, offset, field);
      // CEL places a field selection at its '.': point at the field's name instead
      boolean dot = offset < expression.length() && expression.charAt(offset) == '.';
      int column = offset + (dot ? 2 : 1);
      if (operand == null) {
        return new RuleSyntaxException.Problem(column, "no field '" + field + "'");
      }
      return new RuleSyntaxException.Problem(column, operand.path() + " has no field '" + field + "'"
          + suggestion(field, operand.shape().fieldNames()) + "; schema: " + operand.schema());
    }
    if ((m = CelMessages.NO_OVERLOAD.matcher(message)).matches()) {
      String text = noOverload(m.group(1), CelMessages.signature(m.group(2)), offset, parsed);
      return text == null ? null : new RuleSyntaxException.Problem(offset + 1, text);
    }
    if ((m = CelMessages.BAD_RANGE.matcher(message)).matches()) {
      String type = m.group(1);
      if (!isPrimitive(type) && !type.startsWith("wrapper(")) {
        return null; // an object is a map at run time: macros range over its keys
      }
      CelExpr range = CelMessages.rangeAt(parsed, offset);
      String text = range == null ? null : CelMessages.text(parsed, range);
      int column = range == null ? offset + 1 : CelMessages.start(parsed, range) + 1;
      return new RuleSyntaxException.Problem(column, "cannot iterate over " + (text == null ? "" : text + " ")
          + "(" + typeName(type) + "): all, exists, map and filter need a list or a map");
    }
    return new RuleSyntaxException.Problem(offset + 1, message.replace(" (in container '')", ""));
  }

  /** A sub-expression's payload shape, the path it is at, and the schema that says so. */
  private record Located(PayloadShape shape, String path, String schema) {}

  /**
   * What the operand of the field selection at {@code offset} is, followed from its variable
   * through fields, constant indexes and the loop variables of macros ({@code i} in {@code
   * items.all(i, …)} is an element of {@code items}).
   */
  private Located selectOperandAt(CelAbstractSyntaxTree parsed, int offset, String field) {
    if (parsed == null) {
      return null;
    }
    Map<Long, Integer> positions = parsed.getSource().getPositionsMap();
    Located[] found = new Located[1];
    findSelect(parsed.getExpr(), Map.of(), positions, offset, field, found);
    return found[0];
  }

  private void findSelect(CelExpr e, Map<String, Located> scope, Map<Long, Integer> positions, int offset,
      String field, Located[] found) {
    if (found[0] != null) {
      return;
    }
    switch (e.getKind()) {
      case SELECT -> {
        if (e.select().field().equals(field) && Integer.valueOf(offset).equals(positions.get(e.id()))) {
          found[0] = locate(e.select().operand(), scope);
          return;
        }
        findSelect(e.select().operand(), scope, positions, offset, field, found);
      }
      case CALL -> {
        e.call().target().ifPresent(t -> findSelect(t, scope, positions, offset, field, found));
        e.call().args().forEach(a -> findSelect(a, scope, positions, offset, field, found));
      }
      case LIST -> e.list().elements().forEach(x -> findSelect(x, scope, positions, offset, field, found));
      case MAP -> e.map().entries().forEach(x -> {
        findSelect(x.key(), scope, positions, offset, field, found);
        findSelect(x.value(), scope, positions, offset, field, found);
      });
      case STRUCT -> e.struct().entries().forEach(x -> findSelect(x.value(), scope, positions, offset, field, found));
      case COMPREHENSION -> {
        CelExpr.CelComprehension c = e.comprehension();
        findSelect(c.iterRange(), scope, positions, offset, field, found);
        Map<String, Located> inner = new HashMap<>(scope);
        Located range = locate(c.iterRange(), scope);
        if (range != null && !range.shape().isUnknown() && range.shape().types().equals(Set.of(Type.ARRAY))) {
          inner.put(c.iterVar(), new Located(range.shape().items(), range.path() + "[]", range.schema()));
        } else {
          inner.remove(c.iterVar());
        }
        inner.remove(c.accuVar());
        findSelect(c.loopCondition(), inner, positions, offset, field, found);
        findSelect(c.loopStep(), inner, positions, offset, field, found);
        findSelect(c.result(), inner, positions, offset, field, found);
      }
      default -> {
        // leaves
      }
    }
  }

  private Located locate(CelExpr e, Map<String, Located> scope) {
    switch (e.getKind()) {
      case IDENT -> {
        String name = e.ident().name();
        if (scope.containsKey(name)) {
          return scope.get(name);
        }
        VariableType v = variables.get(name);
        return v == null || v.schema() == null ? null : new Located(v.shape(), name, v.schema());
      }
      case SELECT -> {
        Located operand = locate(e.select().operand(), scope);
        PayloadShape f = operand == null ? null : operand.shape().field(e.select().field());
        return f == null ? null : new Located(f, operand.path() + "." + e.select().field(), operand.schema());
      }
      case CALL -> {
        CelExpr.CelCall call = e.call();
        if (!call.function().equals("_[_]") || call.args().size() != 2
            || call.args().get(1).getKind() != CelExpr.ExprKind.Kind.CONSTANT) {
          return null;
        }
        Located operand = locate(call.args().get(0), scope);
        if (operand == null) {
          return null;
        }
        CelConstant key = call.args().get(1).constant();
        if (key.getKind() == CelConstant.Kind.STRING_VALUE) {
          PayloadShape f = operand.shape().field(key.stringValue());
          return f == null ? null : new Located(f, operand.path() + "." + key.stringValue(), operand.schema());
        }
        return key.getKind() == CelConstant.Kind.INT64_VALUE
            ? new Located(operand.shape().items(), operand.path() + "[]", operand.schema()) : null;
      }
      default -> {
        return null;
      }
    }
  }

  private String noOverload(String function, List<String> types, int offset, CelAbstractSyntaxTree parsed) {
    CelExpr call = CelMessages.callAt(parsed, offset, function);
    List<CelExpr> operands = new ArrayList<>();
    if (call != null) {
      call.call().target().ifPresent(operands::add);
      operands.addAll(call.call().args());
    }
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) {
      texts.add(i < operands.size() ? CelMessages.text(parsed, operands.get(i)) : null);
    }
    boolean anyObject = types.stream().anyMatch(t -> !isPrimitive(t) && !t.startsWith("wrapper(")
        && !t.startsWith("list(") && !t.equals("dyn"));
    switch (function) {
      case "_==_", "_!=_" -> {
        if (types.size() != 2 || !types.stream().allMatch(t -> isPrimitive(t) || t.startsWith("wrapper("))) {
          return null; // objects and lists of different schemas may still be equal at run time
        }
        int nul = types.indexOf("null");
        if (nul >= 0) {
          int other = 1 - nul;
          String x = texts.get(other);
          boolean select = other < operands.size() && operands.get(other).getKind() == CelExpr.ExprKind.Kind.SELECT;
          return (x == null ? "the value" : x) + " is never null (its schema says it is "
              + article(types.get(other)) + ")" + (select ? "; test whether it is there with has(" + x + ")" : "");
        }
        return "cannot compare " + operand(texts.get(0), types.get(0)) + " with " + operand(texts.get(1), types.get(1))
            + ": values of different types are never equal";
      }
      case "_?_:_" -> {
        if (types.isEmpty() || types.get(0).equals("bool")) {
          return null; // branches of different types are fine at run time
        }
        return "the condition of '? :' must be a bool, but " + operand(texts.get(0), types.get(0)) + " is not";
      }
      case "@in", "size", "_[_]" -> {
        if (anyObject || types.stream().anyMatch(t -> t.contains("dyn") || t.startsWith("map("))) {
          return null; // an object is a map at run time
        }
      }
      default -> {
        // described below
      }
    }
    List<String> described = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) {
      described.add(operand(texts.get(i), types.get(i)));
    }
    if (function.equals("_[_]") && described.size() == 2) {
      return "cannot index " + described.get(0) + " with " + described.get(1);
    }
    if (CelMessages.isOperator(function)) {
      return "cannot apply " + CelMessages.operator(function) + " to " + and(described);
    }
    boolean member = call != null && call.call().target().isPresent();
    if (member && !described.isEmpty()) {
      String on = described.remove(0);
      return "cannot call " + function + " on " + on + (described.isEmpty() ? "" : " with " + and(described));
    }
    return "cannot call " + function + (described.isEmpty() ? "" : " with " + and(described));
  }

  /** {@code ==}/{@code !=} between a field and a string its enum never takes: never (or always) true. */
  private void neverEqual(CelAbstractSyntaxTree ast, List<RuleSyntaxException.Problem> problems) {
    Map<Long, Integer> positions = ast.getSource().getPositionsMap();
    CelMessages.walk(ast.getExpr(), e -> {
      if (e.getKind() != CelExpr.ExprKind.Kind.CALL || e.call().args().size() != 2) {
        return;
      }
      String f = e.call().function();
      CelExpr a = e.call().args().get(0);
      CelExpr b = e.call().args().get(1);
      if (f.equals("_==_") || f.equals("_!=_")) {
        if (a.getKind() == CelExpr.ExprKind.Kind.CONSTANT) {
          CelExpr t = a;
          a = b;
          b = t;
        }
        enumCheck(ast, a, List.of(b), positions, problems);
      } else if (f.equals("@in") && b.getKind() == CelExpr.ExprKind.Kind.LIST) {
        enumCheck(ast, a, b.list().elements(), positions, problems);
      }
    });
  }

  private void enumCheck(CelAbstractSyntaxTree ast, CelExpr field, List<CelExpr> values,
      Map<Long, Integer> positions, List<RuleSyntaxException.Problem> problems) {
    if (field.getKind() != CelExpr.ExprKind.Kind.SELECT || field.select().testOnly()) {
      return;
    }
    Optional<CelType> operandType = ast.getType(field.select().operand().id());
    StructInfo info = operandType.map(t -> structs.get(t.name())).orElse(null);
    if (info == null) {
      return;
    }
    PayloadShape shape = info.shape().field(field.select().field());
    List<Object> allowed = shape == null ? null : shape.enumValues();
    if (allowed == null || allowed.isEmpty() || !allowed.stream().allMatch(v -> v instanceof String)) {
      return;
    }
    List<String> names = allowed.stream().map(String.class::cast).toList();
    for (CelExpr v : values) {
      if (v.getKind() != CelExpr.ExprKind.Kind.CONSTANT
          || v.constant().getKind() != CelConstant.Kind.STRING_VALUE) {
        continue;
      }
      String value = v.constant().stringValue();
      if (!names.contains(value)) {
        String closest = closest(value, names);
        problems.add(new RuleSyntaxException.Problem(positions.getOrDefault(v.id(), 0) + 1,
            info.path() + "." + field.select().field() + " is never \"" + value + "\": its schema allows "
                + names.stream().map(n -> "\"" + n + "\"").collect(Collectors.joining(", "))
                + (closest == null ? "" : " (did you mean \"" + closest + "\"?)") + "; schema: " + info.schema()));
      }
    }
  }

  /** {@code " (did you mean 'x'?)"} or, with no close name, the fields there are (when few). */
  static String suggestion(String wrong, Collection<String> known) {
    String close = Spelling.didYouMean(wrong, known);
    if (!close.isEmpty()) {
      return close;
    }
    if (known.isEmpty()) {
      return " (it has none)";
    }
    return known.size() <= 12 ? " (it has " + String.join(", ", known) + ")" : "";
  }

  private static String closest(String wrong, List<String> known) {
    String s = Spelling.didYouMean(wrong, known);
    return s.isEmpty() ? null : s.substring(" (did you mean '".length(), s.length() - "'?)".length());
  }

  private static String and(List<String> items) {
    if (items.size() <= 1) {
      return String.join("", items);
    }
    return String.join(", ", items.subList(0, items.size() - 1)) + " and " + items.get(items.size() - 1);
  }

  private String operand(String text, String type) {
    String name = typeName(type);
    return text == null ? name : text + " (" + name + ")";
  }

  private static boolean isPrimitive(String type) {
    return PRIMITIVES.contains(type);
  }

  /** How messages name a CEL type: payload structs are objects, wrappers their value type. */
  private String typeName(String type) {
    if (structs.containsKey(type)) {
      return "object";
    }
    if (type.startsWith("wrapper(") && type.endsWith(")")) {
      return type.substring("wrapper(".length(), type.length() - 1);
    }
    if (type.startsWith("list(")) {
      return "list";
    }
    if (type.startsWith("map(")) {
      return "map";
    }
    return type;
  }

  private String article(String type) {
    return switch (typeName(type)) {
      case "string" -> "a string";
      case "double", "int", "uint" -> "a number";
      case "bool" -> "a boolean";
      case "bytes" -> "bytes";
      case "object" -> "an object";
      case "list" -> "a list";
      case "map" -> "a map";
      default -> typeName(type);
    };
  }

}
