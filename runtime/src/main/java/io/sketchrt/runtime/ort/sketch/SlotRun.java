package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One SketchMatMul call over tuned-set slots ({@link LutSlots}): each batch row of the pass uses
 * the LUTs of its own slot. The native kernel takes every row at once, grouping them by slot, so
 * the codes are read once; the exact Java kernel runs once per slot in the call, over that slot's
 * rows gathered together.
 */
final class SlotRun {
  private SlotRun() {}

  private static final ThreadLocal<MemorySegment[]> SCRATCH =
      ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

  static void run(
      SketchOperands op,
      LutSlots.Layer layer,
      int capacity,
      SketchMatMulKernel kernel,
      ParallelRunner parallel,
      String where) {
    long m = op.m();
    if (m == 0) {
      return;
    }
    int[] batchSlots = LutSlots.currentRows();
    int b = batchSlots == null ? 1 : batchSlots.length;
    if (m % b != 0) {
      throw new SketchNode.NodeException(
          where + m + " rows of X do not split into " + b + " batch rows of tuned-set slots");
    }
    long perRow = m / b;
    if (kernel instanceof NativeSketchMatMul n) {
      MemorySegment rowSlot = MemorySegment.NULL;
      if (batchSlots != null && distinct(batchSlots).size() > 1
          || batchSlots != null && batchSlots[0] != 0) {
        rowSlot = scratch(m * 4);
        for (long r = 0; r < m; r++) {
          rowSlot.setAtIndex(JAVA_INT, r, batchSlots[(int) (r / perRow)]);
        }
      }
      n.multiply(op, layer.q, layer.scale, capacity, rowSlot, parallel);
      return;
    }
    SketchShape s = op.shape();
    long lutBytes = layer.rowGroups() * s.entries() * 4;
    List<Integer> slots = batchSlots == null ? List.of(0) : distinct(batchSlots);
    if (slots.size() == 1) {
      kernel.run(withLut(op, layer.fp32.asSlice(slots.get(0) * lutBytes, lutBytes)), parallel);
      return;
    }
    // Rows of several slots: gather each slot's rows, multiply, scatter back.
    long xRow = (long) s.k() * op.xType().bytes;
    long yRow = (long) s.n() * op.xType().bytes;
    try (Arena arena = Arena.ofConfined()) {
      for (int slot : slots) {
        List<Long> rows = new ArrayList<>();
        for (long r = 0; r < m; r++) {
          if (batchSlots[(int) (r / perRow)] == slot) {
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
                s,
                rows.size(),
                op.xType(),
                x,
                op.codes(),
                ElementType.FLOAT,
                layer.fp32.asSlice(slot * lutBytes, lutBytes),
                op.bias(),
                y);
        kernel.run(part, parallel);
        for (int i = 0; i < rows.size(); i++) {
          MemorySegment.copy(y, i * yRow, op.y(), rows.get(i) * yRow, yRow);
        }
      }
    }
  }

  private static SketchOperands withLut(SketchOperands op, MemorySegment lut) {
    return new SketchOperands(
        op.shape(),
        op.m(),
        op.xType(),
        op.x(),
        op.codes(),
        ElementType.FLOAT,
        lut,
        op.bias(),
        op.y());
  }

  private static List<Integer> distinct(int[] slots) {
    List<Integer> out = new ArrayList<>();
    for (int s : slots) {
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
