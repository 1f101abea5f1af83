package io.sketchrt.validation.accuracy;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.onnx.TensorSource;
import io.sketchrt.converter.ops.SketchMatMul;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.ActivationType;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.SketchMatMulOp;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.OrtSessions;
import io.sketchrt.validation.graph.ConvertedGraph;
import io.sketchrt.validation.graph.ConvertedGraph.Initializer;
import io.sketchrt.validation.graph.ConvertedGraph.SketchLayer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Runs one sketched layer of a converted model the way a backend runs it (its codes and LUT as the
 * converted graph stores them, in a one-node graph, through the same ONNX Runtime session options
 * and SketchMatMul kernel) on fresh random inputs, and compares the result with the training-time
 * computation rebuilt from the pickles.
 */
public final class LayerCheck {
  private final ModelCard card;
  private final ConvertedGraph graph;
  private final LoadOptions options;
  private final int rows;
  private final SplittableRandom random;
  private final Path work;

  /** A tuned set whose LUTs replace the graph's (null: the graph's own, the default set). */
  private final io.sketchrt.format.TunedSetFile.Contents set;

  /**
   * @param rows rows of X per layer ({@code --samples})
   * @param work a scratch directory for the one-node graphs (deleted by the caller)
   */
  public LayerCheck(
      ModelCard card, ConvertedGraph graph, LoadOptions options, int rows, long seed, Path work) {
    this(card, graph, options, rows, new SplittableRandom(seed), work, null);
  }

  private LayerCheck(
      ModelCard card,
      ConvertedGraph graph,
      LoadOptions options,
      int rows,
      SplittableRandom random,
      Path work,
      io.sketchrt.format.TunedSetFile.Contents set) {
    this.card = card;
    this.graph = graph;
    this.options = options;
    this.rows = rows;
    this.random = random;
    this.work = work;
    this.set = set;
  }

  /** The same check of the LUTs in tuned set file {@code file} instead of the graph's. */
  public LayerCheck withSetFile(Path file) throws SketchrtException {
    try {
      return new LayerCheck(
          card, graph, options, rows, random, work, io.sketchrt.format.TunedSetFile.read(file));
    } catch (io.sketchrt.format.FormatException e) {
      throw new SketchrtException(e.getMessage(), e);
    }
  }

  /**
   * Checks {@code layer} against {@code reference} (base codes + the LUTs the user says are
   * deployed).
   */
  public LayerResult check(SketchLayer layer, SketchedLinear reference)
      throws IOException, SketchrtException, ConvertException {
    if (reference.outFeatures() != layer.n()
        || reference.inFeatures() != layer.k()
        || reference.groups() != layer.groups()
        || reference.bits() != layer.bits()) {
      throw new SketchrtException(
          layer.module()
              + ": the converted layer is N="
              + layer.n()
              + " K="
              + layer.k()
              + " G="
              + layer.groups()
              + " bits="
              + layer.bits()
              + " but the sketch pickle has N="
              + reference.outFeatures()
              + " K="
              + reference.inFeatures()
              + " G="
              + reference.groups()
              + " bits="
              + reference.bits());
    }
    ActivationType act = card.dtype();
    int k = Math.toIntExact(layer.k());
    int n = Math.toIntExact(layer.n());
    float[] x = new float[rows * k];
    for (int i = 0; i < x.length; i++) {
      x[i] = roundTo(act, (float) random.nextGaussian());
    }
    float[] bias = layer.bias() == null ? null : floats(layer.bias());
    float[] y = run(layer, x, act);
    double[] exact = Reference.compute(reference, x, rows, false, bias);
    double[] bf16 = Reference.compute(reference, x, rows, true, bias);
    double[] e = Reference.errors(y, exact);
    double[] eb = Reference.errors(y, bf16);
    return new LayerResult(
        layer.module(),
        n,
        k,
        layer.groups(),
        layer.bits(),
        e[0],
        eb[0],
        e[1],
        Tolerance.singleOp(act, Tolerance.kernel(options)));
  }

  private float[] run(SketchLayer layer, float[] x, ActivationType act)
      throws IOException, SketchrtException, ConvertException {
    Path dir = Files.createTempDirectory(work, "layer");
    try {
      Path model = writeOneNodeGraph(layer, act, dir);
      OrtEnvironment env = io.sketchrt.runtime.ort.OrtEnvironments.get();
      long[] shape = {rows, layer.k()};
      try (OrtSession session =
              OrtSessions.open(
                  options.backend(), model, options.get(OrtOptions.class, OrtOptions::defaults));
          OnnxTensor xt = tensor(env, x, shape, act);
          OrtSession.Result out = session.run(Map.of("X", xt))) {
        OnnxTensor y = (OnnxTensor) out.get(0);
        float[] result = new float[rows * Math.toIntExact(layer.n())];
        Arrays.fill(result, Float.NaN);
        if (y.getInfo().type == OnnxJavaType.FLOAT16) {
          ShortBuffer half = y.getShortBuffer();
          for (int i = 0; i < result.length; i++) {
            result[i] = Float.float16ToFloat(half.get(i));
          }
        } else {
          y.getFloatBuffer().get(result);
        }
        return result;
      } catch (OrtException e) {
        throw new SketchrtException(
            layer.module()
                + ": ONNX Runtime failed on the layer: "
                + SketchrtException.firstLine(e),
            e);
      }
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Y = SketchMatMul(X, codes, lut[, bias]) with the converted model's own initializer bytes. */
  private Path writeOneNodeGraph(SketchLayer layer, ActivationType act, Path dir)
      throws IOException, ConvertException {
    DType xType =
        switch (act) {
          case FP32 -> DType.F32;
          case FP16 -> DType.F16;
          case BF16 -> DType.BF16;
        };
    GraphBuilder g = new GraphBuilder();
    g.input("X", xType, "rows", layer.k());
    TensorData codes = new TensorData(DType.U8, layer.codes().dims(), graph.bytes(layer.codes()));
    String c =
        g.weight(layer.codes().name(), SketchMatMul.codes(layer.module(), codes, layer.bits()));
    DType lutType = dtype(layer.lut());
    TensorData lut = new TensorData(lutType, layer.lut().dims(), graph.bytes(layer.lut()));
    java.lang.foreign.Arena mapping = java.lang.foreign.Arena.ofConfined();
    if (set != null) {
      io.sketchrt.format.TunedSetFile.Lut l = set.luts().get(layer.module());
      if (l == null || !Arrays.equals(l.shape(), lut.shape())) {
        mapping.close();
        throw new IOException(
            set.file()
                + ": no LUT of shape "
                + Arrays.toString(lut.shape())
                + " for "
                + layer.module());
      }
      DType setType =
          switch (l.dtype()) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            default -> DType.BF16;
          };
      lut =
          new TensorData(
              setType,
              l.shape(),
              set.map(mapping).asSlice(set.dataStart() + l.offset(), l.bytes()));
    }
    String l;
    try {
      l = g.weight(layer.lut().name(), TensorSource.of(lut, lutType));
      return writeRest(g, layer, xType, dir, c, l); // before the mapping closes: it is read here
    } finally {
      mapping.close();
    }
  }

  private Path writeRest(
      GraphBuilder g, SketchLayer layer, DType xType, Path dir, String c, String l)
      throws IOException, ConvertException {
    String b = null;
    if (layer.bias() != null) {
      DType bt = dtype(layer.bias());
      b =
          g.weight(
              layer.bias().name(),
              TensorSource.of(
                  new TensorData(bt, layer.bias().dims(), graph.bytes(layer.bias())), bt));
    }
    String y =
        SketchMatMul.add(
            g,
            layer.domain(),
            layer.node(),
            "X",
            c,
            l,
            b,
            null,
            layer.bits(),
            layer.groups(),
            layer.k(),
            layer.n());
    g.opTo("Y", "/output/Identity", "Identity", List.of(y));
    g.output("Y", xType, "rows", layer.n());
    ModelWriter.Header header =
        new ModelWriter.Header(
            "sketchrt_layer_check",
            layer.module(),
            "validate",
            Map.of(
                "",
                (long) ModelWriter.OPSET,
                layer.domain(),
                (long) SketchMatMulOp.version(layer.domain())),
            Map.of());
    return ModelWriter.write(g, header, dir, "layer.onnx", false, (w, t) -> {}).model();
  }

  private static DType dtype(Initializer init) throws IOException {
    return switch (init.onnxType()) {
      case 1 -> DType.F32;
      case 10 -> DType.F16;
      case 16 -> DType.BF16;
      default ->
          throw new IOException(
              init.name()
                  + ": unexpected element type "
                  + ConvertedGraph.typeName(init.onnxType()));
    };
  }

  private float[] floats(Initializer init) throws IOException {
    return new TensorData(dtype(init), init.dims(), graph.bytes(init)).toFloatArray();
  }

  private static float roundTo(ActivationType act, float v) {
    return switch (act) {
      case FP32 -> v;
      case FP16 -> Float.float16ToFloat(Float.floatToFloat16(v));
      case BF16 -> Reference.bf16(v);
    };
  }

  private static OnnxTensor tensor(OrtEnvironment env, float[] x, long[] shape, ActivationType act)
      throws OrtException {
    return switch (act) {
      case FP32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
      case FP16 -> {
        ByteBuffer buf = ByteBuffer.allocateDirect(x.length * 2).order(ByteOrder.nativeOrder());
        for (float v : x) {
          buf.putShort(Float.floatToFloat16(v));
        }
        buf.rewind();
        yield OnnxTensor.createTensor(env, buf, shape, OnnxJavaType.FLOAT16);
      }
      case BF16 ->
          throw new OrtException("bf16 activations do not run on ONNX Runtime's CPU provider");
    };
  }
}
