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
 * library) plus the special tokens and chat template of {@code tokenizer_config.json} and
 * {@code generation_config.json}. Thread-safe; {@link #close()} is idempotent.
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
  private volatile boolean closed;

  private Tokenizer(HuggingFaceTokenizer hf, JsonNode tokConfig, JsonNode genConfig, java.util.BitSet byteTokens, Path dir)
      throws SketchrtException {
    this.hf = hf;
    this.byteTokens = byteTokens;
    this.bosToken = tokenText(tokConfig.get("bos_token"));
    this.eosToken = tokenText(tokConfig.get("eos_token"));
    this.addBosToken = tokConfig.hasNonNull("add_bos_token") ? tokConfig.get("add_bos_token").asBoolean() : null;
    Integer bos = genConfig.path("bos_token_id").isInt() ? genConfig.get("bos_token_id").asInt() : null;
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
    String template = tokConfig.path("chat_template").isTextual() ? tokConfig.get("chat_template").asText() : null;
    this.chatTemplate = template == null ? null : new ChatTemplate(template, dir.resolve("tokenizer_config.json"));
  }

  /**
   * Loads {@code dir/tokenizer.json} and, when present, {@code tokenizer_config.json} and
   * {@code generation_config.json}. Offline: the native library comes from the DJL jar.
   */
  public static Tokenizer load(Path dir) throws SketchrtException {
    Path json = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(json)) {
      throw new SketchrtException("no tokenizer.json in " + dir + ": text prompts need the Hugging Face tokenizer next to the model");
    }
    JsonNode tokConfig = readOptional(dir.resolve("tokenizer_config.json"));
    JsonNode genConfig = readOptional(dir.resolve("generation_config.json"));
    java.util.BitSet byteTokens = byteFallbackTokens(readOptional(json).path("model"));
    HuggingFaceTokenizer hf;
    try {
      // No truncation or padding: the generator checks the context limit itself.
      hf = HuggingFaceTokenizer.newInstance(json, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    } catch (IOException | RuntimeException e) {
      throw new SketchrtException(json + ": cannot load the tokenizer (" + SketchrtException.firstLine(e) + ")", e);
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
    checkOpen();
    long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
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
    checkOpen();
    return hf.decode(ids, true);
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
  public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) throws SketchrtException {
    checkOpen();
    if (chatTemplate == null) {
      throw new IllegalStateException("the tokenizer has no chat_template in tokenizer_config.json");
    }
    return chatTemplate.render(messages, addGenerationPrompt, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken);
  }

  /** BOS id from generation_config.json or tokenizer_config.json, or null. */
  public Integer bosTokenId() {
    return bosTokenId;
  }

  /** EOS ids from generation_config.json (else tokenizer_config.json's eos_token); may be empty. */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      hf.close();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the tokenizer is closed");
    }
  }

  private Optional<Integer> idOf(String token) {
    long[] ids = hf.encode(token, false, false).getIds();
    return ids.length == 1 ? Optional.of((int) ids[0]) : Optional.empty();
  }

  /** Special tokens are stored either as a string or as an AddedToken object with "content". */
  private static String tokenText(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isTextual() ? node.asText() : node.path("content").asText(null);
  }

  /** Ids of "<0xNN>" vocabulary entries when the model uses byte fallback (BPE: token->id map, Unigram: list). */
  private static java.util.BitSet byteFallbackTokens(JsonNode model) {
    java.util.BitSet ids = new java.util.BitSet();
    if (!model.path("byte_fallback").asBoolean(false)) {
      return ids;
    }
    JsonNode vocab = model.path("vocab");
    if (vocab.isObject()) {
      vocab.properties().forEach(e -> {
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
    return token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")
        && Character.digit(token.charAt(3), 16) >= 0 && Character.digit(token.charAt(4), 16) >= 0;
  }

  private static JsonNode readOptional(Path file) throws SketchrtException {
    if (!Files.isRegularFile(file)) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      return node == null ? JSON.createObjectNode() : node;
    } catch (IOException e) {
      throw new SketchrtException(file + ": not valid JSON (" + SketchrtException.firstLine(e) + ")", e);
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
