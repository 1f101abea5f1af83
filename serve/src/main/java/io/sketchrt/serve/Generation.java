package io.sketchrt.serve;

import io.sketchrt.runtime.Engine;
import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Request;
import io.sketchrt.runtime.Token;
import io.sketchrt.runtime.TokenListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * The engine requests of one HTTP request: one per choice (prompt × n). It holds one admission
 * permit per choice until that choice ends, records the choice's timing and tokens in the metrics,
 * and, when streaming, hands every token to the request's {@link ChoiceEvents}.
 */
final class Generation {
  private final List<Engine.Handle> handles = new ArrayList<>();
  private final ChoiceEvents events;
  private final List<List<Token>> tokens; // per choice, when kept for the whole response

  /** One choice: its prompt and settings. */
  record Choice(long[] prompt, io.sketchrt.runtime.GenerationConfig config) {}

  private Generation(ChoiceEvents events, boolean keepTokens) {
    this.events = events;
    this.tokens = keepTokens ? new ArrayList<>() : null;
  }

  /**
   * Takes a permit per choice (429 when the server is full) and submits every choice. {@code
   * events} null: no streaming, the results are all that is wanted, with every choice's tokens when
   * {@code keepTokens} (their logprobs).
   */
  static Generation submit(
      EngineLoop loop,
      Semaphore admission,
      List<Choice> choices,
      String modelId,
      ServerMetrics metrics,
      ChoiceEvents events,
      boolean keepTokens) {
    if (!admission.tryAcquire(choices.size())) {
      throw ApiException.tooManyRequests(
          "the server is full (running and waiting requests at their limit): retry shortly");
    }
    Generation g = new Generation(events, keepTokens);
    long arrived = System.nanoTime();
    int submitted = 0;
    try {
      for (int i = 0; i < choices.size(); i++) {
        Choice c = choices.get(i);
        ChoiceTiming timing = new ChoiceTiming(arrived, metrics);
        int index = i;
        List<Token> kept = g.tokens == null ? null : new ArrayList<>();
        if (kept != null) {
          g.tokens.add(kept);
        }
        TokenListener listener =
            t -> {
              timing.token();
              if (kept != null) {
                kept.add(t); // read after the result completes, on the same engine thread before
              }
              if (events != null) {
                events.offerToken(index, t);
              }
            };
        Engine.Handle h =
            loop.submit(new Request(c.prompt(), c.config(), c.config().tunedSet(), listener));
        submitted++;
        g.handles.add(h);
        h.result()
            .whenComplete(
                (r, error) -> {
                  admission.release();
                  if (r != null) {
                    timing.finished(modelId, r);
                  }
                  if (events != null) {
                    events.finish(index, r, error);
                  }
                });
      }
    } catch (IllegalStateException e) { // the loop began to drain meanwhile
      g.cancel();
      admission.release(choices.size() - submitted);
      throw ApiException.unavailable("the server is shutting down: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      g.cancel();
      admission.release(choices.size() - submitted);
      throw ApiException.badRequest(null, e.getMessage());
    }
    return g;
  }

  /** Cancels every choice; each one's slot is free at the engine's next step. */
  void cancel() {
    for (Engine.Handle h : handles) {
      h.cancel();
    }
  }

  /** Every choice's tokens, in order, or null unless kept. */
  List<List<Token>> tokens() {
    return tokens;
  }

  int size() {
    return handles.size();
  }

  /** Waits for every choice's result; a failed step is a 500. */
  List<GenerationResult> results() throws InterruptedException {
    List<GenerationResult> out = new ArrayList<>();
    for (Engine.Handle h : handles) {
      CompletableFuture<GenerationResult> f = h.result();
      try {
        out.add(f.get());
      } catch (java.util.concurrent.ExecutionException e) {
        cancel();
        throw ApiException.internal("the engine failed: " + e.getCause().getMessage());
      }
    }
    return out;
  }

  /** Time to the first token and between tokens, measured on the engine's thread. */
  private static final class ChoiceTiming {
    private final long arrived;
    private final ServerMetrics metrics;
    private long first;
    private long last;

    ChoiceTiming(long arrived, ServerMetrics metrics) {
      this.arrived = arrived;
      this.metrics = metrics;
    }

    void token() {
      long now = System.nanoTime();
      if (first == 0) {
        first = now;
        metrics.firstToken((now - arrived) / 1e9);
      }
      last = now;
    }

    void finished(String modelId, GenerationResult r) {
      int n = r.tokens().length;
      double perToken = n > 1 && first != 0 ? (last - first) / 1e9 / (n - 1) : 0;
      metrics.finished(modelId, r.promptTokens(), n, r.stopReason(), perToken);
    }
  }
}
