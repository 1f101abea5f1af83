package io.sketchrt.converter.arch;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The {@link ModelFamily}s on the class path, keyed by the Hugging Face {@code architectures[0]}.
 */
public final class ModelFamilies {
  private ModelFamilies() {}

  /** Loaded once: families are plain Java with no native code, and the class path is fixed. */
  private static final Map<String, ModelFamily> BY_ARCHITECTURE = load();

  private static Map<String, ModelFamily> load() {
    Map<String, ModelFamily> out = new TreeMap<>();
    for (ModelFamily f :
        ServiceLoader.load(ModelFamily.class, ModelFamily.class.getClassLoader())) {
      ModelFamily previous = out.putIfAbsent(f.architecture(), f);
      if (previous != null && previous.getClass() != f.getClass()) {
        throw new IllegalStateException(
            "two model families read "
                + f.architecture()
                + ": "
                + previous.getClass().getName()
                + " and "
                + f.getClass().getName());
      }
    }
    return Map.copyOf(out);
  }

  /** The family reading {@code architecture}, or null when none does. */
  public static ModelFamily find(String architecture) {
    return BY_ARCHITECTURE.get(architecture);
  }

  /** Every supported architecture, sorted, comma-separated, for messages. */
  public static String names() {
    return String.join(", ", new TreeMap<>(BY_ARCHITECTURE).keySet());
  }
}
