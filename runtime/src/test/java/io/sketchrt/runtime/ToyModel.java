package io.sketchrt.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The test model of src/test/resources/toy (written by python3 -m sketchrt_ref.fixtures.toy_model).
 */
final class ToyModel {
  private ToyModel() {}

  static Path dir() {
    try {
      return Path.of(ToyModel.class.getResource("/toy/sketchrt.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A writable copy of the toy model directory. */
  static Path copyTo(Path target) {
    try (Stream<Path> files = Files.list(dir())) {
      Files.createDirectories(target);
      for (Path f : files.toList()) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
