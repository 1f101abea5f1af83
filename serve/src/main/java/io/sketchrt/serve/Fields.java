package io.sketchrt.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Typed reads of a request's optional fields: absent or null gives the default, a value of the
 * wrong type or range is a 400 naming the field.
 */
final class Fields {
  private Fields() {}

  static JsonNode get(ObjectNode body, String name) {
    JsonNode v = body.get(name);
    return v == null || v.isNull() ? null : v;
  }

  static String string(ObjectNode body, String name) {
    JsonNode v = get(body, name);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.badRequest(name, "'" + name + "' must be a string");
    }
    return v.asText();
  }

  static boolean bool(ObjectNode body, String name, boolean dflt) {
    JsonNode v = get(body, name);
    if (v == null) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw ApiException.badRequest(name, "'" + name + "' must be true or false");
    }
    return v.asBoolean();
  }

  /** An integer of at least {@code min}; {@code dflt} when absent. */
  static int integer(ObjectNode body, String name, int min, int dflt) {
    JsonNode v = get(body, name);
    if (v == null) {
      return dflt;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
      throw ApiException.badRequest(name, "'" + name + "' must be an integer >= " + min);
    }
    return v.asInt();
  }

  static Long longValue(ObjectNode body, String name) {
    JsonNode v = get(body, name);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiException.badRequest(name, "'" + name + "' must be an integer");
    }
    return v.asLong();
  }

  /** A finite number in [min, max]. */
  static double number(ObjectNode body, String name, double min, double max, double dflt) {
    JsonNode v = get(body, name);
    if (v == null) {
      return dflt;
    }
    if (!v.isNumber()
        || !Double.isFinite(v.asDouble())
        || v.asDouble() < min
        || v.asDouble() > max) {
      throw ApiException.badRequest(
          name, "'" + name + "' must be a number in [" + min + ", " + max + "]");
    }
    return v.asDouble();
  }
}
