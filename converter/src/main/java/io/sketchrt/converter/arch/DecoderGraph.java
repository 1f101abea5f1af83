package io.sketchrt.converter.arch;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.onnx.GraphBuilder;
import java.io.IOException;

/** Builds the ONNX decoder graph of one model (DESIGN section 4). */
public interface DecoderGraph {
  GraphBuilder build() throws IOException, ConvertException, CheckpointException;
}
