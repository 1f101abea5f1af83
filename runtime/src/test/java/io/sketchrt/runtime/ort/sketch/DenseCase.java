package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * One random DenseMatMul problem: fp32 X [m, k], bf16 W [n, k], Y poisoned with NaN, and the
 * float64 reference.
 */
final class DenseCase implements AutoCloseable {
  final long m;
  final int n;
  final int k;
  final Arena arena = Arena.ofShared();
  final MemorySegment x;
  final MemorySegment w;
  final MemorySegment y;
  final double[] reference;

  DenseCase(Random r, long m, int n, int k) {
    this.m = m;
    this.n = n;
    this.k = k;
    x = arena.allocate(Math.max(1, m * k * 4), 64);
    w = arena.allocate(Math.max(1, (long) n * k * 2), 64);
    y = arena.allocate(Math.max(1, m * n * 4), 64);
    for (long i = 0; i < m * k; i++) {
      x.setAtIndex(JAVA_FLOAT_UNALIGNED, i, (float) r.nextGaussian());
    }
    for (long i = 0; i < (long) n * k; i++) {
      // the bf16 of a random float: its high 16 bits
      int bits = Float.floatToRawIntBits((float) (r.nextGaussian() * 0.05));
      w.setAtIndex(JAVA_SHORT_UNALIGNED, i, (short) (bits >>> 16));
    }
    for (long i = 0; i < m * n; i++) {
      y.setAtIndex(JAVA_FLOAT_UNALIGNED, i, Float.NaN);
    }
    reference = new double[(int) (m * n)];
    for (int row = 0; row < m; row++) {
      for (int col = 0; col < n; col++) {
        double acc = 0;
        for (int c = 0; c < k; c++) {
          short wb = w.getAtIndex(JAVA_SHORT_UNALIGNED, (long) col * k + c);
          double wv = Float.intBitsToFloat(wb << 16);
          acc += wv * x.getAtIndex(JAVA_FLOAT_UNALIGNED, (long) row * k + c);
        }
        reference[row * n + col] = acc;
      }
    }
  }

  /** ||out - reference|| / ||reference||; NaN (an unwritten output) fails any bound. */
  double relativeError(MemorySegment out) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < reference.length; i++) {
      double v = out.getAtIndex(JAVA_FLOAT_UNALIGNED, i);
      diff += (v - reference[i]) * (v - reference[i]);
      norm += reference[i] * reference[i];
    }
    double e = Math.sqrt(diff / norm);
    return Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
  }

  @Override
  public String toString() {
    return "M=" + m + " N=" + n + " K=" + k;
  }

  @Override
  public void close() {
    arena.close();
  }
}
