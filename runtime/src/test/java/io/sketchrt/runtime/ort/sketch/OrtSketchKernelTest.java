package io.sketchrt.runtime.ort.sketch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.runtime.SketchrtException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The kernel registered into ONNX Runtime through FFM: the binding (version, C API table, a real
 * graph), every type pair ONNX Runtime can hand it, leading dims and bias, and errors that name the
 * node without harming the next run.
 */
class OrtSketchKernelTest {
  /**
   * The ONNX Runtime release whose C API slots and OrtCustomOp layout were checked (pom:
   * onnxruntime.version).
   */
  private static final String CHECKED_RELEASE = "1.29.0";

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private static OrtSession session(byte[] model, KernelChoice choice) throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      SketchKernels.Installed installed =
          SketchKernels.install(options, choice, Path.of("test-model"));
      // This machine builds and loads the native kernel: every choice runs as asked.
      assertEquals(choice, installed.kernel(), installed.toString());
      return ENV.createSession(model, options);
    }
  }

  private static OnnxJavaType javaType(ElementType t) {
    return switch (t) {
      case FLOAT -> OnnxJavaType.FLOAT;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
      case INT8 -> OnnxJavaType.INT8;
      case INT32 -> OnnxJavaType.INT32;
    };
  }

  private static OnnxTensor tensor(MemorySegment s, long[] shape, ElementType t)
      throws OrtException {
    ByteBuffer b = s.asByteBuffer().order(ByteOrder.nativeOrder());
    return OnnxTensor.createTensor(ENV, b, shape, javaType(t));
  }

  /**
   * Runs {@code c} through a session of the one-node model; X gets {@code leading} dims whose
   * product is M.
   */
  private static double runThroughOrt(OrtSession session, SketchCase c, long[] leading)
      throws OrtException {
    SketchShape s = c.shape;
    long[] xShape = new long[leading.length + 1];
    System.arraycopy(leading, 0, xShape, 0, leading.length);
    xShape[leading.length] = s.k();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("X", tensor(c.x, xShape, c.xType));
      inputs.put(
          "codes",
          tensor(c.codes, new long[] {s.n(), s.groups(), s.groupSize() / 2}, ElementType.INT8));
      inputs.put("lut", tensor(c.lut, new long[] {s.n(), s.groups(), s.entries()}, c.lutType));
      if (c.bias != null) {
        inputs.put("bias", tensor(c.bias, new long[] {s.n()}, c.xType));
      }
      try (OrtSession.Result r = session.run(inputs)) {
        OnnxTensor y = (OnnxTensor) r.get(0);
        long[] yShape = y.getInfo().getShape();
        assertEquals(leading.length + 1, yShape.length);
        assertEquals(s.n(), yShape[leading.length]);
        for (int i = 0; i < leading.length; i++) {
          assertEquals(leading[i], yShape[i]);
        }
        ByteBuffer out = y.getByteBuffer().order(ByteOrder.nativeOrder());
        return c.relativeError(MemorySegment.ofBuffer(out));
      }
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  @Test
  void bindsToThePinnedOnnxRuntimeRelease() {
    assertNull(
        SketchKernels.unavailableReason(), "the binding must work on the pinned ONNX Runtime");
    assertEquals(
        CHECKED_RELEASE,
        OrtCApi.VERSION,
        "ONNX Runtime changed: re-check every OrtApi slot in OrtCApi and the OrtCustomOp layout in SketchMatMulOps against "
            + "onnxruntime_c_api.h of the new release, then update CHECKED_RELEASE");
    assertEquals(
        ENV.getVersion(),
        OrtCApi.VERSION,
        "the C library and ONNX Runtime Java disagree on the version");
    assertNotEquals(0, OrtCApi.API.address(), "GetApi(" + OrtCApi.API_VERSION + ") returned NULL");
    assertTrue(
        OrtCApi.atLeast("1.30.1", "1.29")
            && !OrtCApi.atLeast("1.28.9", "1.29")
            && OrtCApi.atLeast("1.29.0-rc1", "1.29"));
  }

  /** The error bound of {@code kernel} on {@code c} (DESIGN section 5), against float64. */
  static double tolerance(KernelChoice kernel, SketchCase c) {
    return switch (kernel) {
      case NEAR_EXACT -> c.tolerance() + 1e-3; // int16 LUT x int14 X, then Y's own rounding
      case APPROX -> 5e-2;
      default -> c.tolerance();
    };
  }

  @Test
  void everyTypePairRunsInAGraphWithLeadingDimsAndBias() throws Exception {
    for (KernelChoice kernel :
        new KernelChoice[] {KernelChoice.EXACT, KernelChoice.NEAR_EXACT, KernelChoice.APPROX}) {
      everyTypePair(kernel);
    }
  }

  private void everyTypePair(KernelChoice kernel) throws Exception {
    long seed = System.nanoTime();
    Random r = new Random(seed);
    ElementType[] types = {ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16};
    int i = 0;
    for (ElementType xType : types) {
      for (ElementType lutType : types) {
        int groups = new int[] {1, 2, 4, 8}[i % 4];
        int bits = 4 - i % 4;
        boolean bias = i % 2 == 0;
        long[] leading =
            i % 3 == 0 ? new long[] {2, 3} : i % 3 == 1 ? new long[] {1} : new long[] {2, 1, 5};
        long m = 1;
        for (long d : leading) {
          m *= d;
        }
        SketchShape s = new SketchShape(24, groups * 136, groups, bits);
        byte[] model =
            TinyOnnx.sketchMatMul(
                "/model/layers.0/mlp/up_proj/SketchMatMul",
                xType.onnx,
                lutType.onnx,
                bias,
                bits,
                groups,
                s.k(),
                s.n(),
                leading.length);
        try (OrtSession session = session(model, kernel);
            SketchCase c = new SketchCase(r, s, m, xType, lutType, bias)) {
          double err = runThroughOrt(session, c, leading);
          assertTrue(
              err <= tolerance(kernel, c),
              kernel + " " + c + ": relative error " + err + " (seed " + seed + ")");
        }
        i++;
      }
    }
  }

  /**
   * Version 2: a LUT input of three sets and lut_index per batch row (or one for every row), on
   * every kernel, against float64; an index outside the sets is refused naming the node.
   */
  @Test
  void lutIndexPicksEachBatchRowsSetOnEveryKernel() throws Exception {
    SketchShape s = new SketchShape(40, 256, 4, 4);
    int sets = 3;
    long b = 3;
    long seq = 2;
    byte[] model = TinyOnnx.sketchMatMulSets(s.bits(), s.groups(), s.k(), s.n(), sets);
    Random r = new Random(23);
    try (SketchCase c = new SketchCase(r, s, b * seq, ElementType.FLOAT, ElementType.FLOAT, false);
        Arena arena = Arena.ofConfined()) {
      long lutFloats = (long) s.n() * s.groups() * s.entries();
      MemorySegment luts = arena.allocate(sets * lutFloats * 4, 64);
      MemorySegment.copy(c.lut, 0, luts, 0, lutFloats * 4);
      for (long i = lutFloats; i < sets * lutFloats; i++) {
        luts.setAtIndex(
            java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) (r.nextGaussian() / 16));
      }
      for (KernelChoice kernel :
          new KernelChoice[] {KernelChoice.EXACT, KernelChoice.NEAR_EXACT, KernelChoice.APPROX}) {
        try (OrtSession session = session(model, kernel)) {
          for (int[] index : new int[][] {{2, 0, 1}, {1}, {0, 0, 0}}) {
            double[] want = reference(c, luts, index, seq);
            double err = runSets(session, c, luts, sets, index, b, seq, want);
            System.out.printf(
                "SketchMatMul v2 %s, 3 sets, lut_index %s: rel err %.2e%n",
                kernel, java.util.Arrays.toString(index), err);
            assertTrue(err <= tolerance(kernel, c), kernel + ": relative error " + err);
          }
          OrtException e =
              assertThrows(
                  OrtException.class,
                  () -> runSets(session, c, luts, sets, new int[] {0, 3, 1}, b, seq, null));
          assertTrue(
              e.getMessage().contains("SketchMatMul node '/model/layers.0/mlp/gate_proj")
                  && e.getMessage().contains("lut_index[1] = 3 is outside the 3 LUT set(s)"),
              e.getMessage());
        }
      }
    }
  }

  /** Y [B*S, N] in float64: row r of X uses the set lut_index names for its batch row. */
  private static double[] reference(SketchCase c, MemorySegment luts, int[] index, long seq) {
    SketchShape s = c.shape;
    long lutFloats = (long) s.n() * s.groups() * s.entries();
    double[] y = new double[(int) (c.m * s.n())];
    for (long row = 0; row < c.m; row++) {
      int set = index.length == 1 ? index[0] : index[(int) (row / seq)];
      for (int col = 0; col < s.n(); col++) {
        double acc = 0;
        for (int kk = 0; kk < s.k(); kk++) {
          int code = Numerics.code(c.codes, (long) col * s.k() / 2, kk);
          long at =
              set * lutFloats + ((long) col * s.groups() + kk / s.groupSize()) * s.entries() + code;
          acc +=
              luts.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, at)
                  * Numerics.load(c.x, ElementType.FLOAT, row * s.k() + kk);
        }
        y[(int) (row * s.n() + col)] = acc;
      }
    }
    return y;
  }

  private static double runSets(
      OrtSession session,
      SketchCase c,
      MemorySegment luts,
      int sets,
      int[] index,
      long b,
      long seq,
      double[] want)
      throws OrtException {
    SketchShape s = c.shape;
    try (OnnxTensor x = tensor(c.x, new long[] {b, seq, s.k()}, ElementType.FLOAT);
        OnnxTensor codes =
            tensor(c.codes, new long[] {s.n(), s.groups(), s.groupSize() / 2}, ElementType.INT8);
        OnnxTensor lut =
            tensor(luts, new long[] {sets, s.n(), s.groups(), s.entries()}, ElementType.FLOAT);
        OnnxTensor lutIndex =
            OnnxTensor.createTensor(
                ENV, java.nio.IntBuffer.wrap(index), new long[] {index.length});
        OrtSession.Result out =
            session.run(Map.of("X", x, "codes", codes, "lut", lut, "lut_index", lutIndex))) {
      float[] y = new float[(int) (c.m * s.n())];
      ((OnnxTensor) out.get(0)).getFloatBuffer().get(y);
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < y.length; i++) {
        diff += (y[i] - want[i]) * (y[i] - want[i]);
        norm += want[i] * want[i];
      }
      return Math.sqrt(diff / norm);
    }
  }

  @Test
  void aKernelErrorNamesTheNodeAndTheNextRunStillWorks() throws Exception {
    aKernelErrorNamesTheNode(KernelChoice.EXACT);
    aKernelErrorNamesTheNode(KernelChoice.NEAR_EXACT);
  }

  private void aKernelErrorNamesTheNode(KernelChoice kernel) throws Exception {
    String node = "/model/layers.3/self_attn/q_proj/SketchMatMul";
    SketchShape s = new SketchShape(16, 256, 2, 4);
    byte[] model = TinyOnnx.sketchMatMul(node, 1, 1, false, 4, 2, s.k(), s.n(), 1, true);
    Random r = new Random();
    try (OrtSession session = session(model, kernel);
        SketchCase good = new SketchCase(r, s, 3, ElementType.FLOAT, ElementType.FLOAT, false)) {
      // Codes of the wrong size: the kernel checks shapes against the node's attributes.
      try (Arena arena = Arena.ofConfined();
          OnnxTensor x = tensor(good.x, new long[] {3, s.k()}, ElementType.FLOAT);
          OnnxTensor codes =
              tensor(arena.allocate(s.n() * 8), new long[] {s.n(), 2, 4}, ElementType.INT8);
          OnnxTensor lut = tensor(good.lut, new long[] {s.n(), 2, 16}, ElementType.FLOAT)) {
        OrtException e =
            assertThrows(
                OrtException.class,
                () -> session.run(Map.of("X", x, "codes", codes, "lut", lut)).close());
        assertTrue(
            e.getMessage().contains("SketchMatMul node '" + node + "'")
                && e.getMessage().contains("codes have shape"),
            e.getMessage());
      }
      double err = runThroughOrt(session, good, new long[] {3});
      assertTrue(
          err <= tolerance(kernel, good), kernel + ": the run after a failed one: error " + err);
    }
  }

  @Test
  void badAttributesFailSessionCreationNamingTheNode() {
    byte[] model =
        TinyOnnx.sketchMatMul(
            "/model/layers.1/mlp/down_proj/SketchMatMul", 1, 1, false, 5, 2, 256, 16, 1);
    Exception e =
        assertThrows(Exception.class, () -> session(model, KernelChoice.NEAR_EXACT).close());
    assertTrue(
        e.getMessage().contains("SketchMatMul node '/model/layers.1/mlp/down_proj/SketchMatMul'")
            && e.getMessage().contains("bits=5"),
        e.getMessage());
  }

  @Test
  void codesPastASmallLutAreRejected() throws Exception {
    String node = "/model/layers.0/self_attn/k_proj/SketchMatMul";
    SketchShape s = new SketchShape(8, 64, 1, 2);
    byte[] model = TinyOnnx.sketchMatMul(node, 1, 1, false, 2, 1, s.k(), s.n(), 1, true);
    try (OrtSession session = session(model, KernelChoice.NEAR_EXACT);
        SketchCase c =
            new SketchCase(new Random(), s, 1, ElementType.FLOAT, ElementType.FLOAT, false)) {
      c.codes.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 5, (byte) 0x07);
      OrtException e =
          assertThrows(OrtException.class, () -> runThroughOrt(session, c, new long[] {1}));
      assertTrue(
          e.getMessage().contains(node) && e.getMessage().contains("indexes past the 4-entry LUT"),
          e.getMessage());
    }
  }

  @Test
  void fallbackRegistersNothingAndAnUnknownNodeThenFails() throws Exception {
    byte[] model = TinyOnnx.sketchMatMul("n", 1, 1, false, 4, 1, 32, 4, 1);
    // Without the kernel (and this test graph has no function) ONNX Runtime cannot run the node.
    OrtException e =
        assertThrows(OrtException.class, () -> session(model, KernelChoice.FALLBACK).close());
    assertTrue(e.getMessage().contains("SketchMatMul"), e.getMessage());
  }

  @Test
  void theDefaultChoiceInstallsTheKernelQuietly() throws Exception {
    ByteArrayOutputStream notices = new ByteArrayOutputStream();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      SketchKernels.Installed installed =
          SketchKernels.install(options, null, Path.of("m"), new PrintStream(notices));
      assertEquals(KernelChoice.NEAR_EXACT, installed.kernel());
      assertTrue(
          installed.detail().contains(CHECKED_RELEASE) && installed.detail().contains("native"),
          installed.detail());
    }
    assertEquals("", notices.toString());
    assertEquals(KernelChoice.FALLBACK, KernelChoice.parse(" Fallback"));
    assertEquals(KernelChoice.NEAR_EXACT, KernelChoice.parse("sketch"));
    assertEquals(KernelChoice.EXACT, KernelChoice.parse("exact"));
    assertThrows(IllegalArgumentException.class, () -> KernelChoice.parse("dense"));
  }

  @Test
  void whenTheBindingFailsExplicitSketchThrowsAndTheDefaultFallsBackWithOneLine() throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      SketchrtException e =
          assertThrows(
              SketchrtException.class,
              () ->
                  SketchKernels.install(
                      options,
                      KernelChoice.NEAR_EXACT,
                      Path.of("m"),
                      System.err,
                      "simulated ABI mismatch"));
      assertTrue(e.getMessage().contains("simulated ABI mismatch"), e.getMessage());
      ByteArrayOutputStream notices = new ByteArrayOutputStream();
      SketchKernels.Installed installed =
          SketchKernels.install(
              options, null, Path.of("m"), new PrintStream(notices), "simulated ABI mismatch");
      assertEquals(KernelChoice.FALLBACK, installed.kernel());
      String text = notices.toString().strip();
      assertTrue(
          text.startsWith("sketchrt: the sketch kernel is unavailable (simulated ABI mismatch)")
              && !text.contains("\n"),
          text);
    }
    // Closed options are refused before any native call.
    OrtSession.SessionOptions closed = new OrtSession.SessionOptions();
    closed.close();
    SketchrtException e =
        assertThrows(
            SketchrtException.class,
            () -> SketchKernels.install(closed, KernelChoice.NEAR_EXACT, Path.of("m")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }
}
