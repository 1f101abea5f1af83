package io.sketchrt.serve;

import io.sketchrt.runtime.StopReason;

/** The OpenAI {@code finish_reason} of an engine stop: the one mapping, for bodies and metrics. */
final class FinishReason {
  private FinishReason() {}

  static String of(StopReason reason) {
    return switch (reason) {
      case EOS, STOP_STRING -> "stop";
      case MAX_NEW_TOKENS, CONTEXT_LIMIT -> "length";
      case CANCELLED -> "abort";
    };
  }
}
