package io.sketchrt.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** A plain HTTP client for the tests: JSON in, status and JSON (or SSE frames) out. */
final class Client {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String base;
  private final String key;

  record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

  Client(OpenAiServer server, String key) {
    this.base = "http://127.0.0.1:" + server.address().getPort();
    this.key = key;
  }

  Client(OpenAiServer server) {
    this(server, null);
  }

  Reply get(String path) throws IOException, InterruptedException {
    return send(request(path).GET().build());
  }

  Reply post(String path, String json) throws IOException, InterruptedException {
    return send(request(path).POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  /** The {@code data:} payloads of an SSE response, in order ([DONE] included). */
  List<String> stream(String path, String json) throws IOException, InterruptedException {
    HttpResponse<java.util.stream.Stream<String>> r =
        HTTP.send(
            request(path).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
            HttpResponse.BodyHandlers.ofLines());
    if (r.statusCode() != 200) {
      throw new AssertionError("status " + r.statusCode());
    }
    List<String> frames = new ArrayList<>();
    List<String> lines = r.body().toList();
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      if (l.startsWith("data: ")) {
        frames.add(l.substring(6));
        if (i + 1 < lines.size() && !lines.get(i + 1).isEmpty()) {
          throw new AssertionError("a frame must end with an empty line: " + lines);
        }
      } else if (!l.isEmpty()) {
        throw new AssertionError("not an SSE data line: " + l);
      }
    }
    return frames;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json");
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return b;
  }

  private static Reply send(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode body = null;
    String ct = r.headers().firstValue("Content-Type").orElse("");
    if (ct.startsWith("application/json")) {
      body = Json.MAPPER.readTree(r.body());
    }
    return new Reply(r.statusCode(), body, r);
  }
}
