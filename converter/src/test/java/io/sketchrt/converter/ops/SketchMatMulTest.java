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
import java.util.List;
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

  /**
   * Version 2: LUTs of three sets [T, N, G, E], and each row of X [B, S, K] takes the set its
   * lut_index names; a single index applies to every row; an index outside the sets is refused.
   */
  @ParameterizedTest(name = "bias={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void lutIndexPicksEachRowsSet(boolean withBias) throws Exception {
    Random rng = new Random(withBias ? 41 : 43);
    int groups = 4;
    int bits = 4;
    int sets = 3;
    TensorData[] luts = new TensorData[sets];
    for (int t = 0; t < sets; t++) {
      luts[t] = TestTensors.randomFloats(rng, DType.F32, 0.5, N, groups, 1L << bits);
    }
    TensorData codes = TestTensors.randomCodes(rng, bits, N, groups, K);
    TensorData bias = withBias ? TestTensors.randomFloats(rng, DType.F32, 1.0, N) : null;
    float[] all = new float[(int) (sets * N * groups * (1L << bits))];
    int per = all.length / sets;
    for (int t = 0; t < sets; t++) {
      System.arraycopy(luts[t].toFloatArray(), 0, all, t * per, per);
    }
    TensorData lut = TensorData.ofFloats(all, sets, N, groups, 1L << bits);
    long[] xShape = {4, 2, K};
    Path model =
        writeModel(
            lut, codes, bias, bits, groups, xShape, tmp.resolve("v2" + withBias), true, false);
    float[] x = TestTensors.randomFloats(rng, DType.F32, 1.0, xShape).toFloatArray();
    for (int[] index : new int[][] {{2, 0, 1, 2}, {1}, {0, 0, 0, 0}}) {
      double[] expected = new double[(int) (4 * 2 * N)];
      for (int r = 0; r < 8; r++) {
        double[][] w = TestTensors.gather(luts[index.length == 1 ? index[0] : index[r / 2]], codes);
        for (int n = 0; n < N; n++) {
          double acc = bias == null ? 0 : bias.getFloat(n);
          for (int k = 0; k < K; k++) {
            acc += (double) x[r * (int) K + k] * w[n][k];
          }
          expected[r * (int) N + n] = acc;
        }
      }
      float[] actual = run(model, x, xShape, index);
      double err = TestTensors.relError(actual, expected);
      System.out.printf(
          "SketchMatMul v2, 3 sets, lut_index %s, bias %b: rel err %.2e%n",
          Arrays.toString(index), withBias, err);
      assertTrue(err <= 1e-5, "relative error " + err + " for lut_index " + Arrays.toString(index));
    }
    var refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            ai.onnxruntime.OrtException.class, () -> run(model, x, xShape, new int[] {0, 3, 0, 0}));
    System.out.println("lut_index 3 of 3 sets: " + refused.getMessage().lines().findFirst().get());
  }

  private static float[] run(Path model, float[] x, long[] xShape, int[] index) throws Exception {
    try (OrtSession s = ENV.createSession(model.toString(), new OrtSession.SessionOptions());
        OnnxTensor xt = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), xShape);
        OnnxTensor it =
            OnnxTensor.createTensor(
                ENV, java.nio.IntBuffer.wrap(index), new long[] {index.length});
        OrtSession.Result out = s.run(Map.of("X", xt, "lut_index", it))) {
      OnnxTensor y = (OnnxTensor) out.get(0);
      float[] actual = new float[(int) (x.length / K * N)];
      Arrays.fill(actual, Float.NaN);
      y.getFloatBuffer().get(actual);
      return actual;
    }
  }

  /**
   * ONNX Runtime inlines the function and folds the gather into a dense constant, the Gemm's
   * weight, even where X's shape is unknown until run time (inside a model, X comes from other
   * nodes): a weight that depended on X's shape would be gathered again at every run.
   */
  @Test
  void onnxRuntimeFoldsTheDequantisation() throws Exception {
    Random rng = new Random(5);
    TensorData lut = TestTensors.randomFloats(rng, DType.F16, 0.5, N, 4, 16);
    TensorData codes = TestTensors.randomCodes(rng, 4, N, 4, K);
    TensorData bias = TestTensors.randomFloats(rng, DType.F32, 1.0, N);
    Path model =
        writeModel(lut, codes, bias, 4, 4, new long[] {2, 3, K}, tmp.resolve("fold"), false, true);
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
    // The dequantisation's GatherElements (over the codes) is folded; version 2's one left picks
    // each row's set from the Gemm's output.
    assertTrue(ops.stream().filter("GatherElements"::equals).count() <= 1, "not folded: " + ops);
    assertFalse(ops.contains("BitShift"), "dequantisation not folded: " + ops);
    assertFalse(ops.contains(SketchMatMulOp.OP_TYPE), "function not inlined: " + ops);
    var initializers = opt.getGraph().getInitializerList().stream().map(t -> t.getName()).toList();
    var gemms =
        opt.getGraph().getNodeList().stream()
            .filter(n -> List.of("Gemm", "MatMul", "FusedGemm").contains(n.getOpType()))
            .toList();
    assertEquals(1, gemms.size(), "" + ops);
    assertTrue(
        initializers.contains(gemms.get(0).getInput(1)),
        "the weight is not a folded constant: " + gemms.get(0));
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
    return writeModel(lut, codes, bias, bits, groups, xShape, dir, false, false);
  }

  /**
   * The same, with a graph input lut_index int32 [B] when {@code lutIndex}, and X's last dimension
   * symbolic when {@code unknownK}.
   */
  static Path writeModel(
      TensorData lut,
      TensorData codes,
      TensorData bias,
      int bits,
      int groups,
      long[] xShape,
      Path dir,
      boolean lutIndex,
      boolean unknownK)
      throws Exception {
    GraphBuilder g = new GraphBuilder();
    Object[] dims = new Object[xShape.length];
    for (int i = 0; i < dims.length - 1; i++) {
      dims[i] = "d" + i;
    }
    dims[dims.length - 1] = unknownK ? "k" : K;
    g.input("X", DType.F32, dims);
    String c = g.weight("layer.codes", SketchMatMul.codes("layer", codes, bits));
    String l = g.weight("layer.lut", TensorSource.of(lut, DType.F32));
    String b = bias == null ? null : g.weight("layer.bias", TensorSource.of(bias, DType.F32));
    if (lutIndex) {
      g.input("lut_index", DType.I32, "b");
    }
    String y =
        SketchMatMul.add(
            g,
            SketchMatMulOp.DOMAIN,
            "/layer/SketchMatMul",
            "X",
            c,
            l,
            b,
            lutIndex ? "lut_index" : null,
            bits,
            groups,
            K,
            N);
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
