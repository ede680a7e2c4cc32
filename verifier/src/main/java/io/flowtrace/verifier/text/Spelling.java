package io.flowtrace.verifier.text;

import java.util.Collection;

/**
 * Suggestions for a misspelt name: the spec loader, rule checker and the sidecar's settings use it
 * to answer an unknown name with the closest known one.
 */
public final class Spelling {
  private Spelling() {}

  /**
   * {@code " (did you mean 'x'?)"} for the known name closest to {@code wrong} by edit distance,
   * when it is within 2 edits (or a third of the name's length, if more); otherwise empty.
   */
  public static String didYouMean(String wrong, Collection<String> known) {
    String best = closest(wrong, known);
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }

  /**
   * The known name closest to {@code wrong} by edit distance, when it is within 2 edits (or a third
   * of the name's length, if more); otherwise {@code null}.
   */
  public static String closest(String wrong, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = editDistance(wrong, k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= Math.max(2, wrong.length() / 3) ? best : null;
  }

  /** The Levenshtein distance: insertions, deletions and substitutions that turn {@code a} into {@code b}. */
  public static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
