package io.flowtrace.verifier.assembly;

import io.flowtrace.tracer.recording.ReadProblem;
import io.flowtrace.tracer.recording.RecordingReader;
import io.flowtrace.tracer.recording.SourceCut;
import io.flowtrace.verifier.internal.Texts;
import io.flowtrace.verifier.report.Verdict;
import io.flowtrace.verifier.report.VerdictStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Input that could not be read, by the names its text held ({@link ReadProblem#names}): a verdict
 * that did not pass, and whose key values or traces such input names, says where, since what that
 * input held (a record, a span) is missing from it. So does one that ran past the point where a
 * file of spans stopped being read, and every one when a file of records did ({@link SourceCut}):
 * what followed in that file may have held its events.
 * Immutable; read from any thread.
 */
final class Unreadable {

  static final Unreadable NONE = new Unreadable(Map.of(), List.of(), Set.of());
  /** Key values shorter than this are too common in any text to name an instance. */
  private static final int MIN_KEY_LENGTH = 4;
  private static final int MAX_NOTES = 3;
  private static final int MAX_REASON = 120;
  private static final java.util.regex.Pattern TRACE_ID = java.util.regex.Pattern.compile("[0-9a-f]{32}");

  private final Map<String, ReadProblem> byName;
  private final List<SourceCut> cuts;
  /** Trace ids the text of unreadable spans held: those traces lost spans there. */
  private final Set<String> spanTraces;

  private Unreadable(Map<String, ReadProblem> byName, List<SourceCut> cuts, Set<String> spanTraces) {
    this.byName = byName;
    this.cuts = cuts;
    this.spanTraces = spanTraces;
  }

  /**
   * Whether spans of this trace were in input of spans that could not be read (its id is in their
   * text): what only its spans show is then not verified, as for a trace not sampled, instead of missing.
   */
  boolean lostSpansOf(String traceId) {
    return !spanTraces.isEmpty() && traceId != null && spanTraces.contains(traceId);
  }

  /** The problems' names, each kept with the first problem that held it, and the files cut short. */
  static Unreadable of(Collection<ReadProblem> problems, Collection<SourceCut> cuts) {
    Map<String, ReadProblem> byName = new HashMap<>();
    Set<String> spanTraces = new HashSet<>();
    for (ReadProblem p : problems) {
      boolean spans = RecordingReader.holdsSpans(p.position().source());
      for (String name : p.names()) {
        byName.putIfAbsent(name, p);
        if (spans && TRACE_ID.matcher(name).matches()) {
          spanTraces.add(name);
        }
      }
    }
    List<SourceCut> sorted = new ArrayList<>(cuts);
    sorted.sort(java.util.Comparator.comparingLong(SourceCut::lastSpanEndNanos));
    return byName.isEmpty() && sorted.isEmpty() ? NONE
        : new Unreadable(byName, List.copyOf(sorted), Set.copyOf(spanTraces));
  }

  /**
   * {@code verdict}, with a note for each unreadable input naming it, and for each file cut short
   * before its deadline ({@code deadlineNanos} after it began), when it did not pass.
   */
  Verdict noted(Verdict verdict, long deadlineNanos) {
    if (this == NONE || verdict.status() == VerdictStatus.PASSED) {
      return verdict;
    }
    List<String> cutNotes = new ArrayList<>();
    for (SourceCut cut : cuts) {
      // an exporter writes spans nearly in end-time order; a record dump is in order only within
      // each partition (kcat writes topic after topic), so its cut may have taken records of any time
      if (!cut.spans()) {
        cutNotes.add(cut.problem().position() + " could not be read to its end: what followed may have held this"
            + " flow's events, and this verdict may be wrong for that alone");
      } else if (cut.oneRequest()) {
        if (verdict.startEpochNanos() + deadlineNanos > cut.lastSpanEndNanos()
            && verdict.startEpochNanos() <= cut.lostUntilNanos()) {
          cutNotes.add(cut.problem().position() + " held a request of spans cut short (its spans were read up to "
              + Texts.instant(cut.lastSpanEndNanos()) + ") and this flow ran then: the spans it lost may have been"
              + " this flow's, and this verdict may be wrong for that alone");
        }
      } else if (verdict.startEpochNanos() + deadlineNanos > cut.lastSpanEndNanos()) {
        cutNotes.add(cut.problem().position() + " could not be read to its end (its spans were read up to "
            + Texts.instant(cut.lastSpanEndNanos()) + ") and this flow ran until after then: what followed may"
            + " have held its spans, and this verdict may be wrong for that alone");
      }
    }
    Map<ReadProblem, String> found = new LinkedHashMap<>();
    verdict.keys().forEach((key, value) -> {
      ReadProblem p = value.length() < MIN_KEY_LENGTH ? null : byName.get(value);
      if (p != null) {
        found.putIfAbsent(p, key + " " + value);
      }
    });
    for (String trace : verdict.traceIds()) {
      ReadProblem p = byName.get(trace);
      if (p != null) {
        found.putIfAbsent(p, "its trace " + trace);
      }
    }
    if (found.isEmpty() && cutNotes.isEmpty()) {
      return verdict;
    }
    List<String> notes = new ArrayList<>(verdict.notes());
    notes.addAll(cutNotes);
    int shown = 0;
    for (Map.Entry<ReadProblem, String> e : found.entrySet()) {
      if (shown++ == MAX_NOTES) {
        notes.add("and " + (found.size() - MAX_NOTES) + " more unreadable pieces of input name this instance");
        break;
      }
      String reason = e.getKey().reason();
      notes.add("input that could not be read names this instance (" + e.getValue() + "): "
          + e.getKey().position() + ": " + (reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "…" : reason)
          + "; what it held is missing here, and this verdict may be wrong for that alone");
    }
    return new Verdict(verdict.flow(), verdict.keys(), verdict.status(), verdict.violations(), verdict.traceIds(),
        verdict.startEpochNanos(), verdict.decidedEpochNanos(), verdict.revision(), verdict.reason(),
        verdict.timeline(), verdict.unverified(), notes);
  }
}
