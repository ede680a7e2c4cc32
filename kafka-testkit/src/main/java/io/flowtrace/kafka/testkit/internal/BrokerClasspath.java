package io.flowtrace.kafka.testkit.internal;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Internal, not API: the forked broker's own class path, so the broker runs on the jars of its own
 * Kafka version whatever kafka-clients the test's class path holds (a 3.9 client next to a 4.4
 * broker's {@code kafka-server-common} fails with {@code NoSuchMethodError}).
 *
 * <p>The testkit's build lists the broker's runtime jars ({@code org.apache.kafka:kafka_2.13} and
 * its dependencies) as paths below a Maven repository in the resource {@value #RESOURCE}. {@link
 * #resolve()} finds each jar in the local Maven repository ({@link #localRepository()}), then in
 * the testkit's cache ({@link #cacheDirectory()}), and downloads the missing ones from Maven Central
 * into the cache, checking each against the SHA-1 that Central publishes for it. Nothing is
 * downloaded where Maven already has the jars, as in any build that resolved the testkit.
 */
public final class BrokerClasspath {

  /** The resource, beside this class, that the build writes. */
  public static final String RESOURCE = "broker-classpath.txt";
  /** Maven Central. Overridden by the system property {@value #REMOTE_PROPERTY}. */
  public static final URI CENTRAL = URI.create("https://repo1.maven.org/maven2/");
  /** System property: the Maven repository to download missing jars from (a mirror). */
  public static final String REMOTE_PROPERTY = "flowtrace.kafka.repository";
  /** System property: the directory downloaded jars go to. */
  public static final String CACHE_PROPERTY = "flowtrace.kafka.cache";

  private static final Logger LOG = LoggerFactory.getLogger(BrokerClasspath.class);
  private static final String REPO_TOKEN = "@REPO@/";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(5);

  private final List<String> entries;
  private final Path localRepository;
  private final Path cache;
  private final URI remote;

  /**
   * @param entries jar paths relative to a Maven repository ({@code org/apache/.../x-1.0.jar})
   * @param localRepository the local Maven repository, searched first
   * @param cache searched next; missing jars are downloaded here
   * @param remote the Maven repository to download from
   */
  public BrokerClasspath(List<String> entries, Path localRepository, Path cache, URI remote) {
    this.entries = List.copyOf(requireNonNull(entries, "entries"));
    if (this.entries.isEmpty()) {
      throw new IllegalArgumentException("no jars listed");
    }
    this.localRepository = requireNonNull(localRepository, "localRepository");
    this.cache = requireNonNull(cache, "cache");
    String base = requireNonNull(remote, "remote").toString();
    this.remote = URI.create(base.endsWith("/") ? base : base + "/");
  }

  /** The jars of the resource, the local repository, the cache and the remote of this JVM's settings. */
  public static BrokerClasspath defaults() {
    String remote = System.getProperty(REMOTE_PROPERTY);
    return new BrokerClasspath(listedJars(), localRepository(), cacheDirectory(),
        remote == null || remote.isBlank() ? CENTRAL : URI.create(remote.trim()));
  }

  /** The jar paths in {@value #RESOURCE}. */
  public static List<String> listedJars() {
    try (InputStream in = BrokerClasspath.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("The testkit's resource " + RESOURCE + " is missing: the jar was not"
            + " built by its Maven build; set KafkaBroker.Builder.classpath(...) instead");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + RESOURCE, e);
    }
  }

  /**
   * Parses the resource: jar paths separated by {@code :} or line breaks, each optionally starting
   * with {@code @REPO@/} (as {@code dependency:build-classpath} writes them); {@code #} starts a
   * comment line.
   */
  static List<String> parse(String text) {
    List<String> jars = new ArrayList<>();
    for (String line : text.split("\\R")) {
      if (line.isBlank() || line.trim().startsWith("#")) {
        continue;
      }
      for (String entry : line.split(":")) {
        String jar = entry.trim();
        if (jar.startsWith(REPO_TOKEN)) {
          jar = jar.substring(REPO_TOKEN.length());
        }
        if (jar.isEmpty()) {
          continue;
        }
        if (jar.startsWith("/") || jar.contains("..") || !jar.endsWith(".jar")) {
          throw new IllegalStateException(RESOURCE + " lists '" + entry.trim()
              + "', not a jar path inside a Maven repository");
        }
        jars.add(jar);
      }
    }
    return List.copyOf(jars);
  }

  /** The listed jar paths, relative to a Maven repository. */
  public List<String> jars() {
    return entries;
  }

  /** The version of {@code kafka_2.13} in the list, e.g. {@code 4.4.0}. */
  public String kafkaVersion() {
    return versionOf("kafka_2.13", entries).orElseThrow(() ->
        new IllegalStateException(RESOURCE + " lists no org.apache.kafka:kafka_2.13 jar"));
  }

  /**
   * The version in the file name of the first {@code <artifactId>-<version>.jar} among {@code
   * paths} (file paths or class path entries), if any.
   */
  public static Optional<String> versionOf(String artifactId, List<String> paths) {
    Pattern jar = Pattern.compile("(?:^|[/\\\\])" + Pattern.quote(artifactId) + "-(\\d[^/\\\\]*?)\\.jar$");
    for (String p : paths) {
      Matcher m = jar.matcher(p);
      if (m.find()) {
        return Optional.of(m.group(1));
      }
    }
    return Optional.empty();
  }

  /**
   * Each listed jar as a local file, in the listed order, downloading the missing ones.
   *
   * @throws IOException when a jar is missing and cannot be downloaded or fails its SHA-1 check;
   *     the message names the jar, the URL and the directories searched
   */
  public List<Path> resolve() throws IOException {
    List<Path> files = new ArrayList<>(entries.size());
    List<String> missing = new ArrayList<>();
    for (String jar : entries) {
      Path found = find(jar);
      files.add(found);
      if (found == null) {
        missing.add(jar);
      }
    }
    if (!missing.isEmpty()) {
      long t0 = System.nanoTime();
      LOG.info("Downloading {} of the {} jars of the Kafka {} broker from {} into {} (once; all of them weigh about 45 MB)",
          missing.size(), entries.size(), versionOf("kafka_2.13", entries).orElse("?"), remote, cache);
      HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
          .proxy(ProxySelector.getDefault()).followRedirects(HttpClient.Redirect.NORMAL).build();
      long bytes = 0;
      for (int i = 0; i < files.size(); i++) {
        if (files.get(i) == null) {
          Path downloaded = download(http, entries.get(i));
          bytes += Files.size(downloaded);
          files.set(i, downloaded);
        }
      }
      LOG.info("Downloaded {} jars ({} MB) in {} s", missing.size(), bytes / 1_000_000,
          TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
    }
    return List.copyOf(files);
  }

  private Path find(String jar) {
    for (Path repository : List.of(localRepository, cache)) {
      Path file = repository.resolve(jar);
      if (Files.isRegularFile(file)) {
        return file;
      }
    }
    return null;
  }

  private Path download(HttpClient http, String jar) throws IOException {
    URI url = remote.resolve(jar);
    Path target = cache.resolve(jar);
    Files.createDirectories(target.getParent());
    Path part = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
    try {
      String actual;
      try {
        HttpResponse<InputStream> response = http.send(request(url), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
          if (response.statusCode() != 200) {
            throw new IOException("GET " + url + " answered " + response.statusCode());
          }
          MessageDigest sha1 = sha1();
          try (DigestInputStream in = new DigestInputStream(body, sha1);
              OutputStream out = Files.newOutputStream(part)) {
            in.transferTo(out);
          }
          actual = HexFormat.of().formatHex(sha1.digest());
        }
        String expected = expectedSha1(http, URI.create(url + ".sha1"));
        if (!actual.equals(expected)) {
          throw new IOException("SHA-1 of " + url + " is " + actual + ", but " + url + ".sha1 says " + expected);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted downloading " + url, e);
      }
      try {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
      }
      return target;
    } catch (IOException e) {
      throw new IOException("Could not download the broker jar " + jar + " (not in " + localRepository
          + " nor " + cache + "): " + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  private static String expectedSha1(HttpClient http, URI url) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(request(url), HttpResponse.BodyHandlers.ofString(StandardCharsets.US_ASCII));
    if (response.statusCode() != 200) {
      throw new IOException("GET " + url + " answered " + response.statusCode());
    }
    String[] words = response.body().trim().split("\\s+");
    if (words.length == 0 || !words[0].matches("(?i)[0-9a-f]{40}")) {
      throw new IOException(url + " holds no SHA-1: '" + response.body().trim() + "'");
    }
    return words[0].toLowerCase(Locale.ROOT);
  }

  private static HttpRequest request(URI url) {
    return HttpRequest.newBuilder(url).timeout(DOWNLOAD_TIMEOUT)
        .header("User-Agent", "flowtrace-kafka-testkit").GET().build();
  }

  private static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("This JVM has no SHA-1", e);
    }
  }

  /**
   * The local Maven repository: the system property {@code maven.repo.local}, else the {@code
   * <localRepository>} of {@code ~/.m2/settings.xml}, else {@code ~/.m2/repository}.
   */
  public static Path localRepository() {
    String property = System.getProperty("maven.repo.local");
    if (property != null && !property.isBlank()) {
      return Path.of(property.trim());
    }
    Path home = Path.of(System.getProperty("user.home"));
    Path settings = home.resolve(".m2").resolve("settings.xml");
    if (Files.isRegularFile(settings)) {
      try {
        String configured = localRepositoryIn(Files.readString(settings, StandardCharsets.UTF_8), home);
        if (configured != null) {
          return Path.of(configured);
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("Could not read {}: {}", settings, e.toString());
      }
    }
    return home.resolve(".m2").resolve("repository");
  }

  /** The {@code <localRepository>} of a settings.xml, outside comments, with {@code ${user.home}} filled in. */
  static String localRepositoryIn(String settingsXml, Path home) {
    String xml = settingsXml.replaceAll("(?s)<!--.*?-->", "");
    Matcher m = Pattern.compile("<localRepository>\\s*([^<]*?)\\s*</localRepository>").matcher(xml);
    if (!m.find() || m.group(1).isEmpty()) {
      return null;
    }
    return m.group(1).replace("${user.home}", home.toString());
  }

  /**
   * Where downloaded jars go: the system property {@value #CACHE_PROPERTY}, else {@code
   * $XDG_CACHE_HOME/flowtrace/maven}, else {@code ~/.cache/flowtrace/maven}.
   */
  public static Path cacheDirectory() {
    String property = System.getProperty(CACHE_PROPERTY);
    if (property != null && !property.isBlank()) {
      return Path.of(property.trim());
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("flowtrace").resolve("maven");
  }
}
