package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One {@code ai.sketchrt::DenseMatMul} node run by ONNX Runtime with the Java kernel registered.
 */
class OrtDenseMatMulTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @BeforeAll
  static void needsTheBinding() {
    String reason = SketchKernels.unavailableReason();
    Assumptions.assumeTrue(reason == null, "no FFM binding to ONNX Runtime: " + reason);
  }

  private static OrtSession session(byte[] model) throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      SketchKernels.install(options, KernelChoice.NEAR_EXACT, Path.of("test-model"));
      return ENV.createSession(model, options);
    }
  }

  private static OnnxTensor tensor(MemorySegment s, long[] shape, OnnxJavaType t)
      throws OrtException {
    ByteBuffer b = s.asByteBuffer().order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(ENV, b, shape, t);
  }

  /** Runs X [2, m/2, k] through the node; returns the relative error against float64. */
  private static double run(OrtSession session, DenseCase c) throws OrtException {
    try (OnnxTensor x = tensor(c.x, new long[] {2, c.m / 2, c.k}, OnnxJavaType.FLOAT);
        OnnxTensor w = tensor(c.w, new long[] {c.n, c.k}, OnnxJavaType.BFLOAT16);
        OrtSession.Result r = session.run(Map.of("X", x, "W", w))) {
      OnnxTensor y = (OnnxTensor) r.get(0);
      assertArrayEquals(new long[] {2, c.m / 2, c.n}, y.getInfo().getShape());
      return c.relativeError(
          MemorySegment.ofBuffer(y.getByteBuffer().order(ByteOrder.nativeOrder())));
    }
  }

  @Test
  void decodeAndPrefillShapesMatchFloat64() throws Exception {
    try (OrtSession session = session(TinyOnnx.denseMatMul("/lm_head/DenseMatMul"))) {
      for (long m : new long[] {2, 8, 34}) {
        try (DenseCase c = new DenseCase(new Random(m), m, 1003, 256)) {
          double err = run(session, c);
          System.out.printf("DenseMatMul through ONNX Runtime, %s: rel err %.2e%n", c, err);
          assertTrue(err <= 1e-5, c + ": relative error " + err);
        }
      }
    }
  }

  @Test
  void aShapeErrorNamesTheNodeAndTheNextRunStillWorks() throws Exception {
    String node = "/lm_head/DenseMatMul";
    try (OrtSession session = session(TinyOnnx.denseMatMul(node));
        DenseCase good = new DenseCase(new Random(9), 2, 40, 64)) {
      try (Arena arena = Arena.ofConfined();
          OnnxTensor x = tensor(good.x, new long[] {2, 1, 64}, OnnxJavaType.FLOAT);
          OnnxTensor w =
              tensor(arena.allocate(40 * 32 * 2), new long[] {40, 32}, OnnxJavaType.BFLOAT16)) {
        OrtException e =
            assertThrows(OrtException.class, () -> session.run(Map.of("X", x, "W", w)).close());
        assertTrue(
            e.getMessage().contains("DenseMatMul node '" + node + "'")
                && e.getMessage().contains("last dimension must be K=32"),
            e.getMessage());
      }
      double err = run(session, good);
      assertTrue(err <= 1e-5, "the run after a failed one: relative error " + err);
    }
  }
}
