package io.flowtrace.tracer.recording;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowtrace.tracer.model.SourcePosition;
import org.junit.jupiter.api.Test;

class ReadProblemTest {

  private static final SourcePosition AT = SourcePosition.line("dump.kcat.jsonl", 812);

  @Test
  void namesTheIdentifiersAndTraceIdsOfACutLineButNotTheRunItWasCutIn() {
    String cut = "{\"topic\":\"payments.captured\",\"offset\":4844,\"headers\":[\"traceparent\","
        + "\"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01\"],\"key\":\"BK-1042\","
        + "\"payload\":\"{\\\"bookingRef\\\":\\\"BK-1042\\\",\\\"paymentId\\\":\\\"pay_8f3";

    ReadProblem problem = ReadProblem.naming(AT, "the line is cut off", cut);

    assertThat(problem.names()).contains("payments.captured", "BK-1042", "bookingRef",
            "0af7651916cd43dd8448eb211c80319c", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")
        .contains("4844").doesNotContain("pay_8f3", ":", ":4844", "b7ad6b7169203331");
    assertThat(problem).hasToString("dump.kcat.jsonl:812: the line is cut off");
  }

  @Test
  void keepsAtMostItsLimitOfNames() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < ReadProblem.MAX_NAMES * 2; i++) {
      text.append("id-").append(i).append(',');
    }

    assertThat(ReadProblem.naming(AT, "too long", text).names()).hasSize(ReadProblem.MAX_NAMES);
  }

  @Test
  void aProblemWithoutItsTextNamesNothing() {
    assertThat(new ReadProblem(AT, "cannot read the file").names()).isEmpty();
  }
}
