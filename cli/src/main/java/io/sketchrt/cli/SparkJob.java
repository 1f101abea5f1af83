package io.sketchrt.cli;

import java.io.PrintWriter;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The Spark batch-generation job behind {@code sketchrt spark}. It lives in the {@code spark}
 * module, which brings Apache Spark; the {@code sketchrt} jar itself does not, so the command finds
 * the job through {@link ServiceLoader} when the launcher has put that module on the class path.
 */
public interface SparkJob {

  /** What {@code sketchrt spark} says when the job is not on the class path. */
  String MISSING =
      "sketchrt spark needs the spark module on the class path: run it through the ./sketchrt"
          + " launcher (it builds spark/ and adds Spark), or spark-submit"
          + " spark/target/sketchrt-spark-submit.jar";

  /** The parsed command line of {@code sketchrt spark} (and of {@code BatchGenerate}). */
  record Spec(
      String master,
      String model,
      String input,
      String output,
      String outputFormat,
      int partitions,
      boolean overwrite,
      int maxNewTokens) {}

  /** Runs the job; returns the exit code. Progress and the summary go to {@code out}. */
  int run(Spec spec, PrintWriter out) throws Exception;

  /** The job on the class path, if any. */
  static Optional<SparkJob> find() {
    return ServiceLoader.load(SparkJob.class).findFirst();
  }
}
