package io.flowtrace.verifier.schema;

import static java.util.Objects.requireNonNull;

/**
 * A schema could not be loaded. The message names the file (as the flow spec referenced it,
 * relative to the spec's directory), where in it the problem is when that is known, and what was
 * wrong, e.g. {@code asyncapi.yaml: no message 'OrderCreatd' under components.messages (have:
 * OrderCreated, OrderConfirmed)}.
 */
public final class SchemaLoadException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final String detail;

  public SchemaLoadException(String file, String detail) {
    this(file, detail, null);
  }

  public SchemaLoadException(String file, String detail, Throwable cause) {
    super(requireNonNull(file, "file") + ": " + requireNonNull(detail, "detail"), cause);
    this.file = file;
    this.detail = detail;
  }

  /** The file the problem is in, relative to the flow spec's directory where possible. */
  public String file() {
    return file;
  }

  /** What was wrong, without the file name. */
  public String detail() {
    return detail;
  }
}
