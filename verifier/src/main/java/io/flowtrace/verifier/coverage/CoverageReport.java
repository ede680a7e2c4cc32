package io.flowtrace.verifier.coverage;

import java.util.ArrayList;
import java.util.List;

/**
 * What a recording showed of flow specs: per flow, how often each declared event matched and, for
 * those that never did, the spans or topics that almost match; and the traffic no flow covers.
 *
 * @param spans spans read
 * @param records Kafka records read, each once
 * @param recordsReadAgain lines naming a record (topic, partition, offset) already read: a dump
 *     that holds some records twice; not counted in {@code records} nor as matches
 * @param uncovered HTTP server/client spans and topics no declared event matches, most frequent first
 * @param notes what the spec may not mean, in words: a topic events of more than one flow are
 *     declared on, a span event of a later stage whose spans each start a trace of their own
 */
public record CoverageReport(long spans, long records, long recordsReadAgain, List<FlowCoverage> flows,
    List<Traffic> uncovered, List<String> notes) {

  public CoverageReport {
    flows = List.copyOf(flows);
    uncovered = List.copyOf(uncovered);
    notes = List.copyOf(notes);
  }

  /**
   * One declared event.
   *
   * @param source how the spec declares where it is seen ({@code topic orders.created}, {@code
   *     SERVER span 'POST /api/orders' of gateway})
   * @param matched spans or records it matched
   * @param payloadAttribute the span attribute its payload is read from (null for records)
   * @param withoutPayload matched spans that lack that attribute
   * @param nearMisses why some span or topic is probably the one meant, when it matched nothing
   */
  public record EventCoverage(String id, String source, boolean topic, long matched, String payloadAttribute,
      long withoutPayload, List<String> nearMisses) {
    public EventCoverage {
      nearMisses = List.copyOf(nearMisses);
    }
  }

  /** One flow spec's events. */
  public record FlowCoverage(String flow, String file, List<EventCoverage> events) {
    public FlowCoverage {
      events = List.copyOf(events);
    }

    public long unmatched() {
      return events.stream().filter(e -> e.matched() == 0).count();
    }
  }

  /** Traffic of one kind that no flow covers: spans of one service, kind and name, or a topic. */
  public record Traffic(String what, long spans, long records) {}

  /** Whether every declared event matched at least one span or record. */
  public boolean everyEventMatched() {
    return flows.stream().allMatch(f -> f.unmatched() == 0);
  }

  /** The report as lines for a terminal. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    for (FlowCoverage f : flows) {
      long unmatched = f.unmatched();
      int n = f.events().size();
      out.add(f.flow() + " (" + f.file() + "): " + (unmatched == 0
          ? (n == 1 ? "its declared event matched" : "all " + n + " declared events matched")
          : unmatched == n ? "none of its " + count(n, "declared event") + " matched anything (is this"
              + " recording of another system?)"
          : (n - unmatched) + " of " + count(n, "declared event") + " matched; " + unmatched + " matched nothing"));
      int width = f.events().stream().mapToInt(e -> e.id().length()).max().orElse(0);
      for (EventCoverage e : f.events()) {
        String id = String.format("%-" + width + "s", e.id());
        if (e.matched() == 0) {
          out.add("  ✗ " + id + "  " + e.source() + ": matched nothing");
          if (e.nearMisses().isEmpty()) {
            out.add("      nothing in the recording comes close");
          }
          e.nearMisses().forEach(m -> out.add("      near miss: " + m));
        } else {
          out.add("  ✓ " + id + "  " + e.source() + ": " + count(e.matched(), e.topic() ? "record" : "span"));
          if (e.withoutPayload() > 0) {
            out.add("      but " + (e.withoutPayload() == e.matched() ? "none of them has"
                : e.withoutPayload() + (e.withoutPayload() == 1 ? " of them lacks" : " of them lack"))
                + " attribute " + e.payloadAttribute() + ", which its payload is read from");
          }
        }
      }
    }
    notes.forEach(t -> out.add("note: " + t));
    if (recordsReadAgain > 0) {
      out.add("note: " + count(recordsReadAgain, "record") + " read again (the same topic, partition and offset"
          + " twice in the recording) counted once");
    }
    if (uncovered.isEmpty()) {
      out.add("all HTTP server/client spans and topics in the recording are covered by a flow");
    } else {
      out.add("traffic no flow covers:");
      for (Traffic t : uncovered) {
        List<String> parts = new ArrayList<>();
        if (t.records() > 0) {
          parts.add(count(t.records(), "record"));
        }
        if (t.spans() > 0) {
          parts.add(count(t.spans(), "span"));
        }
        out.add("  " + t.what() + ": " + String.join(", ", parts));
      }
    }
    return out;
  }

  /** {@code 1 span}, {@code 2 spans}. */
  static String count(long n, String noun) {
    return n + " " + (n == 1 ? noun : noun + "s");
  }
}
