package io.sketchrt.runtime;

import io.sketchrt.format.FormatException;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A converted model directory ({@code sketchrt convert} output) loaded once on one backend: the
 * graph session, the model card and, when present, the tokenizer. Thread-safe: share one Model;
 * each {@link Generator} has its own KV cache, and generators may run concurrently.
 *
 * <p>{@link #close()} (idempotent, from any thread) <b>cancels</b> the generations still running on
 * the model and waits only for their forward passes in flight: those finish, deliver their tokens
 * and end their sequences with {@link StopReason#CANCELLED}. Then the graph session and the
 * tokenizer are freed; a later step of any generator fails with {@link IllegalStateException}.
 * Memory a running pass uses is never freed under it.
 */
public final class Model implements AutoCloseable {
  private final Path directory;
  private final ModelCard card;
  private final String backendName;
  private final DecoderSession session;
  private final Tokenizer tokenizer;
  private volatile boolean closed;

  /** Read-held by every generation step and tokenizer call; close() takes it for writing. */
  private final ReentrantReadWriteLock passes = new ReentrantReadWriteLock();

  /**
   * Generations to cancel on close(); their NativeState, not the Generators (those stay
   * collectable).
   */
  private final Set<Generator.NativeState> generations = ConcurrentHashMap.newKeySet();

  /** A section in which the model's native resources stay open. */
  interface Pass extends AutoCloseable {
    @Override
    void close();
  }

  Model(
      Path directory,
      ModelCard card,
      String backendName,
      DecoderSession session,
      Tokenizer tokenizer) {
    this.directory = directory;
    this.card = card;
    this.backendName = backendName;
    this.session = session;
    this.tokenizer = tokenizer;
  }

  /** Loads {@code dir} on the default backend, {@code ort-cpu}. */
  public static Model load(Path dir) throws SketchrtException {
    return load(dir, LoadOptions.defaults());
  }

  /** Loads {@code dir} on the named backend ({@code ort-cpu}, {@code ort-cuda}, ...). */
  public static Model load(Path dir, String backendName) throws SketchrtException {
    return load(dir, LoadOptions.defaults().withBackend(backendName));
  }

  /** Loads {@code dir} with explicit options (backend and its typed options). */
  public static Model load(Path dir, LoadOptions options) throws SketchrtException {
    ModelCard card;
    try {
      card = ModelCard.read(dir);
    } catch (FormatException e) {
      throw new SketchrtException(e.getMessage(), e);
    }
    Backend backend = Backends.find(options.backend());
    Tokenizer tokenizer = Files.exists(dir.resolve("tokenizer.json")) ? Tokenizer.load(dir) : null;
    try {
      return new Model(dir, card, backend.name(), backend.open(card, dir, options), tokenizer);
    } catch (SketchrtException | RuntimeException e) {
      if (tokenizer != null) {
        tokenizer.close();
      }
      throw e;
    }
  }

  public ModelCard card() {
    return card;
  }

  public Path directory() {
    return directory;
  }

  public String backendName() {
    return backendName;
  }

  public boolean hasTokenizer() {
    return tokenizer != null;
  }

  /**
   * The model's tokenizer; {@link IllegalStateException} when the directory has no tokenizer.json.
   */
  public Tokenizer tokenizer() {
    checkOpen();
    if (tokenizer == null) {
      throw new IllegalStateException(
          "no tokenizer.json in " + directory + ": only token-id prompts can be used");
    }
    return tokenizer;
  }

  /**
   * EOS ids used unless a config overrides them: generation_config.json's, else the model card's.
   */
  public List<Integer> eosTokenIds() {
    if (tokenizer != null && !tokenizer.eosTokenIds().isEmpty()) {
      return tokenizer.eosTokenIds();
    }
    return card.eosTokenIds();
  }

  /** Prompt tokens for plain text, BOS added as the tokenizer specifies. */
  public long[] encode(String prompt) {
    try (Pass ignored = beginPass()) {
      return tokenizer().encode(prompt, true);
    }
  }

  /**
   * Prompt tokens for a conversation rendered with the chat template, ready for the assistant's
   * turn.
   */
  public long[] encodeChat(List<ChatMessage> messages) throws SketchrtException {
    try (Pass ignored = beginPass()) {
      Tokenizer t = tokenizer();
      return t.encode(t.applyChatTemplate(messages, true), false);
    }
  }

  /** A generator over one text prompt. */
  public Generator generator(String prompt, GenerationConfig config) throws SketchrtException {
    return generatorForTokens(List.of(encode(prompt)), config);
  }

  /** A generator over several text prompts at once (left-padded into one batch). */
  public Generator generator(List<String> prompts, GenerationConfig config)
      throws SketchrtException {
    return generatorForTokens(prompts.stream().map(this::encode).toList(), config);
  }

  /** A generator over token-id prompts (one array per batch row). */
  public Generator generatorForTokens(List<long[]> prompts, GenerationConfig config)
      throws SketchrtException {
    checkOpen();
    List<Integer> eos = config.eosTokenIds() != null ? config.eosTokenIds() : eosTokenIds();
    return new Generator(this, session, tokenizer, prompts, config, eos);
  }

  /** The common call: the generated text for {@code prompt}. */
  public String generate(String prompt, GenerationConfig config) throws SketchrtException {
    return generate(prompt, config, null).text();
  }

  /** Generates for {@code prompt}, streaming each token to {@code listener} (may be null). */
  public GenerationResult generate(String prompt, GenerationConfig config, TokenListener listener)
      throws SketchrtException {
    try (Generator g = generator(prompt, config)) {
      return g.run(listener).getFirst();
    }
  }

  /** Generates for every prompt in one batch; results in prompt order. */
  public List<GenerationResult> generate(List<String> prompts, GenerationConfig config)
      throws SketchrtException {
    try (Generator g = generator(prompts, config)) {
      return g.run(null);
    }
  }

  /**
   * Runs already tokenized prompts to the end as one left-padded batch (the generator is closed
   * after).
   */
  public List<GenerationResult> generateTokens(List<long[]> prompts, GenerationConfig config)
      throws SketchrtException {
    try (Generator g = generatorForTokens(prompts, config)) {
      return g.run(null);
    }
  }

  /**
   * The logits of the last position after one forward pass over {@code prompt} (an empty cache, no
   * padding), [vocab]: what validation compares with a training-time reference.
   */
  public float[] lastLogits(long[] prompt) throws SketchrtException {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("lastLogits: the prompt is empty");
    }
    long[] mask = new long[prompt.length];
    long[] positions = new long[prompt.length];
    for (int i = 0; i < prompt.length; i++) {
      mask[i] = 1;
      positions[i] = i;
    }
    float[] logits = new float[session.vocabSize()];
    try (Pass ignored = beginPass();
        KvCache cache = session.newCache(1, prompt.length)) {
      session.forward(prompt, mask, positions, prompt.length, cache, logits);
    }
    return logits;
  }

  /**
   * Cancels running generations, waits for their passes in flight, then frees the session and
   * tokenizer.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    generations.forEach(Generator.NativeState::cancel);
    passes.writeLock().lock();
    try {
      session.close();
      if (tokenizer != null) {
        tokenizer.close();
      }
    } finally {
      passes.writeLock().unlock();
    }
  }

  /** Enters a section that uses the native session or tokenizer; fails once the model is closed. */
  Pass beginPass() {
    passes.readLock().lock();
    if (closed) {
      passes.readLock().unlock();
      throw new IllegalStateException("the model is closed");
    }
    return passes.readLock()::unlock;
  }

  void track(Generator.NativeState generation) {
    generations.add(generation);
    if (closed) {
      generation.cancel();
    }
  }

  void forget(Generator.NativeState generation) {
    generations.remove(generation);
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the model is closed");
    }
  }
}
