package io.flowtrace.tracer.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user-named file: permissions as any tool's, whole or not at all, failures that say the path and why. */
class OutputFileTest {

  @TempDir Path dir;

  @Test
  void theFileGetsThePermissionsTheUmaskGivesNotTheOwnerOnlyOnesOfATemporaryFile() throws IOException {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system");
    Path reference = dir.resolve("written-by-any-tool");
    Files.newOutputStream(reference).close();
    assumeTrue(Files.getPosixFilePermissions(reference).equals(PosixFilePermissions.fromString("rw-r--r--")),
        "umask 022");

    Path report = dir.resolve("reports/flowtrace.xml");
    try (OutputFile file = OutputFile.create(report)) {
      file.stream().write("<testsuite/>".getBytes(StandardCharsets.UTF_8));
      file.commit();
    }

    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(report);
    assertThat(PosixFilePermissions.toString(mode)).isEqualTo("rw-r--r--");
    assertThat(Files.readString(report)).isEqualTo("<testsuite/>");
    assertThat(names(report.getParent())).containsExactly("flowtrace.xml");
  }

  @Test
  void theFileAppearsWholeOnCommitAndARunThatFailsLeavesTheEarlierOneAsItWas() throws IOException {
    Path report = dir.resolve("report.txt");
    Files.writeString(report, "earlier run");

    try (OutputFile file = OutputFile.create(report)) {
      OutputStream out = file.stream();
      out.write("half a rep".getBytes(StandardCharsets.UTF_8));
      out.close(); // a writer closing its stream does not end the file
      assertThat(Files.readString(report)).isEqualTo("earlier run");
    } // closed without commit: the run failed
    assertThat(Files.readString(report)).isEqualTo("earlier run");
    assertThat(names(dir)).containsExactly("report.txt");

    try (OutputFile file = OutputFile.create(report)) {
      file.stream().write("this run".getBytes(StandardCharsets.UTF_8));
      file.commit();
    }
    assertThat(Files.readString(report)).isEqualTo("this run");
  }

  @Test
  void aSymbolicLinkIsWrittenThroughAndStays() throws IOException {
    Path real = Files.writeString(dir.resolve("real.xml"), "old");
    Path link = Files.createSymbolicLink(dir.resolve("link.xml"), real);

    try (OutputFile file = OutputFile.create(link)) {
      file.stream().write("new".getBytes(StandardCharsets.UTF_8));
      file.commit();
    }

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).isEqualTo("new");
  }

  @Test
  void aDirectoryAtThePathIsSaidAsSuch() throws IOException {
    Path taken = Files.createDirectory(dir.resolve("flowtrace.xml"));

    assertThatThrownBy(() -> OutputFile.create(taken))
        .isInstanceOf(CannotWriteException.class)
        .hasMessage("cannot write " + taken + ": " + taken + " is a directory");
  }

  @Test
  void aFileWhereADirectoryOfThePathShouldBeIsNamed() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.txt"), "x");
    Path report = file.resolve("flowtrace.xml");

    assertThatThrownBy(() -> OutputFile.create(report))
        .isInstanceOf(CannotWriteException.class)
        .hasMessage("cannot write " + report + ": " + file + " is not a directory (FileAlreadyExistsException)")
        .satisfies(e -> assertThat(((CannotWriteException) e).path()).isEqualTo(report));
    assertThatThrownBy(() -> OutputFile.writableDirectory(file))
        .hasMessage("cannot write " + file + ": " + file + " is not a directory (FileAlreadyExistsException)");
  }

  @Test
  void aDirectoryNoFileCanBeCreatedInIsNamedAsNotWritable() {
    Path proc = Path.of("/proc");
    assumeTrue(Files.isDirectory(proc.resolve("self")), "Linux /proc");
    Path report = proc.resolve("x.xml");

    // root is told ENOENT there, anyone else EACCES
    assertThatThrownBy(() -> OutputFile.create(report))
        .isInstanceOf(CannotWriteException.class)
        .message().matches("cannot write /proc/x\\.xml: /proc is not writable \\((AccessDenied|NoSuchFile)Exception\\)");
    assertThatThrownBy(() -> OutputFile.writableDirectory(proc))
        .message().matches("cannot write /proc: /proc is not writable \\((AccessDenied|NoSuchFile)Exception\\)");
  }

  @Test
  void whatTheFileSystemSaidIsKeptWithTheFailingFile() {
    assertThat(CannotWriteException.of(Path.of("r.xml"), new IOException("No space left on device")).getMessage())
        .isEqualTo("cannot write r.xml: No space left on device (IOException)");
    assertThat(CannotWriteException.of(Path.of("r.xml"),
        new java.nio.file.FileSystemException("/data/r.xml", null, "Read-only file system")).reason())
        .isEqualTo("/data/r.xml: Read-only file system (FileSystemException)");
  }

  private static java.util.List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
