package io.sketchrt.runtime;

import java.util.Objects;

/**
 * One generation for the {@link Engine}: prompt ids, settings, the tuned set (null: the model's
 * default) and a listener that receives each token on the engine's thread as it is made.
 */
public record Request(
    long[] prompt, GenerationConfig config, String tunedSet, TokenListener listener) {
  public Request {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(config, "config");
    prompt = prompt.clone();
  }

  public Request(long[] prompt, GenerationConfig config) {
    this(prompt, config, config.tunedSet(), null);
  }
}
