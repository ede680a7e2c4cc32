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
  /** How far apart two detour lanes beside the same rows run. */
  private static final int LANE = 12;

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
    // a label that only fits left of its edge moves the picture right by what it needs
    String[] drawn = new String[1];
    int minX = draw(nodes, edges, 0, drawn);
    if (minX < 4) {
      draw(nodes, edges, 4 - minX, drawn);
    }
    return drawn[0];
  }

  /**
   * Lays out and draws the nodes and edges {@code pad} pixels from the left into {@code out[0]};
   * the leftmost x any label took.
   */
  private static int draw(Map<String, Node> nodes, List<Edge> edges, int pad, String[] out) {
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
    // a node nothing leads to (a caller from outside) sits right above the highest node it feeds,
    // not in the top row with a long edge down to it
    for (String n : nodes.keySet()) {
      int highest = Integer.MAX_VALUE;
      boolean fed = false;
      for (Edge e : edges) {
        if (back.contains(e)) {
          continue;
        }
        fed |= e.to().equals(n);
        if (e.from().equals(n)) {
          highest = Math.min(highest, rank.get(e.to()));
        }
      }
      if (!fed && highest != Integer.MAX_VALUE && highest - 1 > rank.get(n)) {
        rank.put(n, highest - 1);
      }
    }
    // top to bottom: a rank is a row (a page is narrow and long), its nodes side by side, centred
    int rows = rank.values().stream().max(Integer::compare).orElse(0) + 1;
    int[] rowHeight = new int[rows];
    int[] rowWidth = new int[rows];
    Map<String, int[]> box = new LinkedHashMap<>(); // x, y, w, h
    List<List<String>> inRow = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      inRow.add(new ArrayList<>());
    }
    for (Node n : nodes.values()) {
      int w = 24 + CHAR * n.lines().stream().mapToInt(String::length).max().orElse(4);
      if (n.group() != null) {
        w = Math.max(w, 24 + CHAR * n.group().length());
      }
      int h = 14 + LINE * n.lines().size() + (n.group() == null ? 0 : LINE);
      int r = rank.get(n.id());
      rowHeight[r] = Math.max(rowHeight[r], h);
      box.put(n.id(), new int[] {0, r, w, h});
      rowWidth[r] += w + GAP_X / 2;
      inRow.get(r).add(n.id());
    }
    int width = 0;
    for (int r = 0; r < rows; r++) {
      width = Math.max(width, rowWidth[r]);
    }
    for (int r = 0; r < rows; r++) {
      place(inRow.get(r), box, pad + 10 + (width - rowWidth[r]) / 2);
    }
    // fewer crossings: each row ordered by where what leads to its nodes stands (then by where what
    // they lead to stands, then again by what leads to them), the usual barycentre sweeps
    for (int sweep = 0; sweep < 3; sweep++) {
      boolean down = sweep % 2 == 0;
      for (int i = 0; i < rows; i++) {
        int r = down ? i : rows - 1 - i;
        Map<String, Double> key = new HashMap<>();
        for (String n : inRow.get(r)) {
          double sum = 0;
          int count = 0;
          for (Edge e : edges) {
            String other = down ? (e.to().equals(n) ? e.from() : null) : (e.from().equals(n) ? e.to() : null);
            if (other != null && !back.contains(e) && !other.equals(n)) {
              sum += box.get(other)[0] + box.get(other)[2] / 2.0;
              count++;
            }
          }
          key.put(n, count == 0 ? box.get(n)[0] + box.get(n)[2] / 2.0 : sum / count);
        }
        inRow.get(r).sort(java.util.Comparator.comparingDouble(key::get));
        place(inRow.get(r), box, pad + 10 + (width - rowWidth[r]) / 2);
      }
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
      b[1] = rowY[r] + (rowHeight[r] - b[3]) / 2;
    }
    int x = pad + width + 20;
    int height = y;
    int minX = Integer.MAX_VALUE;
    StringBuilder edgesSvg = new StringBuilder();
    List<int[]> lanes = new ArrayList<>(); // x, top, bottom of each detour's vertical lane
    List<List<int[]>> courses = new ArrayList<>(); // each edge's course as points, for labels to keep off
    List<int[]> placedAt = new ArrayList<>(); // where each edge's label may go: x1, y1, x2, y2, lane or MIN
    for (Edge e : edges) {
      int[] a = box.get(e.from());
      int[] b = box.get(e.to());
      int x1 = a[0] + a[2] / 2;
      int y1 = a[1] + a[3];
      int x2 = b[0] + b[2] / 2;
      int y2 = b[1];
      // an edge down past other rows goes around the nodes in its way, on the side nearer to it, in
      // a lane of its own
      int side = y2 > y1 ? detour(x1, y1, x2, y2, box.values(), a, b, lanes) : Integer.MIN_VALUE;
      List<int[]> course = new ArrayList<>();
      String path;
      if (y2 <= y1) {
        // back up a lane right of every node in between: out of the right side, or below the row
        // when a node stands right of it there; into the right side, or from above likewise
        int ya = a[1] + a[3] / 2;
        int yb = b[1] + b[3] / 2;
        int lane = Math.max(a[0] + a[2], b[0] + b[2]);
        boolean besideA = false;
        boolean besideB = false;
        for (int[] n : box.values()) {
          if (n[1] < a[1] + a[3] && n[1] + n[3] > b[1]) {
            lane = Math.max(lane, n[0] + n[2]);
          }
          besideA |= n != a && n[0] > a[0] && n[1] < ya && n[1] + n[3] > ya;
          besideB |= n != b && n[0] > b[0] && n[1] < yb && n[1] + n[3] > yb;
        }
        lane += 18;
        int[] start = besideA ? new int[] {x1, y1, x1, y1 + 10, lane, y1 + 10} : new int[] {a[0] + a[2], ya, lane, ya};
        int[] end = besideB ? new int[] {lane, b[1] - 10, x2, b[1] - 10, x2, b[1]} : new int[] {lane, yb, b[0] + b[2], yb};
        while (laneTaken(lane, end[1], start[start.length - 1], lanes)) {
          lane += LANE;
          start[start.length - 2] = lane;
          end[0] = lane;
        }
        lanes.add(new int[] {lane, end[1], start[start.length - 1]});
        StringBuilder d = new StringBuilder("M" + start[0] + "," + start[1]);
        int[] all = new int[start.length + end.length];
        System.arraycopy(start, 0, all, 0, start.length);
        System.arraycopy(end, 0, all, start.length, end.length);
        for (int k = 2; k < all.length; k += 2) {
          d.append(" L").append(all[k]).append(',').append(all[k + 1]);
          line(course, all[k - 2], all[k - 1], all[k], all[k + 1]);
        }
        path = d.toString();
        side = lane;
        x = Math.max(x, lane + 20);
      } else if (side != Integer.MIN_VALUE) {
        path = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + GAP_Y) + " " + side + "," + y1 + " " + side + ","
            + (y1 + GAP_Y) + " L" + side + "," + (y2 - GAP_Y) + " C" + side + "," + y2 + " " + x2 + "," + (y2 - GAP_Y)
            + " " + x2 + "," + y2;
        cubic(course, x1, y1, x1, y1 + GAP_Y, side, y1, side, y1 + GAP_Y);
        for (int ly = y1 + GAP_Y; ly < y2 - GAP_Y; ly += 4) {
          course.add(new int[] {side, ly});
        }
        cubic(course, side, y2 - GAP_Y, side, y2, x2, y2 - GAP_Y, x2, y2);
        lanes.add(new int[] {side, y1, y2});
        x = Math.max(x, side + 20);
      } else {
        path = "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + GAP_Y) + " " + x2 + "," + (y2 - GAP_Y) + " " + x2 + "," + y2;
        cubic(course, x1, y1, x1, y1 + GAP_Y, x2, y2 - GAP_Y, x2, y2);
      }
      courses.add(course);
      placedAt.add(new int[] {x1, y1, x2, y2, side});
      edgesSvg.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#5b6475\" stroke-width=\"1.3\""
          + " marker-end=\"url(#fc-arrow)\"/>\n");
    }
    // labels once every course is known: beside their own edge, off the nodes, the other labels and
    // every edge's line (a label across another edge reads as that edge's)
    List<int[]> taken = new ArrayList<>(box.values());
    for (int i = 0; i < edges.size(); i++) {
      Edge e = edges.get(i);
      if (e.label() == null || e.label().isBlank()) {
        continue;
      }
      String text = e.label().replace("<br/>", " ");
      int[] g = placedAt.get(i);
      int[] at;
      // an edge back up (a repeated step) is labelled beside its lane like a detour
      at = labelAt(courses.get(i), g[4] != Integer.MIN_VALUE, g[3] > g[1] && g[2] < g[0] - 4, LABEL_CHAR * text.length(),
          taken, courses);
      x = Math.max(x, at[0] + (at[2] == 1 ? 0 : LABEL_CHAR * text.length()) + 10);
      minX = Math.min(minX, at[2] == 1 ? at[0] - LABEL_CHAR * text.length() : at[0]);
      edgesSvg.append("<text x=\"").append(at[0]).append("\" y=\"").append(at[1])
          .append("\" font-size=\"10\" text-anchor=\"").append(at[2] == 1 ? "end" : "start")
          .append("\" fill=\"#3d4452\">").append(HtmlPage.text(text)).append("</text>\n");
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
    out[0] = sb.append("</svg>\n").toString();
    return minX;
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
   * starts left of them and there is room, else on the right — and clear of the lanes taken beside
   * the same rows (edges sharing one line cannot be told apart); {@link Integer#MIN_VALUE} when its
   * straight course crosses nothing.
   */
  private static int detour(int x1, int y1, int x2, int y2, java.util.Collection<int[]> boxes, int[] from, int[] to,
      List<int[]> lanes) {
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
    if (x1 <= (left + right) / 2) {
      int lane = left - 18;
      while (lane > 4 && laneTaken(lane, y1, y2, lanes)) {
        lane -= LANE;
      }
      if (lane > 4) {
        return lane;
      }
    }
    int lane = right + 18;
    while (laneTaken(lane, y1, y2, lanes)) {
      lane += LANE;
    }
    return lane;
  }

  private static boolean laneTaken(int x, int top, int bottom, List<int[]> lanes) {
    return lanes.stream().anyMatch(l -> Math.abs(l[0] - x) < LANE && l[1] < bottom && top < l[2]);
  }

  /** Points every 4 px along the straight line from (x0, y0) to (x1, y1), added to {@code course}. */
  private static void line(List<int[]> course, int x0, int y0, int x1, int y1) {
    int steps = Math.max(1, Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)) / 4);
    for (int k = 0; k <= steps; k++) {
      course.add(new int[] {x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps});
    }
  }

  /** Points along the cubic Bézier curve from (x0, y0) to (x3, y3), added to {@code course}. */
  private static void cubic(List<int[]> course, int x0, int y0, int cx1, int cy1, int cx2, int cy2, int x3, int y3) {
    // a point every 3 px or so, so that a label's 13 px box cannot sit on the line between two
    int steps = Math.max(24, (Math.abs(x3 - x0) + Math.abs(y3 - y0) + Math.abs(cx1 - x0) + Math.abs(cy2 - y3)) / 3);
    for (int k = 0; k <= steps; k++) {
      double t = k / (double) steps;
      double u = 1 - t;
      double px = u * u * u * x0 + 3 * u * u * t * cx1 + 3 * u * t * t * cx2 + t * t * t * x3;
      double py = u * u * u * y0 + 3 * u * u * t * cy1 + 3 * u * t * t * cy2 + t * t * t * y3;
      course.add(new int[] {(int) Math.round(px), (int) Math.round(py)});
    }
  }

  /**
   * Where a label of {@code w} pixels goes beside an edge's {@code course}: the first of a few spots
   * along it (a detour's near its target, where its lane turns in), either side (first the side the
   * edge turns to), that covers no node, no label placed before and no edge's line; else the spot
   * that covers least. {x, baseline y, 1 when anchored at its end}. The spot taken is added to
   * {@code taken}.
   */
  private static int[] labelAt(List<int[]> course, boolean detour, boolean leftward, int w, List<int[]> taken,
      List<List<int[]>> courses) {
    int[] best = null;
    int bestCost = Integer.MAX_VALUE;
    double[] along = detour ? new double[] {0.8, 0.65, 0.5, 0.9, 0.35, 0.72, 0.58, 0.42}
        : new double[] {0.5, 0.35, 0.65, 0.25, 0.8, 0.42, 0.58, 0.3, 0.72, 0.18};
    // nearest first: beside the line, then a little further off it where the first spots are crowded
    search:
    for (int off : new int[] {6, 18, 30, 44}) {
      for (double t : along) {
        int[] p = course.get((int) Math.round((course.size() - 1) * t));
        int px = p[0];
        int py = p[1] + 4;
        for (int side = 0; side < 2; side++) {
          boolean end = leftward == (side == 0);
          int lx = end ? px - off : px + off;
          int[] rect = {end ? lx - w : lx, py - 10, w, 13};
          int cost = 0;
          for (int[] r : taken) {
            cost += overlaps(r, rect) ? 100 : 0;
          }
          double own = Double.MAX_VALUE;
          double other = Double.MAX_VALUE;
          for (List<int[]> c : courses) {
            for (int[] q : c) {
              cost += q[0] >= rect[0] - 2 && q[0] <= rect[0] + rect[2] + 2 && q[1] >= rect[1] - 2
                  && q[1] <= rect[1] + rect[3] + 2 ? 1 : 0;
              double d = distance(rect, q);
              if (c == course) {
                own = Math.min(own, d);
              } else {
                other = Math.min(other, d);
              }
            }
          }
          if (other <= own + 4) {
            cost += 3; // as near another edge as its own: it reads as that edge's label (less bad than across a line)
          }
          if (cost < bestCost) {
            bestCost = cost;
            best = new int[] {lx, py, end ? 1 : 0, rect[0], rect[1], rect[2], rect[3]};
          }
          if (cost == 0) {
            break search;
          }
        }
      }
    }
    taken.add(new int[] {best[3], best[4], best[5], best[6]});
    return new int[] {best[0], best[1], best[2]};
  }

  /** Lays out a row's nodes side by side from {@code x}, in the row's order. */
  private static void place(List<String> row, Map<String, int[]> box, int x) {
    for (String n : row) {
      int[] b = box.get(n);
      b[0] = x;
      x += b[2] + GAP_X / 2;
    }
  }

  /** How far a point is from a rectangle {x, y, w, h} (0 inside it). */
  private static double distance(int[] rect, int[] p) {
    double dx = Math.max(0, Math.max(rect[0] - p[0], p[0] - (rect[0] + rect[2])));
    double dy = Math.max(0, Math.max(rect[1] - p[1], p[1] - (rect[1] + rect[3])));
    return Math.hypot(dx, dy);
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
