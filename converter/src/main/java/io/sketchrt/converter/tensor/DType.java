package io.sketchrt.converter.tensor;

/** Element types sketchrt reads from checkpoints and writes into ONNX graphs. */
public enum DType {
  F32(4, "F32"),
  F16(2, "F16"),
  BF16(2, "BF16"),
  F64(8, "F64"),
  I64(8, "I64"),
  I32(4, "I32"),
  I16(2, "I16"),
  I8(1, "I8"),
  U8(1, "U8"),
  BOOL(1, "BOOL");

  private final int byteSize;
  private final String safetensorsName;

  DType(int byteSize, String safetensorsName) {
    this.byteSize = byteSize;
    this.safetensorsName = safetensorsName;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** The dtype string used in safetensors headers. */
  public String safetensorsName() {
    return safetensorsName;
  }

  public boolean isFloatingPoint() {
    return this == F32 || this == F16 || this == BF16 || this == F64;
  }

  /** Parses a safetensors header dtype, or returns null when sketchrt does not support it. */
  public static DType fromSafetensors(String name) {
    for (DType t : values()) {
      if (t.safetensorsName.equals(name)) {
        return t;
      }
    }
    return null;
  }
}
