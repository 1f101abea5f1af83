package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.GraphNames;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lets ONNX Runtime Java feed a graph's defaulted inputs (initializer-backed inputs, DESIGN section
 * 4), which it does not list among a session's inputs.
 *
 * <p>ONNX Runtime's C API accepts an overridable initializer by name in a run's feed, but the Java
 * {@link OrtSession} checks every feed name against its own input list first, and has no API for
 * overridable initializers. So the session's two private fields behind that check ({@code
 * numInputs}, {@code inputNames}) are widened once, at load. A test pins this to the ONNX Runtime
 * release in use; where the fields are gone, the input keeps its default and {@link #expose} says
 * so.
 */
final class OverridableInputs {
  private OverridableInputs() {}

  /** The defaulted inputs the converter recorded in the graph's metadata. */
  static List<String> declared(OrtSession session) throws OrtException {
    Map<String, String> meta = session.getMetadata().getCustomMetadata();
    String names = meta.getOrDefault(GraphNames.DEFAULTED_INPUTS_METADATA, "");
    return Arrays.stream(names.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * Makes every defaulted input the graph declares feedable; where that fails, says in one line on
   * stderr that the input keeps its default.
   */
  static void exposeDeclared(OrtSession session, java.nio.file.Path graph) throws OrtException {
    for (String name : declared(session)) {
      String why = expose(session, name);
      if (why != null) {
        System.err.println("sketchrt: " + graph + ": " + name + " keeps its default (" + why + ")");
      }
    }
  }

  /**
   * Makes {@code name} feedable through {@code session.run}.
   *
   * @return null when done, else why not (the input then keeps its default)
   */
  static synchronized String expose(OrtSession session, String name) {
    try {
      Field names = OrtSession.class.getDeclaredField("inputNames");
      Field count = OrtSession.class.getDeclaredField("numInputs");
      names.setAccessible(true);
      count.setAccessible(true);
      @SuppressWarnings("unchecked")
      Set<String> current = (Set<String>) names.get(session);
      if (current.contains(name)) {
        return null;
      }
      Set<String> widened = new LinkedHashSet<>(current);
      widened.add(name);
      names.set(session, java.util.Collections.unmodifiableSet(widened));
      count.setLong(session, count.getLong(session) + 1);
      return null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "ONNX Runtime Java's session no longer has the fields sketchrt widens: " + e;
    }
  }
}
