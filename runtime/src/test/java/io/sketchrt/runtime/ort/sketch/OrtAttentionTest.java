package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.format.GroupQueryAttentionOp;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One {@code ai.sketchrt::GroupQueryAttention} node run by ONNX Runtime with sketchrt's native
 * kernel: with cos and sin (the node rotates q and k) against the 7-input form of graphs converted
 * before, fed q and k rotated here with the same fp32 Mul, Mul, Add. Both must agree to the bit,
 * the cache included, so the two forms and the rotation are checked together.
 */
class OrtAttentionTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final int B = 2, S = 3, H = 4, KV = 2, D = 16, ROOM = 8;
  private static final int[] PAST = {2, 4};

  @BeforeAll
  static void needsTheNativeKernel() {
    String reason = SketchKernels.unavailableReason();
    Assumptions.assumeTrue(reason == null, "no FFM binding to ONNX Runtime: " + reason);
    Assumptions.assumeTrue(
        NativeSketchLibrary.failure() == null,
        "no native kernel (GroupQueryAttention is registered with it only): "
            + NativeSketchLibrary.failure());
  }

  /**
   * A model whose one node takes {@code inputs} (graph inputs of those names; "" leaves one out).
   */
  private static byte[] model(List<String> inputs) {
    TinyOnnx.Msg graph =
        new TinyOnnx.Msg()
            .msg(
                1,
                TinyOnnx.node(
                    "/model/layers.0/attn/GroupQueryAttention",
                    "ai.sketchrt",
                    GroupQueryAttentionOp.OP_TYPE,
                    inputs,
                    List.of("output", "present_key", "present_value"),
                    TinyOnnx.intAttribute(GroupQueryAttentionOp.ATTR_HEADS, H),
                    TinyOnnx.intAttribute(GroupQueryAttentionOp.ATTR_KV_HEADS, KV)))
            .string(2, "gqa_test")
            .msg(11, TinyOnnx.valueInfo("query", 1, "b", "s", H * D))
            .msg(11, TinyOnnx.valueInfo("key", 1, "b", "s", KV * D))
            .msg(11, TinyOnnx.valueInfo("value", 1, "b", "s", KV * D))
            .msg(11, TinyOnnx.valueInfo("past_key", 1, "b", KV, "r", D))
            .msg(11, TinyOnnx.valueInfo("past_value", 1, "b", KV, "r", D))
            .msg(11, TinyOnnx.valueInfo("seqlens_k", 6, "b"))
            .msg(11, TinyOnnx.valueInfo("total_sequence_length", 6));
    if (inputs.contains("cos")) {
      graph.msg(11, TinyOnnx.valueInfo("cos", 1, "c0", "c1", "c2"));
    }
    if (inputs.contains("sin")) {
      graph.msg(11, TinyOnnx.valueInfo("sin", 1, "c0", "c1", "c2"));
    }
    graph
        .msg(12, TinyOnnx.valueInfo("output", 1, "b", "s", H * D))
        .msg(12, TinyOnnx.valueInfo("present_key", 1, "b", KV, "p", D))
        .msg(12, TinyOnnx.valueInfo("present_value", 1, "b", KV, "p", D));
    return new TinyOnnx.Msg()
        .varint(1, 8) // IR version 8
        .msg(8, new TinyOnnx.Msg().string(1, "").varint(2, 17))
        .msg(8, new TinyOnnx.Msg().string(1, "ai.sketchrt").varint(2, 2))
        .msg(7, graph)
        .toBytes();
  }

  private static OrtSession session(byte[] model) throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      SketchKernels.install(options, KernelChoice.NEAR_EXACT, Path.of("test-model"));
      return ENV.createSession(model, options);
    }
  }

  private static float[] random(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextFloat() * 2 - 1;
    }
    return a;
  }

  /** x cos + rotate_half(x) sin over each head of each token, in fp32 as ONNX's Mul, Mul, Add. */
  private static float[] rotate(float[] x, int heads, float[] cos, float[] sin) {
    float[] y = new float[x.length];
    int h = D / 2;
    for (int t = 0; t < B * S; t++) {
      for (int head = 0; head < heads; head++) {
        int at = (t * heads + head) * D;
        for (int j = 0; j < D; j++) {
          float half = j < h ? -x[at + j + h] : x[at + j - h];
          float a = x[at + j] * cos[t * D + j];
          float b = half * sin[t * D + j];
          y[at + j] = a + b;
        }
      }
    }
    return y;
  }

  private static OnnxTensor tensor(float[] a, long... shape) throws OrtException {
    return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(a), shape);
  }

  /** output, present_key, present_value of one run; cos and sin (when given) [B, S, D]. */
  private static List<float[]> run(OrtSession session, Map<String, float[]> in)
      throws OrtException {
    return run(session, in, new long[] {B, S, D});
  }

  private static List<float[]> run(OrtSession session, Map<String, float[]> in, long[] rotary)
      throws OrtException {
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("query", tensor(in.get("query"), B, S, H * D));
      feed.put("key", tensor(in.get("key"), B, S, KV * D));
      feed.put("value", tensor(in.get("value"), B, S, KV * D));
      feed.put("past_key", tensor(in.get("past_key"), B, KV, ROOM, D));
      feed.put("past_value", tensor(in.get("past_value"), B, KV, ROOM, D));
      int[] seqlens = {PAST[0] + S - 1, PAST[1] + S - 1};
      feed.put("seqlens_k", OnnxTensor.createTensor(ENV, IntBuffer.wrap(seqlens), new long[] {B}));
      feed.put(
          "total_sequence_length",
          OnnxTensor.createTensor(ENV, IntBuffer.wrap(new int[] {PAST[1] + S}), new long[0]));
      for (String name : List.of("cos", "sin")) {
        if (in.containsKey(name)) {
          feed.put(name, tensor(in.get(name), rotary));
        }
      }
      try (OrtSession.Result r = session.run(feed)) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          FloatBuffer b = ((OnnxTensor) r.get(i)).getFloatBuffer();
          float[] a = new float[b.remaining()];
          b.get(a);
          out.add(a);
        }
        return out;
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private static Map<String, float[]> inputs(Random r) {
    Map<String, float[]> in = new HashMap<>();
    in.put("query", random(r, B * S * H * D));
    in.put("key", random(r, B * S * KV * D));
    in.put("value", random(r, B * S * KV * D));
    in.put("past_key", random(r, B * KV * ROOM * D));
    in.put("past_value", random(r, B * KV * ROOM * D));
    float[] cos = new float[B * S * D];
    float[] sin = new float[B * S * D];
    for (int b = 0; b < B; b++) {
      for (int i = 0; i < S; i++) {
        for (int j = 0; j < D; j++) {
          double angle = (PAST[b] + i) * Math.pow(10000, -2.0 * (j % (D / 2)) / D);
          cos[(b * S + i) * D + j] = (float) Math.cos(angle);
          sin[(b * S + i) * D + j] = (float) Math.sin(angle);
        }
      }
    }
    in.put("cos", cos);
    in.put("sin", sin);
    return in;
  }

  private static final List<String> SEVEN =
      List.of(
          "query", "key", "value", "past_key", "past_value", "seqlens_k", "total_sequence_length");

  @Test
  void theNodeRotatesAsTheGraphDidBeforeIt() throws Exception {
    List<String> nine = new ArrayList<>(SEVEN);
    nine.addAll(List.of("cos", "sin"));
    Map<String, float[]> in = inputs(new Random(18));
    Map<String, float[]> rotated = new HashMap<>(in);
    rotated.put("query", rotate(in.get("query"), H, in.get("cos"), in.get("sin")));
    rotated.put("key", rotate(in.get("key"), KV, in.get("cos"), in.get("sin")));
    rotated.remove("cos");
    rotated.remove("sin");
    try (OrtSession withRotary = session(model(nine));
        OrtSession before = session(model(SEVEN))) {
      List<float[]> a = run(withRotary, in);
      List<float[]> b = run(before, rotated);
      String[] names = {"output", "present_key", "present_value"};
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(b.get(i), a.get(i), names[i] + " differs between the two forms");
      }
      // and the rotation did something: unrotated q and k give another output
      Map<String, float[]> plain = new HashMap<>(in);
      plain.remove("cos");
      plain.remove("sin");
      float[] unrotated = run(before, plain).get(0);
      assertTrue(!Arrays.equals(unrotated, a.get(0)), "cos and sin changed nothing");
    }
  }

  @Test
  void cosWithoutSinIsABadNodeNamedInTheError() throws Exception {
    List<String> cosOnly = new ArrayList<>(SEVEN);
    cosOnly.addAll(List.of("cos", ""));
    Map<String, float[]> in = inputs(new Random(7));
    in.remove("sin");
    try (OrtSession session = session(model(cosOnly))) {
      OrtException e = assertThrows(OrtException.class, () -> run(session, in));
      assertTrue(
          e.getMessage().contains("GroupQueryAttention node '/model/layers.0/attn/")
              && e.getMessage().contains("cos and sin come together"),
          e.getMessage());
    }
  }

  @Test
  void aRotaryShapeErrorSaysWhatItExpected() throws Exception {
    List<String> nine = new ArrayList<>(SEVEN);
    nine.addAll(List.of("cos", "sin"));
    Map<String, float[]> in = inputs(new Random(8));
    // cos and sin of one token too few: [B, S - 1, D]
    in.put("cos", Arrays.copyOf(in.get("cos"), B * (S - 1) * D));
    in.put("sin", Arrays.copyOf(in.get("sin"), B * (S - 1) * D));
    try (OrtSession session = session(model(nine))) {
      OrtException e =
          assertThrows(OrtException.class, () -> run(session, in, new long[] {B, S - 1, D}));
      assertTrue(
          e.getMessage().contains("cos [2, 2, 16] and sin [2, 2, 16] must both be [2, 3, 16]"),
          e.getMessage());
    }
  }
}
