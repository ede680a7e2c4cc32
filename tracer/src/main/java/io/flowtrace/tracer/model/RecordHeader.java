package io.flowtrace.tracer.model;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** One Kafka record header. The value is kept as bytes; {@code null} when the header had none. */
public record RecordHeader(String name, byte[] value) {
  public RecordHeader {
    requireNonNull(name, "name");
    value = value == null ? null : value.clone();
  }

  public static RecordHeader ofString(String name, String value) {
    return new RecordHeader(name, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] value() {
    return value == null ? null : value.clone();
  }

  /** The value decoded as UTF-8, or {@code null}. */
  public String valueAsString() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RecordHeader h && h.name.equals(name) && Arrays.equals(h.value, value);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return name + "=" + valueAsString();
  }
}
