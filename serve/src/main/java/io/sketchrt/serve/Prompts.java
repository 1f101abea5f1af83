package io.sketchrt.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.ChatMessage;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's prompts as token ids: {@code prompt} of a completion (a string, a list of strings, a
 * list of token ids or a list of such lists, as OpenAI takes it), or {@code messages} of a chat
 * rendered with the tokenizer's chat template. Each must leave room in the context for one token.
 */
final class Prompts {
  private Prompts() {}

  static List<long[]> completion(ObjectNode body, Model model) {
    JsonNode p = Fields.get(body, "prompt");
    if (p == null) {
      throw ApiException.badRequest("prompt", "'prompt' is required");
    }
    List<long[]> prompts = new ArrayList<>();
    if (p.isTextual()) {
      prompts.add(encode(model, p.asText()));
    } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
      prompts.add(ids(p));
    } else if (p.isArray() && !p.isEmpty()) {
      for (JsonNode e : p) {
        if (e.isTextual()) {
          prompts.add(encode(model, e.asText()));
        } else if (e.isArray()) {
          prompts.add(ids(e));
        } else {
          throw badPrompt();
        }
      }
    } else {
      throw badPrompt();
    }
    for (long[] ids : prompts) {
      checkLength(model, ids, "prompt");
    }
    return prompts;
  }

  static long[] chat(ObjectNode body, Model model) {
    JsonNode m = Fields.get(body, "messages");
    if (m == null || !m.isArray() || m.isEmpty()) {
      throw ApiException.badRequest("messages", "'messages' must be a non-empty list");
    }
    if (!model.hasTokenizer() || !model.tokenizer().hasChatTemplate()) {
      throw ApiException.badRequest(
          "messages",
          "this model's tokenizer has no chat template: use /v1/completions with a prompt");
    }
    List<ChatMessage> messages = new ArrayList<>();
    for (JsonNode e : m) {
      if (!(e instanceof ObjectNode o)) {
        throw ApiException.badRequest("messages", "each message must be an object");
      }
      String role = Fields.string(o, "role");
      if (role == null) {
        throw ApiException.badRequest("messages", "each message needs a 'role'");
      }
      messages.add(new ChatMessage(role.equals("developer") ? "system" : role, content(o)));
    }
    long[] ids;
    try {
      ids = model.encodeChat(messages);
    } catch (SketchrtException | RuntimeException e) {
      throw ApiException.badRequest("messages", "the chat template failed: " + e.getMessage());
    }
    checkLength(model, ids, "messages");
    return ids;
  }

  /** A message's text: a string, or the text parts of a list of content parts. */
  private static String content(ObjectNode message) {
    JsonNode c = Fields.get(message, "content");
    if (c == null) {
      return "";
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      StringBuilder text = new StringBuilder();
      for (JsonNode part : c) {
        if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw ApiException.badRequest("messages", "only text content parts are supported");
        }
        text.append(part.get("text").asText());
      }
      return text.toString();
    }
    throw ApiException.badRequest("messages", "a message's content must be a string or a list");
  }

  private static long[] encode(Model model, String text) {
    if (!model.hasTokenizer()) {
      throw ApiException.badRequest("prompt", "this model has no tokenizer: send token ids");
    }
    return model.encode(text);
  }

  private static long[] ids(JsonNode list) {
    long[] ids = new long[list.size()];
    for (int i = 0; i < ids.length; i++) {
      JsonNode v = list.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        throw badPrompt();
      }
      ids[i] = v.asLong();
    }
    return ids;
  }

  private static void checkLength(Model model, long[] ids, String param) {
    int limit = model.card().maxPositionEmbeddings();
    if (ids.length == 0) {
      throw ApiException.badRequest(param, "the prompt has no tokens");
    }
    if (ids.length >= limit) {
      throw ApiException.badRequest(
          param,
          "the prompt is "
              + ids.length
              + " tokens, the context limit is "
              + limit
              + " tokens (one must be left to generate)");
    }
  }

  private static ApiException badPrompt() {
    return ApiException.badRequest(
        "prompt", "'prompt' must be a string, a list of strings or a list of token ids");
  }
}
