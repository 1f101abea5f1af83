package io.sketchrt.cli;

import io.sketchrt.runtime.LoadOptions;

/**
 * The command-line flags of one backend (or family of backends): a picocli mixin, found with {@link
 * java.util.ServiceLoader} through one line in {@code
 * META-INF/services/io.sketchrt.cli.BackendFlags}. Every command that loads a model gets its own
 * instance, created with the public no-argument constructor.
 */
public interface BackendFlags {

  /**
   * {@code options} with this backend's options set from the parsed flags. Called once per command,
   * after parsing, for whichever backend {@code options.backend()} names; flags of another backend
   * leave the options as they are, or set options that backend ignores.
   */
  LoadOptions applyTo(LoadOptions options);
}
