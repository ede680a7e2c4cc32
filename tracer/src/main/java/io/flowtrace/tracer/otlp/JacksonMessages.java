package io.flowtrace.tracer.otlp;

import tools.jackson.core.JacksonException;

/** Jackson's parse failures in the words a reader reports them: no parser internals, no source location. */
public final class JacksonMessages {

  private JacksonMessages() {}

  /**
   * Jackson's own message, without the location it appends (the caller gives its own: file and
   * line) or the "start marker" note, whose source is redacted anyway.
   */
  public static String reason(JacksonException e) {
    String message = e.getOriginalMessage();
    if (message == null) {
      return e.getClass().getSimpleName();
    }
    return message.replaceAll("\\s*\\(?\\bstart marker at \\[Source:[^]]*]\\)?", "")
        .replaceAll("\\s*at \\[Source:[^]]*]", "")
        .replaceAll(": was expecting \\(JSON String, Number, Array, Object or token 'null', 'true' or 'false'\\)", "")
        .strip();
  }
}
