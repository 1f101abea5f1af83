package io.sketchrt.converter.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import io.sketchrt.converter.tensor.DType;

/** Maps sketchrt element types to ONNX {@code TensorProto.DataType}. */
public final class OnnxTypes {
  private OnnxTypes() {}

  public static DataType of(DType t) {
    return switch (t) {
      case F32 -> DataType.FLOAT;
      case F16 -> DataType.FLOAT16;
      case BF16 -> DataType.BFLOAT16;
      case F64 -> DataType.DOUBLE;
      case I64 -> DataType.INT64;
      case I32 -> DataType.INT32;
      case I16 -> DataType.INT16;
      case I8 -> DataType.INT8;
      case U8 -> DataType.UINT8;
      case BOOL -> DataType.BOOL;
    };
  }

  public static int code(DType t) {
    return of(t).getNumber();
  }
}
