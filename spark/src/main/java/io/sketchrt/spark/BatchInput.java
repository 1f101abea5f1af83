package io.sketchrt.spark;

import java.io.IOException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;

/**
 * The input rows, each as one JSON object, whatever the file: the lines of a JSON-lines file as
 * they are (blank ones left out, as {@code generate --input} does), and Parquet rows through
 * Spark's {@code toJSON}, so both reach the same row parser.
 */
final class BatchInput {
  private BatchInput() {}

  static JavaRDD<String> read(SparkSession spark, String input)
      throws IOException, SparkJobException {
    if (isParquet(spark, input)) {
      return spark.read().parquet(input).toJSON().javaRDD();
    }
    return spark.read().textFile(input).javaRDD().filter(line -> !line.isBlank());
  }

  /** A {@code *.parquet} file, or a directory holding one (what Spark itself writes). */
  static boolean isParquet(SparkSession spark, String input) throws IOException, SparkJobException {
    Path path = new Path(input);
    FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
    if (!fs.exists(path)) {
      throw new SparkJobException("--input " + input + ": no such file or directory");
    }
    if (!fs.getFileStatus(path).isDirectory()) {
      return input.endsWith(".parquet");
    }
    for (FileStatus child : fs.listStatus(path)) {
      if (child.getPath().getName().endsWith(".parquet")) {
        return true;
      }
    }
    return false;
  }
}
