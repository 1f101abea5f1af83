package io.sketchrt.converter.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.sketchrt.converter.onnx.Attrs;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.onnx.ModelWriter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.GroupQueryAttentionOp;
import java.util.ArrayList;
import java.util.List;

/**
 * The in-place attention node: {@code ai.sketchrt::GroupQueryAttention}, which also rotates q and k
 * (cos and sin inputs). Its model-local function does the rotation with standard operators, the
 * same Mul, Mul, Add a graph would hold, then calls one {@code com.microsoft} GroupQueryAttention
 * node with the other inputs, the outputs and the head counts. ONNX Runtime inlines the function
 * where sketchrt's native kernel is not registered, so a graph runs the same everywhere; on
 * sketchrt's CPU path the kernel rotates as it goes and reads each key/value head once for all the
 * query heads that share it, and the graph loses the 16 nodes a layer that the rotation took.
 */
public final class GroupQueryAttention {
  private GroupQueryAttention() {}

  private static final List<String> INPUTS =
      List.of(
          "query",
          "key",
          "value",
          "past_key",
          "past_value",
          "seqlens_k",
          "total_sequence_length",
          "cos",
          "sin");
  private static final List<String> OUTPUTS = List.of("output", "present_key", "present_value");

  /** Adds one node (and, once, its function) to {@code g}; returns its three outputs. */
  public static List<String> add(
      GraphBuilder g,
      String domain,
      String nodeName,
      List<String> inputs,
      List<String> outputs,
      int heads,
      int kvHeads,
      int headDim) {
    g.function(function(domain));
    // the ONNX checker knows no com.microsoft schema: the attention output's type is declared
    g.valueType(outputs.get(0), DType.F32, "batch_size", "sequence_length", (long) heads * headDim);
    return g.node(
        nodeName,
        domain,
        GroupQueryAttentionOp.OP_TYPE,
        inputs,
        outputs,
        Attrs.i(GroupQueryAttentionOp.ATTR_HEADS, heads),
        Attrs.i(GroupQueryAttentionOp.ATTR_KV_HEADS, kvHeads));
  }

  /**
   * The function: q and k rotated, then the com.microsoft node, its head counts taken from the
   * caller's attributes.
   *
   * <pre>
   *   cos4, sin4 = Unsqueeze(cos, [2]), Unsqueeze(sin, [2])         # [B, S, 1, D]
   *   x4 = Reshape(x, [0, 0, -1, D])                                # [B, S, n, D], x = query, key
   *   lo, hi = Split(x4, axis=-1)
   *   x_rot = Reshape(x4 cos4 + Concat(-hi, lo) sin4, [0, 0, -1])   # [B, S, n*D]
   *   output, present_key, present_value = com.microsoft.GroupQueryAttention(query_rot, key_rot, ...)
   * </pre>
   */
  public static FunctionProto function(String domain) {
    List<NodeProto> body = new ArrayList<>();
    body.add(constant("axis_2", 2));
    body.add(SketchMatMul.node("Unsqueeze", List.of("cos", "axis_2"), "cos4"));
    body.add(SketchMatMul.node("Unsqueeze", List.of("sin", "axis_2"), "sin4"));
    body.add(SketchMatMul.node("Shape", List.of("cos"), "head_dim", Attrs.i("start", 2)));
    body.add(constant("keep_keep_rest", 0, 0, -1));
    body.add(
        SketchMatMul.node(
            "Concat", List.of("keep_keep_rest", "head_dim"), "heads_shape", Attrs.i("axis", 0)));
    for (String x : List.of("query", "key")) {
      body.add(SketchMatMul.node("Reshape", List.of(x, "heads_shape"), x + "4"));
      body.add(
          NodeProto.newBuilder()
              .setOpType("Split")
              .addInput(x + "4")
              .addOutput(x + "_lo")
              .addOutput(x + "_hi")
              .addAttribute(Attrs.i("axis", -1))
              .addAttribute(Attrs.i("num_outputs", 2))
              .build());
      body.add(SketchMatMul.node("Neg", List.of(x + "_hi"), x + "_neg"));
      body.add(
          SketchMatMul.node(
              "Concat", List.of(x + "_neg", x + "_lo"), x + "_half", Attrs.i("axis", -1)));
      body.add(SketchMatMul.node("Mul", List.of(x + "4", "cos4"), x + "_cos"));
      body.add(SketchMatMul.node("Mul", List.of(x + "_half", "sin4"), x + "_sin"));
      body.add(SketchMatMul.node("Add", List.of(x + "_cos", x + "_sin"), x + "_rot4"));
      body.add(SketchMatMul.node("Reshape", List.of(x + "_rot4", "keep_keep_rest"), x + "_rot"));
    }
    body.add(
        NodeProto.newBuilder()
            .setOpType(GroupQueryAttentionOp.OP_TYPE)
            .setDomain(GroupQueryAttentionOp.MICROSOFT_DOMAIN)
            .addAllInput(List.of("query_rot", "key_rot"))
            .addAllInput(INPUTS.subList(2, GroupQueryAttentionOp.REQUIRED_INPUTS))
            .addAllOutput(OUTPUTS)
            .addAttribute(reference(GroupQueryAttentionOp.ATTR_HEADS))
            .addAttribute(reference(GroupQueryAttentionOp.ATTR_KV_HEADS))
            .build());
    return FunctionProto.newBuilder()
        .setName(GroupQueryAttentionOp.OP_TYPE)
        .setDomain(domain)
        .setDocString(
            "rotary (x cos + rotate_half(x) sin) on query and key, then com.microsoft"
                + " GroupQueryAttention (fp32, scale 1/sqrt(D)); run by sketchrt's kernel where it"
                + " is registered")
        .addAllInput(INPUTS)
        .addAllOutput(OUTPUTS)
        .addAttribute(GroupQueryAttentionOp.ATTR_HEADS)
        .addAttribute(GroupQueryAttentionOp.ATTR_KV_HEADS)
        .addAllNode(body)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(ModelWriter.OPSET))
        .addOpsetImport(
            OperatorSetIdProto.newBuilder()
                .setDomain(GroupQueryAttentionOp.MICROSOFT_DOMAIN)
                .setVersion(1))
        .build();
  }

  /** A Constant node: the int64 vector {@code values}. */
  private static NodeProto constant(String output, long... values) {
    return SketchMatMul.node("Constant", List.of(), output, Attrs.ints("value_ints", values));
  }

  /** An attribute of the function node that takes the calling node's attribute of that name. */
  private static AttributeProto reference(String name) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeType.INT)
        .setRefAttrName(name)
        .build();
  }
}
