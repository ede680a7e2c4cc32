package io.flowtrace.sidecar.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.verifier.assembly.LiveHooks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The routers' agreement on roots, over one ordered log standing in for the single partition of
 * the routes topic (the topic itself is exercised by the cluster tests on a real broker).
 */
class AliasesTest {

  private record Entry(String name, String root, int writer) {}

  /** The routes topic's one partition, and routers reading it each at their own pace. */
  private static final class Cluster {
    final List<Entry> log = new ArrayList<>();
    final List<Aliases> routers = new ArrayList<>();
    final List<Integer> readUpTo = new ArrayList<>();

    Cluster(int routers) {
      for (int i = 0; i < routers; i++) {
        int writer = i;
        this.routers.add(new Aliases((name, root) -> log.add(new Entry(name, root, writer))));
        readUpTo.add(0);
      }
    }

    Aliases router(int i) {
      return routers.get(i);
    }

    /** Router {@code i} reads one more entry; whether there was one. */
    boolean readOne(int i) {
      int at = readUpTo.get(i);
      if (at >= log.size()) {
        return false;
      }
      Entry e = log.get(at);
      routers.get(i).read(e.name(), e.root(), e.writer() == i);
      readUpTo.set(i, at + 1);
      return true;
    }

    void readAll() {
      boolean more = true;
      while (more) {
        more = false;
        for (int i = 0; i < routers.size(); i++) {
          while (readOne(i)) {
            more = true;
          }
        }
      }
    }

    /** What compaction keeps: the last entry of each name. */
    Map<String, String> compacted() {
      Map<String, String> last = new HashMap<>();
      log.forEach(e -> last.put(e.name(), e.root()));
      return last;
    }

    Map<String, String> firstEntries() {
      Map<String, String> first = new HashMap<>();
      log.forEach(e -> first.putIfAbsent(e.name(), e.root()));
      return first;
    }
  }

  private static LiveHooks.Routing event(Set<String> keys, List<String> traces, boolean opens) {
    return new LiveHooks.Routing(keys, traces, true, false, opens);
  }

  @Test
  void twoRoutersOpeningOneInstanceAtOnceAdoptTheRootFirstInTheLog() {
    Cluster c = new Cluster(2);
    LiveHooks.Routing fromA = event(Set.of("order|orderId=1"), List.of("t-a"), true);
    LiveHooks.Routing fromB = event(Set.of("order|orderId=1"), List.of("t-b"), true);

    assertThat(c.router(0).place(fromA, true, false)).as("waits for its claim to be read back").isNull();
    assertThat(c.router(1).place(fromB, true, false)).isNull();
    c.readAll();

    assertThat(c.router(0).place(fromA, true, false)).isEqualTo("t-a");
    assertThat(c.router(1).place(fromB, true, false)).as("the first entry wins on every router").isEqualTo("t-a");
    c.readAll();
    assertThat(c.router(1).lost()).isEqualTo(1);
    assertThat(c.compacted()).as("the loser wrote the winner again, so compaction keeps it")
        .containsEntry("order|orderId=1", "t-a")
        .containsEntry(Aliases.TRACE + "t-b", "t-a");
  }

  @Test
  void anEventThatCannotOpenWaitsForItsInstanceAndThenFollowsItsKey() {
    Cluster c = new Cluster(2);
    LiveHooks.Routing payment = event(Set.of("order|orderId=7"), List.of("t-webhook"), false);
    LiveHooks.Routing order = event(Set.of("order|orderId=7"), List.of("t-order"), true);

    assertThat(c.router(1).place(payment, false, false)).isNull();
    assertThat(c.log).as("an event that cannot open claims nothing").isEmpty();
    c.router(0).place(order, true, false);
    c.readAll();
    assertThat(c.router(0).place(order, true, false)).isEqualTo("t-order");
    c.readAll();

    assertThat(c.router(1).place(payment, false, false)).isEqualTo("t-order");
    c.readAll();
    assertThat(c.router(0).root(Aliases.TRACE + "t-webhook")).as("its new trace now leads to the instance")
        .isEqualTo("t-order");
  }

  @Test
  void keysFoundToNameTwoRootsMergeIntoTheSmallerAndEveryLaterEventFollows() {
    Cluster c = new Cluster(1);
    Aliases router = c.router(0);
    LiveHooks.Routing payment = event(Set.of("pay|paymentId=p1"), List.of("t-2"), true);
    LiveHooks.Routing order = event(Set.of("pay|orderId=o1"), List.of("t-1"), true);
    router.place(payment, true, false);
    router.place(order, true, false);
    c.readAll();
    assertThat(router.place(payment, true, false)).isEqualTo("t-2");
    assertThat(router.place(order, true, false)).isEqualTo("t-1");
    c.readAll();
    LiveHooks.Routing bridge = event(Set.of("pay|paymentId=p1", "pay|orderId=o1"), List.of("t-3"), false);

    assertThat(router.place(bridge, false, false)).as("waits for the merge to be read back").isNull();
    c.readAll();

    assertThat(router.place(bridge, false, false)).isEqualTo("t-1");
    assertThat(router.merges()).isEqualTo(1);
    assertThat(router.place(event(Set.of("pay|paymentId=p1"), List.of("t-2"), false), false, false))
        .isEqualTo("t-1");
    assertThat(router.rootOf(new LiveHooks.Routing(Set.of(), List.of("t-2"), false, false, false)))
        .as("a correlation span of the merged root's trace").isEqualTo("t-1");
  }

  @Test
  void anEventWithoutKeysFollowsItsTraceAndOpensByItsTrace() {
    Cluster c = new Cluster(1);
    Aliases router = c.router(0);
    LiveHooks.Routing span = event(Set.of(), List.of("t-9"), false);

    assertThat(router.place(span, false, false)).isNull();
    assertThat(router.place(span, true, false)).as("claims its trace").isNull();
    c.readAll();
    assertThat(router.place(span, false, false)).isEqualTo("t-9");
  }

  @Test
  void aForcedEventGoesAtOnceOnWhatIsKnown() {
    Cluster c = new Cluster(1);
    LiveHooks.Routing lonely = event(Set.of("order|orderId=3"), List.of("t-3"), false);

    assertThat(c.router(0).place(lonely, false, true)).isEqualTo("t-3");
    c.readAll();
    assertThat(c.router(0).root("order|orderId=3")).isEqualTo("t-3");
  }

  /**
   * Instances whose events reach several routers in any order and interleaving — duplicates of the
   * opening event racing from two routers with different traces, later events read before the
   * first, a webhook in a new trace, keyless span events — each go to one root on every router,
   * and compaction keeps the first entry of every name.
   */
  @Property(tries = 200)
  void everyEventOfAnInstanceGoesToOneRootWhateverTheInterleaving(@ForAll long seed,
      @ForAll @IntRange(min = 2, max = 4) int routers, @ForAll @IntRange(min = 1, max = 12) int instances) {
    Random random = new Random(seed);
    Cluster c = new Cluster(routers);
    List<ArrayDeque<String[]>> queues = new ArrayList<>();
    for (int i = 0; i < routers; i++) {
      queues.add(new ArrayDeque<>());
    }
    Map<Integer, List<String[]>> events = new LinkedHashMap<>();
    for (int n = 0; n < instances; n++) {
      List<String[]> mine = new ArrayList<>();
      String key = "order|orderId=" + n;
      int openers = 1 + random.nextInt(2);
      for (int o = 0; o < openers; o++) {
        mine.add(new String[] {String.valueOf(n), key, "t" + n + "-" + o, "opens"});
      }
      mine.add(new String[] {String.valueOf(n), key, "t" + n + "-0", "follows"});
      mine.add(new String[] {String.valueOf(n), key, "w" + n, "follows"});
      mine.add(new String[] {String.valueOf(n), "", "t" + n + "-0", "follows"});
      events.put(n, mine);
      mine.forEach(e -> queues.get(random.nextInt(routers)).add(e));
    }
    queues.forEach(q -> {
      List<String[]> shuffled = new ArrayList<>(q);
      java.util.Collections.shuffle(shuffled, random);
      q.clear();
      q.addAll(shuffled);
    });
    Map<String[], String> routedTo = new HashMap<>();
    List<List<String[]>> waiting = new ArrayList<>();
    for (int i = 0; i < routers; i++) {
      waiting.add(new ArrayList<>());
    }
    int idle = 0;
    while (idle < 50 * routers) {
      int r = random.nextInt(routers);
      boolean progressed;
      if (random.nextInt(3) == 0) {
        progressed = c.readOne(r);
      } else {
        progressed = false;
        for (var it = waiting.get(r).iterator(); it.hasNext(); ) {
          String[] e = it.next();
          String root = c.router(r).place(routing(e), e[3].equals("opens"), false);
          if (root != null) {
            routedTo.put(e, root);
            it.remove();
            progressed = true;
          }
        }
        String[] next = queues.get(r).poll();
        if (next != null) {
          waiting.get(r).add(next);
          progressed = true;
        }
      }
      idle = progressed ? 0 : idle + 1;
      if (!progressed) {
        c.readAll();
      }
    }

    assertThat(waiting).allSatisfy(w -> assertThat(w).as("every event found its root").isEmpty());
    events.forEach((n, mine) -> assertThat(mine.stream().map(routedTo::get).distinct().toList())
        .as("instance %d goes to one root", n).hasSize(1));
    c.readAll();
    assertThat(c.compacted()).isEqualTo(c.firstEntries());
  }

  private static LiveHooks.Routing routing(String[] e) {
    Set<String> keys = e[1].isEmpty() ? Set.of() : Set.of(e[1]);
    return event(keys, List.of(e[2]), e[3].equals("opens"));
  }
}
