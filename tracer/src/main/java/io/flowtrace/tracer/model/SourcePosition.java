package io.flowtrace.tracer.model;

/** Where in an input something was read: a file (or stream name) and a 1-based line or a byte offset. */
public record SourcePosition(String source, long line, long byteOffset) {

  public static SourcePosition line(String source, long line) {
    return new SourcePosition(source, line, -1);
  }

  public static SourcePosition offset(String source, long byteOffset) {
    return new SourcePosition(source, -1, byteOffset);
  }

  @Override
  public String toString() {
    if (line >= 0) {
      return source + ":" + line;
    }
    return byteOffset >= 0 ? source + "@" + byteOffset : source;
  }
}
