package io.sketchrt.spark;

import io.sketchrt.cli.BatchRequest;
import io.sketchrt.format.SketchrtCheckedException;
import io.sketchrt.runtime.Engine;
import io.sketchrt.runtime.GenerationConfig;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Request;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * One partition of (row as JSON, index among the non-blank rows) through this executor's engine
 * loop: rows are read with {@link BatchRequest#parse} and submitted a window ahead of the one being
 * returned, so the batch stays full while results stream out in input order. A row that fails (bad
 * JSON, a prompt over the context, an unknown tuned set) becomes an error row; nothing here fails
 * the task but a model that cannot load.
 */
final class PartitionGenerator implements FlatMapFunction<Iterator<Tuple2<String, Long>>, Row> {
  private static final long serialVersionUID = 1L;

  /** Rows submitted ahead of the one returned: enough to fill the default batch of 16 rows. */
  static final int WINDOW = 64;

  private final String model;
  private final int maxNewTokens;
  private final LongAccumulator rows;
  private final LongAccumulator failed;
  private final LongAccumulator tokens;

  PartitionGenerator(
      String model,
      int maxNewTokens,
      LongAccumulator rows,
      LongAccumulator failed,
      LongAccumulator tokens) {
    this.model = model;
    this.maxNewTokens = maxNewTokens;
    this.rows = rows;
    this.failed = failed;
    this.tokens = tokens;
  }

  @Override
  public Iterator<Row> call(Iterator<Tuple2<String, Long>> input) throws Exception {
    ExecutorModel.Loaded loaded = ExecutorModel.get(model);
    GenerationConfig base = GenerationConfig.builder().maxNewTokens(maxNewTokens).build();
    Results results = new Results(input, loaded, base);
    TaskContext task = TaskContext.get();
    if (task != null) { // a killed task stops its rows at the next step
      task.addTaskCompletionListener((TaskContext t) -> results.cancelPending());
    }
    return results;
  }

  /** A row on its way: either submitted to the engine, or already failed. */
  private record Pending(
      String id, String tuned, int promptTokens, Engine.Handle handle, String error) {}

  private final class Results implements Iterator<Row> {
    private final Iterator<Tuple2<String, Long>> input;
    private final ExecutorModel.Loaded loaded;
    private final GenerationConfig base;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final long start = System.nanoTime();
    private long rowCount;
    private long tokenCount;
    private boolean logged;

    Results(
        Iterator<Tuple2<String, Long>> input, ExecutorModel.Loaded loaded, GenerationConfig base) {
      this.input = input;
      this.loaded = loaded;
      this.base = base;
    }

    @Override
    public boolean hasNext() {
      fill();
      if (pending.isEmpty()) {
        logOnce();
        return false;
      }
      return true;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Row row = finish(pending.poll());
      rowCount++;
      rows.add(1);
      return row;
    }

    private void fill() {
      while (pending.size() < WINDOW && input.hasNext()) {
        Tuple2<String, Long> t = input.next();
        pending.add(submit(t._1(), t._2()));
      }
    }

    private Pending submit(String line, long index) {
      BatchRequest r;
      try {
        r = BatchRequest.parse(line, index, base, "input row " + (index + 1) + ": ");
      } catch (SketchrtCheckedException e) {
        return new Pending(RawRow.id(line, index), RawRow.tuned(line), 0, null, e.getMessage());
      }
      String tuned = r.tuned() != null ? r.tuned() : loaded.model().defaultTunedSet();
      try {
        long[] prompt = loaded.model().encode(r.prompt());
        Engine.Handle h =
            loaded.loop().submit(new Request(prompt, r.config(base), r.tuned(), null));
        return new Pending(r.idText(), tuned, prompt.length, h, null);
      } catch (RuntimeException e) { // a prompt over the context, a bad top_p, ...
        return new Pending(r.idText(), tuned, 0, null, message(e));
      }
    }

    private Row finish(Pending p) {
      if (p.error() != null) {
        failed.add(1);
        return OutputRows.failed(p.id(), p.tuned(), p.error());
      }
      try {
        GenerationResult g = p.handle().result().get();
        tokenCount += g.tokens().length;
        tokens.add(g.tokens().length);
        return OutputRows.generated(
            p.id(),
            p.tuned(),
            g.text(),
            g.stopReason().finishReason(),
            g.promptTokens(),
            g.tokens().length);
      } catch (ExecutionException e) { // an unknown tuned set, a failed step
        failed.add(1);
        return OutputRows.failed(p.id(), p.tuned(), message(e.getCause()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancelPending();
        throw new IllegalStateException("interrupted while waiting for row " + p.id(), e);
      }
    }

    void cancelPending() {
      for (Pending p : pending) {
        if (p.handle() != null) {
          p.handle().cancel();
        }
      }
    }

    private void logOnce() {
      if (logged) {
        return;
      }
      logged = true;
      double seconds = (System.nanoTime() - start) / 1e9;
      TaskContext task = TaskContext.get();
      System.err.println(
          String.format(
              Locale.ROOT,
              "sketchrt spark: partition %s: %d rows, %d tokens in %.2f s: %.1f tokens/s",
              task == null ? "?" : Integer.toString(task.partitionId()),
              rowCount,
              tokenCount,
              seconds,
              seconds > 0 ? tokenCount / seconds : 0.0));
    }
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.lines().findFirst().get();
  }
}
