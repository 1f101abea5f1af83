package io.sketchrt.runtime;

import java.util.List;
import java.util.OptionalLong;

/**
 * How to generate: length limits, sampling and stop conditions. Immutable; build with
 * {@link #builder()}. {@code temperature == 0} means greedy decoding (argmax after the repetition
 * penalty); top-k and top-p then have no effect. Invalid values fail in {@link Builder#build()}
 * with an {@link IllegalArgumentException} naming the option.
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

  /** HF-style: logits of tokens already in the sequence are divided (if > 0) or multiplied by it; 1 = off. */
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

  /** End-of-sequence ids overriding the model's; null = use the model's. An empty list never stops on EOS. */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
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
    return b;
  }

  @Override
  public String toString() {
    return "GenerationConfig[maxNewTokens=" + maxNewTokens + ", contextLimit=" + contextLimit + ", temperature="
        + temperature + ", topK=" + topK + ", topP=" + topP + ", repetitionPenalty=" + repetitionPenalty + ", seed="
        + seed + ", stopStrings=" + stopStrings + ", eosTokenIds=" + eosTokenIds + "]";
  }

  /** Typed options; defaults: 128 new tokens, model context, greedy, no top-k/top-p/penalty. */
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

    public GenerationConfig build() {
      require(maxNewTokens >= 1, "max-new-tokens must be at least 1 (got " + maxNewTokens + ")");
      require(contextLimit >= 0, "context limit must be >= 0, 0 meaning the model's (got " + contextLimit + ")");
      require(Double.isFinite(temperature) && temperature >= 0, "temperature must be >= 0 (got " + temperature + ")");
      require(topK >= 0, "top-k must be >= 0, 0 meaning off (got " + topK + ")");
      require(topP > 0 && topP <= 1, "top-p must be in (0, 1] (got " + topP + ")");
      require(Double.isFinite(repetitionPenalty) && repetitionPenalty > 0,
          "repetition penalty must be > 0 (got " + repetitionPenalty + ")");
      for (String s : stopStrings) {
        require(s != null && !s.isEmpty(), "stop strings must not be empty");
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
