package io.sketchrt.runtime.spi;

import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds {@link Backend}s on the class path, lazily and one at a time: a provider that is missing,
 * throws in its constructor or whose native library is broken is reported, and never stops the
 * lookup of the others.
 */
public final class Backends {
  /** What {@code Model.load(dir)} uses: ONNX Runtime on the CPU, which runs everywhere. */
  public static final String DEFAULT = "ort-cpu";

  private Backends() {}

  /**
   * Whether one backend can run here.
   *
   * @param name the backend's name, or the provider's class name when it could not even be created
   * @param problem null when available, else one line saying why not
   */
  public record Status(String name, String description, String problem) {
    public boolean available() {
      return problem == null;
    }
  }

  /** Every backend on the class path with whether it works here and why not. */
  public static List<Status> available() {
    List<Status> out = new ArrayList<>();
    for (Provided p : providers()) {
      if (p.backend == null) {
        out.add(new Status(p.failedName, "", p.problem));
        continue;
      }
      String problem = null;
      try {
        p.backend.checkAvailable();
      } catch (SketchrtException | RuntimeException | LinkageError e) {
        problem = SketchrtException.firstLine(e);
      }
      out.add(new Status(p.backend.name(), p.backend.description(), problem));
    }
    return out;
  }

  /** The backend called {@code name}, checked to be available. */
  public static Backend find(String name) throws SketchrtException {
    List<String> names = new ArrayList<>();
    for (Provided p : providers()) {
      if (p.backend == null) {
        continue; // a broken provider of some other backend; available() reports it
      }
      if (p.backend.name().equals(name)) {
        try {
          p.backend.checkAvailable();
        } catch (RuntimeException | LinkageError e) {
          throw new SketchrtException(
              "backend '" + name + "' cannot run here: " + SketchrtException.firstLine(e), e);
        }
        return p.backend;
      }
      names.add(p.backend.name());
    }
    throw new SketchrtException(
        "unknown backend '" + name + "' (available: " + String.join(", ", names) + ")");
  }

  private record Provided(Backend backend, String failedName, String problem) {}

  private static List<Provided> providers() {
    List<Provided> out = new ArrayList<>();
    Iterator<ServiceLoader.Provider<Backend>> it =
        ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).stream().iterator();
    // Each step may fail on its own (a listed class that is missing or cannot link); the loader
    // moves on to the next entry. The bound only guards against a loader that would not.
    for (int guard = 0; guard < 1000; guard++) {
      ServiceLoader.Provider<Backend> provider;
      try {
        if (!it.hasNext()) {
          break;
        }
        provider = it.next();
      } catch (ServiceConfigurationError | LinkageError e) {
        out.add(new Provided(null, "(unloadable provider)", SketchrtException.firstLine(e)));
        continue;
      }
      String className = "?";
      try {
        className = provider.type().getName();
        out.add(new Provided(provider.get(), null, null));
      } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        out.add(
            new Provided(
                null,
                className,
                "provider " + className + " failed: " + SketchrtException.firstLine(cause)));
      }
    }
    return out;
  }

  /**
   * Refuses a model converted for a target that {@code backend} cannot run, in one line naming the
   * target and the backends on the class path that can.
   */
  public static void requireRunsOn(Backend backend, ModelCard card, Path modelDir)
      throws SketchrtException {
    if (!backend.targets().contains(card.target())) {
      throw new SketchrtException(
          "the model in "
              + modelDir
              + " was converted for target '"
              + card.target().id()
              + "', which backend '"
              + backend.name()
              + "' cannot run (it runs on "
              + String.join(", ", running(card.target()))
              + "): convert it again with --target portable, or use one of those backends");
    }
  }

  /** The names of the backends on the class path that run {@code target}, sorted. */
  public static List<String> running(Target target) {
    return providers().stream()
        .map(Provided::backend)
        .filter(b -> b != null && b.targets().contains(target))
        .map(Backend::name)
        .sorted()
        .distinct()
        .toList();
  }
}
