package io.flowtrace.verifier.report.html;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Assembles a self-contained page: the stylesheet and script inline, the data in {@code <script
 * type="application/json">} blocks, and a Content-Security-Policy that allows exactly that inline
 * script and style (by hash) and no network at all.
 */
final class HtmlPage {
  private HtmlPage() {}

  /**
   * JSON text made safe to sit inside a {@code <script>} element: {@code <}, {@code >} and {@code &}
   * as {@code \\u003c}, {@code \\u003e}, {@code \\u0026} — not only {@code </} as {@code <\/}, which
   * would still let {@code <!--<script>} put the parser into its "double escaped" state and swallow
   * the rest of the page — U+2028/U+2029 escaped, and a lone surrogate (which UTF-8 cannot carry)
   * replaced by U+FFFD. These characters only occur inside JSON strings, where the escapes mean the
   * same, so {@code JSON.parse} gives back the same values. The length in UTF-16 units is what the
   * page's script indexes by.
   */
  static String scriptSafe(String json) {
    StringBuilder sb = null;
    int n = json.length();
    for (int i = 0; i < n; i++) {
      char c = json.charAt(i);
      String rep = null;
      switch (c) {
        case '<' -> rep = "\\u003c";
        case '>' -> rep = "\\u003e";
        case '&' -> rep = "\\u0026";
        case '\u2028' -> rep = "\\u2028";
        case '\u2029' -> rep = "\\u2029";
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(json.charAt(i + 1))) {
            if (sb != null) {
              sb.append(c).append(json.charAt(i + 1));
            }
            i++;
            continue;
          }
          if (Character.isSurrogate(c)) {
            rep = "\\ufffd";
          }
        }
      }
      if (rep != null) {
        if (sb == null) {
          sb = new StringBuilder(n + 64);
          sb.append(json, 0, i);
        }
        sb.append(rep);
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? json : sb.toString();
  }

  /** The HTML up to and including the opening of the body. */
  static void head(Writer w, String title, String mode) throws IOException {
    String css = HtmlAssets.stylesheet();
    String js = HtmlAssets.script();
    w.write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Only this inline script and style may run or apply; nothing may be fetched (no network at all).
    w.write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src '"
        + sha256(js) + "'; style-src '" + sha256(css) + "'; img-src data:\">\n");
    w.write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    w.write("<title>" + text(title) + "</title>\n<style>");
    w.write(css);
    w.write("</style>\n</head>\n<body data-mode=\"" + text(mode) + "\">\n");
    w.write("<div id=\"app\"><noscript>This page draws its flows with JavaScript; its data is in the script blocks"
        + " of the file (the instances' details gzip-compressed, base64).</noscript></div>\n");
  }

  /** Opens a JSON data block. */
  static void openData(Writer w, String id) throws IOException {
    w.write("<script type=\"application/json\" id=\"" + id + "\">");
  }

  static void closeData(Writer w) throws IOException {
    w.write("</script>\n");
  }

  /** The script and the end of the page. */
  static void tail(Writer w) throws IOException {
    w.write("<script>");
    w.write(HtmlAssets.script());
    w.write("</script>\n</body>\n</html>\n");
  }

  /** Text for an element or attribute we write ourselves (the title, the mode). */
  static String text(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  static String sha256(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return "sha256-" + Base64.getEncoder().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
