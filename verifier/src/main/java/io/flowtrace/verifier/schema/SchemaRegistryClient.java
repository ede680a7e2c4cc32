package io.flowtrace.verifier.schema;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.avro.Schema;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Fetches Avro schemas by id from a Confluent-compatible schema registry: {@code GET
 * {url}/schemas/ids/{id}} answering {@code {"schema": "<Avro schema JSON>"}} (Confluent, Karapace,
 * Redpanda, and Apicurio's {@code /apis/ccompat/v7} all serve this).
 *
 * <p>A schema id never changes meaning, so a fetched schema is kept for good (up to {@value
 * #DEFAULT_MAX_SCHEMAS} ids, least recently used dropped first); a failure is remembered for a short
 * time ({@link #DEFAULT_NEGATIVE_TTL}), so an unknown id or a registry outage costs one request per
 * id per that time, not one per record. Requests time out ({@link #DEFAULT_CONNECT_TIMEOUT}, {@link
 * #DEFAULT_REQUEST_TIMEOUT}). Every failure names the URL asked and the id. Thread-safe; fetches are
 * serialised (a registry is asked about each id once, whatever the number of threads).
 */
public final class SchemaRegistryClient {

  /** Default connect timeout: 5 s. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** Default timeout of one request: 10 s. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
  /** Default time a failed look-up is remembered: 10 s. */
  public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofSeconds(10);
  /** Default number of schemas kept: 10,000. */
  public static final int DEFAULT_MAX_SCHEMAS = 10_000;
  /** Failed look-ups remembered at most. */
  static final int MAX_FAILURES = 1_000;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final URI url;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final Duration negativeTtl;
  private final LongSupplier nanoClock;
  private final Map<Long, Schema> schemas;
  private final Map<Long, Failure> failures;
  private long requests;

  private record Failure(String message, boolean unavailable, long untilNanos) {}

  private SchemaRegistryClient(Builder b) {
    this.url = b.url;
    this.http = HttpClient.newBuilder().connectTimeout(b.connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    this.requestTimeout = b.requestTimeout;
    this.negativeTtl = b.negativeTtl;
    this.nanoClock = b.nanoClock;
    int maxSchemas = b.maxSchemas;
    this.schemas = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Schema> eldest) {
        return size() > maxSchemas;
      }
    };
    this.failures = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Failure> eldest) {
        return size() > MAX_FAILURES;
      }
    };
  }

  /** A client of the registry at {@code url} (e.g. {@code http://registry:8081}) with the defaults. */
  public static SchemaRegistryClient create(URI url) {
    return builder(url).build();
  }

  public static Builder builder(URI url) {
    return new Builder(url);
  }

  /** The registry's base URL. */
  public URI url() {
    return url;
  }

  /** HTTP requests made so far (cache misses). */
  public synchronized long requests() {
    return requests;
  }

  /** The URL asked for an id: {@code {url}/schemas/ids/{id}}. */
  public URI schemaUrl(long id) {
    String base = url.toString();
    return URI.create((base.endsWith("/") ? base : base + "/") + "schemas/ids/" + id);
  }

  /**
   * The Avro schema registered under {@code id}.
   *
   * @throws SchemaRegistryException naming the URL and id: HTTP error (with the registry's message),
   *     timeout, unreachable registry, an answer without {@code schema}, a schema that is not Avro
   *     or does not parse; the same failure is thrown again, without a request, for a short time
   */
  public synchronized Schema schema(long id) throws SchemaRegistryException {
    Schema cached = schemas.get(id);
    if (cached != null) {
      return cached;
    }
    Failure failed = failures.get(id);
    if (failed != null) {
      if (nanoClock.getAsLong() - failed.untilNanos() < 0) {
        throw new SchemaRegistryException(failed.message(), failed.unavailable());
      }
      failures.remove(id);
    }
    try {
      Schema schema = fetch(id);
      schemas.put(id, schema);
      return schema;
    } catch (SchemaRegistryException e) {
      failures.put(id, new Failure(e.getMessage(), e.unavailable(), nanoClock.getAsLong() + negativeTtl.toNanos()));
      throw e;
    }
  }

  private Schema fetch(long id) throws SchemaRegistryException {
    URI asked = schemaUrl(id);
    String where = "schema id " + id + " from schema registry " + asked + ": ";
    requests++;
    HttpResponse<String> response;
    try {
      response = http.send(HttpRequest.newBuilder(asked).timeout(requestTimeout)
              .header("Accept", "application/vnd.schemaregistry.v1+json, application/json").GET().build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new SchemaRegistryException(where + "no answer within " + requestTimeout.toMillis() + " ms (" + e.getMessage() + ")",
          true);
    } catch (IOException e) {
      throw new SchemaRegistryException(where + "cannot reach the registry: " + e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException(where + "interrupted", true);
    }
    String body = response.body() == null ? "" : response.body();
    if (response.statusCode() == 404) {
      // the one answer that is the payload's fault: its producer framed it with an id never registered
      throw new SchemaRegistryException(where + "HTTP 404: the registry has no schema with this id"
          + (body.isBlank() || body.strip().startsWith("<") ? "" : " (" + abbreviate(body) + ")"), false);
    }
    if (response.statusCode() != 200) {
      throw new SchemaRegistryException(where + "HTTP " + response.statusCode()
          + (body.isBlank() || body.strip().startsWith("<") ? "" : ": " + abbreviate(body)), true);
    }
    JsonNode answer;
    try {
      answer = JSON.readTree(body);
    } catch (JacksonException e) {
      throw new SchemaRegistryException(where + "the answer is not JSON (is this a schema registry?): "
          + abbreviate(body), true);
    }
    JsonNode type = answer.path("schemaType");
    if (type.isString() && !"AVRO".equals(type.stringValue().toUpperCase(Locale.ROOT))) {
      throw new SchemaRegistryException(where + "a " + type.stringValue() + " schema, not Avro", false);
    }
    JsonNode text = answer.get("schema");
    if (text == null || !text.isString()) {
      throw new SchemaRegistryException(where + "the answer has no \"schema\" text: " + abbreviate(body), true);
    }
    try {
      return new Schema.Parser().parse(text.stringValue());
    } catch (RuntimeException e) {
      throw new SchemaRegistryException(where + "not an Avro schema: " + e.getMessage(), false);
    }
  }

  private static String abbreviate(String text) {
    String t = text.strip().replaceAll("\\s+", " ");
    return t.length() > 200 ? t.substring(0, 200) + "..." : t;
  }

  @Override
  public String toString() {
    return "schema registry " + url;
  }

  /**
   * A look-up failed; the message names the URL asked, the id and what went wrong. {@link
   * #unavailable()}: the registry could not answer (down, slow, an error of its own, refusing the
   * request) — as opposed to answering that the id names no Avro schema, which is the payload's fault.
   */
  public static final class SchemaRegistryException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean unavailable;

    public SchemaRegistryException(String message, boolean unavailable) {
      super(message);
      this.unavailable = unavailable;
    }

    /** Whether the registry could not answer, rather than answering that the id has no Avro schema. */
    public boolean unavailable() {
      return unavailable;
    }
  }

  /** Configures a {@link SchemaRegistryClient}. */
  public static final class Builder {
    private final URI url;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration negativeTtl = DEFAULT_NEGATIVE_TTL;
    private int maxSchemas = DEFAULT_MAX_SCHEMAS;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder(URI url) {
      requireNonNull(url, "url");
      String scheme = url.getScheme();
      if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || url.getHost() == null) {
        throw new IllegalArgumentException("schema registry URL must be http(s)://host[:port][/path], was '" + url + "'");
      }
      this.url = url;
    }

    /** Defaults to 5 s. */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive(d, "connectTimeout");
      return this;
    }

    /** Defaults to 10 s. */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = positive(d, "requestTimeout");
      return this;
    }

    /** How long a failed look-up is remembered. Defaults to 10 s. */
    public Builder negativeTtl(Duration d) {
      this.negativeTtl = positive(d, "negativeTtl");
      return this;
    }

    /** Schemas kept at most. Defaults to 10,000. */
    public Builder maxSchemas(int maxSchemas) {
      if (maxSchemas < 1) {
        throw new IllegalArgumentException("maxSchemas must be >= 1, was " + maxSchemas);
      }
      this.maxSchemas = maxSchemas;
      return this;
    }

    /** For tests: the clock of the negative cache. */
    Builder nanoClock(LongSupplier clock) {
      this.nanoClock = requireNonNull(clock, "clock");
      return this;
    }

    public SchemaRegistryClient build() {
      return new SchemaRegistryClient(this);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }
  }
}
