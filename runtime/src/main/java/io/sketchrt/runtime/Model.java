package io.sketchrt.runtime;

import io.sketchrt.format.FormatException;
import io.sketchrt.format.ModelCard;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import io.sketchrt.runtime.spi.TunedSlots;
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
  private final Set<Generator.Tracked> generations = ConcurrentHashMap.newKeySet();

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
    return generatorForTokens(prompts, config, null);
  }

  /**
   * A generator over token-id prompts where prompt {@code i} runs tuned set {@code tunedSets[i]}
   * (null entries, or a null list: {@link GenerationConfig#tunedSet()}, else the default set). One
   * batch may mix sets: every row gets what its own set gives alone.
   */
  public Generator generatorForTokens(
      List<long[]> prompts, GenerationConfig config, List<String> tunedSets)
      throws SketchrtException {
    checkOpen();
    if (tunedSets != null && tunedSets.size() != prompts.size()) {
      throw new IllegalArgumentException(
          tunedSets.size() + " tuned sets given for " + prompts.size() + " prompts");
    }
    List<String> names = new java.util.ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      String n = tunedSets == null ? null : tunedSets.get(i);
      names.add(n != null ? n : config.tunedSet() != null ? config.tunedSet() : defaultTunedSet());
    }
    List<Integer> eos = config.eosTokenIds() != null ? config.eosTokenIds() : eosTokenIds();
    if (kvInPlace()) { // sampling and beam search through the engine's slots
      return new EngineGenerator(this, session, tokenizer, prompts, config, eos, names);
    }
    return new PaddedGenerator(this, session, tokenizer, prompts, config, eos, names);
  }

  // ---- tuned sets (DESIGN section 3b) ----

  /** The set a request that names none runs (the one the graph holds), or null before sets. */
  public String defaultTunedSet() {
    return card.tunedSets() == null ? null : card.tunedSets().defaultSet();
  }

  /**
   * The tuned sets this model can run now: those resident in its LUT slots, or only the default one
   * when the backend runs the graph's own LUTs (the folded fallback, GPU backends).
   */
  public List<String> tunedSets() {
    checkOpen();
    TunedSlots slots = session.tunedSlots();
    if (slots != null) {
      return slots.loaded();
    }
    String d = defaultTunedSet();
    return d == null ? List.of() : List.of(d);
  }

  /**
   * Loads tuned set {@code name} from a set file ({@code tuned/NAME.safetensors}, as {@code
   * sketchrt tuned add} writes it) into a free LUT slot, between forward passes; generations in
   * flight go on. Only the set's own LUTs are read.
   */
  public void loadTunedSet(String name, Path setFile) throws SketchrtException {
    String problem = io.sketchrt.format.TunedSets.nameProblem(name);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    slots("load tuned sets").load(name, setFile);
  }

  /** Loads a set the model's card lists (added with {@code sketchrt tuned add}) by its name. */
  public void loadTunedSet(String name) throws SketchrtException {
    io.sketchrt.format.TunedSets sets = card.tunedSets();
    var entry =
        sets == null
            ? java.util.Optional.<io.sketchrt.format.TunedSets.Entry>empty()
            : sets.find(name);
    if (entry.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown tuned set '"
              + name
              + "': "
              + directory
              + " lists "
              + (sets == null ? "none" : String.join(", ", sets.names())));
    }
    loadTunedSet(name, directory.resolve(entry.get().file()));
  }

  /**
   * Unloads {@code name}; generations that run it keep it until they end. The default set stays.
   */
  public void unloadTunedSet(String name) {
    if (name.equals(defaultTunedSet())) {
      throw new IllegalArgumentException(
          "'" + name + "' is the model's default tuned set: it stays loaded");
    }
    try {
      slots("unload tuned sets").unload(name);
    } catch (SketchrtException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /**
   * A continuous-batching engine over this model (DESIGN section 8); the caller drives its steps.
   * Needs a KV cache kept in place (fp32 portable conversions on ort-cpu).
   */
  public Engine engine(Scheduler scheduler) throws SketchrtException {
    checkOpen();
    return new Engine(this, session, scheduler);
  }

  /**
   * Resident KV-cache bytes per cached position of one row (a slot): keys and values of every
   * layer, times the copies the backend keeps (1 in place, 2 double-buffered).
   */
  public long kvBytesPerToken() {
    ModelCard c = card();
    int element = c.dtype().bytes();
    return 2L * c.numLayers() * c.numKeyValueHeads() * c.headDim() * element * session.kvCopies();
  }

  /**
   * True when keys and values are updated in place (the graph's GroupQueryAttention, ort-cpu): no
   * pass copies the past, and each row keeps its own length.
   */
  public boolean kvInPlace() {
    return session.kvCopies() == 1;
  }

  /** Bytes of LUT memory one resident tuned set takes (0 without slots). */
  public long tunedSetBytes() {
    TunedSlots slots = session.tunedSlots();
    return slots == null ? 0 : slots.bytesPerSlot();
  }

  private TunedSlots slots(String what) throws SketchrtException {
    checkOpen();
    TunedSlots slots = session.tunedSlots();
    if (slots == null) {
      throw new SketchrtException(
          "cannot "
              + what
              + ": "
              + directory
              + (card.tunedSets() == null
                  ? " was converted before tuned sets existed (convert it again)"
                  : " runs on "
                      + backendName
                      + " without the sketch kernel, which runs only the graph's default set"));
    }
    return slots;
  }

  /**
   * The slot of each prompt's set, held until the generation ends (null: every prompt runs the
   * graph's own LUTs); unknown sets fail with the loaded ones named.
   */
  int[] acquireSlots(List<String> names) throws SketchrtException {
    TunedSlots slots = session.tunedSlots();
    if (slots == null) {
      String d = defaultTunedSet();
      for (String n : names) {
        if (n != null && !n.equals(d)) {
          throw new SketchrtException(
              "unknown tuned set '"
                  + n
                  + "'"
                  + (card.tunedSets() != null && card.tunedSets().find(n).isPresent()
                      ? ": "
                          + backendName
                          + " without the sketch kernel runs only the default set '"
                          + d
                          + "'"
                      : " ("
                          + directory
                          + " has: "
                          + (d == null ? "no tuned sets" : String.join(", ", tunedSets()))
                          + ")"));
        }
      }
      return null;
    }
    int[] acquired = new int[names.size()];
    int done = 0;
    try {
      for (; done < names.size(); done++) {
        try {
          acquired[done] = slots.acquire(names.get(done));
        } catch (IllegalArgumentException e) {
          throw new SketchrtException(e.getMessage() + " in " + directory, e);
        }
      }
    } finally {
      if (done < names.size()) {
        for (int i = 0; i < done; i++) {
          slots.release(acquired[i]);
        }
      }
    }
    return acquired;
  }

  void releaseSlots(int[] acquired) {
    TunedSlots slots = session.tunedSlots();
    if (slots != null && acquired != null) {
      for (int s : acquired) {
        slots.release(s);
      }
    }
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
    return generateTokens(prompts, config, null);
  }

  /** The same, prompt {@code i} running tuned set {@code tunedSets.get(i)} (see above). */
  public List<GenerationResult> generateTokens(
      List<long[]> prompts, GenerationConfig config, List<String> tunedSets)
      throws SketchrtException {
    try (Generator g = generatorForTokens(prompts, config, tunedSets)) {
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
    generations.forEach(Generator.Tracked::cancel);
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

  void track(Generator.Tracked generation) {
    generations.add(generation);
    if (closed) {
      generation.cancel();
    }
  }

  void forget(Generator.Tracked generation) {
    generations.remove(generation);
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the model is closed");
    }
  }
}
