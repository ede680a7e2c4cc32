package io.flowtrace.verifier.spec;

import io.flowtrace.tracer.model.SpanKind;
import io.flowtrace.verifier.rules.CelRules;
import io.flowtrace.verifier.rules.CompiledExpression;
import io.flowtrace.verifier.rules.RuleSyntaxException;
import io.flowtrace.verifier.rules.VariableType;
import io.flowtrace.verifier.schema.PayloadFormat;
import io.flowtrace.verifier.schema.PayloadSchema;
import io.flowtrace.verifier.schema.SchemaLoadException;
import io.flowtrace.verifier.schema.SchemaLoader;
import io.flowtrace.verifier.schema.SchemaRegistryClient;
import io.flowtrace.verifier.schema.SchemaRef;
import io.flowtrace.verifier.spec.internal.LocatedYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * Loads flow specs ({@code *.flow.yaml} / {@code *.flow.yml}) and checks them: unknown keys,
 * dangling stage/event references, cycles, CEL that does not compile, schemas that do not load;
 * and, against the events' schemas, what would otherwise misbehave only at run time: field paths
 * ({@code carry}, {@code add}, {@code keys}, {@code dedupKey}, a rule's {@code field}) the payloads
 * cannot have, rules and conditions that cannot evaluate (or never hold), schemas on events without
 * a payload. Every problem is reported once, with file:line:column (CEL problems where they are
 * inside the expression); loading fails only after collecting them all.
 */
public final class FlowSpecLoader {

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");
  private static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_-]*");
  private static final Pattern EVENT_ID = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final SchemaLoader schemaLoader = new SchemaLoader();
  private final SchemaRegistryClient schemaRegistry;
  private final Map<String, SchemaRegistryClient> registriesByUrl = new HashMap<>();

  /** A loader without a schema registry: a schema {@code {avro-registry: true}} is a spec problem. */
  public FlowSpecLoader() {
    this(null);
  }

  /**
   * A loader whose {@code schema: {avro-registry: true}} events decode Avro with the schemas of this
   * Confluent-compatible registry (null: none).
   */
  public FlowSpecLoader(SchemaRegistryClient schemaRegistry) {
    this.schemaRegistry = schemaRegistry;
  }

  /** Whether a path names a flow spec file. */
  public static boolean isSpecFile(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(".flow.yaml") || name.endsWith(".flow.yml");
  }

  /** Loads every spec under {@code dirOrFile}; throws with all problems of all files. */
  public List<FlowSpec> load(Path dirOrFile) throws FlowSpecException {
    List<SpecProblem> problems = new ArrayList<>();
    List<FlowSpec> specs = loadAll(dirOrFile, problems);
    if (problems.stream().anyMatch(SpecProblem::isError)) {
      throw new FlowSpecException(problems.stream().filter(SpecProblem::isError).toList());
    }
    return specs;
  }

  /** Loads what it can and adds every problem to {@code problems} (the lint entry point). */
  public List<FlowSpec> loadAll(Path dirOrFile, List<SpecProblem> problems) {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(dirOrFile)) {
      try {
        // A folder that cannot be read is a problem of its own; the rest is still loaded.
        Files.walkFileTree(dirOrFile, new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
            if (attrs.isRegularFile() && isSpecFile(file)) {
              files.add(file);
            }
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
            problems.add(new SpecProblem(file.toString(), 0, 0, "cannot read: " + e));
            return java.nio.file.FileVisitResult.CONTINUE;
          }
        });
      } catch (IOException e) {
        problems.add(new SpecProblem(dirOrFile.toString(), 0, 0, "cannot list directory: " + e.getMessage()));
      }
      files.sort(null);
      if (files.isEmpty() && problems.isEmpty()) {
        problems.add(new SpecProblem(dirOrFile.toString(), 0, 0,
            "no flow specs (*.flow.yaml) in this directory"));
      }
    } else if (Files.isRegularFile(dirOrFile)) {
      files.add(dirOrFile);
    } else {
      problems.add(new SpecProblem(dirOrFile.toString(), 0, 0, "no such file or directory"));
    }
    List<FlowSpec> specs = new ArrayList<>();
    Map<String, Path> names = new HashMap<>();
    for (Path file : files) {
      FlowSpec spec = loadFile(file, problems);
      if (spec != null) {
        Path previous = names.putIfAbsent(spec.name(), file);
        if (previous != null) {
          problems.add(new SpecProblem(file.toString(), 1, 1,
              "flow '" + spec.name() + "' is already declared in " + previous));
        } else {
          specs.add(spec);
        }
      }
    }
    return specs;
  }

  /** Loads one file; returns null (and adds problems) when it cannot be used. */
  public FlowSpec loadFile(Path file, List<SpecProblem> problems) {
    LocatedYaml yaml;
    try {
      yaml = LocatedYaml.read(file);
    } catch (LocatedYaml.YamlSyntaxException e) {
      problems.add(new SpecProblem(file.toString(), e.line(), e.column(), "not valid YAML: " + e.getMessage()));
      return null;
    } catch (IOException e) {
      problems.add(new SpecProblem(file.toString(), 0, 0, "cannot read: " + e.getMessage()));
      return null;
    }
    int before = problems.size();
    FlowSpec spec = new Binder(file, yaml, problems).flow();
    return problems.subList(before, problems.size()).stream().noneMatch(SpecProblem::isError) ? spec : null;
  }

  /** Parses {@code 250ms}, {@code 2s}, {@code 1.5s}, {@code 5m}, {@code 1h}. */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches() && text.trim().matches("\\d+(\\.\\d+)?")) {
      throw new IllegalArgumentException("'" + text.trim() + "' is not a duration: give it a unit, like "
          + text.trim() + "s or " + text.trim() + "ms");
    }
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (like 250ms, 2s, 5m)");
    }
    double value = Double.parseDouble(m.group(1));
    long nanos = switch (m.group(2)) {
      case "ms" -> (long) (value * 1e6);
      case "s" -> (long) (value * 1e9);
      case "m" -> (long) (value * 60e9);
      default -> (long) (value * 3600e9);
    };
    return Duration.ofNanos(nanos);
  }

  private final class Binder {
    private final Path file;
    private final Path baseDir;
    private final LocatedYaml yaml;
    private final List<SpecProblem> problems;
    /** Span events given a schema but no payload: said once, at the event, not again at each rule. */
    private final Set<String> schemaWithoutPayload = new HashSet<>();
    /** Names events gave as their recordKey that are none of the flow's keys, with where each did. */
    private final Map<String, List<String>> unknownRecordKeys = new LinkedHashMap<>();
    /**
     * Keys some event of the flow gives: named in its 'keys' or as its recordKey, or read by default
     * from a field of that name its schema has (or may have: it has none).
     */
    private final Set<String> keysGiven = new HashSet<>();

    Binder(Path file, LocatedYaml yaml, List<SpecProblem> problems) {
      this.file = file;
      this.baseDir = file.toAbsolutePath().getParent();
      this.yaml = yaml;
      this.problems = problems;
    }

    /**
     * The flow's keys against what its events said, once per mistake. Record keys that name no flow
     * key: where several events agree on a name close to one of the flow's keys, the flow's key is the
     * likelier typo, so it is said there (with the events' lines); otherwise at each event. Then a
     * flow key no event gives.
     */
    private void flowKeyProblems(List<String> flowKeys) {
      Set<String> said = new HashSet<>();
      unknownRecordKeys.forEach((name, pointers) -> {
        String close = io.flowtrace.verifier.text.Spelling.closest(name, flowKeys);
        // the flow's key is the likelier typo where several events agree, or where no event gives it
        if (close != null && (pointers.size() > 1 || !keysGiven.contains(close))) {
          said.add(close);
          List<Integer> lines = pointers.stream().map(at -> yaml.location(at)[0]).toList();
          error("/keys/" + flowKeys.indexOf(close), "the flow's key '" + close + "' is not what its events call it: "
              + (pointers.size() == 1 ? "an event names '" + name + "' as its recordKey (line "
                  : pointers.size() + " events name '" + name + "' as their recordKey (lines ")
              + lines.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))
              + ")" + (keysGiven.contains(close) ? "" : " and none gives '" + close + "'") + "; did you mean '" + name + "'?");
          return;
        }
        for (String at : pointers) {
          error(at, "'recordKey' must name one of the flow's keys " + flowKeys + ", not '" + name + "'"
              + suggest(name, new LinkedHashSet<>(flowKeys)));
        }
      });
      unknownRecordKeys.clear();
      for (int i = 0; i < flowKeys.size(); i++) {
        String key = flowKeys.get(i);
        // traceId that no payload carries: the instance is its trace (infer writes it where no field identifies one)
        if (!keysGiven.contains(key) && !said.contains(key) && !key.equals("traceId")) {
          error("/keys/" + i, "no event gives the key '" + key + "': none names it in its 'keys' or as its recordKey,"
              + " and no event's schema has a field '" + key + "' to read it from by default");
        }
      }
      keysGiven.clear();
    }

    void error(String pointer, String message) {
      int[] loc = yaml.location(pointer);
      problems.add(new SpecProblem(file.toString(), loc[0], loc[1], message));
    }

    void warning(String pointer, String message) {
      int[] loc = yaml.location(pointer);
      problems.add(new SpecProblem(file.toString(), loc[0], loc[1], message, SpecProblem.Severity.WARNING));
    }

    void keyError(String pointer, String message) {
      int[] loc = yaml.keyLocation(pointer);
      problems.add(new SpecProblem(file.toString(), loc[0], loc[1], message));
    }

    boolean object(JsonNode node, String pointer, String what, Set<String> allowed) {
      if (node == null || !node.isObject()) {
        error(pointer, what + " must be a mapping");
        return false;
      }
      for (String name : node.propertyNames()) {
        if (!allowed.contains(name)) {
          keyError(pointer + "/" + name, "unknown key '" + name + "' in " + what
              + " (expected one of: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
        }
      }
      return true;
    }

    String text(JsonNode parent, String name, String pointer, boolean required) {
      JsonNode v = parent.get(name);
      if (v == null || v.isNull()) {
        if (required) {
          error(pointer, "missing '" + name + "'");
        }
        return null;
      }
      if (!v.isValueNode() || v.isObject()) {
        error(pointer + "/" + name, "'" + name + "' must be a single value");
        return null;
      }
      return v.asString();
    }

    List<String> textList(JsonNode parent, String name, String pointer) {
      JsonNode v = parent.get(name);
      List<String> out = new ArrayList<>();
      if (v == null || v.isNull()) {
        return out;
      }
      if (v.isArray()) {
        for (int i = 0; i < v.size(); i++) {
          if (!v.get(i).isValueNode()) {
            error(pointer + "/" + name + "/" + i, "'" + name + "' entries must be single values");
          } else {
            out.add(v.get(i).asString());
          }
        }
      } else if (v.isValueNode()) {
        out.add(v.asString());
      } else {
        error(pointer + "/" + name, "'" + name + "' must be a value or a list of values");
      }
      return out;
    }

    Duration duration(JsonNode parent, String name, String pointer, Duration dflt) {
      String t = text(parent, name, pointer, false);
      if (t == null) {
        return dflt;
      }
      try {
        return parseDuration(t);
      } catch (IllegalArgumentException e) {
        error(pointer + "/" + name, e.getMessage());
        return dflt;
      }
    }

    FlowSpec flow() {
      JsonNode root = yaml.root();
      if (!object(root, "", "a flow spec", Set.of("flow", "description", "keys", "deadline",
          "tolerance", "clockSkew", "spans", "stages", "enrichment", "rules", "idempotency", "budgets", "redact"))) {
        return null;
      }
      String name = text(root, "flow", "", true);
      if (name != null && !ID.matcher(name).matches()) {
        error("/flow", "flow name '" + name + "' must start with a letter and use letters, digits, '-' or '_'");
      }
      String description = text(root, "description", "", false);
      List<String> keys = textList(root, "keys", "");
      if (keys.isEmpty()) {
        error("", "missing 'keys': name the business keys that identify an instance, e.g. keys: [orderId]");
      }
      Duration deadline = duration(root, "deadline", "", FlowSpec.DEFAULT_DEADLINE);
      Duration tolerance = duration(root, "tolerance", "", FlowSpec.DEFAULT_TOLERANCE);
      Duration clockSkew = duration(root, "clockSkew", "", FlowSpec.DEFAULT_CLOCK_SKEW);
      SpanCompleteness spans = SpanCompleteness.COMPLETE;
      String spansText = text(root, "spans", "", false);
      if (spansText != null) {
        spans = SpanCompleteness.parse(spansText);
        if (spans == null) {
          error("/spans", "'spans' must be complete or may-be-missing, not '" + spansText + "'");
          spans = SpanCompleteness.COMPLETE;
        }
      }

      JsonNode stagesNode = root.get("stages");
      if (stagesNode == null || !stagesNode.isArray() || stagesNode.isEmpty()) {
        error("", "missing 'stages': a list of at least one stage");
        return null;
      }
      // First pass: ids, so conditions and rules can be compiled against every event id.
      Set<String> stageIds = new LinkedHashSet<>();
      Set<String> eventIds = new LinkedHashSet<>();
      for (int i = 0; i < stagesNode.size(); i++) {
        JsonNode s = stagesNode.get(i);
        String sid = s.isObject() ? text(s, "id", "/stages/" + i, false) : null;
        if (sid != null && !stageIds.add(sid)) {
          error("/stages/" + i + "/id", "stage '" + sid + "' is declared twice");
        }
        JsonNode evs = s.isObject() ? s.get("events") : null;
        if (evs != null && evs.isArray()) {
          for (int j = 0; j < evs.size(); j++) {
            JsonNode e = evs.get(j);
            String eid = e.isObject() ? text(e, "id", "/stages/" + i + "/events/" + j, false) : null;
            if (eid != null && !eventIds.add(eid)) {
              error("/stages/" + i + "/events/" + j + "/id", "event '" + eid + "' is declared twice");
            } else if (eid != null && EVENT_ID.matcher(eid).matches() && !CelRules.isVariableName(eid)) {
              error("/stages/" + i + "/events/" + j + "/id",
                  "event id '" + eid + "' is a CEL reserved word: rules could not name it");
            }
          }
        }
      }
      List<StageDraft> drafts = new ArrayList<>();
      for (int i = 0; i < stagesNode.size(); i++) {
        StageDraft draft = stage(stagesNode.get(i), "/stages/" + i, stageIds, keys);
        if (draft != null) {
          drafts.add(draft);
        }
      }
      flowKeyProblems(keys);
      sharedTopics(drafts);
      Map<String, EventSpec> events = new LinkedHashMap<>();
      drafts.forEach(d -> d.events().forEach(e -> events.putIfAbsent(e.id(), e)));
      // CEL sees each event's payload with the type its schema gives, so that rules and conditions
      // that would fail on every instance fail here instead.
      Map<String, VariableType> types = new LinkedHashMap<>();
      for (String id : eventIds) {
        if (CelRules.isVariableName(id)) {
          types.put(id, variableType(events.get(id)));
        }
      }
      CelRules cel = CelRules.forVariables(types);
      List<StageSpec> stages = new ArrayList<>();
      for (StageDraft d : drafts) {
        CompiledExpression when = d.whenText() == null ? null : condition(d.whenText(), d.pointer() + "/when", cel);
        ownEventCondition(d, when);
        if (d.id() != null) {
          stages.add(new StageSpec(d.id(), d.after(), when, d.terminal(), d.optional(), d.events(), d.fanIn(),
              d.choice()));
        }
      }
      choices(drafts);
      checkGraph(stages);
      laterStageConditions(drafts, stages, events);

      List<EnrichmentSpec> enrichment = new ArrayList<>();
      forEachEntry(root, "enrichment", (node, p) -> {
        EnrichmentSpec e = enrichment(node, p, eventIds, events);
        if (e != null) enrichment.add(e);
      });
      List<RuleSpec> rules = new ArrayList<>();
      forEachEntry(root, "rules", (node, p) -> {
        RuleSpec r = rule(node, p, stageIds, eventIds, cel, events);
        if (r != null) rules.add(r);
      });
      List<IdempotencySpec> idempotency = new ArrayList<>();
      forEachEntry(root, "idempotency", (node, p) -> {
        IdempotencySpec s = idempotency(node, p, eventIds, events);
        if (s != null) idempotency.add(s);
      });
      List<BudgetSpec> budgets = new ArrayList<>();
      forEachEntry(root, "budgets", (node, p) -> {
        BudgetSpec b = budget(node, p, stageIds, eventIds);
        if (b != null) budgets.add(b);
      });
      List<FieldPath> redact = redact(root, events);
      if (name == null) {
        return null;
      }
      return new FlowSpec(name, description == null ? "" : description.trim(), file, keys, deadline,
          tolerance, clockSkew, spans, stages, enrichment, rules, idempotency, budgets, redact);
    }

    void forEachEntry(JsonNode root, String name, java.util.function.BiConsumer<JsonNode, String> each) {
      JsonNode list = root.get(name);
      if (list == null || list.isNull()) {
        return;
      }
      if (!list.isArray()) {
        error("/" + name, "'" + name + "' must be a list");
        return;
      }
      for (int i = 0; i < list.size(); i++) {
        each.accept(list.get(i), "/" + name + "/" + i);
      }
    }

    /** A stage as written; its condition is compiled once every event (and its schema) is known. */
    record StageDraft(String id, String pointer, List<String> after, String whenText, boolean terminal,
        boolean optional, List<EventSpec> events, boolean fanIn, String choice) {}

    /** The ways of each choice: at least two, after the same stages. */
    void choices(List<StageDraft> drafts) {
      Map<String, List<StageDraft>> byChoice = new LinkedHashMap<>();
      for (StageDraft d : drafts) {
        if (d.choice() != null) {
          byChoice.computeIfAbsent(d.choice(), c -> new ArrayList<>()).add(d);
        }
      }
      byChoice.forEach((choice, ways) -> {
        StageDraft first = ways.get(0);
        if (ways.size() < 2) {
          error(first.pointer() + "/choice", "choice '" + choice + "' has one way, stage '" + first.id()
              + "': give the same 'choice' to each stage that may happen instead of it");
          return;
        }
        for (StageDraft w : ways.subList(1, ways.size())) {
          if (!new HashSet<>(w.after()).equals(new HashSet<>(first.after()))) {
            error(w.pointer() + "/after", "stage '" + w.id() + "' is a way of choice '" + choice + "' after "
                + w.after() + ", stage '" + first.id() + "' after " + first.after()
                + ": the ways of a choice follow the same stages");
          }
        }
      });
    }

    StageDraft stage(JsonNode s, String p, Set<String> stageIds, List<String> keys) {
      if (!object(s, p, "a stage", Set.of("id", "after", "when", "terminal", "optional", "fanIn", "events",
          "description", "choice"))) {
        return null;
      }
      String id = text(s, "id", p, true);
      if (id != null && !ID.matcher(id).matches()) {
        error(p + "/id", "stage id '" + id + "' must start with a letter and use letters, digits, '-' or '_'");
      }
      List<String> after = textList(s, "after", p);
      for (int i = 0; i < after.size(); i++) {
        if (!stageIds.contains(after.get(i))) {
          error(p + "/after", "'after' names unknown stage '" + after.get(i) + "'" + suggest(after.get(i), stageIds));
        }
      }
      String whenText = text(s, "when", p, false);
      boolean terminal = s.has("terminal") && s.get("terminal").asBoolean(false);
      boolean optional = flag(s, "optional", p);
      if (optional && terminal) {
        error(p + "/optional", "stage '" + id + "' is both 'optional' and 'terminal': an instance is complete at"
            + " a terminal stage, so one must always come; end the flow at a stage that always comes (an optional"
            + " stage after it amends the verdict when it comes)");
      }
      if (optional && after.isEmpty()) {
        error(p + "/optional", "stage '" + id + "' is an entry stage (no 'after') and 'optional': an optional"
            + " stage needs a stage it comes after");
      }
      String choice = text(s, "choice", p, false);
      if (choice != null && !ID.matcher(choice).matches()) {
        error(p + "/choice", "choice '" + choice + "' must start with a letter and use letters, digits, '-' or '_'");
      }
      if (choice != null && optional) {
        error(p + "/choice", "stage '" + id + "' is 'optional' and a way of choice '" + choice + "': one way of a"
            + " choice always happens; drop 'optional'");
      }
      if (choice != null && after.isEmpty()) {
        error(p + "/choice", "stage '" + id + "' is an entry stage (no 'after') and a way of choice '" + choice
            + "': a choice is made after a stage");
      }
      boolean fanIn = flag(s, "fanIn", p);
      if (fanIn && after.isEmpty()) {
        error(p + "/fanIn", "stage '" + id + "' is an entry stage (no 'after') and 'fanIn': a fan-in stage follows"
            + " every occurrence of the stages it comes after, so it needs one");
      }
      JsonNode evs = s.get("events");
      List<EventSpec> events = new ArrayList<>();
      if (evs == null || !evs.isArray() || evs.isEmpty()) {
        error(p, "stage '" + id + "' needs 'events': a list of at least one event (a topic or a span)");
      } else {
        for (int i = 0; i < evs.size(); i++) {
          EventSpec e = event(evs.get(i), p + "/events/" + i, id, keys);
          if (e != null) {
            events.add(e);
          }
        }
      }
      return new StageDraft(id, p, after, whenText, terminal, optional, events, fanIn, choice);
    }

    /** A true/false field of an object: absent is false; anything but a boolean is an error. */
    boolean flag(JsonNode s, String field, String p) {
      JsonNode v = s.get(field);
      if (v == null || v.isNull()) {
        return false;
      }
      if (!v.isBoolean()) {
        error(p + "/" + field, "'" + field + "' must be true or false, not " + v);
        return false;
      }
      return v.asBoolean();
    }

    /** What CEL may assume of an event's payload. */
    VariableType variableType(EventSpec e) {
      if (e == null) {
        return VariableType.unknown();
      }
      if (schemaWithoutPayload.contains(e.id())) {
        return VariableType.unknown();
      }
      if (e.span() != null && e.payload().fromRecord()) {
        return VariableType.noPayload("a span event without 'payload: {attribute: …}'");
      }
      if (e.schema() != null && e.schema().format() == PayloadFormat.BINARY) {
        return VariableType.noPayload("'schema: binary' payloads are not decoded");
      }
      if (e.schema() == null || e.schema().shape().isUnknown()) {
        return VariableType.unknown();
      }
      return VariableType.of(e.schema().shape(), e.schema().description());
    }

    /** Compiles a condition or rule; each problem is placed where it is in the YAML file. */
    CompiledExpression condition(String text, String pointer, CelRules cel) {
      int lead = 0;
      while (lead < text.length() && Character.isWhitespace(text.charAt(lead))) {
        lead++;
      }
      try {
        CompiledExpression compiled = cel.compileCondition(text.strip());
        for (CelRules.NullableRead read : cel.nullableReads(compiled)) {
          int[] loc = yaml.valueLocation(pointer, lead + Math.max(0, text.strip().indexOf(read.path())));
          problems.add(new SpecProblem(file.toString(), loc[0], loc[1], "CEL: reads " + read.path() + " through "
              + read.nullable() + ", which " + read.schema() + " lets be null: where it is, this cannot be evaluated"
              + " and fails; if a right flow can have it so, test it first (has(" + read.nullable() + ") && "
              + read.nullable() + " != null && …)", SpecProblem.Severity.WARNING));
        }
        return compiled;
      } catch (RuleSyntaxException e) {
        for (RuleSyntaxException.Problem problem : e.problems()) {
          int[] loc = yaml.valueLocation(pointer, lead + Math.max(0, problem.column() - 1));
          problems.add(new SpecProblem(file.toString(), loc[0], loc[1], "CEL: " + problem.message()));
        }
        return null;
      }
    }

    EventSpec event(JsonNode e, String p, String stageId, List<String> flowKeys) {
      if (!object(e, p, "an event", Set.of("id", "topic", "span", "where", "headers", "payload", "schema", "keys",
          "recordKey", "trace", "description", "redact"))) {
        return null;
      }
      String id = text(e, "id", p, true);
      if (id != null && !EVENT_ID.matcher(id).matches()) {
        error(p + "/id", "event id '" + id + "' must be an identifier (letters, digits, '_'): rules use it as a CEL variable");
      }
      String topic = text(e, "topic", p, false);
      SpanMatcher span = null;
      if (e.has("span")) {
        span = spanMatcher(e.get("span"), p + "/span");
      }
      if ((topic == null) == (e.get("span") == null)) {
        error(p, "event '" + id + "' needs exactly one of 'topic' or 'span'");
      }
      PayloadSource payload = PayloadSource.RECORD_VALUE;
      JsonNode pl = e.get("payload");
      if (pl != null) {
        if (object(pl, p + "/payload", "a payload source", Set.of("attribute"))) {
          String attr = text(pl, "attribute", p + "/payload", true);
          payload = new PayloadSource(attr);
        }
      }
      if (topic != null && !payload.fromRecord()) {
        error(p + "/payload", "a topic event's payload is its record value; 'payload' applies to span events");
      }
      PayloadSchema schema = schema(e.get("schema"), p + "/schema");
      if (span != null && payload.fromRecord() && e.get("schema") != null && !e.get("schema").isNull()) {
        schemaWithoutPayload.add(id);
        error(p + "/schema", "event '" + id + "' has a 'schema' but no payload: a span event's payload is one of"
            + " its attributes, named by 'payload: {attribute: …}' (e.g. http.request.body)");
      }
      Map<String, FieldPath> keys = new LinkedHashMap<>();
      JsonNode k = e.get("keys");
      if (k == null) {
        for (String key : flowKeys) {
          keys.put(key, FieldPath.parse(key));
          if (schema == null || PathCheck.problem(FieldPath.parse(key), schema.shape()) == null) {
            keysGiven.add(key);
          }
        }
      } else if (object(k, p + "/keys", "keys", new HashSet<>(flowKeys))) {
        k.propertyNames().forEach(keysGiven::add);
        for (String key : k.propertyNames()) {
          try {
            FieldPath path = FieldPath.parse(k.get(key).asString());
            keys.put(key, path);
            if (id != null) {
              checkPath("'keys' names", path, id, schema, p + "/keys/" + key);
            }
          } catch (IllegalArgumentException ex) {
            error(p + "/keys/" + key, ex.getMessage());
          }
        }
      }
      EventSelector select = selector(e, p, id, topic, schema);
      String recordKey = text(e, "recordKey", p, false);
      if (recordKey != null) {
        keysGiven.add(recordKey);
      }
      if (recordKey != null && !flowKeys.contains(recordKey)) {
        unknownRecordKeys.computeIfAbsent(recordKey, r -> new ArrayList<>()).add(p + "/recordKey");
      }
      if (recordKey != null && topic == null) {
        error(p + "/recordKey", "'recordKey' applies to topic events (the Kafka record key)");
      }
      String trace = text(e, "trace", p, false);
      if (trace != null && !trace.equals("new") && !trace.equals("continue") && !trace.equals("none")) {
        error(p + "/trace", "'trace' must be 'continue' (default), 'new' (an external caller starts a new trace) or"
            + " 'none' (a topic whose producer does not trace: its records carry no trace context)");
      }
      if ("none".equals(trace) && topic == null) {
        error(p + "/trace", "'trace: none' applies to topic events (a producer that does not trace); a span event is"
            + " traced by being a span");
      }
      List<FieldPath> redact = new ArrayList<>();
      for (Located<FieldPath> r : paths(e, "redact", p)) {
        redact.add(r.value());
        if (id != null && checkPath("'redact' names", r.value(), id, schema, r.pointer())) {
          keys.forEach((key, path) -> {
            if (covers(r.value(), path)) {
              warnRedactedKey(r.pointer(), r.value(), key);
            }
          });
        }
      }
      if (id == null) {
        return null;
      }
      return new EventSpec(id, stageId, topic, span, select, payload, schema, keys, recordKey, "new".equals(trace),
          "none".equals(trace), redact);
    }

    /**
     * Warns of a stage whose condition reads only its own events: it can be known only once the stage
     * happened, so on a path without it the stage is waited for to its deadline.
     */
    void ownEventCondition(StageDraft d, CompiledExpression when) {
      if (when == null || when.referencedVariables().isEmpty()) {
        return;
      }
      Set<String> own = new HashSet<>();
      d.events().forEach(e -> own.add(e.id()));
      if (own.containsAll(when.referencedVariables())) {
        warning(d.pointer() + "/when", "stage '" + d.id() + "''s condition reads only its own "
            + (when.referencedVariables().size() == 1 ? "event " : "events ") + String.join(", ", when.referencedVariables())
            + ", which is there only once the stage happened: where the stage does not happen, the condition cannot be"
            + " read and the stage is waited for until the deadline, which then fails the instance. Read an event of an"
            + " earlier stage (a decision recorded once, its stages after it each with a when on it), tell the records"
            + " of a topic that carries several kinds apart with 'where' on the events, or, for ways on topics of their"
            + " own one of which always comes (accepted or rejected), give each the same 'choice: NAME' instead");
      }
    }

    /**
     * A stage whose condition reads an event of a stage that comes only after it: it can be known
     * only once the stage itself happened and the flow went on, so where the stage does not happen
     * it is never known, and the instance never completes.
     */
    void laterStageConditions(List<StageDraft> drafts, List<StageSpec> stages, Map<String, EventSpec> events) {
      Map<String, StageSpec> byId = new HashMap<>();
      stages.forEach(st -> byId.put(st.id(), st));
      for (StageDraft d : drafts) {
        StageSpec stage = d.id() == null ? null : byId.get(d.id());
        if (stage == null || stage.when() == null) {
          continue;
        }
        for (String v : stage.when().referencedVariables()) {
          EventSpec e = events.get(v);
          if (e != null && !e.stageId().equals(stage.id()) && reaches(stage.id(), e.stageId(), byId, new HashSet<>())) {
            error(d.pointer() + "/when", "stage '" + stage.id() + "''s condition reads " + v + ", an event of stage '"
                + e.stageId() + "', which comes after it: the condition can be known only once '" + stage.id()
                + "' happened, so where it does not, no instance ever completes. A condition reads what happened"
                + " before its stage (the event that decides it, such as a payment response)");
          }
        }
      }
    }

    /** Warns of two events of the flow on one topic that nothing tells apart: each record would be both. */
    void sharedTopics(List<StageDraft> drafts) {
      Map<String, String> taken = new HashMap<>();
      for (StageDraft d : drafts) {
        for (int i = 0; i < d.events().size(); i++) {
          EventSpec e = d.events().get(i);
          String other = e.topic() == null ? null : taken.putIfAbsent(e.topic() + '\u0000' + e.select(), e.id());
          if (other != null) {
            warning(d.pointer() + "/events/" + i, "events '" + other + "' and '" + e.id() + "' both take "
                + (e.select().isAll() ? "every record" : "the same records (" + e.select() + ")") + " of topic "
                + e.topic() + ", so each record stands for both; where the topic carries several kinds of record, give"
                + " each event a 'where' (payload fields, like where: {type: APPROVED}) or 'headers' that selects its own");
          }
        }
      }
    }

    /** An event's {@code where} (payload fields) and {@code headers} (a topic event's record headers). */
    EventSelector selector(JsonNode e, String p, String id, String topic, PayloadSchema schema) {
      Map<FieldPath, StringMatcher> where = new LinkedHashMap<>();
      JsonNode w = e.get("where");
      if (w != null && object(w, p + "/where", "'where' (payload fields and the values that select this event)",
          attrsKeys(w))) {
        for (String field : w.propertyNames()) {
          String at = p + "/where/" + field;
          try {
            FieldPath path = FieldPath.parse(field);
            if (path.hasArray()) {
              error(at, "'where' names '" + field + "', which walks an array: name one field (like type or meta.kind)");
              continue;
            }
            if (id != null) {
              checkPath("'where' names", path, id, schema, at);
            }
            StringMatcher m = matcher(w.get(field), at);
            if (m != null) {
              where.put(path, m);
            }
          } catch (IllegalArgumentException ex) {
            error(at, ex.getMessage());
          }
        }
      }
      Map<String, StringMatcher> headers = new LinkedHashMap<>();
      JsonNode h = e.get("headers");
      if (h != null && topic == null) {
        error(p + "/headers", "'headers' applies to topic events (the Kafka record's headers); a span event is told"
            + " apart by its span matcher or 'where'");
      } else if (h != null && object(h, p + "/headers", "'headers' (record headers and the values that select this"
          + " event)", attrsKeys(h))) {
        for (String name : h.propertyNames()) {
          StringMatcher m = matcher(h.get(name), p + "/headers/" + name);
          if (m != null) {
            headers.put(name, m);
          }
        }
      }
      return where.isEmpty() && headers.isEmpty() ? EventSelector.ALL : new EventSelector(where, headers);
    }

    SpanMatcher spanMatcher(JsonNode s, String p) {
      if (!object(s, p, "a span matcher", Set.of("service", "kind", "name", "attributes"))) {
        return null;
      }
      String service = text(s, "service", p, false);
      SpanKind kind = null;
      String kindText = text(s, "kind", p, false);
      if (kindText != null) {
        try {
          kind = SpanKind.valueOf(kindText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException ex) {
          error(p + "/kind", "unknown span kind '" + kindText + "' (expected SERVER, CLIENT, PRODUCER, CONSUMER or INTERNAL)");
        }
      }
      StringMatcher name = s.has("name") ? matcher(s.get("name"), p + "/name") : null;
      Map<String, StringMatcher> attributes = new LinkedHashMap<>();
      JsonNode attrs = s.get("attributes");
      if (attrs != null && object(attrs, p + "/attributes", "span attributes", attrsKeys(attrs))) {
        for (String key : attrs.propertyNames()) {
          StringMatcher m = matcher(attrs.get(key), p + "/attributes/" + key);
          if (m != null) {
            attributes.put(key, m);
          }
        }
      }
      if (service == null && kind == null && name == null && attributes.isEmpty()) {
        error(p, "a span matcher needs at least one of service, kind, name, attributes");
      }
      return new SpanMatcher(service, kind, name, attributes);
    }

    Set<String> attrsKeys(JsonNode attrs) {
      Set<String> keys = new HashSet<>();
      attrs.propertyNames().forEach(keys::add);
      return keys;
    }

    StringMatcher matcher(JsonNode v, String p) {
      if (v.isValueNode()) {
        return StringMatcher.exact(v.asString());
      }
      if (object(v, p, "a matcher", Set.of("regex", "equals"))) {
        try {
          if (v.has("regex")) {
            return StringMatcher.regex(v.get("regex").asString());
          }
          if (v.has("equals")) {
            return StringMatcher.exact(v.get("equals").asString());
          }
          error(p, "a matcher needs 'regex' or 'equals'");
        } catch (PatternSyntaxException ex) {
          error(p + "/regex", "not a regular expression: " + ex.getDescription());
        }
      }
      return null;
    }

    PayloadSchema schema(JsonNode node, String p) {
      if (node == null || node.isNull()) {
        return SchemaLoader.none(PayloadFormat.JSON);
      }
      SchemaRef ref;
      if (node.isValueNode() && "binary".equals(node.asString())) {
        return SchemaLoader.none(PayloadFormat.BINARY);
      }
      if (node.isValueNode()) {
        String text = node.asString();
        int hash = text.indexOf('#');
        ref = hash < 0 ? new SchemaRef(text, null, Set.of())
            : new SchemaRef(text.substring(0, hash), text.substring(hash + 1), Set.of());
      } else if (object(node, p, "a schema", Set.of("avro", "avro-registry", "ids", "jsonSchema", "asyncapi", "message"))) {
        Set<Long> ids = new LinkedHashSet<>();
        JsonNode idsNode = node.get("ids");
        if (idsNode != null) {
          for (JsonNode id : idsNode.isArray() ? idsNode : List.of(idsNode)) {
            if (!id.canConvertToLong()) {
              error(p + "/ids", "schema ids must be whole numbers");
            } else {
              ids.add(id.asLong());
            }
          }
        }
        if (node.has("avro-registry")) {
          return registrySchema(node.get("avro-registry"), p + "/avro-registry", ids);
        } else if (node.has("avro")) {
          ref = new SchemaRef(node.get("avro").asString(), null, ids);
        } else if (node.has("jsonSchema")) {
          ref = new SchemaRef(node.get("jsonSchema").asString(), null, Set.of());
        } else if (node.has("asyncapi")) {
          ref = new SchemaRef(node.get("asyncapi").asString(), text(node, "message", p, true), ids);
        } else {
          error(p, "a schema mapping needs 'avro', 'jsonSchema' or 'asyncapi'");
          return null;
        }
      } else {
        return null;
      }
      try {
        return schemaLoader.load(baseDir, ref);
      } catch (SchemaLoadException ex) {
        error(p, "schema " + ref + ": " + ex.getMessage());
        return null;
      }
    }

    /** {@code avro-registry: true} (the loader's registry) or {@code avro-registry: http://host:8081}. */
    PayloadSchema registrySchema(JsonNode value, String p, Set<Long> ids) {
      SchemaRegistryClient registry;
      if (value.isBoolean() && value.asBoolean()) {
        if (schemaRegistry == null) {
          error(p, "avro-registry: true needs a schema registry URL (flowtrace --schema-registry URL), or give the URL"
              + " here: avro-registry: http://registry:8081");
          return null;
        }
        registry = schemaRegistry;
      } else if (value.isString() && !value.asString().isBlank()) {
        String url = value.asString().strip();
        try {
          registry = registriesByUrl.computeIfAbsent(url, u -> SchemaRegistryClient.create(java.net.URI.create(u)));
        } catch (IllegalArgumentException ex) {
          error(p, ex.getMessage());
          return null;
        }
      } else {
        error(p, "avro-registry must be true or a registry URL such as http://registry:8081");
        return null;
      }
      return SchemaLoader.fromRegistry(registry, ids);
    }

    EnrichmentSpec enrichment(JsonNode n, String p, Set<String> eventIds, Map<String, EventSpec> events) {
      if (!object(n, p, "an enrichment", Set.of("from", "to", "carry", "add"))) {
        return null;
      }
      String from = eventRef(n, "from", p, eventIds);
      String to = eventRef(n, "to", p, eventIds);
      boolean carryAll = n.has("carry") && n.get("carry").isValueNode() && "all".equals(n.get("carry").asString());
      List<FieldPath> carry = new ArrayList<>();
      if (!carryAll) {
        for (Located<FieldPath> c : paths(n, "carry", p)) {
          carry.add(c.value());
          // carried: in 'from' and, unchanged, in 'to'; one problem, where it is first missing
          if (from != null && checkPath("'carry' names", c.value(), from, schemaOf(events, from), c.pointer())
              && to != null) {
            checkPath("'carry' names", c.value(), to, schemaOf(events, to), c.pointer());
          }
        }
      }
      List<FieldPath> add = new ArrayList<>();
      for (Located<FieldPath> a : paths(n, "add", p)) {
        add.add(a.value());
        if (to != null) {
          checkPath("'add' names", a.value(), to, schemaOf(events, to), a.pointer());
        }
      }
      if (!carryAll && carry.isEmpty() && add.isEmpty()) {
        error(p, "an enrichment needs 'carry' (fields, or 'all') and/or 'add'");
      }
      return from == null || to == null ? null : new EnrichmentSpec(from, to, carryAll, carry, add);
    }

    record Located<T>(T value, String pointer) {}

    List<Located<FieldPath>> paths(JsonNode n, String name, String p) {
      List<Located<FieldPath>> out = new ArrayList<>();
      JsonNode list = n.get(name);
      boolean isList = list != null && list.isArray();
      List<String> texts = textList(n, name, p);
      for (int i = 0; i < texts.size(); i++) {
        String pointer = p + "/" + name + (isList ? "/" + i : "");
        try {
          out.add(new Located<>(FieldPath.parse(texts.get(i)), pointer));
        } catch (IllegalArgumentException ex) {
          error(pointer, ex.getMessage());
        }
      }
      return out;
    }

    PayloadSchema schemaOf(Map<String, EventSpec> events, String eventId) {
      EventSpec e = events.get(eventId);
      return e == null ? null : e.schema();
    }

    /**
     * Whether {@code path} can be in the payloads of event {@code eventId} as its schema describes
     * them; if not, reports it at {@code pointer}. Paths into what the schema cannot tell (no
     * schema, a binary one, an open object) pass.
     */
    boolean checkPath(String what, FieldPath path, String eventId, PayloadSchema schema, String pointer) {
      String problem = schema == null ? null : PathCheck.problem(path, schema.shape());
      if (problem == null) {
        return true;
      }
      error(pointer, what + " '" + path.text() + "', " + problem.replace("{event}", eventId)
          + "; schema: " + schema.description());
      return false;
    }

    String eventRef(JsonNode n, String name, String p, Set<String> eventIds) {
      String v = text(n, name, p, true);
      if (v != null && !eventIds.contains(v)) {
        error(p + "/" + name, "'" + name + "' names unknown event '" + v + "'" + suggest(v, eventIds));
        return null;
      }
      return v;
    }

    RuleSpec rule(JsonNode n, String p, Set<String> stageIds, Set<String> eventIds, CelRules cel,
        Map<String, EventSpec> events) {
      if (!object(n, p, "a rule", Set.of("name", "stage", "field", "requires", "expr", "description"))) {
        return null;
      }
      String name = text(n, "name", p, true);
      String stage = text(n, "stage", p, false);
      if (stage != null && !stageIds.contains(stage)) {
        error(p + "/stage", "'stage' names unknown stage '" + stage + "'" + suggest(stage, stageIds));
      }
      String field = text(n, "field", p, false);
      List<String> requires = textList(n, "requires", p);
      for (String r : requires) {
        if (!eventIds.contains(r)) {
          error(p + "/requires", "'requires' names unknown event '" + r + "'" + suggest(r, eventIds));
        }
      }
      String expr = text(n, "expr", p, true);
      CompiledExpression compiled = expr == null ? null : condition(expr, p + "/expr", cel);
      if (field != null && compiled != null) {
        checkRuleField(field, p + "/field", compiled.referencedVariables(), events);
      }
      return name == null || compiled == null ? null : new RuleSpec(name, stage, field, requires, compiled);
    }

    /**
     * The flow's {@code redact} paths. Each must be a field of at least one event with a payload
     * (events whose schema cannot tell count as having it); a path that is also an instance key
     * is a warning, not an error: it is masked in reports, where instances then differ by marker.
     */
    List<FieldPath> redact(JsonNode root, Map<String, EventSpec> events) {
      List<FieldPath> out = new ArrayList<>();
      for (Located<FieldPath> r : paths(root, "redact", "")) {
        FieldPath path = r.value();
        out.add(path);
        List<String> without = new ArrayList<>();
        List<PayloadSchema> schemas = new ArrayList<>();
        boolean somewhere = false;
        for (EventSpec e : events.values()) {
          if (e.span() != null && e.payload().fromRecord()) {
            continue; // no payload to mask
          }
          PayloadSchema schema = e.schema();
          if (schema == null || schema.shape().isUnknown() || PathCheck.problem(path, schema.shape()) == null) {
            somewhere = true;
            break;
          }
          without.add(e.id());
          schemas.add(schema);
        }
        if (!somewhere && !without.isEmpty()) {
          String close = PathCheck.closest(path, schemas.stream().map(PayloadSchema::shape).toList());
          error(r.pointer(), "'redact' names '" + path.text() + "', which is a field of none of the flow's events"
              + (close == null ? "" : " (did you mean '" + close + "'?)"));
          continue;
        }
        Set<String> keyed = new LinkedHashSet<>();
        for (EventSpec e : events.values()) {
          e.keys().forEach((key, keyPath) -> {
            if (covers(path, keyPath)) {
              keyed.add(key);
            }
          });
        }
        keyed.forEach(key -> warnRedactedKey(r.pointer(), path, key));
      }
      return out;
    }

    /** Whether masking {@code redacted} masks the value at {@code path}: the same field or one inside it. */
    boolean covers(FieldPath redacted, FieldPath path) {
      List<String> r = redacted.segments();
      List<String> s = path.segments();
      return s.size() >= r.size() && s.subList(0, r.size()).equals(r);
    }

    void warnRedactedKey(String pointer, FieldPath path, String key) {
      warning(pointer, "'redact' names '" + path.text() + "', which holds the instance key '" + key
          + "': reports show the key masked too (instances stay apart: equal values get equal markers)");
    }

    /** A rule's {@code field} names a field of one of the events the rule reads. */
    void checkRuleField(String text, String pointer, Set<String> reads, Map<String, EventSpec> events) {
      FieldPath path;
      try {
        path = FieldPath.parse(text);
      } catch (IllegalArgumentException ex) {
        return; // 'field' is a label in reports; it need not be a path
      }
      List<String> without = new ArrayList<>();
      List<PayloadSchema> schemas = new ArrayList<>();
      for (String id : reads) {
        PayloadSchema schema = schemaOf(events, id);
        if (schema == null || schema.shape().isUnknown() || PathCheck.problem(path, schema.shape()) == null) {
          return;
        }
        without.add(id);
        schemas.add(schema);
      }
      if (without.isEmpty()) {
        return;
      }
      if (without.size() == 1) {
        checkPath("'field' names", path, without.get(0), schemas.get(0), pointer);
        return;
      }
      String close = PathCheck.closest(path, schemas.stream().map(PayloadSchema::shape).toList());
      error(pointer, "'field' names '" + text + "', which is a field of none of the events the rule reads ("
          + String.join(", ", without) + ")" + (close == null ? "" : " (did you mean '" + close + "'?)"));
    }

    IdempotencySpec idempotency(JsonNode n, String p, Set<String> eventIds, Map<String, EventSpec> events) {
      if (!object(n, p, "an idempotency declaration", Set.of("trigger", "dedupKey", "effects", "atLeastOnce"))) {
        return null;
      }
      String trigger = eventRef(n, "trigger", p, eventIds);
      String key = text(n, "dedupKey", p, false);
      List<String> effects = textList(n, "effects", p);
      if (effects.isEmpty()) {
        error(p, "'effects' must list the events allowed once per instance");
      }
      for (String effect : effects) {
        if (!eventIds.contains(effect)) {
          error(p + "/effects", "'effects' names unknown event '" + effect + "'" + suggest(effect, eventIds));
        }
      }
      FieldPath dedup = null;
      if (key != null) {
        try {
          dedup = FieldPath.parse(key);
          if (trigger != null) {
            checkPath("'dedupKey' names", dedup, trigger, schemaOf(events, trigger), p + "/dedupKey");
          }
        } catch (IllegalArgumentException ex) {
          error(p + "/dedupKey", ex.getMessage());
        }
      }
      boolean atLeastOnce = false;
      JsonNode once = n.get("atLeastOnce");
      if (once != null && !once.isBoolean()) {
        error(p + "/atLeastOnce", "'atLeastOnce' must be true or false, not " + once);
      } else if (once != null) {
        atLeastOnce = once.asBoolean();
      }
      return trigger == null ? null : new IdempotencySpec(trigger, dedup, effects, atLeastOnce);
    }

    BudgetSpec budget(JsonNode n, String p, Set<String> stageIds, Set<String> eventIds) {
      if (!object(n, p, "a budget", Set.of("from", "to", "within"))) {
        return null;
      }
      String from = text(n, "from", p, true);
      String to = text(n, "to", p, true);
      Set<String> all = new LinkedHashSet<>(eventIds);
      all.addAll(stageIds);
      for (String[] ref : new String[][] {{"from", from}, {"to", to}}) {
        if (ref[1] != null && !all.contains(ref[1])) {
          error(p + "/" + ref[0], "'" + ref[0] + "' names no event or stage '" + ref[1] + "'" + suggest(ref[1], all));
        }
      }
      if (n.get("within") == null || n.get("within").isNull()) {
        error(p, "a budget needs 'within' (like 2s)");
        return null;
      }
      Duration within = duration(n, "within", p, null);
      if (within == null) {
        return null; // said by duration()
      }
      return from == null || to == null ? null : new BudgetSpec(from, to, within);
    }

    void checkGraph(List<StageSpec> stages) {
      if (stages.stream().noneMatch(StageSpec::terminal)) {
        error("/stages", "no stage is 'terminal: true': flowtrace needs to know when an instance is complete");
      }
      if (!stages.isEmpty() && stages.stream().noneMatch(s -> s.after().isEmpty())) {
        error("/stages", "every stage has 'after': there is no entry stage");
      }
      Map<String, StageSpec> byId = new HashMap<>();
      stages.forEach(s -> byId.put(s.id(), s));
      for (int i = 0; i < stages.size(); i++) {
        if (reaches(stages.get(i).id(), stages.get(i).id(), byId, new HashSet<>())) {
          error("/stages/" + i + "/after", "stage '" + stages.get(i).id() + "' is its own predecessor (a cycle in 'after')");
        }
      }
      for (int i = 0; i < stages.size(); i++) {
        StageSpec s = stages.get(i);
        if (s.when() != null || s.optional() || s.after().size() != 1) {
          continue;
        }
        StageSpec end = byId.get(s.after().get(0));
        if (end != null && end.terminal()) {
          warning("/stages/" + i + "/after", "stage '" + s.id() + "' always follows '" + end.id() + "', which is"
              + " terminal: an instance is decided once '" + end.id() + "' is seen (and a completion grace), so what '"
              + s.id() + "' does comes after the verdict, amending it or too late; end the flow at '" + s.id()
              + "', or make '" + s.id() + "' optional or conditional ('when')");
        }
      }
    }

    boolean reaches(String target, String from, Map<String, StageSpec> byId, Set<String> seen) {
      StageSpec s = byId.get(from);
      if (s == null) {
        return false;
      }
      for (String a : s.after()) {
        if (a.equals(target) || (seen.add(a) && reaches(target, a, byId, seen))) {
          return true;
        }
      }
      return false;
    }

    String suggest(String wrong, Set<String> known) {
      return io.flowtrace.verifier.text.Spelling.didYouMean(wrong, known);
    }
  }

}
