package io.sketchrt.runtime.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.LutSlots;
import io.sketchrt.runtime.spi.DecoderIo;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import io.sketchrt.runtime.spi.SlotKvCache;
import io.sketchrt.runtime.spi.TunedSlots;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One OrtSession over a decoder graph with the DESIGN section 4 I/O. OrtSession.run is thread-safe,
 * so passes of different generators run concurrently; a read-write lock keeps {@link #close()} from
 * freeing the session under a running pass.
 */
final class OrtDecoderSession implements DecoderSession {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private final int vocab;
  private final OnnxJavaType kvType;
  private final int kvElementBytes;
  private final DecoderIo io;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  /** The graph keeps keys and values in place (GraphNames.KV_IN_PLACE): one buffer per layer. */
  private final boolean inPlace;

  /** Graphs converted before num_logits_to_keep existed return every position's logits. */
  private final boolean logitsToKeep;

  /**
   * Whether the graph takes lut_index (SketchMatMul version 2): the tuned-set slot of each batch
   * row. Graphs converted before it existed run the default set only.
   */
  private final boolean lutIndex;

  /** The graph file, for messages. */
  private final Path graph;

  private boolean closed;

  /** The model's tuned-set slots, or null (the graph's LUTs only). */
  private final LutSlots slots;

  OrtDecoderSession(
      OrtEnvironment env, OrtSession session, ModelCard card, Path graph, LutSlots slots)
      throws SketchrtException, OrtException {
    this.env = env;
    this.session = session;
    this.slots = slots;
    this.graph = graph;
    this.layers = card.numLayers();
    this.io = new DecoderIo(layers);
    this.kvHeads = card.numKeyValueHeads();
    this.headDim = card.headDim();
    this.vocab = card.vocabSize();
    Map<String, NodeInfo> inputs = session.getInputInfo();
    Map<String, NodeInfo> outputs = session.getOutputInfo();
    this.inPlace =
        GraphNames.KV_IN_PLACE.equals(
            session.getMetadata().getCustomMetadata().get(GraphNames.KV_CACHE_METADATA));
    this.logitsToKeep =
        // a required input in older graphs, a defaulted one (exposed by OrtBackend) in newer ones
        session.getInputNames().contains(GraphNames.NUM_LOGITS_TO_KEEP);
    this.lutIndex = session.getInputNames().contains(GraphNames.LUT_INDEX);
    io.requireNone(
        io.missing(inputs::containsKey, outputs::containsKey, true),
        graph + " is not a sketchrt decoder graph");
    TensorInfo past = (TensorInfo) inputs.get(io.past(0)).getInfo();
    this.kvType = past.type;
    this.kvElementBytes =
        switch (kvType) {
          case FLOAT -> 4;
          case FLOAT16, BFLOAT16 -> 2;
          default ->
              throw new SketchrtException(
                  graph
                      + ": KV cache type "
                      + kvType
                      + " is not supported (float, float16, bfloat16)");
        };
    long[] shape = past.getShape();
    if (shape.length != 4
        || (shape[1] > 0 && shape[1] != kvHeads)
        || (shape[3] > 0 && shape[3] != headDim)) {
      throw new SketchrtException(
          graph
              + ": "
              + io.past(0)
              + " has shape "
              + java.util.Arrays.toString(shape)
              + ", sketchrt.json says [batch, "
              + kvHeads
              + ", past, "
              + headDim
              + "]");
    }
    TensorInfo logits = (TensorInfo) outputs.get(GraphNames.LOGITS).getInfo();
    if (logits.type != OnnxJavaType.FLOAT) {
      throw new SketchrtException(graph + ": logits are " + logits.type + ", expected float32");
    }
  }

  @Override
  public int vocabSize() {
    return vocab;
  }

  @Override
  public KvCache newCache(int batch, int capacity) throws SketchrtException {
    return newCache(batch, capacity, OrtKvCache.INITIAL_POSITIONS);
  }

  /** A cache that starts with room for {@code initialPositions} and grows (tests start small). */
  KvCache newCache(int batch, int capacity, int initialPositions) throws SketchrtException {
    DecoderIo.checkCacheSize(batch, capacity);
    try {
      KvLayout layout = new KvLayout(layers, kvHeads, headDim, kvType, kvElementBytes, vocab);
      return inPlace
          ? new OrtInPlaceKvCache(layout, batch, capacity, initialPositions)
          : new OrtKvCache(layout, batch, capacity, initialPositions);
    } catch (OutOfMemoryError e) {
      throw new SketchrtException(
          "cannot allocate a KV cache for batch " + batch + " x " + capacity + " positions", e);
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
    run(inputIds, attentionMask, positionIds, seq, kvCache, lastLogits, false);
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
    run(inputIds, attentionMask, positionIds, seq, kvCache, logits, true);
  }

  /**
   * One pass; {@code out} receives [batch, vocab] (last positions) or [batch, seq, vocab] ({@code
   * all}).
   */
  private void run(
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      KvCache kvCache,
      float[] out,
      boolean all)
      throws SketchrtException {
    if (kvCache instanceof OrtInPlaceKvCache c) {
      c.checkOpen();
      DecoderIo.checkPass(c, inputIds, attentionMask, positionIds, seq, out, all, vocab);
      lock.readLock().lock();
      try {
        if (closed) {
          throw new IllegalStateException("the model is closed");
        }
        new InPlacePass(this, c, inputIds, attentionMask, positionIds, seq, out, all).run();
      } catch (OrtException e) {
        throw new SketchrtException(
            "ONNX Runtime failed running the model: " + SketchrtException.firstLine(e), e);
      } finally {
        lock.readLock().unlock();
      }
      return;
    }
    if (!(kvCache instanceof OrtKvCache cache)) {
      throw new IllegalArgumentException("the KV cache was not made by this session");
    }
    cache.checkOpen();
    int batch = cache.batch();
    int total =
        DecoderIo.checkPass(cache, inputIds, attentionMask, positionIds, seq, out, all, vocab);
    cache.ensureRoom(total);
    lock.readLock().lock();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    Map<String, OnnxValue> pinned = new HashMap<>();
    // Only the last position's logits are computed (num_logits_to_keep = 1) and land in the cache's
    // [batch, 1, vocab] buffer; all positions (validation, or graphs without the input) use
    // scratch.
    Arena scratch = Arena.ofConfined();
    try {
      if (closed) {
        throw new IllegalStateException("the model is closed");
      }
      inputs.put(
          GraphNames.INPUT_IDS,
          OnnxTensor.createTensor(env, LongBuffer.wrap(inputIds), new long[] {batch, seq}));
      inputs.put(
          GraphNames.ATTENTION_MASK,
          OnnxTensor.createTensor(env, LongBuffer.wrap(attentionMask), new long[] {batch, total}));
      inputs.put(
          GraphNames.POSITION_IDS,
          OnnxTensor.createTensor(env, LongBuffer.wrap(positionIds), new long[] {batch, seq}));
      for (int i = 0; i < io.kvTensors(); i++) {
        inputs.put(io.past(i), cache.past(env, i));
        pinned.put(io.present(i), cache.present(env, i, total));
      }
      if (logitsToKeep) {
        inputs.put(
            GraphNames.NUM_LOGITS_TO_KEEP,
            OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {all ? 0 : 1}), new long[0]));
      }
      feedLutIndex(inputs, cache.rowSlots());
      int rows = all || !logitsToKeep ? seq : 1; // logits per batch row that the graph returns
      MemorySegment logits;
      if (rows == 1) {
        logits = cache.decodeLogitsMemory();
        pinned.put(GraphNames.LOGITS, cache.decodeLogits(env, vocab));
      } else {
        logits = scratch.allocate((long) batch * rows * vocab * Float.BYTES, 64);
        pinned.put(
            GraphNames.LOGITS,
            OnnxTensor.createTensor(
                env,
                logits.asByteBuffer().order(ByteOrder.nativeOrder()),
                new long[] {batch, rows, vocab},
                OnnxJavaType.FLOAT));
      }
      try (OrtSession.Result ignored = session.run(inputs, Set.of(), pinned)) {
        // Every output was written into pinned memory.
      }
      if (all) {
        MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
      } else {
        for (int b = 0; b < batch; b++) {
          long from = ((long) b * rows + rows - 1) * vocab * Float.BYTES;
          MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, from, out, b * vocab, vocab);
        }
      }
      cache.advance(seq);
    } catch (OrtException e) {
      throw new SketchrtException(
          "ONNX Runtime failed running the model: " + SketchrtException.firstLine(e), e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
      pinned.values().forEach(OnnxValue::close);
      scratch.close();
      lock.readLock().unlock();
    }
  }

  /**
   * lut_index, the tuned-set slot of each batch row (null: the default set for every row), for
   * graphs that take it; older graphs run the default set only.
   */
  private void feedLutIndex(Map<String, OnnxTensor> inputs, int[] rowSlots) throws OrtException {
    if (lutIndex) {
      int[] index = rowSlots == null ? new int[] {0} : rowSlots;
      inputs.put(
          GraphNames.LUT_INDEX,
          OnnxTensor.createTensor(env, IntBuffer.wrap(index), new long[] {index.length}));
    } else if (rowSlots != null && Arrays.stream(rowSlots).anyMatch(slot -> slot != 0)) {
      throw new IllegalArgumentException(
          graph
              + " predates tuned-set batches (no lut_index input): it runs its default set"
              + " only; convert the model again to run other sets");
    }
  }

  /**
   * One ONNX Runtime run over rows [first, first + count) of an in-place cache: past and present
   * are the same tensors. {@code logits} receives [count, keep or seq, vocab] floats; null puts the
   * last position of each row into the cache's logits memory.
   */
  void runRows(
      OrtInPlaceKvCache cache,
      int first,
      int count,
      long[] ids,
      long[] mask,
      long[] positions,
      int seq,
      MemorySegment logits,
      boolean all)
      throws OrtException {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    Map<String, OnnxValue> pinned = new HashMap<>();
    List<OnnxTensor> kv = new ArrayList<>();
    try {
      int total = mask.length / count;
      inputs.put(
          GraphNames.INPUT_IDS,
          OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {count, seq}));
      inputs.put(
          GraphNames.ATTENTION_MASK,
          OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {count, total}));
      inputs.put(
          GraphNames.POSITION_IDS,
          OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {count, seq}));
      for (int i = 0; i < io.kvTensors(); i++) {
        OnnxTensor t = cache.rows(env, i, first, count);
        kv.add(t);
        inputs.put(io.past(i), t);
        pinned.put(io.present(i), t); // the same buffer: written in place
      }
      if (logitsToKeep) {
        inputs.put(
            GraphNames.NUM_LOGITS_TO_KEEP,
            OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {all ? 0 : 1}), new long[0]));
      }
      int rows = all || !logitsToKeep ? seq : 1;
      if (logits == null) {
        if (rows != 1) {
          throw new IllegalStateException("a pass keeping every position needs logits memory");
        }
        pinned.put(GraphNames.LOGITS, cache.lastLogits(env, first, count, vocab));
      } else {
        pinned.put(
            GraphNames.LOGITS,
            OnnxTensor.createTensor(
                env,
                logits.asByteBuffer().order(ByteOrder.nativeOrder()),
                new long[] {count, rows, vocab},
                OnnxJavaType.FLOAT));
      }
      feedLutIndex(inputs, cache.rowSlots(first, count));
      try (OrtSession.Result ignored = session.run(inputs, Set.of(), pinned)) {
        // Every output was written into pinned memory.
      }
    } finally {
      inputs.forEach(
          (name, t) -> {
            if (!kv.contains(t)) {
              t.close();
            }
          });
      pinned.forEach(
          (name, t) -> {
            if (!(t instanceof OnnxTensor o && kv.contains(o))) {
              t.close();
            }
          });
      kv.forEach(OnnxTensor::close);
    }
  }

  @Override
  public SlotKvCache newSlotCache(int rows, int capacity) throws SketchrtException {
    if (!inPlace) {
      return DecoderSession.super.newSlotCache(rows, capacity);
    }
    return (SlotKvCache) newCache(rows, capacity);
  }

  @Override
  public void forwardSlots(
      SlotKvCache slotCache,
      int first,
      int count,
      long[] inputIds,
      long[] positionIds,
      int seq,
      boolean[] live,
      float[] lastLogits)
      throws SketchrtException {
    if (!(slotCache instanceof OrtInPlaceKvCache cache)) {
      throw new IllegalArgumentException("the KV cache was not made by this session");
    }
    cache.checkOpen();
    if (first < 0
        || count < 1
        || first + count > cache.batch()
        || inputIds.length != count * seq
        || positionIds.length != count * seq
        || live.length != count
        || lastLogits.length != count * vocab) {
      throw new IllegalArgumentException(
          "forwardSlots: sizes do not match rows ["
              + first
              + ", "
              + (first + count)
              + "), seq "
              + seq);
    }
    if (count > 1 && seq > 1) {
      throw new IllegalArgumentException(
          "forwardSlots: several rows take one new token each (prefill runs one row at a time)");
    }
    int width = 0;
    for (int r = first; r < first + count; r++) {
      width = Math.max(width, cache.rowLength(r) + seq);
    }
    if (width > cache.capacity()) {
      throw new IllegalStateException(
          "the KV cache holds " + cache.capacity() + " positions, " + width + " requested");
    }
    cache.ensureRoom(width);
    long[] mask = new long[count * width];
    for (int r = 0; r < count; r++) {
      Arrays.fill(mask, r * width, r * width + cache.rowLength(first + r) + seq, 1L);
    }
    lock.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("the model is closed");
      }
      runRows(cache, first, count, inputIds, mask, positionIds, seq, null, false);
      MemorySegment.copy(
          cache.lastLogitsMemory(),
          ValueLayout.JAVA_FLOAT,
          (long) first * vocab * Float.BYTES,
          lastLogits,
          0,
          count * vocab);
      for (int r = 0; r < count; r++) {
        if (live[r]) {
          cache.grow(first + r, seq);
        }
      }
    } catch (OrtException e) {
      throw new SketchrtException(
          "ONNX Runtime failed running the model: " + SketchrtException.firstLine(e), e);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public int kvCopies() {
    return inPlace ? 1 : 2;
  }

  /** Whether this session returns only the kept positions' logits. */
  boolean keepsLogits() {
    return logitsToKeep;
  }

  @Override
  public TunedSlots tunedSlots() {
    if (slots == null) {
      return null;
    }
    // Loads and unloads wait for the passes in flight and hold the next ones back.
    return new TunedSlots() {
      @Override
      public int capacity() {
        return slots.capacity();
      }

      @Override
      public List<String> loaded() {
        return slots.loaded();
      }

      @Override
      public long bytesPerSlot() {
        return slots.bytesPerSlot();
      }

      @Override
      public void load(String name, Path file) throws SketchrtException {
        lock.writeLock().lock();
        try {
          slots.load(name, file);
        } finally {
          lock.writeLock().unlock();
        }
      }

      @Override
      public void unload(String name) {
        lock.writeLock().lock();
        try {
          slots.unload(name);
        } finally {
          lock.writeLock().unlock();
        }
      }

      @Override
      public int acquire(String name) {
        return slots.acquire(name);
      }

      @Override
      public void release(int slot) {
        slots.release(slot);
      }
    };
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        session.close();
        if (slots != null) {
          slots.close();
        }
      }
    } catch (OrtException e) {
      // Nothing more to free; ONNX Runtime reports only an already-closed session here.
    } finally {
      lock.writeLock().unlock();
    }
  }
}
