package io.sketchrt.converter.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Compares tensors with the expected.json files torch wrote next to the fixtures. */
final class Expected {
  private Expected() {}

  static final Path PICKLES = Path.of("src/test/resources/pickles");
  static final Path SAFETENSORS = Path.of("src/test/resources/safetensors");

  static JsonNode json(Path file) throws IOException {
    return new ObjectMapper().readTree(file.toFile());
  }

  /** Exact comparison: dtype, shape and every element (F16/BF16 widen exactly to float). */
  static void assertTensor(JsonNode expected, TensorData actual, String what) {
    assertEquals(DType.valueOf(expected.get("dtype").asText()), actual.dtype(), what + " dtype");
    long[] shape = new long[expected.get("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = expected.get("shape").get(i).asLong();
    }
    assertArrayEquals(shape, actual.shape(), what + " shape");
    JsonNode values = expected.get("values");
    assertEquals(values.size(), actual.numel(), what + " numel");
    for (int i = 0; i < values.size(); i++) {
      if (actual.dtype().isFloatingPoint()) {
        assertEquals((float) values.get(i).asDouble(), actual.getFloat(i), what + "[" + i + "]");
      } else {
        assertEquals(values.get(i).asLong(), actual.getLong(i), what + "[" + i + "]");
      }
    }
  }

  /** Asserts a one-line CheckpointException whose message contains every fragment. */
  static CheckpointException assertFails(Executable call, String... fragments) {
    CheckpointException e = assertThrows(CheckpointException.class, call);
    String m = e.getMessage();
    assertFalse(m.contains("\n") || m.contains("\r"), "multi-line message: " + m);
    for (String f : fragments) {
      assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
    }
    return e;
  }
}
