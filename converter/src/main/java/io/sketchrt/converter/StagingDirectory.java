package io.sketchrt.converter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A hidden temporary directory beside the output directory: everything is written there, then
 * renamed into place in one step. Closing it without {@link #commit()} (any failure, or Ctrl-C
 * through the shutdown hook) deletes it, so a failed conversion leaves nothing behind.
 */
final class StagingDirectory implements AutoCloseable {
  private final Path target;
  private final Path dir;
  private final Thread cleanupOnExit;
  private boolean committed;

  private StagingDirectory(Path target, Path dir) {
    this.target = target;
    this.dir = dir;
    this.cleanupOnExit = new Thread(this::deleteQuietly, "sketchrt-staging-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanupOnExit);
  }

  /** Checks that {@code target} does not exist and its parent does, then creates the staging dir. */
  static StagingDirectory beside(Path target) throws IOException {
    Path abs = target.toAbsolutePath().normalize();
    if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConvertException(target + ": output directory already exists");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new ConvertException(target + ": parent directory " + parent + " does not exist");
    }
    Path dir = Files.createTempDirectory(parent, "." + abs.getFileName() + ".tmp-");
    return new StagingDirectory(abs, dir);
  }

  Path path() {
    return dir;
  }

  /** Renames the staging directory to the target in one step. */
  void commit() throws IOException {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConvertException(target + ": output directory appeared while converting");
    }
    try {
      Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException e) {
      throw new ConvertException(target + ": output directory appeared while converting", e);
    }
    committed = true;
  }

  @Override
  public void close() {
    if (!committed) {
      deleteQuietly();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs (or ran) anyway
    }
  }

  private void deleteQuietly() {
    if (committed || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(StagingDirectory::delete);
    } catch (IOException | UncheckedIOException e) {
      System.err.println("sketchrt: warning: could not delete " + dir + ": " + e.getMessage());
    }
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
