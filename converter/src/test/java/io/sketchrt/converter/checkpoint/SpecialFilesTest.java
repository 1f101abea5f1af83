package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.Expected.assertFails;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sketchrt.converter.arch.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A FIFO or device given as an input is refused at once, not read forever (issue 11). */
class SpecialFilesTest {
  @TempDir Path tmp;

  private Path fifo(String name) throws IOException, InterruptedException {
    Path p = tmp.resolve(name);
    Process mk;
    try {
      mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    } catch (IOException e) {
      assumeTrue(false, "mkfifo is not available here: " + e.getMessage());
      throw e;
    }
    assumeTrue(mk.waitFor() == 0 && Files.exists(p), "mkfifo failed");
    return p;
  }

  @Test
  void fifosAreRefusedAtOnce() throws Exception {
    Path pkl = fifo("sketch.pkl");
    Path config = fifo("config.json");
    Path st = fifo("model.safetensors");
    Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          assertFails(
              () -> SketchPickles.readBase(pkl),
              pkl + ": is not a regular file (a FIFO, device or socket)");
          assertFails(() -> SketchPickles.readTuned(pkl), "is not a regular file");
          assertFails(() -> ModelConfig.read(config), config + ": is not a regular file");
          assertFails(
              () -> SafetensorsFile.open(st, java.lang.foreign.Arena.ofAuto()),
              st + ": is not a regular file");
        });
  }

  @Test
  void devicesAreRefusedAtOnce() {
    Path zero = Path.of("/dev/zero");
    assumeTrue(Files.exists(zero), "no /dev/zero here");
    assertFails(() -> SketchPickles.readBase(zero), "/dev/zero: is not a regular file");
  }
}
