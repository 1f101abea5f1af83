package io.sketchrt.runtime.ort;

import ai.onnxruntime.OrtSession;
import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.format.TunedSets;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.LutSlots;
import io.sketchrt.runtime.ort.sketch.SketchKernels;
import java.nio.file.Path;
import java.util.Set;

/** ONNX Runtime on the CPU: the default backend. */
public final class OrtCpuBackend extends OrtBackend {
  public static final String NAME = "ort-cpu";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Target> targets() {
    return Set.of(Target.PORTABLE);
  }

  @Override
  public String description() {
    return "ONNX Runtime, CPU execution provider";
  }

  /**
   * The Java SketchMatMul kernel (or, by choice or necessity, ONNX Runtime's folded dense
   * fallback).
   */
  @Override
  LutSlots addKernels(OrtSession.SessionOptions options, OrtOptions ort, Path graph, ModelCard card)
      throws SketchrtException {
    Path dir = graph.getParent();
    TunedSets sets = card == null ? null : card.tunedSets();
    if (sets == null) {
      SketchKernels.install(options, ort.kernel(), dir);
      return null;
    }
    int capacity = Math.max(sets.sets().size(), ort.tunedSlots());
    String first = sets.defaultSet();
    Path file = dir.resolve(sets.find(first).orElseThrow().file());
    LutSlots slots =
        SketchKernels.install(
                options,
                ort.kernel(),
                dir,
                layout -> SketchKernels.slots(layout, capacity, first, file))
            .slots();
    if (slots != null) {
      try {
        // every set the card lists is resident from the start; others load at run time
        for (TunedSets.Entry e : sets.sets()) {
          if (!e.name().equals(first)) {
            slots.load(e.name(), dir.resolve(e.file()));
          }
        }
      } catch (SketchrtException | RuntimeException e) {
        slots.close();
        throw e;
      }
    }
    return slots;
  }

  @Override
  void addExecutionProvider(OrtSession.SessionOptions options) {
    // The CPU provider is always there.
  }
}
