package io.flowtrace.tracer.otlp;

import java.nio.charset.StandardCharsets;

/**
 * The strings a decoder met lately, looked up by their characters before a {@code String} is made:
 * telemetry repeats itself (every span carries the same attribute keys, most of the same values, its
 * trace's id), and a string read from a parser's buffer that is found here costs a hash and a
 * comparison instead of two new arrays — and is shared by whatever holds it. Direct-mapped: a slot
 * holds the last string that hashed to it, so what does not repeat (order ids) only passes through,
 * and the cache never grows. Strings longer than {@code maxLength} are made as usual.
 *
 * <p>Thread-safe without locks: slots are written racily, which is safe for immutable strings (a
 * reader sees a whole string or another one, and compares before it takes it).
 */
public final class StringCache {
  /** Attribute keys and span names, kept as {@link Names#SHARED}'s copies. */
  public static final StringCache NAMES = new StringCache(4_096, 128, Names.SHARED);
  /** Attribute values: 4,096 slots, values of up to 64 characters. */
  public static final StringCache VALUES = new StringCache(4_096, 64, null);
  /** Trace and span ids (a trace's spans share its id; a parent's id is its child's parent id). */
  public static final StringCache IDS = new StringCache(16_384, 32, null);

  private final String[] slots;
  /** Each slot's string's hash, beside it: most strings that miss are told apart here, without a trip to the heap. */
  private final int[] hashes;
  private final int mask;
  private final int maxLength;
  private final Names names;

  /**
   * @param slots how many strings are kept (rounded up to a power of two)
   * @param maxLength the longest string looked up
   * @param names where a string not found is made canonical before it is kept ({@code null}: kept as made)
   */
  StringCache(int slots, int maxLength, Names names) {
    int size = Integer.highestOneBit(Math.max(1, slots - 1)) << 1;
    this.slots = new String[size];
    this.hashes = new int[size];
    this.mask = size - 1;
    this.maxLength = maxLength;
    this.names = names;
  }

  /** The string of {@code length} characters at {@code offset} of {@code chars}. */
  public String get(char[] chars, int offset, int length) {
    if (length == 0) {
      return "";
    }
    if (length > maxLength) {
      return new String(chars, offset, length);
    }
    int h = 0;
    for (int i = offset, end = offset + length; i < end; i++) {
      h = 31 * h + chars[i];
    }
    int slot = (h ^ (h >>> 16)) & mask;
    if (hashes[slot] == h) {
      String kept = slots[slot];
      if (kept != null && equal(kept, chars, offset, length)) {
        return kept;
      }
    }
    return keep(slot, h, new String(chars, offset, length));
  }

  /**
   * The string of the {@code length} bytes at {@code offset} of {@code ascii}, which the caller has
   * found to be ASCII (one byte a character).
   */
  public String getAscii(byte[] ascii, int offset, int length) {
    if (length == 0) {
      return "";
    }
    if (length > maxLength) {
      return new String(ascii, offset, length, StandardCharsets.ISO_8859_1);
    }
    int h = 0;
    for (int i = offset, end = offset + length; i < end; i++) {
      h = 31 * h + ascii[i];
    }
    int slot = (h ^ (h >>> 16)) & mask;
    if (hashes[slot] == h) {
      String kept = slots[slot];
      if (kept != null && equal(kept, ascii, offset, length)) {
        return kept;
      }
    }
    return keep(slot, h, new String(ascii, offset, length, StandardCharsets.ISO_8859_1));
  }

  /** A string made elsewhere, as this cache keeps it: the shared copy of a name, else itself. */
  public String kept(String made) {
    return names == null ? made : names.canonical(made);
  }

  private String keep(int slot, int hash, String made) {
    String kept = kept(made);
    slots[slot] = kept;
    hashes[slot] = hash;
    return kept;
  }

  /** The chars and the bytes forms differ only in the array they read (as the JDK's own string code does). */
  private static boolean equal(String s, byte[] ascii, int offset, int length) {
    if (s.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (s.charAt(i) != ascii[offset + i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean equal(String s, char[] chars, int offset, int length) {
    if (s.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (s.charAt(i) != chars[offset + i]) {
        return false;
      }
    }
    return true;
  }
}
