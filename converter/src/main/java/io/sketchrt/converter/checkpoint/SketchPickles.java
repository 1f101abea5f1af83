package io.sketchrt.converter.checkpoint;

import io.sketchrt.converter.checkpoint.PickleValues.PyTuple;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.converter.tensor.TensorData;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads SketchTune's pickles (DESIGN §2): the sketched base model {@code module -> (quant_grid,
 * weight_codes)} and the fine-tuned {@code sketched_params.pkl} ({@code module -> quant_grid}).
 * Everything comes back normalised to 3-D ({@code [N, G, ...]}, G = 1 for 2-D pickles).
 */
public final class SketchPickles {

  /** Name of the fine-tuned LUT file inside a SketchTune checkpoint directory. */
  public static final String TUNED_FILE = "sketched_params.pkl";

  private SketchPickles() {}

  /** Reads the base sketch; the map keeps the pickle's order. */
  public static Map<String, SketchedLinear> readBase(Path pkl) throws CheckpointException {
    Map<String, Object> root = rootDict(pkl, TorchPickle.load(pkl));
    Map<String, SketchedLinear> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : root.entrySet()) {
      String module = e.getKey();
      List<Object> pair = pairOf(e.getValue());
      if (pair == null || pair.size() != 2) {
        throw new CheckpointException(
            pkl
                + ": layer "
                + CheckpointException.quote(module)
                + " must be a (quant_grid, weight_codes) tuple, got a "
                + PickleValues.typeName(e.getValue()));
      }
      TensorData lut = lut(pkl, module, pair.get(0), "quant_grid");
      TensorData codes = codes(pkl, module, pair.get(1), lut);
      out.put(module, new SketchedLinear(module, lut, codes));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Reads fine-tuned LUTs from a checkpoint directory or the pickle itself. */
  public static Map<String, TensorData> readTuned(Path checkpointDirOrPkl)
      throws CheckpointException {
    Path pkl =
        Files.isDirectory(checkpointDirOrPkl)
            ? checkpointDirOrPkl.resolve(TUNED_FILE)
            : checkpointDirOrPkl;
    Map<String, Object> root = rootDict(pkl, TorchPickle.load(pkl));
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : root.entrySet()) {
      out.put(e.getKey(), lut(pkl, e.getKey(), e.getValue(), "tuned quant_grid"));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Replaces every base LUT by its fine-tuned one; the layer sets and shapes must match. */
  public static Map<String, SketchedLinear> applyTuned(
      Map<String, SketchedLinear> base, Map<String, TensorData> tuned) throws CheckpointException {
    List<String> extra = new ArrayList<>();
    for (String k : tuned.keySet()) {
      if (!base.containsKey(k)) {
        extra.add(k);
      }
    }
    if (!extra.isEmpty()) {
      throw new CheckpointException(
          "tuned sketch has "
              + extra.size()
              + " layer(s) not in the base sketch, e.g. "
              + CheckpointException.quote(extra.getFirst()));
    }
    Map<String, SketchedLinear> out = new LinkedHashMap<>();
    for (SketchedLinear layer : base.values()) {
      TensorData lut = tuned.get(layer.module());
      if (lut == null) {
        throw new CheckpointException(
            "tuned sketch lacks layer "
                + CheckpointException.quote(layer.module())
                + " of the base sketch");
      }
      if (!Arrays.equals(lut.shape(), layer.lut().shape())) {
        throw new CheckpointException(
            "tuned LUT of "
                + CheckpointException.quote(layer.module())
                + " has shape "
                + Arrays.toString(lut.shape())
                + " but the base LUT has "
                + Arrays.toString(layer.lut().shape()));
      }
      out.put(layer.module(), new SketchedLinear(layer.module(), lut, layer.codes()));
    }
    return Collections.unmodifiableMap(out);
  }

  // ---- validation

  private static Map<String, Object> rootDict(Path pkl, Object root) throws CheckpointException {
    if (!(root instanceof Map<?, ?> m)) {
      throw new CheckpointException(
          pkl + ": expected a dict of layers, got a " + PickleValues.typeName(root));
    }
    if (m.isEmpty()) {
      throw new CheckpointException(pkl + ": holds no layers");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getKey() instanceof String k)) {
        throw new CheckpointException(
            pkl + ": layer names must be strings, got a " + PickleValues.typeName(e.getKey()));
      }
      out.put(k, e.getValue());
    }
    return out;
  }

  private static List<Object> pairOf(Object v) {
    return switch (v) {
      case PyTuple t -> t.items();
      case List<?> l -> new ArrayList<>(l);
      case null, default -> null;
    };
  }

  /** A LUT: float, [N, L] or [N, G, L], L = 2^bits with bits 1..4; returned as [N, G, L]. */
  private static TensorData lut(Path pkl, String module, Object value, String what)
      throws CheckpointException {
    String where = pkl + ": layer " + CheckpointException.quote(module) + ": " + what;
    if (!(value instanceof TensorData t)) {
      throw new CheckpointException(
          where + " is a " + PickleValues.typeName(value) + ", not a tensor");
    }
    if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
      throw new CheckpointException(
          where + " has dtype " + t.dtype() + " (expected F32, F16 or BF16)");
    }
    if (t.rank() != 2 && t.rank() != 3) {
      throw new CheckpointException(
          where
              + " has shape "
              + Arrays.toString(t.shape())
              + " (expected [N, G, 2^bits] or [N, 2^bits])");
    }
    long levels = t.dim(-1);
    if (levels < 2 || levels > 16 || Long.bitCount(levels) != 1) {
      throw new CheckpointException(
          where + " has " + levels + " entries per row (expected 2, 4, 8 or 16 = 2^bits)");
    }
    if (t.dim(0) == 0 || (t.rank() == 3 && t.dim(1) == 0)) {
      throw new CheckpointException(where + " is empty: shape " + Arrays.toString(t.shape()));
    }
    checkFinite(where, t);
    return t.rank() == 3 ? t : t.reshape(t.dim(0), 1, levels);
  }

  /**
   * A NaN or infinite LUT entry turns every output of its row into NaN at run time, silently;
   * refuse it here, naming the module. Checks the exponent bits only: one pass, no conversions.
   */
  private static void checkFinite(String where, TensorData t) throws CheckpointException {
    MemorySegment b = t.bytes();
    long n = t.numel();
    long bad = -1;
    switch (t.dtype()) {
      case F32 -> {
        for (long i = 0; i < n && bad < 0; i++) {
          if ((b.get(F32_BITS, i * 4) & 0x7F80_0000) == 0x7F80_0000) {
            bad = i;
          }
        }
      }
      case F16, BF16 -> {
        int exponent = t.dtype() == DType.F16 ? 0x7C00 : 0x7F80;
        for (long i = 0; i < n && bad < 0; i++) {
          if ((b.get(HALF_BITS, i * 2) & exponent) == exponent) {
            bad = i;
          }
        }
      }
      default -> {}
    }
    if (bad >= 0) {
      float v = t.getFloat(bad);
      long levels = t.dim(-1);
      throw new CheckpointException(
          where
              + " holds "
              + (Float.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf")
              + " at row "
              + (bad / levels / (t.rank() == 3 ? t.dim(1) : 1))
              + ", entry "
              + (bad % levels)
              + ": every LUT entry must be finite");
    }
  }

  private static final ValueLayout.OfInt F32_BITS =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort HALF_BITS =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

  /** Codes: U8 (or I8, same bytes), [N, K/2] or [N, G, K/G/2] matching the LUT; as U8 [N, G, .]. */
  private static TensorData codes(Path pkl, String module, Object value, TensorData lut)
      throws CheckpointException {
    String where = pkl + ": layer " + CheckpointException.quote(module) + ": weight_codes";
    if (!(value instanceof TensorData t)) {
      throw new CheckpointException(
          where + " is a " + PickleValues.typeName(value) + ", not a tensor");
    }
    if (t.dtype() != DType.U8 && t.dtype() != DType.I8) {
      throw new CheckpointException(where + " has dtype " + t.dtype() + " (expected U8)");
    }
    long n = lut.dim(0);
    long g = lut.dim(1);
    boolean ok =
        (t.rank() == 3 && t.dim(0) == n && t.dim(1) == g)
            || (t.rank() == 2 && g == 1 && t.dim(0) == n);
    if (!ok || t.dim(-1) == 0) {
      throw new CheckpointException(
          where
              + " has shape "
              + Arrays.toString(t.shape())
              + " but quant_grid "
              + Arrays.toString(lut.shape())
              + " needs ["
              + n
              + ", "
              + g
              + ", K/G/2]");
    }
    TensorData out = new TensorData(DType.U8, new long[] {n, g, t.dim(-1)}, t.bytes());
    checkCodesFitLut(where, out, lut.dim(-1));
    return out;
  }

  /**
   * With fewer than 4 bits a nibble could name a LUT entry that does not exist; a kernel would then
   * read past the LUT. One pass over the code bytes, only when bits < 4.
   */
  private static void checkCodesFitLut(String where, TensorData codes, long levels)
      throws CheckpointException {
    if (levels >= 16) {
      return;
    }
    MemorySegment b = codes.bytes();
    for (long i = 0, n = b.byteSize(); i < n; i++) {
      int v = b.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
      if ((v >> 4) >= levels || (v & 15) >= levels) {
        throw new CheckpointException(
            where
                + " holds code "
                + Math.max(v >> 4, v & 15)
                + " at byte "
                + i
                + " but the LUT has only "
                + levels
                + " entries");
      }
    }
  }
}
