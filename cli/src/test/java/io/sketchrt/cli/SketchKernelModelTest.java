package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sketchrt.converter.checkpoint.SafetensorsCheckpoint;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.testing.TestData;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import io.sketchrt.runtime.ort.sketch.SketchKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole models through the Java sketch kernel against ONNX Runtime's folded dense fallback, on
 * every committed fixture: identical greedy tokens (and equal to the training-time golden), and
 * logits of one forward pass within 1e-5 relative error.
 */
class SketchKernelModelTest {
  private static final Path FIXTURES = TestData.committed("testdata/fixtures");
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  static List<String> fixtures() throws Exception {
    return ConvertThenGenerateTest.fixtures().toList();
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void sketchKernelMatchesTheFoldedFallback(String fixture, @TempDir Path tmp) throws Exception {
    assertNull(
        SketchKernels.unavailableReason(),
        "the sketch kernel cannot be bound to this ONNX Runtime");
    long[] prompt;
    long[] golden;
    try (SafetensorsCheckpoint g =
        SafetensorsCheckpoint.open(FIXTURES.resolve(fixture).resolve("golden.safetensors"))) {
      prompt = ConvertThenGenerateTest.longs(g.get("greedy_prompt"));
      golden = ConvertThenGenerateTest.longs(g.get("greedy_tokens"));
    }
    Path dir = ConvertThenGenerateTest.convert(fixture, tmp.resolve("out"));

    GenerationConfig greedy =
        GenerationConfig.builder().maxNewTokens(golden.length).eosTokenIds(List.of()).build();
    KernelChoice[] kernels = {KernelChoice.NEAR_EXACT, KernelChoice.EXACT, KernelChoice.FALLBACK};
    for (KernelChoice kernel : kernels) {
      long[] tokens;
      try (Model model =
          Model.load(dir, LoadOptions.defaults().with(OrtOptions.defaults().withKernel(kernel)))) {
        tokens = model.generatorForTokens(List.of(prompt), greedy).run(null).getFirst().tokens();
      }
      assertArrayEquals(
          golden,
          tokens,
          fixture + ": " + kernel + " greedy tokens differ from the training-time golden");
    }

    ModelCard card = ModelCard.read(dir);
    float[] dense = logits(dir, card, prompt, KernelChoice.FALLBACK);
    // exact: fp32 semantics; near-exact: within 1e-3 per op, a few ops deep
    double[] bound = {1e-2, 1e-5};
    for (int k = 0; k < 2; k++) {
      float[] sketch = logits(dir, card, prompt, kernels[k]);
      assertEquals(dense.length, sketch.length);
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < dense.length; i++) {
        diff += (sketch[i] - (double) dense[i]) * (sketch[i] - (double) dense[i]);
        norm += (double) dense[i] * dense[i];
      }
      double rel = Math.sqrt(diff / norm);
      System.out.printf(
          "%s %s: logits relative error %.2e against the fallback%n", fixture, kernels[k], rel);
      assertTrue(
          norm > 0 && rel <= bound[k],
          fixture + ": " + kernels[k] + " logits relative error " + rel + " against the fallback");
    }
  }

  /** Logits of one forward pass over the prompt (empty past) with the given kernel. */
  private static float[] logits(Path dir, ModelCard card, long[] prompt, KernelChoice kernel)
      throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      assertEquals(kernel, SketchKernels.install(options, kernel, dir).kernel());
      try (OrtSession session =
          ENV.createSession(dir.resolve(card.modelFile()).toString(), options)) {
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
          int p = prompt.length;
          long[] positions = new long[p];
          long[] mask = new long[p];
          for (int i = 0; i < p; i++) {
            positions[i] = i;
            mask[i] = 1;
          }
          inputs.put(
              "input_ids",
              OnnxTensor.createTensor(ENV, LongBuffer.wrap(prompt), new long[] {1, p}));
          inputs.put(
              "attention_mask",
              OnnxTensor.createTensor(ENV, LongBuffer.wrap(mask), new long[] {1, p}));
          inputs.put(
              "position_ids",
              OnnxTensor.createTensor(ENV, LongBuffer.wrap(positions), new long[] {1, p}));
          // num_logits_to_keep keeps its default, 0: every position (a standard feed)
          for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
            if (e.getKey().startsWith("past_key_values.")) {
              OnnxJavaType type = ((TensorInfo) e.getValue().getInfo()).type;
              long[] shape = {1, card.numKeyValueHeads(), 0, card.headDim()};
              inputs.put(
                  e.getKey(),
                  OnnxTensor.createTensor(
                      ENV,
                      ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()),
                      shape,
                      type));
            }
          }
          try (OrtSession.Result r = session.run(inputs, java.util.Set.of("logits"))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
          }
        } finally {
          inputs.values().forEach(OnnxTensor::close);
        }
      }
    }
  }
}
