package io.sketchrt.runtime.ort.sketch;

import io.sketchrt.format.GroupQueryAttentionOp;
import java.lang.foreign.MemorySegment;

/**
 * The {@code OrtCustomOp} struct for {@code ai.sketchrt::GroupQueryAttention} (fp32 query, keys,
 * values, cache and rotary cos / sin, int32 lengths), added to the same domain as {@code
 * SketchMatMul} where the native library runs; elsewhere ONNX Runtime inlines the node's function,
 * com.microsoft GroupQueryAttention. {@link CustomOps} implements it.
 */
final class AttentionOps implements CustomOps.Op {
  static final String OP_TYPE = GroupQueryAttentionOp.OP_TYPE;
  private static final CustomOps.OpName NAME =
      new CustomOps.OpName(OP_TYPE, KernelTimers.Kind.ATTENTION);

  /** The struct to add to the custom-op domain. */
  static final MemorySegment STRUCT = CustomOps.struct(new AttentionOps());

  private AttentionOps() {}

  @Override
  public CustomOps.OpName name() {
    return NAME;
  }

  @Override
  public int inputCount() {
    return GroupQueryAttentionOp.INPUTS;
  }

  @Override
  public int inputType(int index) {
    return AttentionNode.inputType(index).onnx;
  }

  /** cos and sin: graphs converted before the node took the rotary leave them out. */
  @Override
  public boolean inputOptional(int index) {
    return index >= GroupQueryAttentionOp.REQUIRED_INPUTS;
  }

  @Override
  public int outputCount() {
    return GroupQueryAttentionOp.OUTPUTS;
  }

  @Override
  public int outputType(int index) {
    return ElementType.FLOAT.onnx;
  }

  @Override
  public CustomOps.Kernel create(MemorySegment info) throws Throwable {
    return AttentionNode.create(info, NativeSketchLibrary.path());
  }
}
