package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code POST /v1/load_tuned {"name", "path"}} and {@code POST /v1/unload_tuned {"name"}}, shaped
 * like vLLM's {@code load_lora_adapter} (its {@code lora_name} / {@code lora_path} are taken too).
 * The model loads and unloads between forward passes: requests in flight go on.
 */
final class TunedEndpoint {
  private final Model model;

  TunedEndpoint(Model model) {
    this.model = model;
  }

  void load(HttpExchange ex) throws IOException {
    ObjectNode body = Json.parseObject(Exchanges.body(ex));
    String name = name(body);
    String path = Fields.string(body, "path");
    path = path != null ? path : Fields.string(body, "lora_path");
    if (path == null) {
      throw ApiException.badRequest("path", "'path' (a tuned set file) is required");
    }
    if (!Files.isRegularFile(Path.of(path))) {
      throw ApiException.badRequest("path", "no tuned set file at " + path);
    }
    if (model.tunedSets().contains(name)) {
      throw ApiException.badRequest("name", "the tuned set '" + name + "' is loaded already");
    }
    try {
      model.loadTunedSet(name, Path.of(path));
    } catch (SketchrtException | IllegalArgumentException | IllegalStateException e) {
      throw ApiException.badRequest("path", "cannot load '" + name + "': " + e.getMessage());
    }
    Exchanges.json(ex, 200, status(name, "loaded"));
  }

  void unload(HttpExchange ex) throws IOException {
    ObjectNode body = Json.parseObject(Exchanges.body(ex));
    String name = name(body);
    if (!model.tunedSets().contains(name)) {
      throw ApiException.notFound(
          "name", "model_not_found", "The tuned set '" + name + "' is not loaded");
    }
    try {
      model.unloadTunedSet(name);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw ApiException.badRequest("name", e.getMessage());
    }
    Exchanges.json(ex, 200, status(name, "unloaded"));
  }

  private static String name(ObjectNode body) {
    String name = Fields.string(body, "name");
    name = name != null ? name : Fields.string(body, "lora_name");
    if (name == null || name.isEmpty()) {
      throw ApiException.badRequest("name", "'name' is required");
    }
    return name;
  }

  private static ObjectNode status(String name, String what) {
    ObjectNode o = Json.object();
    o.put("name", name);
    o.put("status", what);
    return o;
  }
}
