package io.flowtrace.verifier.rules;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelExpr;
import dev.cel.parser.CelParser;
import dev.cel.parser.CelParserFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.parser.CelUnparser;
import dev.cel.parser.CelUnparserFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts CEL's parser and checker messages in plain words: what is wrong, with the text of the
 * operands involved, instead of ANTLR's token sets and CEL's overload candidates.
 */
final class CelMessages {

  private static final Pattern MISMATCHED = Pattern.compile("mismatched input '(.*)' expecting (.*)", Pattern.DOTALL);
  private static final Pattern EXTRANEOUS = Pattern.compile("extraneous input '(.*)' expecting (.*)", Pattern.DOTALL);
  private static final Pattern NO_VIABLE = Pattern.compile("no viable alternative at input '(.*)'", Pattern.DOTALL);
  private static final Pattern TOKEN = Pattern.compile("token recognition error at: '(.*)'", Pattern.DOTALL);
  private static final Pattern MISSING = Pattern.compile("missing (.*) at '(.*)'", Pattern.DOTALL);

  static final Pattern NO_OVERLOAD =
      Pattern.compile("found no matching overload for '(.*?)' applied to '(.*?)'(?: \\(candidates: .*\\))?", Pattern.DOTALL);
  static final Pattern BAD_RANGE =
      Pattern.compile("expression of type '(.*)' cannot be range of a comprehension.*", Pattern.DOTALL);
  static final Pattern UNDECLARED = Pattern.compile("undeclared reference to '(.*?)'(?: \\(in container '.*'\\))?");
  static final Pattern UNDEFINED_FIELD = Pattern.compile("undefined field '(.*)'");

  /** Operand texts longer than this are cut. */
  private static final int MAX_OPERAND = 48;

  /** A parser that keeps macro calls, so sub-expressions can be shown as written. */
  private static final CelParser PARSER =
      CelParserFactory.standardCelParserBuilder()
          .setOptions(CelOptions.current().populateMacroCalls(true).build())
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .build();

  private static final CelUnparser UNPARSER = CelUnparserFactory.newUnparser();

  private static final Map<String, String> OPERATORS = Map.ofEntries(
      Map.entry("_+_", "+"), Map.entry("_-_", "-"), Map.entry("_*_", "*"), Map.entry("_/_", "/"),
      Map.entry("_%_", "%"), Map.entry("_==_", "=="), Map.entry("_!=_", "!="), Map.entry("_<_", "<"),
      Map.entry("_<=_", "<="), Map.entry("_>_", ">"), Map.entry("_>=_", ">="), Map.entry("_&&_", "&&"),
      Map.entry("_||_", "||"), Map.entry("!_", "!"), Map.entry("-_", "-"), Map.entry("@in", "in"),
      Map.entry("_?_:_", "? :"), Map.entry("_[_]", "[]"));

  private CelMessages() {}

  /** A parse error in plain words. */
  static String parseError(String message) {
    Matcher m;
    if ((m = MISMATCHED.matcher(message)).matches() || (m = EXTRANEOUS.matcher(message)).matches()) {
      String found = m.group(1);
      String expecting = m.group(2).trim();
      boolean end = found.equals("<EOF>");
      String closing = closing(expecting);
      if (isValueSet(expecting)) {
        return end ? "the expression ends where a value should follow" : "expected a value here, found '" + found + "'";
      }
      if (expecting.equals("<EOF>")) {
        return "unexpected '" + found + "' after the end of the expression";
      }
      if (closing != null) {
        return end ? "the expression ends before its closing '" + closing + "'"
            : "expected '" + closing + "' here, found '" + found + "'";
      }
      if (expecting.contains("'=='") || expecting.contains("'&&'")) {
        return end ? "the expression ends too early"
            : "expected an operator (such as ==, &&, +) or the end of the expression here, found '" + found + "'";
      }
      return end ? "the expression ends too early" : "unexpected '" + found + "'";
    }
    if ((m = TOKEN.matcher(message)).matches()) {
      String text = m.group(1).strip();
      if (text.startsWith("\"") || text.startsWith("'")) {
        return "this string is not closed";
      }
      for (String[] op : new String[][] {{"=", "=="}, {"&", "&&"}, {"|", "||"}}) {
        if (text.startsWith(op[0])) {
          return "'" + op[0] + "' is not a CEL operator (did you mean '" + op[1] + "'?)";
        }
      }
      return "'" + text + "' is not valid CEL";
    }
    if ((m = NO_VIABLE.matcher(message)).matches()) {
      return "unexpected '" + m.group(1).strip() + "'";
    }
    if ((m = MISSING.matcher(message)).matches()) {
      String what = m.group(1).strip();
      if (m.group(2).equals("<EOF>") && what.matches("'[)\\]}]'")) {
        return "the expression ends before its closing " + what;
      }
      return m.group(2).equals("<EOF>") ? what + " is missing at the end"
          : what + " is missing before '" + m.group(2) + "'";
    }
    return message;
  }

  private static boolean isValueSet(String expecting) {
    return expecting.contains("IDENTIFIER") || expecting.contains("NUM_INT");
  }

  private static String closing(String expecting) {
    String set = expecting.replace("{", "").replace("}", "").replace(" ", "");
    for (String c : new String[] {"]", ")", "}", ":"}) {
      String quoted = "'" + c + "'";
      if (set.equals(quoted) || set.equals(quoted + ",','") || set.equals("','," + quoted)) {
        return c;
      }
    }
    return null;
  }

  /** How a message names an operator or function: {@code '+'}, {@code size}. */
  static String operator(String function) {
    String op = OPERATORS.get(function);
    return op == null ? function : "'" + op + "'";
  }

  static boolean isOperator(String function) {
    return OPERATORS.containsKey(function);
  }

  /** The types of an overload signature as CEL prints it: {@code (a, b)} or {@code a.(b, c)}. */
  static List<String> signature(String text) {
    String t = text.strip();
    List<String> out = new ArrayList<>();
    int paren = t.indexOf('(');
    if (paren > 0 && t.charAt(paren - 1) == '.') {
      out.add(t.substring(0, paren - 1)); // the receiver of a member call
    }
    if (paren < 0 || !t.endsWith(")")) {
      return out;
    }
    String inner = t.substring(paren + 1, t.length() - 1);
    int depth = 0;
    int start = 0;
    for (int i = 0; i < inner.length(); i++) {
      char c = inner.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(inner.substring(start, i).strip());
        start = i + 1;
      }
    }
    if (!inner.isBlank()) {
      out.add(inner.substring(start).strip());
    }
    return out;
  }

  /** The parsed expression, macros kept, to show operands as written; null when it does not parse. */
  static CelAbstractSyntaxTree parse(String expression) {
    try {
      CelValidationResult r = PARSER.parse(expression);
      return r.hasError() ? null : r.getAst();
    } catch (RuntimeException | dev.cel.common.CelValidationException e) {
      return null;
    }
  }

  /** The call at {@code offset} in {@code ast} (CEL places a call at its operator or '('), or null. */
  static CelExpr callAt(CelAbstractSyntaxTree ast, int offset, String function) {
    if (ast == null) {
      return null;
    }
    Map<Long, Integer> positions = ast.getSource().getPositionsMap();
    CelExpr[] found = new CelExpr[1];
    walk(ast.getExpr(), e -> {
      if (found[0] == null && e.getKind() == CelExpr.ExprKind.Kind.CALL
          && e.call().function().equals(function) && Integer.valueOf(offset).equals(positions.get(e.id()))) {
        found[0] = e;
      }
    });
    return found[0];
  }

  /** The range of the comprehension whose range CEL places at {@code offset}, or null. */
  static CelExpr rangeAt(CelAbstractSyntaxTree ast, int offset) {
    if (ast == null) {
      return null;
    }
    Map<Long, Integer> positions = ast.getSource().getPositionsMap();
    CelExpr[] found = new CelExpr[1];
    walk(ast.getExpr(), e -> {
      if (found[0] == null && e.getKind() == CelExpr.ExprKind.Kind.COMPREHENSION) {
        CelExpr range = e.comprehension().iterRange();
        if (Integer.valueOf(offset).equals(positions.get(range.id()))
            || Integer.valueOf(offset).equals(positions.get(e.id()))) {
          found[0] = range;
        }
      }
    });
    return found[0];
  }

  /** Where a sub-expression starts in the source: the least position in it. */
  static int start(CelAbstractSyntaxTree ast, CelExpr e) {
    Map<Long, Integer> positions = ast.getSource().getPositionsMap();
    int[] min = {Integer.MAX_VALUE};
    walk(e, x -> {
      Integer p = positions.get(x.id());
      if (p != null) {
        min[0] = Math.min(min[0], p);
      }
    });
    return min[0] == Integer.MAX_VALUE ? 0 : min[0];
  }

  /** Visits every sub-expression, the macro calls' as written included. */
  static void walk(CelExpr e, Consumer<CelExpr> visit) {
    visit.accept(e);
    switch (e.getKind()) {
      case SELECT -> walk(e.select().operand(), visit);
      case CALL -> {
        e.call().target().ifPresent(t -> walk(t, visit));
        e.call().args().forEach(a -> walk(a, visit));
      }
      case LIST -> e.list().elements().forEach(x -> walk(x, visit));
      case MAP -> e.map().entries().forEach(x -> {
        walk(x.key(), visit);
        walk(x.value(), visit);
      });
      case STRUCT -> e.struct().entries().forEach(x -> walk(x.value(), visit));
      case COMPREHENSION -> {
        CelExpr.CelComprehension c = e.comprehension();
        walk(c.iterRange(), visit);
        walk(c.accuInit(), visit);
        walk(c.loopCondition(), visit);
        walk(c.loopStep(), visit);
        walk(c.result(), visit);
      }
      default -> {
        // leaves
      }
    }
  }

  /** A sub-expression as source text, cut when long. */
  static String text(CelAbstractSyntaxTree ast, CelExpr e) {
    return text(ast, e, MAX_OPERAND);
  }

  /** {@link #text(CelAbstractSyntaxTree, CelExpr)} cut to {@code max} characters. */
  static String text(CelAbstractSyntaxTree ast, CelExpr e, int max) {
    String t;
    try {
      t = UNPARSER.unparse(CelAbstractSyntaxTree.newParsedAst(e, ast.getSource()));
    } catch (RuntimeException ex) {
      return null;
    }
    return t.length() <= max ? t : t.substring(0, max - 1) + "…";
  }
}
