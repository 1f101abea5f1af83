package io.sketchrt.runtime.ort.sketch;

/** How {@code ort-cpu} runs {@code SketchMatMul} nodes. */
public enum KernelChoice {
  /** The Java sketch kernel: codes and LUTs stay as they are, nothing is made dense. */
  SKETCH,
  /**
   * No kernel registered: ONNX Runtime inlines the model-local function and folds each node into a
   * dense fp32 weight.
   */
  FALLBACK;

  /** Parses {@code sketch} / {@code fallback} (any case). */
  public static KernelChoice parse(String s) {
    for (KernelChoice c : values()) {
      if (c.name().equalsIgnoreCase(s.strip())) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown kernel '" + s + "' (sketch, fallback)");
  }
}
