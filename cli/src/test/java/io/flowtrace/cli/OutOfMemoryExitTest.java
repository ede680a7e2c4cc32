package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutOfMemoryExitTest {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @Test
  void anOutOfMemoryWrappedByTheJvmStillExitsThreeAndSaysHowToGiveMore() {
    Error linking = new InternalError(new OutOfMemoryError("GC overhead limit exceeded"));

    assertThat(FlowTraceCli.failed(err, linking)).isEqualTo(FlowTraceCli.EXIT_FAILED);
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .contains("out of memory (GC overhead limit exceeded", "FLOWTRACE_JAVA_OPTS=-Xmx4g bin/flowtrace")
        .containsPattern("max heap [0-9.]+ [KMG]i?B");
  }

  @Test
  void anErrorThatIsNotTheHeapIsThrownOn() {
    Error other = new InternalError("a JVM fault");

    assertThatThrownBy(() -> FlowTraceCli.failed(err, other)).isSameAs(other);
    assertThat(bytes.size()).isZero();
  }
}
