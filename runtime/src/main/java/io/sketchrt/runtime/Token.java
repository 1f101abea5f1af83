package io.sketchrt.runtime;

/**
 * One generated token.
 *
 * @param row the prompt it belongs to (0 for a single prompt)
 * @param id the token id
 * @param text the text this token made visible (may be empty while a UTF-8 character or a possible
 *     stop string is incomplete; a finished sequence's last token carries what was held)
 * @param stopReason null while the sequence goes on, else why it ended with this token
 * @param logprobs null unless {@link GenerationConfig#logprobs()} asked for them
 */
public record Token(int row, int id, String text, StopReason stopReason, TokenLogprobs logprobs) {
  public Token(int row, int id, String text, StopReason stopReason) {
    this(row, id, text, stopReason, null);
  }

  public boolean isLast() {
    return stopReason != null;
  }
}
