package io.sketchrt.runtime;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face {@code tokenizer.json} (run by DJL's binding of the Rust {@code tokenizers}
 * library) plus the special tokens and chat template of {@code tokenizer_config.json} and {@code
 * generation_config.json}. Thread-safe; {@link #close()} is idempotent.
 *
 * <p>Native safety: {@code tokenizer.json} is checked before the library sees it ({@link
 * TokenizerJsonCheck}); texts and id lists are bounded before each call; and {@link #close()} waits
 * for calls in flight, so closing while other threads encode gives them an {@link
 * IllegalStateException}, never a use-after-free.
 */
public final class Tokenizer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  static {
    useBundledNativeLibrary();
  }

  private final HuggingFaceTokenizer hf;
  private final Integer bosTokenId;
  private final String bosToken;
  private final String eosToken;
  private final List<Integer> eosTokenIds;
  private final Boolean addBosToken;
  private final ChatTemplate chatTemplate;
  private final java.util.BitSet byteTokens;

  /** The tokenizer.json it was loaded from, for messages. */
  private final Path file;

  private volatile boolean closed;

  /** Native calls hold the read lock; {@link #close()} takes the write lock before freeing. */
  private final java.util.concurrent.locks.ReentrantReadWriteLock lifecycle =
      new java.util.concurrent.locks.ReentrantReadWriteLock();

  /**
   * Longest text encoded in one call: four characters per token of a 1M-token context. Bounds the
   * time and memory a single call can take; longer input is refused before the native call.
   */
  public static final int MAX_TEXT_CHARS = 1 << 22;

  /** Longest id list decoded in one call (a 1M-token context, four times over). */
  public static final int MAX_DECODE_IDS = 1 << 22;

  /**
   * How long {@link #close()} waits for calls in flight before leaving the native side to the OS.
   */
  static final long CLOSE_WAIT_SECONDS = 30;

  private Tokenizer(
      HuggingFaceTokenizer hf,
      JsonNode tokConfig,
      JsonNode genConfig,
      java.util.BitSet byteTokens,
      Path dir)
      throws SketchrtException {
    this.hf = hf;
    this.byteTokens = byteTokens;
    this.file = dir.resolve("tokenizer.json");
    this.bosToken = tokenText(tokConfig.get("bos_token"));
    this.eosToken = tokenText(tokConfig.get("eos_token"));
    this.addBosToken =
        tokConfig.hasNonNull("add_bos_token") ? tokConfig.get("add_bos_token").asBoolean() : null;
    Integer bos =
        genConfig.path("bos_token_id").isInt() ? genConfig.get("bos_token_id").asInt() : null;
    if (bos == null && bosToken != null) {
      bos = idOf(bosToken).orElse(null);
    }
    this.bosTokenId = bos;
    List<Integer> eos = new ArrayList<>();
    JsonNode eosNode = genConfig.path("eos_token_id");
    if (eosNode.isArray()) {
      eosNode.forEach(n -> eos.add(n.asInt()));
    } else if (eosNode.isInt()) {
      eos.add(eosNode.asInt());
    } else if (eosToken != null) {
      idOf(eosToken).ifPresent(eos::add);
    }
    this.eosTokenIds = List.copyOf(eos);
    String template =
        tokConfig.path("chat_template").isTextual()
            ? tokConfig.get("chat_template").asText()
            : null;
    this.chatTemplate =
        template == null ? null : new ChatTemplate(template, dir.resolve("tokenizer_config.json"));
  }

  /**
   * Loads {@code dir/tokenizer.json} and, when present, {@code tokenizer_config.json} and {@code
   * generation_config.json}. Offline: the native library comes from the DJL jar.
   */
  public static Tokenizer load(Path dir) throws SketchrtException {
    Path json = dir.resolve("tokenizer.json");
    if (!Files.exists(json)) {
      throw new SketchrtException(
          "no tokenizer.json in "
              + dir
              + ": text prompts need the Hugging Face tokenizer next to the model");
    }
    requireRegularFile(json);
    JsonNode tokConfig = readOptional(dir.resolve("tokenizer_config.json"));
    JsonNode genConfig = readOptional(dir.resolve("generation_config.json"));
    JsonNode tokenizerJson = readOptional(json);
    TokenizerJsonCheck.check(json, tokenizerJson);
    java.util.BitSet byteTokens = byteFallbackTokens(tokenizerJson.path("model"));
    tokenizerJson = null; // a large vocabulary: let it go before the library reads the file again
    HuggingFaceTokenizer hf;
    try {
      // No truncation or padding: the generator checks the context limit itself.
      hf =
          HuggingFaceTokenizer.newInstance(
              json, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    } catch (IOException | RuntimeException e) {
      throw new SketchrtException(
          json + ": cannot load the tokenizer (" + SketchrtException.firstLine(e) + ")", e);
    }
    try {
      return new Tokenizer(hf, tokConfig, genConfig, byteTokens, dir);
    } catch (SketchrtException | RuntimeException e) {
      hf.close();
      throw e;
    }
  }

  /**
   * Token ids of {@code text}. With {@code addSpecialTokens} the tokenizer's post-processor adds
   * BOS; {@code add_bos_token} in tokenizer_config.json overrides what it decided.
   */
  public long[] encode(String text, boolean addSpecialTokens) {
    if (text.length() > MAX_TEXT_CHARS) {
      throw new UncheckedSketchrtException(
          new SketchrtException(
              "the text is "
                  + text.length()
                  + " characters; the tokenizer takes at most "
                  + MAX_TEXT_CHARS
                  + " in one call"));
    }
    long[] ids = encodeRaw(text, addSpecialTokens);
    if (!addSpecialTokens || addBosToken == null || bosTokenId == null) {
      return ids;
    }
    boolean startsWithBos = ids.length > 0 && ids[0] == bosTokenId;
    if (addBosToken && !startsWithBos) {
      long[] withBos = new long[ids.length + 1];
      withBos[0] = bosTokenId;
      System.arraycopy(ids, 0, withBos, 1, ids.length);
      return withBos;
    }
    if (!addBosToken && startsWithBos && (bosToken == null || !text.startsWith(bosToken))) {
      return Arrays.copyOfRange(ids, 1, ids.length);
    }
    return ids;
  }

  /** Text of {@code ids}, special tokens left out. Byte-fallback pieces are joined into UTF-8. */
  public String decode(long[] ids) {
    if (ids.length > MAX_DECODE_IDS) {
      throw new IllegalArgumentException(
          ids.length + " ids to decode; at most " + MAX_DECODE_IDS + " in one call");
    }
    var read = lifecycle.readLock();
    read.lock();
    try {
      checkOpen();
      return hf.decode(ids, true);
    } finally {
      read.unlock();
    }
  }

  /**
   * The text each of {@code ids} would add after token {@code previous} (-1: none), special tokens
   * spelled out: tokens' own texts for logprobs (the chosen one and its alternatives, after the
   * same token). Decoding in context keeps the leading space that decoding a token alone would
   * strip (SentencePiece's "▁the" is " the" after a word).
   */
  public String[] tokenTexts(long previous, long[] ids) {
    var read = lifecycle.readLock();
    read.lock();
    try {
      checkOpen();
      String head = previous < 0 ? null : hf.decode(new long[] {previous}, false);
      String[] out = new String[ids.length];
      for (int i = 0; i < ids.length; i++) {
        String pair = head == null ? null : hf.decode(new long[] {previous, ids[i]}, false);
        out[i] =
            pair != null && pair.startsWith(head)
                ? pair.substring(head.length())
                : hf.decode(new long[] {ids[i]}, false);
      }
      return out;
    } finally {
      read.unlock();
    }
  }

  private long[] encodeRaw(String text, boolean addSpecialTokens) {
    var read = lifecycle.readLock();
    read.lock();
    try {
      checkOpen();
      try {
        return hf.encode(text, addSpecialTokens, false).getIds();
      } catch (RuntimeException e) {
        // The library's own refusal (e.g. a Unigram model without unk_id meeting an unknown
        // character): a property of the user's tokenizer.json, not a bug here.
        throw new UncheckedSketchrtException(
            new SketchrtException(file + " cannot encode the text: " + e.getMessage(), e));
      }
    } finally {
      read.unlock();
    }
  }

  /** True for the {@code <0xNN>} tokens of a byte-fallback vocabulary (SentencePiece-style). */
  public boolean isByteFallbackToken(long id) {
    return id >= 0 && id < Integer.MAX_VALUE && byteTokens.get((int) id);
  }

  /** True when tokenizer_config.json carries a {@code chat_template}. */
  public boolean hasChatTemplate() {
    return chatTemplate != null;
  }

  /**
   * Renders the chat template over {@code messages} (HF {@code apply_chat_template(...,
   * tokenize=False)}); encode the result with {@code addSpecialTokens = false}.
   */
  public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt)
      throws SketchrtException {
    checkOpen();
    if (chatTemplate == null) {
      throw new IllegalStateException(
          "the tokenizer has no chat_template in tokenizer_config.json");
    }
    return chatTemplate.render(
        messages,
        addGenerationPrompt,
        bosToken == null ? "" : bosToken,
        eosToken == null ? "" : eosToken);
  }

  /** BOS id from generation_config.json or tokenizer_config.json, or null. */
  public Integer bosTokenId() {
    return bosTokenId;
  }

  /** EOS ids from generation_config.json (else tokenizer_config.json's eos_token); may be empty. */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  /**
   * Frees the native tokenizer once no call is using it. Calls that start afterwards throw {@link
   * IllegalStateException}. If a call is still running after {@link #CLOSE_WAIT_SECONDS}, the
   * native tokenizer is left allocated (freed at exit) rather than freed under it.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true; // new calls fail from here on
    var write = lifecycle.writeLock();
    boolean locked = false;
    try {
      locked = write.tryLock(CLOSE_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (locked) {
      try {
        hf.close();
      } finally {
        write.unlock();
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the tokenizer is closed");
    }
  }

  private Optional<Integer> idOf(String token) {
    long[] ids = encodeRaw(token, false);
    return ids.length == 1 ? Optional.of((int) ids[0]) : Optional.empty();
  }

  /** Special tokens are stored either as a string or as an AddedToken object with "content". */
  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isTextual() ? node.asText() : node.path("content").asText(null);
  }

  /**
   * Ids of "<0xNN>" vocabulary entries when the model uses byte fallback (BPE: token->id map,
   * Unigram: list).
   */
  private static java.util.BitSet byteFallbackTokens(JsonNode model) {
    java.util.BitSet ids = new java.util.BitSet();
    if (!model.path("byte_fallback").asBoolean(false)) {
      return ids;
    }
    JsonNode vocab = model.path("vocab");
    if (vocab.isObject()) {
      vocab
          .properties()
          .forEach(
              e -> {
                if (isByteToken(e.getKey())) {
                  ids.set(e.getValue().asInt());
                }
              });
    } else if (vocab.isArray()) {
      for (int i = 0; i < vocab.size(); i++) {
        if (isByteToken(vocab.get(i).path(0).asText())) {
          ids.set(i);
        }
      }
    }
    return ids;
  }

  private static boolean isByteToken(String token) {
    return token.length() == 6
        && token.startsWith("<0x")
        && token.endsWith(">")
        && Character.digit(token.charAt(3), 16) >= 0
        && Character.digit(token.charAt(4), 16) >= 0;
  }

  private static JsonNode readOptional(Path file) throws SketchrtException {
    if (!Files.exists(file)) {
      return JSON.createObjectNode();
    }
    requireRegularFile(file);
    try {
      JsonNode node = JSON.readTree(file.toFile());
      return node == null ? JSON.createObjectNode() : node;
    } catch (IOException e) {
      throw new SketchrtException(
          file + ": not valid JSON (" + SketchrtException.firstLine(e) + ")", e);
    }
  }

  /** Opening a FIFO would block until a writer appears: refuse anything but a plain file. */
  private static void requireRegularFile(Path file) throws SketchrtException {
    if (!Files.isRegularFile(file)) {
      throw new SketchrtException(
          file + ": is not a regular file (a directory, FIFO, device or socket)");
    }
  }

  /**
   * DJL picks the native tokenizer library by "flavor": on a machine with CUDA it would download a
   * CUDA build from the internet. The tokenizer needs no GPU, so pin the CPU build that the DJL jar
   * ships (extracted to ~/.djl.ai or $DJL_CACHE_DIR). A user's own RUST_FLAVOR still wins.
   */
  private static void useBundledNativeLibrary() {
    if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
      System.setProperty("RUST_FLAVOR", "cpu");
    }
  }
}
