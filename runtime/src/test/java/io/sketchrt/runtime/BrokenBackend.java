package io.sketchrt.runtime;

import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.DecoderSession;
import java.nio.file.Path;
import java.util.Set;

/**
 * A provider that fails the way a backend with a broken native library does: in its constructor.
 */
public final class BrokenBackend implements Backend {
  public BrokenBackend() {
    throw new UnsatisfiedLinkError("libfake.so: its native library is broken");
  }

  @Override
  public String name() {
    return "broken";
  }

  @Override
  public Set<Target> targets() {
    return Set.of(Target.PORTABLE);
  }

  @Override
  public String description() {
    return "never created";
  }

  @Override
  public void checkAvailable() {}

  @Override
  public DecoderSession open(ModelCard card, Path modelDir, LoadOptions options) {
    throw new AssertionError("never created");
  }
}
