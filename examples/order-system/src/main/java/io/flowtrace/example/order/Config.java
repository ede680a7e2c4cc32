package io.flowtrace.example.order;

/** Settings from a system property, else an environment variable, else a default. */
final class Config {

  private Config() {}

  static String get(String property, String env, String defaultValue) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? defaultValue : v.trim();
  }

  static int port(String property, String env, int defaultValue) {
    String v = get(property, env, Integer.toString(defaultValue));
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(property + "/" + env + ": expected a port number, got '" + v + "'", e);
    }
  }

  /** Kafka bootstrap servers: {@code bootstrap.servers} / {@code BOOTSTRAP_SERVERS}, default 127.0.0.1:9092. */
  static String bootstrapServers() {
    return get("bootstrap.servers", "BOOTSTRAP_SERVERS", "127.0.0.1:9092");
  }
}
