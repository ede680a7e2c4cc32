package io.flowtrace.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowtrace.junit.FlowTraceExtension;
import io.flowtrace.verifier.schema.SchemaRegistryClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowSpecsTest {

  private static final String BROKEN = "flow: rental\nkeys: [rentalId]\ndeadline: soon\nstages:\n  - id: a\n"
      + "    terminal: true\n    events: [{id: e, topic: t}]\n";

  @TempDir Path module;

  @Test
  void problemsInSpecsTheBuildCopiedNameTheSourceFileOneEdits() throws IOException {
    Path source = Files.createDirectories(module.resolve("src/test/resources/flows"));
    Path copy = Files.createDirectories(module.resolve("target/test-classes/flows"));
    Files.writeString(source.resolve("rental.flow.yaml"), BROKEN);
    Files.writeString(copy.resolve("rental.flow.yaml"), BROKEN);

    assertThatThrownBy(() -> FlowSpecs.loadDirectory(copy))
        .hasMessageStartingWith("flowtrace: invalid flow specs in " + source.toAbsolutePath() + ":\n")
        .hasMessageContaining(source.toAbsolutePath().resolve("rental.flow.yaml") + ":3:11: 'soon' is not a duration")
        .message().doesNotContain("target");
  }

  @Test
  void specsWithNoSourceBesideThemAreNamedWhereTheyAre() throws IOException {
    Path dir = Files.createDirectories(module.resolve("target/test-classes/flows"));
    Files.writeString(dir.resolve("rental.flow.yaml"), BROKEN);

    assertThatThrownBy(() -> FlowSpecs.loadDirectory(dir))
        .hasMessageContaining(dir.toAbsolutePath().resolve("rental.flow.yaml") + ":3:11: 'soon' is not a duration");
  }

  /** Specs whose Avro schemas come from a registry load with one, as in replay and the sidecar. */
  @Test
  void specsWithRegistrySchemasLoadGivenTheRegistry() throws IOException {
    Path dir = Files.createDirectories(module.resolve("flows"));
    Files.writeString(dir.resolve("mail.flow.yaml"), "flow: mail\nkeys: [orderId]\nstages:\n  - id: sent\n"
        + "    terminal: true\n    events: [{id: email, topic: notifications.email, recordKey: orderId,"
        + " schema: {avro-registry: true, ids: [1]}}]\n");
    SchemaRegistryClient registry = SchemaRegistryClient.create(java.net.URI.create("http://registry.invalid:8081"));

    assertThatThrownBy(() -> FlowSpecs.load(dir.toString()))
        .hasMessageContaining("avro-registry: true needs a schema registry URL");
    assertThat(FlowSpecs.load(dir.toString(), registry)).singleElement()
        .satisfies(f -> assertThat(f.name()).isEqualTo("mail"));
    assertThatThrownBy(() -> FlowTraceExtension.builder().schemaRegistry("registry:8081"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http(s)://host[:port]");
  }
}
