package io.sketchrt.runtime.ort.sketch;

import static io.sketchrt.runtime.ort.sketch.NativeSketchLibrary.MATMUL;
import static io.sketchrt.runtime.ort.sketch.NativeSketchLibrary.PREPARE_LUT;
import static io.sketchrt.runtime.ort.sketch.NativeSketchLibrary.PREPARE_X;
import static io.sketchrt.runtime.ort.sketch.NativeSketchLibrary.X_BYTES;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * SketchMatMul in the native kernel ({@link NativeSketchLibrary}): int16 (or, approximate, int8)
 * LUTs with a scale per row group, X quantised to 14 bits per row and group on each call, integer
 * dot products (AVX-512 VNNI {@code vpdpwssd}, AVX2 {@code pmaddwd}) summed in fp32.
 *
 * <p>One instance per node: it keeps the node's prepared LUT, made once when the LUT is a constant
 * initializer (every converted model), or on every call when it is a graph input. The calling
 * thread quantises X once; the W rows are split into tasks, one downcall each, that ONNX Runtime's
 * pool runs in parallel.
 */
final class NativeSketchMatMul implements SketchMatMulKernel {
  /** Rows per task are a multiple of the kernel's W tile. */
  private static final int ROW_TILE = 32;

  /** Weights a task should hold at least, so that scheduling costs stay small. */
  private static final long WEIGHTS_PER_TASK = 1L << 18;

  private static final int MAX_TASKS = 32;

  private static final ThreadLocal<MemorySegment[]> XQ =
      ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

  private final int path;
  private final int lutBits;
  private final boolean lutConstant;
  private volatile Prepared prepared;

  /**
   * A LUT in the kernel's layout: int16 entries {@code [sets, N, G, 16]}, scales {@code [sets, N,
   * G]}.
   */
  private record Prepared(long lutAddress, long sets, MemorySegment q, MemorySegment scale) {}

  /**
   * @param lutBits 16 (near-exact) or 8 (approximate)
   * @param lutConstant whether the node's LUT is a constant initializer, so it is prepared once
   */
  NativeSketchMatMul(int lutBits, boolean lutConstant) {
    this(NativeSketchLibrary.path(), lutBits, lutConstant);
  }

  /** With an explicit path ({@link NativeSketchLibrary#PATH_AVX2} ...), for tests of each path. */
  NativeSketchMatMul(int path, int lutBits, boolean lutConstant) {
    this.path = path;
    this.lutBits = lutBits;
    this.lutConstant = lutConstant;
  }

  @Override
  public void run(SketchOperands op, ParallelRunner parallel) {
    if (op.m() == 0) {
      return;
    }
    Prepared lut = prepared(op, 1);
    multiply(op, lut.q(), lut.scale(), 1, MemorySegment.NULL, parallel);
  }

  /**
   * Y of {@code op} whose LUT input holds {@code sets} sets {@code [sets, N, G, 2^bits]}: X row
   * {@code r} uses set {@code rowSet[r]} (int32 [m], NULL: set 0).
   */
  void runSets(SketchOperands op, long sets, MemorySegment rowSet, ParallelRunner parallel) {
    if (op.m() == 0) {
      return;
    }
    Prepared lut = prepared(op, sets);
    multiply(op, lut.q(), lut.scale(), sets, rowSet, parallel);
  }

  /**
   * Y of {@code op} with the LUTs of tuned-set slots: {@code q [sets, N, G, 16]}, {@code scale
   * [sets, N, G]}; X row {@code r} uses slot {@code rowSlot[r]} (int32 [m], NULL: slot 0). The
   * codes are read once for all rows; rows are grouped by slot inside the native kernel.
   */
  void multiply(
      SketchOperands op,
      MemorySegment q,
      MemorySegment scale,
      long sets,
      MemorySegment rowSlot,
      ParallelRunner parallel) {
    SketchShape s = op.shape();
    long m = op.m();
    MemorySegment xq = quantisedX(op, path);
    long weights = (long) s.n() * s.k();
    int tasks = (int) Math.max(1, Math.min(MAX_TASKS, weights / WEIGHTS_PER_TASK));
    int rowsPerTask = roundUp(ceilDiv(s.n(), tasks), ROW_TILE);
    int realTasks = ceilDiv(s.n(), rowsPerTask);
    MemorySegment bias = op.bias() == null ? MemorySegment.NULL : op.bias();
    parallel.run(
        realTasks,
        t -> {
          long n0 = (long) t * rowsPerTask;
          long n1 = Math.min(s.n(), n0 + rowsPerTask);
          int rc;
          try {
            rc =
                (int)
                    MATMUL.invokeExact(
                        path,
                        xq,
                        m,
                        (long) s.k(),
                        (long) s.groups(),
                        s.bits(),
                        rowSlot,
                        sets,
                        op.codes(),
                        q,
                        scale,
                        bias,
                        op.xType().onnx,
                        op.y(),
                        (long) s.n(),
                        n0,
                        n1);
          } catch (Throwable e) {
            throw new IllegalStateException("native SketchMatMul call failed: " + e, e);
          }
          check(rc, "sketch_cpu_matmul");
        });
  }

  /** X quantised into this thread's scratch, grown on demand and kept. */
  private static MemorySegment quantisedX(SketchOperands op, int path) {
    SketchShape s = op.shape();
    long bytes;
    int rc;
    try {
      bytes = (long) X_BYTES.invokeExact(op.m(), (long) s.k(), (long) s.groups());
      if (bytes < 0) {
        check((int) bytes, "sketch_cpu_x_bytes");
      }
      MemorySegment[] mine = XQ.get();
      if (mine[0].byteSize() < bytes) {
        mine[0] = Arena.ofAuto().allocate(Math.max(bytes, 2 * mine[0].byteSize()), 64);
      }
      rc =
          (int)
              PREPARE_X.invokeExact(
                  path, op.x(), op.xType().onnx, op.m(), (long) s.k(), (long) s.groups(), mine[0]);
      check(rc, "sketch_cpu_prepare_x");
      return mine[0];
    } catch (SketchNode.NodeException | IllegalStateException e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("native SketchMatMul call failed: " + e, e);
    }
  }

  /**
   * The node's LUT in the kernel's layout: prepared once for a constant LUT; for a LUT fed as a
   * graph input (tests), on every call into memory of its own, so concurrent runs never share it.
   */
  private Prepared prepared(SketchOperands op, long sets) {
    if (!lutConstant) {
      return prepare(op, sets);
    }
    Prepared p = prepared;
    if (p != null && p.lutAddress() == op.lut().address() && p.sets() == sets) {
      return p;
    }
    synchronized (this) {
      p = prepared;
      if (p == null || p.lutAddress() != op.lut().address() || p.sets() != sets) {
        p = prepare(op, sets);
        prepared = p;
      }
      return p;
    }
  }

  private Prepared prepare(SketchOperands op, long sets) {
    SketchShape s = op.shape();
    long rowGroups = (long) s.n() * s.groups() * sets;
    Arena arena = Arena.ofAuto(); // freed with the node (or the call) by the GC
    MemorySegment q = arena.allocate(rowGroups * 32, 64);
    MemorySegment scale = arena.allocate(rowGroups * 4, 64);
    int rc;
    try {
      rc =
          (int)
              PREPARE_LUT.invokeExact(
                  op.lut(),
                  op.lutType().onnx,
                  sets,
                  (long) s.n(),
                  (long) s.groups(),
                  s.bits(),
                  lutBits,
                  q,
                  scale);
    } catch (Throwable e) {
      throw new IllegalStateException("native SketchMatMul call failed: " + e, e);
    }
    check(rc, "sketch_cpu_prepare_lut");
    return new Prepared(op.lut().address(), sets, q, scale);
  }

  private static void check(int rc, String call) {
    if (rc < 0) {
      throw new SketchNode.NodeException(call + ": " + NativeSketchLibrary.errorString(rc));
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private static int roundUp(int a, int b) {
    return ceilDiv(a, b) * b;
  }
}
