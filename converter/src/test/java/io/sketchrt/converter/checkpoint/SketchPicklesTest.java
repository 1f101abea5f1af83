package io.sketchrt.converter.checkpoint;

import static io.sketchrt.converter.checkpoint.Expected.PICKLES;
import static io.sketchrt.converter.checkpoint.Expected.assertFails;
import static io.sketchrt.converter.checkpoint.Expected.assertTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.JsonNode;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SketchPicklesTest {

  private static JsonNode expected(String file) throws IOException {
    return Expected.json(PICKLES.resolve("expected.json")).get(file).get("layers");
  }

  /** Reshapes an expected 2-D tensor description to the 3-D form the reader returns. */
  private static JsonNode as3d(JsonNode t) {
    var copy = t.deepCopy();
    var shape =
        (com.fasterxml.jackson.databind.node.ArrayNode)
            ((com.fasterxml.jackson.databind.node.ObjectNode) copy).get("shape");
    if (shape.size() == 2) {
      shape.insert(1, 1);
    }
    return copy;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "base_3d_fp16_p4.pkl",
        "base_2d_fp32_p2.pkl",
        "base_3d_bf16_p5.pkl",
        "base_int8_codes_p3.pkl"
      })
  void baseSketchMatchesWhatTorchWrote(String file) throws IOException, CheckpointException {
    Map<String, SketchedLinear> base = SketchPickles.readBase(PICKLES.resolve(file));
    JsonNode layers = expected(file);
    List<String> names = new ArrayList<>();
    layers.fieldNames().forEachRemaining(names::add);
    assertEquals(names, new ArrayList<>(base.keySet()), "layers in file order");
    for (String name : names) {
      SketchedLinear l = base.get(name);
      assertEquals(name, l.module());
      assertTensor(as3d(layers.get(name).get("lut")), l.lut(), name + " lut");
      JsonNode codes = as3d(layers.get(name).get("codes"));
      if (codes.get("dtype").asText().equals("I8")) {
        // int8 codes are accepted and handed out as the same bytes typed U8.
        ((com.fasterxml.jackson.databind.node.ObjectNode) codes).put("dtype", "U8");
        var v = (com.fasterxml.jackson.databind.node.ArrayNode) codes.get("values");
        for (int i = 0; i < v.size(); i++) {
          v.set(i, v.get(i).asInt() & 0xFF);
        }
      }
      assertTensor(codes, l.codes(), name + " codes");
    }
  }

  @Test
  void derivedShapes() throws IOException, CheckpointException {
    Map<String, SketchedLinear> base =
        SketchPickles.readBase(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    SketchedLinear q = base.get("model.layers.0.self_attn.q_proj");
    assertEquals(4, q.bits());
    assertEquals(2, q.groups());
    assertEquals(8, q.outFeatures());
    assertEquals(16, q.inFeatures());
    SketchedLinear down = base.get("model.layers.0.mlp.down_proj");
    assertEquals(32, down.inFeatures());
    SketchedLinear k =
        SketchPickles.readBase(PICKLES.resolve("base_2d_fp32_p2.pkl"))
            .get("model.layers.0.self_attn.k_proj");
    assertEquals(1, k.groups());
    assertEquals(8, k.inFeatures());
    assertEquals(4, k.outFeatures());
    SketchedLinear v =
        SketchPickles.readBase(PICKLES.resolve("base_3d_bf16_p5.pkl"))
            .get("model.layers.0.self_attn.v_proj");
    assertEquals(2, v.bits());
    assertEquals(4, v.groups());
    assertEquals(32, v.inFeatures());
    assertEquals(
        3, SketchPickles.readBase(PICKLES.resolve("base_int8_codes_p3.pkl")).get("lm.q").bits());
  }

  @Test
  void tunedFromDirectoryOrFile() throws IOException, CheckpointException {
    JsonNode layers = expected("tuned/sketched_params.pkl");
    for (Path p : List.of(PICKLES.resolve("tuned"), PICKLES.resolve("tuned/sketched_params.pkl"))) {
      Map<String, TensorData> tuned = SketchPickles.readTuned(p);
      assertEquals(2, tuned.size());
      for (Iterator<String> it = layers.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        assertTensor(layers.get(name), tuned.get(name), name);
      }
    }
  }

  @Test
  void applyTunedReplacesLutsAndKeepsCodes() throws IOException, CheckpointException {
    Map<String, SketchedLinear> base =
        SketchPickles.readBase(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    Map<String, TensorData> tuned = SketchPickles.readTuned(PICKLES.resolve("tuned"));
    Map<String, SketchedLinear> out = SketchPickles.applyTuned(base, tuned);
    assertEquals(new ArrayList<>(base.keySet()), new ArrayList<>(out.keySet()));
    for (SketchedLinear l : out.values()) {
      assertSame(tuned.get(l.module()), l.lut());
      assertSame(base.get(l.module()).codes(), l.codes());
      assertEquals(DType.BF16, l.lut().dtype());
    }
  }

  @Test
  void applyTunedRejectsMissingExtraAndMisshapenLayers() throws IOException, CheckpointException {
    Map<String, SketchedLinear> base =
        SketchPickles.readBase(PICKLES.resolve("base_3d_fp16_p4.pkl"));
    Map<String, TensorData> tuned =
        new LinkedHashMap<>(SketchPickles.readTuned(PICKLES.resolve("tuned")));

    Map<String, TensorData> missing = new LinkedHashMap<>(tuned);
    missing.remove("model.layers.0.mlp.down_proj");
    assertFails(
        () -> SketchPickles.applyTuned(base, missing),
        "lacks layer 'model.layers.0.mlp.down_proj'");

    Map<String, TensorData> extra = new LinkedHashMap<>(tuned);
    extra.put("model.layers.9.mlp.up_proj", tuned.get("model.layers.0.mlp.down_proj"));
    assertFails(
        () -> SketchPickles.applyTuned(base, extra),
        "not in the base sketch",
        "'model.layers.9.mlp.up_proj'");

    Map<String, TensorData> swapped = new LinkedHashMap<>(tuned);
    swapped.put("model.layers.0.mlp.down_proj", tuned.get("model.layers.0.self_attn.q_proj"));
    assertFails(
        () -> SketchPickles.applyTuned(base, swapped),
        "tuned LUT of 'model.layers.0.mlp.down_proj' has shape [8, 2, 16] but the base LUT has [4, 2, 16]");
  }

  @Test
  void stridedViewIsCopiedContiguousAndParameterUnwrapped()
      throws IOException, CheckpointException {
    Object root = TorchPickle.load(PICKLES.resolve("strided_view_p4.pkl"));
    Map<?, ?> m = (Map<?, ?>) root;
    JsonNode layers = expected("strided_view_p4.pkl");
    TensorData view = (TensorData) m.get("view");
    assertArrayEquals(new long[] {6, 4}, view.shape());
    assertTensor(layers.get("view"), view, "view");
    // view = arange(60).reshape(6, 10)[1:5, 2:8].t(): element [i, j] = (1 + j) * 10 + 2 + i.
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 4; j++) {
        assertEquals((1 + j) * 10 + 2 + i, view.getFloat(i * 4L + j));
      }
    }
    assertTensor(layers.get("param"), (TensorData) m.get("param"), "param");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "lut_3_levels|quant_grid has 3 entries per row (expected 2, 4, 8 or 16 = 2^bits)",
        "lut_32_levels|quant_grid has 32 entries per row",
        "lut_int|quant_grid has dtype I64 (expected F32, F16 or BF16)",
        "lut_4d|quant_grid has shape [4, 2, 4, 4]",
        "codes_float|weight_codes has dtype F32 (expected U8)",
        "codes_groups|weight_codes has shape [4, 4, 2] but quant_grid [4, 2, 16] needs [4, 2, K/G/2]",
        "codes_rows|weight_codes has shape [3, 2, 4]",
        "codes_2d_with_groups|weight_codes has shape [4, 8] but quant_grid [4, 2, 16]",
        "codes_exceed_lut|but the LUT has only 4 entries",
        "not_a_tuple|must be a (quant_grid, weight_codes) tuple, got a tensor",
        "triple|must be a (quant_grid, weight_codes) tuple, got a tuple",
      })
  void badLayersAreNamed(String file, String message) {
    Path p = PICKLES.resolve("bad/" + file + ".pkl");
    assertFails(
        () -> SketchPickles.readBase(p),
        p.toString(),
        "layer 'model.layers.0.self_attn.o_proj'",
        message);
  }

  @Test
  void badRoots() {
    Path list = PICKLES.resolve("bad/list_root.pkl");
    assertFails(
        () -> SketchPickles.readBase(list),
        list.toString(),
        "expected a dict of layers, got a list");
    Path intKey = PICKLES.resolve("bad/int_key.pkl");
    assertFails(() -> SketchPickles.readBase(intKey), "layer names must be strings, got a int");
    Path empty = PICKLES.resolve("bad/empty_dict.pkl");
    assertFails(() -> SketchPickles.readTuned(empty), "holds no layers");
  }

  @Test
  void tunedValuesMustBeLuts() {
    // A base sketch handed where the tuned LUTs are expected.
    Path p = PICKLES.resolve("base_3d_fp16_p4.pkl");
    assertFails(() -> SketchPickles.readTuned(p), "tuned quant_grid is a tuple, not a tensor");
  }

  /** A tuned LUT [1, 4] holding {@code bad} at entry 2, as storage class {@code storage}. */
  private Path lutWith(String storage, byte[] data, @org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException {
    Path p = dir.resolve("sketched_params.pkl");
    byte[] stream = PickleWriter.storageStream(storage, 4, data);
    byte[] pkl = PickleWriter.tensorDict(stream, 0, new long[] {1, 4}, new long[] {4, 1});
    java.nio.file.Files.write(p, pkl);
    return p;
  }

  private static byte[] halves(int... bits) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(bits.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int v : bits) {
      b.putShort((short) v);
    }
    return b.array();
  }

  @Test
  void nonFiniteLutsAreRefusedNamingTheModule(@org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException, CheckpointException {
    Path ok = lutWith("FloatStorage", PickleWriter.floats(1, 2, 3, 4), dir);
    assertEquals(1, SketchPickles.readTuned(ok).size());
    Path nan = lutWith("FloatStorage", PickleWriter.floats(1, 2, Float.NaN, 4), dir);
    assertFails(
        () -> SketchPickles.readTuned(nan),
        "layer 'x': tuned quant_grid holds NaN at row 0, entry 2: every LUT entry must be finite");
    Path inf = lutWith("FloatStorage", PickleWriter.floats(1, Float.NEGATIVE_INFINITY, 3, 4), dir);
    assertFails(() -> SketchPickles.readTuned(inf), "layer 'x'", "holds -Inf at row 0, entry 1");
    // fp16 +Inf is 0x7c00, bf16 NaN 0x7fc0; the largest finite values pass.
    Path f16 = lutWith("HalfStorage", halves(0x3c00, 0x7bff, 0x7c00, 0), dir);
    assertFails(() -> SketchPickles.readTuned(f16), "holds +Inf at row 0, entry 2");
    Path bf16 = lutWith("BFloat16Storage", halves(0x7f7f, 0x7fc0, 0, 0), dir);
    assertFails(() -> SketchPickles.readTuned(bf16), "holds NaN at row 0, entry 1");
  }

  @Test
  void missingFiles() {
    assertFails(
        () -> SketchPickles.readBase(PICKLES.resolve("nope.pkl")), "nope.pkl: file not found");
    assertFails(
        () -> SketchPickles.readTuned(PICKLES.resolve("bad")),
        "sketched_params.pkl: file not found");
    assertFails(() -> SketchPickles.readBase(PICKLES), "is a directory");
  }
}
