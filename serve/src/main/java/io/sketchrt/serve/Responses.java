package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Token;
import io.sketchrt.runtime.TokenLogprobs;
import java.nio.charset.StandardCharsets;
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
  private final TokenText tokenText;
  private final long[] previous; // per choice: the token before the next one rendered
  private final int[] textOffsets; // per choice: where the next token's text starts

  /** The texts tokens would add after the one before them (-1: none). */
  @FunctionalInterface
  interface TokenText {
    String[] of(long previous, long[] ids);
  }

  /**
   * {@code tokenText} spells tokens for logprobs; {@code lastPromptIds}: each choice's last prompt
   * token (-1: none), which its first generated token follows.
   */
  Responses(boolean chat, String model, TokenText tokenText, long[] lastPromptIds) {
    this.chat = chat;
    this.model = model;
    this.tokenText = tokenText;
    this.previous = lastPromptIds.clone();
    this.textOffsets = new int[lastPromptIds.length];
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

  /**
   * The whole response: every choice's text and finish reason, and the usage; with {@code tokens}
   * (per choice, null: none), their logprobs.
   */
  ObjectNode whole(List<GenerationResult> results, List<List<Token>> tokens, int promptTokens) {
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
      if (tokens == null) {
        c.putNull("logprobs");
      } else {
        c.set("logprobs", logprobs(i, tokens.get(i)));
      }
      c.put("finish_reason", r.stopReason().finishReason());
      generated += r.tokens().length;
    }
    o.set("usage", usage(promptTokens, generated));
    return o;
  }

  /** A chat stream's first chunk of choice {@code index}: the assistant's role, no text. */
  ObjectNode roleChunk(int index, boolean withUsage) {
    return chunk(index, "assistant", null, "", null, withUsage);
  }

  /**
   * A stream chunk of choice {@code index}: token {@code token}'s new text (and its logprobs when
   * it has them), the finish reason with the last.
   */
  ObjectNode chunk(int index, Token token, String text, String finishReason, boolean withUsage) {
    return chunk(index, null, token, text, finishReason, withUsage);
  }

  private ObjectNode chunk(
      int index, String role, Token token, String text, String finishReason, boolean withUsage) {
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
    if (token == null || token.logprobs() == null) {
      c.putNull("logprobs");
    } else {
      c.set("logprobs", logprobs(index, List.of(token)));
    }
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

  /**
   * OpenAI's logprobs object for choice {@code index}'s next {@code tokens}: chat's {@code
   * {content: [{token, logprob, bytes, top_logprobs}]}}, or completions' {@code {tokens,
   * token_logprobs, top_logprobs, text_offset}}, whose top_logprobs map also holds the chosen token
   * (as vLLM's and OpenAI's do). Every alternative is spelled after the same previous token as the
   * chosen one.
   */
  private ObjectNode logprobs(int index, List<Token> tokens) {
    ObjectNode o = Json.object();
    ArrayNode content = chat ? o.putArray("content") : null;
    ArrayNode texts = chat ? null : o.putArray("tokens");
    ArrayNode chosen = chat ? null : o.putArray("token_logprobs");
    ArrayNode tops = chat ? null : o.putArray("top_logprobs");
    ArrayNode offsets = chat ? null : o.putArray("text_offset");
    for (Token t : tokens) {
      TokenLogprobs lp = t.logprobs();
      // the chosen token first, then its alternatives, all after the same previous token
      long[] ids = new long[1 + lp.topIds().length];
      ids[0] = t.id();
      for (int k = 0; k < lp.topIds().length; k++) {
        ids[k + 1] = lp.topIds()[k];
      }
      String[] spelled = tokenText.of(previous[index], ids);
      String text = spelled[0];
      if (chat) {
        ArrayNode top = entry(content.addObject(), text, lp.logprob()).putArray("top_logprobs");
        for (int k = 0; k < lp.topIds().length; k++) {
          entry(top.addObject(), spelled[k + 1], lp.topLogprobs()[k]);
        }
      } else {
        texts.add(text);
        chosen.add(lp.logprob());
        ObjectNode top = tops.addObject();
        for (int k = 0; k < lp.topIds().length; k++) {
          top.put(spelled[k + 1], lp.topLogprobs()[k]);
        }
        top.put(text, lp.logprob());
        offsets.add(textOffsets[index]);
      }
      textOffsets[index] += text.length();
      previous[index] = t.id();
    }
    if (chat) {
      o.putNull("refusal");
    }
    return o;
  }

  private static ObjectNode entry(ObjectNode e, String text, float logprob) {
    e.put("token", text);
    e.put("logprob", logprob);
    ArrayNode bytes = e.putArray("bytes");
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      bytes.add(b & 0xff);
    }
    return e;
  }

  private static ObjectNode usage(int prompt, int generated) {
    ObjectNode u = Json.object();
    u.put("prompt_tokens", prompt);
    u.put("completion_tokens", generated);
    u.put("total_tokens", prompt + generated);
    return u;
  }
}
