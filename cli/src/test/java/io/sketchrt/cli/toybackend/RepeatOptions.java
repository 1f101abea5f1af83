package io.sketchrt.cli.toybackend;

import io.sketchrt.runtime.spi.BackendOptions;

/** The options of the {@code repeat} test backend: which token its model always predicts. */
public record RepeatOptions(int token) implements BackendOptions {
  public RepeatOptions {
    if (token < 0) {
      throw new IllegalArgumentException("repeat token must be >= 0, got " + token);
    }
  }

  public static RepeatOptions defaults() {
    return new RepeatOptions(0);
  }
}
