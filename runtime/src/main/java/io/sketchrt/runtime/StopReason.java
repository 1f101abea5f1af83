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
  CANCELLED;

  /**
   * OpenAI's {@code finish_reason}, the one mapping for serve, {@code generate --input} and Spark:
   * "stop" (EOS or a stop string), "length" (max new tokens or the context), and vLLM's "abort" for
   * a cancelled request.
   */
  public String finishReason() {
    return switch (this) {
      case EOS, STOP_STRING -> "stop";
      case MAX_NEW_TOKENS, CONTEXT_LIMIT -> "length";
      case CANCELLED -> "abort";
    };
  }
}
