package io.flowtrace.cli.synth;

import static java.util.Objects.requireNonNull;

import io.flowtrace.cli.synth.FlowPlan.PlannedRecord;
import io.flowtrace.tracer.model.KafkaRecord;
import io.flowtrace.tracer.model.RecordHeader;
import io.opentelemetry.api.trace.SpanContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Generates realistic recordings of the reference order flow ({@code order-creation}): spans made
 * by the real OpenTelemetry SDK (resources, scopes, conventions and parent/link shapes of the
 * OpenTelemetry Java agent), exported in per-service batches as OTLP/JSON lines, and the Kafka
 * records of every topic dumped as {@code kcat -C -J} prints them. Any flow can carry a planted
 * {@link Defect}; {@link #write(Path)} returns, and writes as {@value Manifest#FILE_NAME}, the
 * verdict a correct verifier reaches for each flow.
 *
 * <p>Two field conditions can be turned on. {@link Builder#sampleRatio(double) Head sampling}: every
 * service instance's SDK samples with {@code parentbased_traceidratio}, as the Java agent does, so
 * unsampled traces have no spans while their records keep a {@code traceparent} with the sampled
 * bit clear, and a webhook's (or a consumer's) new trace samples on its own. {@link
 * Builder#clockSkew(String, Duration) Clock skew}: a service's hosts write span times and record
 * create times off by a fixed offset. Neither changes a flow's data (ids, payloads, true timings):
 * the same seed plans the same flows, and {@link Manifest} records which traces were sampled and
 * which clocks were off.
 *
 * <p>Output depends only on the builder's settings: the same seed gives byte-identical files.
 * Generation streams: memory holds only the flows still in flight (about 10 s of traffic), so
 * tens of thousands of flows are fine.
 *
 * <pre>{@code
 * Manifest manifest = SyntheticOrderFlows.builder()
 *     .seed(7).flows(500)
 *     .plant(Defect.WRONG_TOTAL, 12)
 *     .build()
 *     .write(Path.of("target/recording"));
 * }</pre>
 */
public final class SyntheticOrderFlows {

  /** The name of the declared flow the recordings follow. */
  public static final String FLOW_NAME = "order-creation";
  /** Defaults to seed 1. */
  public static final long DEFAULT_SEED = 1L;
  /** Defaults to 2026-11-25T09:00:00Z. */
  public static final Instant DEFAULT_START = Instant.parse("2026-11-25T09:00:00Z");
  /** Defaults to 100 flows. */
  public static final int DEFAULT_FLOWS = 100;
  /** Defaults to 3 partitions per topic. */
  public static final int DEFAULT_PARTITIONS = Topology.PARTITIONS;
  /** Defaults to one new order every 50 ms. */
  public static final Duration DEFAULT_INTER_ARRIVAL = Duration.ofMillis(50);
  /** Defaults to 20 % of correct flows having their payment declined. */
  public static final double DEFAULT_DECLINE_RATE = 0.2;
  /** Defaults to at most 64 spans per export line. */
  public static final int DEFAULT_MAX_SPANS_PER_LINE = 64;
  /** The flow deadline of the contract: a flow completes within 30 s of stage 1. */
  public static final Duration FLOW_DEADLINE = Duration.ofSeconds(30);
  /** Defaults to sampling every trace. */
  public static final double DEFAULT_SAMPLE_RATIO = 1.0;
  /** The largest clock skew, either way: 10 s, a third of the flow deadline. */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofSeconds(10);
  /** The services of the recordings, whose clocks {@link Builder#clockSkew} can set off. */
  public static final List<String> SERVICES = List.of(
      Topology.GATEWAY, Topology.ORDER_SERVICE, Topology.INVENTORY_SERVICE, Topology.NOTIFICATION_SERVICE);

  /** The seed of the bundled samples. */
  public static final long SAMPLE_SEED = 20261125L;
  /** The directory name of the bundled sample with planted defects, under {@code samples/}. */
  public static final String SAMPLE_DIR = "order-flow";
  /** The directory name of the bundled sample of correct flows, under {@code samples/}. */
  public static final String CLEAN_SAMPLE_DIR = "order-flow-clean";

  private final long seed;
  private final Instant start;
  private final int flows;
  private final Duration interArrival;
  private final double declineRate;
  private final int maxSpansPerLine;
  private final Map<Integer, Defect> defects;
  private final double sampleRatio;
  private final Map<String, Duration> clockSkews;
  private final Bursts bursts;

  /**
   * Every {@code every}, the last {@code length} of it runs at {@code factor} times the rate: the
   * flows there start {@code interArrival / factor} apart.
   */
  public record Bursts(Duration every, Duration length, int factor) {
    public Bursts {
      requireNonNull(every, "every");
      requireNonNull(length, "length");
      if (length.isNegative() || length.isZero() || length.compareTo(every) >= 0 || factor < 1) {
        throw new IllegalArgumentException("a burst lasts more than 0 and less than its period, at a factor of at"
            + " least 1: every " + every + ", length " + length + ", factor " + factor);
      }
    }
  }
  private final int partitions;
  private final Map<TopicPartition, Long> firstOffsets;

  private SyntheticOrderFlows(Builder builder) {
    this.seed = builder.seed;
    this.start = builder.start;
    this.flows = builder.flows;
    this.interArrival = builder.interArrival;
    this.declineRate = builder.declineRate;
    this.maxSpansPerLine = builder.maxSpansPerLine;
    this.defects = Collections.unmodifiableMap(new TreeMap<>(builder.defects));
    this.sampleRatio = builder.sampleRatio;
    this.clockSkews = Collections.unmodifiableMap(new TreeMap<>(builder.clockSkews));
    this.bursts = builder.bursts;
    this.partitions = builder.partitions;
    this.firstOffsets = builder.firstOffsets;
  }

  /** A builder with the defaults: correct flows only. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder of {@code flows} correct flows (authorized and declined payments), otherwise defaults. */
  public static Builder correct(int flows) {
    return builder().flows(flows);
  }

  /**
   * The bundled {@code samples/order-flow}: 40 flows a second apart, most of them correct
   * (declined payments and idempotent duplicate webhooks among them), every {@link Defect} once
   * (the idempotent duplicate twice), {@link Defect#TRUNCATED} last.
   */
  public static SyntheticOrderFlows sample() {
    return builder()
        .seed(SAMPLE_SEED)
        .flows(40)
        .interArrival(Duration.ofSeconds(1))
        .plant(Defect.DROP_ENRICHMENT, 1)
        .plant(Defect.NO_NOTIFICATION, 3)
        .plant(Defect.WRONG_TOTAL, 5)
        .plant(Defect.PAYMENT_AMOUNT_MISMATCH, 8)
        .plant(Defect.DECLINED_BUT_CONFIRMED, 11)
        .plant(Defect.DUPLICATE_WEBHOOK_NON_IDEMPOTENT, 14)
        .plant(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT, 17)
        .plant(Defect.LOST_TRACEPARENT, 20)
        .plant(Defect.SLOW_NOTIFICATION, 23)
        .plant(Defect.BAD_AVRO_EMAIL, 26)
        .plant(Defect.BAD_JSON_SCHEMA, 29)
        .plant(Defect.EARLY_ORDER_CREATED, 32)
        .plant(Defect.DUPLICATE_WEBHOOK_IDEMPOTENT, 35)
        .plant(Defect.TRUNCATED, 39)
        .build();
  }

  /** The bundled {@code samples/order-flow-clean}: 20 correct, complete flows 250 ms apart. */
  public static SyntheticOrderFlows cleanSample() {
    return builder()
        .seed(SAMPLE_SEED + 1)
        .flows(20)
        .interArrival(Duration.ofMillis(250))
        .build();
  }

  public long seed() {
    return seed;
  }

  public Instant start() {
    return start;
  }

  public int flows() {
    return flows;
  }

  public Duration interArrival() {
    return interArrival;
  }

  /** The head sampling ratio: the share of traces whose spans are exported. */
  public double sampleRatio() {
    return sampleRatio;
  }

  /** How far each skewed service's clocks are off, by service name. */
  public Map<String, Duration> clockSkews() {
    return clockSkews;
  }

  /** A builder holding this generator's settings and planted defects. */
  public Builder toBuilder() {
    Builder builder = builder()
        .seed(seed)
        .start(start)
        .flows(flows)
        .interArrival(interArrival)
        .declineRate(declineRate)
        .maxSpansPerLine(maxSpansPerLine)
        .sampleRatio(sampleRatio)
        .partitions(partitions);
    if (firstOffsets != null) {
      builder.firstOffsets(firstOffsets);
    }
    defects.forEach((index, defect) -> builder.plant(defect, index));
    clockSkews.forEach(builder::clockSkew);
    if (bursts != null) {
      builder.bursts(bursts.every(), bursts.length(), bursts.factor());
    }
    return builder;
  }

  /** The planted defects by flow index. */
  public Map<Integer, Defect> defects() {
    return defects;
  }

  /**
   * Writes the recording into {@code dir} (created if needed; files of the same names are
   * replaced): {@code gateway.otlp.jsonl}, {@code order-service.otlp.jsonl}, {@code
   * inventory-service.otlp.jsonl}, {@code notification-service.otlp.jsonl}, {@code
   * messages.kcat.jsonl} and {@value Manifest#FILE_NAME}.
   *
   * @return the manifest, also written to {@value Manifest#FILE_NAME}
   * @throws IllegalStateException when the generated timeline cannot give a planted defect its
   *     verdict (a {@link Defect#NO_NOTIFICATION} flow the recording does not outlast by 30 s, a
   *     {@link Defect#TRUNCATED} flow it does)
   */
  public Manifest write(Path dir) throws IOException {
    requireNonNull(dir, "dir");
    Topology topology = new Topology(seed);
    FlowPlanner planner = new FlowPlanner(topology, declineRate, partitions);
    OffsetSequencer sequencer = new OffsetSequencer(seed, partitions, firstOffsets);
    ClockSkews skews = new ClockSkews(clockSkews);
    Emitted emitted = new Emitted(flows);
    long spans;
    try (DirectoryRecordingSink sink = new DirectoryRecordingSink(dir);
        SpanRenderer renderer = new SpanRenderer(topology, seed, sink, maxSpansPerLine, sampleRatio, skews)) {
      RecordOrder order = new RecordOrder(sequencer, sink);
      ArrayDeque<FlowPlan> inFlight = new ArrayDeque<>();
      for (int i = 0; i < flows; i++) {
        SplittableRandom random = flowRandom(i);
        FlowPlan plan = planner.plan(i, startNanos(i, random), defects.get(i), random);
        sequencer.assignSentBefore(plan.startNanos);
        sequencer.add(plan);
        inFlight.add(plan);
        while (!inFlight.isEmpty() && inFlight.peek().unassignedRecords == 0) {
          emit(inFlight.poll(), renderer, order, skews, emitted);
        }
      }
      sequencer.assignAll();
      while (!inFlight.isEmpty()) {
        emit(inFlight.poll(), renderer, order, skews, emitted);
      }
      renderer.flush();
      spans = renderer.exported();
      if (order.waiting() != 0) {
        throw new IllegalStateException(order.waiting() + " records left with a gap in their partition's offsets");
      }
    }
    Manifest manifest = new Manifest(FLOW_NAME, seed, start, instant(emitted.recordingEnd), spans, emitted.records,
        emitted.entries, sampleRatio, clockSkews);
    checkTimeline(manifest);
    manifest.writeTo(dir.resolve(Manifest.FILE_NAME));
    return manifest;
  }

  /**
   * Regenerates the bundled samples: {@code samples/order-flow} and {@code
   * samples/order-flow-clean} under the directory given as the only argument (default {@code
   * samples}), each with its README.
   */
  public static void main(String[] args) throws IOException {
    Path samples = Path.of(args.length > 0 ? args[0] : "samples");
    List<Manifest> manifests = writeSamples(samples);
    System.out.println("wrote " + samples.resolve(SAMPLE_DIR) + ": " + manifests.get(0).summary());
    System.out.println("wrote " + samples.resolve(CLEAN_SAMPLE_DIR) + ": " + manifests.get(1).summary());
  }

  /**
   * Writes the bundled samples under {@code samplesDir}: {@value #SAMPLE_DIR} ({@link #sample()})
   * and {@value #CLEAN_SAMPLE_DIR} ({@link #cleanSample()}), each with its README.md listing what
   * was planted.
   *
   * @return the two manifests, in that order
   */
  public static List<Manifest> writeSamples(Path samplesDir) throws IOException {
    requireNonNull(samplesDir, "samplesDir");
    return List.of(
        writeSample(sample(), samplesDir.resolve(SAMPLE_DIR)),
        writeSample(cleanSample(), samplesDir.resolve(CLEAN_SAMPLE_DIR)));
  }

  private static Manifest writeSample(SyntheticOrderFlows generator, Path dir) throws IOException {
    Manifest manifest = generator.write(dir);
    Files.writeString(dir.resolve("README.md"), SampleReadme.render(generator, manifest, dir.getFileName().toString()),
        StandardCharsets.UTF_8);
    return manifest;
  }

  /** What the flows emitted so far add up to. */
  private static final class Emitted {
    final List<Manifest.Flow> entries;
    long recordingEnd = Long.MIN_VALUE;
    long records;

    Emitted(int flows) {
      entries = new ArrayList<>(flows);
    }
  }

  private void emit(FlowPlan plan, SpanRenderer renderer, RecordOrder order, ClockSkews skews, Emitted emitted)
      throws IOException {
    renderer.render(plan);
    for (PlannedRecord record : plan.records) {
      SpanContext producer = record.producer.context;
      String traceparent = "00-" + producer.getTraceId() + "-" + producer.getSpanId()
          + "-" + String.format("%02x", record.headerFlags());
      order.offer(new KafkaRecord(
          record.topic,
          record.partition,
          record.offset,
          record.timestampMillis(skews),
          record.key,
          List.of(RecordHeader.ofString(KafkaRecord.TRACEPARENT, traceparent)),
          record.value));
    }
    emitted.records += plan.records.size();
    emitted.recordingEnd = Math.max(emitted.recordingEnd, plan.recordedEndNanos(skews));
    Defect defect = plan.defect;
    emitted.entries.add(new Manifest.Flow(
        plan.index,
        plan.requestId,
        plan.orderId,
        defect,
        plan.payment,
        defect == null ? Manifest.Status.PASSED : defect.expectedStatus(),
        defect == null ? List.of() : defect.expected().stream().toList(),
        instant(plan.startNanos),
        plan.spans.get(0).context.getTraceId(),
        plan.sampledSpans(),
        plan.records.size(),
        sampleRatio == 1.0 ? null : plan.sampling()));
  }

  private void checkTimeline(Manifest manifest) {
    long deadline = FLOW_DEADLINE.toNanos();
    long end = nanos(manifest.recordingEnd());
    for (Manifest.Flow flow : manifest.flows()) {
      long start = nanos(flow.start());
      if (flow.defect() == Defect.NO_NOTIFICATION && end - start <= deadline) {
        throw new IllegalStateException("flow " + flow.index() + " (NO_NOTIFICATION) needs the recording to go on "
            + FLOW_DEADLINE.toSeconds() + " s past its start, but it ends " + Duration.ofNanos(end - start)
            + " after it: plant it earlier or generate more or sparser flows");
      }
      if (flow.defect() == Defect.TRUNCATED && end - start >= deadline) {
        throw new IllegalStateException("flow " + flow.index() + " (TRUNCATED) must be within "
            + FLOW_DEADLINE.toSeconds() + " s of the recording's end, but it ends " + Duration.ofNanos(end - start)
            + " after it");
      }
    }
  }

  private SplittableRandom flowRandom(int index) {
    return new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + index));
  }

  /** Flow {@code index} starts {@code index × interArrival} in, plus a jitter of under a quarter of it. */
  private long startNanos(int index, SplittableRandom random) {
    long q = interArrival.toNanos();
    long offset = index * q;
    long spacing = q;
    if (bursts != null && q > 0) {
      long period = bursts.every().toNanos();
      long quiet = period - bursts.length().toNanos();
      spacing = q / bursts.factor();
      long calm = quiet / q;
      long perPeriod = Math.max(1, calm + bursts.length().toNanos() / spacing);
      long r = index % perPeriod;
      offset = index / perPeriod * period + (r < calm ? r * q : quiet + (r - calm) * spacing);
    }
    long spread = spacing / 4;
    return nanos(start) + offset + (spread > 0 ? random.nextLong(spread) : 0);
  }

  private static long nanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static Instant instant(long epochNanos) {
    return Instant.ofEpochSecond(0, epochNanos);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Builds a {@link SyntheticOrderFlows}; every setter validates its argument. */
  public static final class Builder {
    private long seed = DEFAULT_SEED;
    private Instant start = DEFAULT_START;
    private int flows = DEFAULT_FLOWS;
    private Duration interArrival = DEFAULT_INTER_ARRIVAL;
    private double declineRate = DEFAULT_DECLINE_RATE;
    private int maxSpansPerLine = DEFAULT_MAX_SPANS_PER_LINE;
    private final Map<Integer, Defect> defects = new TreeMap<>();
    private double sampleRatio = DEFAULT_SAMPLE_RATIO;
    private final Map<String, Duration> clockSkews = new TreeMap<>();
    private Bursts bursts;
    private int partitions = DEFAULT_PARTITIONS;
    private Map<TopicPartition, Long> firstOffsets;

    private Builder() {}

    /**
     * Bursts: every {@code every}, the last {@code length} of it at {@code factor} times the rate
     * (see {@link Bursts}). Defaults to none: a steady rate.
     */
    public Builder bursts(Duration every, Duration length, int factor) {
      this.bursts = new Bursts(every, length, factor);
      return this;
    }

    /**
     * Partitions of every topic: a record goes to its key's partition as Kafka's default
     * partitioner picks it among this many. Defaults to {@value SyntheticOrderFlows#DEFAULT_PARTITIONS}.
     */
    public Builder partitions(int partitions) {
      if (partitions < 1 || partitions > 1000) {
        throw new IllegalArgumentException("partitions must be within [1, 1000]: " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /**
     * The offset of each topic-partition's first record, e.g. a running broker's end offsets, so the
     * recording continues what a topic holds; a partition not named starts at 0 (a new partition, a
     * re-created topic). Defaults to random offsets below 5000, as on topics with history.
     */
    public Builder firstOffsets(Map<TopicPartition, Long> firstOffsets) {
      requireNonNull(firstOffsets, "firstOffsets");
      firstOffsets.forEach((tp, offset) -> {
        requireNonNull(tp, "firstOffsets: topic partition");
        if (offset == null || offset < 0) {
          throw new IllegalArgumentException("firstOffsets: offset of " + tp + " must be >= 0, was " + offset);
        }
      });
      this.firstOffsets = Map.copyOf(firstOffsets);
      return this;
    }

    /** The seed all randomness derives from. Defaults to 1. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** When the first flow starts. Defaults to {@link #DEFAULT_START}. */
    public Builder start(Instant start) {
      this.start = requireNonNull(start, "start");
      return this;
    }

    /** How many flows (orders). Defaults to {@value SyntheticOrderFlows#DEFAULT_FLOWS}. */
    public Builder flows(int flows) {
      if (flows < 1) {
        throw new IllegalArgumentException("flows must be at least 1: " + flows);
      }
      this.flows = flows;
      return this;
    }

    /** The time between two orders' starts (plus jitter). Defaults to 50 ms. */
    public Builder interArrival(Duration interArrival) {
      requireNonNull(interArrival, "interArrival");
      if (interArrival.isNegative()) {
        throw new IllegalArgumentException("interArrival must not be negative: " + interArrival);
      }
      this.interArrival = interArrival;
      return this;
    }

    /** The share of correct flows whose payment is declined. Defaults to 0.2. */
    public Builder declineRate(double declineRate) {
      if (!(declineRate >= 0 && declineRate <= 1)) {
        throw new IllegalArgumentException("declineRate must be within [0, 1]: " + declineRate);
      }
      this.declineRate = declineRate;
      return this;
    }

    /** The most spans an export line (one service batch) holds. Defaults to 64. */
    public Builder maxSpansPerLine(int maxSpansPerLine) {
      if (maxSpansPerLine < 1 || maxSpansPerLine > 512) {
        throw new IllegalArgumentException("maxSpansPerLine must be within [1, 512]: " + maxSpansPerLine);
      }
      this.maxSpansPerLine = maxSpansPerLine;
      return this;
    }

    /**
     * Head sampling: the share of traces whose spans are exported, decided per trace as the Java
     * agent does with {@code OTEL_TRACES_SAMPLER=parentbased_traceidratio} and {@code
     * OTEL_TRACES_SAMPLER_ARG=ratio} (the SDK's {@code Sampler.parentBased(Sampler.traceIdRatioBased(ratio))}
     * in every service instance). A trace's root decides from its trace id and every other span
     * follows its parent, so a trace is exported whole or not at all; an unsampled producer still
     * puts a {@code traceparent} on its record, naming its span, with the sampled bit clear ({@code
     * 00}, or {@code 02} where the producer sets the random-trace-id bit). Each webhook delivery
     * and each trace a consumer starts samples on its own, so a flow can be partly sampled. The
     * flows' data and trace ids are the same at every ratio. Defaults to 1.0: every trace, the
     * output as without sampling.
     */
    public Builder sampleRatio(double ratio) {
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new IllegalArgumentException("sampleRatio must be within [0, 1]: " + ratio);
      }
      this.sampleRatio = ratio;
      return this;
    }

    /**
     * Sets {@code service}'s clock {@code offset} off true time, on all its instances: its spans'
     * start and end times and the create time ({@code ts}) of every record it produces read that
     * much later (or, negative, earlier). What happens when (the order of events, offsets, payloads)
     * does not change. One offset per service: setting it again replaces it, {@link Duration#ZERO}
     * removes it. Defaults to every clock right.
     *
     * @param service one of {@link SyntheticOrderFlows#SERVICES}
     * @param offset at most {@link SyntheticOrderFlows#MAX_CLOCK_SKEW} either way
     */
    public Builder clockSkew(String service, Duration offset) {
      requireNonNull(service, "service");
      requireNonNull(offset, "offset");
      if (!SERVICES.contains(service)) {
        throw new IllegalArgumentException("unknown service '" + service + "'; known: " + String.join(", ", SERVICES));
      }
      if (offset.abs().compareTo(MAX_CLOCK_SKEW) > 0) {
        throw new IllegalArgumentException("clock skew of " + service + " must be within " + MAX_CLOCK_SKEW.toSeconds()
            + " s either way: " + offset);
      }
      if (offset.isZero()) {
        clockSkews.remove(service);
      } else {
        clockSkews.put(service, offset);
      }
      return this;
    }

    /** Plants {@code defect} in the flow of that 0-based index (one defect per flow). */
    public Builder plant(Defect defect, int flowIndex) {
      requireNonNull(defect, "defect");
      if (flowIndex < 0) {
        throw new IllegalArgumentException("flowIndex must not be negative: " + flowIndex);
      }
      Defect previous = defects.putIfAbsent(flowIndex, defect);
      if (previous != null) {
        throw new IllegalArgumentException("flow " + flowIndex + " already has " + previous + ", cannot plant " + defect);
      }
      return this;
    }

    /** Removes every planted defect. */
    public Builder correct() {
      defects.clear();
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalStateException naming every problem: a defect planted past the last flow, a
     *     {@link Defect#TRUNCATED} flow that is not the last one, a {@link Defect#NO_NOTIFICATION}
     *     flow fewer than 31 s of arrivals before the last flow
     */
    public SyntheticOrderFlows build() {
      List<String> problems = new ArrayList<>();
      long arrivals = interArrival.toNanos();
      for (Map.Entry<Integer, Defect> entry : defects.entrySet()) {
        int index = entry.getKey();
        Defect defect = entry.getValue();
        if (index >= flows) {
          problems.add(defect + " planted in flow " + index + " of only " + flows);
          continue;
        }
        if (defect == Defect.TRUNCATED && index != flows - 1) {
          problems.add("TRUNCATED must be the last flow (" + (flows - 1) + "), not " + index);
        }
        long ahead = (flows - 1 - index) * arrivals - arrivals / 4;
        if (defect == Defect.NO_NOTIFICATION && ahead < FLOW_DEADLINE.toNanos() + 1_000_000_000L) {
          problems.add("NO_NOTIFICATION in flow " + index + " needs at least 31 s of arrivals after it, has "
              + Duration.ofNanos(Math.max(0, ahead)));
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("Cannot generate: " + String.join("; ", problems));
      }
      return new SyntheticOrderFlows(this);
    }
  }
}
