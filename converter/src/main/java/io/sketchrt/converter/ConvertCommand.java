package io.sketchrt.converter;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code sketchrt convert}: placeholder until the converter lands (issue 2). */
@Command(name = "convert", description = "Convert a SketchTune model to ONNX.")
public final class ConvertCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("convert is not implemented yet");
  }
}
