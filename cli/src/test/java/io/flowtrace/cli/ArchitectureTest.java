package io.flowtrace.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shape the modules keep (the README's "Architecture"): edges depend on the verifier, the
 * verifier on the tracer, never back; no module reaches into another's {@code internal} package;
 * and inside every module the packages form layers, with no package cycle. Checked on the main
 * classes of every module this one sees (all but {@code junit}, which checks itself the same way).
 */
class ArchitectureTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.flowtrace");
  }

  @Test
  void importsEveryModuleThisOneDependsOn() {
    Stream.of("io.flowtrace.tracer.model.Span", "io.flowtrace.verifier.assembly.FlowEngine",
            "io.flowtrace.sidecar.Sidecar", "io.flowtrace.cli.FlowTraceCli",
            "io.flowtrace.kafka.testkit.KafkaBroker")
        .forEach(name -> assertThat(classes.contain(name)).as(name).isTrue());
  }

  @Test
  void edgesDependOnTheVerifierAndTheVerifierOnTheTracerNeverBack() {
    layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("tracer").definedBy("io.flowtrace.tracer..")
        .layer("verifier").definedBy("io.flowtrace.verifier..")
        .layer("sidecar").definedBy("io.flowtrace.sidecar..")
        .layer("cli").definedBy("io.flowtrace.cli..")
        .whereLayer("cli").mayNotBeAccessedByAnyLayer()
        .whereLayer("sidecar").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("verifier").mayOnlyBeAccessedByLayers("sidecar", "cli")
        .check(classes);
  }

  static Stream<String> modules() {
    return Stream.of("tracer", "verifier", "sidecar", "cli", "kafka.testkit");
  }

  @ParameterizedTest
  @MethodSource("modules")
  void noOtherModuleReachesIntoAModulesInternalPackages(String module) {
    String root = "io.flowtrace." + module + "..";
    ArchRule rule = noClasses().that().resideOutsideOfPackage(root)
        .should().dependOnClassesThat().resideInAPackage("io.flowtrace." + module + "..internal..")
        .allowEmptyShould(true);
    rule.check(classes);
  }

  @Test
  void packagesFormLayersWithoutCycles() {
    slices().matching("io.flowtrace.(**)").should().beFreeOfCycles().check(classes);
  }
}
