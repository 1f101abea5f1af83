package io.sketchrt.runtime.ort.sketch;

import static io.sketchrt.runtime.ort.sketch.NibbleLayout.BLOCK;
import static io.sketchrt.runtime.ort.sketch.NibbleLayout.INTS;
import static io.sketchrt.runtime.ort.sketch.NibbleLayout.L;
import static io.sketchrt.runtime.ort.sketch.NibbleLayout.SHIFTS;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast SketchMatMul (Vector API). Codes are read 4L bytes at a time as one int vector; each
 * nibble position becomes a vector of LUT indices that one permute ({@code selectFrom}) turns into
 * weights, because a 16-entry fp32 LUT fills one 16-lane register (two 8-lane ones on AVX2).
 * Columns are in {@link NibbleLayout} order, so X is permuted instead of the weights.
 *
 * <ul>
 *   <li>Decode (at most {@link #DECODE_MAX_ROWS} rows of X): stream each row's codes once, FMA the
 *       looked-up weights straight into per-row accumulators.
 *   <li>Prefill: decode a tile of W rows into a per-thread fp32 buffer, then a 4×4 register-blocked
 *       dot-product micro-kernel over chunks of X rows.
 * </ul>
 *
 * Work splits over rows of W. Accumulation is fp32; only the order of the sum differs from the
 * scalar reference.
 */
public final class VectorSketchMatMul implements SketchMatMulKernel {
  static final int DECODE_MAX_ROWS = 4;
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** W rows decoded per prefill tile (a multiple of 4). */
  private static final int TILE_ROWS = 16;

  /** Bytes of staged X per prefill chunk, per thread: keeps the chunk and the W tile near L2. */
  private static final int X_CHUNK_BYTES = 256 * 1024;

  /** Floats of X permuted at once by the calling thread for the prefill path (16 MB). */
  private static final int STAGED_X_FLOATS = 4 << 20;

  /** Weights a task should hold at least, so that scheduling costs stay small. */
  private static final long WEIGHTS_PER_TASK = 1L << 18;

  private static final int MAX_TASKS = 32;

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Per-thread buffers, grown on demand and kept: no allocation per call once warm. */
  private static final class Scratch {
    float[] x = new float[0];
    float[] w = new float[0];
    final int[] table = new int[16];
    final float[] rowSums = new float[4];

    float[] x(int size) {
      if (x.length < size) {
        x = new float[size];
      }
      return x;
    }

    float[] w(int size) {
      if (w.length < size) {
        w = new float[size];
      }
      return w;
    }
  }

  public VectorSketchMatMul() {
    if (!NibbleLayout.supported()) {
      throw new UnsupportedOperationException(
          "the vector kernel needs 8 or 16 int lanes, this JVM offers " + L);
    }
  }

  @Override
  public void run(SketchOperands op, ParallelRunner parallel) {
    SketchShape s = op.shape();
    if (op.m() == 0) {
      return;
    }
    int tasks = tasks(s);
    int rowsPerTask = roundUp(ceilDiv(s.n(), tasks), TILE_ROWS);
    int realTasks = ceilDiv(s.n(), rowsPerTask);
    if (op.m() <= DECODE_MAX_ROWS) {
      int rows = (int) op.m();
      float[] xp = SCRATCH.get().x(rows * s.k());
      for (int r = 0; r < rows; r++) {
        NibbleLayout.permuteRow(op, r, xp, r * s.k());
      }
      parallel.run(
          realTasks,
          t -> decodeRows(op, xp, rows, t * rowsPerTask, Math.min(s.n(), (t + 1) * rowsPerTask)));
    } else {
      // X is permuted once per chunk of rows by the calling thread, then shared read-only by the
      // tasks.
      int k = s.k();
      int rowsPerStage = (int) Math.min(op.m(), Math.max(1, STAGED_X_FLOATS / k));
      float[] xs = SCRATCH.get().x(rowsPerStage * k);
      for (long m0 = 0; m0 < op.m(); m0 += rowsPerStage) {
        int rows = (int) Math.min(rowsPerStage, op.m() - m0);
        for (int r = 0; r < rows; r++) {
          NibbleLayout.permuteRow(op, m0 + r, xs, r * k);
        }
        long first = m0;
        parallel.run(
            realTasks,
            t ->
                prefillRows(
                    op, xs, first, rows, t * rowsPerTask, Math.min(s.n(), (t + 1) * rowsPerTask)));
      }
    }
  }

  private static int tasks(SketchShape s) {
    long weights = (long) s.n() * s.k();
    return (int) Math.max(1, Math.min(MAX_TASKS, weights / WEIGHTS_PER_TASK));
  }

  // ---- LUT registers ----

  /**
   * One row-group's LUT as 16 fp32 bit patterns in {@code scratch} (entries past 2^bits are 0), for
   * LUTs that cannot be loaded as they are (not fp32, or fewer than 16 entries). Fills an array
   * rather than returning a vector: a vector returned from a call that is not inlined gets boxed.
   */
  private static void fillTable(SketchOperands op, long rowGroup, int[] scratch) {
    int entries = op.shape().entries();
    long base = rowGroup * entries;
    for (int e = 0; e < 16; e++) {
      scratch[e] =
          e < entries
              ? Float.floatToRawIntBits(Numerics.load(op.lut(), op.lutType(), base + e))
              : 0;
    }
  }

  /** Whether the LUT can be loaded straight into registers: fp32 with all 16 entries. */
  private static boolean directLut(SketchOperands op) {
    return op.lutType() == ElementType.FLOAT && op.shape().entries() == 16;
  }

  // Lookup: {@code index.selectFrom(lo, hi)}, a two-register permute (vpermt2d). It wraps indices
  // to 0..2L-1, so the shifted codes need no masking: with 8 lanes bits 0-3 pick one of the 16
  // entries (8..15 from hi); with 16 lanes hi == lo, so bit 4 (the next nibble's) changes nothing.
  // Written out at every
  // use: a helper returning a vector is not always inlined by C2 (it then boxes every vector, ~10x
  // slower), and an {@code L == 16 ?} choice of the one-register form slowed C2's code down as
  // much.

  private static float tailWeight(SketchOperands op, long rowGroup, int code) {
    return Numerics.load(op.lut(), op.lutType(), rowGroup * op.shape().entries() + code);
  }

  // ---- decode: few rows of X ----

  private static void decodeRows(SketchOperands op, float[] xp, int rows, int n0, int n1) {
    Scratch mine = SCRATCH.get();
    int[] scratch = mine.table;
    if (rows == 1) {
      for (int n = n0; n < n1; n++) {
        store(op, 0, n, decodeRow1(op, xp, n, scratch));
      }
    } else {
      float[] out = mine.rowSums;
      for (int n = n0; n < n1; n++) {
        decodeRow4(op, xp, rows, n, scratch, out);
        for (int r = 0; r < rows; r++) {
          store(op, r, n, out[r]);
        }
      }
    }
  }

  private static float decodeRow1(SketchOperands op, float[] xp, int n, int[] scratch) {
    SketchShape s = op.shape();
    int groupSize = s.groupSize();
    int blocks = NibbleLayout.blocks(groupSize);
    MemorySegment codes = op.codes();
    boolean direct = directLut(op);
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    float tail = 0f;
    long rowBytes = (long) n * s.codeBytesPerRow();
    for (int g = 0; g < s.groups(); g++) {
      long rowGroup = (long) n * s.groups() + g;
      IntVector lo;
      IntVector hi;
      if (direct) {
        lo = IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64, ORDER);
        hi =
            L == 16
                ? lo
                : IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64 + 4L * L, ORDER);
      } else {
        fillTable(op, rowGroup, scratch);
        lo = IntVector.fromArray(INTS, scratch, 0);
        hi = L == 16 ? lo : IntVector.fromArray(INTS, scratch, L);
      }
      int col0 = g * groupSize;
      for (int b = 0; b < blocks; b++) {
        int col = col0 + b * BLOCK;
        IntVector v = IntVector.fromMemorySegment(INTS, codes, rowBytes + col / 2, ORDER);
        a0 =
            v.lanewise(VectorOperators.LSHR, 4)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col), a0);
        a1 =
            v.selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + L), a1);
        a2 =
            v.lanewise(VectorOperators.LSHR, 12)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 2 * L), a2);
        a3 =
            v.lanewise(VectorOperators.LSHR, 8)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 3 * L), a3);
        a0 =
            v.lanewise(VectorOperators.LSHR, 20)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 4 * L), a0);
        a1 =
            v.lanewise(VectorOperators.LSHR, 16)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 5 * L), a1);
        a2 =
            v.lanewise(VectorOperators.LSHR, 28)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 6 * L), a2);
        a3 =
            v.lanewise(VectorOperators.LSHR, 24)
                .selectFrom(lo, hi)
                .reinterpretAsFloats()
                .fma(FloatVector.fromArray(FLOATS, xp, col + 7 * L), a3);
      }
      for (int col = col0 + blocks * BLOCK; col < col0 + groupSize; col++) {
        tail += tailWeight(op, rowGroup, Numerics.code(codes, rowBytes, col)) * xp[col];
      }
    }
    return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
  }

  /** Up to four rows of X at once; rows past {@code rows} reuse row 0 and are dropped. */
  private static void decodeRow4(
      SketchOperands op, float[] xp, int rows, int n, int[] scratch, float[] out) {
    SketchShape s = op.shape();
    int k = s.k();
    int groupSize = s.groupSize();
    int blocks = NibbleLayout.blocks(groupSize);
    MemorySegment codes = op.codes();
    boolean direct = directLut(op);
    int x1 = rows > 1 ? k : 0;
    int x2 = rows > 2 ? 2 * k : 0;
    int x3 = rows > 3 ? 3 * k : 0;
    FloatVector a0 = FloatVector.zero(FLOATS);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    float t0 = 0f;
    float t1 = 0f;
    float t2 = 0f;
    float t3 = 0f;
    long rowBytes = (long) n * s.codeBytesPerRow();
    for (int g = 0; g < s.groups(); g++) {
      long rowGroup = (long) n * s.groups() + g;
      IntVector lo;
      IntVector hi;
      if (direct) {
        lo = IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64, ORDER);
        hi =
            L == 16
                ? lo
                : IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64 + 4L * L, ORDER);
      } else {
        fillTable(op, rowGroup, scratch);
        lo = IntVector.fromArray(INTS, scratch, 0);
        hi = L == 16 ? lo : IntVector.fromArray(INTS, scratch, L);
      }
      int col0 = g * groupSize;
      for (int b = 0; b < blocks; b++) {
        int col = col0 + b * BLOCK;
        IntVector v = IntVector.fromMemorySegment(INTS, codes, rowBytes + col / 2, ORDER);
        for (int j = 0; j < 8; j++) {
          FloatVector w =
              v.lanewise(VectorOperators.LSHR, SHIFTS[j]).selectFrom(lo, hi).reinterpretAsFloats();
          int c = col + j * L;
          a0 = w.fma(FloatVector.fromArray(FLOATS, xp, c), a0);
          a1 = w.fma(FloatVector.fromArray(FLOATS, xp, x1 + c), a1);
          a2 = w.fma(FloatVector.fromArray(FLOATS, xp, x2 + c), a2);
          a3 = w.fma(FloatVector.fromArray(FLOATS, xp, x3 + c), a3);
        }
      }
      for (int col = col0 + blocks * BLOCK; col < col0 + groupSize; col++) {
        float w = tailWeight(op, rowGroup, Numerics.code(codes, rowBytes, col));
        t0 += w * xp[col];
        t1 += w * xp[x1 + col];
        t2 += w * xp[x2 + col];
        t3 += w * xp[x3 + col];
      }
    }
    out[0] = a0.reduceLanes(VectorOperators.ADD) + t0;
    out[1] = a1.reduceLanes(VectorOperators.ADD) + t1;
    out[2] = a2.reduceLanes(VectorOperators.ADD) + t2;
    out[3] = a3.reduceLanes(VectorOperators.ADD) + t3;
  }

  // ---- prefill: many rows of X ----

  /**
   * W rows {@code n0 ..< n1} against X rows {@code m0 ..< m0 + rows}, staged (permuted) in {@code
   * xs}.
   */
  private static void prefillRows(
      SketchOperands op, float[] xs, long m0, int rows, int n0, int n1) {
    int k = op.shape().k();
    Scratch scratch = SCRATCH.get();
    int chunk = Math.max(2, Math.min(64, X_CHUNK_BYTES / (4 * k)) & ~1);
    float[] wt = scratch.w(TILE_ROWS * k);
    for (int c0 = 0; c0 < rows; c0 += chunk) {
      int mc = Math.min(chunk, rows - c0);
      for (int t0 = n0; t0 < n1; t0 += TILE_ROWS) {
        int nt = Math.min(TILE_ROWS, n1 - t0);
        for (int r = 0; r < nt; r++) {
          decodeWeights(op, t0 + r, wt, r * k, scratch.table);
        }
        multiplyTile(op, xs, c0 * k, mc, m0 + c0, wt, nt, t0);
      }
    }
  }

  /** Row {@code n} of W as fp32 in {@link NibbleLayout} order. */
  private static void decodeWeights(SketchOperands op, int n, float[] dst, int off, int[] scratch) {
    SketchShape s = op.shape();
    int groupSize = s.groupSize();
    int blocks = NibbleLayout.blocks(groupSize);
    MemorySegment codes = op.codes();
    boolean direct = directLut(op);
    long rowBytes = (long) n * s.codeBytesPerRow();
    for (int g = 0; g < s.groups(); g++) {
      long rowGroup = (long) n * s.groups() + g;
      IntVector lo;
      IntVector hi;
      if (direct) {
        lo = IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64, ORDER);
        hi =
            L == 16
                ? lo
                : IntVector.fromMemorySegment(INTS, op.lut(), rowGroup * 64 + 4L * L, ORDER);
      } else {
        fillTable(op, rowGroup, scratch);
        lo = IntVector.fromArray(INTS, scratch, 0);
        hi = L == 16 ? lo : IntVector.fromArray(INTS, scratch, L);
      }
      int col0 = g * groupSize;
      for (int b = 0; b < blocks; b++) {
        int col = col0 + b * BLOCK;
        IntVector v = IntVector.fromMemorySegment(INTS, codes, rowBytes + col / 2, ORDER);
        for (int j = 0; j < 8; j++) {
          v.lanewise(VectorOperators.LSHR, SHIFTS[j])
              .selectFrom(lo, hi)
              .reinterpretAsFloats()
              .intoArray(dst, off + col + j * L);
        }
      }
      for (int col = col0 + blocks * BLOCK; col < col0 + groupSize; col++) {
        dst[off + col] = tailWeight(op, rowGroup, Numerics.code(codes, rowBytes, col));
      }
    }
  }

  /**
   * {@code y[m0 + i, t0 + j] = dot(xs row i, wt row j)} for a chunk of X rows and a tile of W rows.
   */
  private static void multiplyTile(
      SketchOperands op, float[] xs, int xBase, int mc, long m0, float[] wt, int nt, int t0) {
    int k = op.shape().k();
    int i = 0;
    for (; i + 4 <= mc; i += 4) {
      int j = 0;
      for (; j + 4 <= nt; j += 4) {
        dot4x4(op, xs, xBase + i * k, m0 + i, wt, j, t0, k);
      }
      for (; j < nt; j++) {
        for (int r = 0; r < 4; r++) {
          store(op, m0 + i + r, t0 + j, dot(xs, xBase + (i + r) * k, wt, j * k, k));
        }
      }
    }
    for (; i + 2 <= mc; i += 2) {
      int j = 0;
      for (; j + 4 <= nt; j += 4) {
        dot2x4(op, xs, xBase + i * k, m0 + i, wt, j, t0, k);
      }
      for (; j < nt; j++) {
        store(op, m0 + i, t0 + j, dot(xs, xBase + i * k, wt, j * k, k));
        store(op, m0 + i + 1, t0 + j, dot(xs, xBase + (i + 1) * k, wt, j * k, k));
      }
    }
    for (; i < mc; i++) {
      for (int j = 0; j < nt; j++) {
        store(op, m0 + i, t0 + j, dot(xs, xBase + i * k, wt, j * k, k));
      }
    }
  }

  /**
   * Four X rows against four W rows: 16 accumulators, 8 loads per 16 FMAs (2.5x the 2×4 block's
   * speed).
   */
  private static void dot4x4(
      SketchOperands op, float[] xs, int x0, long m, float[] wt, int j, int t0, int k) {
    int x1 = x0 + k;
    int x2 = x1 + k;
    int x3 = x2 + k;
    int w0 = j * k;
    int w1 = w0 + k;
    int w2 = w1 + k;
    int w3 = w2 + k;
    FloatVector c00 = FloatVector.zero(FLOATS);
    FloatVector c01 = c00;
    FloatVector c02 = c00;
    FloatVector c03 = c00;
    FloatVector c10 = c00;
    FloatVector c11 = c00;
    FloatVector c12 = c00;
    FloatVector c13 = c00;
    FloatVector c20 = c00;
    FloatVector c21 = c00;
    FloatVector c22 = c00;
    FloatVector c23 = c00;
    FloatVector c30 = c00;
    FloatVector c31 = c00;
    FloatVector c32 = c00;
    FloatVector c33 = c00;
    int lanes = FLOATS.length();
    int kv = k - k % lanes;
    for (int c = 0; c < kv; c += lanes) {
      FloatVector b0 = FloatVector.fromArray(FLOATS, wt, w0 + c);
      FloatVector b1 = FloatVector.fromArray(FLOATS, wt, w1 + c);
      FloatVector b2 = FloatVector.fromArray(FLOATS, wt, w2 + c);
      FloatVector b3 = FloatVector.fromArray(FLOATS, wt, w3 + c);
      FloatVector a = FloatVector.fromArray(FLOATS, xs, x0 + c);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
      c03 = a.fma(b3, c03);
      a = FloatVector.fromArray(FLOATS, xs, x1 + c);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      c12 = a.fma(b2, c12);
      c13 = a.fma(b3, c13);
      a = FloatVector.fromArray(FLOATS, xs, x2 + c);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      c22 = a.fma(b2, c22);
      c23 = a.fma(b3, c23);
      a = FloatVector.fromArray(FLOATS, xs, x3 + c);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      c32 = a.fma(b2, c32);
      c33 = a.fma(b3, c33);
    }
    int n = t0 + j;
    store(op, m, n, c00.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w0, kv, k));
    store(op, m, n + 1, c01.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w1, kv, k));
    store(op, m, n + 2, c02.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w2, kv, k));
    store(op, m, n + 3, c03.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w3, kv, k));
    store(op, m + 1, n, c10.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w0, kv, k));
    store(op, m + 1, n + 1, c11.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w1, kv, k));
    store(op, m + 1, n + 2, c12.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w2, kv, k));
    store(op, m + 1, n + 3, c13.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w3, kv, k));
    store(op, m + 2, n, c20.reduceLanes(VectorOperators.ADD) + tailDot(xs, x2, wt, w0, kv, k));
    store(op, m + 2, n + 1, c21.reduceLanes(VectorOperators.ADD) + tailDot(xs, x2, wt, w1, kv, k));
    store(op, m + 2, n + 2, c22.reduceLanes(VectorOperators.ADD) + tailDot(xs, x2, wt, w2, kv, k));
    store(op, m + 2, n + 3, c23.reduceLanes(VectorOperators.ADD) + tailDot(xs, x2, wt, w3, kv, k));
    store(op, m + 3, n, c30.reduceLanes(VectorOperators.ADD) + tailDot(xs, x3, wt, w0, kv, k));
    store(op, m + 3, n + 1, c31.reduceLanes(VectorOperators.ADD) + tailDot(xs, x3, wt, w1, kv, k));
    store(op, m + 3, n + 2, c32.reduceLanes(VectorOperators.ADD) + tailDot(xs, x3, wt, w2, kv, k));
    store(op, m + 3, n + 3, c33.reduceLanes(VectorOperators.ADD) + tailDot(xs, x3, wt, w3, kv, k));
  }

  /** Two X rows against four W rows (the 4×4 block's remainder rows). */
  private static void dot2x4(
      SketchOperands op, float[] xs, int x0, long m, float[] wt, int j, int t0, int k) {
    int x1 = x0 + k;
    int w0 = j * k;
    int w1 = w0 + k;
    int w2 = w1 + k;
    int w3 = w2 + k;
    FloatVector c00 = FloatVector.zero(FLOATS);
    FloatVector c01 = c00;
    FloatVector c02 = c00;
    FloatVector c03 = c00;
    FloatVector c10 = c00;
    FloatVector c11 = c00;
    FloatVector c12 = c00;
    FloatVector c13 = c00;
    int lanes = FLOATS.length();
    int kv = k - k % lanes;
    for (int c = 0; c < kv; c += lanes) {
      FloatVector a0 = FloatVector.fromArray(FLOATS, xs, x0 + c);
      FloatVector a1 = FloatVector.fromArray(FLOATS, xs, x1 + c);
      FloatVector b = FloatVector.fromArray(FLOATS, wt, w0 + c);
      c00 = a0.fma(b, c00);
      c10 = a1.fma(b, c10);
      b = FloatVector.fromArray(FLOATS, wt, w1 + c);
      c01 = a0.fma(b, c01);
      c11 = a1.fma(b, c11);
      b = FloatVector.fromArray(FLOATS, wt, w2 + c);
      c02 = a0.fma(b, c02);
      c12 = a1.fma(b, c12);
      b = FloatVector.fromArray(FLOATS, wt, w3 + c);
      c03 = a0.fma(b, c03);
      c13 = a1.fma(b, c13);
    }
    int n = t0 + j;
    store(op, m, n, c00.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w0, kv, k));
    store(op, m, n + 1, c01.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w1, kv, k));
    store(op, m, n + 2, c02.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w2, kv, k));
    store(op, m, n + 3, c03.reduceLanes(VectorOperators.ADD) + tailDot(xs, x0, wt, w3, kv, k));
    store(op, m + 1, n, c10.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w0, kv, k));
    store(op, m + 1, n + 1, c11.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w1, kv, k));
    store(op, m + 1, n + 2, c12.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w2, kv, k));
    store(op, m + 1, n + 3, c13.reduceLanes(VectorOperators.ADD) + tailDot(xs, x1, wt, w3, kv, k));
  }

  private static float dot(float[] xs, int xOff, float[] wt, int wOff, int k) {
    int lanes = FLOATS.length();
    int kv = k - k % lanes;
    FloatVector acc = FloatVector.zero(FLOATS);
    for (int c = 0; c < kv; c += lanes) {
      acc =
          FloatVector.fromArray(FLOATS, xs, xOff + c)
              .fma(FloatVector.fromArray(FLOATS, wt, wOff + c), acc);
    }
    return acc.reduceLanes(VectorOperators.ADD) + tailDot(xs, xOff, wt, wOff, kv, k);
  }

  private static float tailDot(float[] xs, int xOff, float[] wt, int wOff, int from, int k) {
    float t = 0f;
    for (int c = from; c < k; c++) {
      t += xs[xOff + c] * wt[wOff + c];
    }
    return t;
  }

  private static void store(SketchOperands op, long m, int n, float value) {
    if (op.bias() != null) {
      value += Numerics.load(op.bias(), op.xType(), n);
    }
    Numerics.store(op.y(), op.xType(), m * op.shape().n() + n, value);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private static int roundUp(int a, int multiple) {
    return ceilDiv(a, multiple) * multiple;
  }
}
