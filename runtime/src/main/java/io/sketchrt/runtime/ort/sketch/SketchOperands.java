package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.MemorySegment;

/**
 * One call's operands, read and written in place (ONNX Runtime's tensor memory, or test buffers).
 *
 * @param m rows of X: the product of X's leading dimensions
 * @param x {@code [m, K]} of {@code xType}
 * @param codes {@code [N, G, K/G/2]} bytes, high nibble = even column
 * @param lut {@code [N, G, 2^bits]} of {@code lutType}
 * @param bias {@code [N]} of {@code xType}, or null
 * @param y {@code [m, N]} of {@code xType}, written
 */
public record SketchOperands(
    SketchShape shape,
    long m,
    ElementType xType,
    MemorySegment x,
    MemorySegment codes,
    ElementType lutType,
    MemorySegment lut,
    MemorySegment bias,
    MemorySegment y) {

  /** Checks that every buffer is large enough for the shape (the kernels trust this afterwards). */
  public SketchOperands {
    long n = shape.n();
    long k = shape.k();
    require("X", x, m * k * xType.bytes);
    require("codes", codes, n * k / 2);
    require("lut", lut, n * shape.groups() * shape.entries() * lutType.bytes);
    if (bias != null) {
      require("bias", bias, n * xType.bytes);
    }
    require("Y", y, m * n * xType.bytes);
  }

  private static void require(String what, MemorySegment s, long bytes) {
    if (s.byteSize() < bytes) {
      throw new IllegalArgumentException(
          what + " holds " + s.byteSize() + " bytes, the shape needs " + bytes);
    }
  }
}
