package io.sketchrt.runtime;

import java.util.Objects;

/**
 * One turn of a conversation for {@link Tokenizer#applyChatTemplate}: role is "system", "user" or
 * "assistant".
 */
public record ChatMessage(String role, String content) {
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }
}
