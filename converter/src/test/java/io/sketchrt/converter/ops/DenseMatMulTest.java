package io.sketchrt.converter.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sketchrt.converter.TestTensors;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.onnx.TensorSource;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.DenseMatMulOp;
import io.sketchrt.format.SketchMatMulOp;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One DenseMatMul node (bf16 W [N, K], fp32 X) run by ONNX Runtime through its model-local function
 * (no kernel registered) against a float64 product.
 */
class DenseMatMulTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final long N = 37;
  private static final long K = 64;

  @TempDir Path tmp;

  @Test
  void functionFallbackMatchesFloat64() throws Exception {
    for (long[] xShape : new long[][] {{1, 1, K}, {2, 3, K}, {5, K}}) {
      Random rng = new Random(Arrays.hashCode(xShape));
      TensorData w = TestTensors.randomFloats(rng, DType.BF16, 0.5, N, K);
      Path model = writeModel(w, xShape, tmp.resolve("m" + xShape.length + xShape[0]));
      ModelProto proto = ModelProto.parseFrom(Files.readAllBytes(model));
      assertEquals(
          TensorProto.DataType.BFLOAT16_VALUE,
          proto.getGraph().getInitializer(0).getDataType(),
          "W stays bf16");
      assertEquals(List.of(N, K), proto.getGraph().getInitializer(0).getDimsList(), "W is [N, K]");

      float[] x = TestTensors.randomFloats(rng, DType.F32, 1.0, xShape).toFloatArray();
      int rows = x.length / (int) K;
      double[] expected = new double[rows * (int) N];
      for (int r = 0; r < rows; r++) {
        for (int n = 0; n < N; n++) {
          double acc = 0;
          for (int k = 0; k < K; k++) {
            acc += (double) x[r * (int) K + k] * w.getFloat((long) n * K + k);
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
        long[] want = xShape.clone();
        want[want.length - 1] = N;
        assertEquals(Arrays.toString(want), Arrays.toString(y.getInfo().getShape()));
        y.getFloatBuffer().get(actual);
      }
      double err = TestTensors.relError(actual, expected);
      System.out.printf("DenseMatMul function, X %s: rel err %.2e%n", Arrays.toString(xShape), err);
      assertTrue(err <= 1e-5, "relative error " + err);
    }
  }

  /** A one-node model: Y = DenseMatMul(X, W) with W a bf16 initializer. */
  private static Path writeModel(TensorData w, long[] xShape, Path dir) throws Exception {
    GraphBuilder g = new GraphBuilder();
    Object[] dims = new Object[xShape.length];
    for (int i = 0; i < dims.length - 1; i++) {
      dims[i] = "d" + i;
    }
    dims[dims.length - 1] = K;
    g.input("X", DType.F32, dims);
    String wName = g.weight("lm_head.weight", TensorSource.of(w, DType.BF16));
    String y = DenseMatMul.add(g, SketchMatMulOp.DOMAIN, "/lm_head/DenseMatMul", "X", wName);
    g.opTo("Y", "/output/Identity", "Identity", List.of(y));
    Object[] outDims = dims.clone();
    outDims[outDims.length - 1] = N;
    g.output("Y", DType.F32, outDims);
    Files.createDirectories(dir);
    var header =
        new ModelWriter.Header(
            "densematmul_test",
            DenseMatMulOp.OP_TYPE + " test",
            "test",
            Map.of(
                "", (long) ModelWriter.OPSET, SketchMatMulOp.DOMAIN, (long) SketchMatMulOp.VERSION),
            Map.of());
    return ModelWriter.write(g, header, dir, "model.onnx", false, (p, t) -> {}).model();
  }
}
