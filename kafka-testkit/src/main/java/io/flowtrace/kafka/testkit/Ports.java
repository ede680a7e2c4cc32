package io.flowtrace.kafka.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free ports for servers a test starts in other processes, which must be told their port before
 * they bind it. They are taken below the range the system hands out for port 0 and for outgoing
 * connections (Linux's {@code ip_local_port_range}, 32768–60999 by default): on a busy machine the
 * Kafka clients and the servers bound to port 0 of other tests take ports from that range all the
 * time, and one of them can take a port between the moment it was found free and the moment the
 * forked server binds it ("Address already in use"). A port is not handed out twice by one JVM,
 * nor by two at once: modules built in parallel run their tests in JVMs of their own, and each
 * claims a port with a file in a shared directory before it hands it out (a claim older than
 * {@link #CLAIM_TTL_MILLIS} is stale: its test is over).
 */
public final class Ports {

  private static final int LOWEST = 10_000;
  private static final long CLAIM_TTL_MILLIS = 20 * 60_000L;
  private static final int REMEMBERED = 4_096;
  private static final Set<Integer> handedOut = new HashSet<>();
  private static final ArrayDeque<Integer> order = new ArrayDeque<>();

  private Ports() {}

  /** A port no server listens on now (on any interface), outside the system's ephemeral range. */
  public static synchronized int free() {
    int below = ephemeralStart();
    if (below - LOWEST >= 1_000) {
      for (int attempt = 0; attempt < 200; attempt++) {
        int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
        if (!handedOut.contains(port) && bindable(port) && claim(port)) {
          remember(port);
          return port;
        }
      }
    }
    try (ServerSocket s = new ServerSocket(0)) {
      remember(s.getLocalPort());
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true); // a port in TIME_WAIT is as free for the server, which binds it the same way
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Claims the port for this JVM's test, unless another JVM claimed it lately; true without a shared directory. */
  private static boolean claim(int port) {
    try {
      Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "flowtrace-ports"));
      Path claim = dir.resolve(Integer.toString(port));
      try {
        Files.createFile(claim);
        return true;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        long now = System.currentTimeMillis();
        if (Files.getLastModifiedTime(claim).toMillis() < now - CLAIM_TTL_MILLIS) {
          Files.setLastModifiedTime(claim, java.nio.file.attribute.FileTime.fromMillis(now));
          return true;
        }
        return false;
      }
    } catch (IOException | SecurityException e) {
      return true; // no shared directory: the bind check alone
    }
  }

  private static void remember(int port) {
    handedOut.add(port);
    order.addLast(port);
    if (order.size() > REMEMBERED) {
      handedOut.remove(order.pollFirst());
    }
  }

  /** The first port of the system's ephemeral range (32768 where it cannot be read). */
  static int ephemeralStart() {
    try {
      // read line by line: a /proc file says its size is 0, and readString then reads one byte of it
      String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).strip();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
