package io.sketchrt.cli.toybackend;

import io.sketchrt.format.ModelCard;
import io.sketchrt.format.Target;
import io.sketchrt.runtime.LoadOptions;
import io.sketchrt.runtime.SketchrtException;
import io.sketchrt.runtime.spi.Backend;
import io.sketchrt.runtime.spi.Backends;
import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.KvCache;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * A backend that exists only in the tests, to show what adding one takes: this package (the
 * backend, its options, its flags) and one line per service file. Its "model" ignores the graph and
 * always predicts the token its options name.
 */
public final class RepeatBackend implements Backend {
  public static final String NAME = "repeat";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Target> targets() {
    return Set.of(Target.PORTABLE);
  }

  @Override
  public String description() {
    return "test backend: always predicts one token";
  }

  @Override
  public void checkAvailable() {}

  @Override
  public DecoderSession open(ModelCard card, Path modelDir, LoadOptions options)
      throws SketchrtException {
    Backends.requireRunsOn(this, card, modelDir);
    RepeatOptions repeat = options.get(RepeatOptions.class, RepeatOptions::defaults);
    if (repeat.token() >= card.vocabSize()) {
      throw new SketchrtException(
          "repeat: token " + repeat.token() + " is outside the vocabulary of " + card.vocabSize());
    }
    return new Session(card.vocabSize(), repeat.token());
  }

  private record Session(int vocabSize, int token) implements DecoderSession {
    @Override
    public KvCache newCache(int batch, int capacity) {
      return new Cache(batch, capacity);
    }

    @Override
    public void forward(
        long[] inputIds,
        long[] attentionMask,
        long[] positionIds,
        int seq,
        KvCache cache,
        float[] lastLogits) {
      ((Cache) cache).length += seq;
      Arrays.fill(lastLogits, 0f);
      for (int r = 0; r < cache.batch(); r++) {
        lastLogits[r * vocabSize + token] = 1f;
      }
    }

    @Override
    public void forwardAllLogits(
        long[] inputIds,
        long[] attentionMask,
        long[] positionIds,
        int seq,
        KvCache cache,
        float[] logits) {
      ((Cache) cache).length += seq;
      Arrays.fill(logits, 0f);
      for (int p = 0; p < logits.length / vocabSize; p++) {
        logits[p * vocabSize + token] = 1f;
      }
    }

    @Override
    public void close() {}
  }

  /** No keys or values: only the length, which the generation loop reads. */
  private static final class Cache implements KvCache {
    private final int batch;
    private final int capacity;
    private int length;

    Cache(int batch, int capacity) {
      this.batch = batch;
      this.capacity = capacity;
    }

    @Override
    public int batch() {
      return batch;
    }

    @Override
    public int capacity() {
      return capacity;
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public void reorderRows(int[] sourceRows) {
      KvCache.checkRowOrder(sourceRows, batch);
    }

    @Override
    public void close() {}
  }
}
