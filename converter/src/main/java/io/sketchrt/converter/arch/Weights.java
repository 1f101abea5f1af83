package io.sketchrt.converter.arch;

import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;

/** The dense weights of a Hugging Face checkpoint, by tensor name (memory-mapped, not copied). */
public interface Weights {
  boolean contains(String name);

  TensorData get(String name) throws IOException, CheckpointException;

  /** Where the weights come from, for error messages (e.g. "model.safetensors"). */
  String describe();
}
