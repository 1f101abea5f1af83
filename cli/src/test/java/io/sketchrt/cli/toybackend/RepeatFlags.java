package io.sketchrt.cli.toybackend;

import io.sketchrt.cli.BackendFlags;
import io.sketchrt.runtime.LoadOptions;
import picocli.CommandLine.Option;

/** The {@code repeat} test backend's one flag. */
public final class RepeatFlags implements BackendFlags {
  @Option(
      names = "--repeat-token",
      paramLabel = "ID",
      defaultValue = "0",
      description = "repeat: the token the test backend always predicts.")
  int token;

  @Override
  public LoadOptions applyTo(LoadOptions options) {
    return options.with(new RepeatOptions(token));
  }
}
