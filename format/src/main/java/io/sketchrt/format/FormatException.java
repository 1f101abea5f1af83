package io.sketchrt.format;

/**
 * A converted-model directory that breaks the contract; the message is one line naming file and
 * field.
 */
public final class FormatException extends SketchrtCheckedException {
  public FormatException(String message) {
    super(message);
  }

  public FormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
