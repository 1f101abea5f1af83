package io.sketchrt.converter.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.onnx.Attrs;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.onnx.TensorSource;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import io.sketchrt.format.SketchMatMulOp;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code SketchMatMul} operator (DESIGN section 3): {@code Y = X · Wᵀ (+ bias)} with {@code
 * W[n, k] = lut[n, k / (K/G), code(n, k)]}, plus the model-local function that computes the same
 * with standard ops, so that a runtime without the kernel still runs the model exactly.
 */
public final class SketchMatMul {

  private SketchMatMul() {}

  /**
   * Adds one {@code SketchMatMul} node (and, once, its function) to {@code g}.
   *
   * @param bias a weight name, or null: in version 2 a shared zero vector, so that no input is
   *     empty (TensorRT's ONNX parser hands an empty optional input to a plugin as a null tensor,
   *     and the function cannot branch on a missing lut_index)
   * @param lutIndex the graph's {@code lut_index} (version 2, portable domain only), or null: in
   *     version 2 a constant [0], the node's one LUT set
   * @return the node's output {@code [..., N]}
   */
  public static String add(
      GraphBuilder g,
      String domain,
      String nodeName,
      String x,
      String codes,
      String lut,
      String bias,
      String lutIndex,
      int bits,
      int groups,
      long k,
      long n) {
    boolean v2 = SketchMatMulOp.version(domain) >= 2;
    if (lutIndex != null && !v2) {
      throw new IllegalArgumentException("lut_index needs SketchMatMul version 2, not " + domain);
    }
    if (v2 && lutIndex == null) {
      lutIndex = g.int32s(0);
    }
    if (v2 && bias == null) {
      bias = g.zeros(g.weightType(lut), n); // the LUT has the activation type (the function's)
    }
    g.function(function(domain));
    List<String> inputs = new ArrayList<>(List.of(x, codes, lut));
    if (bias != null) {
      inputs.add(bias);
    }
    if (lutIndex != null) {
      inputs.add(lutIndex);
    }
    String out = nodeName + "/output_0";
    g.node(
        nodeName,
        domain,
        SketchMatMulOp.OP_TYPE,
        inputs,
        List.of(out),
        Attrs.i(SketchMatMulOp.ATTR_BITS, bits),
        Attrs.i(SketchMatMulOp.ATTR_GROUPS, groups),
        Attrs.i(SketchMatMulOp.ATTR_K, k),
        Attrs.i(SketchMatMulOp.ATTR_N, n),
        // TensorRT's parser picks a plugin over the local function only when this is present.
        Attrs.s(SketchMatMulOp.ATTR_PLUGIN_NAMESPACE, ""));
    return out;
  }

  /**
   * The codes as ONNX INT8 with SketchTune's uint8 bytes (TensorRT widens UINT8 initializers).
   * While streaming them out, checks that every code fits the LUT ({@code < 2^bits}).
   */
  public static TensorSource codes(String module, TensorData u8codes, int bits) {
    return new Codes(module, u8codes, bits);
  }

  private record Codes(String module, TensorData src, int bits) implements TensorSource {
    @Override
    public DType dtype() {
      return DType.I8;
    }

    @Override
    public long[] shape() {
      return src.shape();
    }

    @Override
    public void writeTo(WritableByteChannel out) throws IOException, ConvertException {
      MemorySegment seg = src.bytes();
      long chunk = 16L << 20;
      for (long off = 0; off < seg.byteSize(); off += chunk) {
        MemorySegment piece = seg.asSlice(off, Math.min(chunk, seg.byteSize() - off));
        if (bits < 4) {
          checkCodes(piece, off);
        }
        ByteBuffer buf = piece.asByteBuffer();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
      }
    }

    private void checkCodes(MemorySegment piece, long base) throws ConvertException {
      int limit = 1 << bits;
      for (long i = 0; i < piece.byteSize(); i++) {
        int b = piece.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
        if ((b >>> 4) >= limit || (b & 0xF) >= limit) {
          throw new ConvertException(
              module
                  + ": code byte 0x"
                  + Integer.toHexString(b)
                  + " at offset "
                  + (base + i)
                  + " indexes past the "
                  + limit
                  + "-entry LUT ("
                  + bits
                  + " bits)");
        }
      }
    }
  }

  /**
   * The function body, standard ops only, generic over shapes; version 1 for the TensorRT domain,
   * version 2 (with {@code lut_index}) for the portable one ({@link SketchMatMulOp#version}).
   *
   * <p>Version 1:
   *
   * <pre>
   *   u   = Cast&lt;uint8&gt;(codes)                     # [N, G, K/G/2] the bytes (ONNX: two's complement)
   *   nib = BitShift(u[..., None], [4, 0]) &amp; 15        # [N, G, K/G/2, 2] high nibble = even column
   *   idx = Cast&lt;int32&gt;(Reshape(nib, [0, 0, -1]))     # [N, G, K/G]
   *   W   = Reshape(GatherElements(lut, idx, axis=2), [0, -1])   # [N, K]
   *   Y   = Reshape(Gemm(Flatten(X), W, bias, transB=1), [..., N])
   * </pre>
   *
   * Everything up to W depends only on initializers, so ONNX Runtime folds it into one dense
   * constant at session start. Its constant folding keeps every intermediate until the pass ends,
   * so the body works in uint8 as long as it can: about 16 bytes per weight at the peak instead of
   * 29 with int32 nibbles. Gemm takes the optional bias, so an absent bias needs no branch. The LUT
   * must have X's element type (the converter writes it so).
   *
   * <p>Version 2 dequantises every set (the LUT as {@code [T, N, G, E]}, one set when it has rank
   * 3) into one folded constant {@code [T·N, K]}, runs one Gemm for all rows and sets, then keeps
   * for row b the set {@code lut_index[b]}:
   *
   * <pre>
   *   W    = Flatten(GatherElements(Reshape(lut, [-1, N, G, E]), Expand(idx[None], [T, N, G, K/G]), axis=3), axis=2)
   *   Yall = Reshape(Gemm(Flatten(X), W, transB=1), [B, -1, T, N])
   *   Y    = Reshape(GatherElements(Yall, Expand(lut_index[:, None, None, None], [B, S, 1, N]), axis=2)
   *                  + bias, [..., N])
   * </pre>
   *
   * With one set (every converted graph) the cost over version 1 is the selection, a copy of Y;
   * with T sets the Gemm does T times the work: the fallback is exact, not fast. Version 2 nodes
   * always have a bias (zeros for a layer without one) and a lut_index.
   */
  public static FunctionProto function(String domain) {
    return SketchMatMulOp.version(domain) >= 2 ? functionV2(domain) : functionV1(domain);
  }

  private static FunctionProto functionV1(String domain) {
    List<NodeProto> body = codeIndices();
    body.add(constInt64s("shape_n_rest", 0, -1));
    body.add(
        node("Cast", List.of("idx_u8"), "idx", Attrs.i("to", TensorProto.DataType.INT32_VALUE)));
    body.add(node("GatherElements", List.of("lut", "idx"), "w_grouped", Attrs.i("axis", 2)));
    body.add(node("Reshape", List.of("w_grouped", "shape_n_rest"), "w"));
    body.add(node("Flatten", List.of("X"), "x_2d", Attrs.i("axis", -1)));
    body.add(node("Gemm", List.of("x_2d", "w", "bias"), "y_2d", Attrs.i("transB", 1)));
    body.add(node("Shape", List.of("X"), "lead_dims", Attrs.i("end", -1)));
    body.add(node("Shape", List.of("codes"), "n_dim", Attrs.i("end", 1)));
    body.add(node("Concat", List.of("lead_dims", "n_dim"), "y_shape", Attrs.i("axis", 0)));
    body.add(node("Reshape", List.of("y_2d", "y_shape"), "Y"));
    return functionProto(domain, body, List.of("X", "codes", "lut", "bias"));
  }

  private static FunctionProto functionV2(String domain) {
    List<NodeProto> body = codeIndices();
    body.add(constInt64s("first_axis", 0));
    body.add(constInt64s("minus_one", -1));
    body.add(constInt64s("one", 1));
    body.add(constInt64s("shape_index_4d", -1, 1, 1, 1));
    // The LUT as [T, N, G, E]; the indices broadcast over the T sets.
    body.add(node("Shape", List.of("codes"), "n_g", Attrs.i("end", 2)));
    body.add(node("Shape", List.of("codes"), "n_dim", Attrs.i("end", 1)));
    body.add(node("Shape", List.of("lut"), "e_dim", Attrs.i("start", -1)));
    body.add(
        node("Concat", List.of("minus_one", "n_g", "e_dim"), "lut_4d_shape", Attrs.i("axis", 0)));
    body.add(node("Reshape", List.of("lut", "lut_4d_shape"), "lut_4d"));
    body.add(node("Shape", List.of("lut_4d"), "t_dim", Attrs.i("end", 1)));
    body.add(node("Shape", List.of("idx_u8"), "idx_shape"));
    body.add(node("Concat", List.of("t_dim", "idx_shape"), "idx_4d_shape", Attrs.i("axis", 0)));
    body.add(node("Unsqueeze", List.of("idx_u8", "first_axis"), "idx_u8_1"));
    body.add(node("Expand", List.of("idx_u8_1", "idx_4d_shape"), "idx_u8_t"));
    body.add(
        node("Cast", List.of("idx_u8_t"), "idx", Attrs.i("to", TensorProto.DataType.INT32_VALUE)));
    body.add(node("GatherElements", List.of("lut_4d", "idx"), "w_grouped", Attrs.i("axis", 3)));
    // [T*N, K] from the codes' shape alone: with X's shape in it, W would not be a constant and
    // ONNX Runtime would gather the dense weights again at every run instead of folding them.
    body.add(node("Flatten", List.of("w_grouped"), "w", Attrs.i("axis", 2)));
    // One Gemm for every row and set, then each row keeps its own set's N columns.
    body.add(node("Flatten", List.of("X"), "x_2d", Attrs.i("axis", -1)));
    body.add(node("Gemm", List.of("x_2d", "w"), "y_all_2d", Attrs.i("transB", 1)));
    body.add(node("Shape", List.of("X"), "b_dim", Attrs.i("end", 1)));
    body.add(
        node(
            "Concat",
            List.of("b_dim", "minus_one", "t_dim", "n_dim"),
            "y_all_shape",
            Attrs.i("axis", 0)));
    body.add(node("Reshape", List.of("y_all_2d", "y_all_shape"), "y_all")); // [B, S, T, N]
    body.add(node("Reshape", List.of("lut_index", "shape_index_4d"), "index_4d"));
    body.add(node("Shape", List.of("y_all"), "b_s", Attrs.i("end", 2)));
    body.add(node("Concat", List.of("b_s", "one", "n_dim"), "pick_shape", Attrs.i("axis", 0)));
    body.add(node("Expand", List.of("index_4d", "pick_shape"), "pick"));
    body.add(node("GatherElements", List.of("y_all", "pick"), "y_set", Attrs.i("axis", 2)));
    body.add(node("Add", List.of("y_set", "bias"), "y_biased"));
    body.add(node("Shape", List.of("X"), "lead_dims", Attrs.i("end", -1)));
    body.add(node("Concat", List.of("lead_dims", "n_dim"), "y_shape", Attrs.i("axis", 0)));
    body.add(node("Reshape", List.of("y_biased", "y_shape"), "Y"));
    return functionProto(domain, body, List.of("X", "codes", "lut", "bias", "lut_index"));
  }

  /**
   * The start of both bodies: the codes' 4-bit indices {@code idx_u8} [N, G, K/G], kept in uint8 as
   * long as possible (folding peak memory).
   */
  private static List<NodeProto> codeIndices() {
    List<NodeProto> body = new ArrayList<>();
    body.add(constTensor("shifts", DType.U8, new long[] {2}, new byte[] {4, 0}));
    body.add(constTensor("low_nibble", DType.U8, new long[0], new byte[] {15}));
    body.add(constInt64s("last_axis", -1));
    body.add(constInt64s("shape_n_g_rest", 0, 0, -1));
    body.add(node("Cast", List.of("codes"), "u", Attrs.i("to", TensorProto.DataType.UINT8_VALUE)));
    body.add(node("Unsqueeze", List.of("u", "last_axis"), "u_1"));
    body.add(node("BitShift", List.of("u_1", "shifts"), "shifted", Attrs.s("direction", "RIGHT")));
    body.add(node("BitwiseAnd", List.of("shifted", "low_nibble"), "nibbles"));
    body.add(node("Reshape", List.of("nibbles", "shape_n_g_rest"), "idx_u8"));
    return body;
  }

  private static FunctionProto functionProto(
      String domain, List<NodeProto> body, List<String> inputs) {
    return FunctionProto.newBuilder()
        .setName(SketchMatMulOp.OP_TYPE)
        .setDomain(domain)
        .setDocString(
            "Y = X @ W^T (+ bias), W[n, k] = lut[set, n, k / (K/G), code(n, k)]; codes are int8"
                + " bytes holding two 4-bit codes each, the high nibble being the even column;"
                + " version 2: row b of X uses set lut_index[b] (one index: every row)")
        .addAllInput(inputs)
        .addOutput("Y")
        .addAllAttribute(
            List.of(
                SketchMatMulOp.ATTR_BITS,
                SketchMatMulOp.ATTR_GROUPS,
                SketchMatMulOp.ATTR_K,
                SketchMatMulOp.ATTR_N,
                SketchMatMulOp.ATTR_PLUGIN_NAMESPACE))
        .addAllNode(body)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ModelWriter.OPSET))
        .build();
  }

  /** A node of a function body: one output, no name (names are local to the function). */
  static NodeProto node(String op, List<String> inputs, String output, AttributeProto... attrs) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .addAllInput(inputs)
        .addOutput(output)
        .addAllAttribute(List.of(attrs))
        .build();
  }

  private static NodeProto constTensor(String name, DType type, long[] shape, byte[] bytes) {
    return node(
        "Constant",
        List.of(),
        name,
        Attrs.tensor("value", GraphBuilder.tensorProto(name, type, shape, bytes)));
  }

  private static NodeProto constInt64s(String name, long... values) {
    ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      buf.putLong(v);
    }
    return node(
        "Constant",
        List.of(),
        name,
        Attrs.tensor(
            "value",
            GraphBuilder.tensorProto(name, DType.I64, new long[] {values.length}, buf.array())));
  }
}
