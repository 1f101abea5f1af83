package io.sketchrt.runtime.spi;

import io.sketchrt.format.GraphNames;
import io.sketchrt.runtime.SketchrtException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The decoder graph I/O (DESIGN section 4) that every backend's session binds: the past/present
 * names per layer, the check that a graph or engine has them, and the size checks of one forward
 * pass. Backends differ only in how they bind buffers.
 */
public final class DecoderIo {
  private final int layers;
  private final String[] pastNames;
  private final String[] presentNames;

  public DecoderIo(int layers) {
    this.layers = layers;
    pastNames = new String[2 * layers];
    presentNames = new String[2 * layers];
    for (int i = 0; i < layers; i++) {
      for (int kv = 0; kv < 2; kv++) {
        pastNames[2 * i + kv] = GraphNames.pastKeyValue(i, GraphNames.KV_KINDS[kv]);
        presentNames[2 * i + kv] = GraphNames.present(i, GraphNames.KV_KINDS[kv]);
      }
    }
  }

  public int layers() {
    return layers;
  }

  /** 2 * layers: index 2 * layer + (0 = key, 1 = value). */
  public int kvTensors() {
    return pastNames.length;
  }

  public String past(int index) {
    return pastNames[index];
  }

  public String present(int index) {
    return presentNames[index];
  }

  /**
   * The DESIGN section 4 tensors a graph lacks, in a fixed order: ids, mask, positions, logits,
   * then past and present per layer. {@code labelled} prefixes each with "input " or "output ".
   */
  public List<String> missing(
      Predicate<String> hasInput, Predicate<String> hasOutput, boolean labelled) {
    List<String> missing = new ArrayList<>();
    for (String name :
        List.of(GraphNames.INPUT_IDS, GraphNames.ATTENTION_MASK, GraphNames.POSITION_IDS)) {
      if (!hasInput.test(name)) {
        missing.add((labelled ? "input " : "") + name);
      }
    }
    if (!hasOutput.test(GraphNames.LOGITS)) {
      missing.add((labelled ? "output " : "") + GraphNames.LOGITS);
    }
    for (int i = 0; i < pastNames.length; i++) {
      if (!hasInput.test(pastNames[i])) {
        missing.add((labelled ? "input " : "") + pastNames[i]);
      }
      if (!hasOutput.test(presentNames[i])) {
        missing.add((labelled ? "output " : "") + presentNames[i]);
      }
    }
    return missing;
  }

  /** Throws "{what} for N layers: no a, b, c, ..." when {@code missing} is not empty. */
  public void requireNone(List<String> missing, String what) throws SketchrtException {
    if (!missing.isEmpty()) {
      throw new SketchrtException(
          what
              + " for "
              + layers
              + " layers: no "
              + String.join(", ", missing.subList(0, Math.min(3, missing.size())))
              + (missing.size() > 3 ? ", ..." : ""));
    }
  }

  /**
   * Checks one pass of {@code seq} new positions on {@code cache} and returns the positions cached
   * after it. {@code out} holds [batch, vocab] floats, or [batch, seq, vocab] when {@code all}.
   */
  public static int checkPass(
      KvCache cache,
      long[] inputIds,
      long[] attentionMask,
      long[] positionIds,
      int seq,
      float[] out,
      boolean all,
      int vocab) {
    int batch = cache.batch();
    int total = cache.length() + seq;
    if (total > cache.capacity()) {
      throw new IllegalStateException(
          "the KV cache holds " + cache.capacity() + " positions, " + total + " requested");
    }
    if (inputIds.length != batch * seq
        || positionIds.length != batch * seq
        || attentionMask.length != batch * total
        || out.length != (long) batch * (all ? seq : 1) * vocab) {
      throw new IllegalArgumentException(
          "forward: input sizes do not match batch " + batch + ", seq " + seq);
    }
    return total;
  }

  /** The size check of {@link DecoderSession#newCache}. */
  public static void checkCacheSize(int batch, int capacity) {
    if (batch < 1 || capacity < 1) {
      throw new IllegalArgumentException("a KV cache needs batch >= 1 and capacity >= 1");
    }
  }
}
