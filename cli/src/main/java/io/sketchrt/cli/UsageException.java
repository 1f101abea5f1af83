package io.sketchrt.cli;

import io.sketchrt.format.SketchrtCheckedException;

/** A bad flag value or combination, found after parsing: exit code 2 with one line. */
public final class UsageException extends SketchrtCheckedException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
