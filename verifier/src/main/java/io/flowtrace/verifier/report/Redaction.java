package io.flowtrace.verifier.report;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.flowtrace.verifier.check.Unverified;
import io.flowtrace.verifier.check.Violation;
import io.flowtrace.verifier.model.Diversion;
import io.flowtrace.verifier.model.FlowInstance;
import io.flowtrace.verifier.model.Observation;
import io.flowtrace.verifier.spec.EventSpec;
import io.flowtrace.verifier.spec.FieldPath;
import io.flowtrace.verifier.spec.FlowSpec;
import java.math.BigDecimal;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Masks the fields a flow spec marks {@code redact} in what a verdict shows, so that reports say
 * what went wrong without the values themselves. {@link FlowVerifier} applies it to every verdict
 * it makes, after the checks have read the real values: every report, page, topic and assertion
 * message is made from verdicts, so none of them sees a redacted value.
 *
 * <p>A masked value reads {@code ‹redacted:1a2b3c4d›}: the first 4 bytes of an HMAC-SHA256 of the
 * value (strings as they are, numbers by value: {@code 178.0} and {@code 178.00} are one), so equal
 * values show as equal markers and a value that changed between stages shows as a changed marker.
 * The HMAC key is {@code FLOWTRACE_REDACTION_KEY} from the environment (set it to get the same
 * markers from several processes, such as sidecar replicas) or, by default, random per process: a
 * marker cannot then be confirmed by hashing a guessed value. Objects and arrays under a redacted
 * path keep their shape (field names, array lengths); each value in them is masked. {@code null}
 * stays {@code null}: absence is not a secret.
 *
 * <p>In texts — violation messages, expected and actual values, schema problems, the reason, notes,
 * span names and URLs — every value found at a redacted path of any of the instance's payloads is
 * replaced by its marker wherever it stands as a whole word ({@code 42} in {@code total 42}, not in
 * {@code SKU-1042}); {@code true} and {@code false} are masked in payloads only. An instance key held
 * by a redacted field is masked too. Texts computed from a redacted value (a CEL rule's result
 * {@code lowerAscii(userEmail)}, say) are masked only where they equal a value of the field.
 */
public final class Redaction {

  /** What every marker starts with. */
  public static final String MARKER_PREFIX = "‹redacted:";
  /** What every marker ends with. */
  public static final String MARKER_SUFFIX = "›";
  /** The environment variable holding the HMAC key of markers (else a random key per process). */
  public static final String KEY_VARIABLE = "FLOWTRACE_REDACTION_KEY";

  private static final Redaction NONE = new Redaction(null, Map.of(), Set.of());
  private static final byte[] KEY = key();
  private static final ThreadLocal<Mac> MAC = ThreadLocal.withInitial(Redaction::mac);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final FlowSpec spec;
  /** rendering of a redacted value → its marker, longest rendering first. */
  private final Map<String, String> secrets;
  private final Set<String> redactedKeys;
  private final Map<JsonNode, JsonNode> masked = new IdentityHashMap<>();

  private Redaction(FlowSpec spec, Map<String, String> secrets, Set<String> redactedKeys) {
    this.spec = spec;
    this.secrets = secrets;
    this.redactedKeys = redactedKeys;
  }

  /** Masks nothing. */
  public static Redaction none() {
    return NONE;
  }

  /** The redaction of one instance's verdicts: its spec's paths and the values at them in its payloads. */
  public static Redaction of(FlowInstance instance) {
    requireNonNull(instance, "instance");
    if (!instance.spec().redacts()) {
      return NONE;
    }
    List<JsonNode> payloads = new ArrayList<>();
    for (Observation o : instance.observations()) {
      payloads.add(o.payload());
    }
    for (Diversion d : instance.diverted()) {
      payloads.add(d.event().payload());
    }
    Redaction r = of(instance.spec(), payloads);
    Diversion from = instance.divertedFrom();
    if (from == null || r.redactedKeys.isEmpty()) {
      return r;
    }
    // the keys of the instance it began in are named in its note: masked as that instance's are
    Map<String, String> secrets = new HashMap<>(r.secrets);
    from.keys().forEach((k, v) -> {
      if (r.redactedKeys.contains(k)) {
        secrets.putIfAbsent(v, marker(v));
      }
    });
    return new Redaction(r.spec, longestFirst(secrets), r.redactedKeys);
  }

  /**
   * The redaction of {@code spec}'s paths, knowing the values at them in {@code payloads} (any of
   * the flow's payloads; {@code null}s are skipped).
   */
  public static Redaction of(FlowSpec spec, List<JsonNode> payloads) {
    requireNonNull(spec, "spec");
    if (!spec.redacts()) {
      return NONE;
    }
    List<FieldPath> all = new ArrayList<>(spec.redact());
    spec.events().forEach(e -> all.addAll(e.redact()));
    Map<String, String> found = new HashMap<>();
    for (JsonNode payload : payloads) {
      if (payload != null) {
        for (FieldPath path : all) {
          collect(payload, path.segments(), 0, found);
        }
      }
    }
    Map<String, String> secrets = longestFirst(found);
    Set<String> keys = new HashSet<>();
    for (EventSpec e : spec.events()) {
      for (FieldPath redacted : spec.redactedPaths(e.id())) {
        e.keys().forEach((key, path) -> {
          if (covers(redacted.segments(), path.segments())) {
            keys.add(key);
          }
        });
      }
    }
    return new Redaction(spec, secrets, keys);
  }

  /** Renderings of secrets longest first, so that a value inside a longer one is not masked apart. */
  private static Map<String, String> longestFirst(Map<String, String> found) {
    Map<String, String> secrets = new LinkedHashMap<>();
    found.entrySet().stream()
        .sorted(Comparator.comparingInt((Map.Entry<String, String> e) -> e.getKey().length()).reversed())
        .forEach(e -> secrets.put(e.getKey(), e.getValue()));
    return secrets;
  }

  /** The verdict as reports may show it: payloads, texts and keys masked. */
  public Verdict apply(Verdict v) {
    if (this == NONE) {
      return v;
    }
    List<Violation> violations = new ArrayList<>(v.violations().size());
    for (Violation x : v.violations()) {
      violations.add(new Violation(x.kind(), x.stage(), x.event(), x.field(), text(x.message()), text(x.expected()),
          text(x.actual()), x.evidence()));
    }
    List<TimelineEntry> timeline = new ArrayList<>(v.timeline().size());
    for (TimelineEntry t : v.timeline()) {
      timeline.add(new TimelineEntry(t.stage(), t.event(), text(t.where()), t.offsetNanos(), t.traceId(),
          detail(t.event(), t.detail())));
    }
    List<Unverified> unverified = new ArrayList<>(v.unverified().size());
    for (Unverified u : v.unverified()) {
      unverified.add(new Unverified(u.check(), u.stage(), text(u.subject()), text(u.reason())));
    }
    return new Verdict(v.flow(), keys(v.keys()), v.status(), violations, v.traceIds(), v.startEpochNanos(),
        v.decidedEpochNanos(), v.revision(), text(v.reason()), timeline, unverified,
        v.notes().stream().map(this::text).toList());
  }

  /** Instance keys with the values of redacted fields masked. */
  public Map<String, String> keys(Map<String, String> keys) {
    if (this == NONE) {
      return keys;
    }
    Map<String, String> out = new LinkedHashMap<>();
    keys.forEach((k, value) -> out.put(k, value == null ? null
        : redactedKeys.contains(k) && !isMarker(value) ? marker(value) : text(value)));
    return out;
  }

  /**
   * A copy of {@code payload} of event {@code eventId} with its redacted fields masked (the
   * payload itself when nothing in it is redacted); {@code null} stays {@code null}.
   */
  public JsonNode payload(String eventId, JsonNode payload) {
    if (this == NONE || payload == null) {
      return payload;
    }
    List<FieldPath> paths = spec.redactedPaths(eventId);
    if (paths.isEmpty()) {
      return payload;
    }
    synchronized (masked) {
      return masked.computeIfAbsent(payload, p -> {
        JsonNode copy = p.deepCopy();
        for (FieldPath path : paths) {
          copy = maskAt(copy, path.segments(), 0);
        }
        return copy;
      });
    }
  }

  /**
   * Whether reports mask {@code path} in payloads of {@code eventId}: it is a redacted path, lies
   * inside one, or holds one.
   */
  public boolean redacts(String eventId, FieldPath path) {
    if (this == NONE) {
      return false;
    }
    for (FieldPath redacted : spec.redactedPaths(eventId)) {
      if (covers(redacted.segments(), path.segments()) || covers(path.segments(), redacted.segments())) {
        return true;
      }
    }
    return false;
  }

  /** {@code text} with every known redacted value in it replaced by its marker. */
  public String text(String text) {
    if (text == null || text.isEmpty() || secrets.isEmpty()) {
      return text;
    }
    StringBuilder out = null;
    int i = 0;
    int copied = 0;
    while (i < text.length()) {
      if (text.startsWith(MARKER_PREFIX, i)) {
        int end = text.indexOf(MARKER_SUFFIX, i);
        i = end < 0 ? text.length() : end + 1;
        continue;
      }
      String hit = null;
      if (i == 0 || !Character.isLetterOrDigit(text.charAt(i - 1))
          || !Character.isLetterOrDigit(text.charAt(i))) {
        for (String secret : secrets.keySet()) {
          int end = i + secret.length();
          if (text.startsWith(secret, i) && (end == text.length() || !Character.isLetterOrDigit(text.charAt(end))
              || !Character.isLetterOrDigit(secret.charAt(secret.length() - 1)))) {
            hit = secret;
            break;
          }
        }
      }
      if (hit == null) {
        i++;
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length());
      }
      out.append(text, copied, i).append(secrets.get(hit));
      i += hit.length();
      copied = i;
    }
    return out == null ? text : out.append(text, copied, text.length()).toString();
  }

  /** Whether {@code text} is a marker. */
  public static boolean isMarker(String text) {
    return text.startsWith(MARKER_PREFIX) && text.endsWith(MARKER_SUFFIX) && text.indexOf(MARKER_SUFFIX) == text.length() - 1;
  }

  /** The marker of a value: {@code ‹redacted:} and 8 hex digits of its HMAC. */
  public static String marker(String value) {
    byte[] mac = MAC.get().doFinal(value.getBytes(UTF_8));
    return MARKER_PREFIX + java.util.HexFormat.of().formatHex(mac, 0, 4) + MARKER_SUFFIX;
  }

  private TimelineEntry.Detail detail(String eventId, TimelineEntry.Detail d) {
    if (d == null) {
      return null;
    }
    return new TimelineEntry.Detail(d.service(), d.spanKind(), text(d.spanName()), d.spanId(), d.parentSpanId(),
        d.durationNanos(),
        d.topic(), d.partition(), d.offset(), d.recordOffsetNanos(), d.consumers(), payload(eventId, d.payload()),
        d.schemaProblems().stream().map(this::text).toList(), d.sampled(), d.spansLost(), text(d.url()), d.retried());
  }

  /** {@code node} with what lies at {@code segments[i..]} masked (the node, changed in place, or its marker). */
  private static JsonNode maskAt(JsonNode node, List<String> segments, int i) {
    if (i == segments.size()) {
      return maskAll(node);
    }
    String segment = segments.get(i);
    if (segment.equals("[]")) {
      if (node instanceof ArrayNode array) {
        for (int j = 0; j < array.size(); j++) {
          array.set(j, maskAt(array.get(j), segments, i + 1));
        }
      }
    } else if (node instanceof ObjectNode object && object.has(segment)) {
      object.set(segment, maskAt(object.get(segment), segments, i + 1));
    }
    return node;
  }

  private static JsonNode maskAll(JsonNode node) {
    if (node instanceof ObjectNode object) {
      for (String name : new ArrayList<>(object.propertyNames())) {
        object.set(name, maskAll(object.get(name)));
      }
      return object;
    }
    if (node instanceof ArrayNode array) {
      for (int j = 0; j < array.size(); j++) {
        array.set(j, maskAll(array.get(j)));
      }
      return array;
    }
    if (node == null || node.isNull() || node.isMissingNode() || node.isString() && isMarker(node.asString())) {
      return node;
    }
    return NODES.stringNode(marker(canonical(node)));
  }

  /** Adds the renderings of every value at {@code segments[i..]} under {@code node}, with their markers. */
  private static void collect(JsonNode node, List<String> segments, int i, Map<String, String> out) {
    if (node == null) {
      return;
    }
    if (i < segments.size()) {
      String segment = segments.get(i);
      if (segment.equals("[]")) {
        if (node.isArray()) {
          node.forEach(e -> collect(e, segments, i + 1, out));
        }
      } else if (node.isObject()) {
        collect(node.get(segment), segments, i + 1, out);
      }
      return;
    }
    if (node.isContainer()) {
      node.forEach(e -> collect(e, segments, i, out));
      return;
    }
    if (node.isNull() || node.isMissingNode() || node.isBoolean()) {
      return;
    }
    String canonical = canonical(node);
    if (canonical.isEmpty() || isMarker(canonical)) {
      return;
    }
    String marker = marker(canonical);
    out.put(canonical, marker);
    out.put(node.asString(), marker);
    String json = node.toString();
    out.put(node.isString() ? json.substring(1, json.length() - 1) : json, marker);
  }

  private static String canonical(JsonNode value) {
    if (value.isNumber()) {
      BigDecimal d = value.decimalValue().stripTrailingZeros();
      return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
    }
    return value.isString() ? value.asString() : value.toString();
  }

  private static boolean covers(List<String> redacted, List<String> path) {
    return path.size() >= redacted.size() && path.subList(0, redacted.size()).equals(redacted);
  }

  private static byte[] key() {
    String configured = System.getenv(KEY_VARIABLE);
    if (configured != null && !configured.isBlank()) {
      return configured.getBytes(UTF_8);
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return random;
  }

  private static Mac mac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java platform", e);
    }
  }
}
