package io.sketchrt.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reading requests and writing whole responses on the JDK's {@link HttpExchange}. */
final class Exchanges {
  /** Bodies above this are refused: no prompt of any model here comes near it. */
  static final int MAX_BODY_BYTES = 16 << 20;

  private Exchanges() {}

  static byte[] body(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        throw ApiException.badRequest(null, "the body is over " + MAX_BODY_BYTES + " bytes");
      }
      return bytes;
    }
  }

  static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
    send(ex, status, "application/json", Json.bytes(body));
  }

  static void error(HttpExchange ex, ApiException e) throws IOException {
    if (e.status() == 429) {
      ex.getResponseHeaders().set("Retry-After", "1");
    }
    json(ex, e.status(), Json.errorBody(e));
  }

  static void text(HttpExchange ex, int status, String contentType, String text)
      throws IOException {
    send(ex, status, contentType, text.getBytes(StandardCharsets.UTF_8));
  }

  static void send(HttpExchange ex, int status, String contentType, byte[] bytes)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  /** 401 unless the request carries {@code Authorization: Bearer KEY} (compared in fixed time). */
  static void authorize(HttpExchange ex, String apiKey) {
    if (apiKey == null) {
      return;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ApiException.unauthorized("an API key is required: send 'Authorization: Bearer KEY'");
    }
    byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    if (!java.security.MessageDigest.isEqual(given, apiKey.getBytes(StandardCharsets.UTF_8))) {
      throw ApiException.unauthorized("the API key is wrong");
    }
  }
}
