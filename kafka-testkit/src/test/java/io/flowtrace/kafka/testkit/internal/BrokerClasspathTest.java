package io.flowtrace.kafka.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker's own class path: the list the build writes, the local lookup and the checked download. */
class BrokerClasspathTest {

  private static final String JAR = "org/example/demo/1.0/demo-1.0.jar";
  private static final byte[] CONTENT = "not really a jar".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;
  private HttpServer server;
  private final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private final List<String> requested = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startRepository() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/maven2/", exchange -> {
      try (exchange) {
        String path = exchange.getRequestURI().getPath().substring("/maven2/".length());
        requested.add(path);
        byte[] body = served.get(path);
        exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
        if (body != null) {
          exchange.getResponseBody().write(body);
        }
      }
    });
    server.start();
  }

  @AfterEach
  void stopRepository() {
    server.stop(0);
  }

  @Test
  void theBuildListsTheBrokersJarsAtOneKafkaVersionAndEachIsInTheLocalRepository() {
    List<String> jars = BrokerClasspath.listedJars();
    BrokerClasspath listed = BrokerClasspath.defaults();

    assertThat(jars).hasSizeGreaterThan(20).doesNotHaveDuplicates();
    assertThat(BrokerClasspath.versionOf("kafka-clients", jars)).contains(listed.kafkaVersion());
    assertThat(jars).contains("org/apache/kafka/kafka_2.13/" + listed.kafkaVersion() + "/kafka_2.13-"
        + listed.kafkaVersion() + ".jar");
    assertThat(BrokerClasspath.versionOf("slf4j-api", jars)).get().asString()
        .as("the broker's log provider is an SLF4J 2 provider").startsWith("2.");
    // The build that wrote the list resolved every jar into the local repository.
    Path local = BrokerClasspath.localRepository();
    assertThat(jars).allSatisfy(jar -> assertThat(local.resolve(jar)).isRegularFile());
  }

  @Test
  void parsesTheBuildsClasspathAndAHandWrittenList() {
    assertThat(BrokerClasspath.parse("@REPO@/a/b/1/b-1.jar:@REPO@/c/d/2/d-2.jar\n"))
        .containsExactly("a/b/1/b-1.jar", "c/d/2/d-2.jar");
    assertThat(BrokerClasspath.parse("# the broker\n a/b/1/b-1.jar \n\nc/d/2/d-2.jar\n"))
        .containsExactly("a/b/1/b-1.jar", "c/d/2/d-2.jar");
    assertThatThrownBy(() -> BrokerClasspath.parse("/root/.m2/repository/a/b/1/b-1.jar"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("broker-classpath.txt lists '/root/.m2/repository/a/b/1/b-1.jar', not a jar path inside a"
            + " Maven repository");
  }

  @Test
  void readsTheVersionFromAJarsFileName() {
    List<String> classpath = List.of("/home/u/.m2/repository/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.jar",
        "/gradle/caches/org.apache.kafka/kafka_2.13/4.4.0/0a1b/kafka_2.13-4.4.0.jar", "/x/target/classes");
    assertThat(BrokerClasspath.versionOf("kafka-clients", classpath)).contains("3.9.1");
    assertThat(BrokerClasspath.versionOf("kafka_2.13", classpath)).contains("4.4.0");
    assertThat(BrokerClasspath.versionOf("kafka-streams", classpath)).isEmpty();
  }

  @Test
  void theLocalRepositoryOfSettingsXmlCountsOutsideComments() {
    Path home = Path.of("/home/u");
    assertThat(BrokerClasspath.localRepositoryIn("<settings><!-- <localRepository>/no</localRepository> -->"
        + "<localRepository> ${user.home}/m2repo </localRepository></settings>", home)).isEqualTo("/home/u/m2repo");
    assertThat(BrokerClasspath.localRepositoryIn("<settings><!--\n<localRepository>/no</localRepository>\n-->"
        + "</settings>", home)).isNull();
  }

  @Test
  void aJarInTheLocalRepositoryIsUsedAsItIs() throws IOException {
    Path local = dir.resolve("m2");
    Files.createDirectories(local.resolve(JAR).getParent());
    Files.write(local.resolve(JAR), CONTENT);

    List<Path> jars = new BrokerClasspath(List.of(JAR), local, dir.resolve("cache"), remote()).resolve();

    assertThat(jars).containsExactly(local.resolve(JAR));
    assertThat(requested).isEmpty();
  }

  @Test
  void aMissingJarIsDownloadedOnceIntoTheCacheAndCheckedAgainstItsSha1() throws Exception {
    served.put(JAR, CONTENT);
    served.put(JAR + ".sha1", (sha1(CONTENT) + "  demo-1.0.jar\n").getBytes(StandardCharsets.US_ASCII));
    Path cache = dir.resolve("cache");
    BrokerClasspath classpath = new BrokerClasspath(List.of(JAR), dir.resolve("m2"), cache, remote());

    assertThat(classpath.resolve()).containsExactly(cache.resolve(JAR));
    assertThat(cache.resolve(JAR)).hasBinaryContent(CONTENT);
    assertThat(classpath.resolve()).containsExactly(cache.resolve(JAR));
    assertThat(requested).containsExactly(JAR, JAR + ".sha1");
    assertThat(leftovers(cache)).isEmpty();
  }

  @Test
  void aDownloadWhoseSha1DiffersIsRefusedAndLeavesNothingBehind() throws Exception {
    served.put(JAR, CONTENT);
    String wrong = "0123456789abcdef0123456789abcdef01234567";
    served.put(JAR + ".sha1", wrong.getBytes(StandardCharsets.US_ASCII));
    Path cache = dir.resolve("cache");

    assertThatThrownBy(() -> new BrokerClasspath(List.of(JAR), dir.resolve("m2"), cache, remote()).resolve())
        .isInstanceOf(IOException.class)
        .hasMessage("Could not download the broker jar " + JAR + " (not in " + dir.resolve("m2") + " nor " + cache
            + "): SHA-1 of " + remote() + JAR + " is " + sha1(CONTENT) + ", but " + remote() + JAR
            + ".sha1 says " + wrong);
    assertThat(cache.resolve(JAR)).doesNotExist();
    assertThat(leftovers(cache)).isEmpty();
  }

  @Test
  void aJarTheRepositoryDoesNotHaveIsNamedWithTheAnswer() {
    Path cache = dir.resolve("cache");
    assertThatThrownBy(() -> new BrokerClasspath(List.of(JAR), dir.resolve("m2"), cache, remote()).resolve())
        .isInstanceOf(IOException.class)
        .hasMessage("Could not download the broker jar " + JAR + " (not in " + dir.resolve("m2") + " nor " + cache
            + "): GET " + remote() + JAR + " answered 404");
  }

  private URI remote() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/maven2/");
  }

  private static List<Path> leftovers(Path cache) throws IOException {
    if (!Files.exists(cache)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(cache)) {
      return files.filter(p -> p.toString().endsWith(".part")).toList();
    }
  }

  private static String sha1(byte[] content) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(content));
  }
}
