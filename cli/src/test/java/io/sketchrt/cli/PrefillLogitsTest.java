package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.ort.OrtSessions;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prefill computes logits for each row's last position only: the graph's logits output is [batch,
 * 1, vocab] whatever the prompt length, so prefill memory does not grow with seq x vocab.
 */
class PrefillLogitsTest {

  @Test
  void theGraphReturnsOnlyTheLastPositionsLogitsAndAllOnRequest(@TempDir Path tmp)
      throws Exception {
    Path out =
        ConvertThenGenerateTest.convert(TestData.fixture("llama3_gqa_g4_bf16"), tmp.resolve("m"));
    ModelCard card = ModelCard.read(out);
    int seq = Math.min(card.maxPositionEmbeddings(), 96);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] ids = new SplittableRandom(1).longs(seq, 0, card.vocabSize()).toArray();
    long[] ones = new long[seq];
    long[] pos = new long[seq];
    for (int i = 0; i < seq; i++) {
      ones[i] = 1;
      pos[i] = i;
    }
    float[][] byKeep = new float[2][];
    try (OrtSession s =
        OrtSessions.open("ort-cpu", out.resolve(card.modelFile()), OrtOptions.defaults())) {
      for (int keep : new int[] {1, 0}) {
        Map<String, OnnxTensor> in = new HashMap<>();
        in.put(
            GraphNames.INPUT_IDS,
            OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, seq}));
        in.put(
            GraphNames.ATTENTION_MASK,
            OnnxTensor.createTensor(env, LongBuffer.wrap(ones), new long[] {1, seq}));
        in.put(
            GraphNames.POSITION_IDS,
            OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {1, seq}));
        in.put(
            GraphNames.NUM_LOGITS_TO_KEEP,
            OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {keep}), new long[0]));
        for (int l = 0; l < card.numLayers(); l++) {
          for (String kind : GraphNames.KV_KINDS) {
            in.put(
                GraphNames.pastKeyValue(l, kind),
                OnnxTensor.createTensor(
                    env,
                    FloatBuffer.allocate(0),
                    new long[] {1, card.numKeyValueHeads(), 0, card.headDim()}));
          }
        }
        try (OrtSession.Result r = s.run(in)) {
          OnnxTensor logits = (OnnxTensor) r.get(GraphNames.LOGITS).orElseThrow();
          long[] shape = logits.getInfo().getShape();
          assertArrayEquals(new long[] {1, keep == 0 ? seq : 1, card.vocabSize()}, shape);
          byKeep[keep] = new float[(int) logits.getInfo().getNumElements()];
          logits.getFloatBuffer().get(byKeep[keep]);
        } finally {
          in.values().forEach(OnnxTensor::close);
        }
      }
    }
    // The one row kept equals the last row of the full logits.
    int v = card.vocabSize();
    for (int i = 0; i < v; i++) {
      assertEquals(byKeep[0][(seq - 1) * v + i], byKeep[1][i], 1e-5f);
    }
  }

  @Test
  void theRuntimeGivesLastLogitsAndFullLogitsThatAgree(@TempDir Path tmp) throws Exception {
    Path out =
        ConvertThenGenerateTest.convert(TestData.fixture("llama2_mha_g1_2d"), tmp.resolve("m"));
    ModelCard card = ModelCard.read(out);
    int seq = Math.min(card.maxPositionEmbeddings(), 40);
    int v = card.vocabSize();
    long[] ids = new SplittableRandom(2).longs(seq, 0, v).toArray();
    long[] ones = new long[seq];
    long[] pos = new long[seq];
    for (int i = 0; i < seq; i++) {
      ones[i] = 1;
      pos[i] = i;
    }
    float[] last = new float[v];
    float[] all = new float[seq * v];
    try (DecoderSession s = Backends.find("ort-cpu").open(card, out, LoadOptions.defaults())) {
      try (KvCache c = s.newCache(1, seq)) {
        s.forward(ids, ones, pos, seq, c, last);
      }
      try (KvCache c = s.newCache(1, seq)) {
        s.forwardAllLogits(ids, ones, pos, seq, c, all);
      }
    }
    for (int i = 0; i < v; i++) {
      assertEquals(all[(seq - 1) * v + i], last[i], 1e-4f);
    }
    try (io.sketchrt.runtime.Model model = io.sketchrt.runtime.Model.load(out)) {
      assertArrayEquals(last, model.lastLogits(ids), "Model.lastLogits runs the same pass");
    }
    assertTrue(
        Math.abs(all[0] - all[(seq - 1) * v]) > 0 || Math.abs(all[1] - all[(seq - 1) * v + 1]) > 0,
        "rows differ");
  }
}
