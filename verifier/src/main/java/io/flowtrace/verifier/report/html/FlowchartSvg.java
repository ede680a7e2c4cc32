package io.flowtrace.verifier.report.html;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Draws, as inline SVG, the Mermaid {@code flowchart LR} subset that {@code flowtrace docs} writes
 * (nodes as boxes, topics as cylinders, spans as stadiums, external parties as hexagons; edges
 * with optional labels; {@code subgraph} captions), so the HTML pages show the data-flow and
 * dependency maps without a script. Layered top to bottom by longest path (a page is narrow and long); every label is escaped
 * text. {@code null} for anything outside that subset: the caller shows the source instead.
 */
final class FlowchartSvg {

  private static final Pattern NODE =
      Pattern.compile("\\s*([A-Za-z0-9_]+)(\\[\\(|\\(\\[|\\[|\\{\\{)\"(.*)\"(\\)\\]|\\]\\)|\\]|\\}\\})\\s*");
  private static final Pattern EDGE =
      Pattern.compile("\\s*([A-Za-z0-9_]+) -->(?:\\|\"?(.*?)\"?\\|)? ([A-Za-z0-9_]+)\\s*");
  private static final Pattern SUBGRAPH = Pattern.compile("\\s*subgraph ([A-Za-z0-9_]+)\\[\"(.*)\"]\\s*");
  private static final int CHAR = 7;
  private static final int LINE = 15;
  private static final int GAP_X = 60;
  private static final int GAP_Y = 26;
  /** An edge label's character width and line height (10 px text). */
  private static final int LABEL_CHAR = 6;
  private static final int LABEL_LINE = 14;

  private record Node(String id, String shape, List<String> lines, String group) {}

  private record Edge(String from, String to, String label) {}

  private FlowchartSvg() {}

  static String render(String source) {
    Map<String, Node> nodes = new LinkedHashMap<>();
    List<Edge> edges = new ArrayList<>();
    Map<String, String> groups = new HashMap<>();
    String group = null;
    String[] lines = source.split("\n");
    if (lines.length == 0 || !lines[0].strip().equals("flowchart LR")) {
      return null;
    }
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      if (line.isBlank()) {
        continue;
      }
      Matcher m;
      if ((m = SUBGRAPH.matcher(line)).matches()) {
        group = m.group(1);
        groups.put(group, unescape(m.group(2)));
      } else if (line.strip().equals("end")) {
        group = null;
      } else if ((m = EDGE.matcher(line)).matches()) {
        edges.add(new Edge(m.group(1), m.group(3), m.group(2) == null ? null : unescape(m.group(2))));
      } else if ((m = NODE.matcher(line)).matches()) {
        List<String> text = new ArrayList<>();
        for (String part : m.group(3).split("<br/>")) {
          text.add(unescape(part));
        }
        nodes.putIfAbsent(m.group(1), new Node(m.group(1), m.group(2), text, group == null ? null : groups.get(group)));
      } else {
        return null;
      }
    }
    for (Edge e : edges) {
      if (!nodes.containsKey(e.from()) || !nodes.containsKey(e.to())) {
        return null;
      }
    }
    if (nodes.isEmpty()) {
      return null;
    }
    // layers: longest path from a source, over the edges left once those closing a cycle are set aside
    java.util.Set<Edge> back = backEdges(nodes.keySet(), edges);
    Map<String, Integer> rank = new HashMap<>();
    nodes.keySet().forEach(n -> rank.put(n, 0));
    for (int round = 0; round <= nodes.size(); round++) {
      boolean moved = false;
      for (Edge e : edges) {
        if (!back.contains(e) && rank.get(e.to()) < rank.get(e.from()) + 1) {
          rank.put(e.to(), rank.get(e.from()) + 1);
          moved = true;
        }
      }
      if (!moved) {
        break;
      }
    }
    // top to bottom: a rank is a row (a page is narrow and long), its nodes side by side, centred
    int rows = rank.values().stream().max(Integer::compare).orElse(0) + 1;
    int[] rowHeight = new int[rows];
    int[] rowWidth = new int[rows];
    Map<String, int[]> box = new LinkedHashMap<>(); // x, y, w, h
    for (Node n : nodes.values()) {
      int w = 24 + CHAR * n.lines().stream().mapToInt(String::length).max().orElse(4);
      if (n.group() != null) {
        w = Math.max(w, 24 + CHAR * n.group().length());
      }
      int h = 14 + LINE * n.lines().size() + (n.group() == null ? 0 : LINE);
      int r = rank.get(n.id());
      rowHeight[r] = Math.max(rowHeight[r], h);
      box.put(n.id(), new int[] {rowWidth[r], r, w, h});
      rowWidth[r] += w + GAP_X / 2;
    }
    int width = 0;
    for (int r = 0; r < rows; r++) {
      width = Math.max(width, rowWidth[r]);
    }
    // below a row, a line of room for each labelled edge leaving it past the first
    int[] labelled = new int[rows];
    for (Edge e : edges) {
      if (e.label() != null && !e.label().isBlank() && !back.contains(e)) {
        labelled[rank.get(e.from())]++;
      }
    }
    int[] rowY = new int[rows];
    int y = 10;
    for (int r = 0; r < rows; r++) {
      rowY[r] = y;
      y += rowHeight[r] + GAP_Y + 24 + LABEL_LINE * Math.max(0, labelled[r] - 1);
    }
    for (int[] b : box.values()) {
      int r = b[1];
      b[0] = 10 + (width - rowWidth[r]) / 2 + b[0];
      b[1] = rowY[r] + (rowHeight[r] - b[3]) / 2;
    }
    int x = width + 20;
    int height = y;
    StringBuilder edgesSvg = new StringBuilder();
    List<int[]> taken = new ArrayList<>(box.values()); // label boxes must not cover nodes or each other
    for (Edge e : edges) {
      int[] a = box.get(e.from());
      int[] b = box.get(e.to());
      int x1 = a[0] + a[2] / 2;
      int y1 = a[1] + a[3];
      int x2 = b[0] + b[2] / 2;
      int y2 = b[1];
      // an edge down past other rows goes around the nodes in its way, on the side nearer to it
      int side = y2 > y1 ? detour(x1, y1, x2, y2, box.values(), a, b) : Integer.MIN_VALUE;
      String path;
      if (y2 <= y1) {
        path = "M" + (a[0] + a[2]) + "," + (a[1] + a[3] / 2) + " C" + (a[0] + a[2] + 40) + "," + (a[1] + a[3] / 2) + " "
            + (b[0] + b[2] + 40) + "," + (b[1] + b[3] / 2) + " " + (b[0] + b[2]) + "," + (b[1] + b[3] / 2);
      } else if (side != Integer.MIN_VALUE) {
        path = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + GAP_Y) + " " + side + "," + y1 + " " + side + ","
            + (y1 + GAP_Y) + " L" + side + "," + (y2 - GAP_Y) + " C" + side + "," + y2 + " " + x2 + "," + (y2 - GAP_Y)
            + " " + x2 + "," + y2;
        x = Math.max(x, side + 20);
      } else {
        path = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + GAP_Y) + " " + x2 + "," + (y2 - GAP_Y) + " " + x2 + "," + y2;
      }
      edgesSvg.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#5b6475\" stroke-width=\"1.3\""
          + " marker-end=\"url(#fc-arrow)\"/>\n");
      if (e.label() != null && !e.label().isBlank()) {
        String text = e.label().replace("<br/>", " ");
        int[] at = y2 <= y1
            ? new int[] {Math.max(a[0] + a[2], b[0] + b[2]) + 44, (a[1] + a[3] / 2 + b[1] + b[3] / 2) / 2, 0}
            : side != Integer.MIN_VALUE ? labelAt(side, y1 + GAP_Y, side, y2 - GAP_Y, LABEL_CHAR * text.length(), taken)
            : labelAt(x1, y1, x2, y2, LABEL_CHAR * text.length(), taken);
        x = Math.max(x, at[0] + (at[2] == 1 ? 0 : LABEL_CHAR * text.length()) + 10);
        edgesSvg.append("<text x=\"").append(at[0]).append("\" y=\"").append(at[1])
            .append("\" font-size=\"10\" text-anchor=\"").append(at[2] == 1 ? "end" : "start")
            .append("\" fill=\"#3d4452\">").append(HtmlPage.text(text)).append("</text>\n");
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append("<svg class=\"flowchart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(x)
        .append("\" height=\"").append(height + 20).append("\" role=\"img\">\n")
        .append("<defs><marker id=\"fc-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\""
            + " markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5b6475\"/>"
            + "</marker></defs>\n");
    sb.append(edgesSvg);
    for (Node n : nodes.values()) {
      int[] b = box.get(n.id());
      sb.append(shape(n.shape(), b[0], b[1], b[2], b[3]));
      int ty = b[1] + 4 + LINE;
      if (n.group() != null) {
        sb.append("<text x=\"").append(b[0] + b[2] / 2).append("\" y=\"").append(ty)
            .append("\" font-size=\"10\" text-anchor=\"middle\" fill=\"#6b7280\">")
            .append(HtmlPage.text(n.group())).append("</text>\n");
        ty += LINE;
      }
      for (int i = 0; i < n.lines().size(); i++) {
        sb.append("<text x=\"").append(b[0] + b[2] / 2).append("\" y=\"").append(ty + i * LINE)
            .append("\" font-size=\"12\" text-anchor=\"middle\"").append(i == 0 ? " font-weight=\"600\"" : "")
            .append(" fill=\"#1f2430\">").append(HtmlPage.text(n.lines().get(i))).append("</text>\n");
      }
    }
    return sb.append("</svg>\n").toString();
  }

  /** Edges a depth-first walk from the sources (then from the rest, in order) finds closing a cycle. */
  private static java.util.Set<Edge> backEdges(java.util.Set<String> ids, List<Edge> edges) {
    Map<String, List<Edge>> out = new HashMap<>();
    java.util.Set<String> targets = new java.util.HashSet<>();
    for (Edge e : edges) {
      out.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e);
      targets.add(e.to());
    }
    List<String> order = new ArrayList<>();
    ids.stream().filter(n -> !targets.contains(n)).forEach(order::add);
    ids.stream().filter(targets::contains).forEach(order::add);
    java.util.Set<Edge> back = new java.util.HashSet<>();
    Map<String, Integer> state = new HashMap<>(); // 1 on the path, 2 done
    for (String start : order) {
      if (state.containsKey(start)) {
        continue;
      }
      java.util.Deque<Object[]> stack = new java.util.ArrayDeque<>();
      state.put(start, 1);
      stack.push(new Object[] {start, 0});
      while (!stack.isEmpty()) {
        Object[] top = stack.peek();
        List<Edge> next = out.getOrDefault((String) top[0], List.of());
        int k = (Integer) top[1];
        if (k == next.size()) {
          state.put((String) top[0], 2);
          stack.pop();
          continue;
        }
        top[1] = k + 1;
        Edge e = next.get(k);
        Integer s = state.get(e.to());
        if (s == null) {
          state.put(e.to(), 1);
          stack.push(new Object[] {e.to(), 0});
        } else if (s == 1) {
          back.add(e);
        }
      }
    }
    return back;
  }

  /**
   * The x of a vertical lane for an edge from (x1, y1) down to (x2, y2) that would cross a node on
   * its way (one of the rows in between), beside the nodes it passes — on the left when the edge
   * starts left of them and there is room, else on the right; {@link Integer#MIN_VALUE} when its
   * straight course crosses nothing.
   */
  private static int detour(int x1, int y1, int x2, int y2, java.util.Collection<int[]> boxes, int[] from, int[] to) {
    int left = Integer.MAX_VALUE;
    int right = Integer.MIN_VALUE;
    boolean crosses = false;
    for (int[] n : boxes) {
      if (n == from || n == to || n[1] + n[3] <= y1 || n[1] >= y2) {
        continue;
      }
      left = Math.min(left, n[0]);
      right = Math.max(right, n[0] + n[2]);
      for (int y = n[1]; y <= n[1] + n[3] && !crosses; y += 4) {
        double t = (double) (y - y1) / (y2 - y1);
        double x = x1 + (x2 - x1) * (3 * t * t - 2 * t * t * t); // the curve's course, near enough
        crosses = x >= n[0] - 4 && x <= n[0] + n[2] + 4;
      }
    }
    if (!crosses) {
      return Integer.MIN_VALUE;
    }
    return x1 <= (left + right) / 2 && left - 18 > 4 ? left - 18 : right + 18;
  }

  /**
   * Where a label of {@code w} pixels goes on the edge from (x1, y1) down to (x2, y2): the first of
   * a few spots along it, either side, that covers no node and no label placed before (else the
   * first spot); {x, baseline y, 1 when anchored at its end}. The spot taken is added to {@code taken}.
   */
  private static int[] labelAt(int x1, int y1, int x2, int y2, int w, List<int[]> taken) {
    int[] fallback = null;
    for (double t : new double[] {0.62, 0.45, 0.8, 0.3}) {
      int px = (int) Math.round(x1 + (x2 - x1) * t);
      int py = (int) Math.round(y1 + (y2 - y1) * t) + 4;
      boolean leftFirst = x2 < x1 - 4;
      for (int side = 0; side < 2; side++) {
        boolean end = leftFirst == (side == 0);
        if (end && px - 6 - w < 0) {
          continue;
        }
        int lx = end ? px - 6 : px + 6;
        int[] rect = {end ? lx - w : lx, py - 10, w, 13};
        if (fallback == null) {
          fallback = new int[] {lx, py, end ? 1 : 0, rect[0], rect[1], rect[2], rect[3]};
        }
        if (taken.stream().noneMatch(r -> overlaps(r, rect))) {
          taken.add(rect);
          return new int[] {lx, py, end ? 1 : 0};
        }
      }
    }
    taken.add(new int[] {fallback[3], fallback[4], fallback[5], fallback[6]});
    return new int[] {fallback[0], fallback[1], fallback[2]};
  }

  private static boolean overlaps(int[] a, int[] b) {
    return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
  }

  private static String shape(String open, int x, int y, int w, int h) {
    String common = " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.2\"/>\n";
    return switch (open) {
      case "[(" -> "<rect x=\"" + x + "\" y=\"" + y + "\" width=\"" + w + "\" height=\"" + h
          + "\" rx=\"14\" ry=\"14\"" + String.format(common, "#fff4d6", "#c9a227");
      case "([" -> "<rect x=\"" + x + "\" y=\"" + y + "\" width=\"" + w + "\" height=\"" + h + "\" rx=\"" + h / 2
          + "\" ry=\"" + h / 2 + "\"" + String.format(common, "#e8efff", "#5b7bd5");
      case "{{" -> "<polygon points=\"" + (x + 10) + "," + y + " " + (x + w - 10) + "," + y + " " + (x + w) + ","
          + (y + h / 2) + " " + (x + w - 10) + "," + (y + h) + " " + (x + 10) + "," + (y + h) + " " + x + ","
          + (y + h / 2) + "\"" + String.format(common, "#f6ecff", "#9a6cd0");
      default -> "<rect x=\"" + x + "\" y=\"" + y + "\" width=\"" + w + "\" height=\"" + h + "\" rx=\"4\" ry=\"4\""
          + String.format(common, "#eef2f7", "#5b6475");
    };
  }

  /** Undoes {@code FlowDocs.mer}'s entity escapes (the text is escaped again as SVG text). */
  private static String unescape(String s) {
    return s.replace("#quot;", "\"").replace("#lt;", "<").replace("#gt;", ">");
  }
}
