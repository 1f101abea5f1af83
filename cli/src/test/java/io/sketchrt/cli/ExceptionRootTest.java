package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.format.FormatException;
import io.sketchrt.format.SketchrtCheckedException;
import io.sketchrt.runtime.SketchrtException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One root for every module's checked exception, and the exit code it gives stays 2. */
class ExceptionRootTest {

  @Test
  void everyModulesCheckedExceptionExtendsTheRootAndIsBadInput() {
    List<SketchrtCheckedException> all =
        List.of(
            new FormatException("format"),
            new ConvertException("convert"),
            new CheckpointException("checkpoint"),
            new SketchrtException("runtime"),
            new UsageException("cli"));
    for (SketchrtCheckedException e : all) {
      assertTrue(Main.isBadInput(e), e.getClass().getName());
    }
    assertTrue(Main.isBadInput(new java.io.IOException("disk")));
    assertFalse(Main.isBadInput(new IllegalStateException("bug")));
    assertFalse(Main.isBadInput(new NullPointerException()));
  }
}
