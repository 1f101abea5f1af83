package io.sketchrt.runtime.ort.sketch;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The column order the vector kernel works in. One vector of L ints holds 4L code bytes, i.e. 8L
 * columns; lane i's int holds columns 8i..8i+7, and nibble j of every lane (shift {@link
 * #SHIFTS}[j]) yields columns {8i + j}. So inside each full block of 8L columns of a group, column
 * 8i + j sits at position j·L + i; the group's tail (fewer than 8L columns) keeps its natural
 * order. X is permuted once per call into this order and W is decoded in it, so every lookup result
 * feeds an FMA without any shuffle; a dot product does not care about the order of its terms.
 */
final class NibbleLayout {
  static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;

  /** Lanes per vector. */
  static final int L = INTS.length();

  /** Columns per block. */
  static final int BLOCK = 8 * L;

  /**
   * Right shift of nibble j inside a little-endian int: even columns are the high nibble of their
   * byte.
   */
  static final int[] SHIFTS = {4, 0, 12, 8, 20, 16, 28, 24};

  private NibbleLayout() {}

  /**
   * Whether this machine's vectors suit the kernel: 16 lanes (one-register LUT) or 8 (two
   * registers).
   */
  static boolean supported() {
    return L == 16 || L == 8;
  }

  /** Full blocks in one group of {@code groupSize} columns. */
  static int blocks(int groupSize) {
    return groupSize / BLOCK;
  }

  /**
   * Writes row {@code row} of X ({@code [*, K]}) permuted into {@code dst[dstOff ..< dstOff + K]},
   * as fp32.
   */
  static void permuteRow(SketchOperands op, long row, float[] dst, int dstOff) {
    SketchShape s = op.shape();
    int k = s.k();
    int groupSize = s.groupSize();
    int blocks = blocks(groupSize);
    long src = row * k;
    for (int g = 0; g < s.groups(); g++) {
      int base = g * groupSize;
      for (int b = 0; b < blocks; b++) {
        int col0 = base + b * BLOCK;
        for (int j = 0; j < 8; j++) {
          for (int i = 0; i < L; i++) {
            dst[dstOff + col0 + j * L + i] =
                Numerics.load(op.x(), op.xType(), src + col0 + 8 * i + j);
          }
        }
      }
      for (int col = base + blocks * BLOCK; col < base + groupSize; col++) {
        dst[dstOff + col] = Numerics.load(op.x(), op.xType(), src + col);
      }
    }
  }
}
