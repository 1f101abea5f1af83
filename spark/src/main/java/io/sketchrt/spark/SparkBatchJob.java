package io.sketchrt.spark;

import io.sketchrt.cli.SparkJob;
import io.sketchrt.format.SketchrtCheckedException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * The driver of the batch job: checks the output and the model, reads the rows, runs every
 * partition through {@link PartitionGenerator} and writes the result with Spark's own writer.
 */
public final class SparkBatchJob implements SparkJob {

  @Override
  public int run(Spec spec, PrintWriter out) throws Exception {
    OutputDir.refuseExisting(spec.output(), spec.overwrite(), null); // before Spark starts
    boolean inProcess = !new SparkConf().contains("spark.master"); // spark-submit sets it
    SparkSession.Builder builder = SparkSession.builder().appName("sketchrt batch-generate");
    if (spec.master() != null) {
      builder.master(spec.master());
    } else if (inProcess) {
      builder.master("local[*]");
    }
    if (inProcess) { // Spark's own progress bar and our lines, not its INFO log
      builder.config("spark.ui.showConsoleProgress", "true").config("spark.log.level", "WARN");
    }
    SparkSession spark = builder.getOrCreate();
    try {
      return run(spark, spec, out);
    } finally {
      spark.stop();
      if (inProcess) {
        ExecutorModel.closeAll(); // this JVM was the executor too
      }
    }
  }

  private static int run(SparkSession spark, Spec spec, PrintWriter out) throws Exception {
    OutputDir.refuseExisting(
        spec.output(), spec.overwrite(), spark.sparkContext().hadoopConfiguration());
    requireModel(spec.model());
    JavaRDD<String> rows = BatchInput.read(spark, spec.input());
    JavaPairRDD<String, Long> indexed = rows.zipWithIndex();
    if (spec.partitions() > 0) {
      indexed = indexed.repartition(spec.partitions());
    }
    LongAccumulator done = spark.sparkContext().longAccumulator("rows");
    LongAccumulator failed = spark.sparkContext().longAccumulator("failed rows");
    LongAccumulator tokens = spark.sparkContext().longAccumulator("completion tokens");
    JavaRDD<Row> results =
        indexed.mapPartitions(
            new PartitionGenerator(spec.model(), spec.maxNewTokens(), done, failed, tokens));
    long start = System.nanoTime();
    try {
      spark
          .createDataFrame(results, OutputRows.SCHEMA)
          .write()
          .mode(spec.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
          .format(spec.outputFormat())
          .save(spec.output());
    } catch (Exception e) {
      SketchrtCheckedException bad = badInputIn(e);
      if (bad != null) {
        throw bad; // e.g. a model that no executor could load: exit 2 with its own line
      }
      throw e;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    out.println(
        String.format(
            Locale.ROOT,
            "sketchrt spark: %d rows (%d failed), %d completion tokens in %.2f s: %.2f rows/s,"
                + " %.1f tokens/s -> %s",
            done.value(),
            failed.value(),
            tokens.value(),
            seconds,
            done.value() / seconds,
            tokens.value() / seconds,
            spec.output()));
    out.flush();
    return 0;
  }

  /** The driver checks what it can see: a model directory here, or shipped under that name. */
  private static void requireModel(String model) throws SparkJobException {
    Path dir = ExecutorModel.resolve(model);
    if (!Files.isRegularFile(dir.resolve("sketchrt.json"))) {
      throw new SparkJobException(
          "--model " + model + ": not a converted model (no sketchrt.json in " + dir + ")");
    }
    if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) { // the rows are text
      throw new SparkJobException(
          "--model " + model + ": has no tokenizer (tokenizer.json), so text prompts cannot run");
    }
  }

  private static SketchrtCheckedException badInputIn(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SketchrtCheckedException s) {
        return s;
      }
    }
    return null;
  }
}
