package io.flowtrace.verifier.report.html;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The one stylesheet and the one script that draw flowtrace's pages: the replay report (inlined
 * into a self-contained file), the sidecar's live page (served as {@code /assets/flowtrace.js} and
 * {@code /assets/flowtrace.css}) and the JUnit failure page. There is no second copy anywhere.
 *
 * <p>The script shows every piece of data as text ({@code textContent}, {@code createTextNode}),
 * never as markup.
 */
public final class HtmlAssets {
  private static final String CSS = load("flowtrace.css");
  private static final String JS = load("flowtrace.js");

  private HtmlAssets() {}

  /** The stylesheet. */
  public static String stylesheet() {
    return CSS;
  }

  /** The script: reads the page's JSON blocks (or, live, fetches {@code verdicts.json}) and draws. */
  public static String script() {
    return JS;
  }

  private static String load(String name) {
    try (InputStream in = HtmlAssets.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("flowtrace: resource " + name + " is missing from the verifier jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
