package io.flowtrace.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowtrace.kafka.testkit.HeadlessChromium;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code replay --html} of the bundled sample, looked at in a real browser (headless Chromium):
 * every planted defect is drawn in red on the hop it names, the filters work, and markup in a
 * payload and in a key stays text.
 */
class HtmlReportIT {
  private static final Path SAMPLE = Path.of("../samples/order-flow");
  private static final Path SHOTS = Path.of("target/screenshots");
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** Markup an attacker can put into a payload or a key; none of it may become an element or run. */
  static final String ATTACK = "</script><script>window.__pwned=1</script>\"><img src=x onerror=\"window.__pwned=2\">"
      + "<svg onload=window.__pwned=3> <!--<script> \u2028 &lt;b&gt;";

  @TempDir static Path dir;
  static HeadlessChromium chrome;
  static Path report;

  @BeforeAll
  static void replayAndOpen() throws Exception {
    assumeTrue(HeadlessChromium.unavailable().isEmpty(), () -> HeadlessChromium.unavailable().orElse(""));
    Path recording = dir.resolve("recording");
    Files.createDirectories(recording);
    try (var files = Files.list(SAMPLE)) {
      for (Path f : files.toList()) {
        Files.copy(f, recording.resolve(f.getFileName()));
      }
    }
    // One more instance, on orders.requested only: its requestId (a key) and a field are markup.
    ObjectNode payload = JSON.createObjectNode();
    payload.put("requestId", ATTACK);
    payload.put("userId", "user-1");
    payload.put("note", ATTACK);
    payload.put("flag", "\u202Eeurt");
    payload.putArray("items").addObject().put("productId", "<img src=x onerror=alert(1)>").put("quantity", 1);
    ObjectNode line = JSON.createObjectNode();
    line.put("topic", "orders.requested").put("partition", 0).put("offset", 99999).put("tstype", "create")
        .put("ts", 1795597230000L).put("broker", -1).put("key", ATTACK).put("payload", payload.toString());
    Files.writeString(recording.resolve("attack.kcat.jsonl"), line + "\n", StandardCharsets.UTF_8);

    report = dir.resolve("report.html");
    Path json = dir.resolve("report.json");
    int exit = FlowTraceCli.run("replay", "--flows", "../flows", "--html", report.toString(), "--format", "json",
        "--output", json.toString(), "--junit", dir.resolve("junit.xml").toString(), recording.toString());
    assertThat(exit).isEqualTo(1);
    assertThat(JSON.readTree(json.toFile()).path("summary").path("flows").asInt()).isEqualTo(41);
    assertThat(Files.readString(report)).doesNotContain("<img", "<svg onload", "window.__pwned=1</script>");

    chrome = HeadlessChromium.start();
    chrome.viewport(1400, 1000);
    chrome.open(report.toUri().toString());
    chrome.waitFor("document.body.dataset.readyMs", Duration.ofSeconds(20));
  }

  @AfterAll
  static void close() {
    if (chrome != null) {
      chrome.close();
    }
  }

  @Test
  void theSummaryAndTheTableShowEveryInstanceAsText() {
    assertThat(chrome.eval("document.querySelectorAll('.rows .row').length").asInt()).isEqualTo(41);
    assertThat(chrome.eval("document.getElementById('f-count').textContent").asString()).isEqualTo("showing 41 of 41");
    String text = chrome.eval("document.body.innerText").asString();
    assertThat(text).contains("12\nfailed", "1\nincomplete", "MISSING_ENRICHMENT", "order-requested");
    // every instance's keys, status and kinds are in the page (searchable with the browser's find)
    assertThat(text).contains("requestId=2898ece4-18bf-4e32-9e0b-f9808ebfe3f5 orderId=ord-84cc069e8a62b852");
    chrome.screenshot(SHOTS.resolve("report-summary.png"), false);
  }

  @Test
  void theFiltersNarrowTheTableByStatusKindStageAndKeyText() {
    try {
      assertThat(filter("f-status", "FAILED")).isEqualTo(12); // 11 planted + the instance made of markup
      assertThat(filter("f-kind", "NON_IDEMPOTENT")).isEqualTo(1);
      assertThat(visibleKeys()).singleElement().asString().contains("ord-3d4cc0ecaf44fc55");
      assertThat(filter("f-kind", "")).isEqualTo(12);
      assertThat(filter("f-stage", "notification-sent")).isEqualTo(4);
      assertThat(filter("f-stage", "")).isEqualTo(12);
      assertThat(filter("f-status", "INCOMPLETE")).isEqualTo(1);
      assertThat(filter("f-status", "")).isEqualTo(41);
      chrome.eval("(() => { const i = document.getElementById('f-text'); i.value = 'ord-dedaffa6';"
          + " i.dispatchEvent(new Event('input')); })()");
      chrome.waitFor("document.getElementById('f-count').textContent === 'showing 1 of 41'", Duration.ofSeconds(5));
      assertThat(visibleKeys()).singleElement().asString().contains("1ea3742a-c787-44f1-a546-91f39e5447a3");
      chrome.eval("(() => { const s = document.getElementById('f-sort'); s.value = '-dur';"
          + " s.dispatchEvent(new Event('change')); })()");
    } finally {
      chrome.eval("(() => { const i = document.getElementById('f-text'); i.value = '';"
          + " i.dispatchEvent(new Event('input')); })()");
      chrome.waitFor("document.getElementById('f-count').textContent === 'showing 41 of 41'", Duration.ofSeconds(5));
    }
    chrome.eval("(() => { const s = document.getElementById('f-sort'); s.value = 'time'; s.dispatchEvent(new Event('change')); })()");
    assertThat(chrome.eval("document.querySelector('.rows .row .keys').textContent").asString())
        .contains("387c6ccb-8fe7-471f-8ef4-9c9851ce19bd");
  }

  /** A trial's link to one instance opened it below a table of 1,700 rows, failures among them in time order. */
  @Test
  void aLinkToOneInstanceNarrowsTheTableToItAndFailuresComeFirst() {
    try {
      chrome.open(report.toUri().toString() + "?link#i=ord-3d4cc0ecaf44fc55"); // a new page, not a jump in this one
      chrome.waitFor("(document.getElementById('detail').dataset.instance || '').includes('ord-3d4cc0ecaf44fc55')",
          Duration.ofSeconds(20));
      assertThat(chrome.eval("document.getElementById('f-count').textContent").asString()).isEqualTo("showing 1 of 41");
      assertThat(chrome.eval("document.getElementById('f-text').value").asString()).isEqualTo("ord-3d4cc0ecaf44fc55");
      assertThat(visibleKeys()).singleElement().asString().contains("ord-3d4cc0ecaf44fc55");
    } finally {
      backToTheReport();
    }
    assertThat(chrome.eval("document.getElementById('f-sort').value").asString()).isEqualTo("failed");
    List<JsonNode> statuses = new ArrayList<>();
    chrome.eval("Array.from(document.querySelectorAll('.rows .row')).map(r => r.dataset.status)").forEach(statuses::add);
    assertThat(statuses).extracting(JsonNode::asString)
        .startsWith(java.util.Collections.nCopies(12, "FAILED").toArray(String[]::new))
        .element(12).isEqualTo("INCOMPLETE");
  }

  @Test
  void everyPlantedViolationIsDrawnInRedOnTheHopItNames() throws Exception {
    JsonNode expected = JSON.readTree(SAMPLE.resolve("expected.json").toFile());
    int checked = 0;
    for (JsonNode flow : expected.path("flows")) {
      for (JsonNode v : flow.path("violations")) {
        String orderId = flow.path("keys").path("orderId").asString();
        open(orderId);
        String kind = v.path("kind").asString();
        String stage = v.path("stage").asString();
        String selector = kind.equals("MISSING_STAGE")
            ? ".hop.missing.bad[data-stage='" + stage + "']"
            : ".hop.bad[data-stage='" + stage + "'][data-kinds~='" + kind + "']";
        JsonNode label = chrome.eval("(() => { const g = document.querySelector(\"#detail svg " + selector + "\");"
            + " return g ? Array.from(g.querySelectorAll('.vtext')).map(t => t.textContent).join(' | ') : null; })()");
        assertThat(label.isNull()).as("%s at %s of %s: no red hop %s", kind, stage, orderId, selector).isFalse();
        assertThat(label.asString()).contains(kind + " at " + stage);
        String color = chrome.eval("getComputedStyle(document.querySelector(\"#detail svg " + selector
            + " line, #detail svg " + selector + " path.arrow\")).stroke").asString();
        assertThat(color).isEqualTo("rgb(198, 40, 40)");
        checked++;
      }
    }
    assertThat(checked).isEqualTo(11);

    // the missing stage is a dashed arrow; the duplicate webhook is marked
    open("ord-f71533583c8642ef");
    assertThat(chrome.eval("getComputedStyle(document.querySelector('#detail .hop.missing line')).strokeDasharray")
        .asString()).isNotEqualTo("none");
    assertThat(chrome.eval("document.querySelector('#detail .hop.missing').dataset.from").asString())
        .as("the missing e-mail is drawn from the service that consumed the confirmation, not the last one seen")
        .isEqualTo("svc:notification-service");
    chrome.screenshotOf("#detail", SHOTS.resolve("report-missing-stage.png"));
    open("ord-3d4cc0ecaf44fc55");
    assertThat(chrome.eval("Array.from(document.querySelectorAll('#detail .hop.dup')).map(g => g.dataset.event)"))
        .extracting(JsonNode::asString).contains("webhook", "orders_confirmed", "email");
  }

  /**
   * A call from one service of the flow to another — its server span the client span's child — is
   * drawn between the two services, not as a call to an external host and another from an unknown
   * caller (trial: an internal offers service drawn as two outside parties).
   */
  @Test
  void aCallBetweenTwoServicesOfTheFlowIsDrawnBetweenThem() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("call-flows/offers"));
    Files.writeString(flows.resolve("offers.flow.yaml"), String.join("\n",
        "flow: offers",
        "keys: [bookingId]",
        "stages:",
        "  - id: booked",
        "    events:",
        "      - id: booking",
        "        span: {service: booking, kind: SERVER, name: POST /bookings}",
        "        payload: {attribute: http.request.body}",
        "  - id: offered",
        "    after: booked",
        "    terminal: true",
        "    events:",
        "      - id: offer_request",
        "        span: {service: booking, kind: CLIENT, name: POST}",
        "        payload: {attribute: http.request.body}",
        "      - id: offer_served",
        "        span: {service: upsell, kind: SERVER, name: POST /offers}",
        "        payload: {attribute: http.request.body}",
        ""));
    Path recording = Files.createDirectories(dir.resolve("call-recording"));
    String trace = "5b8efff798038103d269b633813fc60c";
    long t0 = 1_795_597_200_000_000_000L;
    String body = "{\\\"bookingId\\\":\\\"BK-1\\\"}";
    Files.writeString(recording.resolve("booking.otlp.jsonl"), otlpLine("booking",
        span(trace, "1111111111111111", "", "POST /bookings", 2, t0, t0 + 50_000_000, body, null)
            + "," + span(trace, "2222222222222222", "1111111111111111", "POST", 3, t0 + 5_000_000, t0 + 30_000_000,
                body, "http://upsell:8080/offers")) + "\n");
    Files.writeString(recording.resolve("upsell.otlp.jsonl"), otlpLine("upsell",
        span(trace, "3333333333333333", "2222222222222222", "POST /offers", 2, t0 + 8_000_000, t0 + 25_000_000, body,
            null)) + "\n");
    try {
      JsonNode lanes = show(flows.getParent(), recording, "calls.html", "BK-1");
      assertThat(lanes).extracting(JsonNode::asString).contains("svc:booking", "svc:upsell")
          .noneMatch(l -> l.startsWith("ext:") && !l.equals("ext:client"));
      for (String event : List.of("offer_request", "offer_served")) {
        assertThat(hopEnds(event)).as(event).isEqualTo("svc:booking -> svc:upsell");
      }
    } finally {
      backToTheReport();
    }
  }

  /**
   * Two parties outside the flow call back hours later (a guest checking in, an add-on ordered):
   * each lifeline is named by the endpoint it called, so the two read apart (a trial saw "caller of
   * POST /api/…" twice), and offsets of hours read in hours as on the console ("+3 h", not "+10800 s").
   */
  @Test
  void callersFromOutsideAreNamedByTheirEndpointAndHoursReadInHours() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("caller-flows/stay"));
    Files.writeString(flows.resolve("stay.flow.yaml"), String.join("\n",
        "flow: stay",
        "keys: [bookingId]",
        "deadline: 6h",
        "stages:",
        "  - id: booked",
        "    events:",
        "      - id: booking",
        "        span: {service: booking, kind: SERVER, name: POST /api/bookings}",
        "        payload: {attribute: http.request.body}",
        "  - id: checked-in",
        "    after: booked",
        "    events:",
        "      - id: check_in",
        "        span: {service: booking, kind: SERVER, name: \"POST /api/bookings/{bookingId}/check-in\"}",
        "        payload: {attribute: http.request.body}",
        "        trace: new",
        "  - id: extra",
        "    after: checked-in",
        "    terminal: true",
        "    events:",
        "      - id: add_on",
        "        span: {service: booking, kind: SERVER, name: \"POST /api/bookings/{bookingId}/add-on\"}",
        "        payload: {attribute: http.request.body}",
        "        trace: new",
        ""));
    Path recording = Files.createDirectories(dir.resolve("caller-recording"));
    long t0 = 1_795_597_200_000_000_000L;
    long hour = 3_600_000_000_000L;
    String body = "{\\\"bookingId\\\":\\\"BK-7\\\"}";
    Files.writeString(recording.resolve("booking.otlp.jsonl"), otlpLine("booking",
        span("6b8efff798038103d269b633813fc60c", "1111111111111111", "", "POST /api/bookings", 2, t0,
            t0 + 50_000_000, body, null)
            + "," + span("7b8efff798038103d269b633813fc60c", "2222222222222222", "",
                "POST /api/bookings/{bookingId}/check-in", 2, t0 + 3 * hour, t0 + 3 * hour + 40_000_000, body, null)
            + "," + span("8b8efff798038103d269b633813fc60c", "3333333333333333", "",
                "POST /api/bookings/{bookingId}/add-on", 2, t0 + 9 * hour / 2, t0 + 9 * hour / 2 + 30_000_000, body,
                null)) + "\n");
    try {
      show(flows.getParent(), recording, "callers.html", "BK-7");
      JsonNode heads = chrome.eval("Array.from(document.querySelectorAll('#detail .head.ext')).map(g =>"
          + " Array.from(g.querySelectorAll('text:not(.what)')).map(t => t.textContent).join('') + ' / '"
          + " + g.querySelector('text.what').textContent)");
      assertThat(heads).extracting(JsonNode::asString).hasSize(3).contains("client / external")
          .anySatisfy(h -> assertThat(h).contains("check-in").endsWith(" / caller"))
          .anySatisfy(h -> assertThat(h).contains("add-on").endsWith(" / caller"));
      String drawn = chrome.eval("document.querySelector('#detail svg.seq').textContent").asString();
      assertThat(drawn).contains("+3 h", "+4.5 h").doesNotContain("10800");
    } finally {
      backToTheReport();
    }
  }

  /** Replays a recording into a page of its own, opens one instance there and gives its lifelines. */
  private static JsonNode show(Path flows, Path recording, String name, String key) {
    Path page = dir.resolve(name);
    assertThat(FlowTraceCli.run("replay", "--flows", flows.toString(), "--html", page.toString(), recording.toString()))
        .isZero();
    chrome.open(page.toUri().toString() + "#i=" + key);
    chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
    return chrome.eval("Array.from(document.querySelectorAll('#detail .head')).map(g => g.dataset.lane)");
  }

  /** Where the open instance's hop of an event is drawn from and to: {@code svc:a -> svc:b}. */
  private static String hopEnds(String event) {
    return chrome.eval("(() => { const g = document.querySelector(\"#detail .hop[data-event='" + event
        + "']\"); return g.dataset.from + ' -> ' + g.dataset.to; })()").asString();
  }

  private static void backToTheReport() {
    chrome.open(report.toUri().toString());
    chrome.waitFor("document.body.dataset.readyMs", Duration.ofSeconds(20));
  }

  /**
   * A call to a host named as a service of the flow (a cluster's service name), whose server span
   * the flow does not declare, goes to that service: not to an "external" party beside the same
   * service's own lifeline (trial: an internal fee ledger drawn twice, once as an outsider).
   */
  @Test
  void aCallToAHostNamedAsAServiceOfTheFlowIsDrawnToThatService() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("named-flows/fees"));
    Files.writeString(flows.resolve("fees.flow.yaml"), String.join("\n",
        "flow: fees",
        "keys: [permitId]",
        "stages:",
        "  - id: reviewed",
        "    events:",
        "      - id: review",
        "        span: {service: review, kind: SERVER, name: POST /reviews}",
        "        payload: {attribute: http.request.body}",
        "      - id: fee_quote",
        "        span: {service: review, kind: CLIENT, name: POST}",
        "        payload: {attribute: http.request.body}",
        "  - id: invoiced",
        "    after: reviewed",
        "    terminal: true",
        "    events:",
        "      - id: invoice",
        "        span: {service: fee-ledger, kind: SERVER, name: POST /invoices}",
        "        payload: {attribute: http.request.body}",
        ""));
    Path recording = Files.createDirectories(dir.resolve("named-recording"));
    String trace = "6c9efff798038103d269b633813fc60d";
    long t0 = 1_795_597_200_000_000_000L;
    String body = "{\\\"permitId\\\":\\\"PM-1\\\"}";
    Files.writeString(recording.resolve("review.otlp.jsonl"), otlpLine("review",
        span(trace, "1111111111111111", "", "POST /reviews", 2, t0, t0 + 50_000_000, body, null)
            + "," + span(trace, "2222222222222222", "1111111111111111", "POST", 3, t0 + 5_000_000, t0 + 30_000_000,
                body, "http://fee-ledger:8080/internal/v1/fees/quote")) + "\n");
    Files.writeString(recording.resolve("fee-ledger.otlp.jsonl"), otlpLine("fee-ledger",
        span(trace, "3333333333333333", "2222222222222222", "POST /internal/v1/fees/quote", 2, t0 + 8_000_000,
            t0 + 25_000_000, body, null)
            + "," + span(trace, "4444444444444444", "", "POST /invoices", 2, t0 + 60_000_000, t0 + 70_000_000, body,
                null)) + "\n");
    try {
      JsonNode lanes = show(flows.getParent(), recording, "named.html", "PM-1");
      assertThat(lanes).extracting(JsonNode::asString).contains("svc:review", "svc:fee-ledger")
          .noneMatch(l -> l.startsWith("ext:") && !l.equals("ext:client") && !l.startsWith("ext:caller"));
      assertThat(hopEnds("fee_quote")).isEqualTo("svc:review -> svc:fee-ledger");
    } finally {
      backToTheReport();
    }
  }

  private static String otlpLine(String service, String spans) {
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\""
        + service + "\"}}]},\"scopeSpans\":[{\"spans\":[" + spans + "]}]}]}";
  }

  private static String span(String trace, String id, String parent, String name, int kind, long start, long end,
      String body, String url) {
    return "{\"traceId\":\"" + trace + "\",\"spanId\":\"" + id + "\",\"parentSpanId\":\"" + parent + "\",\"name\":\""
        + name + "\",\"kind\":" + kind + ",\"startTimeUnixNano\":\"" + start + "\",\"endTimeUnixNano\":\"" + end
        + "\",\"attributes\":[{\"key\":\"http.request.body\",\"value\":{\"stringValue\":\"" + body + "\"}}"
        + (url == null ? "" : ",{\"key\":\"url.full\",\"value\":{\"stringValue\":\"" + url + "\"}}") + "]}";
  }

  @Test
  void anEventThatHappensAgainIsMarkedDuplicateOnlyWhereTheIdempotencyCheckSaysSo() throws Exception {
    // the shipment sample: a carrier calls back once per status (two events, two eventIds), by design
    Path page = dir.resolve("shipments.html");
    assertThat(FlowTraceCli.run("replay", "--flows", "../flows", "--html", page.toString(),
        "../samples/shipment-tracking")).as("its planted defects fail").isEqualTo(1);
    try {
      chrome.open(page.toUri().toString() + "#i=ord-bafd0fd2204c");
      chrome.waitFor("(document.getElementById('detail').dataset.instance || '').includes('ord-bafd0fd2204c')",
          Duration.ofSeconds(10));
      assertThat(chrome.eval("document.querySelectorAll('#detail .hop.dup').length").asInt()).isZero();
      assertThat(chrome.eval("Array.from(document.querySelectorAll('#detail .badge.nth text')).map(t => t.textContent)"))
          .extracting(JsonNode::asString).contains("\u00d72");
    } finally {
      backToTheReport();
    }
  }

  /**
   * A trial's renewal record read again 24 s later by the same billing service was drawn as
   * "consumer 2" at +0 ms; an e-mail's ×2 badge sat on its label; {@code notification-service}
   * was headed "notificatio" / "n-service" in a narrow column; and a hop of an unsampled trace was
   * greyed as not verified beside "fully verified", though nothing needed its spans.
   */
  @Test
  void aRecordReadAgainIsDrawnWhenItWasReadAndNamesAndBadgesKeepClearOfEachOther() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("renewal-flows/renewals"));
    Files.writeString(flows.resolve("renewals.flow.yaml"), String.join("\n",
        "flow: renewals",
        "keys: [renewalId]",
        "stages:",
        "  - id: due",
        "    events: [{id: renewal_due, topic: renewals.due}]",
        "  - id: notified",
        "    after: due",
        "    terminal: true",
        "    events: [{id: renewal_email_sent, topic: notifications.email}]",
        ""));
    Path recording = dir.resolve("renewal-recording");
    long t0 = 1_795_597_200_000L;
    try (io.flowtrace.tracer.recording.RecordingWriter out = io.flowtrace.tracer.recording.RecordingWriter.open(recording)) {
      TracedTraffic traffic = new TracedTraffic(out);
      String trace = "7d9efff798038103d269b633813fc60d";
      traffic.record(true, trace, "due", "", "scheduler", "renewals.due", 0, t0, "{\"renewalId\":\"RN-1\"}");
      traffic.span(true, trace, "read", "due", "renewals.due process", io.flowtrace.tracer.model.SpanKind.CONSUMER,
          "billing-service", t0 + 10, t0 + 40, TracedTraffic.consumed("renewals.due"));
      traffic.span(true, trace, "read again", "due", "renewals.due process", io.flowtrace.tracer.model.SpanKind.CONSUMER,
          "billing-service", t0 + 24_010, t0 + 24_040, TracedTraffic.consumed("renewals.due"));
      traffic.record(true, trace, "mail", "read", "notification-service", "notifications.email", 0, t0 + 50,
          "{\"renewalId\":\"RN-1\"}");
      traffic.record(true, trace, "mail again", "read again", "notification-service", "notifications.email", 1,
          t0 + 24_050, "{\"renewalId\":\"RN-1\"}");
      String unsampled = "8e9efff798038103d269b633813fc60d";
      traffic.record(false, unsampled, "due 2", "", "scheduler", "renewals.due", 1, t0 + 60_000, "{\"renewalId\":\"RN-2\"}");
      traffic.record(false, unsampled, "mail 2", "due 2", "notification-service", "notifications.email", 2, t0 + 60_100,
          "{\"renewalId\":\"RN-2\"}");
    }
    chrome.viewport(600, 1000); // the narrowest columns
    try {
      show(flows.getParent(), recording, "renewals.html", "RN-1");
      assertThat(chrome.eval("Array.from(document.querySelectorAll(\"#detail .head[data-lane='svc:notification-service']"
          + " text:not(.what)\")).map(t => t.textContent).join('|')").asString()).isEqualTo("notification-|service");
      JsonNode again = chrome.eval("Array.from(document.querySelectorAll(\"#detail .hop[data-event='renewal_due']\"))"
          + ".map(g => g.querySelector('.lbl').textContent + ' at ' + g.querySelector('.time').textContent)");
      assertThat(again).extracting(JsonNode::asString).containsExactly("renewal_due at +0 ms",
          "renewal_due (read again) at +24.01 s");
      JsonNode clear = chrome.eval("Array.from(document.querySelectorAll('#detail .hop')).filter(g => g.querySelector('.badge'))"
          + ".map(g => { const l = g.querySelector('.lbl').getBBox(); return g.querySelector('.badge rect').getBBox().x"
          + " - (l.x + l.width); })");
      assertThat(clear).as("room between each label and its badge").isNotEmpty()
          .allSatisfy(gap -> assertThat(gap.asDouble()).isGreaterThanOrEqualTo(0));

      show(flows.getParent(), recording, "renewals-unsampled.html", "RN-2");
      assertThat(chrome.eval("document.querySelector('#detail svg.seq').textContent").asString())
          .contains("unsampled trace: no spans exported");
      assertThat(chrome.eval("document.querySelectorAll('#detail .hop.unverified').length").asInt())
          .as("hops greyed as not verified in a fully verified instance").isZero();
    } finally {
      chrome.viewport(1400, 1000);
      backToTheReport();
    }
  }

  /**
   * A hotel trial: the "again ×2" badge of loyalty points awarded twice, on a loop at the last
   * lifeline, ran off the drawing's right edge; and the line under a hop was cut at 48 characters,
   * before what it said about the topic ("dwell ≈51 ms (clocks corre…").
   */
  @Test
  void aLoopAtTheLastLifelineKeepsItsBadgeInViewAndTheLineUnderAHopIsWhole() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("loyalty-flows/loyalty"));
    Files.writeString(flows.resolve("loyalty.flow.yaml"), String.join("\n",
        "flow: loyalty",
        "keys: [paymentId]",
        "stages:",
        "  - id: captured",
        "    events: [{id: captured, topic: payments.captured.v2.eu-west-1}]",
        "  - id: awarded",
        "    after: captured",
        "    terminal: true",
        "    events: [{id: points, topic: loyalty.points}]",
        "idempotency:",
        "  - {trigger: captured, dedupKey: paymentId, effects: [points]}",
        ""));
    Path recording = dir.resolve("loyalty-recording");
    long t0 = 1_795_597_200_000L;
    try (io.flowtrace.tracer.recording.RecordingWriter out = io.flowtrace.tracer.recording.RecordingWriter.open(recording)) {
      TracedTraffic traffic = new TracedTraffic(out);
      String trace = "5d9efff798038103d269b633813fc60d";
      traffic.record(true, trace, "cap", "", "payment-service", "payments.captured.v2.eu-west-1", 0, t0,
          "{\"paymentId\":\"PAY-1\"}");
      traffic.span(true, trace, "take", "cap", "payments.captured.v2.eu-west-1 process",
          io.flowtrace.tracer.model.SpanKind.CONSUMER, "loyalty-service", t0 + 10, t0 + 40,
          TracedTraffic.consumed("payments.captured.v2.eu-west-1"));
      traffic.record(true, trace, "pts", "take", "loyalty-service", "loyalty.points", 0, t0 + 20, "{\"paymentId\":\"PAY-1\"}");
      traffic.record(true, trace, "pts again", "take", "loyalty-service", "loyalty.points", 1, t0 + 30,
          "{\"paymentId\":\"PAY-1\"}");
    }
    Path page = dir.resolve("loyalty.html");
    assertThat(FlowTraceCli.run("replay", "--flows", flows.getParent().toString(), "--html", page.toString(),
        recording.toString())).isEqualTo(FlowTraceCli.EXIT_VIOLATIONS);
    chrome.viewport(600, 1000);
    try {
      chrome.open(page.toUri() + "#i=PAY-1");
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      assertThat(chrome.eval("Array.from(document.querySelectorAll('#detail .hop .sub')).map(t => t.textContent)"))
          .extracting(JsonNode::asString).contains("payments.captured.v2.eu-west-1 · dwell 10 ms");
      JsonNode badges = chrome.eval("(() => { const view = document.querySelector('#detail .diagram').clientWidth;"
          + " return Array.from(document.querySelectorAll('#detail .hop')).filter(g => g.querySelector('.badge'))"
          + ".map(g => { const b = g.querySelector('.badge rect').getBBox(); const l = g.querySelector('.lbl').getBBox();"
          + " return {inView: b.x >= 0 && b.x + b.width <= view, clear: b.x + b.width <= l.x || b.x >= l.x + l.width}; }); })()");
      assertThat(badges).as("the badges of the points awarded again").isNotEmpty()
          .allSatisfy(b -> assertThat(b.toString()).isEqualTo("{\"inView\":true,\"clear\":true}"));
    } finally {
      chrome.viewport(1400, 1000);
      backToTheReport();
    }
  }

  /**
   * A trial's returns: each inspection's completion went first to another flow's reader, which took
   * the arrow from the refund service that the flow is about; the items' badges were not explained;
   * a double refund was drawn on an item instead of the record read again; a label at the last
   * lifeline ran off the drawing; and a stage of the same name in two flows was counted as one.
   */
  @Test
  void aFanInIsDrawnAroundItsOwnConsumerWithItsItemsExplainedAndNothingCutAtTheEdge() throws Exception {
    Path flows = Files.createDirectories(dir.resolve("fan-in-flows"));
    Files.writeString(flows.resolve("returns.flow.yaml"), String.join("\n",
        "flow: returns",
        "keys: [returnId]",
        "stages:",
        "  - id: requested",
        "    events: [{id: return_requested, topic: returns.requested}]",
        "  - id: inspected",
        "    after: requested",
        "    events: [{id: inspection_completed, topic: inspection.completed}]",
        "  - id: refunded",
        "    after: inspected",
        "    fanIn: true",
        "    terminal: true",
        "    events: [{id: refund_issued, topic: refund.issued}]",
        "idempotency:",
        "  - {trigger: inspection_completed, effects: [refund_issued]}",
        ""));
    Files.writeString(flows.resolve("exchanges.flow.yaml"), String.join("\n",
        "flow: exchanges",
        "keys: [exchangeId]",
        "stages:",
        "  - id: inspected",
        "    terminal: true",
        "    events: [{id: exchange_inspected, topic: exchanges.inspected}]",
        ""));
    Path recording = dir.resolve("fan-in-recording");
    long t0 = 1_795_597_200_000L;
    try (io.flowtrace.tracer.recording.RecordingWriter out = io.flowtrace.tracer.recording.RecordingWriter.open(recording)) {
      TracedTraffic traffic = new TracedTraffic(out);
      String trace = "5d9efff798038103d269b633813fc60e";
      traffic.record(true, trace, "req", "", "returns-api", "returns.requested", 0, t0,
          "{\"returnId\":\"RT-1\"}");
      for (int i = 0; i < 2; i++) {
        long at = t0 + 100 + 200 * i;
        traffic.record(true, trace, "done-" + i, "req", "warehouse", "inspection.completed", i, at,
            "{\"returnId\":\"RT-1\",\"itemId\":\"IT-" + i + "\"}");
        traffic.span(true, trace, "peek-" + i, "done-" + i, "inspection.completed process",
            io.flowtrace.tracer.model.SpanKind.CONSUMER, "exchange-service", at + 2, at + 3,
            TracedTraffic.consumed("inspection.completed"));
      }
      traffic.span(true, trace, "sum-first", "done-0", "inspection.completed process",
          io.flowtrace.tracer.model.SpanKind.CONSUMER, "refund-service", t0 + 950, t0 + 960,
          TracedTraffic.consumed("inspection.completed"));
      for (int k = 0; k < 2; k++) { // the last completion read twice: a second refund
        long at = t0 + 1_000 + 3_000 * k;
        traffic.span(true, trace, "sum-" + k, "done-1", "inspection.completed process",
            io.flowtrace.tracer.model.SpanKind.CONSUMER, "refund-service", at - 20, at + 5,
            TracedTraffic.consumed("inspection.completed"));
        traffic.record(true, trace, "refund-" + k, "sum-" + k, "refund-service", "refund.issued", k, at,
            "{\"returnId\":\"RT-1\",\"note\":\"a refund whose record is published from the rightmost lifeline\"}");
      }
      traffic.record(true, "6d9efff798038103d269b633813fc60e", "x", "", "exchange-service", "exchanges.inspected", 0,
          t0 + 9_000, "{\"exchangeId\":\"EX-1\"}");
    }
    try {
      Path page = dir.resolve("fan-in.html");
      assertThat(FlowTraceCli.run("replay", "--flows", flows.toString(), "--html", page.toString(), recording.toString()))
          .isOne();
      chrome.open(page.toUri().toString() + "#i=RT-1");
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      chrome.eval("(() => { const b = document.querySelector('#detail .legend input'); if (b.checked) b.click(); return 1; })()");

      assertThat(chrome.eval("Array.from(document.querySelectorAll('.chart .bar span:first-child'))"
          + ".map(s => s.textContent)")).extracting(JsonNode::asString).contains("returns \u00b7 inspected");
      JsonNode firstReaders = chrome.eval("Array.from(document.querySelectorAll(\"#detail .hop[data-event='inspection_completed']\"))"
          + ".filter(g => !/consumer|read again/.test(g.querySelector('.lbl').textContent)).map(g => g.dataset.to)");
      assertThat(firstReaders).extracting(JsonNode::asString).as("the flow's own reader takes each item's arrow")
          .containsOnly("svc:refund-service");
      assertThat(chrome.eval("document.querySelector('#detail .legend').textContent").asString())
          .contains("its 2nd occurrence");
      assertThat(chrome.eval("Array.from(document.querySelectorAll('#detail .hop.bad')).map(g =>"
          + " g.querySelector('.time').textContent)")).extracting(JsonNode::asString)
          .as("the double refund on the record read again").containsExactly("+3.98 s");
      JsonNode past = chrome.eval("(() => { const s = document.querySelector('#detail svg.seq');"
          + " const w = s.width.baseVal.value; return Array.from(s.querySelectorAll('text'))"
          + ".filter(t => { const b = t.getBBox(); return b.x + b.width > w; }).map(t => t.textContent); })()");
      assertThat(past).as("text past the drawing's right edge").isEmpty();
      chrome.screenshot(SHOTS.resolve("report-fan-in.png"), false);
    } finally {
      backToTheReport();
    }
  }

  @Test
  void topicsWhoseLongNamesShareAPrefixAreNamedByWhatTellsThemApart() throws Exception {
    // the sample with every topic under one long namespace, in the spec and the recording alike
    Path flows = dir.resolve("namespaced-flows");
    Path recording = dir.resolve("namespaced");
    copyNamespaced(Path.of("../flows/order-creation"), flows);
    copyNamespaced(SAMPLE, recording);
    Path page = dir.resolve("namespaced.html");
    FlowTraceCli.run("replay", "--flows", flows.toString(), "--html", page.toString(), recording.toString());
    try {
      chrome.open(page.toUri().toString() + "#i=ord-84cc069e8a62b852");
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      chrome.eval("document.querySelector('#detail .legend .fold input').click()");
      JsonNode heads = chrome.eval("Array.from(document.querySelectorAll(\"#detail .head.topic\"))"
          + ".map(g => Array.from(g.querySelectorAll('text')).slice(0, -1).map(t => t.textContent).join(''))");
      assertThat(heads).extracting(JsonNode::asString).contains("\u2026orders.requested", "\u2026inventory.requests")
          .noneMatch(h -> h.startsWith("com."));
    } finally {
      backToTheReport();
    }
  }

  private static final List<String> TOPICS = List.of("orders.requested", "orders.created", "orders.confirmed",
      "orders.cancelled", "inventory.requests", "inventory.replies", "notifications.email");

  /** Copies a directory tree, every topic name of the reference flow moved under {@code com.example.shop.eu-west-1.}. */
  private static void copyNamespaced(Path from, Path to) throws Exception {
    try (var files = Files.walk(from)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        Files.createDirectories(target.getParent());
        String text = Files.readString(f);
        for (String topic : TOPICS) {
          text = text.replace(topic, "com.example.shop.eu-west-1." + topic);
        }
        Files.writeString(target, text);
      }
    }
  }

  @Test
  void anEventNotObservedIsDrawnWhereItBelongsInTheFlowNotAfterItsStage() throws Exception {
    // every trace unsampled: the client's request (the first event of the flow) was not exported
    Path recording = dir.resolve("unsampled");
    assertThat(FlowTraceCli.run("generate", "--count", "3", "--sample-ratio", "0", recording.toString())).isZero();
    Path page = dir.resolve("unsampled.html");
    FlowTraceCli.run("replay", "--flows", "../flows", "--html", page.toString(), recording.toString());
    try {
      chrome.open(page.toUri().toString() + "#i=orderId");
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      JsonNode events = chrome.eval("Array.from(document.querySelectorAll('#detail svg .hop:not(.loose)'))"
          + ".map(g => g.dataset.event + (g.classList.contains('unobserved') ? ' (not observed)' : ''))");
      assertThat(events.get(0).asString()).isEqualTo("client_request (not observed)");
      assertThat(chrome.eval("document.querySelector('#detail .head').dataset.lane").asString())
          .as("the client's lifeline first").isEqualTo("ext:client");
    } finally {
      backToTheReport();
    }
  }

  /**
   * Trial M: a call on the older conventions (its URL in http.url) was drawn to "external service",
   * and an unsampled order's payment call to the same "external service" as any other party's. Both
   * go to the host the calls reached: read from http.url, and for one not observed, from where the
   * flow's other instances' calls went.
   */
  @Test
  void aCallIsDrawnToItsHostOnTheOlderConventionsAndWhereItsTraceWasNotSampled() throws Exception {
    Path recording = dir.resolve("half-sampled");
    assertThat(FlowTraceCli.run("generate", "--count", "8", "--sample-ratio", "0.5", recording.toString())).isZero();
    Path orders = recording.resolve("order-service.otlp.jsonl");
    Files.writeString(orders, Files.readString(orders).replace("\"url.full\"", "\"http.url\""));
    String sampled = null;
    String unsampled = null;
    for (JsonNode flow : JSON.readTree(recording.resolve("expected.json").toFile()).path("flows")) {
      boolean main = flow.path("sampled").path("main").asBoolean();
      String key = flow.path("keys").path("orderId").asString();
      sampled = sampled == null && main ? key : sampled;
      unsampled = unsampled == null && !main ? key : unsampled;
    }
    assertThat(sampled).isNotNull();
    assertThat(unsampled).isNotNull();
    Path page = dir.resolve("half-sampled.html");
    FlowTraceCli.run("replay", "--flows", "../flows", "--html", page.toString(), recording.toString());
    for (String key : List.of(sampled, unsampled)) {
      try {
        chrome.open(page.toUri().toString() + "#i=" + key);
        chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
        JsonNode lanes = chrome.eval("Array.from(document.querySelectorAll('#detail .head')).map(h => h.dataset.lane)");
        assertThat(lanes.toString()).as(key).contains("ext:payment-provider:8080").doesNotContain("external service");
      } finally {
        backToTheReport();
      }
    }
  }

  @Test
  void aStageThatCameBeforeTheStageItFollowsIsDrawnOnceWithItsUnobservedRequest() throws Exception {
    // a courier's pickup call (its trace sampled out) and its record, seconds before the assignment it must follow
    Path flows = dir.resolve("pickup-flows");
    Files.createDirectories(flows);
    Files.writeString(flows.resolve("pickup.flow.yaml"), String.join("\n",
        "flow: pickup",
        "keys: [deliveryId]",
        "deadline: 60s",
        "stages:",
        "  - id: assigned",
        "    events:",
        "      - {id: courier_assigned, topic: courier.assigned, recordKey: deliveryId}",
        "  - id: picked-up",
        "    after: assigned",
        "    terminal: true",
        "    events:",
        "      - id: pickup_request",
        "        span: {service: delivery-service, kind: SERVER, name: POST /pickup}",
        "        payload: {attribute: http.response.body}",
        "        trace: new",
        "      - {id: picked_up, topic: delivery.picked_up, recordKey: deliveryId}",
        ""));
    Path recording = dir.resolve("pickup-recording");
    Files.createDirectories(recording);
    String assigned = record("courier.assigned", 7, 1795597208000L, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    String picked = record("delivery.picked_up", 3, 1795597200000L, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    Files.writeString(recording.resolve("records.kcat.jsonl"), assigned + "\n" + picked + "\n", StandardCharsets.UTF_8);
    Path page = dir.resolve("pickup.html");
    assertThat(FlowTraceCli.run("replay", "--flows", flows.toString(), "--html", page.toString(), recording.toString()))
        .as("the pickup before its assignment fails").isEqualTo(1);
    try {
      chrome.open(page.toUri().toString() + "#i=D-1");
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      JsonNode bands = chrome.eval("Array.from(document.querySelectorAll('#detail svg .stageband')).map(g => g.dataset.stage)");
      assertThat(bands).extracting(JsonNode::asString).as("each stage drawn once").containsExactly("picked-up", "assigned");
      JsonNode events = chrome.eval("Array.from(document.querySelectorAll('#detail svg .hop:not(.loose)'))"
          + ".map(g => g.dataset.event + (g.classList.contains('unobserved') ? ' (not observed)' : ''))");
      assertThat(events).extracting(JsonNode::asString)
          .containsExactly("pickup_request (not observed)", "picked_up", "courier_assigned");
      assertThat(lanes().get(0)).as("the caller the response goes back to, first").startsWith("ext:caller");
      JsonNode said = chrome.eval("Array.from(document.querySelectorAll('#detail svg .vtext')).map(t => t.textContent)");
      assertThat(said).extracting(JsonNode::asString).as("what was expected, whole")
          .contains("expected picked_up after courier_assigned (+8 s; with the clocks as far apart as allowed, not before +7.9 s)");
    } finally {
      backToTheReport();
    }
  }

  @Test
  void withTopicsFoldedARecordNoConsumerWasSeenReadingIsPublishedFromItsProducersLifeline() throws Exception {
    // half the traces sampled out: their records are known, their consumers are not
    Path recording = dir.resolve("half-sampled");
    assertThat(FlowTraceCli.run("generate", "--count", "12", "--sample-ratio", "0.5", "--seed", "7", recording.toString())).isZero();
    Path page = dir.resolve("half-sampled.html");
    Path json = dir.resolve("half-sampled.json");
    FlowTraceCli.run("replay", "--flows", "../flows", "--html", page.toString(), "--format", "json", "--output",
        json.toString(), recording.toString());
    String unsampled = null;
    for (JsonNode flow : JSON.readTree(json.toFile()).path("flows")) {
      boolean requestUnseen = false;
      for (JsonNode u : flow.path("unverified")) {
        requestUnseen |= u.path("subject").asString().equals("client_request");
      }
      if (requestUnseen) {
        unsampled = flow.path("keys").path("orderId").asString();
        break;
      }
    }
    assertThat(unsampled).as("an order whose trace was sampled out").isNotNull();
    try {
      chrome.open(page.toUri().toString() + "#i=" + unsampled);
      chrome.waitFor("document.querySelectorAll('#detail .hop').length > 0", Duration.ofSeconds(10));
      chrome.eval("(() => { const box = document.querySelector('#detail .legend .fold input');"
          + " if (box.checked) box.click(); })()");
      assertThat(lanes()).as("no topic lifelines once folded").noneMatch(lane -> lane.startsWith("topic:"))
          .contains("svc:gateway", "svc:order-service");
      assertThat(chrome.eval("(() => { const g = document.querySelector(\"#detail .hop[data-event='orders_requested']\");"
          + " return g.dataset.from + ' -> ' + g.dataset.to + ': ' + g.querySelector('.sub').textContent; })()").asString())
          .startsWith("svc:gateway -> svc:gateway: orders.requested[").endsWith("no consumer seen");
    } finally {
      backToTheReport();
    }
  }

  /** A record of one delivery whose trace was sampled out, as kcat prints it. */
  private static String record(String topic, long offset, long ts, String traceId, String spanId) {
    ObjectNode line = JSON.createObjectNode();
    line.put("topic", topic).put("partition", 0).put("offset", offset).put("tstype", "create").put("ts", ts)
        .put("broker", -1).put("key", "D-1").put("payload", "{\"deliveryId\":\"D-1\"}");
    line.putArray("headers").add("traceparent").add("00-" + traceId + "-" + spanId + "-00");
    return line.toString();
  }

  @Test
  void aSequenceTooWideForThePageFoldsItsTopicsIntoArrowsAndUnfoldsThemOnRequest() {
    open("ord-f71533583c8642ef");
    assertThat(chrome.eval("(() => { const d = document.querySelector('#detail .diagram');"
        + " return d.querySelector('svg').getBoundingClientRect().width <= d.clientWidth; })()").asBoolean())
        .as("the diagram fits the page").isTrue();
    assertThat(lanes()).contains("svc:gateway", "svc:order-service", "topic:notifications.email")
        .doesNotContain("topic:orders.requested");
    assertThat(chrome.eval("(() => { const g = document.querySelector(\"#detail .hop[data-event='orders_requested']\");"
        + " return g.dataset.from + ' -> ' + g.dataset.to; })()").asString())
        .isEqualTo("svc:gateway -> svc:order-service");
    chrome.eval("document.querySelector(\"#detail .hop[data-event='orders_requested']\")"
        + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    assertThat(chrome.eval("document.getElementById('hop-panel').innerText").asString())
        .contains("orders.requested", "consumed by order-service");

    chrome.eval("document.querySelector('#detail .legend .fold input').click()");
    try {
      assertThat(lanes()).contains("topic:orders.requested", "topic:inventory.requests");
      open("ord-3d4cc0ecaf44fc55");
      assertThat(lanes()).as("the reader's choice holds for the next instance").contains("topic:orders.requested");
    } finally {
      chrome.eval("document.querySelector('#detail .legend .fold input').click()");
    }
    assertThat(lanes()).doesNotContain("topic:orders.requested");
  }

  @Test
  void everyServiceAndTopicLifelineShowsItsWholeNameOnNarrowColumns() {
    open("ord-f71533583c8642ef");
    List<String> shown = new ArrayList<>();
    chrome.eval("Array.from(document.querySelectorAll('#detail svg .head')).filter(g => !g.dataset.lane.startsWith('ext:')).map(g =>"
        + " Array.from(g.querySelectorAll('text:not(.what)')).map(t => t.textContent).join('') + ' = ' +"
        + " g.querySelector('title').textContent)").forEach(n -> shown.add(n.asString()));

    assertThat(shown).contains("notification-service = notification-service", "inventory-service = inventory-service")
        .allSatisfy(line -> assertThat(line.substring(0, line.indexOf(" = "))).isEqualTo(line.substring(line.indexOf(" = ") + 3)));
  }

  private static List<String> lanes() {
    List<String> out = new ArrayList<>();
    chrome.eval("Array.from(document.querySelectorAll('#detail svg .head')).map(g => g.dataset.lane)")
        .forEach(n -> out.add(n.asString()));
    return out;
  }

  @Test
  void clickingTheViolatedHopShowsItsPayloadWithTheFieldHighlighted() {
    open("ord-dedaffa63208fdae"); // WRONG_TOTAL
    chrome.eval("document.querySelector(\"#detail .hop.bad[data-kinds~='BAD_TRANSFORMATION']\")"
        + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    chrome.waitFor("!document.getElementById('hop-panel').hidden", Duration.ofSeconds(5));
    String panel = chrome.eval("document.getElementById('hop-panel').innerText").asString();
    assertThat(panel).contains("orders_created", "orders.created", "partition", "offset", "trace id", "\"total\"");
    assertThat(chrome.eval("Array.from(document.querySelectorAll('#hop-panel pre.json .hl')).map(l => l.textContent.trim())"))
        .extracting(JsonNode::asString).anySatisfy(l -> assertThat(l).startsWith("\"total\":"));
    chrome.screenshot(SHOTS.resolve("report-instance.png"), false);

    open("ord-84cc069e8a62b852"); // DROP_ENRICHMENT: userId is absent
    chrome.eval("document.querySelector(\"#detail .hop.bad[data-kinds~='MISSING_ENRICHMENT']\")"
        + ".dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    assertThat(chrome.eval("document.querySelector('#hop-panel pre.json .missing').textContent").asString())
        .contains("\"userId\": absent");
  }

  @Test
  void markupInAPayloadAndAKeyIsShownAsTextAndChangesNothing() {
    int scripts = chrome.eval("document.scripts.length").asInt();
    chrome.eval("(() => { const i = document.getElementById('f-text'); i.value = 'onerror';"
        + " i.dispatchEvent(new Event('input')); })()");
    chrome.waitFor("document.getElementById('f-count').textContent === 'showing 1 of 41'", Duration.ofSeconds(5));
    chrome.eval("document.querySelector('.rows .row:not([hidden])').click()");
    chrome.waitFor("document.querySelector('#detail svg .hop')", Duration.ofSeconds(5));
    assertThat(chrome.eval("document.querySelector(\"#detail .hop[data-event='orders_requested']\").dataset.from")
        .asString()).as("a record whose producer span was not seen, drawn from who produces its topic elsewhere")
        .isEqualTo("svc:gateway");
    chrome.eval("document.querySelector('#detail svg .hop').dispatchEvent(new MouseEvent('click', {bubbles: true}))");
    chrome.waitFor("!document.getElementById('hop-panel').hidden", Duration.ofSeconds(5));
    String body = chrome.eval("document.body.innerText").asString();
    assertThat(body).contains("requestId=</script><script>window.__pwned=1</script>\"><img src=x onerror=\"window.__pwned=2\">");
    assertThat(chrome.eval("document.getElementById('hop-panel').textContent").asString())
        .contains("<svg onload=window.__pwned=3>", "<img src=x onerror=alert(1)>");
    assertThat(chrome.eval("document.getElementById('hop-panel').textContent").asString())
        .as("a right-to-left override shown, not obeyed").contains("<U+202E>eurt").doesNotContain("\u202E");
    assertThat(chrome.eval("typeof window.__pwned").asString()).isEqualTo("undefined");
    assertThat(chrome.eval("document.querySelectorAll('img, iframe, object, embed, svg svg').length").asInt()).isZero();
    assertThat(chrome.eval("document.querySelectorAll('[onerror], [onload]').length").asInt()).isZero();
    assertThat(chrome.eval("document.scripts.length").asInt()).isEqualTo(scripts);
    assertThat(chrome.eval("document.querySelectorAll('script:not([type])').length").asInt()).isEqualTo(1);
    assertThat(chrome.dialogs()).isEmpty();
    assertThat(chrome.console()).noneMatch(c -> c.startsWith("exception"));
    chrome.screenshot(SHOTS.resolve("report-markup-as-text.png"), false);
  }

  /** Each test starts from the whole table, however the one before it ended (a failure included). */
  @AfterEach
  void clearTheFilters() {
    if (chrome == null) {
      return;
    }
    chrome.eval("(() => { for (const id of ['f-status', 'f-kind', 'f-stage', 'f-verification']) { const s = document.getElementById(id);"
        + " s.value = ''; s.dispatchEvent(new Event('change')); }"
        + " const i = document.getElementById('f-text'); i.value = ''; i.dispatchEvent(new Event('input'));"
        + " const p = document.getElementById('hop-panel'); if (p) p.hidden = true; })()");
    chrome.waitFor("document.getElementById('f-count').textContent === 'showing 41 of 41'", Duration.ofSeconds(5));
  }

  private static int filter(String id, String value) {
    chrome.eval("(() => { const s = document.getElementById('" + id + "'); s.value = '" + value + "';"
        + " s.dispatchEvent(new Event('change')); })()");
    return chrome.eval("document.querySelectorAll('.rows .row:not([hidden])').length").asInt();
  }

  private static List<JsonNode> visibleKeys() {
    List<JsonNode> out = new ArrayList<>();
    chrome.eval("Array.from(document.querySelectorAll('.rows .row:not([hidden]) .keys')).map(k => k.textContent)")
        .forEach(out::add);
    return out;
  }

  private static void open(String key) {
    chrome.eval("(() => { const r = Array.from(document.querySelectorAll('.rows .row')).find(r =>"
        + " r.querySelector('.keys').textContent.includes('" + key + "')); r.click(); })()");
    chrome.waitFor("(document.getElementById('detail').dataset.instance || '').includes('" + key + "')",
        Duration.ofSeconds(5));
  }
}
