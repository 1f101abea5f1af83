package io.sketchrt.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/** The server's one JSON mapper (Jackson, as the other modules) and the OpenAI error body. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** A request body as a JSON object; anything else is a 400. */
  static ObjectNode parseObject(byte[] body) {
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (java.io.IOException e) {
      throw ApiException.badRequest(
          null, "the body is not valid JSON: " + firstLine(e.getMessage()));
    }
    if (!(node instanceof ObjectNode o)) {
      throw ApiException.badRequest(null, "the body must be a JSON object");
    }
    return o;
  }

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of plain nodes always serialises", e);
    }
  }

  static String text(JsonNode node) {
    return new String(bytes(node), StandardCharsets.UTF_8);
  }

  /** {@code {"error": {"message", "type", "param", "code"}}}. */
  static ObjectNode errorBody(ApiException e) {
    ObjectNode error = object();
    error.put("message", e.getMessage());
    error.put("type", e.type());
    error.put("param", e.param());
    error.put("code", e.code());
    ObjectNode body = object();
    body.set("error", error);
    return body;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
