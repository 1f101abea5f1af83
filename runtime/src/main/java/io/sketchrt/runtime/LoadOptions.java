package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.BackendOptions;
import io.sketchrt.runtime.spi.Backends;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} opens a model: the backend by name, and
 * typed options per backend, keyed by their type (each backend reads its own and ignores the
 * others).
 *
 * <pre>{@code
 * LoadOptions.defaults().withBackend("ort-cpu").with(OrtOptions.defaults().withIntraOpThreads(1))
 * LoadOptions.defaults().withBackend("trt").with(TrtOptions.defaults().withMaxBatch(4))
 * }</pre>
 *
 * @param backend the backend's name ({@code ort-cpu}, {@code ort-cuda}, {@code trt}, ...)
 * @param options the options given, by type; a backend uses its defaults for a type not given
 */
public record LoadOptions(
    String backend, Map<Class<? extends BackendOptions>, BackendOptions> options) {

  public LoadOptions {
    Objects.requireNonNull(backend, "backend");
    for (Map.Entry<Class<? extends BackendOptions>, BackendOptions> e : options.entrySet()) {
      if (e.getKey() != e.getValue().getClass()) {
        throw new IllegalArgumentException(
            e.getValue().getClass().getName() + " is keyed as " + e.getKey().getName());
      }
    }
    options = Map.copyOf(options);
  }

  /** The default backend ({@code ort-cpu}) with every backend's default options. */
  public static LoadOptions defaults() {
    return new LoadOptions(Backends.DEFAULT, Map.of());
  }

  public LoadOptions withBackend(String name) {
    return new LoadOptions(name, options);
  }

  /** These options in place of any earlier ones of the same type. */
  public LoadOptions with(BackendOptions o) {
    Map<Class<? extends BackendOptions>, BackendOptions> m = new LinkedHashMap<>(options);
    m.put(o.getClass(), o);
    return new LoadOptions(backend, m);
  }

  /** The options of this type, if given. */
  public <T extends BackendOptions> Optional<T> find(Class<T> type) {
    return Optional.ofNullable(options.get(type)).map(type::cast);
  }

  /** The options of this type, or {@code defaults} when none were given. */
  public <T extends BackendOptions> T get(Class<T> type, Supplier<T> defaults) {
    return find(type).orElseGet(defaults);
  }
}
