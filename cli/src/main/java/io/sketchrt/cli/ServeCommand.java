package io.sketchrt.cli;

import io.sketchrt.format.ServeContract;
import io.sketchrt.runtime.Model;
import io.sketchrt.serve.OpenAiServer;
import io.sketchrt.serve.ServeOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt serve}: the OpenAI-compatible HTTP server (module serve) over one model. SIGTERM
 * or SIGINT drains: new requests get 503, those in flight finish within the grace, exit 0.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve a converted model over the OpenAI HTTP API: POST /v1/completions,"
          + " /v1/chat/completions (streaming with SSE), GET /v1/models (one model per tuned set),"
          + " /health, /metrics (Prometheus).",
      "The request's 'model' picks the tuned set; requests of different sets share decode steps."
    })
public final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Converted model directory (an fp32 portable conversion: the engine's).")
  Path model;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      paramLabel = "ADDR",
      description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every one).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "" + ServeContract.PORT,
      paramLabel = "PORT",
      description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(
      names = "--api-key",
      defaultValue = "${env:SKETCHRT_API_KEY}",
      paramLabel = "KEY",
      description =
          "Require 'Authorization: Bearer KEY' on /v1 (default: env SKETCHRT_API_KEY; none: open).")
  String apiKey;

  @Option(
      names = "--max-batch",
      defaultValue = "16",
      paramLabel = "ROWS",
      description = "Rows of the running batch (KV-cache slots) (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-waiting",
      defaultValue = "64",
      paramLabel = "N",
      description =
          "Requests queued beyond the batch; one more gets 429 with Retry-After (default:"
              + " ${DEFAULT-VALUE}).")
  int maxWaiting;

  @Option(
      names = "--max-prefill-tokens",
      defaultValue = "" + io.sketchrt.runtime.Scheduler.DEFAULT_PREFILL_TOKENS,
      paramLabel = "N",
      description =
          "Prompt tokens one engine step prefills, in chunks of at most N: more shortens the wait"
              + " for a first token under load and lengthens the steps decoding rows share"
              + " (default: ${DEFAULT-VALUE}).")
  int maxPrefillTokens;

  @Option(
      names = "--allow-runtime-tuned",
      description = "Serve POST /v1/load_tuned and /v1/unload_tuned (off by default).")
  boolean allowRuntimeTuned;

  @Option(
      names = "--drain-seconds",
      defaultValue = "" + ServeContract.DRAIN_GRACE_SECONDS,
      paramLabel = "S",
      description =
          "On SIGTERM, how long requests in flight may take to finish (default: ${DEFAULT-VALUE}).")
  int drainSeconds;

  @Mixin BackendSelection backend;

  @Override
  public Integer call() throws Exception {
    if (drainSeconds < 0) {
      throw new UsageException("--drain-seconds must be >= 0 (got " + drainSeconds + ")");
    }
    ServeOptions options =
        new ServeOptions(
            host,
            port,
            apiKey,
            maxBatch,
            maxWaiting,
            maxPrefillTokens,
            allowRuntimeTuned,
            ServeOptions.defaults().bufferedTokens(),
            Duration.ofSeconds(drainSeconds));
    PrintWriter out = spec.commandLine().getOut();
    CountDownLatch stop = new CountDownLatch(1);
    try (OpenAiServer server = OpenAiServer.start(options)) {
      String url = "http://" + host + ":" + server.address().getPort();
      out.println("sketchrt serve: listening on " + url + ", loading " + model + " ...");
      out.flush();
      try (Model m = Model.load(model, backend.toLoadOptions())) {
        server.serve(m);
        // Our own handlers instead of the JVM's: a SIGTERM then drains and the command returns 0,
        // where a shutdown hook would leave the JVM's exit status 143.
        for (String signal : new String[] {"TERM", "INT"}) {
          sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.countDown());
        }
        out.println(
            "sketchrt serve: ready on "
                + url
                + "/v1 (models: "
                + String.join(
                    ", ", m.tunedSets().isEmpty() ? java.util.List.of("the base") : m.tunedSets())
                + ")");
        out.flush();
        stop.await();
        out.println("sketchrt serve: draining (up to " + drainSeconds + " s) ...");
        out.flush();
        boolean clean = server.drain(options.drainGrace());
        out.println(
            "sketchrt serve: "
                + (clean ? "every request finished" : "the grace ran out: the rest was cancelled")
                + "; stopped");
        out.flush();
        server.close(); // the engine before its model
      }
    }
    return ExitCodes.OK;
  }
}
