package io.sketchrt.converter.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.FunctionProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.sketchrt.converter.onnx.Attrs;
import io.sketchrt.converter.onnx.GraphBuilder;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.GroupQueryAttentionOp;
import java.util.List;

/**
 * The in-place attention node: {@code ai.sketchrt::GroupQueryAttention}, whose model-local function
 * is one {@code com.microsoft} GroupQueryAttention node with the same inputs, outputs and head
 * counts. ONNX Runtime inlines the function where sketchrt's native kernel is not registered, so a
 * graph runs the same everywhere; on sketchrt's CPU path the kernel reads each key/value head once
 * for all the query heads that share it.
 */
public final class GroupQueryAttention {
  private GroupQueryAttention() {}

  private static final List<String> INPUTS =
      List.of(
          "query", "key", "value", "past_key", "past_value", "seqlens_k", "total_sequence_length");
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

  /** The function: the com.microsoft node, its head counts taken from the caller's attributes. */
  public static FunctionProto function(String domain) {
    NodeProto gqa =
        NodeProto.newBuilder()
            .setOpType(GroupQueryAttentionOp.OP_TYPE)
            .setDomain(GroupQueryAttentionOp.MICROSOFT_DOMAIN)
            .addAllInput(INPUTS)
            .addAllOutput(OUTPUTS)
            .addAttribute(reference(GroupQueryAttentionOp.ATTR_HEADS))
            .addAttribute(reference(GroupQueryAttentionOp.ATTR_KV_HEADS))
            .build();
    return FunctionProto.newBuilder()
        .setName(GroupQueryAttentionOp.OP_TYPE)
        .setDomain(domain)
        .setDocString(
            "com.microsoft GroupQueryAttention (fp32, rotary applied before, scale 1/sqrt(D)),"
                + " run by sketchrt's kernel where it is registered")
        .addAllInput(INPUTS)
        .addAllOutput(OUTPUTS)
        .addAttribute(GroupQueryAttentionOp.ATTR_HEADS)
        .addAttribute(GroupQueryAttentionOp.ATTR_KV_HEADS)
        .addNode(gqa)
        .addOpsetImport(
            OperatorSetIdProto.newBuilder()
                .setDomain(GroupQueryAttentionOp.MICROSOFT_DOMAIN)
                .setVersion(1))
        .build();
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
