package io.sketchrt.validation.accuracy;

import io.sketchrt.format.ActivationType;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.ort.sketch.SketchKernels;

/**
 * DESIGN section 5: relative error bounds for a single op, by activation type and by the CPU
 * kernel's accuracy level.
 */
public final class Tolerance {
  private Tolerance() {}

  public static double singleOp(ActivationType t) {
    return switch (t) {
      case FP32 -> 1e-5;
      case FP16 -> 2e-3;
      case BF16 -> 1e-2;
    };
  }

  /**
   * The bound for {@code t} computed by {@code kernel}: the near-exact kernel (int16 LUT x 14-bit
   * activations) is held to 1e-3, the approximate one (int8 LUT) to 5e-2, the others to the
   * activation type's bound.
   */
  public static double singleOp(ActivationType t, KernelChoice kernel) {
    double level =
        switch (kernel) {
          case NEAR_EXACT -> 1e-3;
          case APPROX -> 5e-2;
          case EXACT, FALLBACK -> 0;
        };
    return Math.max(singleOp(t), level);
  }

  /** The kernel that runs SketchMatMul with {@code options}: ort-cpu's choice, else exact. */
  public static KernelChoice kernel(LoadOptions options) {
    return options.backend().equals("ort-cpu")
        ? SketchKernels.effective(options.get(OrtOptions.class, OrtOptions::defaults).kernel())
        : KernelChoice.EXACT;
  }
}
