package io.sketchrt.runtime.trt;

import io.sketchrt.runtime.SketchrtException;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * One execution context with its own optimisation profile, CUDA stream and I/O buffers: a forward
 * pass holds one slot, so as many passes run at once as the engine has profiles.
 */
final class ExecutionSlot implements AutoCloseable {
  final IExecutionContext context;
  final CUstream_st stream;
  final Pointer inputIds;
  final Pointer attentionMask;
  final Pointer positionIds;

  /** int32 [maxBatch] zeros: lut_index (SketchMatMul v2) picks the graph's one LUT set per row. */
  final Pointer lutIndex;

  final LongPointer hostLongs;
  final FloatPointer hostLogits;

  /** Host memory for the num_logits_to_keep shape tensor: 0, every position's logits. */
  final LongPointer keepAll = new LongPointer(1).put(0L);

  private Pointer logits;
  private long logitsBytes;

  ExecutionSlot(
      ICudaEngine engine, int profile, int maxBatch, int maxSequence, int vocab, TrtLogger logger)
      throws SketchrtException {
    long tokens = (long) maxBatch * maxSequence;
    CUstream_st s = null;
    IExecutionContext c = null;
    Pointer ids = null;
    Pointer mask = null;
    Pointer pos = null;
    Pointer index = null;
    try {
      s = Cuda.newStream();
      c = engine.createExecutionContext();
      if (c == null || c.isNull()) {
        throw new SketchrtException(
            "TensorRT cannot create an execution context: " + logger.takeLastError());
      }
      if (!c.setOptimizationProfileAsync(profile, s)) {
        throw new SketchrtException(
            "TensorRT cannot select optimisation profile "
                + profile
                + ": "
                + logger.takeLastError());
      }
      Cuda.sync(s);
      ids = Cuda.malloc(tokens * Long.BYTES, "input_ids");
      mask = Cuda.malloc(tokens * Long.BYTES, "attention_mask");
      pos = Cuda.malloc(tokens * Long.BYTES, "position_ids");
      index = Cuda.malloc((long) maxBatch * Integer.BYTES, "lut_index");
      try (org.bytedeco.javacpp.IntPointer zeros = new org.bytedeco.javacpp.IntPointer(maxBatch)) {
        zeros.zero();
        Cuda.toDevice(index, zeros, (long) maxBatch * Integer.BYTES, s);
        Cuda.sync(s);
      }
    } catch (SketchrtException | RuntimeException e) {
      Cuda.free(index);
      Cuda.free(ids);
      Cuda.free(mask);
      Cuda.free(pos);
      NativeDelete.noCopy(c);
      Cuda.destroy(s);
      throw e;
    }
    this.stream = s;
    this.context = c;
    this.inputIds = ids;
    this.attentionMask = mask;
    this.positionIds = pos;
    this.lutIndex = index;
    this.hostLongs = new LongPointer(tokens);
    this.hostLogits = new FloatPointer((long) maxBatch * vocab);
  }

  /** The logits output buffer, grown to {@code bytes} when a longer prefill needs it. */
  Pointer logits(long bytes) throws SketchrtException {
    if (bytes > logitsBytes) {
      Cuda.free(logits);
      logits = null;
      logitsBytes = 0;
      logits = Cuda.malloc(bytes, "logits");
      logitsBytes = bytes;
    }
    return logits;
  }

  @Override
  public void close() {
    NativeDelete.noCopy(context);
    Cuda.free(inputIds);
    Cuda.free(attentionMask);
    Cuda.free(positionIds);
    Cuda.free(lutIndex);
    Cuda.free(logits);
    Cuda.destroy(stream);
    hostLongs.close();
    keepAll.close();
    hostLogits.close();
  }
}
