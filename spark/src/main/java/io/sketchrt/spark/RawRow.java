package io.sketchrt.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** What an error row can still say of an input row that did not parse: its id and tuned set. */
final class RawRow {
  private RawRow() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The row's id as text, or its index (as a row without an id gets) when it has none. */
  static String id(String line, long index) {
    JsonNode id = field(line, "id");
    return id == null ? Long.toString(index) : id.isTextual() ? id.asText() : id.toString();
  }

  static String tuned(String line) {
    JsonNode tuned = field(line, "tuned");
    return tuned != null && tuned.isTextual() ? tuned.asText() : null;
  }

  private static JsonNode field(String line, String name) {
    try {
      JsonNode n = JSON.readTree(line);
      return n != null && n.isObject() && n.hasNonNull(name) ? n.get(name) : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }
}
