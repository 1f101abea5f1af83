package io.sketchrt.runtime;

/** Why a sequence ended. */
public enum StopReason {
  /** An end-of-sequence token was generated. */
  EOS,
  /** The text reached one of the stop strings. */
  STOP_STRING,
  /** maxNewTokens were generated. */
  MAX_NEW_TOKENS,
  /** Prompt plus generated tokens reached the context limit. */
  CONTEXT_LIMIT,
  /** {@link Generator#cancel()}, {@link Generator#close()} or {@link Model#close()} stopped it. */
  CANCELLED
}
