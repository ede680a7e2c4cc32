package io.flowtrace.verifier.assembly;

import io.flowtrace.verifier.rules.Evaluation;
import io.flowtrace.verifier.spec.StageSpec;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Which stages an instance's data calls for. A stage is {@code REQUIRED} when a predecessor is
 * required and its {@code when} condition (if any) is true, {@code FORBIDDEN} when its condition is
 * false or every predecessor is forbidden, and {@code UNDECIDED} while the data the condition reads
 * has not been seen.
 */
public final class FlowPaths {

  /** Whether the data calls for a stage. */
  public enum Requirement { REQUIRED, FORBIDDEN, UNDECIDED }

  private final Map<String, Requirement> requirements;
  private final Map<String, Evaluation> conditions;

  private FlowPaths(Map<String, Requirement> requirements, Map<String, Evaluation> conditions) {
    this.requirements = requirements;
    this.conditions = conditions;
  }

  public static FlowPaths of(FlowInstance instance) {
    Map<String, JsonNode> payloads = instance.firstPayloads();
    Map<String, Requirement> req = new LinkedHashMap<>();
    Map<String, Evaluation> cond = new HashMap<>();
    for (StageSpec stage : instance.spec().stages()) {
      resolve(stage, instance, payloads, req, cond, 0);
    }
    return new FlowPaths(req, cond);
  }

  private static Requirement resolve(StageSpec stage, FlowInstance instance, Map<String, JsonNode> payloads,
      Map<String, Requirement> req, Map<String, Evaluation> cond, int depth) {
    Requirement known = req.get(stage.id());
    if (known != null) {
      return known;
    }
    if (depth > 64) {
      return Requirement.UNDECIDED;
    }
    Requirement fromPredecessors;
    if (stage.after().isEmpty()) {
      fromPredecessors = Requirement.REQUIRED;
    } else {
      boolean anyRequired = false;
      boolean allForbidden = true;
      for (String p : stage.after()) {
        StageSpec ps = instance.spec().stage(p);
        Requirement r = ps == null ? Requirement.FORBIDDEN : resolve(ps, instance, payloads, req, cond, depth + 1);
        anyRequired |= r == Requirement.REQUIRED;
        allForbidden &= r == Requirement.FORBIDDEN;
      }
      fromPredecessors = anyRequired ? Requirement.REQUIRED
          : allForbidden ? Requirement.FORBIDDEN : Requirement.UNDECIDED;
    }
    Requirement result = fromPredecessors;
    if (stage.when() != null && fromPredecessors != Requirement.FORBIDDEN) {
      boolean inputsSeen = stage.when().referencedVariables().stream().allMatch(payloads::containsKey);
      if (!inputsSeen) {
        result = Requirement.UNDECIDED;
      } else {
        Evaluation e = stage.when().evaluate(payloads);
        cond.put(stage.id(), e);
        if (e.isFalse()) {
          result = Requirement.FORBIDDEN;
        } else if (!e.isTrue()) {
          result = Requirement.UNDECIDED;
        }
      }
    }
    req.put(stage.id(), result);
    return result;
  }

  public Requirement requirement(String stageId) {
    return requirements.getOrDefault(stageId, Requirement.UNDECIDED);
  }

  /** The evaluated {@code when} condition of a stage, or {@code null} if not evaluated. */
  public Evaluation condition(String stageId) {
    return conditions.get(stageId);
  }
}
