package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.sidecar.SidecarConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SidecarCommandTest {

  @Test
  void everySettingTheSidecarUnderstandsCanBeGivenAsAFlag() {
    CommandLine sidecar = new CommandLine(new FlowTraceCli()).getSubcommands().get("sidecar");

    assertThat(SidecarConfig.defaults().keySet())
        .allSatisfy(name -> assertThat(sidecar.getCommandSpec().findOption("--" + name)).as("--" + name).isNotNull());
  }
}
