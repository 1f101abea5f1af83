package io.sketchrt.serve;

import io.sketchrt.runtime.Model;
import java.nio.file.Path;
import java.util.List;

/**
 * The OpenAI model ids of a loaded model: one per tuned set (the request's {@code model} picks the
 * set), all with {@code parent} = the base, named after the model's directory. A model converted
 * before tuned sets serves one id, the base's.
 */
final class ModelNames {
  private final Model model;
  private final String base;

  ModelNames(Model model) {
    this.model = model;
    Path name = model.directory().toAbsolutePath().normalize().getFileName();
    this.base = name == null ? "sketchrt" : name.toString();
  }

  String base() {
    return base;
  }

  /** The ids served now (runtime loads and unloads change them). */
  List<String> ids() {
    List<String> sets = model.tunedSets();
    return sets.isEmpty() ? List.of(base) : sets;
  }

  /** The id a request without {@code model} runs. */
  String defaultId() {
    String d = model.defaultTunedSet();
    return d == null ? base : d;
  }

  /** The tuned set that {@code requested} names; 404 for an id this server does not have. */
  String resolve(String requested) {
    String id = requested == null ? defaultId() : requested;
    List<String> ids = ids();
    if (!ids.contains(id)) {
      throw ApiException.notFound(
          "model",
          "model_not_found",
          "The model '"
              + id
              + "' does not exist: this server runs "
              + String.join(", ", ids)
              + " (GET /v1/models lists them)");
    }
    return id;
  }

  /** The engine's tuned-set name for an id resolved above (null: the model has no sets). */
  String tunedSet(String id) {
    return model.tunedSets().isEmpty() ? null : id;
  }
}
