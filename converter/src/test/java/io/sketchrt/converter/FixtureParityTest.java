package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SafetensorsCheckpoint;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Converts every fixture in testdata/fixtures and runs it in ONNX Runtime (CPU, fp32) against the
 * training-time golden logits and greedy continuation.
 */
class FixtureParityTest {

  private static final ConversionListener QUIET = ConversionListener.silent();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> everyFixture() throws IOException {
    List<Path> fixtures = Fixtures.all();
    List<DynamicTest> tests = new ArrayList<>();
    for (Path f : fixtures) {
      String name = f.getFileName().toString();
      tests.add(DynamicTest.dynamicTest(name + " tuned: logits + greedy", () -> tunedParity(f)));
      tests.add(DynamicTest.dynamicTest(name + " base sketch, external data", () -> baseParity(f)));
      tests.add(DynamicTest.dynamicTest(name + " left padding (concat KV)", () -> leftPadding(f)));
      tests.add(
          DynamicTest.dynamicTest(name + " right padding (KV in place)", () -> rightPadding(f)));
    }
    return tests.stream();
  }

  private Path convert(Path fixture, boolean tuned, boolean external, String tag)
      throws IOException, ConvertException, CheckpointException {
    return convert(fixture, tuned, external, tag, false);
  }

  private Path convert(Path fixture, boolean tuned, boolean external, String tag, boolean concat)
      throws IOException, ConvertException, CheckpointException {
    Path out = tmp.resolve(fixture.getFileName() + "-" + tag);
    Converter.Request r =
        new Converter.Request(
            fixture.resolve("hf"),
            fixture.resolve("sketch.pkl"),
            tuned ? fixture.resolve("tuned") : null,
            out,
            DType.F32,
            Target.PORTABLE,
            external);
    Converter.convert(concat ? r.withConcatKv() : r, QUIET);
    return out;
  }

  private static OrtDecoder decoder(Path out) throws IOException, OrtException {
    JsonNode card = JSON.readTree(out.resolve(io.sketchrt.format.ModelCard.FILE_NAME).toFile());
    return new OrtDecoder(
        out.resolve(Converter.MODEL_FILE),
        card.get("num_layers").asInt(),
        card.get("num_key_value_heads").asInt(),
        card.get("head_dim").asInt());
  }

  private void tunedParity(Path fixture) throws Exception {
    Path out = convert(fixture, true, false, "tuned");
    JsonNode card = JSON.readTree(out.resolve(io.sketchrt.format.ModelCard.FILE_NAME).toFile());
    assertEquals("sketchrt-model", card.get("format").asText());
    assertTrue(card.get("sketch").get("tuned").asBoolean());
    assertTrue(card.get("external_data").isNull());
    assertTrue(Files.notExists(out.resolve("model.onnx.data")));
    try (SafetensorsCheckpoint golden =
            SafetensorsCheckpoint.open(fixture.resolve("golden.safetensors"));
        OrtDecoder dec = decoder(out)) {
      double[] figures = compareLogits(dec, golden, "logits", fixture, "tuned");
      long[] prompt = longs(golden.get("greedy_prompt"));
      long[] want = longs(golden.get("greedy_tokens"));
      long[] got = dec.greedy(prompt, want.length);
      System.out.printf(
          "%s tuned: max|dlogit| %.3e, rel err %.3e, top-1 agree %s, greedy %d/%d tokens equal%n",
          fixture.getFileName(),
          figures[0],
          figures[1],
          figures[2] == 1 ? "all" : "NOT all",
          countEqual(got, want),
          want.length);
      assertArrayEquals(want, got, "greedy continuation");
    }
    Fixtures.checkOnnx(out.resolve(Converter.MODEL_FILE));
  }

  private void baseParity(Path fixture) throws Exception {
    Path out = convert(fixture, false, true, "base");
    JsonNode card = JSON.readTree(out.resolve(io.sketchrt.format.ModelCard.FILE_NAME).toFile());
    assertEquals("model.onnx.data", card.get("external_data").asText());
    assertTrue(Files.size(out.resolve("model.onnx.data")) > 0);
    try (SafetensorsCheckpoint golden =
            SafetensorsCheckpoint.open(fixture.resolve("golden.safetensors"));
        OrtDecoder dec = decoder(out)) {
      double[] f = compareLogits(dec, golden, "logits_untuned", fixture, "base");
      System.out.printf(
          "%s base (external data): max|dlogit| %.3e, rel err %.3e%n",
          fixture.getFileName(), f[0], f[1]);
    }
    Fixtures.checkOnnx(out.resolve(Converter.MODEL_FILE));
  }

  /**
   * Returns {max |Δ|, ‖Δ‖/‖ref‖, 1 if top-1 agrees everywhere}; asserts rel ≤ 1e-5 and top-1. Runs
   * the golden batch twice: in one pass, and as a 5-token prefill + one token at a time.
   */
  private static double[] compareLogits(
      OrtDecoder dec, SafetensorsCheckpoint golden, String key, Path fixture, String tag)
      throws Exception {
    TensorData ids = golden.get("input_ids");
    TensorData ref = golden.get(key);
    int b = (int) ids.dim(0);
    int s = (int) ids.dim(1);
    int v = (int) ref.dim(2);
    long[][] batch = new long[b][s];
    long[][] pos = new long[b][];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < s; j++) {
        batch[i][j] = ids.getLong((long) i * s + j);
      }
      pos[i] = OrtDecoder.range(0, s);
    }
    float[] refLogits = ref.toFloatArray();
    OrtDecoder.Step full = dec.run(batch, OrtDecoder.ones(b, s), pos, null, 0);
    assertArrayEquals(new long[] {b, s, v}, full.logitsShape());
    double[] fig = figures(full.logits(), refLogits, v);
    assertTrue(fig[1] <= 1e-5, fixture.getFileName() + " " + tag + ": rel err " + fig[1]);
    assertEquals(1.0, fig[2], fixture.getFileName() + " " + tag + ": top-1 differs");

    // the same logits through the KV cache: prefill 5, then one token per step
    float[] cached = new float[refLogits.length];
    int prefix = 5;
    OrtDecoder.Step step =
        dec.run(
            slice(batch, 0, prefix), OrtDecoder.ones(b, prefix), slice(pos, 0, prefix), null, 0);
    scatter(step.logits(), cached, b, s, v, 0, prefix);
    for (int t = prefix; t < s; t++) {
      step =
          dec.run(
              slice(batch, t, t + 1),
              OrtDecoder.ones(b, t + 1),
              slice(pos, t, t + 1),
              step.present(),
              t);
      scatter(step.logits(), cached, b, s, v, t, 1);
    }
    double[] cfig = figures(cached, refLogits, v);
    assertTrue(
        cfig[1] <= 1e-5, fixture.getFileName() + " " + tag + " (KV cache): rel err " + cfig[1]);
    assertEquals(1.0, cfig[2], fixture.getFileName() + " " + tag + " (KV cache): top-1 differs");
    return fig;
  }

  /**
   * Row 0 left-padded by 3 tokens must give the same logits at its real positions as row 0 alone
   * (padding is never attended to; positions = cumsum(mask) - 1).
   */
  private void leftPadding(Path fixture) throws Exception {
    Path out = convert(fixture, true, false, "pad", true);
    assertTrue(!usesGroupQueryAttention(out), "a concat conversion has no GroupQueryAttention");
    paddedRowMatchesItselfAlone(fixture, out, true);
  }

  /**
   * The in-place graph (GroupQueryAttention) takes right padding: row 0 followed by 3 padding
   * tokens (mask 0) gives row 0's logits alone at its real positions, in one pass.
   */
  private void rightPadding(Path fixture) throws Exception {
    Path out = convert(fixture, true, false, "rpad");
    boolean inPlace = usesGroupQueryAttention(out);
    assertEquals(!fixture.getFileName().toString().startsWith("mistral"), inPlace);
    paddedRowMatchesItselfAlone(fixture, out, false);
  }

  /**
   * Row 0 of the golden prompt padded by 3 tokens on the left or the right, beside row 1 unpadded,
   * against row 0's real tokens run alone: the logits of its real positions must agree.
   */
  private void paddedRowMatchesItselfAlone(Path fixture, Path out, boolean left) throws Exception {
    String side = left ? "left" : "right";
    try (SafetensorsCheckpoint golden =
            SafetensorsCheckpoint.open(fixture.resolve("golden.safetensors"));
        OrtDecoder dec = decoder(out)) {
      TensorData ids = golden.get("input_ids");
      int s = (int) ids.dim(1);
      int pad = 3;
      int real = s - pad;
      int first = left ? pad : 0; // row 0's first real position
      long[][] batch = new long[2][s];
      long[][] mask = OrtDecoder.ones(2, s);
      long[][] pos = new long[2][s];
      for (int j = 0; j < s; j++) {
        batch[1][j] = ids.getLong(s + j);
        pos[1][j] = j;
        boolean padded = j < first || j >= first + real;
        batch[0][j] = padded ? 0 : ids.getLong(j - first);
        mask[0][j] = padded ? 0 : 1;
        pos[0][j] = padded ? 0 : j - first;
      }
      OrtDecoder.Step padded = dec.run(batch, mask, pos, null, 0);
      long[][] alone = {java.util.Arrays.copyOfRange(batch[0], first, first + real)};
      OrtDecoder.Step single =
          dec.run(
              alone, OrtDecoder.ones(1, real), new long[][] {OrtDecoder.range(0, real)}, null, 0);
      int v = (int) single.logitsShape()[2];
      float[] realPart = new float[real * v];
      System.arraycopy(padded.logits(), first * v, realPart, 0, real * v);
      double[] expected = new double[real * v];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = single.logits()[i];
      }
      double rel = TestTensors.relError(realPart, expected);
      System.out.printf("%s %s padding: rel diff %.3e%n", fixture.getFileName(), side, rel);
      assertTrue(rel <= 1e-5, side + "-padded row differs: " + rel);
    }
  }

  private static boolean usesGroupQueryAttention(Path out) throws IOException {
    ai.onnx.proto.OnnxMl.ModelProto m =
        ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
            Files.readAllBytes(out.resolve(Converter.MODEL_FILE)));
    return m.getGraph().getNodeList().stream()
        .anyMatch(n -> n.getOpType().equals("GroupQueryAttention"));
  }

  static double[] figures(float[] actual, float[] ref, int vocab) {
    double maxAbs = 0;
    double num = 0;
    double den = 0;
    boolean top1 = true;
    for (int i = 0; i < ref.length; i++) {
      double d = actual[i] - ref[i];
      maxAbs = Math.max(maxAbs, Math.abs(d));
      num += d * d;
      den += (double) ref[i] * ref[i];
    }
    for (int row = 0; row < ref.length / vocab; row++) {
      top1 &=
          OrtDecoder.argmax(actual, row * vocab, vocab)
              == OrtDecoder.argmax(ref, row * vocab, vocab);
    }
    return new double[] {maxAbs, Math.sqrt(num / den), top1 ? 1 : 0};
  }

  private static long[][] slice(long[][] a, int from, int to) {
    long[][] r = new long[a.length][];
    for (int i = 0; i < a.length; i++) {
      r[i] = java.util.Arrays.copyOfRange(a[i], from, to);
    }
    return r;
  }

  private static void scatter(float[] step, float[] all, int b, int s, int v, int t0, int len) {
    for (int i = 0; i < b; i++) {
      System.arraycopy(step, i * len * v, all, (i * s + t0) * v, len * v);
    }
  }

  private static long[] longs(TensorData t) {
    long[] r = new long[(int) t.numel()];
    for (int i = 0; i < r.length; i++) {
      r[i] = t.getLong(i);
    }
    return r;
  }

  private static int countEqual(long[] a, long[] b) {
    int n = 0;
    for (int i = 0; i < Math.min(a.length, b.length); i++) {
      n += a[i] == b[i] ? 1 : 0;
    }
    return n;
  }
}
