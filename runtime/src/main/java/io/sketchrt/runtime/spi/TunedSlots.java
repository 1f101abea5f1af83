package io.sketchrt.runtime.spi;

import io.sketchrt.runtime.SketchrtException;
import java.nio.file.Path;
import java.util.List;

/**
 * A session's LUT slots for tuned sets (DESIGN section 3b): which sets are resident, and a count of
 * the generations using each, so that a set in use is never overwritten.
 */
public interface TunedSlots {
  /** Slots in all: the most sets resident at once. */
  int capacity();

  /** The resident sets, in slot order (the default set first). */
  List<String> loaded();

  /** Bytes one resident set takes. */
  long bytesPerSlot();

  /** Loads the set file {@code file} as {@code name} into a free slot (between forward passes). */
  void load(String name, Path file) throws SketchrtException;

  /** Unloads {@code name}; a set in use goes once its last generation releases it. */
  void unload(String name);

  /** The slot of {@code name}, held until {@link #release}. */
  int acquire(String name);

  void release(int slot);
}
