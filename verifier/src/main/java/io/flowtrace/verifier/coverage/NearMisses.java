package io.flowtrace.verifier.coverage;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.text.Spelling;
import io.flowtrace.verifier.spec.SpanMatcher;
import io.flowtrace.verifier.spec.StringMatcher;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Why a span or a topic that a declared event did not match is probably the one that was meant:
 * every criterion of the matcher holds but one, and that one is off by case, a route parameter, a
 * separator or a character or two. Whether a criterion holds is always decided by the engine's
 * matchers; this class only explains the one that did not.
 */
final class NearMisses {
  private static final Pattern PARAMETER = Pattern.compile(
      "\\{[^/}]+\\}|:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}|[0-9a-fA-F]{16,}|[A-Za-z]+-[0-9a-fA-F]{6,}");

  private NearMisses() {}

  /**
   * Why {@code span} is probably what {@code matcher} means, or null when it is not close: all
   * criteria but one hold and that one nearly does.
   */
  static String span(SpanMatcher matcher, Span span) {
    boolean service = new SpanMatcher(matcher.service(), null, null, Map.of()).matches(span);
    boolean kind = new SpanMatcher(null, matcher.kind(), null, Map.of()).matches(span);
    boolean name = new SpanMatcher(null, null, matcher.name(), Map.of()).matches(span);
    String failedAttribute = null;
    int failed = (service ? 0 : 1) + (kind ? 0 : 1) + (name ? 0 : 1);
    for (Map.Entry<String, StringMatcher> a : matcher.attributes().entrySet()) {
      if (!new SpanMatcher(null, null, null, Map.of(a.getKey(), a.getValue())).matches(span)) {
        failed++;
        failedAttribute = a.getKey();
      }
    }
    if (failed != 1) {
      return null;
    }
    if (!service) {
      String why = close(matcher.service(), span.service());
      return why == null ? null : "its service " + why + " ('" + matcher.service() + "' declared)";
    }
    if (!kind) {
      return "it is a " + span.kind() + " span, not " + matcher.kind();
    }
    if (!name) {
      String why = closeTo(matcher.name(), span.name());
      String route = span.attribute("http.route");
      String method = span.firstAttribute("http.request.method", "http.method");
      if (why == null && route != null && method != null && !route.equals(span.name())) {
        why = closeTo(matcher.name(), method + " " + route);
        if (why != null) {
          return "its route '" + method + " " + route + "' " + why;
        }
      }
      return why == null ? null : "its name " + why;
    }
    StringMatcher m = matcher.attributes().get(failedAttribute);
    String value = span.attribute(failedAttribute);
    if (value == null) {
      String similar = similarAttribute(failedAttribute, span);
      return "it has no attribute " + failedAttribute
          + (similar == null ? "" : " (it has " + similar + ": '" + span.attribute(similar) + "')");
    }
    String why = closeTo(m, value);
    return why == null ? null : "its " + failedAttribute + " '" + value + "' " + why;
  }

  /** Why topic {@code seen} is probably the declared {@code topic}, or null. */
  static String topic(String topic, String seen) {
    String why = close(topic, seen);
    return why == null ? null : "its name " + why;
  }

  /** How {@code value} nearly satisfies {@code m} ("differs only in case" …), or null. */
  private static String closeTo(StringMatcher m, String value) {
    if (m.exact() != null) {
      return close(m.exact(), value);
    }
    Pattern p = m.regex();
    if (Pattern.compile(p.pattern(), p.flags() | Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE).matcher(value).find()) {
      return "matches " + m + " only ignoring case";
    }
    int query = value.indexOf('?');
    if (query >= 0 && m.matches(value.substring(0, query))) {
      return "would match " + m + " without its query string";
    }
    if (value.endsWith("/") && m.matches(value.substring(0, value.length() - 1))) {
      return "would match " + m + " without its trailing '/'";
    }
    String literal = literal(p.pattern());
    if (literal != null && literal.length() >= 4) {
      int distance = substringDistance(literal, value);
      if (distance > 0 && distance <= maxDistance(literal)) {
        return "almost matches " + m + " (" + characters(distance) + " off)";
      }
    }
    return null;
  }

  /** How {@code seen} nearly equals {@code declared}, or null. */
  private static String close(String declared, String seen) {
    if (declared.equals(seen)) {
      return null;
    }
    if (declared.equalsIgnoreCase(seen)) {
      return "differs only in case";
    }
    if (separatorless(declared).equals(separatorless(seen))) {
      return "differs only in separators";
    }
    if (routeShape(declared).equals(routeShape(seen))) {
      return "differs only by a route parameter";
    }
    int distance = Spelling.editDistance(declared.toLowerCase(Locale.ROOT), seen.toLowerCase(Locale.ROOT));
    if (distance <= maxDistance(declared)) {
      return "differs by " + characters(distance);
    }
    return null;
  }

  private static int maxDistance(String text) {
    return text.length() < 6 ? 1 : 2;
  }

  private static String characters(int n) {
    return n == 1 ? "1 character" : n + " characters";
  }

  private static String separatorless(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[._\\-/ ]", "");
  }

  /** A path with its parameters ({@code {id}}, {@code :id}, numbers, UUIDs, hex ids) made alike. */
  private static String routeShape(String s) {
    String[] parts = s.split("/", -1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append(i > 0 && PARAMETER.matcher(parts[i]).matches() ? "{}" : parts[i].toLowerCase(Locale.ROOT));
    }
    return sb.toString();
  }

  /** The literal text a simple regex stands for ({@code /payments$} → {@code /payments}), or null. */
  private static String literal(String regex) {
    String r = regex;
    if (r.startsWith("^")) {
      r = r.substring(1);
    }
    if (r.endsWith("$") && !r.endsWith("\\$")) {
      r = r.substring(0, r.length() - 1);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < r.length(); i++) {
      char c = r.charAt(i);
      if (c == '\\' && i + 1 < r.length() && !Character.isLetterOrDigit(r.charAt(i + 1))) {
        sb.append(r.charAt(++i));
      } else if ("[](){}.*+?|^$\\".indexOf(c) >= 0) {
        return null;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** The least edit distance between {@code needle} and any substring of {@code text}. */
  private static int substringDistance(String needle, String text) {
    int[] prev = new int[text.length() + 1];
    int[] cur = new int[text.length() + 1];
    for (int i = 1; i <= needle.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= text.length(); j++) {
        int cost = needle.charAt(i - 1) == text.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    int best = Integer.MAX_VALUE;
    for (int v : prev) {
      best = Math.min(best, v);
    }
    return best;
  }

  /** An attribute of {@code span} that is probably {@code key} under another convention. */
  private static String similarAttribute(String key, Span span) {
    String tail = key.substring(key.lastIndexOf('.') + 1);
    String best = null;
    for (String k : span.attributes().keySet()) {
      if (k.equals(key)) {
        continue;
      }
      boolean sameTail = k.endsWith("." + tail) || k.equals(tail);
      boolean alias = KNOWN_ALIASES.getOrDefault(key, "").equals(k) || KNOWN_ALIASES.getOrDefault(k, "").equals(key);
      if (alias || sameTail || Spelling.editDistance(k, key) <= 2) {
        if (best == null || alias) {
          best = k;
        }
      }
    }
    return best;
  }

  /** Attributes renamed between the older and the stable semantic conventions. */
  private static final Map<String, String> KNOWN_ALIASES = aliases();

  private static Map<String, String> aliases() {
    Map<String, String> all = new java.util.HashMap<>(io.flowtrace.verifier.spec.SpanMatcher.OLDER_NAMES);
    all.put("url.path", "http.target");
    return Map.copyOf(all);
  }
}
