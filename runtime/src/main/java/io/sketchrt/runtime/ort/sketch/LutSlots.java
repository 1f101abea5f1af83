package io.sketchrt.runtime.ort.sketch;

import io.sketchrt.format.FormatException;
import io.sketchrt.format.TunedSetFile;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.TunedSlots;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LUT memory of one loaded model's tuned sets (DESIGN section 3b): a fixed number of slots,
 * each holding one set's LUTs for every sketched layer, next to the codes ONNX Runtime holds once.
 *
 * <p>Per layer, the slots are one array {@code [slots, N, G, ...]} in the layout the kernel in use
 * reads: int16 entries with a scale per row group for the native kernel, fp32 for the exact Java
 * kernel. Loading a set writes only its own slot (its file is mapped, read once and dropped); a set
 * is never overwritten while a generation uses it: {@link #acquire} counts users and {@link
 * #unload} of a set in use only marks it, and its slot is freed when the last user releases it.
 * Loads and unloads run between forward passes: the caller holds the model's write lock.
 *
 * <p>Which slot each batch row of a forward pass uses is the graph's {@code lut_index} input
 * (SketchMatMul version 2), which the decoder session feeds from the KV cache's row slots.
 */
public final class LutSlots implements TunedSlots, AutoCloseable {
  /** One sketched layer: its shape and its slot arrays. */
  static final class Layer {
    final String module;
    final SketchShape shape;
    final MemorySegment q; // native: int16 [slots, N, G, 16]
    final MemorySegment scale; // native: fp32 [slots, N, G]
    final MemorySegment fp32; // exact: fp32 [slots, N, G, 2^bits]

    Layer(
        String module,
        SketchShape shape,
        MemorySegment q,
        MemorySegment scale,
        MemorySegment fp32) {
      this.module = module;
      this.shape = shape;
      this.q = q;
      this.scale = scale;
      this.fp32 = fp32;
    }

    long rowGroups() {
      return (long) shape.n() * shape.groups();
    }
  }

  private final KernelImpl impl;
  private final int capacity;
  private final Arena arena = Arena.ofShared();
  private final Map<String, Layer> layers = new LinkedHashMap<>();
  private final String[] names;
  private final int[] users;
  private final boolean[] unloading;
  private boolean closed;

  private LutSlots(KernelImpl impl, int capacity) {
    this.impl = impl;
    this.capacity = capacity;
    this.names = new String[capacity];
    this.users = new int[capacity];
    this.unloading = new boolean[capacity];
  }

  /**
   * Slots for the layers of {@code first} (the model's default set), which is loaded into slot 0.
   *
   * @param impl the kernel that reads them ({@link KernelImpl#JAVA} keeps fp32, the native ones
   *     int16 or int8 with scales)
   * @param capacity how many sets can be resident at once
   */
  static LutSlots create(KernelImpl impl, int capacity, String firstName, Path firstFile)
      throws SketchrtException {
    if (capacity < 1) {
      throw new IllegalArgumentException("tuned set slots must be >= 1, got " + capacity);
    }
    TunedSetFile.Contents contents = read(firstFile);
    LutSlots slots = new LutSlots(impl, capacity);
    try {
      for (TunedSetFile.Lut lut : contents.luts().values()) {
        int entries = (int) lut.shape()[2];
        if (entries < 2 || entries > 16 || Integer.bitCount(entries) != 1) {
          throw new SketchrtException(
              firstFile + ": the LUT of '" + lut.module() + "' has " + entries + " entries");
        }
        int bits = Integer.numberOfTrailingZeros(entries);
        slots.layers.put(lut.module(), slots.allocate(lut.module(), lut.shape(), bits));
      }
      slots.load(firstName, contents);
    } catch (RuntimeException | SketchrtException e) {
      slots.close();
      throw e;
    }
    return slots;
  }

  private Layer allocate(String module, long[] s, int bits) {
    long rowGroups = s[0] * s[1];
    // K is not in the set file; the kernel takes it from the node, so the shape here only records
    // N, G and the LUT size.
    SketchShape shape = new SketchShape((int) s[0], (int) (2 * s[1]), (int) s[1], bits);
    if (impl == KernelImpl.JAVA) {
      return new Layer(
          module,
          shape,
          null,
          null,
          AnonymousMemory.allocate(capacity * rowGroups * s[2] * 4, arena));
    }
    return new Layer(
        module,
        shape,
        AnonymousMemory.allocate(capacity * rowGroups * 32, arena),
        AnonymousMemory.allocate(capacity * rowGroups * 4, arena),
        null);
  }

  private static TunedSetFile.Contents read(Path file) throws SketchrtException {
    try {
      return TunedSetFile.read(file);
    } catch (FormatException e) {
      throw new SketchrtException(e.getMessage(), e);
    }
  }

  /** The layer of {@code module}, or null when no set covers it. */
  Layer layer(String module) {
    return layers.get(module);
  }

  @Override
  public int capacity() {
    return capacity;
  }

  /** The resident sets, by slot order. */
  @Override
  public synchronized List<String> loaded() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < capacity; i++) {
      if (names[i] != null && !unloading[i]) {
        out.add(names[i]);
      }
    }
    return out;
  }

  /** Bytes one slot takes for all layers. */
  @Override
  public long bytesPerSlot() {
    long total = 0;
    for (Layer l : layers.values()) {
      total +=
          l.fp32 != null
              ? l.fp32.byteSize() / capacity
              : (l.q.byteSize() + l.scale.byteSize()) / capacity;
    }
    return total;
  }

  /** Loads set {@code name} from its file into a free slot. */
  @Override
  public void load(String name, Path file) throws SketchrtException {
    load(name, read(file));
  }

  private synchronized void load(String name, TunedSetFile.Contents contents)
      throws SketchrtException {
    checkOpen();
    if (slotOf(name) >= 0) {
      throw new IllegalStateException("tuned set '" + name + "' is already loaded");
    }
    int slot = -1;
    for (int i = 0; i < capacity && slot < 0; i++) {
      if (names[i] == null) {
        slot = i;
      }
    }
    if (slot < 0) {
      throw new SketchrtException(
          "all "
              + capacity
              + " tuned set slots are in use ("
              + String.join(", ", loaded())
              + "): unload one first, or load the model with more slots");
    }
    for (String module : layers.keySet()) {
      if (!contents.luts().containsKey(module)) {
        throw new SketchrtException(
            contents.file() + " lacks layer '" + module + "' (a set of another model?)");
      }
    }
    if (contents.luts().size() != layers.size()) {
      throw new SketchrtException(
          contents.file() + " has layers this model does not sketch (a set of another model?)");
    }
    try (Arena mapping = Arena.ofConfined()) {
      MemorySegment file = contents.map(mapping);
      for (Layer l : layers.values()) {
        TunedSetFile.Lut lut = contents.luts().get(l.module);
        long[] want = {l.shape.n(), l.shape.groups(), l.shape.entries()};
        if (!Arrays.equals(lut.shape(), want)) {
          throw new SketchrtException(
              contents.file()
                  + ": the LUT of '"
                  + l.module
                  + "' has shape "
                  + Arrays.toString(lut.shape())
                  + ", the model's codes need "
                  + Arrays.toString(want));
        }
        write(l, slot, file.asSlice(contents.dataStart() + lut.offset(), lut.bytes()), lut.dtype());
      }
    } catch (IOException e) {
      throw new SketchrtException(contents.file() + ": cannot read: " + e.getMessage(), e);
    }
    names[slot] = name;
    users[slot] = 0;
    unloading[slot] = false;
  }

  private void write(Layer l, int slot, MemorySegment src, String dtype) throws SketchrtException {
    ElementType type =
        switch (dtype) {
          case "F32" -> ElementType.FLOAT;
          case "F16" -> ElementType.FLOAT16;
          default -> ElementType.BFLOAT16;
        };
    long rowGroups = l.rowGroups();
    int entries = l.shape.entries();
    if (l.fp32 != null) {
      long base = slot * rowGroups * entries;
      for (long i = 0; i < rowGroups * entries; i++) {
        float v = Numerics.load(src, type, i);
        if (!Float.isFinite(v)) {
          throw new SketchrtException(l.module + ": the LUT holds a non-finite value " + v);
        }
        Numerics.store(l.fp32, ElementType.FLOAT, base + i, v);
      }
      return;
    }
    int rc;
    try {
      rc =
          (int)
              NativeSketchLibrary.PREPARE_LUT.invokeExact(
                  src,
                  type.onnx,
                  1L,
                  (long) l.shape.n(),
                  (long) l.shape.groups(),
                  l.shape.bits(),
                  impl == KernelImpl.NATIVE_INT8 ? 8 : 16,
                  l.q.asSlice(slot * rowGroups * 32, rowGroups * 32),
                  l.scale.asSlice(slot * rowGroups * 4, rowGroups * 4));
    } catch (Throwable t) {
      throw new SketchrtException("preparing the LUTs of '" + l.module + "' failed: " + t, t);
    }
    if (rc < 0) {
      throw new SketchrtException(l.module + ": " + NativeSketchLibrary.errorString(rc));
    }
  }

  /**
   * Unloads {@code name}: at once when no generation uses it, else when the last one releases it.
   */
  @Override
  public synchronized void unload(String name) {
    int slot = slotOf(name);
    if (slot < 0) {
      throw new IllegalArgumentException(
          "tuned set '" + name + "' is not loaded (loaded: " + String.join(", ", loaded()) + ")");
    }
    if (users[slot] == 0) {
      names[slot] = null;
    } else {
      unloading[slot] = true;
    }
  }

  /** The slot of {@code name}, counted as in use until {@link #release}. */
  @Override
  public synchronized int acquire(String name) {
    checkOpen();
    int slot = slotOf(name);
    if (slot < 0) {
      throw new IllegalArgumentException(
          "unknown tuned set '" + name + "' (loaded: " + String.join(", ", loaded()) + ")");
    }
    users[slot]++;
    return slot;
  }

  @Override
  public synchronized void release(int slot) {
    if (slot < 0 || slot >= capacity || users[slot] == 0) {
      return;
    }
    if (--users[slot] == 0 && unloading[slot]) {
      names[slot] = null;
      unloading[slot] = false;
    }
  }

  private int slotOf(String name) {
    for (int i = 0; i < capacity; i++) {
      if (name.equals(names[i]) && !unloading[i]) {
        return i;
      }
    }
    return -1;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the model is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      arena.close();
    }
  }
}
