package io.sketchrt.runtime.ort.sketch;

/** The ONNX tensor element types the sketch kernel reads or writes, with ONNX's enum values. */
public enum ElementType {
  FLOAT(1, 4),
  INT8(3, 1),
  INT32(6, 4),
  FLOAT16(10, 2),
  BFLOAT16(16, 2);

  /** {@code ONNXTensorElementDataType} / {@code TensorProto.DataType}. */
  public final int onnx;

  public final int bytes;

  ElementType(int onnx, int bytes) {
    this.onnx = onnx;
    this.bytes = bytes;
  }

  /** The type for an ONNX enum value, or null when the kernel has no use for it. */
  public static ElementType ofOnnx(int onnx) {
    for (ElementType t : values()) {
      if (t.onnx == onnx) {
        return t;
      }
    }
    return null;
  }

  /** ONNX's name for an enum value, for error messages. */
  public static String onnxName(int onnx) {
    return switch (onnx) {
      case 1 -> "float";
      case 2 -> "uint8";
      case 3 -> "int8";
      case 4 -> "uint16";
      case 5 -> "int16";
      case 6 -> "int32";
      case 7 -> "int64";
      case 9 -> "bool";
      case 10 -> "float16";
      case 11 -> "double";
      case 16 -> "bfloat16";
      default -> "type " + onnx;
    };
  }

  @Override
  public String toString() {
    return onnxName(onnx);
  }
}
