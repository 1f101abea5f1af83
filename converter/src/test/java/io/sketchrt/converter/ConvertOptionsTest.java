package io.sketchrt.converter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.sketchrt.converter.checkpoint.SafetensorsCheckpoint;
import io.sketchrt.converter.checkpoint.SketchPickles;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.GraphNames;
import io.sketchrt.format.GroupQueryAttentionOp;
import io.sketchrt.format.SketchMatMulOp;
import io.sketchrt.format.Target;
import java.lang.foreign.ValueLayout;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the converted file holds: domains, attributes, codes bytes, metadata; other dtypes. */
class ConvertOptionsTest {

  private static final ConversionListener QUIET = ConversionListener.silent();
  private static final Path FIXTURE = Fixtures.fixture("llama3_gqa_g4_bf16");

  @TempDir Path tmp;

  @BeforeEach
  void needFixture() {}

  private Path convert(DType dtype, Target target, String tag) throws Exception {
    Path out = tmp.resolve(tag);
    Converter.convert(
        new Converter.Request(
            FIXTURE.resolve("hf"),
            FIXTURE.resolve("sketch.pkl"),
            FIXTURE.resolve("tuned"),
            out,
            dtype,
            target,
            false),
        QUIET);
    return out;
  }

  private static ModelProto load(Path out) throws Exception {
    return ModelProto.parseFrom(Files.readAllBytes(out.resolve(Converter.MODEL_FILE)));
  }

  @Test
  void ortTensorrtTargetUsesTheTrtPluginsDomain() throws Exception {
    Path out = convert(DType.F32, Target.ORT_TENSORRT, "trt");
    ModelProto m = load(out);
    List<NodeProto> sketchNodes =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("SketchMatMul"))
            .toList();
    assertEquals(14, sketchNodes.size());
    for (NodeProto n : sketchNodes) {
      assertEquals(SketchMatMulOp.TRT_DOMAIN, n.getDomain());
      Map<String, Object> attrs = new HashMap<>();
      n.getAttributeList()
          .forEach(a -> attrs.put(a.getName(), a.hasS() ? a.getS().toStringUtf8() : a.getI()));
      assertEquals("", attrs.get("plugin_namespace"), n.getName());
      assertEquals(4L, attrs.get("bits"));
      assertEquals(4L, attrs.get("groups"));
    }
    assertTrue(
        m.getOpsetImportList().stream()
            .anyMatch(o -> o.getDomain().equals(SketchMatMulOp.TRT_DOMAIN)));
    FunctionProto f = m.getFunctions(0);
    assertEquals(SketchMatMulOp.TRT_DOMAIN, f.getDomain());
    // and ONNX Runtime without TensorRT still runs it through the function: same logits as golden
    try (SafetensorsCheckpoint golden =
        SafetensorsCheckpoint.open(FIXTURE.resolve("golden.safetensors"))) {
      double[] fig = logitsVsGolden(out, golden);
      System.out.printf(
          "llama3_gqa_g4_bf16 --target ort-tensorrt on ORT CPU: rel err %.3e%n", fig[1]);
      assertTrue(fig[1] <= 1e-5, "rel err " + fig[1]);
    }
    Fixtures.checkOnnx(out.resolve(Converter.MODEL_FILE));
  }

  @Test
  void fileFormatCodesAndMetadata() throws Exception {
    Path out = convert(DType.F32, Target.PORTABLE, "portable");
    ModelProto m = load(out);
    assertEquals(10, m.getIrVersion());
    assertEquals("sketchrt", m.getProducerName());
    Map<String, Long> opsets =
        m.getOpsetImportList().stream()
            .collect(
                Collectors.toMap(OperatorSetIdProto::getDomain, OperatorSetIdProto::getVersion));
    // fp32 portable: attention through GroupQueryAttention (com.microsoft's in its function), KV
    // in place;
    // SketchMatMul version 2 (lut_index)
    assertEquals(Map.of("", 21L, "ai.sketchrt", 2L, "com.microsoft", 1L), opsets);
    Map<String, String> meta =
        m.getMetadataPropsList().stream()
            .collect(
                Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    assertEquals(GraphNames.KV_IN_PLACE, meta.get(GraphNames.KV_CACHE_METADATA));
    // attention is ai.sketchrt::GroupQueryAttention, which rotates q and k itself (cos and sin
    // inputs); its function rotates them with standard operators, then calls com.microsoft's node
    List<NodeProto> attention =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals(GroupQueryAttentionOp.OP_TYPE))
            .toList();
    assertEquals(2, attention.size(), "one attention node per layer of the fixture");
    for (NodeProto n : attention) {
      assertEquals("ai.sketchrt", n.getDomain());
      assertEquals(
          List.of(GroupQueryAttentionOp.ATTR_HEADS, GroupQueryAttentionOp.ATTR_KV_HEADS),
          n.getAttributeList().stream().map(a -> a.getName()).toList());
      assertEquals(GroupQueryAttentionOp.INPUTS, n.getInputCount(), n.getInputList().toString());
    }
    assertTrue(
        m.getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("Split")),
        "no rotary Split left in the graph: GroupQueryAttention rotates");
    FunctionProto gqa =
        m.getFunctionsList().stream()
            .filter(f -> f.getName().equals(GroupQueryAttentionOp.OP_TYPE))
            .findFirst()
            .orElseThrow();
    assertEquals("ai.sketchrt", gqa.getDomain());
    NodeProto inner = gqa.getNode(gqa.getNodeCount() - 1);
    assertEquals(GroupQueryAttentionOp.MICROSOFT_DOMAIN, inner.getDomain());
    assertEquals(List.of("query_rot", "key_rot"), inner.getInputList().subList(0, 2));
    assertEquals(GroupQueryAttentionOp.REQUIRED_INPUTS, inner.getInputCount());
    assertEquals(
        List.of(GroupQueryAttentionOp.ATTR_HEADS, GroupQueryAttentionOp.ATTR_KV_HEADS),
        inner.getAttributeList().stream().map(a -> a.getRefAttrName()).toList());
    // the bf16 checkpoint's embedding table stays bf16, each gathered row widened exactly
    TensorProto table =
        m.getGraph().getInitializerList().stream()
            .filter(t -> t.getName().equals("model.embed_tokens.weight"))
            .findFirst()
            .orElseThrow();
    assertEquals(TensorProto.DataType.BFLOAT16_VALUE, table.getDataType());
    NodeProto gather =
        m.getGraph().getNodeList().stream()
            .filter(n -> n.getInputList().contains("model.embed_tokens.weight"))
            .findFirst()
            .orElseThrow();
    assertEquals("Gather", gather.getOpType());
    assertTrue(
        m.getGraph().getNodeList().stream()
            .anyMatch(
                n ->
                    n.getOpType().equals("Cast")
                        && n.getInput(0).equals(gather.getOutput(0))
                        && n.getAttributeList().stream()
                            .anyMatch(
                                a ->
                                    a.getName().equals("to")
                                        && a.getI() == TensorProto.DataType.FLOAT_VALUE)),
        "the gathered bf16 rows are cast to fp32");
    assertEquals("4", meta.get("sketchrt.sketch.bits"));
    assertEquals("4", meta.get("sketchrt.sketch.groups"));
    assertEquals("true", meta.get("sketchrt.sketch.tuned"));
    assertEquals(Converter.VERSION, meta.get("sketchrt.converter_version"));
    assertEquals(
        Sources.digest(FIXTURE.resolve("sketch.pkl")).sha256(),
        meta.get("sketchrt.source.sketch.sha256"));
    assertEquals(
        Sources.digest(FIXTURE.resolve("tuned/sketched_params.pkl")).sha256(),
        meta.get("sketchrt.source.tuned.sha256"));
    Map<String, SketchedLinear> sketch = SketchPickles.readBase(FIXTURE.resolve("sketch.pkl"));
    assertEquals(String.join(",", sketch.keySet()), meta.get("sketchrt.sketch.modules"));

    // codes: INT8 initializers holding exactly the pickle's uint8 bytes
    Map<String, TensorProto> inits =
        m.getGraph().getInitializerList().stream()
            .collect(Collectors.toMap(TensorProto::getName, t -> t));
    for (SketchedLinear s : sketch.values()) {
      TensorProto codes = inits.get(s.module() + ".codes");
      assertEquals(TensorProto.DataType.INT8_VALUE, codes.getDataType());
      assertArrayEquals(
          s.codes().shape(), codes.getDimsList().stream().mapToLong(Long::longValue).toArray());
      assertArrayEquals(
          s.codes().bytes().toArray(ValueLayout.JAVA_BYTE),
          codes.getRawData().toByteArray(),
          s.module());
      TensorProto lut = inits.get(s.module() + ".lut");
      assertEquals(
          TensorProto.DataType.FLOAT_VALUE, lut.getDataType(), "fp32 target stores float LUTs");
    }
  }

  /** fp16 activations (norms and softmax in fp32), if this ONNX Runtime build runs them on CPU. */
  @Test
  void halfPrecisionActivations() throws Exception {
    Path out = convert(DType.F16, Target.PORTABLE, "fp16");
    ModelProto m = load(out);
    assertEquals(
        TensorProto.DataType.FLOAT_VALUE,
        m.getGraph().getOutput(0).getType().getTensorType().getElemType(),
        "logits fp32");
    assertEquals(
        TensorProto.DataType.FLOAT16_VALUE,
        m.getGraph().getOutput(1).getType().getTensorType().getElemType(),
        "present fp16");
    try (SafetensorsCheckpoint golden =
        SafetensorsCheckpoint.open(FIXTURE.resolve("golden.safetensors"))) {
      double[] fig = logitsVsGolden(out, golden);
      System.out.printf(
          "llama3_gqa_g4_bf16 fp16 activations on ORT CPU: max|dlogit| %.3e, rel err %.3e, top-1 %s%n",
          fig[0], fig[1], fig[2] == 1 ? "all" : "not all");
      // DESIGN section 5 bounds single fp16 ops at 2e-3; this is a whole model (2 layers, logits
      // after
      // 15 fp16 matmuls), for which the contract asks for figures and top-1. ONNX Runtime 1.23
      // upcast
      // most fp16 CPU ops to fp32 (2.5e-4 here); 1.29 runs them in fp16 (2.4e-3).
      assertTrue(fig[1] <= 1e-2, "rel err " + fig[1]);
      assertEquals(1, fig[2], "top-1 agreement with the training-time reference");
    }
    Fixtures.checkOnnx(out.resolve(Converter.MODEL_FILE));
  }

  /** bf16 activations: valid ONNX; run where this ONNX Runtime has bf16 CPU kernels. */
  @Test
  void bfloat16Activations() throws Exception {
    Path out = convert(DType.BF16, Target.PORTABLE, "bf16");
    Fixtures.checkOnnx(out.resolve(Converter.MODEL_FILE));
    try (OrtSession s =
        OrtDecoder.ENV.createSession(
            out.resolve(Converter.MODEL_FILE).toString(), new OrtSession.SessionOptions())) {
      assertEquals(4 + 4, s.getNumInputs());
    } catch (ai.onnxruntime.OrtException e) {
      // ONNX Runtime's CPU provider has no bf16 kernels for Mul/MatMul: bf16 is a GPU target. That
      // is the one failure accepted here; the graph itself passed the onnx checker above.
      assertEquals(
          ai.onnxruntime.OrtException.OrtErrorCode.ORT_NOT_IMPLEMENTED,
          e.getCode(),
          e.getMessage());
      System.out.println(
          "bf16 graph checked; not run: ONNX Runtime's CPU provider lacks bf16 kernels");
    }
  }

  /** Runs the golden batch with an empty cache; returns FixtureParityTest.figures. */
  private static double[] logitsVsGolden(Path out, SafetensorsCheckpoint golden) throws Exception {
    TensorData ids = golden.get("input_ids");
    TensorData ref = golden.get("logits");
    ModelProto m = load(out);
    int layers =
        (int)
                m.getGraph().getInputList().stream()
                    .filter(v -> v.getName().startsWith("past_key_values"))
                    .count()
            / 2;
    var pastType = m.getGraph().getInput(3).getType().getTensorType();
    long kv = pastType.getShape().getDim(1).getDimValue();
    long d = pastType.getShape().getDim(3).getDimValue();
    long b = ids.dim(0);
    long s = ids.dim(1);
    var env = OrtDecoder.ENV;
    long[] flatIds = new long[(int) (b * s)];
    long[] mask = new long[flatIds.length];
    long[] pos = new long[flatIds.length];
    for (int i = 0; i < flatIds.length; i++) {
      flatIds[i] = ids.getLong(i);
      mask[i] = 1;
      pos[i] = i % s;
    }
    try (OrtSession session =
        env.createSession(
            out.resolve(Converter.MODEL_FILE).toString(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      in.put(
          "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(flatIds), new long[] {b, s}));
      in.put(
          "attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {b, s}));
      in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {b, s}));
      boolean half = pastType.getElemType() == TensorProto.DataType.FLOAT16_VALUE;
      for (int i = 0; i < layers; i++) {
        for (String kind : List.of("key", "value")) {
          long[] shape = {b, kv, 0, d};
          OnnxTensor t =
              half
                  ? OnnxTensor.createTensor(
                      env,
                      java.nio.ByteBuffer.allocateDirect(0),
                      shape,
                      ai.onnxruntime.OnnxJavaType.FLOAT16)
                  : OnnxTensor.createTensor(env, java.nio.FloatBuffer.allocate(0), shape);
          in.put("past_key_values." + i + "." + kind, t);
        }
      }
      try (OrtSession.Result r = session.run(in)) {
        OnnxTensor logits = (OnnxTensor) r.get("logits").orElseThrow();
        float[] got = new float[(int) logits.getInfo().getNumElements()];
        logits.getFloatBuffer().get(got);
        return FixtureParityTest.figures(got, ref.toFloatArray(), (int) ref.dim(2));
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }
}
