package io.flowtrace.verifier.report.html;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTML rendering of flowtrace's own Markdown (the pages {@code flowtrace docs} writes: headings,
 * paragraphs, tables, lists, fenced code), with the report's stylesheet. Not a general Markdown
 * renderer: it knows the subset those pages use. Every piece of text is escaped first; the only
 * markup that comes out is what this class writes (and {@code <br>} in table cells). No script.
 */
public final class MarkdownPage {
  private static final Pattern LINK = Pattern.compile("\\[([^\\]]+)\\]\\(([A-Za-z0-9._-]+)\\.md\\)");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");
  private static final Pattern BOLD = Pattern.compile("\\*\\*([^*]+)\\*\\*");
  private static final Pattern ITALIC = Pattern.compile("\\*([^*]+)\\*");

  private MarkdownPage() {}

  /** A complete, self-contained page. */
  public static String render(String title, String markdown) {
    String css = HtmlAssets.stylesheet();
    StringBuilder sb = new StringBuilder();
    sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '")
        .append(HtmlPage.sha256(css)).append("'\">\n<title>").append(HtmlPage.text(title)).append("</title>\n<style>")
        .append(css).append("</style>\n</head>\n<body class=\"doc\">\n<main class=\"doc\">\n");
    String[] lines = markdown.split("\n", -1);
    int i = 0;
    while (i < lines.length) {
      String line = lines[i];
      if (line.startsWith("```")) {
        String lang = line.substring(3).strip();
        StringBuilder code = new StringBuilder();
        i++;
        while (i < lines.length && !lines[i].startsWith("```")) {
          code.append(lines[i]).append('\n');
          i++;
        }
        i++;
        String drawn = lang.equals("mermaid") ? FlowchartSvg.render(code.toString()) : null;
        if (drawn != null) {
          sb.append("<div class=\"flowchart\">").append(drawn).append("</div>\n")
              .append("<details><summary>Mermaid source</summary>");
        } else if (lang.equals("mermaid")) {
          sb.append("<div class=\"hint\">Mermaid diagram (drawn where Markdown renders Mermaid, e.g. GitHub):</div>\n");
        }
        sb.append("<pre class=\"json").append(lang.equals("mermaid") ? " mermaid-src" : "").append("\">")
            .append(HtmlPage.text(code.toString())).append("</pre>\n");
        if (drawn != null) {
          sb.append("</details>\n");
        }
      } else if (line.startsWith("#")) {
        int level = 0;
        while (level < line.length() && line.charAt(level) == '#') {
          level++;
        }
        level = Math.min(level, 4);
        sb.append("<h").append(level).append('>').append(inline(line.substring(level).strip())).append("</h")
            .append(level).append(">\n");
        i++;
      } else if (line.startsWith("|")) {
        List<String> rows = new ArrayList<>();
        while (i < lines.length && lines[i].startsWith("|")) {
          rows.add(lines[i]);
          i++;
        }
        sb.append("<div class=\"tablewrap\"><table class=\"doc\">\n");
        for (int r = 0; r < rows.size(); r++) {
          if (r == 1 && rows.get(r).matches("[|\\-: ]+")) {
            continue;
          }
          String tag = r == 0 ? "th" : "td";
          sb.append("<tr>");
          for (String cell : cells(rows.get(r))) {
            String html = inline(cell);
            sb.append('<').append(tag).append('>').append(r == 0 ? html : breakable(html)).append("</").append(tag)
                .append('>');
          }
          sb.append("</tr>\n");
        }
        sb.append("</table></div>\n");
      } else if (line.startsWith("- ")) {
        sb.append("<ul>\n");
        while (i < lines.length && lines[i].startsWith("- ")) {
          sb.append("<li>").append(inline(lines[i].substring(2))).append("</li>\n");
          i++;
        }
        sb.append("</ul>\n");
      } else if (line.isBlank()) {
        i++;
      } else {
        StringBuilder p = new StringBuilder(line);
        i++;
        while (i < lines.length && !lines[i].isBlank() && !lines[i].startsWith("#") && !lines[i].startsWith("|")
            && !lines[i].startsWith("```") && !lines[i].startsWith("- ")) {
          p.append(' ').append(lines[i]);
          i++;
        }
        sb.append("<p>").append(inline(p.toString())).append("</p>\n");
      }
    }
    sb.append("</main>\n</body>\n</html>\n");
    return sb.toString();
  }

  /**
   * Cell text with a line break allowed after each {@code /} and {@code _} and before a dotted
   * part ({@code schemas/v2_preauthorizations_request.schema.json}, {@code tests[].code}), outside
   * markup: a column of identifiers wraps inside the page instead of running off its right edge.
   */
  static String breakable(String html) {
    StringBuilder sb = new StringBuilder(html.length() + 16);
    boolean inTag = false;
    boolean inEntity = false;
    for (int i = 0; i < html.length(); i++) {
      char c = html.charAt(i);
      sb.append(c);
      if (inTag) {
        inTag = c != '>';
      } else if (inEntity) {
        inEntity = c != ';';
      } else if (c == '<') {
        inTag = true;
      } else if (c == '&') {
        inEntity = true;
      } else if ((c == '/' || c == '_' || c == '.') && i + 1 < html.length()
          && Character.isLetterOrDigit(html.charAt(i + 1)) && (c != '.' || Character.isLetter(html.charAt(i + 1)))) {
        sb.append("<wbr>");
      }
    }
    return sb.toString();
  }

  /** Splits a table row on unescaped pipes. */
  private static List<String> cells(String row) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    String body = row.strip();
    body = body.substring(1, body.endsWith("|") && body.length() > 1 ? body.length() - 1 : body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\' && i + 1 < body.length()) {
        cur.append(c).append(body.charAt(++i));
      } else if (c == '|') {
        out.add(cur.toString().strip());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString().strip());
    return out;
  }

  /** Inline Markdown: escaped text first, then code, links to sibling pages, bold, italic, {@code <br>}. */
  static String inline(String md) {
    String text = md.replace("&lt;", "<").replace("&gt;", ">").replace("\\|", "|").replace("\\\\", "\\");
    String html = HtmlPage.text(text);
    // code spans are kept away from the other rules
    List<String> codes = new ArrayList<>();
    Matcher m = CODE.matcher(html);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      codes.add("<code>" + m.group(1) + "</code>");
      m.appendReplacement(sb, "\u0000" + (codes.size() - 1) + "\u0000");
    }
    m.appendTail(sb);
    html = sb.toString();
    html = LINK.matcher(html).replaceAll("<a href=\"$2.html\">$1</a>");
    html = BOLD.matcher(html).replaceAll("<strong>$1</strong>");
    html = ITALIC.matcher(html).replaceAll("<em>$1</em>");
    html = html.replace("&lt;br&gt;", "<br>");
    for (int i = 0; i < codes.size(); i++) {
      html = html.replace("\u0000" + i + "\u0000", Matcher.quoteReplacement(codes.get(i)).replace("\\$", "$").replace("\\\\", "\\"));
    }
    return html;
  }
}
