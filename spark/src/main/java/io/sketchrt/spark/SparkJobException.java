package io.sketchrt.spark;

import io.sketchrt.format.SketchrtCheckedException;

/** A bad input, output or model of the Spark job: exit code 2 with one line. */
public final class SparkJobException extends SketchrtCheckedException {
  private static final long serialVersionUID = 1L;

  public SparkJobException(String message) {
    super(message);
  }
}
