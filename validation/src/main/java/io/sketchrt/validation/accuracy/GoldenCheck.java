package io.sketchrt.validation.accuracy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.format.ActivationType;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.ort.sketch.KernelChoice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The whole model against golden outputs written in the user's SketchTune environment by {@code
 * python3 -m sketchrt_ref.training_time.golden}: the last position's logits of each prompt (only
 * the first {@code vocab_size} columns: SketchTune pads its vocabulary), top-1 agreement, max
 * |Δlogit|, and the greedy continuation token for token.
 */
public final class GoldenCheck {
  private GoldenCheck() {}

  /** One prompt's comparison. */
  public record PromptResult(
      String text,
      int promptTokens,
      double relError,
      double maxAbsError,
      boolean top1Agrees,
      List<Long> expectedGreedy,
      List<Long> actualGreedy,
      int beams,
      List<Long> expectedBeam,
      List<Long> actualBeam,
      double tolerance) {

    public boolean greedyAgrees() {
      return expectedGreedy.equals(actualGreedy);
    }

    /** True when the golden has no beam continuation (beams = 0). */
    public boolean beamAgrees() {
      return expectedBeam.equals(actualBeam);
    }

    public boolean passed() {
      return relError <= tolerance && top1Agrees && greedyAgrees() && beamAgrees();
    }
  }

  /**
   * Whole-model logits tolerance: the single-op bound of the coarser of the two activation types,
   * times 10.
   */
  static double tolerance(ActivationType model, String goldenDtype, KernelChoice kernel) {
    double golden =
        switch (goldenDtype) {
          case "float32", "fp32" -> 1e-5;
          case "float16", "fp16" -> 2e-3;
          default -> 1e-2;
        };
    return 10 * Math.max(Tolerance.singleOp(model, kernel), golden);
  }

  /**
   * @param kernel the kernel the model's SketchMatMul nodes run ({@link Tolerance#kernel}), which
   *     sets the tolerance
   */
  public static List<PromptResult> run(Path golden, Model model, KernelChoice kernel)
      throws IOException, SketchrtException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(golden.toFile());
    } catch (IOException e) {
      throw new IOException(
          golden + ": not readable JSON (" + e.getMessage().lines().findFirst().orElse("") + ")",
          e);
    }
    if (root == null
        || !"sketchrt-golden".equals(root.path("format").asText())
        || !root.path("prompts").isArray()) {
      throw new IOException(
          golden
              + ": not a sketchrt golden file (\"format\": \"sketchrt-golden\" with \"prompts\"); "
              + "write one with python3 -m sketchrt_ref.training_time.golden");
    }
    int vocab = root.path("vocab_size").asInt(-1);
    String goldenDtype = root.path("dtype").asText("float32");
    List<PromptResult> out = new ArrayList<>();
    if (vocab <= 0 || vocab > model.card().vocabSize()) {
      throw new IOException(
          golden
              + ": vocab_size "
              + vocab
              + " does not fit the model's "
              + model.card().vocabSize());
    }
    double tol = tolerance(model.card().dtype(), goldenDtype, kernel);
    for (JsonNode p : root.get("prompts")) {
      long[] ids = longs(p.get("input_ids"), golden, "input_ids");
      double[] expected = doubles(p.get("last_logits"), golden);
      if (expected.length != vocab) {
        throw new IOException(
            golden + ": last_logits has " + expected.length + " entries, vocab_size is " + vocab);
      }
      float[] logits = model.lastLogits(ids);
      double diff = 0;
      double norm = 0;
      double max = 0;
      int argA = 0;
      int argE = 0;
      for (int i = 0; i < vocab; i++) {
        double d = logits[i] - expected[i];
        diff += d * d;
        norm += expected[i] * expected[i];
        max = Math.max(max, Math.abs(d));
        argA = logits[i] > logits[argA] ? i : argA;
        argE = expected[i] > expected[argE] ? i : argE;
      }
      List<Long> expGreedy = List.of();
      List<Long> actGreedy = List.of();
      if (p.has("greedy")) {
        long[] g = longs(p.get("greedy"), golden, "greedy");
        expGreedy = Arrays.stream(g).boxed().toList();
        actGreedy =
            greedy(model, ids, Math.max(1, g.length), root.path("stops_at_eos").asBoolean(true));
      }
      int beams = 0;
      List<Long> expBeam = List.of();
      List<Long> actBeam = List.of();
      for (var it = p.fieldNames(); it.hasNext(); ) {
        String field = it.next();
        if (field.matches("beam[0-9]+")) {
          beams = Integer.parseInt(field.substring(4));
          expBeam = Arrays.stream(longs(p.get(field), golden, field)).boxed().toList();
          actBeam = beam(model, ids, beams, root.path("max_new_tokens").asInt(expBeam.size()));
        }
      }
      out.add(
          new PromptResult(
              p.path("text").asText(""),
              ids.length,
              Math.sqrt(diff / Math.max(norm, 1e-300)),
              max,
              argA == argE,
              expGreedy,
              actGreedy,
              beams,
              expBeam,
              actBeam,
              tol));
    }
    return out;
  }

  /**
   * transformers' generate(num_beams=N, do_sample=False) with its defaults (length penalty 1, early
   * stopping off).
   */
  private static List<Long> beam(Model model, long[] ids, int beams, int maxNewTokens)
      throws SketchrtException {
    GenerationConfig cfg =
        GenerationConfig.builder().maxNewTokens(maxNewTokens).numBeams(beams).build();
    List<Long> tokens = new ArrayList<>();
    for (long t : model.generateTokens(List.of(ids), cfg).getFirst().tokens()) {
      tokens.add(t);
    }
    return tokens;
  }

  private static List<Long> greedy(Model model, long[] ids, int n, boolean stopAtEos)
      throws SketchrtException {
    GenerationConfig.Builder b = GenerationConfig.builder().maxNewTokens(n);
    if (!stopAtEos) {
      b.eosTokenIds(List.of());
    }
    try (Generator g = model.generatorForTokens(List.of(ids), b.build())) {
      GenerationResult r = g.run(null).getFirst();
      List<Long> tokens = new ArrayList<>();
      for (long t : r.tokens()) {
        tokens.add(t);
      }
      return tokens;
    }
  }

  private static long[] longs(JsonNode a, Path file, String what) throws IOException {
    if (a == null || !a.isArray() || a.isEmpty()) {
      throw new IOException(file + ": \"" + what + "\" must be a non-empty array of token ids");
    }
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong();
    }
    return out;
  }

  private static double[] doubles(JsonNode a, Path file) throws IOException {
    if (a == null || !a.isArray()) {
      throw new IOException(file + ": \"last_logits\" must be an array of numbers");
    }
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asDouble();
    }
    return out;
  }
}
