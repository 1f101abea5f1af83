package io.sketchrt.runtime;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Generates continuations of one or more prompts token by token: the prefill, then one token for
 * every running sequence per {@link #step()}. Iterate it for a stream of {@link Token}s, call
 * {@link #step()} for one pass, or {@link #run(TokenListener)} to finish. Step it from one thread
 * at a time; many generators may share a {@link Model}.
 *
 * <p>{@link #cancel()} and {@link #close()} are safe from any thread: a forward pass in flight
 * always finishes first, so the KV cache is never freed under it. A generator that is never closed
 * has its cache freed by a {@link java.lang.ref.Cleaner} once it is unreachable, with one warning.
 *
 * <p>Where the KV cache is kept in place (fp32 portable graphs on ort-cpu), a generator is a client
 * of the continuous-batching {@link Engine}: its prompts are the engine's requests, each in its own
 * slot (DESIGN section 8). Elsewhere (concat caches, TensorRT) it runs a left-padded batch through
 * one cache. Either way every prompt gets the tokens it gets alone.
 *
 * <p>With {@link GenerationConfig#numBeams()} N > 1 every prompt runs as N rows (beam search,
 * {@link BeamSearch}): N slots of the engine, or N rows of the padded batch, whose caches follow
 * their beams. The best beam is known only when a prompt's search ends, so its tokens all arrive in
 * that step.
 */
public abstract sealed class Generator implements AutoCloseable, Iterable<Token>
    permits PaddedGenerator, EngineGenerator {

  private static final Cleaner CLEANER = Cleaner.create();
  private static final System.Logger LOG = System.getLogger(Generator.class.getName());

  /** What Model.close() cancels: the state of a generation, not the Generator itself. */
  interface Tracked {
    void cancel();
  }

  final Model model;

  /** Held for a whole step: close() waits on it, so the cache outlives every pass. */
  final ReentrantLock passLock = new ReentrantLock();

  private Lifecycle lifecycle;
  private Cleaner.Cleanable cleanable;
  private volatile boolean closed;

  /**
   * What must be freed, and what Model.close() cancels: everything but the Generator itself, so the
   * Cleaner can run once the Generator is unreachable.
   */
  private static final class Lifecycle implements Runnable, Tracked {
    private final Model model;
    private final Runnable free;
    private final String description;
    volatile boolean cancelRequested;
    volatile boolean closedByUser;

    Lifecycle(Model model, Runnable free, String description) {
      this.model = model;
      this.free = free;
      this.description = description;
    }

    @Override
    public void cancel() {
      cancelRequested = true;
    }

    /** Runs once: from close(), or from the Cleaner when the Generator was dropped unclosed. */
    @Override
    public void run() {
      model.forget(this);
      if (!closedByUser) {
        LOG.log(
            System.Logger.Level.WARNING,
            "a Generator ("
                + description
                + ") was never closed: its KV cache was"
                + " freed only when the garbage collector found it; close generators (try-with-resources)");
      }
      free.run();
    }
  }

  Generator(Model model) {
    this.model = model;
  }

  /**
   * Once the generation holds native memory: {@code free} releases it (it must not reach this
   * Generator, or the Cleaner never runs), on close() or when the Generator is dropped unclosed;
   * Model.close() cancels the generation.
   */
  final void own(Runnable free, String description) {
    lifecycle = new Lifecycle(model, free, description);
    cleanable = CLEANER.register(this, lifecycle);
    model.track(lifecycle);
  }

  /** Whether cancel() was asked for (from any thread). */
  final boolean cancelRequested() {
    return lifecycle.cancelRequested;
  }

  /** Prompts in this generation. */
  public abstract int batchSize();

  /** True when every sequence has ended. */
  public abstract boolean isDone();

  /**
   * One forward pass (the prefill on the first call) and one new token for every sequence still
   * running, in row order. After {@link #cancel()} it ends every running sequence instead.
   */
  public abstract List<Token> step() throws SketchrtException;

  /** The finished sequences, in prompt order. */
  public abstract List<GenerationResult> results();

  /**
   * Asks the generation to stop; safe from any thread, idempotent. A pass in flight finishes and
   * its tokens are delivered; then every sequence still running ends with {@link
   * StopReason#CANCELLED} (beam search hands over its best hypothesis so far). No further forward
   * pass runs.
   */
  public final void cancel() {
    lifecycle.cancel();
  }

  /**
   * Cancels, waits for a pass in flight to finish, then frees the KV cache; safe from any thread,
   * idempotent.
   */
  @Override
  public final void close() {
    lifecycle.cancel();
    passLock.lock();
    try {
      if (!closed) {
        closed = true;
        lifecycle.closedByUser = true;
        cleanable.clean();
      }
    } finally {
      passLock.unlock();
    }
  }

  /** Runs to the end, handing every token to {@code listener}; returns one result per prompt. */
  public List<GenerationResult> run(TokenListener listener) throws SketchrtException {
    while (!isDone()) {
      for (Token t : step()) {
        if (listener != null) {
          listener.onToken(t);
        }
      }
    }
    return results();
  }

  /**
   * Tokens as they are generated, all rows interleaved in step order. A backend failure surfaces as
   * {@link UncheckedSketchrtException}.
   */
  @Override
  public Iterator<Token> iterator() {
    checkOpen();
    return new Iterator<>() {
      private final ArrayDeque<Token> pending = new ArrayDeque<>();

      @Override
      public boolean hasNext() {
        while (pending.isEmpty() && !isDone()) {
          try {
            pending.addAll(step());
          } catch (SketchrtException e) {
            throw new UncheckedSketchrtException(e);
          }
        }
        return !pending.isEmpty();
      }

      @Override
      public Token next() {
        if (!hasNext()) {
          throw new NoSuchElementException("the generation is done");
        }
        return pending.poll();
      }
    };
  }

  /** Throws once this generator or its model is closed. */
  final void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the generator is closed");
    }
    model.checkOpen();
  }

  /**
   * Checks what both kinds refuse alike and returns the context limit: no prompts, stop strings
   * without a tokenizer, a limit past the model's positions, an empty or too long prompt, ids
   * outside the vocabulary.
   */
  static int checkPrompts(
      Model model, Tokenizer tokenizer, List<long[]> prompts, GenerationConfig config, int vocab)
      throws SketchrtException {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts to generate from");
    }
    if (tokenizer == null && !config.stopStrings().isEmpty()) {
      throw new IllegalStateException(
          "stop strings need a tokenizer, and the model directory has none");
    }
    int maxPositions = model.card().maxPositionEmbeddings();
    if (config.contextLimit() > maxPositions) {
      throw new IllegalArgumentException(
          "context limit "
              + config.contextLimit()
              + " exceeds the model's max_position_embeddings "
              + maxPositions);
    }
    int contextLimit = config.contextLimit() == 0 ? maxPositions : config.contextLimit();
    for (long[] p : prompts) {
      if (p.length == 0) {
        throw new IllegalArgumentException("a prompt has no tokens");
      }
      if (p.length >= contextLimit) {
        throw new SketchrtException(
            "the prompt is "
                + p.length
                + " tokens, the context limit is "
                + contextLimit
                + " tokens: nothing can be generated (shorten the prompt)");
      }
      for (long id : p) {
        if (id < 0 || id >= vocab) {
          throw new IllegalArgumentException(
              "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
      }
    }
    return contextLimit;
  }
}
