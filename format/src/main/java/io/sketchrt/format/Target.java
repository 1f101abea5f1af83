package io.sketchrt.format;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a model is converted for ({@code sketchrt.json} field {@code target}): it decides the
 * SketchMatMul node domain, and with it which backends can run the graph.
 */
public enum Target {
  /** Any ONNX runtime: domain ai.sketchrt; the local function runs where no kernel exists. */
  PORTABLE(
      "portable",
      SketchMatMulOp.DOMAIN,
      Set.of(BackendNames.ORT_CPU, BackendNames.ORT_CUDA, BackendNames.TRT)),
  /** ONNX Runtime's TensorRT execution provider: it hands only domain trt.plugins to plugins. */
  ORT_TENSORRT("ort-tensorrt", SketchMatMulOp.TRT_DOMAIN, Set.of(BackendNames.ORT_TENSORRT));

  private final String id;
  private final String sketchDomain;
  private final Set<String> backends;

  Target(String id, String sketchDomain, Set<String> backends) {
    this.id = id;
    this.sketchDomain = sketchDomain;
    this.backends = backends;
  }

  /** The name in sketchrt.json and on the command line ({@code --target}). */
  public String id() {
    return id;
  }

  /** The domain of the SketchMatMul nodes in a graph converted for this target. */
  public String sketchDomain() {
    return sketchDomain;
  }

  /** The backends that can run a model converted for this target. */
  public Set<String> backends() {
    return backends;
  }

  public boolean runsOn(String backend) {
    return backends.contains(backend);
  }

  /** Every target id, comma-separated, for messages. */
  public static String ids() {
    return Arrays.stream(values()).map(Target::id).collect(Collectors.joining(", "));
  }

  /** The target with this id; the error names the unknown value and the known ones. */
  public static Target fromId(String id) throws FormatException {
    for (Target t : values()) {
      if (t.id.equals(id)) {
        return t;
      }
    }
    throw new FormatException("unknown target '" + id + "' (known: " + ids() + ")");
  }
}
