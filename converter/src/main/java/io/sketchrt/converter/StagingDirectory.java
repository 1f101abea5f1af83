package io.sketchrt.converter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A hidden temporary directory beside the output directory: everything is written there, then
 * renamed into place in one step. Closing it without {@link #commit()} (any failure, or Ctrl-C
 * through the shutdown hook) deletes it, so a failed conversion leaves nothing behind.
 *
 * <p>A conversion killed outright (SIGKILL, power loss) runs no hook: its staging directory is
 * named {@code .<out>.tmp-<pid>-<random>}, so the next conversion into the same place removes those
 * whose process is gone and reports those it cannot tell about. The directory is made with a plain
 * mkdir, so it gets the permissions the user's umask gives (not 0700).
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

  /**
   * Checks that {@code target} does not exist and its parent does, then creates the staging dir.
   */
  static StagingDirectory beside(Path target) throws IOException, ConvertException {
    Path abs = target.toAbsolutePath().normalize();
    if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConvertException(target + ": output directory already exists");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.exists(parent)) {
      throw new ConvertException(target + ": parent directory " + parent + " does not exist");
    }
    if (!Files.isDirectory(parent)) {
      throw new ConvertException(target + ": parent " + parent + " is a file, not a directory");
    }
    String prefix = "." + abs.getFileName() + ".tmp-";
    removeStale(parent, prefix);
    long pid = ProcessHandle.current().pid();
    for (int attempt = 0; ; attempt++) {
      Path dir = parent.resolve(prefix + pid + "-" + Long.toHexString(RANDOM.nextLong() >>> 16));
      try {
        return new StagingDirectory(abs, Files.createDirectory(dir)); // umask applies
      } catch (FileAlreadyExistsException e) {
        if (attempt > 100) {
          throw e;
        }
      }
    }
  }

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /**
   * Staging directories of earlier conversions into the same place whose process no longer runs:
   * removed. Those of a running process are left alone; those whose name carries no pid (older
   * versions) are reported.
   */
  private static void removeStale(Path parent, String prefix) {
    List<Path> leftovers;
    try (Stream<Path> siblings = Files.list(parent)) {
      leftovers = siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
    } catch (IOException | UncheckedIOException e) {
      return; // unreadable parent: the mkdir below reports the real problem
    }
    for (Path p : leftovers) {
      String rest = p.getFileName().toString().substring(prefix.length());
      int dash = rest.indexOf('-');
      Long pid = null;
      try {
        pid = dash > 0 ? Long.parseLong(rest.substring(0, dash)) : null;
      } catch (NumberFormatException e) {
        // an older name without a pid
      }
      if (pid == null) {
        System.err.println(
            "sketchrt: warning: "
                + p
                + " looks like the staging directory of an interrupted"
                + " conversion; remove it if no conversion is running");
      } else if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
        System.err.println(
            "sketchrt: removing " + p + ", left by a conversion (pid " + pid + ") that was killed");
        deleteTree(p);
      }
    }
  }

  Path path() {
    return dir;
  }

  /** Renames the staging directory to the target in one step. */
  void commit() throws IOException, ConvertException {
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
    if (committed) {
      return;
    }
    deleteTree(dir);
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
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
