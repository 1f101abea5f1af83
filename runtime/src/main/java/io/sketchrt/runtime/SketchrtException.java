package io.sketchrt.runtime;

import io.sketchrt.format.SketchrtCheckedException;

/**
 * A backend or model-directory failure: the model cannot be loaded or run. The message is one line
 * naming the problem; misuse of the API throws {@link IllegalStateException} or {@link
 * IllegalArgumentException} instead.
 */
public final class SketchrtException extends SketchrtCheckedException {
  private static final long serialVersionUID = 1L;

  public SketchrtException(String message) {
    super(message);
  }

  public SketchrtException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The first line of {@code cause}'s message (its class name when it has none), for quoting a
   * library's multi-line error inside a one-line message.
   */
  public static String firstLine(Throwable cause) {
    String m = cause.getMessage();
    return m == null ? cause.getClass().getSimpleName() : m.lines().findFirst().orElse("").strip();
  }
}
