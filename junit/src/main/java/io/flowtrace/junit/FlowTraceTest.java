package io.flowtrace.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test class with a {@link FlowTraceExtension}: flows are verified while the tests drive
 * the system, and {@link FlowTraceAssertions#assertThatFlow} works in every test. A test or
 * lifecycle method may take a {@code FlowTraceExtension} parameter (for {@code otlpEndpoint()},
 * {@code spanExporter()}, {@code attachKafka(...)}).
 *
 * <pre>{@code
 * @FlowTraceTest(flows = "classpath:flows", bootstrapServers = "${kafka.bootstrap.servers}")
 * class OrderFlowTest { ... }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(FlowTraceExtension.class)
public @interface FlowTraceTest {

  /** Where the flow specs are: {@code classpath:DIR} or a filesystem directory. Defaults to {@code classpath:flows}. */
  String flows() default FlowTraceExtension.DEFAULT_FLOWS;

  /**
   * The Kafka cluster to tap: {@code host:port}, or {@code ${name}} for a system property (else an
   * environment variable) read before each test until it is set. Defaults to none.
   */
  String bootstrapServers() default "";

  /** The OTLP/HTTP receiver's port on 127.0.0.1. Defaults to 0: a free port. */
  int otlpPort() default 0;

  /** How long assertions wait for a verdict, e.g. {@code 10s}. Defaults to {@code 30s}. */
  String timeout() default "30s";

  /**
   * Whether a test that passed fails when a flow that started in it failed and no assertion looked
   * at that flow's verdict; see {@link FlowTraceExtension.Builder#failOnAnyFailedFlow(boolean)}.
   * Defaults to false.
   */
  boolean failOnAnyFailedFlow() default false;
}
