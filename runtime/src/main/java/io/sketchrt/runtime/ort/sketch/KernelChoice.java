package io.sketchrt.runtime.ort.sketch;

import java.util.Locale;

/** How {@code ort-cpu} runs {@code SketchMatMul} nodes (DESIGN section 5). */
public enum KernelChoice {
  /**
   * The default: the native kernel with int16 LUTs (a scale per row group) and 14-bit activations,
   * within 1e-3 of float64 per op and faithful to small fine-tune deltas. Where the native library
   * cannot run, the Java fp32 kernel ({@link #EXACT}) runs instead, saying so in one line.
   */
  NEAR_EXACT("near-exact"),
  /**
   * fp32 semantics (within 1e-5): the Java Vector API kernel over the codes and LUTs as they are.
   */
  EXACT("exact"),
  /** Opt-in: int8 LUTs (absmax per row group). Erases fine-tune deltas below ~1 % of the LUT. */
  APPROX("approx"),
  /**
   * No kernel registered: ONNX Runtime inlines the model-local function and folds each node into a
   * dense fp32 weight.
   */
  FALLBACK("fallback");

  /** The name on the command line and in messages. */
  public final String id;

  KernelChoice(String id) {
    this.id = id;
  }

  /** Whether a sketch kernel is registered (everything but {@link #FALLBACK}). */
  public boolean registersKernel() {
    return this != FALLBACK;
  }

  /**
   * Parses {@code near-exact} / {@code exact} / {@code approx} / {@code fallback} (any case);
   * {@code sketch} is the default's older name.
   */
  public static KernelChoice parse(String s) {
    String v = s.strip().toLowerCase(Locale.ROOT);
    if (v.equals("sketch")) {
      return NEAR_EXACT;
    }
    for (KernelChoice c : values()) {
      if (c.id.equals(v)) {
        return c;
      }
    }
    throw new IllegalArgumentException(
        "unknown kernel '" + s + "' (near-exact, exact, approx, fallback)");
  }

  @Override
  public String toString() {
    return id;
  }
}
