package io.flowtrace.sidecar.output;

import io.flowtrace.verifier.report.LateEvent;
import io.flowtrace.verifier.report.Verdict;
import java.io.Closeable;
import java.io.IOException;

/**
 * Where the sidecar sends verdicts: each first decision ({@code revision} 0) and each amendment
 * (higher revisions) of an instance, identified by {@link Verdict#instanceKey()}. Called on the
 * engine's thread. {@link #flush()} returns once everything written so far is durable where the
 * sink keeps it; the sidecar commits input offsets only after a successful flush.
 */
public interface VerdictSink extends Closeable {

  /** Takes one verdict. May buffer; must not block for long. */
  void write(Verdict verdict) throws IOException;

  /**
   * Takes a note of an event that came after its instance's verdict was final (it changed
   * nothing). Defaults to ignoring it.
   */
  default void late(LateEvent event) throws IOException {}

  /**
   * Takes a verdict another output of this sidecar holds and this one lacks, read back at start-up
   * as the JSON text that output wrote ({@link VerdictText#json}), to be written as it is. An
   * output that is not read back (the console) ignores it, as the default does.
   */
  default void copy(String instanceKey, int revision, String json) throws IOException {}

  /** Makes everything written so far durable, or throws. */
  void flush() throws IOException;

  /**
   * After a write or flush failed: brings the output back to what its last successful {@link
   * #flush()} made durable (dropping anything written since, whole or in part), so that the caller
   * can write it all again without a duplicate or a torn line. Throws while it cannot (the cause
   * persists); the caller tries again later. The default cannot: such an output stays failed.
   */
  default void rewind() throws IOException {
    throw new IOException(getClass().getName() + " cannot recover from a failed write");
  }

  @Override
  void close() throws IOException;
}
