package io.flowtrace.cli;

import io.flowtrace.verifier.schema.SchemaRegistryClient;
import java.io.PrintWriter;
import java.net.URI;
import picocli.CommandLine.Option;

/** The {@code --schema-registry URL} option of the commands that decode Avro payloads (a picocli mixin). */
final class SchemaRegistryOption {

  @Option(names = "--schema-registry", paramLabel = "URL",
      description = "Confluent-compatible schema registry (GET URL/schemas/ids/ID): Avro payloads in the Confluent wire"
          + " format are decoded with the schema of the id each carries (for flows whose schema is {avro-registry: true};"
          + " infer drafts from their fields).")
  String url;

  private SchemaRegistryClient client;

  /** Whether the option is absent or names a usable registry; when not, says why on {@code err}. */
  boolean valid(PrintWriter err) {
    if (url == null || client != null) {
      return true;
    }
    try {
      client = SchemaRegistryClient.create(URI.create(url.strip()));
      return true;
    } catch (IllegalArgumentException e) {
      err.println("flowtrace: --schema-registry: " + e.getMessage());
      return false;
    }
  }

  /** The registry the option names ({@link #valid} first), or {@code null} without the option. */
  SchemaRegistryClient client() {
    return client;
  }
}
