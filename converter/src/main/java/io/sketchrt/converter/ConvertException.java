package io.sketchrt.converter;

import io.sketchrt.format.SketchrtCheckedException;

/** A conversion that cannot go on; the message is one line naming the input and the problem. */
public final class ConvertException extends SketchrtCheckedException {
  public ConvertException(String message) {
    super(message);
  }

  public ConvertException(String message, Throwable cause) {
    super(message, cause);
  }
}
