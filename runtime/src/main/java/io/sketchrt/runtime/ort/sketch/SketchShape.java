package io.sketchrt.runtime.ort.sketch;

/**
 * The static shape of one {@code SketchMatMul} node (DESIGN section 3): {@code W} is {@code [n,
 * k]}, split into {@code groups} contiguous column groups per row, each with a {@code 2^bits}-entry
 * LUT.
 */
public record SketchShape(int n, int k, int groups, int bits) {

  public SketchShape {
    if (bits < 1 || bits > 4) {
      throw new IllegalArgumentException("bits=" + bits + " is not supported (1..4)");
    }
    if (groups < 1) {
      throw new IllegalArgumentException("groups=" + groups + " must be >= 1");
    }
    if (n < 1 || k < 1) {
      throw new IllegalArgumentException("N=" + n + ", K=" + k + " must be >= 1");
    }
    if (k % groups != 0 || (k / groups) % 2 != 0) {
      throw new IllegalArgumentException(
          "K=" + k + " must split into " + groups + " groups of an even number of columns");
    }
  }

  /** Columns per group, K/G. */
  public int groupSize() {
    return k / groups;
  }

  /** LUT entries per group, 2^bits. */
  public int entries() {
    return 1 << bits;
  }

  /** Bytes of codes per row: two 4-bit codes per byte whatever the bit width. */
  public long codeBytesPerRow() {
    return k / 2;
  }
}
