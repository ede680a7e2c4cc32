package io.flowtrace.verifier.infer;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.verifier.infer.FlowDraft.Item;
import io.flowtrace.verifier.infer.FlowDraft.Stage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes a {@link FlowDraft} in the layout of {@code flows/}: {@code NAME/NAME.flow.yaml} and its
 * JSON Schemas under {@code NAME/schemas/}. Every inferred item carries a comment with its
 * evidence. The output is deterministic: the same draft writes the same bytes.
 */
final class SpecWriter {

  private SpecWriter() {}

  /** Writes the draft under {@code out}; returns the spec file. */
  static Path write(FlowDraft d, Path out, String source) throws IOException {
    Path dir = out.resolve(d.name); // as given: createDirectories returns it absolute when it made a parent
    Files.createDirectories(dir);
    Path schemasDir = dir.resolve("schemas");
    for (Map.Entry<EventType, tools.jackson.databind.node.ObjectNode> s : d.schemas.entrySet()) {
      if (d.avroIds.containsKey(s.getKey())) {
        continue; // declared by the registry's schema
      }
      Files.createDirectories(schemasDir);
      Files.writeString(schemasDir.resolve(d.ids.get(s.getKey()) + ".schema.json"), SchemaInferrer.text(s.getValue()),
          StandardCharsets.UTF_8);
    }
    Path spec = dir.resolve(d.name + ".flow.yaml");
    Files.writeString(spec, yaml(d, source), StandardCharsets.UTF_8);
    return spec;
  }

  static String yaml(FlowDraft d, String source) {
    StringBuilder y = new StringBuilder();
    y.append("# Drafted by `flowtrace infer` from ").append(source).append(": ").append(d.instances.size())
        .append(" instances.\n");
    y.append("# Every item says what it rests on. Review it before you rely on it: what held in this\n");
    y.append("# traffic is not necessarily the contract (and what the contract says may not show here).\n");
    y.append("flow: ").append(d.name).append('\n');
    y.append("description: ").append(FlowDraft.yamlText("Drafted from traffic; entry: " + d.entry.describe()))
        .append('\n');
    y.append("keys: [").append(String.join(", ", d.keys)).append("]\n");
    for (String k : d.keys) {
      String e = d.keyEvidence.get(k);
      if (e != null) {
        y.append("# key ").append(k).append(": ").append(e).append('\n');
      }
    }
    y.append("deadline: ").append(FlowDraft.duration(d.deadlineMillis * 1_000_000)).append("   # ")
        .append(d.deadlineEvidence).append('\n');
    y.append("\nstages:\n");
    for (Stage s : d.stages) {
      y.append("  - id: ").append(s.id).append("   # ").append(s.evidence(d.instances.size())).append('\n');
      if (s.after.size() == 1) {
        y.append("    after: ").append(s.after.get(0).id).append('\n');
      } else if (s.after.size() > 1) {
        y.append("    after: [").append(String.join(", ", s.after.stream().map(x -> x.id).toList())).append("]\n");
      }
      if (s.when != null) {
        y.append("    when: ").append(FlowDraft.yamlText(s.when)).append("   # ").append(s.whenEvidence).append('\n');
      }
      if (s.optional != null) {
        y.append("    optional: true   # ").append(s.optional).append('\n');
      }
      if (s.choice != null) {
        y.append("    choice: ").append(s.choice).append("   # one of its ways: ").append(s.choiceEvidence).append('\n');
      }
      if (s.fanIn != null) {
        y.append("    fanIn: true   # came after every ").append(d.ids.get(s.fanIn.item())).append(" of its instance in ")
            .append(s.fanIn.several()).append('/').append(s.fanIn.several()).append(" instances with several (up to ")
            .append(s.fanIn.most()).append(", each saying something else)\n");
      }
      if (s.terminal) {
        y.append("    terminal: true").append(s.terminalEvidence == null ? "" : "   # " + s.terminalEvidence).append('\n');
      }
      y.append("    events:\n");
      for (EventType t : s.events) {
        event(d, t, y);
      }
    }
    section(y, "enrichment", d.enrichment);
    section(y, "rules", d.rules);
    section(y, "idempotency", d.idempotency);
    section(y, "budgets", d.budgets);
    if (!d.notes.isEmpty()) {
      y.append("\n# Seen but not declared:\n");
      for (String n : d.notes) {
        y.append("#  - ").append(n).append('\n');
      }
    }
    return y.toString();
  }

  private static void event(FlowDraft d, EventType t, StringBuilder y) {
    String id = d.ids.get(t);
    y.append("      - id: ").append(id).append('\n');
    if (t.isTopic()) {
      y.append("        topic: ").append(FlowDraft.yamlText(t.topic())).append('\n');
      if (t.kindValue() != null) {
        y.append(t.kindInHeader() ? "        headers: {" : "        where: {").append(quote(t.kindField())).append(": ")
            .append(quote(t.kindValue())).append("}\n");
      }
      String rk = d.recordKeys.get(t);
      if (rk != null) {
        y.append("        recordKey: ").append(rk).append('\n');
      }
      Integer untraced = d.untraced.get(t);
      if (untraced != null) {
        y.append("        trace: none   # none of its ").append(untraced)
            .append(" records carried trace context: its producer does not trace\n");
      }
    } else {
      y.append("        span: {service: ").append(quote(t.service())).append(", kind: ").append(t.kind());
      if (t.name() != null) {
        y.append(", name: ").append(quote(t.name()));
      } else if (t.urlPath() != null) {
        // the path at the end of the URL, or before its query or fragment (a GET's parameters)
        y.append(", attributes: {").append(t.urlAttribute()).append(": {regex: ").append(quote(Pattern.quote(t.urlPath())
            .replace("\\Q", "").replace("\\E", "").replaceAll("([.^$|?*+()\\[\\]{}])", "\\\\$1")
            .replace("\\{id\\}", "[^/?#]+") + "([?#].*)?$"))
            .append("}}");
      }
      y.append("}\n");
      if (t.attribute() != null) {
        y.append("        payload: {attribute: ").append(t.attribute()).append("}\n");
      }
      if (d.newTrace.contains(t)) {
        y.append("        trace: new   # each occurrence starts a trace of its own\n");
      }
    }
    Map<String, String> keys = d.eventKeys.get(t);
    if (d.traceOnly.contains(t)) {
      y.append("        keys: {}   # joins through its trace: other flows' records on this topic carry keys too\n");
    } else if (keys != null) {
      List<String> explicit = new ArrayList<>();
      keys.forEach((k, path) -> {
        if (!path.equals(k)) {
          explicit.add(k + ": " + path);
        }
      });
      if (!explicit.isEmpty()) {
        y.append("        keys: {").append(String.join(", ", explicit)).append("}\n");
      }
    }
    if (d.avroIds.containsKey(t)) {
      y.append("        schema: {avro-registry: true, ids: [")
          .append(d.avroIds.get(t).stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")))
          .append("]}   # Avro, read through --schema-registry ").append(d.avroRegistry).append("\n");
    } else if (d.schemas.containsKey(t)) {
      y.append("        schema: schemas/").append(id).append(".schema.json   # from ")
          .append(d.schemas.get(t).path("description").asString().replaceAll(".*from (\\d+) payloads.*", "$1"))
          .append(" payloads\n");
    } else if (d.binarySchemaIds.containsKey(t)) {
      y.append("        schema: binary   # Confluent wire format, schema id ").append(d.binarySchemaIds.get(t))
          .append(": to check it, use {avro: FILE.avsc, ids: [").append(d.binarySchemaIds.get(t))
          .append("]} or {avro-registry: true, ids: [").append(d.binarySchemaIds.get(t))
          .append("]}; infer --schema-registry URL reads its fields\n");
    } else if (t.isTopic()) {
      y.append("        schema: binary   # not JSON: not decoded\n");
    }
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  private static void section(StringBuilder y, String name, List<Item> items) {
    if (items.isEmpty()) {
      return;
    }
    y.append('\n').append(name).append(":\n");
    for (Item i : items) {
      y.append("  # ").append(i.evidence()).append('\n').append(i.yaml()).append('\n');
    }
  }

  static boolean isServer(EventType t) {
    return t.kind() == SpanKind.SERVER;
  }
}
