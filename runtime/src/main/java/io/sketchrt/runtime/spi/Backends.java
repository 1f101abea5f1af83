package io.sketchrt.runtime.spi;

import io.sketchrt.runtime.SketchrtException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Looks up {@link Backend}s on the class path by name. */
public final class Backends {
  /** What {@code Model.load(dir)} uses. */
  public static final String DEFAULT = "ort-cpu";

  private Backends() {}

  /** Every backend on the class path, in class-path order. */
  public static List<Backend> available() {
    List<Backend> all = new ArrayList<>();
    ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(all::add);
    return all;
  }

  public static Backend find(String name) throws SketchrtException {
    List<String> names = new ArrayList<>();
    for (Backend b : available()) {
      if (b.name().equals(name)) {
        return b;
      }
      names.add(b.name());
    }
    throw new SketchrtException("unknown backend '" + name + "' (available: " + String.join(", ", names) + ")");
  }
}
