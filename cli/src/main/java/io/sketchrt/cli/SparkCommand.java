package io.sketchrt.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sketchrt spark}: the Spark batch-generation job run in this JVM ({@code --master
 * local[N]}) or against a cluster master. The same job runs under {@code spark-submit} as {@code
 * io.sketchrt.spark.BatchGenerate} with these flags.
 */
@Command(
    name = "spark",
    mixinStandardHelpOptions = true,
    description = {
      "Generate for every row of a JSON-lines or Parquet file with Apache Spark: one output row per",
      "input row (id, tuned, text, finish_reason, prompt_tokens, completion_tokens, error). Input rows",
      "are those of 'generate --input'; a row that fails gets an error value and the job goes on."
    })
public final class SparkCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description =
          "Spark master, e.g. local[2] (default: spark.master as spark-submit sets it, else local[*]).")
  String master;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description =
          "Converted model directory, at this path on every executor (a shared path), or the name"
              + " of a directory shipped with spark-submit --archives.")
  String model;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "PATH",
      description =
          "JSON lines (one request per line, as generate --input), or Parquet (a *.parquet file or"
              + " a directory holding *.parquet files). Any path Spark reads (file:, hdfs:, s3a:).")
  String input;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "DIR",
      description =
          "Output directory, written by Spark; an existing one is refused unless --overwrite.")
  String output;

  @Option(
      names = "--output-format",
      paramLabel = "parquet|json",
      defaultValue = "parquet",
      description = "Output format (default: ${DEFAULT-VALUE}).")
  String outputFormat;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      defaultValue = "0",
      description = "Repartition the input into N partitions first; 0 = as Spark reads it.")
  int partitions;

  @Option(names = "--overwrite", description = "Replace an existing output directory.")
  boolean overwrite;

  @Option(
      names = "--max-new-tokens",
      paramLabel = "N",
      defaultValue = "128",
      description =
          "Most tokens per row unless the row says max_new_tokens (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Override
  public Integer call() throws Exception {
    if (!outputFormat.equals("parquet") && !outputFormat.equals("json")) {
      throw new UsageException(
          "--output-format '" + outputFormat + "' is not supported (choose parquet or json)");
    }
    if (partitions < 0) {
      throw new UsageException("--partitions must be >= 0, not " + partitions);
    }
    if (maxNewTokens < 1) {
      throw new UsageException("--max-new-tokens must be >= 1, not " + maxNewTokens);
    }
    SparkJob job = SparkJob.find().orElseThrow(() -> new UsageException(SparkJob.MISSING));
    return job.run(
        new SparkJob.Spec(
            master, model, input, output, outputFormat, partitions, overwrite, maxNewTokens),
        spec.commandLine().getOut());
  }
}
