package io.sketchrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.OrtOptions;
import io.sketchrt.runtime.Scheduler;
import io.sketchrt.validation.accuracy.Tolerance;
import io.sketchrt.validation.bench.ContextGrowth;
import io.sketchrt.validation.bench.DecodeFloor;
import io.sketchrt.validation.bench.EngineBench;
import io.sketchrt.validation.bench.GenerateBench;
import io.sketchrt.validation.bench.WeightTraffic;
import io.sketchrt.validation.latency.LatencySamples;
import io.sketchrt.validation.latency.LatencySettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sketchrt bench}: generation speed and a memory soak on a converted model. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure prefill/decode speed of a converted model and soak it for memory growth.")
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Converted model directory.")
  Path model;

  @Mixin BackendSelection backend;

  @Option(
      names = "--prompt-tokens",
      defaultValue = "128",
      paramLabel = "N",
      description = "Prompt length for prefill/decode throughput (default: ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(
      names = "--new-tokens",
      defaultValue = "64",
      paramLabel = "N",
      description = "Tokens generated per run (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(
      names = "--contexts",
      defaultValue = "32,512",
      split = ",",
      paramLabel = "C",
      description = "Contexts for the per-token decode time (default: ${DEFAULT-VALUE}).")
  List<Integer> contexts;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      paramLabel = "R",
      description = "Timed runs per figure; the median is printed (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--soak",
      defaultValue = "0",
      paramLabel = "N",
      description = "Also run N generations and print VmRSS at start and end (0 = skip).")
  int soak;

  @Option(
      names = "--json",
      paramLabel = "FILE",
      description =
          "Also write the speed figures to FILE as JSON (the layout of the Python reference's bench), with every repeat under \"latency\": a baseline for 'validate --latency-baseline'.")
  Path json;

  @Option(names = "--soak-only", description = "Skip the speed figures.")
  boolean soakOnly;

  @Option(
      names = "--batch",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Also decode N rows per step (cycling over --tuned sets); the figure counts the tokens"
              + " of all rows (default: ${DEFAULT-VALUE}, off).")
  int batchRows;

  @Option(
      names = "--tuned",
      split = ",",
      paramLabel = "A,B,...",
      description = "Tuned sets the --batch rows cycle over (default: the model's default set).")
  List<String> tuned = new ArrayList<>();

  @Option(
      names = "--engine",
      split = ",",
      paramLabel = "N,...",
      description =
          "Continuous batching (KV in place): aggregate throughput at N concurrent requests of"
              + " mixed prompt lengths, interleaved rounds (e.g. 1,4,8,16; --new-tokens each).")
  List<Integer> engine = new ArrayList<>();

  @Option(
      names = "--ttft-prompt",
      paramLabel = "TOKENS",
      description =
          "Continuous batching: time to first token of an 8-token request while a prompt of"
              + " TOKENS is prefilled and 4 rows decode, in decode steps (default: off).")
  int ttftPrompt;

  @Override
  public Integer call() throws Exception {
    if (batchRows < 1) {
      throw new IllegalArgumentException("bench: --batch must be >= 1");
    }
    if (promptTokens < 1
        || newTokens < 2
        || repeats < 1
        || soak < 0
        || contexts.stream().anyMatch(c -> c < 1)) {
      throw new IllegalArgumentException(
          "bench: --prompt-tokens, --contexts and --repeats must be >= 1, --new-tokens >= 2, --soak >= 0");
    }
    LoadOptions loadOptions = backend.toLoadOptions();
    if (!tuned.isEmpty()) {
      // one spare slot: the bench times loading a set at run time
      ModelCard onDisk = ModelCard.read(model);
      int sets = onDisk.tunedSets() == null ? 1 : onDisk.tunedSets().sets().size();
      loadOptions =
          loadOptions.with(
              loadOptions.get(OrtOptions.class, OrtOptions::defaults).withTunedSlots(sets + 1));
    }
    int threads = loadOptions.get(OrtOptions.class, OrtOptions::defaults).intraOpThreads();
    PrintWriter out = spec.commandLine().getOut();
    try (Model m = Model.load(model, loadOptions)) {
      ModelCard c = m.card();
      out.printf(
          "model: %s (%s, %d layers, hidden %d, vocab %d, %s, target %s) on %s, %s threads, %d CPUs; VmRSS after load %s%n",
          model,
          c.architecture(),
          c.numLayers(),
          c.hiddenSize(),
          c.vocabSize(),
          c.dtype().id(),
          c.target().id(),
          m.backendName(),
          threads == 0 ? "default" : String.valueOf(threads),
          Runtime.getRuntime().availableProcessors(),
          GenerateBench.rss());
      GenerateBench bench = new GenerateBench(m, out, repeats);
      if (!soakOnly) {
        GenerateBench.Throughput t = bench.throughput(promptTokens, newTokens);
        double gbs = Double.NaN;
        if (m.backendName().equals("ort-cpu")) {
          gbs =
              DecodeFloor.bandwidth(
                  threads > 0 ? threads : Runtime.getRuntime().availableProcessors(), out);
          DecodeFloor.report(
              out,
              gbs,
              DecodeFloor.bytesPerToken(
                  WeightTraffic.of(model.resolve(c.modelFile())), Tolerance.kernel(loadOptions)),
              t.decodeTokensPerSecond());
        }
        List<GenerateBench.ContextDecode> perContext = new ArrayList<>();
        for (int context : contexts) {
          perContext.add(bench.decodeAtContext(context, Math.min(newTokens, 16)));
        }
        long resident = m.kvBytesPerToken();
        ContextGrowth.report(
            out,
            m.kvInPlace() ? "in place (one copy)" : "concat (two copies: past and present)",
            resident,
            m.kvInPlace() ? resident : resident / 2,
            c.maxPositionEmbeddings(),
            perContext,
            gbs);
        if (batchRows > 1 || !tuned.isEmpty()) {
          List<String> sets = new ArrayList<>();
          for (int r = 0; r < Math.max(1, batchRows); r++) {
            sets.add(tuned.isEmpty() ? m.defaultTunedSet() : tuned.get(r % tuned.size()));
          }
          bench.batchDecode(promptTokens, newTokens, sets);
          if (!tuned.isEmpty() && c.tunedSets() != null) {
            var entry = c.tunedSets().find(tuned.getFirst());
            if (entry.isPresent()) {
              long start = System.nanoTime();
              m.loadTunedSet("bench-load-probe", model.resolve(entry.get().file()));
              double ms = (System.nanoTime() - start) / 1e6;
              m.unloadTunedSet("bench-load-probe");
              out.printf(
                  "tuned set load at run time: %.1f ms (%s: %.1f MB on disk, %.1f MB resident per set)%n",
                  ms, entry.get().name(), entry.get().bytes() / 1e6, m.tunedSetBytes() / 1e6);
            }
          }
        }
        if ((!engine.isEmpty() || ttftPrompt > 0) && !m.kvInPlace()) {
          out.println(
              "engine: skipped, the model's KV cache is not in place (an fp32 portable conversion"
                  + " on ort-cpu has it)");
        } else if (!engine.isEmpty() || ttftPrompt > 0) {
          if (engine.stream().anyMatch(n -> n < 1 || n > 64) || ttftPrompt < 0) {
            throw new IllegalArgumentException(
                "bench: --engine takes 1..64 requests, --ttft-prompt >= 0 tokens");
          }
          int rows = Math.max(5, engine.stream().mapToInt(Integer::intValue).max().orElse(1));
          Scheduler s = new Scheduler(rows, 32, 32);
          EngineBench eb = new EngineBench(m, out, s);
          if (!engine.isEmpty()) {
            eb.throughput(engine, newTokens, repeats);
          }
          if (ttftPrompt > 0) {
            eb.timeToFirstToken(ttftPrompt, 8, 4, repeats);
          }
        }
        if (json != null) {
          writeJson(m, loadOptions, t, perContext);
        }
      }
      if (soak > 0) {
        bench.soak(soak, Math.min(promptTokens, 32), Math.min(newTokens, 32));
      }
    }
    return 0;
  }

  private void writeJson(
      Model m,
      LoadOptions loadOptions,
      GenerateBench.Throughput t,
      List<GenerateBench.ContextDecode> perContext)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode();
    root.put("implementation", "sketchrt-java")
        .put("backend", m.backendName())
        .put("model", model.toAbsolutePath().toString())
        .put("cpus", Runtime.getRuntime().availableProcessors())
        .put(
            "intra_op_threads",
            loadOptions.get(OrtOptions.class, OrtOptions::defaults).intraOpThreads());
    root.putObject("prefill")
        .put("tokens", t.promptTokens())
        .put("ms", t.prefillMillis())
        .put("tokens_per_s", t.prefillTokensPerSecond());
    root.putObject("decode")
        .put("prompt_tokens", t.promptTokens())
        .put("new_tokens", t.newTokens())
        .put("ms_per_token", t.decodeMillisPerToken())
        .put("tokens_per_s", t.decodeTokensPerSecond());
    ArrayNode list = root.putArray("contexts");
    for (GenerateBench.ContextDecode c : perContext) {
      list.addObject()
          .put("context", c.context())
          .put("new_tokens", c.newTokens())
          .put("ms_per_token", c.millisPerToken());
    }
    LatencySamples samples =
        new LatencySamples(
            LatencySettings.of(m, loadOptions, t.promptTokens(), t.newTokens()),
            t.decodeSamples(),
            t.prefillSamples());
    LatencySamples.write(
        json, root, samples); // the "latency" object is what validate --latency-baseline reads
  }
}
