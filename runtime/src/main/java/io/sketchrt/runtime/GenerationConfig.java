package io.sketchrt.runtime;

import java.util.List;
import java.util.OptionalLong;

/**
 * How to generate: length limits, sampling and stop conditions. Immutable; build with {@link
 * #builder()}. {@code temperature == 0} means greedy decoding (argmax after the repetition
 * penalty); top-k and top-p then have no effect. {@code numBeams > 1} selects beam search with
 * Hugging Face transformers' rules ({@code generate(num_beams=N, do_sample=False)}). Invalid values
 * fail in {@link Builder#build()} with an {@link IllegalArgumentException} naming the option.
 */
public final class GenerationConfig {
  private final int maxNewTokens;
  private final int contextLimit;
  private final double temperature;
  private final int topK;
  private final double topP;
  private final double repetitionPenalty;
  private final Long seed;
  private final List<String> stopStrings;
  private final List<Integer> eosTokenIds;
  private final int numBeams;
  private final double lengthPenalty;
  private final EarlyStopping earlyStopping;
  private final String tunedSet;
  private final int logprobs;

  /** The most alternatives {@link Builder#logprobs(int)} reports per token (OpenAI's chat cap). */
  public static final int MAX_LOGPROBS = 20;

  /**
   * When beam search stops, as transformers' {@code early_stopping}: {@link #HEURISTIC} (False, the
   * default) stops once the best running beam, scored at its current length, cannot beat the worst
   * of the {@code numBeams} finished ones; {@link #ON_FULL} (True) stops as soon as {@code
   * numBeams} hypotheses have finished; {@link #NEVER} ("never", canonical beam search) scores the
   * running beam at the longest length it could reach when the length penalty is > 0.
   */
  public enum EarlyStopping {
    HEURISTIC,
    ON_FULL,
    NEVER;

    /** Parses transformers' spelling: {@code false}, {@code true} or {@code never}. */
    public static EarlyStopping parse(String value) {
      return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
        case "false" -> HEURISTIC;
        case "true" -> ON_FULL;
        case "never" -> NEVER;
        default ->
            throw new IllegalArgumentException(
                "early stopping must be true, false or never (got '" + value + "')");
      };
    }

    /** transformers' spelling. */
    @Override
    public String toString() {
      return switch (this) {
        case HEURISTIC -> "false";
        case ON_FULL -> "true";
        case NEVER -> "never";
      };
    }
  }

  private GenerationConfig(Builder b) {
    this.maxNewTokens = b.maxNewTokens;
    this.contextLimit = b.contextLimit;
    this.temperature = b.temperature;
    this.topK = b.topK;
    this.topP = b.topP;
    this.repetitionPenalty = b.repetitionPenalty;
    this.seed = b.seed;
    this.stopStrings = List.copyOf(b.stopStrings);
    this.eosTokenIds = b.eosTokenIds == null ? null : List.copyOf(b.eosTokenIds);
    this.numBeams = b.numBeams;
    this.lengthPenalty = b.lengthPenalty;
    this.earlyStopping = b.earlyStopping;
    this.tunedSet = b.tunedSet;
    this.logprobs = b.logprobs;
  }

  /**
   * Whether each token carries {@link TokenLogprobs}: -1 no, else with that many most likely
   * alternatives (0 to {@link #MAX_LOGPROBS}).
   */
  public int logprobs() {
    return logprobs;
  }

  /**
   * The tuned set (one fine-tune's LUTs, DESIGN section 3b) every row runs, or null for the model's
   * default set. {@link Model#generatorForTokens(List, GenerationConfig, List)} can give each row
   * its own.
   */
  public String tunedSet() {
    return tunedSet;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Greedy decoding of up to {@code maxNewTokens} tokens. */
  public static GenerationConfig greedy(int maxNewTokens) {
    return builder().maxNewTokens(maxNewTokens).temperature(0).build();
  }

  public int maxNewTokens() {
    return maxNewTokens;
  }

  /** Most tokens (prompt + generated) per sequence; 0 = the model's max_position_embeddings. */
  public int contextLimit() {
    return contextLimit;
  }

  public double temperature() {
    return temperature;
  }

  public boolean isGreedy() {
    return temperature == 0;
  }

  /** Keep only the k most likely tokens; 0 = off. */
  public int topK() {
    return topK;
  }

  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 = off. */
  public double topP() {
    return topP;
  }

  /**
   * HF-style: logits of tokens already in the sequence are divided (if > 0) or multiplied by it; 1
   * = off.
   */
  public double repetitionPenalty() {
    return repetitionPenalty;
  }

  /** The sampling seed; empty = a fresh random seed per generation. */
  public OptionalLong seed() {
    return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
  }

  public List<String> stopStrings() {
    return stopStrings;
  }

  /**
   * End-of-sequence ids overriding the model's; null = use the model's. An empty list never stops
   * on EOS.
   */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  /** Beams per prompt; 1 = no beam search (greedy or sampling). */
  public int numBeams() {
    return numBeams;
  }

  public boolean isBeamSearch() {
    return numBeams > 1;
  }

  /**
   * Beam search ranks a finished hypothesis by sum(log-probs) / generated_tokens^lengthPenalty
   * (transformers' {@code length_penalty}): > 0 favours longer answers, < 0 shorter ones.
   */
  public double lengthPenalty() {
    return lengthPenalty;
  }

  public EarlyStopping earlyStopping() {
    return earlyStopping;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxNewTokens = maxNewTokens;
    b.contextLimit = contextLimit;
    b.temperature = temperature;
    b.topK = topK;
    b.topP = topP;
    b.repetitionPenalty = repetitionPenalty;
    b.seed = seed;
    b.stopStrings = stopStrings;
    b.eosTokenIds = eosTokenIds;
    b.numBeams = numBeams;
    b.lengthPenalty = lengthPenalty;
    b.earlyStopping = earlyStopping;
    b.tunedSet = tunedSet;
    b.logprobs = logprobs;
    return b;
  }

  @Override
  public String toString() {
    return "GenerationConfig[maxNewTokens="
        + maxNewTokens
        + ", contextLimit="
        + contextLimit
        + ", temperature="
        + temperature
        + ", topK="
        + topK
        + ", topP="
        + topP
        + ", repetitionPenalty="
        + repetitionPenalty
        + ", seed="
        + seed
        + ", stopStrings="
        + stopStrings
        + ", eosTokenIds="
        + eosTokenIds
        + ", numBeams="
        + numBeams
        + ", lengthPenalty="
        + lengthPenalty
        + ", earlyStopping="
        + earlyStopping
        + (tunedSet == null ? "" : ", tunedSet=" + tunedSet)
        + (logprobs < 0 ? "" : ", logprobs=" + logprobs)
        + "]";
  }

  /**
   * Typed options; defaults: 128 new tokens, model context, greedy, no top-k/top-p/penalty, one
   * beam, length penalty 1, heuristic early stopping (transformers' defaults).
   */
  public static final class Builder {
    private int maxNewTokens = 128;
    private int contextLimit = 0;
    private double temperature = 0;
    private int topK = 0;
    private double topP = 1.0;
    private double repetitionPenalty = 1.0;
    private Long seed;
    private List<String> stopStrings = List.of();
    private List<Integer> eosTokenIds;
    private int numBeams = 1;
    private double lengthPenalty = 1.0;
    private EarlyStopping earlyStopping = EarlyStopping.HEURISTIC;
    private String tunedSet;
    private int logprobs = -1;

    private Builder() {}

    public Builder maxNewTokens(int n) {
      this.maxNewTokens = n;
      return this;
    }

    public Builder contextLimit(int n) {
      this.contextLimit = n;
      return this;
    }

    public Builder temperature(double t) {
      this.temperature = t;
      return this;
    }

    public Builder topK(int k) {
      this.topK = k;
      return this;
    }

    public Builder topP(double p) {
      this.topP = p;
      return this;
    }

    public Builder repetitionPenalty(double penalty) {
      this.repetitionPenalty = penalty;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder stopStrings(List<String> stops) {
      this.stopStrings = List.copyOf(stops);
      return this;
    }

    public Builder eosTokenIds(List<Integer> ids) {
      this.eosTokenIds = ids == null ? null : List.copyOf(ids);
      return this;
    }

    /**
     * Beam search with {@code n} beams per prompt (n > 1); needs temperature 0 and no stop strings.
     */
    public Builder numBeams(int n) {
      this.numBeams = n;
      return this;
    }

    public Builder lengthPenalty(double penalty) {
      this.lengthPenalty = penalty;
      return this;
    }

    /** The tuned set to run (null: the model's default set). */
    public Builder tunedSet(String name) {
      this.tunedSet = name;
      return this;
    }

    /**
     * Report each sampled token's log-probability and its {@code top} most likely alternatives
     * ({@link Token#logprobs()}); -1 (the default): none. Beam search does not report them.
     */
    public Builder logprobs(int top) {
      this.logprobs = top;
      return this;
    }

    public Builder earlyStopping(EarlyStopping mode) {
      this.earlyStopping = java.util.Objects.requireNonNull(mode, "early stopping");
      return this;
    }

    public GenerationConfig build() {
      require(maxNewTokens >= 1, "max-new-tokens must be at least 1 (got " + maxNewTokens + ")");
      require(
          contextLimit >= 0,
          "context limit must be >= 0, 0 meaning the model's (got " + contextLimit + ")");
      require(
          Double.isFinite(temperature) && temperature >= 0,
          "temperature must be >= 0 (got " + temperature + ")");
      require(topK >= 0, "top-k must be >= 0, 0 meaning off (got " + topK + ")");
      require(topP > 0 && topP <= 1, "top-p must be in (0, 1] (got " + topP + ")");
      require(
          Double.isFinite(repetitionPenalty) && repetitionPenalty > 0,
          "repetition penalty must be > 0 (got " + repetitionPenalty + ")");
      for (String s : stopStrings) {
        require(s != null && !s.isEmpty(), "stop strings must not be empty");
      }
      require(numBeams >= 1, "num-beams must be at least 1 (got " + numBeams + ")");
      require(
          Double.isFinite(lengthPenalty),
          "length penalty must be a finite number (got " + lengthPenalty + ")");
      require(
          logprobs >= -1 && logprobs <= MAX_LOGPROBS,
          "logprobs must be -1 (off) or 0 to " + MAX_LOGPROBS + " (got " + logprobs + ")");
      if (numBeams > 1) {
        require(logprobs < 0, "beam search does not report logprobs (num-beams " + numBeams + ")");
        require(
            temperature == 0,
            "beam search does not sample: use temperature 0 with num-beams "
                + numBeams
                + " (got temperature "
                + temperature
                + ")");
        require(
            stopStrings.isEmpty(),
            "stop strings cannot be combined with beam search (num-beams " + numBeams + ")");
      }
      return new GenerationConfig(this);
    }

    private static void require(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
