package io.sketchrt.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The job's output: one row per input row, the fields of {@code generate --input}'s lines plus
 * {@code error}, set (and the generation fields null) when the row failed.
 */
final class OutputRows {
  private OutputRows() {}

  static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.StringType, true)
          .add("tuned", DataTypes.StringType, true)
          .add("text", DataTypes.StringType, true)
          .add("finish_reason", DataTypes.StringType, true)
          .add("prompt_tokens", DataTypes.IntegerType, true)
          .add("completion_tokens", DataTypes.IntegerType, true)
          .add("error", DataTypes.StringType, true);

  static Row generated(
      String id,
      String tuned,
      String text,
      String finishReason,
      int promptTokens,
      int completionTokens) {
    return RowFactory.create(id, tuned, text, finishReason, promptTokens, completionTokens, null);
  }

  static Row failed(String id, String tuned, String error) {
    return RowFactory.create(id, tuned, null, null, null, null, error);
  }
}
