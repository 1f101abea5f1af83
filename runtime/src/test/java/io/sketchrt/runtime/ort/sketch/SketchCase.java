package io.sketchrt.runtime.ort.sketch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * Fresh random operands for one SketchMatMul call in native memory, and the float64 reference
 * computed from the values as stored (after rounding to their element types).
 */
final class SketchCase implements AutoCloseable {
  final SketchShape shape;
  final long m;
  final ElementType xType;
  final ElementType lutType;
  final Arena arena = Arena.ofShared();
  final MemorySegment x;
  final MemorySegment codes;
  final MemorySegment lut;
  final MemorySegment bias;
  final MemorySegment y;
  final double[] reference;

  SketchCase(
      Random r, SketchShape s, long m, ElementType xType, ElementType lutType, boolean withBias) {
    this.shape = s;
    this.m = m;
    this.xType = xType;
    this.lutType = lutType;
    int n = s.n();
    int k = s.k();
    x = arena.allocate(Math.max(1, m * k * xType.bytes), 64);
    codes = arena.allocate((long) n * k / 2, 64);
    lut = arena.allocate((long) n * s.groups() * s.entries() * lutType.bytes, 64);
    bias = withBias ? arena.allocate((long) n * xType.bytes, 64) : null;
    y = arena.allocate(Math.max(1, m * n * xType.bytes), 64);
    for (long i = 0; i < m * k; i++) {
      Numerics.store(x, xType, i, (float) r.nextGaussian());
    }
    int limit = s.entries();
    for (long i = 0; i < codes.byteSize(); i++) {
      codes.set(ValueLayout.JAVA_BYTE, i, (byte) ((r.nextInt(limit) << 4) | r.nextInt(limit)));
    }
    double scale = 1.0 / Math.sqrt(k);
    for (long i = 0; i < (long) n * s.groups() * limit; i++) {
      Numerics.store(lut, lutType, i, (float) (r.nextGaussian() * scale));
    }
    if (bias != null) {
      for (int i = 0; i < n; i++) {
        Numerics.store(bias, xType, i, (float) (0.1 * r.nextGaussian()));
      }
    }
    reference = new double[(int) (m * n)];
    int groupSize = s.groupSize();
    for (long row = 0; row < m; row++) {
      for (int col = 0; col < n; col++) {
        double acc = bias == null ? 0 : Numerics.load(bias, xType, col);
        for (int kk = 0; kk < k; kk++) {
          int code = Numerics.code(codes, (long) col * k / 2, kk);
          double w =
              Numerics.load(
                  lut, lutType, ((long) col * s.groups() + kk / groupSize) * limit + code);
          acc += w * Numerics.load(x, xType, row * k + kk);
        }
        reference[(int) (row * n + col)] = acc;
      }
    }
  }

  /**
   * The operands, with Y poisoned (all bits set: NaN in every float type) so unwritten outputs
   * show.
   */
  SketchOperands operands() {
    y.fill((byte) 0xFF);
    return new SketchOperands(shape, m, xType, x, codes, lutType, lut, bias, y);
  }

  /** ‖y − ref‖ / ‖ref‖ over Y as stored in {@code out}; NaN anywhere gives NaN. */
  double relativeError(MemorySegment out) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < reference.length; i++) {
      double v = Numerics.load(out, xType, i);
      diff += (v - reference[i]) * (v - reference[i]);
      norm += reference[i] * reference[i];
    }
    return Math.sqrt(diff / norm);
  }

  /** The bound DESIGN section 5 sets for the output type. */
  double tolerance() {
    return switch (xType) {
      case FLOAT -> 1e-5;
      case FLOAT16 -> 2e-3;
      default -> 1e-2;
    };
  }

  @Override
  public String toString() {
    return "N="
        + shape.n()
        + " K="
        + shape.k()
        + " G="
        + shape.groups()
        + " bits="
        + shape.bits()
        + " M="
        + m
        + " X="
        + xType
        + " LUT="
        + lutType
        + (bias != null ? " +bias" : "");
  }

  @Override
  public void close() {
    arena.close();
  }
}
