package io.sketchrt.validation.bench;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Bytes of weights one decode step reads, from the ONNX graph: every initializer a node multiplies
 * with (SketchMatMul codes, LUT and bias; dense MatMul/Gemm weights), but not embedding tables
 * (Gather reads one row per token). For the folded fallback each SketchMatMul counts as a dense
 * fp32 {@code [N, K]} weight instead, and so does a bf16 DenseMatMul weight.
 *
 * @param sketchBytes per token with the exact sketch kernel (the LUTs as stored)
 * @param nativeBytes per token with the native kernel, which reads int16 LUTs (16 entries and one
 *     fp32 scale per row group, 36 bytes) instead of the stored LUTs
 * @param denseBytes per token with the folded fallback
 * @param sketchNodes SketchMatMul nodes
 */
public record WeightTraffic(long sketchBytes, long nativeBytes, long denseBytes, int sketchNodes) {

  public static WeightTraffic of(Path onnx) throws IOException {
    ModelProto model;
    try (InputStream in = Files.newInputStream(onnx)) {
      model = ModelProto.parseFrom(in);
    }
    Map<String, Long> sizes = new HashMap<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      sizes.put(t.getName(), bytes(t));
    }
    long sketch = 0;
    long nativeLut = 0; // stored LUT bytes minus the native kernel's int16 LUT bytes
    long dense = 0;
    int nodes = 0;
    for (NodeProto n : model.getGraph().getNodeList()) {
      switch (n.getOpType()) {
        case "SketchMatMul" -> {
          nodes++;
          long k = attribute(n, "K");
          long rows = attribute(n, "N");
          long weights = 0;
          for (int i = 1; i < n.getInputCount(); i++) {
            weights += sizes.getOrDefault(n.getInput(i), 0L);
          }
          sketch += weights;
          long lut = sizes.getOrDefault(n.getInput(2), 0L);
          nativeLut += lut - rows * attribute(n, "groups") * 36;
          dense +=
              rows * k * 4 + (n.getInputCount() > 3 ? sizes.getOrDefault(n.getInput(3), 0L) : 0);
        }
        case "DenseMatMul" -> {
          // bf16 W [N, K] read as it is; the folded fallback makes it fp32
          long w = sizes.getOrDefault(n.getInput(1), 0L);
          sketch += w;
          dense += 2 * w;
        }
        case "MatMul", "Gemm" -> {
          long w = 0;
          for (String input : n.getInputList()) {
            w += sizes.getOrDefault(input, 0L);
          }
          sketch += w;
          dense += w;
        }
        default -> {}
      }
    }
    return new WeightTraffic(sketch, sketch - nativeLut, dense, nodes);
  }

  private static long attribute(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    throw new IllegalArgumentException("node " + n.getName() + " has no attribute " + name);
  }

  private static long bytes(TensorProto t) {
    for (StringStringEntryProto e : t.getExternalDataList()) {
      if (e.getKey().equals("length")) {
        return Long.parseLong(e.getValue());
      }
    }
    if (!t.getRawData().isEmpty()) {
      return t.getRawData().size();
    }
    long elements = 1;
    for (long d : t.getDimsList()) {
      elements *= d;
    }
    int size =
        switch (t.getDataType()) {
          case 1, 6 -> 4; // float, int32
          case 7, 11 -> 8; // int64, double
          case 10, 16, 4, 5 -> 2;
          default -> 1;
        };
    return elements * size;
  }
}
