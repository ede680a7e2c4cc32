package io.flowtrace.cli;

/** Counts in messages: {@code 1 rule}, {@code 2 rules}, {@code 1 entry}, {@code 3 entries}. */
final class Plural {
  private Plural() {}

  /** {@code n} and the noun, plural unless {@code n} is 1. */
  static String count(long n, String noun) {
    return n + " " + (n == 1 ? noun : plural(noun));
  }

  /** Like {@link #count}, the number with thousands separators: {@code 20,000 flows}. */
  static String grouped(long n, String noun) {
    return String.format("%,d", n) + " " + (n == 1 ? noun : plural(noun));
  }

  /** The plural of an English noun as messages use them (regular forms, -y and -s endings). */
  static String plural(String noun) {
    int space = noun.lastIndexOf(' ');
    if (space >= 0) {
      return noun.substring(0, space + 1) + plural(noun.substring(space + 1));
    }
    if (noun.endsWith("y") && noun.length() > 1 && "aeiou".indexOf(noun.charAt(noun.length() - 2)) < 0) {
      return noun.substring(0, noun.length() - 1) + "ies";
    }
    if (noun.endsWith("s") || noun.endsWith("x") || noun.endsWith("ch") || noun.endsWith("sh")) {
      return noun + "es";
    }
    return noun + "s";
  }
}
