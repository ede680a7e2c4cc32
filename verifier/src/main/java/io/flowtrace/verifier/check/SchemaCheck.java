package io.flowtrace.verifier.check;

import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.schema.SchemaProblem;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code SCHEMA_VIOLATION}: every schema problem of every payload, with its field path — but an
 * attempt that failed and was made again ({@link FlowInstance#retried}): its error body is not the
 * payload the schema describes; and a payload whose schema could not be had (a registry down),
 * which is not verified rather than failed.
 */
public final class SchemaCheck implements Check {
  @Override
  public List<Violation> check(FlowInstance instance) {
    List<Violation> out = new ArrayList<>();
    for (Observation o : instance.observations()) {
      if (!o.schemaProblems().isEmpty() && instance.retried(o)) {
        continue;
      }
      for (SchemaProblem p : o.schemaProblems()) {
        if (p.unavailable()) {
          continue;
        }
        out.add(Violation.builder(ViolationKind.SCHEMA_VIOLATION, o.stageId())
            .event(o.eventId())
            .field(fieldOf(p))
            .message(o.describe() + (!o.event().schema().declared()
                ? " cannot be read as " + o.event().schema().format() + " (no schema declared)"
                : " breaks " + o.event().schema().description()) + ": " + p.path() + ": " + p.message())
            .actual(p.message())
            .evidence(Evidence.of(o))
            .build());
      }
    }
    return out;
  }

  /** Payloads whose schema could not be had (a registry that could not answer): not checked, not failed. */
  @Override
  public List<Unverified> unverified(FlowInstance instance) {
    List<Unverified> out = new ArrayList<>(0);
    for (Observation o : instance.observations()) {
      for (SchemaProblem p : o.schemaProblems()) {
        if (p.unavailable()) {
          out.add(new Unverified("schema", o.stageId(), o.describe(), p.message()));
          break;
        }
      }
    }
    return out;
  }

  /** {@code $.items[0].quantity} → {@code items[0].quantity}; a required-property problem names the property. */
  static String fieldOf(SchemaProblem p) {
    String path = p.path() == null ? "$" : p.path();
    String field = path.startsWith("$.") ? path.substring(2) : path.equals("$") ? null : path;
    java.util.regex.Matcher m = REQUIRED.matcher(p.message());
    if (m.find()) {
      String prop = m.group(1);
      field = field == null ? prop : field + "." + prop;
    }
    return field;
  }

  private static final java.util.regex.Pattern REQUIRED =
      java.util.regex.Pattern.compile("required property '([^']+)'");
}
