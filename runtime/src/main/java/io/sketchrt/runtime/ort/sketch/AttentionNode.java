package io.sketchrt.runtime.ort.sketch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sketchrt.format.GroupQueryAttentionOp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The kernel of one {@code GroupQueryAttention} node in one session: checks the shapes at each
 * call, then runs {@code sketch_cpu_gqa}, one downcall per (row, key/value head) task on ONNX
 * Runtime's pool. Each task writes its head's new keys (rotated, when the node has cos and sin) and
 * values into the cache and reads the head's cached positions once for every query head that shares
 * it.
 *
 * <p>The cache is updated in place when present is bound to the past buffer (sketchrt's runtime
 * does that); otherwise the past is first copied into present, as ONNX Runtime's own kernel does.
 */
final class AttentionNode implements CustomOps.Kernel {
  private static final int SCALAR_PATH = 0;

  private final String name;
  private final int path;
  private final int heads;
  private final int kvHeads;

  private AttentionNode(String name, int path, int heads, int kvHeads) {
    this.name = name;
    this.path = path;
    this.heads = heads;
    this.kvHeads = kvHeads;
  }

  static AttentionNode create(MemorySegment info, int path) throws Throwable {
    String name = SketchNode.nodeName(info);
    long heads = SketchNode.intAttribute(info, where(name), GroupQueryAttentionOp.ATTR_HEADS);
    long kvHeads = SketchNode.intAttribute(info, where(name), GroupQueryAttentionOp.ATTR_KV_HEADS);
    if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || heads > 4096) {
      throw new SketchNode.NodeException(
          where(name)
              + "num_heads "
              + heads
              + " must be a positive multiple of kv_num_heads "
              + kvHeads);
    }
    return new AttentionNode(name, path, (int) heads, (int) kvHeads);
  }

  /**
   * query, key, value, past_key, past_value: float; seqlens_k, total_sequence_length: int32; cos,
   * sin: float.
   */
  static ElementType inputType(int index) {
    return index == GroupQueryAttentionOp.INPUT_SEQLENS_K
            || index == GroupQueryAttentionOp.INPUT_TOTAL_LENGTH
        ? ElementType.INT32
        : ElementType.FLOAT;
  }

  @Override
  public String name() {
    return name;
  }

  private static String where(String name) {
    return "GroupQueryAttention node '" + name + "': ";
  }

  private SketchNode.NodeException bad(String what) {
    return new SketchNode.NodeException(where(name) + what);
  }

  @Override
  public long compute(MemorySegment context) throws Throwable {
    MemorySegment out = SketchNode.OUT.get();
    OrtCApi.check(
        (MemorySegment) OrtCApi.KernelContext_GetInputCount.invokeExact(context, out),
        "KernelContext_GetInputCount");
    long given = out.get(ValueLayout.JAVA_LONG, 0);
    SketchNode.Tensor[] in = new SketchNode.Tensor[GroupQueryAttentionOp.INPUTS];
    for (int i = 0; i < in.length; i++) {
      in[i] = i < given ? SketchNode.input(name, context, i, out) : null;
      if (in[i] == null) {
        if (i >= GroupQueryAttentionOp.REQUIRED_INPUTS) {
          continue;
        }
        throw bad("input " + i + " is required");
      }
      ElementType expected = inputType(i);
      if (in[i].onnxType() != expected.onnx) {
        throw bad(
            "input "
                + i
                + " is "
                + ElementType.onnxName(in[i].onnxType())
                + ", expected "
                + expected);
      }
    }
    SketchNode.Tensor q = in[GroupQueryAttentionOp.INPUT_QUERY];
    SketchNode.Tensor k = in[GroupQueryAttentionOp.INPUT_KEY];
    SketchNode.Tensor v = in[GroupQueryAttentionOp.INPUT_VALUE];
    SketchNode.Tensor pastK = in[GroupQueryAttentionOp.INPUT_PAST_KEY];
    SketchNode.Tensor pastV = in[GroupQueryAttentionOp.INPUT_PAST_VALUE];
    SketchNode.Tensor seqlens = in[GroupQueryAttentionOp.INPUT_SEQLENS_K];
    SketchNode.Tensor total = in[GroupQueryAttentionOp.INPUT_TOTAL_LENGTH];
    SketchNode.Tensor cos = in[GroupQueryAttentionOp.INPUT_COS];
    SketchNode.Tensor sin = in[GroupQueryAttentionOp.INPUT_SIN];
    long[] pd = pastK.dims();
    if (pd.length != 4 || pd[1] != kvHeads || !Arrays.equals(pd, pastV.dims())) {
      throw bad(
          "past_key "
              + Arrays.toString(pd)
              + " and past_value "
              + Arrays.toString(pastV.dims())
              + " must both be [batch, "
              + kvHeads
              + ", positions, head_size]");
    }
    long batch = pd[0];
    long room = pd[2];
    long d = pd[3];
    long[] qd = q.dims();
    if (qd.length != 3 || qd[0] != batch || qd[2] != heads * d) {
      throw bad(
          "query "
              + Arrays.toString(qd)
              + " must be [batch "
              + batch
              + ", new tokens, "
              + heads
              + " x "
              + d
              + "]");
    }
    long seq = qd[1];
    requireBoth("key", k, "value", v, new long[] {batch, seq, kvHeads * d});
    if (seqlens.elements() != batch || total.elements() != 1) {
      throw bad(
          "seqlens_k has "
              + seqlens.elements()
              + " values for a batch of "
              + batch
              + ", total_sequence_length "
              + total.elements());
    }
    if ((cos == null) != (sin == null)) {
      throw bad("cos and sin come together (rotary), or neither");
    }
    if (cos != null) {
      if (d % 2 != 0) {
        throw bad("the rotary (cos and sin) needs an even head size, not " + d);
      }
      requireBoth("cos", cos, "sin", sin, new long[] {batch, seq, d});
    }
    MemorySegment cosData = cos == null ? MemorySegment.NULL : cos.data();
    MemorySegment sinData = sin == null ? MemorySegment.NULL : sin.data();
    long totalLength = total.data().reinterpret(4).get(JAVA_INT, 0);
    long presentRoom = Math.max(room, totalLength);
    long[] presentDims = {batch, kvHeads, presentRoom, d};
    long presentBytes = batch * kvHeads * presentRoom * d * Float.BYTES;
    MemorySegment y =
        SketchNode.output(context, 0, new long[] {batch, seq, heads * d}, q.data().byteSize(), out);
    MemorySegment presentK = SketchNode.output(context, 1, presentDims, presentBytes, out);
    MemorySegment presentV = SketchNode.output(context, 2, presentDims, presentBytes, out);
    copyPast(pastK.data(), presentK, batch, room, presentRoom, d);
    copyPast(pastV.data(), presentV, batch, room, presentRoom, d);
    long tasks = batch * kvHeads;
    // the vector paths take head sizes in whole vectors (the fixtures' are smaller)
    int run = d % 16 == 0 && d <= 256 ? path : SCALAR_PATH;
    MemorySegment lengths = seqlens.data();
    float scale = (float) (1.0 / Math.sqrt(d));
    OrtParallelFor.on(context)
        .run(
            (int) tasks,
            t -> {
              int rc;
              try {
                rc =
                    (int)
                        NativeSketchLibrary.GQA.invokeExact(
                            run,
                            q.data(),
                            k.data(),
                            v.data(),
                            batch,
                            seq,
                            (long) heads,
                            (long) kvHeads,
                            d,
                            lengths,
                            cosData,
                            sinData,
                            presentK,
                            presentV,
                            presentRoom,
                            scale,
                            y,
                            (long) t,
                            (long) t + 1);
              } catch (Throwable e) {
                throw new IllegalStateException("native GroupQueryAttention call failed: " + e, e);
              }
              if (rc < 0) {
                throw new SketchNode.NodeException(
                    where(name)
                        + "sketch_cpu_gqa: "
                        + NativeSketchLibrary.errorString(rc)
                        + " (seqlens_k must leave room for "
                        + seq
                        + " new positions in "
                        + presentRoom
                        + ")");
              }
            });
    return batch * seq;
  }

  /** Both tensors of a pair (key and value, cos and sin) must have {@code shape}. */
  private void requireBoth(
      String first, SketchNode.Tensor a, String second, SketchNode.Tensor b, long[] shape) {
    if (!Arrays.equals(a.dims(), shape) || !Arrays.equals(b.dims(), shape)) {
      throw bad(
          first
              + " "
              + Arrays.toString(a.dims())
              + " and "
              + second
              + " "
              + Arrays.toString(b.dims())
              + " must both be "
              + Arrays.toString(shape));
    }
  }

  /** Past into present, head by head, unless present is the past buffer itself (in place). */
  private void copyPast(
      MemorySegment past, MemorySegment present, long batch, long room, long presentRoom, long d) {
    if (past.address() == present.address()) {
      return;
    }
    long run = room * d * Float.BYTES;
    for (long h = 0; h < batch * kvHeads; h++) {
      MemorySegment.copy(past, h * run, present, h * presentRoom * d * Float.BYTES, run);
    }
  }
}
