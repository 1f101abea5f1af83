package io.sketchrt.spark;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/** The output directory rule: one that exists is refused, and left as it is, unless overwritten. */
final class OutputDir {
  private OutputDir() {}

  /**
   * Throws when {@code output} exists and {@code overwrite} is off. Without a Hadoop configuration
   * (before Spark starts) only a local path is checked; with one, any file system Spark writes to.
   */
  static void refuseExisting(String output, boolean overwrite, Configuration hadoop)
      throws SparkJobException, IOException {
    if (overwrite) {
      return;
    }
    boolean exists;
    if (hadoop == null) {
      if (!isLocal(output)) {
        return;
      }
      exists = Files.exists(localPath(output));
    } else {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(output);
      exists = path.getFileSystem(hadoop).exists(path);
    }
    if (exists) {
      throw new SparkJobException(
          "--output " + output + " already exists (give --overwrite to replace it)");
    }
  }

  static boolean isLocal(String path) {
    String scheme = URI.create(path.replace(" ", "%20")).getScheme();
    return scheme == null || scheme.equals("file");
  }

  static Path localPath(String path) {
    return path.startsWith("file:") ? Path.of(URI.create(path)) : Path.of(path);
  }
}
