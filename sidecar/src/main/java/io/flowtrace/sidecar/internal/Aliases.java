package io.flowtrace.sidecar.internal;

import io.flowtrace.verifier.assembly.LiveHooks;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Where each instance of a sidecar cluster is assembled, as every router agrees on it: a map from
 * names — instance keys ({@code flow|orderId=…}), traces ({@code trace|…}) and roots merged into
 * others ({@code root|…}) — to roots, built from the cluster's single-partition routes topic in
 * log order. The <em>first</em> entry of a name in the log wins, so routers that claim one name
 * at once with different roots all adopt the same one. A router claims by writing and routes only
 * once it has read the log back up to its claim; a router that finds its claim lost writes the
 * winner again, so that compaction, which keeps a name's last entry, keeps the first one's root.
 *
 * <p>An event that carries keys goes to the root of its keys once all its known keys agree;
 * keys that name two roots are one instance split in two, and the larger root is merged into the
 * smaller ({@code root|larger → smaller}, first entry wins too, always towards a smaller root, so
 * merges never form a cycle). Traces only lead an event without keys (a trace may hold many
 * instances, as a batch job's does). Not thread-safe: the router's thread owns it.
 */
final class Aliases {

  /** Where claims are written: the routes topic. */
  interface Log {
    void append(String name, String root);
  }

  static final String TRACE = "trace|";
  static final String ROOT = "root|";
  private static final int MAX_NAMES = 1_000_000;

  private final Log log;
  private final Map<String, String> confirmed = new LinkedHashMap<>(1 << 16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_NAMES;
    }
  };
  /** Names this router claimed and has not read back yet, with the root it proposed. */
  private final Map<String, String> claimed = new HashMap<>();
  private long merges;
  private long lost;

  Aliases(Log log) {
    this.log = log;
  }

  /** An entry read from the routes topic, in log order; {@code mine}: written by this router. */
  void read(String name, String root, boolean mine) {
    if (mine) {
      claimed.remove(name);
    }
    String first = confirmed.putIfAbsent(name, root);
    if (first != null && !first.equals(root) && mine) {
      lost++;
      log.append(name, first);
    }
  }

  /** Whether claims of this router wait to be read back. */
  boolean awaitingReadBack() {
    return !claimed.isEmpty();
  }

  /** Roots merged into others by this router's claims (that it wrote, not necessarily won). */
  long merges() {
    return merges;
  }

  /** Claims of this router that another router's earlier entry beat. */
  long lost() {
    return lost;
  }

  /** The root a name leads to, following merges; {@code null} when the log has no entry for it yet. */
  String root(String name) {
    String root = confirmed.get(name);
    return root == null ? null : canonical(root);
  }

  private String canonical(String root) {
    for (int hops = 0; hops < 64; hops++) {
      String into = confirmed.get(ROOT + root);
      if (into == null) {
        return root;
      }
      root = into;
    }
    return root;
  }

  /** The root of something that is no event (a correlation span), claiming nothing: of its keys, else its traces. */
  String rootOf(LiveHooks.Routing r) {
    for (String k : r.keys()) {
      String root = root(k);
      if (root != null) {
        return root;
      }
    }
    return traceRoot(r);
  }

  /**
   * Where an event goes now, or {@code null} while it waits — for claims to be read back, or for
   * the instance it belongs to to be rooted by another event. Claims what it needs to.
   *
   * @param mayStart whether it may start a root of its own: an event of an entry stage, or one
   *     that waited long enough for its instance
   * @param force go now on what is known (too many wait, or the log is not read back)
   */
  String place(LiveHooks.Routing r, boolean mayStart, boolean force) {
    TreeSet<String> keyRoots = new TreeSet<>();
    boolean keyPending = false;
    for (String k : r.keys()) {
      String root = root(k);
      if (root != null) {
        keyRoots.add(root);
      } else if (claimed.containsKey(k)) {
        keyPending = true;
      }
    }
    if (keyRoots.size() > 1 && !force) {
      merge(keyRoots);
      return null;
    }
    if (!keyRoots.isEmpty()) {
      String root = keyRoots.first();
      learn(r, root);
      return root;
    }
    if (keyPending && !force) {
      return null;
    }
    String traceRoot = traceRoot(r);
    if (r.keys().isEmpty()) {
      if (traceRoot != null) {
        learn(r, traceRoot);
        return traceRoot;
      }
      if (force) {
        return learnOwn(r);
      }
      if (!mayStart || r.traces().stream().anyMatch(t -> claimed.containsKey(TRACE + t))) {
        return null;
      }
      if (r.traces().isEmpty()) {
        return learnOwn(r);
      }
      String own = ownRoot(r);
      r.traces().forEach(t -> claim(TRACE + t, own));
      return null;
    }
    if (traceRoot == null && !mayStart && !force) {
      return null;
    }
    String proposed = traceRoot != null ? traceRoot : ownRoot(r);
    if (force) {
      learn(r, proposed);
      return proposed;
    }
    r.keys().forEach(k -> claim(k, proposed));
    return null;
  }

  private String learnOwn(LiveHooks.Routing r) {
    String own = ownRoot(r);
    learn(r, own);
    return own;
  }

  private String traceRoot(LiveHooks.Routing r) {
    for (String t : r.traces()) {
      String root = root(TRACE + t);
      if (root != null) {
        return root;
      }
    }
    return null;
  }

  /** Merges every root into the least: they were found to be one instance. */
  private void merge(TreeSet<String> roots) {
    String into = roots.first();
    for (String root : roots.tailSet(into, false)) {
      if (!claimed.containsKey(ROOT + root)) {
        merges++;
        claim(ROOT + root, into);
      }
    }
  }

  /** Claims the names of a routed event that have no root yet for the root it went to. */
  private void learn(LiveHooks.Routing r, String root) {
    for (String k : r.keys()) {
      claimUnknown(k, root);
    }
    for (String t : r.traces()) {
      claimUnknown(TRACE + t, root);
    }
  }

  private void claimUnknown(String name, String root) {
    if (!confirmed.containsKey(name) && !claimed.containsKey(name)) {
      claim(name, root);
    }
  }

  private void claim(String name, String root) {
    claimed.put(name, root);
    log.append(name, root);
  }

  /** The root an event starts: its own trace, else its first key. */
  static String ownRoot(LiveHooks.Routing r) {
    return !r.traces().isEmpty() ? r.traces().get(0) : r.keys().isEmpty() ? "-" : r.keys().iterator().next();
  }
}
