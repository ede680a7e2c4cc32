package io.flowtrace.cli.synth;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * The deployment the synthetic recordings come from: which service instances run, what their
 * resources say, which OpenTelemetry conventions their agent emits, and which instance of a
 * consumer group owns which partition (the range assignor with two members gives partitions 0 and
 * 1 to the first and 2 to the second).
 */
final class Topology {

  static final String GATEWAY = "gateway";
  static final String ORDER_SERVICE = "order-service";
  static final String INVENTORY_SERVICE = "inventory-service";
  static final String NOTIFICATION_SERVICE = "notification-service";

  /** Partitions of every topic unless the generator is told otherwise. */
  static final int PARTITIONS = 3;

  static final String AGENT_VERSION = "2.33.1";
  static final String SDK_VERSION = "1.68.0";
  static final String SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0";

  /** Which messaging conventions an instance's agent emits. */
  enum Conventions {
    /** {@code OTEL_SEMCONV_STABILITY_OPT_IN=messaging}: {@code send <topic>}, {@code messaging.kafka.offset}. */
    STABLE,
    /** The agent's default: {@code <topic> publish}, {@code messaging.kafka.message.offset}. */
    OLD
  }

  /** One running process of a service. */
  record Instance(
      String service,
      int ordinal,
      Resource resource,
      Conventions conventions,
      boolean receiveTelemetry,
      String consumerGroup,
      String consumerClientId,
      String producerClientId) {

    String key() {
      return service + "#" + ordinal;
    }
  }

  private final List<Instance> gateways = new ArrayList<>();
  private final List<Instance> orderServices = new ArrayList<>();
  private final List<Instance> inventoryServices = new ArrayList<>();
  private final List<Instance> notificationServices = new ArrayList<>();

  Topology(long seed) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    gateways.add(instance(random, GATEWAY, 0, "1.8.2", Conventions.STABLE, false));
    gateways.add(instance(random, GATEWAY, 1, "1.8.2", Conventions.STABLE, false));
    orderServices.add(instance(random, ORDER_SERVICE, 0, "3.4.1", Conventions.STABLE, false));
    orderServices.add(instance(random, ORDER_SERVICE, 1, "3.4.1", Conventions.STABLE, false));
    inventoryServices.add(instance(random, INVENTORY_SERVICE, 0, "2.0.7", Conventions.STABLE, false));
    // notification-service runs the agent with its default (older) conventions; its second
    // instance has receive telemetry on, so its process spans start traces and link to producers.
    notificationServices.add(instance(random, NOTIFICATION_SERVICE, 0, "1.3.0", Conventions.OLD, false));
    notificationServices.add(instance(random, NOTIFICATION_SERVICE, 1, "1.3.0", Conventions.OLD, true));
  }

  List<Instance> all() {
    List<Instance> all = new ArrayList<>();
    all.addAll(gateways);
    all.addAll(orderServices);
    all.addAll(inventoryServices);
    all.addAll(notificationServices);
    return all;
  }

  /** The gateway instance the load balancer sends flow {@code index} to (round robin). */
  Instance gateway(int index) {
    return gateways.get(Math.floorMod(index, gateways.size()));
  }

  /** The order-service instance that consumes the given partition. */
  Instance orderServiceConsuming(int partition) {
    return orderServices.get(partition < 2 ? 0 : 1);
  }

  /** The order-service instance a webhook delivery lands on. */
  Instance orderServiceFor(SplittableRandom random) {
    return orderServices.get(random.nextInt(orderServices.size()));
  }

  Instance inventoryService() {
    return inventoryServices.get(0);
  }

  /** The notification-service instance that consumes the given partition. */
  Instance notificationServiceConsuming(int partition) {
    return notificationServices.get(partition < 2 ? 0 : 1);
  }

  private static Instance instance(
      SplittableRandom random,
      String service,
      int ordinal,
      String version,
      Conventions conventions,
      boolean receiveTelemetry) {
    String podHash = Long.toHexString(random.nextLong(0x1000000000L, 0xFFFFFFFFFFL)).substring(0, 9);
    String podSuffix = randomAlnum(random, 5);
    String hostName = service + "-" + podHash + "-" + podSuffix;
    UUID instanceId = new UUID(
        (random.nextLong() & ~0xF000L) | 0x4000L,
        (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L);
    AttributesBuilder attributes = Attributes.builder()
        .put("service.name", service)
        .put("service.version", version)
        .put("service.namespace", "shop")
        .put("service.instance.id", instanceId.toString())
        .put("deployment.environment.name", "staging")
        .put("host.name", hostName)
        .put("host.arch", "amd64")
        .put("os.type", "linux")
        .put("os.description", "Linux 6.1.0-27-amd64")
        .put("container.id", Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong()))
        .put("process.pid", random.nextLong(7, 400))
        .put("process.executable.path", "/opt/java/openjdk/bin/java")
        .put("process.runtime.name", "OpenJDK Runtime Environment")
        .put("process.runtime.version", "17.0.13+11")
        .put("process.runtime.description", "Eclipse Adoptium OpenJDK 64-Bit Server VM 17.0.13+11")
        .put("telemetry.sdk.name", "opentelemetry")
        .put("telemetry.sdk.language", "java")
        .put("telemetry.sdk.version", SDK_VERSION)
        .put("telemetry.distro.name", "opentelemetry-java-instrumentation")
        .put("telemetry.distro.version", AGENT_VERSION);
    String group = service;
    return new Instance(
        service,
        ordinal,
        Resource.create(attributes.build(), SCHEMA_URL),
        conventions,
        receiveTelemetry,
        group,
        "consumer-" + group + "-1",
        "producer-1");
  }

  private static String randomAlnum(SplittableRandom random, int length) {
    String alphabet = "bcdfghjklmnpqrstvwxz2456789";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
