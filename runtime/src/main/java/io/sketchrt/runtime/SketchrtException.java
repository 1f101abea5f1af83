package io.sketchrt.runtime;

/**
 * A backend or model-directory failure: the model cannot be loaded or run. The message is one line
 * naming the problem; misuse of the API throws {@link IllegalStateException} or
 * {@link IllegalArgumentException} instead.
 */
public final class SketchrtException extends Exception {
  private static final long serialVersionUID = 1L;

  public SketchrtException(String message) {
    super(message);
  }

  public SketchrtException(String message, Throwable cause) {
    super(message, cause);
  }
}
