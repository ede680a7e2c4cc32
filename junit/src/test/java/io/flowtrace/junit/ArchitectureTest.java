package io.flowtrace.junit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JUnit extension keeps to the shape of an edge (the cli module checks the others the same
 * way): it uses the verifier's and tracer's public packages, never their {@code internal} ones,
 * and its own packages have no cycle.
 */
class ArchitectureTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importMainClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.flowtrace");
    assertThat(classes.contain(FlowTraceExtension.class)).isTrue();
  }

  @Test
  void usesNoOtherModulesInternalPackages() {
    noClasses().that().resideInAPackage("io.flowtrace.junit..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.flowtrace.verifier..internal..", "io.flowtrace.tracer..internal..",
            "io.flowtrace.kafka.testkit..internal..")
        .check(classes);
  }

  @Test
  void packagesFormLayersWithoutCycles() {
    slices().matching("io.flowtrace.(**)").should().beFreeOfCycles().check(classes);
  }
}
