package io.sketchrt.converter.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sketchrt.converter.TestTensors;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.onnx.TensorSource;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.SketchMatMulOp;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One SketchMatMul node run by ONNX Runtime (through its function) against a float64 gather. */
class SketchMatMulTest {

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final long N = 24;
  private static final long K = 64;

  @TempDir Path tmp;

  static Stream<Arguments> configs() {
    return Stream.of(1, 2, 4, 8)
        .flatMap(
            g ->
                Stream.of(1, 2, 3, 4)
                    .flatMap(
                        bits ->
                            Stream.of(DType.F32, DType.F16, DType.BF16)
                                .map(t -> Arguments.of(g, bits, t))));
  }

  @ParameterizedTest(name = "G={0} bits={1} lut={2}")
  @MethodSource("configs")
  void matchesFloat64Reference(int groups, int bits, DType lutType) throws Exception {
    Random rng = new Random(31L * groups + 7L * bits + lutType.ordinal());
    double err = runCase(rng, groups, bits, lutType, false, new long[] {5, K});
    System.out.printf(
        "SketchMatMul G=%d bits=%d lut=%s: rel err %.2e%n", groups, bits, lutType, err);
    assertTrue(err <= 1e-5, "relative error " + err);
  }

  @Test
  void biasAndBatchDims() throws Exception {
    Random rng = new Random(11);
    double err = runCase(rng, 4, 4, DType.BF16, true, new long[] {2, 3, K});
    System.out.printf("SketchMatMul with bias, X [2,3,K]: rel err %.2e%n", err);
    assertTrue(err <= 1e-5, "relative error " + err);
    err = runCase(rng, 2, 3, DType.F16, false, new long[] {2, 3, K});
    assertTrue(err <= 1e-5, "relative error " + err);
  }

  /** ONNX Runtime inlines the function and folds the gather into a dense constant. */
  @Test
  void onnxRuntimeFoldsTheDequantisation() throws Exception {
    Random rng = new Random(5);
    Path model = writeModel(rng, 4, 4, DType.F16, true, new long[] {2, 3, K}, tmp.resolve("fold"));
    Path optimized = tmp.resolve("optimized.onnx");
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      opts.setOptimizedModelFilePath(optimized.toString());
      try (OrtSession s = ENV.createSession(model.toString(), opts)) {
        assertEquals(1, s.getNumInputs());
      }
    }
    ModelProto opt = ModelProto.parseFrom(Files.readAllBytes(optimized));
    var ops = opt.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    System.out.println("optimized graph: " + ops);
    assertFalse(ops.contains("GatherElements"), "dequantisation not folded: " + ops);
    assertFalse(ops.contains(SketchMatMulOp.OP_TYPE), "function not inlined: " + ops);
    assertTrue(
        ops.contains("Gemm") || ops.contains("MatMul") || ops.contains("FusedGemm"), "" + ops);
  }

  private double runCase(
      Random rng, int groups, int bits, DType lutType, boolean withBias, long[] xShape)
      throws Exception {
    TensorData lut = TestTensors.randomFloats(rng, lutType, 0.5, N, groups, 1L << bits);
    TensorData codes = TestTensors.randomCodes(rng, bits, N, groups, K);
    TensorData bias = withBias ? TestTensors.randomFloats(rng, DType.F32, 1.0, N) : null;
    Path dir = tmp.resolve("g" + groups + "b" + bits + lutType + withBias + xShape.length);
    Path model = writeModel(lut, codes, bias, bits, groups, xShape, dir);

    float[] x = TestTensors.randomFloats(rng, DType.F32, 1.0, xShape).toFloatArray();
    double[][] w = TestTensors.gather(lut, codes);
    int rows = x.length / (int) K;
    double[] expected = new double[rows * (int) N];
    for (int r = 0; r < rows; r++) {
      for (int n = 0; n < N; n++) {
        double acc = bias == null ? 0 : bias.getFloat(n);
        for (int k = 0; k < K; k++) {
          acc += (double) x[r * (int) K + k] * w[n][k];
        }
        expected[r * (int) N + n] = acc;
      }
    }
    float[] actual = new float[expected.length];
    Arrays.fill(actual, Float.NaN); // poison: every element must be overwritten
    try (OrtSession s = ENV.createSession(model.toString(), new OrtSession.SessionOptions());
        OnnxTensor xt = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), xShape);
        OrtSession.Result out = s.run(Map.of("X", xt))) {
      OnnxTensor y = (OnnxTensor) out.get(0);
      long[] yShape = y.getInfo().getShape();
      long[] want = xShape.clone();
      want[want.length - 1] = N;
      assertEquals(Arrays.toString(want), Arrays.toString(yShape));
      y.getFloatBuffer().get(actual);
    }
    return TestTensors.relError(actual, expected);
  }

  private Path writeModel(
      Random rng, int groups, int bits, DType lutType, boolean withBias, long[] xShape, Path dir)
      throws Exception {
    TensorData lut = TestTensors.randomFloats(rng, lutType, 0.5, N, groups, 1L << bits);
    TensorData codes = TestTensors.randomCodes(rng, bits, N, groups, K);
    TensorData bias = withBias ? TestTensors.randomFloats(rng, DType.F32, 1.0, N) : null;
    return writeModel(lut, codes, bias, bits, groups, xShape, dir);
  }

  /** A one-node model: Y = SketchMatMul(X, codes, lut[, bias]), the LUT widened to float. */
  static Path writeModel(
      TensorData lut,
      TensorData codes,
      TensorData bias,
      int bits,
      int groups,
      long[] xShape,
      Path dir)
      throws Exception {
    GraphBuilder g = new GraphBuilder();
    Object[] dims = new Object[xShape.length];
    for (int i = 0; i < dims.length - 1; i++) {
      dims[i] = "d" + i;
    }
    dims[dims.length - 1] = K;
    g.input("X", DType.F32, dims);
    String c = g.weight("layer.codes", SketchMatMul.codes("layer", codes, bits));
    String l = g.weight("layer.lut", TensorSource.of(lut, DType.F32));
    String b = bias == null ? null : g.weight("layer.bias", TensorSource.of(bias, DType.F32));
    String y =
        SketchMatMul.add(
            g, SketchMatMulOp.DOMAIN, "/layer/SketchMatMul", "X", c, l, b, bits, groups, K, N);
    g.opTo("Y", "/output/Identity", "Identity", java.util.List.of(y));
    Object[] outDims = dims.clone();
    outDims[outDims.length - 1] = N;
    g.output("Y", DType.F32, outDims);
    Files.createDirectories(dir);
    var header =
        new ModelWriter.Header(
            "sketchmatmul_test",
            "SketchMatMul test",
            "test",
            Map.of(
                "", (long) ModelWriter.OPSET, SketchMatMulOp.DOMAIN, (long) SketchMatMulOp.VERSION),
            Map.of());
    return ModelWriter.write(g, header, dir, "model.onnx", false, (w, t) -> {}).model();
  }
}
