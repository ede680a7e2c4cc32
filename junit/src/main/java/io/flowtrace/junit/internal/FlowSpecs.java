package io.flowtrace.junit.internal;

import io.flowtrace.verifier.spec.FlowSpec;
import io.flowtrace.verifier.spec.FlowSpecException;
import io.flowtrace.verifier.schema.SchemaRegistryClient;
import io.flowtrace.verifier.spec.FlowSpecLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads flow specs from a location: {@code classpath:DIR} (a resource directory, in a folder or a
 * jar) or a filesystem directory. Fails at once with every problem of every file. Internal: not API.
 */
public final class FlowSpecs {

  /** The prefix of a classpath location, e.g. {@code classpath:flows}. */
  public static final String CLASSPATH = "classpath:";

  private FlowSpecs() {}

  /**
   * Loads every {@code *.flow.yaml} under the location.
   *
   * @throws IllegalStateException naming the location and each problem ({@code file:line:col: message})
   */
  public static List<FlowSpec> load(String location) {
    return load(location, null);
  }

  /**
   * As {@link #load(String)}, with the schema registry that {@code {avro-registry: true}} schemas
   * take their Avro schemas from ({@code null}: none, and such a schema is a problem).
   */
  public static List<FlowSpec> load(String location, SchemaRegistryClient registry) {
    if (location.startsWith(CLASSPATH)) {
      return loadResource(location.substring(CLASSPATH.length()), registry);
    }
    return loadDirectory(Path.of(location), registry);
  }

  /** Loads every flow spec under a filesystem directory (or one file). */
  public static List<FlowSpec> loadDirectory(Path dir) {
    return loadDirectory(dir, null);
  }

  private static List<FlowSpec> loadDirectory(Path dir, SchemaRegistryClient registry) {
    try {
      return new FlowSpecLoader(registry).load(dir);
    } catch (FlowSpecException e) {
      Path shown = dir.toAbsolutePath();
      String problems = e.getMessage();
      Path source = source(shown);
      if (source != null) {
        // the build copied the specs from the sources: name the files one edits
        problems = problems.replace(shown.toString(), source.toString());
        shown = source;
      }
      throw new IllegalStateException("flowtrace: invalid flow specs in " + shown + ":\n" + problems, e);
    }
  }

  /**
   * The source directory a build copied a resource directory from ({@code
   * …/target/test-classes/flows} ← {@code …/src/test/resources/flows}, likewise {@code classes} and
   * {@code main}), or {@code null} when there is none to be seen.
   */
  static Path source(Path copied) {
    for (int i = copied.getNameCount() - 2; i >= 1; i--) {
      String kind = copied.getName(i).toString();
      if (copied.getName(i - 1).toString().equals("target") && (kind.equals("test-classes") || kind.equals("classes"))) {
        Path module = copied.getRoot().resolve(copied.subpath(0, i - 1));
        Path source = module.resolve("src").resolve(kind.equals("classes") ? "main" : "test").resolve("resources")
            .resolve(copied.subpath(i + 1, copied.getNameCount()));
        return Files.isDirectory(source) ? source : null;
      }
    }
    return null;
  }

  private static List<FlowSpec> loadResource(String resource, SchemaRegistryClient registry) {
    String name = resource.startsWith("/") ? resource.substring(1) : resource;
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    URL url = (loader != null ? loader : FlowSpecs.class.getClassLoader()).getResource(name);
    if (url == null) {
      throw new IllegalStateException("flowtrace: no flow specs: the classpath has no resource directory '"
          + name + "' (put the *.flow.yaml files under src/test/resources/" + name
          + ", or give a directory with flows(Path))");
    }
    URI uri;
    try {
      uri = url.toURI();
    } catch (URISyntaxException e) {
      throw new IllegalStateException("flowtrace: cannot read flow specs at " + url, e);
    }
    if ("file".equals(uri.getScheme())) {
      return loadDirectory(Path.of(uri), registry);
    }
    return loadFromArchive(uri, registry);
  }

  /** Specs inside a jar: copied to a temporary directory, loaded (schemas included), deleted. */
  private static List<FlowSpec> loadFromArchive(URI uri, SchemaRegistryClient registry) {
    Path copy = null;
    try (FileSystem ignored = openArchive(uri)) {
      copy = Files.createTempDirectory("flowtrace-flows");
      Path source = Path.of(uri);
      try (Stream<Path> walk = Files.walk(source)) {
        for (Path p : walk.toList()) {
          Path target = copy.resolve(source.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
          } else {
            Files.copy(p, target);
          }
        }
      }
      return loadDirectory(copy, registry);
    } catch (IOException e) {
      throw new UncheckedIOException("flowtrace: cannot read flow specs at " + uri, e);
    } finally {
      deleteQuietly(copy);
    }
  }

  private static FileSystem openArchive(URI uri) throws IOException {
    try {
      return FileSystems.newFileSystem(uri, Map.of());
    } catch (FileSystemAlreadyExistsException e) {
      return null; // someone else's; leave it open
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary copy; the OS cleans up what is left
    }
  }
}
