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
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
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
  private final String[] pastNames;
  private final String[] presentNames;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

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
    this.kvHeads = card.numKeyValueHeads();
    this.headDim = card.headDim();
    this.vocab = card.vocabSize();
    Map<String, NodeInfo> inputs = session.getInputInfo();
    Map<String, NodeInfo> outputs = session.getOutputInfo();
    this.logitsToKeep =
        // a required input in older graphs, a defaulted one (exposed by OrtBackend) in newer ones
        session.getInputNames().contains(GraphNames.NUM_LOGITS_TO_KEEP);
    this.lutIndex = session.getInputNames().contains(GraphNames.LUT_INDEX);
    List<String> missing = new ArrayList<>();
    for (String name :
        List.of(GraphNames.INPUT_IDS, GraphNames.ATTENTION_MASK, GraphNames.POSITION_IDS)) {
      if (!inputs.containsKey(name)) {
        missing.add("input " + name);
      }
    }
    if (!outputs.containsKey(GraphNames.LOGITS)) {
      missing.add("output logits");
    }
    pastNames = new String[2 * layers];
    presentNames = new String[2 * layers];
    for (int i = 0; i < layers; i++) {
      for (int kv = 0; kv < 2; kv++) {
        String kind = GraphNames.KV_KINDS[kv];
        pastNames[2 * i + kv] = GraphNames.pastKeyValue(i, kind);
        presentNames[2 * i + kv] = GraphNames.present(i, kind);
        if (!inputs.containsKey(pastNames[2 * i + kv])) {
          missing.add("input " + pastNames[2 * i + kv]);
        }
        if (!outputs.containsKey(presentNames[2 * i + kv])) {
          missing.add("output " + presentNames[2 * i + kv]);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new SketchrtException(
          graph
              + " is not a sketchrt decoder graph for "
              + layers
              + " layers: no "
              + String.join(", ", missing.subList(0, Math.min(3, missing.size())))
              + (missing.size() > 3 ? ", ..." : ""));
    }
    TensorInfo past = (TensorInfo) inputs.get(pastNames[0]).getInfo();
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
              + pastNames[0]
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
    if (batch < 1 || capacity < 1) {
      throw new IllegalArgumentException("a KV cache needs batch >= 1 and capacity >= 1");
    }
    try {
      return new OrtKvCache(
          layers,
          batch,
          capacity,
          kvHeads,
          headDim,
          kvType,
          kvElementBytes,
          vocab,
          initialPositions);
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
    if (!(kvCache instanceof OrtKvCache cache)) {
      throw new IllegalArgumentException("the KV cache was not made by this session");
    }
    cache.checkOpen();
    int batch = cache.batch();
    int total = cache.length() + seq;
    if (total > cache.capacity()) {
      throw new IllegalStateException(
          "the KV cache holds " + cache.capacity() + " positions, " + total + " requested");
    }
    cache.ensureRoom(total);
    if (inputIds.length != batch * seq
        || positionIds.length != batch * seq
        || attentionMask.length != batch * total
        || out.length != (long) batch * (all ? seq : 1) * vocab) {
      throw new IllegalArgumentException(
          "forward: input sizes do not match batch " + batch + ", seq " + seq);
    }
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
      for (int i = 0; i < pastNames.length; i++) {
        inputs.put(pastNames[i], cache.past(env, i));
        pinned.put(presentNames[i], cache.present(env, i, total));
      }
      if (logitsToKeep) {
        inputs.put(
            GraphNames.NUM_LOGITS_TO_KEEP,
            OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {all ? 0 : 1}), new long[0]));
      }
      int[] rowSlots = cache.rowSlots();
      if (lutIndex) {
        int[] index = rowSlots == null ? new int[] {0} : rowSlots;
        inputs.put(
            GraphNames.LUT_INDEX,
            OnnxTensor.createTensor(env, IntBuffer.wrap(index), new long[] {index.length}));
      } else if (rowSlots != null && Arrays.stream(rowSlots).anyMatch(slot -> slot != 0)) {
        throw new SketchrtException(
            graph
                + " predates tuned-set batches (no lut_index input): it runs its default set"
                + " only; convert the model again to run other sets");
      }
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
