package io.sketchrt.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sketchrt.format.ServeContract;
import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.StopReason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The {@code /metrics} of the server (Prometheus text format, the Prometheus Java client): requests
 * running and waiting, rows per decode step, time to the first token and per output token, tokens
 * per model, finished requests per finish reason, and the tuned sets of the running and waiting
 * requests as labels (like vLLM's {@code lora_requests_info}).
 */
final class ServerMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Histogram decodeRows =
      Histogram.builder()
          .name("sketchrt_decode_batch_rows")
          .help("Rows of the batch in each decode step")
          .classicOnly()
          .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256)
          .register(registry);
  private final Histogram timeToFirstToken =
      Histogram.builder()
          .name("sketchrt_time_to_first_token_seconds")
          .help("Seconds from a request's arrival to its first generated token")
          .classicOnly()
          .classicUpperBounds(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30)
          .register(registry);
  private final Histogram timePerOutputToken =
      Histogram.builder()
          .name("sketchrt_time_per_output_token_seconds")
          .help("Mean seconds between the output tokens of a request, after its first")
          .classicOnly()
          .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1)
          .register(registry);
  private final Counter promptTokens =
      Counter.builder()
          .name("sketchrt_prompt_tokens_total")
          .help("Prompt tokens of finished requests")
          .labelNames("model")
          .register(registry);
  private final Counter generationTokens =
      Counter.builder()
          .name("sketchrt_generation_tokens_total")
          .help("Generated tokens of finished requests")
          .labelNames("model")
          .register(registry);
  private final Counter requestSuccess =
      Counter.builder()
          .name("sketchrt_request_success_total")
          .help("Requests that ran to their end, by OpenAI finish_reason")
          .labelNames("finish_reason")
          .register(registry);
  private final Info tunedRequests =
      Info.builder()
          .name("sketchrt_tuned_requests_info")
          .help("The tuned sets of the running and the waiting requests (comma-separated)")
          .labelNames("running_tuned_sets", "waiting_tuned_sets")
          .register(registry);
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Supplier<EngineLoop> loop;

  /** {@code loop} gives null until the model is loaded. */
  ServerMetrics(Supplier<EngineLoop> loop) {
    this.loop = loop;
    GaugeWithCallback.builder()
        .name(ServeContract.REQUESTS_RUNNING)
        .help("Requests in the running batch")
        .callback(cb -> cb.call(loop.get() == null ? 0 : loop.get().running()))
        .register(registry);
    GaugeWithCallback.builder()
        .name(ServeContract.REQUESTS_WAITING)
        .help("Requests queued for the batch")
        .callback(cb -> cb.call(loop.get() == null ? 0 : loop.get().waiting()))
        .register(registry);
  }

  /** On the engine's thread, after every step. */
  void onStep(int decodeRowsInStep) {
    if (decodeRowsInStep > 0) {
      decodeRows.observe(decodeRowsInStep);
    }
  }

  void firstToken(double seconds) {
    timeToFirstToken.observe(seconds);
  }

  /** A choice that ended: its tokens, and its mean inter-token time when it had two or more. */
  void finished(String model, int prompt, int generated, StopReason reason, double perToken) {
    promptTokens.labelValues(model).inc(prompt);
    generationTokens.labelValues(model).inc(generated);
    if (reason != StopReason.CANCELLED) {
      requestSuccess.labelValues(reason.finishReason()).inc();
    }
    if (generated > 1) {
      timePerOutputToken.observe(perToken);
    }
  }

  /** The text exposition of every metric now. */
  synchronized byte[] scrape() throws IOException {
    EngineLoop l = loop.get();
    // setLabelValues replaces the one sample: the sets now, not every pair seen so far
    tunedRequests.setLabelValues(
        l == null ? "" : join(l.runningTunedSets()), l == null ? "" : join(l.queuedTunedSets()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.write(out, registry.scrape());
    return out.toByteArray();
  }

  static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  private static String join(List<String> sets) {
    return String.join(",", sets.stream().distinct().sorted().toList());
  }
}
