package io.sketchrt.spark;

import io.sketchrt.cli.Main;

/**
 * The job's entry point for {@code spark-submit --class io.sketchrt.spark.BatchGenerate}: the
 * flags, messages and exit codes of {@code sketchrt spark} (which it runs), with the master taken
 * from spark-submit.
 */
public final class BatchGenerate {
  private BatchGenerate() {}

  public static void main(String[] args) {
    String[] withCommand = new String[args.length + 1];
    withCommand[0] = "spark";
    System.arraycopy(args, 0, withCommand, 1, args.length);
    Main.main(withCommand);
  }
}
