package io.sketchrt.runtime.trt;

import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.DecoderIo;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * A TensorRT engine of a decoder graph (DESIGN section 4 I/O) run with {@code enqueueV3}. Each
 * forward pass borrows an {@link ExecutionSlot} (its own profile and stream), binds the cache's GPU
 * buffers as past and present, copies the int64 inputs up and only the last position's logits of
 * each row back. A read-write lock keeps {@link #close()} from freeing under a running pass.
 */
final class TrtDecoderSession implements DecoderSession {
  private final IRuntime runtime;
  private final ICudaEngine engine;
  private final TrtLogger logger;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int vocab;
  private final int kvElementBytes;
  private final int maxBatch;
  private final int maxSequence;
  private final DecoderIo io;
  private final List<ExecutionSlot> slots = new ArrayList<>();
  private final BlockingQueue<ExecutionSlot> free;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  /**
   * Engines of graphs with num_logits_to_keep get it as a host shape tensor fixed at 0 (every
   * position).
   */
  private boolean logitsToKeep;

  /** Whether the engine takes lut_index (a portable graph with SketchMatMul version 2). */
  private boolean lutIndex;

  private boolean closed;

  TrtDecoderSession(
      IRuntime runtime,
      ICudaEngine engine,
      TrtLogger logger,
      ModelCard card,
      Path engineFile,
      int maxBatch,
      int maxSequence)
      throws SketchrtException {
    this.runtime = runtime;
    this.engine = engine;
    this.logger = logger;
    this.layers = card.numLayers();
    this.kvHeads = card.numKeyValueHeads();
    this.headDim = card.headDim();
    this.vocab = card.vocabSize();
    this.maxBatch = maxBatch;
    this.maxSequence = maxSequence;
    this.io = new DecoderIo(layers);
    checkTensors(engineFile);
    nvinfer.DataType kv = engine.getTensorDataType(io.past(0));
    if (kv == nvinfer.DataType.kFLOAT) {
      this.kvElementBytes = 4;
    } else if (kv == nvinfer.DataType.kHALF || kv == nvinfer.DataType.kBF16) {
      this.kvElementBytes = 2;
    } else {
      throw new SketchrtException(
          engineFile + ": KV cache type " + kv + " is not supported (float, half, bfloat16)");
    }
    if (engine.getTensorDataType(GraphNames.LOGITS) != nvinfer.DataType.kFLOAT) {
      throw new SketchrtException(
          engineFile
              + ": logits are "
              + engine.getTensorDataType(GraphNames.LOGITS)
              + ", expected float32");
    }
    int profiles = engine.getNbOptimizationProfiles();
    free = new ArrayBlockingQueue<>(profiles);
    try {
      for (int p = 0; p < profiles; p++) {
        ExecutionSlot slot = new ExecutionSlot(engine, p, maxBatch, maxSequence, vocab, logger);
        slots.add(slot);
        free.add(slot);
      }
    } catch (SketchrtException | RuntimeException e) {
      slots.forEach(ExecutionSlot::close);
      throw e;
    }
  }

  private void checkTensors(Path engineFile) throws SketchrtException {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      names.add(engine.getIOTensorName(i));
    }
    logitsToKeep = names.contains(GraphNames.NUM_LOGITS_TO_KEEP);
    lutIndex = names.contains(GraphNames.LUT_INDEX);
    io.requireNone(
        io.missing(names::contains, names::contains, false),
        engineFile + " is not an engine of a sketchrt decoder graph");
  }

  @Override
  public int vocabSize() {
    return vocab;
  }

  @Override
  public KvCache newCache(int batch, int capacity) throws SketchrtException {
    DecoderIo.checkCacheSize(batch, capacity);
    if (batch > maxBatch || capacity > maxSequence) {
      throw new SketchrtException(
          "the TensorRT engine was built for at most "
              + maxBatch
              + " rows of "
              + maxSequence
              + " positions, this generation needs "
              + batch
              + " x "
              + capacity
              + ": rebuild it with larger --max-batch/--max-seq "
              + "(TrtOptions.withMaxBatch/withMaxSequence)");
    }
    lock.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("the model is closed");
      }
      return new TrtKvCache(
          layers, batch, capacity, (long) batch * kvHeads * capacity * headDim * kvElementBytes);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void forward(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache kvCache,
      float[] lastLogits)
      throws SketchrtException {
    forward(inputIds, attentionMask, positionIds, seq, kvCache, lastLogits, false);
  }

  @Override
  public void forwardAllLogits(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache kvCache,
      float[] logits)
      throws SketchrtException {
    forward(inputIds, attentionMask, positionIds, seq, kvCache, logits, true);
  }

  private void forward(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache kvCache,
      float[] lastLogits,
      boolean all)
      throws SketchrtException {
    if (!(kvCache instanceof TrtKvCache cache)) {
      throw new IllegalArgumentException("the KV cache was not made by this session");
    }
    cache.checkOpen();
    int batch = cache.batch();
    int past = cache.length();
    DecoderIo.checkPass(cache, inputIds, attentionMask, positionIds, seq, lastLogits, all, vocab);
    lock.readLock().lock();
    ExecutionSlot slot = null;
    try {
      if (closed) {
        throw new IllegalStateException("the model is closed");
      }
      slot = free.take();
      run(slot, inputIds, attentionMask, positionIds, batch, seq, past, cache, lastLogits, all);
      cache.advance(seq);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SketchrtException(
          "interrupted while waiting for a free TensorRT execution context", e);
    } finally {
      if (slot != null) {
        free.add(slot);
      }
      lock.readLock().unlock();
    }
  }

  private void run(
      ExecutionSlot slot,
      long[] ids,
      long[] mask,
      long[] pos,
      int batch,
      int seq,
      int past,
      TrtKvCache cache,
      float[] lastLogits,
      boolean all)
      throws SketchrtException {
    IExecutionContext ctx = slot.context;
    int total = past + seq;
    // Inputs up: the host buffer is reused for each of the three (the copies are ordered on the
    // stream,
    // and each is synchronised before the buffer is overwritten).
    upload(slot, ids, slot.inputIds);
    upload(slot, mask, slot.attentionMask);
    upload(slot, pos, slot.positionIds);
    shape(ctx, GraphNames.INPUT_IDS, batch, seq);
    shape(ctx, GraphNames.ATTENTION_MASK, batch, total);
    shape(ctx, GraphNames.POSITION_IDS, batch, seq);
    address(ctx, GraphNames.INPUT_IDS, slot.inputIds);
    address(ctx, GraphNames.ATTENTION_MASK, slot.attentionMask);
    address(ctx, GraphNames.POSITION_IDS, slot.positionIds);
    if (logitsToKeep) {
      address(
          ctx, GraphNames.NUM_LOGITS_TO_KEEP, slot.keepAll); // a host-memory shape tensor holding 0
    }
    if (lutIndex) { // set 0 for every row: this backend runs the graph's own LUTs
      shape(ctx, GraphNames.LUT_INDEX, batch);
      address(ctx, GraphNames.LUT_INDEX, slot.lutIndex);
    }
    for (int i = 0; i < io.kvTensors(); i++) {
      shape(ctx, io.past(i), batch, kvHeads, past, headDim);
      address(ctx, io.past(i), cache.past(i));
      address(ctx, io.present(i), cache.present(i));
    }
    long logitsBytes = (long) batch * seq * vocab * Float.BYTES;
    Pointer logits = slot.logits(logitsBytes);
    address(ctx, GraphNames.LOGITS, logits);
    logger.clear();
    if (!ctx.enqueueV3(slot.stream)) {
      throw new SketchrtException("TensorRT failed to run the engine: " + logger.takeLastError());
    }
    long rowBytes = (long) vocab * Float.BYTES;
    if (all) {
      float[] host = new float[batch * seq * vocab];
      try (org.bytedeco.javacpp.FloatPointer staging =
          new org.bytedeco.javacpp.FloatPointer(host.length)) {
        Cuda.toHost(staging, logits, logitsBytes, slot.stream);
        Cuda.sync(slot.stream);
        staging.get(host);
      }
      System.arraycopy(host, 0, lastLogits, 0, host.length);
      return;
    }
    for (int b = 0; b < batch; b++) {
      long from = ((long) b * seq + seq - 1) * rowBytes;
      Cuda.toHost(
          Cuda.at(slot.hostLogits, b * rowBytes), Cuda.at(logits, from), rowBytes, slot.stream);
    }
    Cuda.sync(slot.stream);
    slot.hostLogits.position(0).get(lastLogits, 0, batch * vocab);
  }

  private static void upload(ExecutionSlot slot, long[] values, Pointer device)
      throws SketchrtException {
    slot.hostLongs.position(0).put(values, 0, values.length);
    Cuda.toDevice(device, slot.hostLongs, (long) values.length * Long.BYTES, slot.stream);
    Cuda.sync(slot.stream);
  }

  private void shape(IExecutionContext ctx, String name, long... dims) throws SketchrtException {
    if (!ctx.setInputShape(name, TrtEngineBuilder.dims(dims))) {
      throw new SketchrtException(
          "TensorRT refused shape "
              + java.util.Arrays.toString(dims)
              + " for "
              + name
              + ": "
              + logger.takeLastError());
    }
  }

  private void address(IExecutionContext ctx, String name, Pointer p) throws SketchrtException {
    if (!ctx.setTensorAddress(name, p)) {
      throw new SketchrtException(
          "TensorRT refused the buffer of " + name + ": " + logger.takeLastError());
    }
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        slots.forEach(ExecutionSlot::close);
        NativeDelete.noCopy(engine);
        NativeDelete.noCopy(runtime);
      }
    } finally {
      lock.writeLock().unlock();
    }
  }
}
