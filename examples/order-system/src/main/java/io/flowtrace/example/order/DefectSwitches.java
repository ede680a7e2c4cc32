package io.flowtrace.example.order;

import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The defect switches of one service, each on for every order or only for orders containing given
 * products: {@code FLOWTRACE_DEFECTS=WRONG_TOTAL,SLOW_NOTIFICATION@P-906} plants a wrong total in
 * every order and a slow e-mail only for orders with an item {@code P-906}. Scoping lets one running
 * system show several defects side by side, each on its own orders, while the rest stay clean.
 * Every service sees the order's items (the client body, {@code orders.requested}, {@code
 * orders.created}), so each decides alike.
 */
public final class DefectSwitches {

  private static final DefectSwitches NONE = new DefectSwitches(Map.of());

  /** Per defect switched on: the products it is scoped to; empty means every order. */
  private final Map<Defect, Set<String>> switches;

  private DefectSwitches(Map<Defect, Set<String>> switches) {
    this.switches = switches;
  }

  /** No defects. */
  public static DefectSwitches none() {
    return NONE;
  }

  /** The switches of this JVM ({@code flowtrace.defects} / {@code FLOWTRACE_DEFECTS}). */
  public static DefectSwitches active() {
    return parse(Config.get("flowtrace.defects", "FLOWTRACE_DEFECTS", ""));
  }

  /**
   * Parses {@code NAME[@PRODUCT][,NAME[@PRODUCT]...]}; a defect named twice is scoped to the union
   * (or to every order if once unscoped). Fails on an unknown name, naming it.
   */
  public static DefectSwitches parse(String text) {
    Map<Defect, Set<String>> switches = new EnumMap<>(Defect.class);
    for (String part : text.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int at = p.indexOf('@');
      String name = at < 0 ? p : p.substring(0, at).trim();
      String product = at < 0 ? null : p.substring(at + 1).trim();
      if (product != null && product.isEmpty()) {
        throw new IllegalArgumentException("defect '" + p + "' has an empty product after '@'");
      }
      Defect defect = Defect.parse(name).iterator().next();
      Set<String> previous = switches.get(defect);
      if (previous != null && previous.isEmpty()) {
        continue; // already on for every order
      }
      if (product == null) {
        switches.put(defect, Set.of());
      } else {
        Set<String> scope = new LinkedHashSet<>(previous == null ? Set.of() : previous);
        scope.add(product);
        switches.put(defect, Set.copyOf(scope));
      }
    }
    return switches.isEmpty() ? NONE : new DefectSwitches(Map.copyOf(switches));
  }

  /** Whether {@code defect} is on for the order with these items ({@code [{productId, quantity}]}). */
  public boolean on(Defect defect, JsonNode items) {
    Set<String> scope = switches.get(defect);
    if (scope == null) {
      return false;
    }
    if (scope.isEmpty()) {
      return true;
    }
    if (items != null) {
      for (JsonNode item : items) {
        if (scope.contains(item.path("productId").asString(""))) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether {@code defect} is on for any order. */
  public boolean any(Defect defect) {
    return switches.containsKey(defect);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("[");
    switches.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      if (s.length() > 1) {
        s.append(", ");
      }
      s.append(e.getKey().name().toUpperCase(Locale.ROOT));
      if (!e.getValue().isEmpty()) {
        s.append('@').append(String.join("|", e.getValue().stream().sorted().toList()));
      }
    });
    return s.append(']').toString();
  }
}
