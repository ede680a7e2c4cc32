package io.flowtrace.verifier.check;

import io.flowtrace.tracer.model.Span;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.model.Visibility;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.spec.EnrichmentSpec;
import io.flowtrace.verifier.spec.FieldPath;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * {@code MISSING_ENRICHMENT} when a field a stage must add or carry over is absent; a carried field
 * whose value changed is a {@code BAD_TRANSFORMATION}. A field already missing in the source is not
 * reported again downstream, so each loss is named once, at the first stage where it went missing.
 * Fields the target must {@code add} are checked on the target alone, so they are checked even
 * when the source is unobserved by design (an unsampled span); what is carried is then not verified.
 */
public final class EnrichmentCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (EnrichmentSpec e : instance.spec().enrichment()) {
      Observation from = instance.answered(e.from());
      Observation to = instance.answered(e.to());
      boolean fromUnobserved = from == null && instance.visibility().isUnobserved(e.from());
      if (to == null || to.payload() == null || from == null && !fromUnobserved
          || from != null && from.payload() == null) {
        continue;
      }
      for (FieldPath add : e.add()) {
        String missing = add.firstAbsent(to.payload());
        if (missing != null) {
          out.add(Violation.builder(ViolationKind.MISSING_ENRICHMENT, to.stageId())
              .event(to.eventId()).field(add.text())
              .message(to.describe() + " lacks '" + add.text() + "'"
                  + (add.hasArray() ? " (at " + missing + ")" : "") + ", which " + to.eventId()
                  + " must add to what it carries from " + e.from())
              .expected(add.text() + " present").actual("absent")
              .evidence(Evidence.of(to)).build());
        }
      }
      if (from == null) {
        continue; // what is carried cannot be compared with an unobserved source: see unverified()
      }
      for (Observation[] pair : pairs(instance, e, from, to)) {
        carried(e, pair[0], pair[1], out);
      }
    }
    return out;
  }

  /** What {@code target} carries over from {@code source} that is missing or changed. */
  private static void carried(EnrichmentSpec e, Observation source, Observation target, List<Violation> out) {
    if (e.carryAll()) {
      for (String name : iterable(source.payload().propertyNames())) {
        compare(name, source.payload().get(name), target.payload().get(name), source, target, out);
      }
    }
    for (FieldPath carry : e.carry()) {
      carryPath(carry, source, target, out);
    }
  }

  /**
   * What is compared: the first source with the first target; where either repeats (a partner's
   * callbacks, each causing a record), each target with the source in its own trace (where several
   * are, the one it came from, see {@link #ofTrace}) — not one its own consumer made after it (a
   * loop's next request; with nothing to tell which came first, see {@link #ofTrace}). A target whose trace holds no source is compared with
   * the last before it in the instance (of those whose carried fields it keeps, where several are):
   * a pickup in the courier app's own trace names the courier assigned last, an upload in the
   * applicant's own trace answers the request before it. Not where the source is a callback ({@code
   * trace: new}) or happens in a callback's trace with the target (a call the callback's handler
   * makes), nor where the source is a span the target's trace might hold unexported (not sampled, or
   * not known: its record lost the context): then its own source was not exported or cannot be
   * found, and the one observed may be another delivery's — except for the first target, compared
   * as when nothing repeats where the source is not a callback's, and a source that happened once,
   * before any callback the target follows (the dispatch every later callback names), which is what
   * each target carries from, whatever its trace. A target in the trace of a batch consumer that
   * read several sources is compared with the source whose carried fields it keeps, where one is.
   */
  private static List<Observation[]> pairs(FlowInstance instance, EnrichmentSpec e, Observation from, Observation to) {
    List<Observation> froms = instance.all(e.from());
    List<Observation> tos = instance.all(e.to());
    froms.removeIf(instance::retried);
    tos.removeIf(instance::retried);
    boolean byTrace = instance.visibility().inOneCallbackTrace(e.from(), e.to())
        || instance.spec().event(e.from()).newTrace();
    // a source outside the target's trace: the one there was, or any recorded (records are not sampled)
    boolean outside = !byTrace && (froms.size() == 1 || instance.spec().event(e.from()).isTopic());
    List<Observation[]> out = new ArrayList<>();
    for (Observation t : tos) {
      // of the sources in its trace, the last one before it: a courier assigned again after the
      // first declined is the one the pickup names (a trial's 191 clean orders were compared with the
      // first); the first where none came before it as read (clocks apart)
      List<Observation> inTrace = froms.stream().filter(f -> f.traceId() != null && f.traceId().equals(t.traceId())
          && f.causeAmong(List.of(t)) == null).toList();
      Observation source = inTrace.isEmpty() ? null : ofTrace(instance, e, inTrace, froms, t);
      if (source == null && t.traceId() != null) {
        // read in the target's trace: a batch consumer's span links to each record of its batch,
        // and which of them a target came from only what it carries tells
        List<Observation> read = froms.stream().filter(f -> readIn(f, t.traceId())).toList();
        source = read.isEmpty() ? null : agreeing(e, read, t);
      }
      boolean known = t.sampled() && t.traceId() != null;
      if (source == null && (t == to ? !byTrace || known : outside || !byTrace && known)) {
        source = byTrace ? from : froms.size() > 1 ? agreeing(e, froms, t) : lastBefore(froms, t, from);
      }
      if (source != null && source.payload() != null && t.payload() != null) {
        out.add(new Observation[] {source, t});
      }
    }
    return out;
  }

  /**
   * Of the sources in the target's trace, the one it came from: the record whose consumer's span
   * made it (a fan-out's item, each inspected apart); the only one there, where it is the only one
   * or the clocks say it came first; of several whose spans were exported, the last before it (a
   * courier assigned again). Else nothing tells its own from a loop's next request, which the
   * target's consumer sent in the target's trace (its spans not exported, or within the clocks' skew
   * of it), or from a copy of one: the one whose carried fields it keeps, of its trace first, then
   * of the others (the request before it); where it keeps none's, the last in its trace before it.
   */
  private static Observation ofTrace(FlowInstance instance, EnrichmentSpec e, List<Observation> inTrace,
      List<Observation> froms, Observation t) {
    Observation cause = t.causeAmong(inTrace);
    if (cause != null) {
      return cause;
    }
    if (inTrace.size() == 1) {
      Observation only = inTrace.get(0);
      if (froms.size() == 1 || instance.clocks().gap(only, t).min() > 0) {
        return only;
      }
    } else if (!(t.isRecord() && t.producer() == null
        || inTrace.stream().anyMatch(f -> f.isRecord() && f.consumers().isEmpty()))) {
      return lastBefore(inTrace, t, inTrace.get(0));
    }
    List<Observation> kept = kept(e, froms, t);
    List<Observation> keptInTrace = kept.stream().filter(inTrace::contains).toList();
    return !keptInTrace.isEmpty() ? lastBefore(keptInTrace, t, keptInTrace.get(0))
        : !kept.isEmpty() ? lastBefore(kept, t, kept.get(0))
        : lastBefore(inTrace, t, inTrace.get(0));
  }

  /** Whether a consumer of the record {@code f} read it in {@code trace}, continuing or linking to it. */
  private static boolean readIn(Observation f, String trace) {
    for (Span c : f.consumers()) {
      if (c.traceId().equals(trace)) {
        return true;
      }
    }
    return false;
  }

  /** Of the candidate sources, the last before {@code t} of those whose carried fields {@code t} keeps; else the last before it. */
  private static Observation agreeing(EnrichmentSpec e, List<Observation> candidates, Observation t) {
    if (candidates.size() > 1) {
      List<Observation> kept = kept(e, candidates, t);
      if (!kept.isEmpty()) {
        return lastBefore(kept, t, kept.get(0));
      }
    }
    return lastBefore(candidates, t, candidates.get(0));
  }

  /** The candidate sources whose carried fields {@code t} keeps. */
  private static List<Observation> kept(EnrichmentSpec e, List<Observation> candidates, Observation t) {
    List<Observation> kept = new ArrayList<>();
    if (t.payload() == null) {
      return kept;
    }
    for (Observation c : candidates) {
      List<Violation> differences = new ArrayList<>();
      if (c.payload() != null) {
        carried(e, c, t, differences);
        if (differences.isEmpty()) {
          kept.add(c);
        }
      }
    }
    return kept;
  }

  /** Of {@code froms}, the last that came before {@code t} as read; {@code first} where none did. */
  private static Observation lastBefore(List<Observation> froms, Observation t, Observation first) {
    Observation last = null;
    for (Observation f : froms) {
      if (f.timeEpochNanos() <= t.timeEpochNanos() && (last == null || f.timeEpochNanos() >= last.timeEpochNanos())) {
        last = f;
      }
    }
    return last == null ? first : last;
  }

  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>();
    for (EnrichmentSpec e : instance.spec().enrichment()) {
      if (instance.offPath(e.from()) || instance.offPath(e.to())) {
        continue;
      }
      Visibility.Unobserved from = instance.visibility().unobserved(e.from());
      Visibility.Unobserved to = instance.visibility().unobserved(e.to());
      String stage = instance.spec().event(e.to()).stageId();
      String subject = e.from() + " → " + e.to();
      if (to != null) {
        out.add(new Unverified("enrichment", stage, subject, e.to() + " not observed: " + to.reason()));
      } else if (from != null && (e.carryAll() || !e.carry().isEmpty())) {
        out.add(new Unverified("enrichment", stage, subject, "what " + e.to() + " carries over from " + e.from()
            + (e.add().isEmpty() ? "" : " (its added fields were checked)") + "; " + e.from() + " not observed: "
            + from.reason()));
      } else if (e.carryAll() || !e.carry().isEmpty()) {
        Observation first = instance.answered(e.from());
        List<Observation> tos = instance.all(e.to());
        tos.removeIf(instance::retried);
        Observation unread = schemaUnavailable(first) ? first
            : tos.stream().filter(EnrichmentCheck::schemaUnavailable).findFirst().orElse(null);
        if (unread != null) {
          out.add(new Unverified("enrichment", stage, subject, "the payload of " + unread.eventId() + " could not be"
              + " read (" + unread.schemaProblems().get(0).message() + ")"));
          continue;
        }
        int paired = first == null || tos.isEmpty() ? tos.size() : pairs(instance, e, first, tos.get(0)).size();
        if (paired < tos.size()) {
          out.add(new Unverified("enrichment", stage, subject, "what " + (tos.size() - paired) + " of "
              + tos.size() + " " + e.to() + " carry over from " + e.from() + ": no " + e.from()
              + " observed in their trace"));
        }
      }
    }
    return out;
  }

  /** An occurrence without a payload because its schema could not be had (a registry that did not answer). */
  private static boolean schemaUnavailable(Observation o) {
    return o != null && o.payload() == null
        && o.schemaProblems().stream().anyMatch(io.flowtrace.verifier.schema.SchemaProblem::unavailable);
  }

  private static <T> Iterable<T> iterable(java.util.Collection<T> c) {
    return c;
  }

  private static void carryPath(FieldPath path, Observation from, Observation to, List<Violation> out) {
    List<String> seg = path.segments();
    walk(seg, 0, from.payload(), to.payload(), "", from, to, out);
  }

  private static void walk(List<String> seg, int i, JsonNode a, JsonNode b, String prefix,
      Observation from, Observation to, List<Violation> out) {
    if (a == null || a.isMissingNode() || a.isNull()) {
      return; // absent at the source: not this stage's loss
    }
    if (i == seg.size()) {
      compare(prefix, a, b, from, to, out);
      return;
    }
    String s = seg.get(i);
    if (s.equals("[]")) {
      if (!a.isArray()) {
        return;
      }
      for (int k = 0; k < a.size(); k++) {
        JsonNode bk = b != null && b.isArray() && k < b.size() ? b.get(k) : null;
        if (bk == null) {
          missing(prefix + "[" + k + "]", a.get(k), from, to, out);
          continue;
        }
        walk(seg, i + 1, a.get(k), bk, prefix + "[" + k + "]", from, to, out);
      }
      return;
    }
    String next = prefix.isEmpty() ? s : prefix + "." + s;
    JsonNode an = a.isObject() ? a.get(s) : null;
    JsonNode bn = b != null && b.isObject() ? b.get(s) : null;
    if (an == null || an.isNull()) {
      return;
    }
    if (bn == null || bn.isMissingNode()) {
      missing(next, an, from, to, out);
      return;
    }
    walk(seg, i + 1, an, bn, next, from, to, out);
  }

  private static void compare(String field, JsonNode a, JsonNode b, Observation from, Observation to, List<Violation> out) {
    if (a == null || a.isNull()) {
      return;
    }
    if (b == null || b.isMissingNode()) {
      missing(field, a, from, to, out);
      return;
    }
    String diff = firstDifference(field, a, b);
    if (diff != null) {
      JsonNode ea = at(a, field, diff);
      JsonNode eb = at(b, field, diff);
      if (eb == null) {
        missing(diff, ea, from, to, out);
        return;
      }
      if (from.brokeSchemaAt(diff) || to.brokeSchemaAt(diff)) {
        return; // a value of the wrong type ("534.00" for 534.0): its SCHEMA_VIOLATION is the report
      }
      if (KeyCheck.carriesAnothersKey(to, diff)) {
        return; // another instance's key: KeyCheck says whose, and what placed the event here
      }
      out.add(Violation.builder(ViolationKind.BAD_TRANSFORMATION, to.stageId())
          .event(to.eventId()).field(diff)
          .message(to.describe() + " changed '" + diff + "' carried over from " + from.eventId()
              + ": expected " + Texts.json(ea) + ", was " + Texts.json(eb))
          .expected(Texts.json(ea)).actual(Texts.json(eb))
          .evidence(Evidence.of(to)).build());
    }
  }

  /** A carried field absent: reported as the loss it is (the schema's "required property" echo of it is dropped). */
  private static void missing(String field, JsonNode expected, Observation from, Observation to, List<Violation> out) {
    out.add(Violation.builder(ViolationKind.MISSING_ENRICHMENT, to.stageId())
        .event(to.eventId()).field(field)
        .message(to.describe() + " dropped '" + field + "' that " + from.eventId() + " carried ("
            + Texts.json(expected, 60) + ")")
        .expected(Texts.json(expected)).actual("absent")
        .evidence(Evidence.of(to)).build());
  }

  /** Path of the first differing leaf under {@code field}, or {@code null} when equal. */
  static String firstDifference(String field, JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0 ? null : field;
    }
    if (a.isObject() && b.isObject()) {
      for (String name : a.propertyNames()) {
        JsonNode bn = b.get(name);
        String sub = field + "." + name;
        if (bn == null) {
          if (a.get(name).isNull()) {
            continue; // a null left out is no loss; the fields after it are still compared
          }
          return sub;
        }
        String d = firstDifference(sub, a.get(name), bn);
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    if (a.isArray() && b.isArray()) {
      for (int i = 0; i < a.size(); i++) {
        String sub = field + "[" + i + "]";
        if (i >= b.size()) {
          return sub;
        }
        String d = firstDifference(sub, a.get(i), b.get(i));
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    return a.equals(b) ? null : field;
  }

  /** The node at {@code path} (which starts with {@code base}) under {@code root}. */
  static JsonNode at(JsonNode root, String base, String path) {
    String rest = path.substring(base.length());
    JsonNode node = root;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\.([^.\\[]+)|\\[(\\d+)]").matcher(rest);
    while (node != null && m.find()) {
      node = m.group(1) != null ? node.get(m.group(1)) : node.get(Integer.parseInt(m.group(2)));
    }
    return node;
  }
}
