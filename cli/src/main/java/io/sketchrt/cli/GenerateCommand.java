package io.sketchrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.runtime.ChatMessage;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Generator;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.Model;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sketchrt generate}: streams a continuation of a prompt from a converted model. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = "Generate text from a converted model directory, streaming it to stdout.")
public final class GenerateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Converted model directory (sketchrt convert output).")
  Path model;

  @Option(names = "--prompt", paramLabel = "TEXT", description = "The prompt.")
  String prompt;

  @Option(
      names = "--input",
      paramLabel = "FILE.jsonl",
      description =
          "Instead of --prompt: one request per line (id, prompt, and optionally tuned,"
              + " max_new_tokens, temperature, top_p, seed, stop), all run batched; one JSON line"
              + " per request comes out, in input order (id, tuned, text, finish_reason,"
              + " prompt_tokens, completion_tokens).")
  Path input;

  @Option(
      names = "--output",
      paramLabel = "FILE.jsonl",
      description = "With --input: write the result lines here (must not exist) instead of stdout.")
  Path output;

  @Option(
      names = "--tuned",
      paramLabel = "NAME",
      description = "The tuned set (fine-tune) to run (default: the model's default set).")
  String tuned;

  @Option(
      names = "--max-new-tokens",
      paramLabel = "N",
      defaultValue = "128",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      paramLabel = "T",
      defaultValue = "0",
      description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-k",
      paramLabel = "K",
      defaultValue = "0",
      description = "Sample among the K most likely tokens; 0 = off.")
  int topK;

  @Option(
      names = "--top-p",
      paramLabel = "P",
      defaultValue = "1",
      description = "Nucleus sampling mass in (0, 1]; 1 = off.")
  double topP;

  @Option(
      names = "--repetition-penalty",
      paramLabel = "R",
      defaultValue = "1",
      description = "Penalty > 0 for tokens already present; 1 = off.")
  double repetitionPenalty;

  @Option(names = "--seed", paramLabel = "S", description = "Sampling seed (default: random).")
  Long seed;

  @Option(
      names = "--context-limit",
      paramLabel = "N",
      defaultValue = "0",
      description = "Most tokens of prompt + output; 0 = the model's maximum.")
  int contextLimit;

  @Option(
      names = "--stop",
      paramLabel = "TEXT",
      description = "Stop when the output contains TEXT (repeatable).")
  List<String> stops = List.of();

  @Option(
      names = "--num-beams",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Beam search with N beams (as transformers' num_beams, no sampling); 1 = off. The text arrives when the search ends.")
  int numBeams;

  @Option(
      names = "--length-penalty",
      paramLabel = "L",
      defaultValue = "1",
      description =
          "Beam search: a finished beam scores sum(log-probs) / length^L; > 0 favours longer answers (default: ${DEFAULT-VALUE}).")
  double lengthPenalty;

  @Option(
      names = "--early-stopping",
      paramLabel = "MODE",
      arity = "0..1",
      fallbackValue = "true",
      defaultValue = "false",
      description =
          "Beam search stopping as transformers' early_stopping: true (stop once N beams finished; the flag alone), false (heuristic, default) or never.")
  String earlyStopping;

  @Option(
      names = "--chat",
      description = "Wrap the prompt in the tokenizer's chat template as a user message.")
  boolean chat;

  @Option(
      names = "--json",
      description =
          "Print one JSON object {text, tokens, prefill_ms, decode_ms_per_token, tokens_per_s} instead of streaming.")
  boolean json;

  @Mixin BackendSelection backend;

  @Override
  public Integer call() throws Exception {
    GenerationConfig.Builder builder =
        GenerationConfig.builder()
            .maxNewTokens(maxNewTokens)
            .contextLimit(contextLimit)
            .temperature(temperature)
            .topK(topK)
            .topP(topP)
            .repetitionPenalty(repetitionPenalty)
            .stopStrings(stops)
            .numBeams(numBeams)
            .lengthPenalty(lengthPenalty)
            .earlyStopping(GenerationConfig.EarlyStopping.parse(earlyStopping));
    if (seed != null) {
      builder.seed(seed);
    }
    if ((prompt == null) == (input == null)) {
      throw new UsageException("give exactly one of --prompt TEXT and --input FILE.jsonl");
    }
    if (output != null && input == null) {
      throw new UsageException("--output goes with --input");
    }
    if (output != null && Files.exists(output)) {
      throw new UsageException("--output " + output + " already exists");
    }
    builder.tunedSet(tuned);
    GenerationConfig config =
        builder.build(); // rejects bad sampling values before loading anything
    if (input != null) {
      List<BatchRequest> requests = BatchRequests.read(input, config);
      try (Model m = Model.load(model, backend.toLoadOptions())) {
        requireTokenizer(m);
        if (output == null) {
          BatchRequests.run(m, requests, config, spec.commandLine().getOut());
        } else {
          Path partial = output.resolveSibling(output.getFileName() + ".partial");
          try (PrintWriter w =
              new PrintWriter(
                  Files.newBufferedWriter(partial, java.nio.charset.StandardCharsets.UTF_8))) {
            BatchRequests.run(m, requests, config, w);
          } catch (Exception e) {
            Files.deleteIfExists(partial);
            throw e;
          }
          Files.move(partial, output); // nothing half-written under the requested name
        }
      }
      return 0;
    }
    LoadOptions loadOptions = backend.toLoadOptions();
    PrintWriter out = spec.commandLine().getOut();
    try (Model m = Model.load(model, loadOptions)) {
      requireTokenizer(m);
      long[] promptTokens =
          chat ? m.encodeChat(List.of(ChatMessage.user(prompt))) : m.encode(prompt);
      GenerationResult result;
      try (Generator generator = m.generatorForTokens(List.of(promptTokens), config)) {
        result =
            generator
                .run(
                    json
                        ? null
                        : token -> {
                          out.print(token.text());
                          out.flush();
                        })
                .getFirst();
      }
      if (json) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode node = mapper.createObjectNode();
        node.put("text", result.text());
        node.putPOJO("tokens", result.tokens());
        node.put("prompt_tokens", result.promptTokens());
        node.put("stop_reason", result.stopReason().name().toLowerCase(java.util.Locale.ROOT));
        node.put("prefill_ms", result.prefillMillis());
        node.put("decode_ms_per_token", result.decodeMillisPerToken());
        node.put("tokens_per_s", result.tokensPerSecond());
        out.println(mapper.writeValueAsString(node));
      } else {
        out.println();
      }
      out.flush();
    }
    return 0;
  }

  private void requireTokenizer(Model m) throws UsageException {
    if (!m.hasTokenizer()) {
      throw new UsageException(
          model.resolve("tokenizer.json")
              + " is missing: a text prompt needs the base model's Hugging Face tokenizer next"
              + " to the converted model");
    }
  }
}
