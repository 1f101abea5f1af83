package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.GenerationResult;
import java.util.List;
import java.util.UUID;

/**
 * The OpenAI response bodies of one request, whole or as stream chunks: {@code text_completion} and
 * {@code chat.completion}(.chunk), with the request's id, creation time and model.
 */
final class Responses {
  private final boolean chat;
  private final String id;
  private final long created = System.currentTimeMillis() / 1000;
  private final String model;

  Responses(boolean chat, String model) {
    this.chat = chat;
    this.model = model;
    this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
  }

  private ObjectNode head(String object) {
    ObjectNode o = Json.object();
    o.put("id", id);
    o.put("object", object);
    o.put("created", created);
    o.put("model", model);
    return o;
  }

  /** The whole response: every choice's text and finish reason, and the usage. */
  ObjectNode whole(List<GenerationResult> results, int promptTokens) {
    ObjectNode o = head(chat ? "chat.completion" : "text_completion");
    ArrayNode choices = o.putArray("choices");
    int generated = 0;
    for (int i = 0; i < results.size(); i++) {
      GenerationResult r = results.get(i);
      ObjectNode c = choices.addObject();
      c.put("index", i);
      if (chat) {
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", r.text());
      } else {
        c.put("text", r.text());
      }
      c.putNull("logprobs");
      c.put("finish_reason", FinishReason.of(r.stopReason()));
      generated += r.tokens().length;
    }
    o.set("usage", usage(promptTokens, generated));
    return o;
  }

  /**
   * A stream chunk of choice {@code index}: its new text, the finish reason with the last. A chat's
   * first chunk per choice ({@code role} non-null) names the assistant's role.
   */
  ObjectNode chunk(int index, String role, String text, String finishReason, boolean withUsage) {
    ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
    ObjectNode c = o.putArray("choices").addObject();
    c.put("index", index);
    if (chat) {
      ObjectNode delta = c.putObject("delta");
      if (role != null) {
        delta.put("role", role);
      }
      if (text != null) {
        delta.put("content", text);
      }
    } else {
      c.put("text", text == null ? "" : text);
    }
    c.putNull("logprobs");
    c.put("finish_reason", finishReason);
    if (withUsage) {
      o.putNull("usage");
    }
    return o;
  }

  /** The last chunk when {@code stream_options.include_usage}: no choices, the usage. */
  ObjectNode usageChunk(int promptTokens, int generated) {
    ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
    o.putArray("choices");
    o.set("usage", usage(promptTokens, generated));
    return o;
  }

  private static ObjectNode usage(int prompt, int generated) {
    ObjectNode u = Json.object();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", generated);
    u.put("total_tokens", prompt + generated);
    return u;
  }
}
