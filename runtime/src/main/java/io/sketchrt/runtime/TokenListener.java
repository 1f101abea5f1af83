package io.sketchrt.runtime;

/** Receives tokens as they are generated (streaming), on the generating thread. */
@FunctionalInterface
public interface TokenListener {
  void onToken(Token token);
}
