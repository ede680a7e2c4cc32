package io.flowtrace.kafka.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortsTest {

  @Test
  void freePortsAreBindableDistinctAndBelowTheEphemeralRange() throws Exception {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ports.add(Ports.free());
    }

    assertThat(ports).doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isBetween(10_000, Ports.ephemeralStart() - 1));
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(ports.get(0)));
      assertThat(s.getLocalPort()).isEqualTo(ports.get(0));
    }
  }

  /** Modules built in parallel test in JVMs of their own: a port one hands out, another does not. */
  @Test
  void aPortHandedOutIsClaimedForEveryOtherJvmOnTheMachine() throws Exception {
    int port = Ports.free();

    java.nio.file.Path claim = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "flowtrace-ports",
        Integer.toString(port));
    assertThat(claim).exists();
    assertThat(java.nio.file.Files.getLastModifiedTime(claim).toMillis())
        .isGreaterThan(System.currentTimeMillis() - 60_000);
  }

  @Test
  void aPortAServerListensOnIsNotHandedOut() throws Exception {
    int taken = Ports.free();
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(taken));
      for (int i = 0; i < 200; i++) {
        assertThat(Ports.free()).isNotEqualTo(taken);
      }
    }
  }
}
