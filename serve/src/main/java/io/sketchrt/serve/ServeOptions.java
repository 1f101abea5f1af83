package io.sketchrt.serve;

import java.time.Duration;

/**
 * How {@code sketchrt serve} runs.
 *
 * @param port 0: an ephemeral port (tests)
 * @param apiKey null: no key asked for
 * @param maxBatch rows of the running batch (the engine's KV-cache slots)
 * @param maxWaiting requests queued beyond the batch before a 429
 * @param prefillTokens prompt tokens an engine step prefills, in chunks of at most as many: more
 *     shortens the wait for a first token under load, and lengthens the decode steps it shares
 * @param allowRuntimeTuned whether {@code /v1/load_tuned} and {@code /v1/unload_tuned} are served
 * @param bufferedTokens tokens one streaming request may have waiting for its client before it is
 *     cancelled as too slow
 * @param drainGrace how long a drain lets requests in flight finish
 */
public record ServeOptions(
    String host,
    int port,
    String apiKey,
    int maxBatch,
    int maxWaiting,
    int prefillTokens,
    boolean allowRuntimeTuned,
    int bufferedTokens,
    Duration drainGrace) {

  public ServeOptions {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be in [0, 65535] (got " + port + ")");
    }
    if (maxBatch < 1) {
      throw new IllegalArgumentException("--max-batch must be at least 1 (got " + maxBatch + ")");
    }
    if (maxWaiting < 0) {
      throw new IllegalArgumentException("--max-waiting must be >= 0 (got " + maxWaiting + ")");
    }
    if (prefillTokens < 1) {
      throw new IllegalArgumentException(
          "--max-prefill-tokens must be at least 1 (got " + prefillTokens + ")");
    }
    if (bufferedTokens < 1) {
      throw new IllegalArgumentException("buffered tokens must be at least 1");
    }
    if (apiKey != null && apiKey.isEmpty()) {
      apiKey = null;
    }
  }

  /**
   * Loopback, an ephemeral port, no key, 16 rows, 64 waiting, the engine's prefill budget, 30 s of
   * grace.
   */
  public static ServeOptions defaults() {
    return new ServeOptions(
        "127.0.0.1",
        0,
        null,
        16,
        64,
        io.sketchrt.runtime.Scheduler.DEFAULT_PREFILL_TOKENS,
        false,
        4096,
        Duration.ofSeconds(io.sketchrt.format.ServeContract.DRAIN_GRACE_SECONDS));
  }

  public ServeOptions withPort(int p) {
    return new Copy(this).port(p).build();
  }

  public ServeOptions withApiKey(String key) {
    return new Copy(this).apiKey(key).build();
  }

  public ServeOptions withLimits(int batch, int waiting) {
    return new Copy(this).maxBatch(batch).maxWaiting(waiting).build();
  }

  public ServeOptions withRuntimeTuned(boolean allow) {
    return new Copy(this).allowRuntimeTuned(allow).build();
  }

  public ServeOptions withBufferedTokens(int n) {
    return new Copy(this).bufferedTokens(n).build();
  }

  public ServeOptions withDrainGrace(Duration grace) {
    return new Copy(this).drainGrace(grace).build();
  }

  /** These options with some fields changed: the one place the withers list every field. */
  private static final class Copy {
    private String host;
    private int port;
    private String apiKey;
    private int maxBatch;
    private int maxWaiting;
    private int prefillTokens;
    private boolean allowRuntimeTuned;
    private int bufferedTokens;
    private Duration drainGrace;

    Copy(ServeOptions o) {
      host = o.host;
      port = o.port;
      apiKey = o.apiKey;
      maxBatch = o.maxBatch;
      maxWaiting = o.maxWaiting;
      prefillTokens = o.prefillTokens;
      allowRuntimeTuned = o.allowRuntimeTuned;
      bufferedTokens = o.bufferedTokens;
      drainGrace = o.drainGrace;
    }

    Copy port(int p) {
      port = p;
      return this;
    }

    Copy apiKey(String k) {
      apiKey = k;
      return this;
    }

    Copy maxBatch(int n) {
      maxBatch = n;
      return this;
    }

    Copy maxWaiting(int n) {
      maxWaiting = n;
      return this;
    }

    Copy allowRuntimeTuned(boolean allow) {
      allowRuntimeTuned = allow;
      return this;
    }

    Copy bufferedTokens(int n) {
      bufferedTokens = n;
      return this;
    }

    Copy drainGrace(Duration grace) {
      drainGrace = grace;
      return this;
    }

    ServeOptions build() {
      return new ServeOptions(
          host,
          port,
          apiKey,
          maxBatch,
          maxWaiting,
          prefillTokens,
          allowRuntimeTuned,
          bufferedTokens,
          drainGrace);
    }
  }

  /** Requests the server holds at once (running plus waiting); one more is a 429. */
  int capacity() {
    return maxBatch + maxWaiting;
  }
}
