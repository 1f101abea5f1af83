package io.sketchrt.format;

/**
 * The root of every checked exception sketchrt throws ({@link FormatException}, the converter's
 * {@code ConvertException} and {@code CheckpointException}, the runtime's {@code
 * SketchrtException}): a failure caused by the user's input or environment, never a bug. Its
 * message is one line naming the input and the problem, so a caller can print it as is, and
 * catching this one type covers them all.
 */
public abstract class SketchrtCheckedException extends Exception {
  private static final long serialVersionUID = 1L;

  protected SketchrtCheckedException(String message) {
    super(message);
  }

  protected SketchrtCheckedException(String message, Throwable cause) {
    super(message, cause);
  }
}
