package io.sketchrt.runtime.trt;

import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimisation profile of a decoder engine (DESIGN section 4 inputs): batch 1..maxBatch, new
 * positions 1..maxSequence, cached positions 0..maxSequence-1, so that one engine runs both prefill
 * and decode. TensorRT tunes for the "opt" shapes: one row decoding one token, the case the speed
 * contract measures.
 */
final class ProfileShapes {

  /** min, opt and max dimensions of one input. */
  record Range(long[] min, long[] opt, long[] max) {}

  private ProfileShapes() {}

  /** Every input's range, in the graph's input order. */
  static Map<String, Range> of(ModelCard card, int maxBatch, int maxSequence) {
    if (maxBatch < 1 || maxSequence < 1) {
      throw new IllegalArgumentException("an engine needs max batch >= 1 and max sequence >= 1");
    }
    long b = maxBatch;
    long s = maxSequence;
    long half = Math.max(1, s / 2);
    long kvh = card.numKeyValueHeads();
    long hd = card.headDim();
    Map<String, Range> ranges = new LinkedHashMap<>();
    Range tokens = new Range(new long[] {1, 1}, new long[] {1, 1}, new long[] {b, s});
    ranges.put(GraphNames.INPUT_IDS, tokens);
    ranges.put(
        GraphNames.ATTENTION_MASK,
        new Range(new long[] {1, 1}, new long[] {1, half}, new long[] {b, s}));
    ranges.put(GraphNames.POSITION_IDS, tokens);
    Range past =
        new Range(
            new long[] {1, kvh, 0, hd},
            new long[] {1, kvh, half - 1, hd},
            new long[] {b, kvh, s - 1, hd});
    for (int i = 0; i < card.numLayers(); i++) {
      for (String kind : GraphNames.KV_KINDS) {
        ranges.put(GraphNames.pastKeyValue(i, kind), past);
      }
    }
    return ranges;
  }
}
