package io.sketchrt.format;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What a model is converted for ({@code sketchrt.json} field {@code target}): it decides the
 * SketchMatMul node domain. Each backend says which targets it runs ({@code Backend.targets()} in
 * the runtime); this contract does not know the backends.
 */
public enum Target {
  /** Any ONNX runtime: domain ai.sketchrt; the local function runs where no kernel exists. */
  PORTABLE("portable", SketchMatMulOp.DOMAIN),
  /** ONNX Runtime's TensorRT execution provider: it hands only domain trt.plugins to plugins. */
  ORT_TENSORRT("ort-tensorrt", SketchMatMulOp.TRT_DOMAIN);

  private final String id;
  private final String sketchDomain;

  Target(String id, String sketchDomain) {
    this.id = id;
    this.sketchDomain = sketchDomain;
  }

  /** The name in sketchrt.json and on the command line ({@code --target}). */
  public String id() {
    return id;
  }

  /** The domain of the SketchMatMul nodes in a graph converted for this target. */
  public String sketchDomain() {
    return sketchDomain;
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
