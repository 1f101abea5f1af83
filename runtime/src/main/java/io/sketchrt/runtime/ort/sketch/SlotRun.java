package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One SketchMatMul call over several LUT sets (version 2): batch row {@code b} of X uses set {@code
 * lut_index[b]}. The native kernel takes every row at once, grouping them by set, so the codes are
 * read once; the Java kernels run once per set in the call, over that set's rows gathered together.
 */
final class SlotRun {
  private SlotRun() {}

  private static final ThreadLocal<MemorySegment[]> SCRATCH =
      ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

  /** The LUT sets a call picks from: tuned-set slots, or a LUT input [T, N, G, E] of the graph. */
  interface LutSets {
    /** How many sets there are: valid indices are 0 to count - 1. */
    long count();

    /** {@code op} with set {@code set}'s LUT [N, G, E], for the Java kernels. */
    SketchOperands withSet(SketchOperands op, int set);

    /** Every row at once in the native kernel; rowSet is int32 [m] (NULL: set 0 everywhere). */
    void runNative(
        NativeSketchMatMul kernel,
        SketchOperands op,
        MemorySegment rowSet,
        ParallelRunner parallel);
  }

  /** The tuned-set slots of one layer ({@link LutSlots}). */
  static LutSets slots(LutSlots.Layer layer, int capacity) {
    long lutBytes = layer.rowGroups() * layer.shape.entries() * 4;
    return new LutSets() {
      @Override
      public long count() {
        return capacity;
      }

      @Override
      public SketchOperands withSet(SketchOperands op, int set) {
        return withLut(op, ElementType.FLOAT, layer.fp32.asSlice(set * lutBytes, lutBytes));
      }

      @Override
      public void runNative(
          NativeSketchMatMul kernel,
          SketchOperands op,
          MemorySegment rowSet,
          ParallelRunner parallel) {
        kernel.multiply(op, layer.q, layer.scale, capacity, rowSet, parallel);
      }
    };
  }

  /** The node's own LUT input holding {@code sets} sets one after the other. */
  static LutSets graphLut(SketchOperands op, long sets) {
    SketchShape s = op.shape();
    long lutBytes = (long) s.n() * s.groups() * s.entries() * op.lutType().bytes;
    return new LutSets() {
      @Override
      public long count() {
        return sets;
      }

      @Override
      public SketchOperands withSet(SketchOperands call, int set) {
        return withLut(call, call.lutType(), call.lut().asSlice(set * lutBytes, lutBytes));
      }

      @Override
      public void runNative(
          NativeSketchMatMul kernel,
          SketchOperands call,
          MemorySegment rowSet,
          ParallelRunner parallel) {
        kernel.runSets(call, sets, rowSet, parallel);
      }
    };
  }

  /**
   * @param batchSets the set of each batch row (length 1: every row); X's m rows split evenly over
   *     them
   */
  static void run(
      SketchOperands op,
      int[] batchSets,
      LutSets sets,
      SketchMatMulKernel kernel,
      ParallelRunner parallel,
      String where) {
    long m = op.m();
    if (m == 0) {
      return;
    }
    int b = batchSets.length;
    if (m % b != 0) {
      throw new SketchNode.NodeException(
          where + m + " rows of X do not split into the " + b + " rows of lut_index");
    }
    for (int i = 0; i < b; i++) {
      if (batchSets[i] < 0 || batchSets[i] >= sets.count()) {
        throw new SketchNode.NodeException(
            where
                + "lut_index["
                + i
                + "] = "
                + batchSets[i]
                + " is outside the "
                + sets.count()
                + " LUT set(s)");
      }
    }
    long perRow = m / b;
    List<Integer> distinct = distinct(batchSets);
    if (kernel instanceof NativeSketchMatMul n) {
      MemorySegment rowSet = MemorySegment.NULL;
      if (distinct.size() > 1 || distinct.getFirst() != 0) {
        rowSet = scratch(m * 4);
        for (long r = 0; r < m; r++) {
          rowSet.setAtIndex(JAVA_INT, r, batchSets[(int) (r / perRow)]);
        }
      }
      sets.runNative(n, op, rowSet, parallel);
      return;
    }
    if (distinct.size() == 1) {
      kernel.run(sets.withSet(op, distinct.getFirst()), parallel);
      return;
    }
    // Rows of several sets: gather each set's rows, multiply, scatter back.
    SketchShape s = op.shape();
    long xRow = (long) s.k() * op.xType().bytes;
    long yRow = (long) s.n() * op.xType().bytes;
    try (Arena arena = Arena.ofConfined()) {
      for (int set : distinct) {
        List<Long> rows = new ArrayList<>();
        for (long r = 0; r < m; r++) {
          if (batchSets[(int) (r / perRow)] == set) {
            rows.add(r);
          }
        }
        MemorySegment x = arena.allocate(rows.size() * xRow, 64);
        MemorySegment y = arena.allocate(rows.size() * yRow, 64);
        for (int i = 0; i < rows.size(); i++) {
          MemorySegment.copy(op.x(), rows.get(i) * xRow, x, i * xRow, xRow);
        }
        SketchOperands part =
            new SketchOperands(
                s, rows.size(), op.xType(), x, op.codes(), op.lutType(), op.lut(), op.bias(), y);
        kernel.run(sets.withSet(part, set), parallel);
        for (int i = 0; i < rows.size(); i++) {
          MemorySegment.copy(y, i * yRow, op.y(), rows.get(i) * yRow, yRow);
        }
      }
    }
  }

  private static SketchOperands withLut(SketchOperands op, ElementType type, MemorySegment lut) {
    return new SketchOperands(
        op.shape(), op.m(), op.xType(), op.x(), op.codes(), type, lut, op.bias(), op.y());
  }

  private static List<Integer> distinct(int[] sets) {
    List<Integer> out = new ArrayList<>();
    for (int s : sets) {
      if (!out.contains(s)) {
        out.add(s);
      }
    }
    return out;
  }

  private static MemorySegment scratch(long bytes) {
    MemorySegment[] mine = SCRATCH.get();
    if (mine[0].byteSize() < bytes) {
      mine[0] = Arena.ofAuto().allocate(Math.max(bytes, 2 * mine[0].byteSize()), 64);
    }
    return mine[0];
  }
}
