package io.sketchrt.runtime.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.Target;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.OrtCpuBackend;
import io.sketchrt.runtime.ort.OrtCudaBackend;
import io.sketchrt.runtime.ort.OrtTensorRTBackend;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each backend declares the targets it runs; the format module no longer lists backends. */
class BackendTargetsTest {

  @Test
  void eachBackendDeclaresItsTargets() {
    assertEquals(Set.of(Target.PORTABLE), new OrtCpuBackend().targets());
    assertEquals(Set.of(Target.PORTABLE), new OrtCudaBackend().targets());
    assertEquals(Set.of(Target.ORT_TENSORRT), new OrtTensorRTBackend().targets());
  }

  @Test
  void theBackendsRunningATargetAreThoseOnTheClassPathThatDeclareIt() {
    // BrokenBackend (test provider) fails in its constructor and is left out, not an error.
    assertEquals(List.of("ort-cpu", "ort-cuda"), Backends.running(Target.PORTABLE));
    assertEquals(List.of("ort-tensorrt"), Backends.running(Target.ORT_TENSORRT));
  }

  @Test
  void unknownBackendNamesTheOnesThatLoaded() {
    SketchrtException e = assertThrows(SketchrtException.class, () -> Backends.find("nope"));
    assertTrue(e.getMessage().startsWith("unknown backend 'nope' (available: "), e.getMessage());
    assertTrue(e.getMessage().contains("ort-cpu"), e.getMessage());
  }
}
