package io.sketchrt.validation.inspect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.converter.checkpoint.CheckpointException;
import io.sketchrt.converter.checkpoint.SketchPickles;
import io.sketchrt.converter.checkpoint.SketchedLinear;
import io.sketchrt.converter.tensor.TensorData;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code sketchrt inspect --sketch BASE.pkl [--tuned ...]} shows, read through the restricted
 * unpickler: modules, shapes, dtypes, G and bits, and which modules the tuned LUTs change and by
 * how much.
 */
public final class SketchInspection {
  private SketchInspection() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public static ObjectNode inspect(Path sketch, Path tuned)
      throws IOException, CheckpointException {
    Map<String, SketchedLinear> base = SketchPickles.readBase(sketch);
    Map<String, TensorData> luts = tuned == null ? null : SketchPickles.readTuned(tuned);
    if (luts != null) {
      SketchPickles.applyTuned(base, luts); // the same shape and coverage checks as convert
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("sketch", sketch.toString());
    root.put(
        "tuned",
        tuned == null
            ? null
            : (Files.isDirectory(tuned) ? tuned.resolve(SketchPickles.TUNED_FILE) : tuned)
                .toString());
    ArrayNode modules = root.putArray("modules");
    long codes = 0;
    long lutBytes = 0;
    int changed = 0;
    for (SketchedLinear l : new TreeMap<>(base).values()) {
      ObjectNode m = modules.addObject();
      m.put("module", l.module());
      m.put("N", l.outFeatures());
      m.put("K", l.inFeatures());
      m.put("groups", l.groups());
      m.put("bits", l.bits());
      m.put("lut_dtype", l.lut().dtype().name());
      codes += l.codes().bytes().byteSize();
      lutBytes += l.lut().bytes().byteSize();
      if (luts != null) {
        TensorData t = luts.get(l.module());
        m.put("tuned_lut_dtype", t.dtype().name());
        double[] d = difference(l.lut(), t);
        m.put("tuned_max_abs_change", d[0]);
        m.put("tuned_relative_change", d[1]);
        if (d[0] > 0) {
          changed++;
        }
      }
    }
    root.put("module_count", base.size());
    root.put("codes_bytes", codes);
    root.put("lut_bytes", lutBytes);
    if (luts != null) {
      root.put("modules_changed_by_tuning", changed);
    }
    return root;
  }

  /** max |tuned - base| and ||tuned - base|| / ||base||, in float64. */
  static double[] difference(TensorData base, TensorData tuned) {
    double max = 0;
    double diff = 0;
    double norm = 0;
    for (long i = 0; i < base.numel(); i++) {
      double b = base.getFloat(i);
      double d = tuned.getFloat(i) - b;
      max = Math.max(max, Math.abs(d));
      diff += d * d;
      norm += b * b;
    }
    return new double[] {
      max, norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm)
    };
  }

  public static void print(ObjectNode r, PrintWriter out) {
    out.printf(
        "%s: %d sketched modules, codes %s, LUTs %s%n",
        r.get("sketch").asText(),
        r.get("module_count").asInt(),
        ModelInspection.mb(r.get("codes_bytes").asLong()),
        ModelInspection.mb(r.get("lut_bytes").asLong()));
    Map<String, int[]> byShape = new TreeMap<>();
    for (var m : r.get("modules")) {
      byShape
          .computeIfAbsent(
              String.format(
                  "N=%d K=%d G=%d bits=%d lut=%s",
                  m.get("N").asLong(),
                  m.get("K").asLong(),
                  m.get("groups").asInt(),
                  m.get("bits").asInt(),
                  m.get("lut_dtype").asText()),
              k -> new int[1])[0]++;
    }
    byShape.forEach((k, v) -> out.printf("  %4d x %s%n", v[0], k));
    if (r.hasNonNull("tuned")) {
      out.printf(
          "tuned %s changes %d of %d modules:%n",
          r.get("tuned").asText(),
          r.get("modules_changed_by_tuning").asInt(),
          r.get("module_count").asInt());
      for (var m : r.get("modules")) {
        out.printf(
            "  %-44s max |dLUT| %.3e, ||dLUT||/||LUT|| %.3e (%s)%n",
            m.get("module").asText(),
            m.get("tuned_max_abs_change").asDouble(),
            m.get("tuned_relative_change").asDouble(),
            m.get("tuned_lut_dtype").asText());
      }
    }
    out.flush();
  }
}
