package io.sketchrt.converter.ops;

import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.sketchrt.converter.onnx.Attrs;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.format.DenseMatMulOp;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code DenseMatMul} operator: {@code Y = X · Wᵀ} in fp32 with a bf16 weight {@code W [N, K]}
 * stored as the checkpoint has it (rows = output features). Widening bf16 to fp32 is exact, so a
 * kernel that widens in registers reads half the bytes of a dense fp32 MatMul and computes the same
 * product. The model-local function computes it with standard ops for runtimes without the kernel.
 */
public final class DenseMatMul {

  private DenseMatMul() {}

  /**
   * Adds one {@code DenseMatMul} node (and, once, its function) to {@code g}.
   *
   * @return the node's output {@code [..., N]}
   */
  public static String add(GraphBuilder g, String domain, String nodeName, String x, String w) {
    g.function(function(domain));
    String out = nodeName + "/output_0";
    g.node(nodeName, domain, DenseMatMulOp.OP_TYPE, List.of(x, w), List.of(out));
    return out;
  }

  /**
   * The function body, standard ops only:
   *
   * <pre>
   *   Wf = Cast&lt;float&gt;(W)                                  # [N, K], exact
   *   Y  = Reshape(Gemm(Flatten(X), Wf, transB=1), [..., N])
   * </pre>
   *
   * W is an initializer, so ONNX Runtime folds the Cast into one fp32 constant at session start.
   */
  public static FunctionProto function(String domain) {
    List<NodeProto> body = new ArrayList<>();
    body.add(
        SketchMatMul.node(
            "Cast", List.of("W"), "w_f32", Attrs.i("to", TensorProto.DataType.FLOAT_VALUE)));
    body.add(SketchMatMul.node("Flatten", List.of("X"), "x_2d", Attrs.i("axis", -1)));
    body.add(SketchMatMul.node("Gemm", List.of("x_2d", "w_f32"), "y_2d", Attrs.i("transB", 1)));
    body.add(SketchMatMul.node("Shape", List.of("X"), "lead_dims", Attrs.i("end", -1)));
    body.add(SketchMatMul.node("Shape", List.of("W"), "n_dim", Attrs.i("end", 1)));
    body.add(
        SketchMatMul.node("Concat", List.of("lead_dims", "n_dim"), "y_shape", Attrs.i("axis", 0)));
    body.add(SketchMatMul.node("Reshape", List.of("y_2d", "y_shape"), "Y"));
    return FunctionProto.newBuilder()
        .setName(DenseMatMulOp.OP_TYPE)
        .setDomain(domain)
        .setDocString("Y = X @ float(W)^T with W [N, K] stored narrower than X (bf16)")
        .addAllInput(List.of("X", "W"))
        .addOutput("Y")
        .addAllNode(body)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ModelWriter.OPSET))
        .build();
  }
}
