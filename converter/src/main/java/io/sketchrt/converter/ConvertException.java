package io.sketchrt.converter;

import java.io.IOException;

/** A conversion that cannot go on; the message is one line naming the input and the problem. */
public final class ConvertException extends IOException {
  public ConvertException(String message) {
    super(message);
  }

  public ConvertException(String message, Throwable cause) {
    super(message, cause);
  }
}
