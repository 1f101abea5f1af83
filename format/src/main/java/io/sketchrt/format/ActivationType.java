package io.sketchrt.format;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The activation (and KV cache) element type of a converted graph: {@code sketchrt.json} field
 * {@code dtype}.
 */
public enum ActivationType {
  FP32("fp32", 4),
  FP16("fp16", 2),
  BF16("bf16", 2);

  private final String id;
  private final int bytes;

  ActivationType(String id, int bytes) {
    this.id = id;
    this.bytes = bytes;
  }

  public String id() {
    return id;
  }

  public int bytes() {
    return bytes;
  }

  public static String ids() {
    return Arrays.stream(values()).map(ActivationType::id).collect(Collectors.joining(", "));
  }

  public static ActivationType fromId(String id) throws FormatException {
    for (ActivationType t : values()) {
      if (t.id.equals(id)) {
        return t;
      }
    }
    throw new FormatException("unknown dtype '" + id + "' (known: " + ids() + ")");
  }
}
