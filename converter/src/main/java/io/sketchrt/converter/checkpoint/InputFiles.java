package io.sketchrt.converter.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Checks an input path before it is opened: opening a FIFO blocks until a writer appears. */
public final class InputFiles {
  private InputFiles() {}

  /**
   * Refuses, at once, a path that is missing, a directory, or a FIFO, device or socket (symbolic
   * links are followed).
   */
  public static void requireRegularFile(Path file) throws CheckpointException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file + ": file not found");
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (a.isDirectory()) {
      throw new CheckpointException(file + ": is a directory, expected a file");
    }
    if (!a.isRegularFile()) {
      throw new CheckpointException(
          file + ": is not a regular file (a FIFO, device or socket); refusing to read it");
    }
  }
}
