package io.flowtrace.verifier.rules;

/**
 * Money compared to the cent, as rules' {@code money_eq} compares it: two amounts are equal when
 * they differ by at most half a cent, so an amount rounded to the cent (half up, or half to even)
 * equals the exact value it was rounded from — {@code 38.125} billed as {@code 38.13}.
 */
public final class Money {

  /** Half a cent, and a little for the error of binary fractions ({@code 38.13 − 38.125} is 0.0050000000000026). */
  static final double TOLERANCE = 0.005 + 1e-6;

  private Money() {}

  /** Whether {@code a} and {@code b} are the same amount to the cent. */
  public static boolean equalToTheCent(double a, double b) {
    return Math.abs(a - b) <= TOLERANCE;
  }
}
