package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output directory edge cases (issue 11): parent a file, killed conversions, umask. */
class StagingDirectoryTest {
  @TempDir Path tmp;

  @Test
  void aParentThatIsAFileIsNamed() throws Exception {
    Path file = Files.writeString(tmp.resolve("notes.txt"), "x");
    ConvertException e =
        assertThrows(ConvertException.class, () -> StagingDirectory.beside(file.resolve("out")));
    assertTrue(
        e.getMessage().contains("parent " + file + " is a file, not a directory"), e.getMessage());
  }

  @Test
  void stagingLeftByAKilledConversionIsRemovedOrReported() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    long deadPid = gone.pid();
    assumeTrue(ProcessHandle.of(deadPid).isEmpty(), "pid " + deadPid + " was reused already");
    Path stale = Files.createDirectories(tmp.resolve(".out.tmp-" + deadPid + "-abc"));
    Files.writeString(stale.resolve("model.onnx"), "partial");
    long alivePid = ProcessHandle.current().parent().orElseThrow().pid();
    Path running = Files.createDirectories(tmp.resolve(".out.tmp-" + alivePid + "-def"));
    Path old = Files.createDirectories(tmp.resolve(".out.tmp-1234567890abcdef"));
    Path other = Files.createDirectories(tmp.resolve(".other.tmp-" + deadPid + "-abc"));
    try (StagingDirectory s = StagingDirectory.beside(tmp.resolve("out"))) {
      assertFalse(Files.exists(stale), "a dead conversion's staging directory is removed");
      assertTrue(Files.exists(running), "a running conversion's staging directory is kept");
      assertTrue(Files.exists(old), "a name without a pid is only reported");
      assertTrue(Files.exists(other), "another output's staging directory is not touched");
      assertTrue(
          s.path()
              .getFileName()
              .toString()
              .startsWith(".out.tmp-" + ProcessHandle.current().pid() + "-"));
    }
  }

  @Test
  void theOutputDirectoryGetsTheUmaskPermissionsNot0700() throws Exception {
    assumeTrue(
        FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
        "no POSIX permissions here");
    Path plain = Files.createDirectory(tmp.resolve("plain-mkdir"));
    Path out = tmp.resolve("out");
    try (StagingDirectory s = StagingDirectory.beside(out)) {
      s.commit();
    }
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(out));
  }
}
