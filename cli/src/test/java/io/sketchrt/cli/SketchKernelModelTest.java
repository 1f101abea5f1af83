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
    long[][] tokens = new long[2][];
    KernelChoice[] kernels = {KernelChoice.SKETCH, KernelChoice.FALLBACK};
    for (int i = 0; i < 2; i++) {
      try (Model model =
          Model.load(
              dir, LoadOptions.defaults().withOrt(OrtOptions.defaults().withKernel(kernels[i])))) {
        tokens[i] = model.generatorForTokens(List.of(prompt), greedy).run(null).getFirst().tokens();
      }
    }
    assertArrayEquals(
        tokens[1], tokens[0], fixture + ": sketch-kernel greedy tokens differ from the fallback's");
    assertArrayEquals(
        golden,
        tokens[0],
        fixture + ": sketch-kernel greedy tokens differ from the training-time golden");

    ModelCard card = ModelCard.read(dir);
    float[] sketch = logits(dir, card, prompt, KernelChoice.SKETCH);
    float[] dense = logits(dir, card, prompt, KernelChoice.FALLBACK);
    assertEquals(dense.length, sketch.length);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < dense.length; i++) {
      diff += (sketch[i] - (double) dense[i]) * (sketch[i] - (double) dense[i]);
      norm += (double) dense[i] * dense[i];
    }
    double rel = Math.sqrt(diff / norm);
    assertTrue(
        norm > 0 && rel <= 1e-5,
        fixture + ": logits relative error " + rel + " between sketch kernel and fallback");
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
