package io.sketchrt.validation.accuracy;

import io.sketchrt.format.ActivationType;

/** DESIGN section 5: relative error bounds for a single op, by activation type. */
public final class Tolerance {
  private Tolerance() {}

  public static double singleOp(ActivationType t) {
    return switch (t) {
      case FP32 -> 1e-5;
      case FP16 -> 2e-3;
      case BF16 -> 1e-2;
    };
  }
}
