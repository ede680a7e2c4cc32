package io.flowtrace.cli.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuilderValidationTest {

  @Test
  void defaultsAreCorrectFlowsFiftyMillisecondsApart() {
    SyntheticOrderFlows flows = SyntheticOrderFlows.builder().build();
    assertThat(flows.seed()).isEqualTo(SyntheticOrderFlows.DEFAULT_SEED);
    assertThat(flows.flows()).isEqualTo(100);
    assertThat(flows.interArrival()).isEqualTo(Duration.ofMillis(50));
    assertThat(flows.start()).isEqualTo(SyntheticOrderFlows.DEFAULT_START);
    assertThat(flows.defects()).isEmpty();
  }

  @Test
  void rejectsBadSettingsWithTheValueInTheMessage() {
    SyntheticOrderFlows.Builder builder = SyntheticOrderFlows.builder();
    assertThatThrownBy(() -> builder.flows(0)).hasMessage("flows must be at least 1: 0");
    assertThatThrownBy(() -> builder.interArrival(Duration.ofMillis(-1)))
        .hasMessage("interArrival must not be negative: PT-0.001S");
    assertThatThrownBy(() -> builder.declineRate(1.5)).hasMessage("declineRate must be within [0, 1]: 1.5");
    assertThatThrownBy(() -> builder.maxSpansPerLine(0)).hasMessage("maxSpansPerLine must be within [1, 512]: 0");
    assertThatThrownBy(() -> builder.plant(Defect.WRONG_TOTAL, -1)).hasMessage("flowIndex must not be negative: -1");
    assertThatThrownBy(() -> builder.plant(null, 1)).hasMessage("defect");
    assertThatThrownBy(() -> builder.start(null)).hasMessage("start");
  }

  @Test
  void rejectsABadSampleRatioOrClockSkewWithTheValueInTheMessage() {
    SyntheticOrderFlows.Builder builder = SyntheticOrderFlows.builder();
    assertThatThrownBy(() -> builder.sampleRatio(1.5)).hasMessage("sampleRatio must be within [0, 1]: 1.5");
    assertThatThrownBy(() -> builder.sampleRatio(Double.NaN)).hasMessage("sampleRatio must be within [0, 1]: NaN");
    assertThatThrownBy(() -> builder.clockSkew("payment-provider", Duration.ofMillis(40)))
        .hasMessage("unknown service 'payment-provider'; known: gateway, order-service, inventory-service, "
            + "notification-service");
    assertThatThrownBy(() -> builder.clockSkew("gateway", Duration.ofSeconds(-11)))
        .hasMessage("clock skew of gateway must be within 10 s either way: PT-11S");
    assertThatThrownBy(() -> builder.clockSkew("gateway", null)).hasMessage("offset");
  }

  @Test
  void toBuilderKeepsTheSampleRatioAndClockSkews() {
    SyntheticOrderFlows flows = SyntheticOrderFlows.builder()
        .sampleRatio(0.25)
        .clockSkew("inventory-service", Duration.ofMillis(40))
        .build();
    SyntheticOrderFlows copy = flows.toBuilder().build();
    assertThat(copy.sampleRatio()).isEqualTo(0.25);
    assertThat(copy.clockSkews()).isEqualTo(java.util.Map.of("inventory-service", Duration.ofMillis(40)));
    assertThat(SyntheticOrderFlows.builder().build().sampleRatio()).isEqualTo(1.0);
    assertThat(SyntheticOrderFlows.builder().build().clockSkews()).isEmpty();
  }

  @Test
  void rejectsTwoDefectsInOneFlow() {
    SyntheticOrderFlows.Builder builder = SyntheticOrderFlows.builder().plant(Defect.WRONG_TOTAL, 3);
    assertThatThrownBy(() -> builder.plant(Defect.LOST_TRACEPARENT, 3))
        .hasMessage("flow 3 already has WRONG_TOTAL, cannot plant LOST_TRACEPARENT");
  }

  @Test
  void namesEveryTimelineProblemAtOnce() {
    SyntheticOrderFlows.Builder builder = SyntheticOrderFlows.builder()
        .flows(10)
        .plant(Defect.TRUNCATED, 2)
        .plant(Defect.NO_NOTIFICATION, 4)
        .plant(Defect.WRONG_TOTAL, 12);
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Cannot generate: TRUNCATED must be the last flow (9), not 2; "
            + "NO_NOTIFICATION in flow 4 needs at least 31 s of arrivals after it, has PT0.2375S; "
            + "WRONG_TOTAL planted in flow 12 of only 10");
  }

  @Test
  void toBuilderKeepsEverySettingAndDefect() {
    SyntheticOrderFlows sample = SyntheticOrderFlows.sample();
    SyntheticOrderFlows copy = sample.toBuilder().build();
    assertThat(copy.seed()).isEqualTo(sample.seed());
    assertThat(copy.flows()).isEqualTo(sample.flows());
    assertThat(copy.interArrival()).isEqualTo(sample.interArrival());
    assertThat(copy.defects()).isEqualTo(sample.defects());
    assertThat(sample.toBuilder().correct().build().defects()).isEmpty();
  }

  @Test
  void correctFlowsAllPassAndCoverBothPaymentOutcomes(@TempDir Path dir) throws IOException {
    Manifest manifest = SyntheticOrderFlows.correct(30).seed(4).build().write(dir);
    assertThat(manifest.summary()).isEqualTo(new Manifest.Summary(30, 30, 0, 0));
    assertThat(manifest.flows()).extracting(Manifest.Flow::payment)
        .contains(Manifest.Payment.AUTHORIZED, Manifest.Payment.DECLINED);
  }
}
