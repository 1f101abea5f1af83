package io.sketchrt.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sketchrt.cli.Main;
import io.sketchrt.converter.testing.ArithTunedSets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sketchrt spark} in local mode on the bundled example with two tuned sets: every good row
 * gets exactly what {@code generate --input} gives it, every bad row an error value, and the output
 * rule (exit 2, left untouched, unless --overwrite) holds.
 */
@Tag("slow") // about 25 s: converts the example with two sets and starts Spark local[2] four times
class SparkBatchJobTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Rows both commands take: two sets, a row without id or set, and a seeded sampled row. */
  private static final List<String> GOOD =
      List.of(
          "{\"id\": \"a\", \"prompt\": \"57-38=\", \"tuned\": \"sub\", \"max_new_tokens\": 6}",
          "{\"id\": \"b\", \"prompt\": \"57-38=\", \"tuned\": \"add\", \"max_new_tokens\": 6}",
          "{\"id\": 7, \"prompt\": \"40+7=\", \"tuned\": \"add\", \"max_new_tokens\": 6}",
          "{\"prompt\": \"91-19=\", \"max_new_tokens\": 6}",
          "{\"id\": \"s\", \"prompt\": \"12+30=\", \"tuned\": \"sub\", \"max_new_tokens\": 6,"
              + " \"temperature\": 0.9, \"top_p\": 0.9, \"seed\": 11, \"stop\": [\"\\n\"]}");

  /** Rows that fail alone: an unknown set, a prompt over the 32-token context, a bad field. */
  private static final List<String> BAD =
      List.of(
          "{\"id\": \"unknown-set\", \"prompt\": \"8-3=\", \"tuned\": \"nope\"}",
          "{\"id\": \"too-long\", \"prompt\": \"" + "12+34=".repeat(10) + "\"}",
          "{\"id\": \"not-text\", \"prompt\": 12}",
          "not json at all");

  @TempDir static Path tmp;
  private static Path model;
  private static Path goodRows;
  private static Map<String, JsonNode> generated;

  @BeforeAll
  static void convertAndGenerate() throws Exception {
    model = ArithTunedSets.convert(tmp, "sets");
    goodRows = Files.write(tmp.resolve("good.jsonl"), GOOD);
    Path reference = tmp.resolve("generate.jsonl");
    assertEquals(
        0,
        sketchrt(
            "generate",
            "--model",
            model.toString(),
            "--input",
            goodRows.toString(),
            "--output",
            reference.toString()));
    generated = byId(Files.readAllLines(reference));
    assertNotEquals(
        generated.get("a").get("text"),
        generated.get("b").get("text"),
        "the two sets must answer 57-38= differently, or comparing sets proves nothing");
  }

  @Test
  void rowsMatchGenerateAndBadRowsGetAnError() throws Exception {
    List<String> all = new ArrayList<>(GOOD);
    all.addAll(BAD); // after the good rows: the row without an id keeps index 3, as in generate
    Path input = Files.write(tmp.resolve("mixed.jsonl"), all);
    Path output = tmp.resolve("out-json");
    Files.createDirectories(output);
    Files.writeString(output.resolve("old-file"), "left by an earlier run");
    int loadsBefore = ExecutorModel.loads();
    assertEquals(
        0,
        sketchrt(
            "spark",
            "--master",
            "local[2]",
            "--model",
            model.toString(),
            "--input",
            input.toString(),
            "--output",
            output.toString(),
            "--output-format",
            "json",
            "--partitions",
            "2",
            "--overwrite"));
    assertFalse(Files.exists(output.resolve("old-file")), "--overwrite replaces the directory");
    assertEquals(
        1,
        ExecutorModel.loads() - loadsBefore,
        "both tasks of the one local executor share a model");
    List<String> lines = new ArrayList<>();
    try (Stream<Path> parts = Files.list(output)) {
      for (Path p : parts.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        lines.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
      }
    }
    Map<String, JsonNode> rows = byId(lines);
    assertEquals(all.size(), rows.size(), "one output row per input row: " + rows.keySet());
    for (Map.Entry<String, JsonNode> want : generated.entrySet()) {
      JsonNode got = rows.get(want.getKey());
      assertNotNull(got, "row " + want.getKey());
      for (String field :
          List.of("tuned", "text", "finish_reason", "prompt_tokens", "completion_tokens")) {
        assertEquals(
            want.getValue().get(field).asText(),
            got.get(field).asText(),
            field + " of row " + want.getKey());
      }
      assertNull(got.get("error"), "row " + want.getKey());
    }
    assertTrue(rows.get("unknown-set").get("error").asText().contains("nope"));
    assertTrue(rows.get("too-long").get("error").asText().contains("context"));
    assertTrue(rows.get("not-text").get("error").asText().contains("\"prompt\" must be a string"));
    assertTrue(rows.get("8").get("error").asText().contains("not a JSON object")); // its index
    for (String bad : List.of("unknown-set", "too-long", "not-text", "8")) {
      assertNull(rows.get(bad).get("text"), bad);
    }
  }

  @Test
  void parquetInParquetOut() throws Exception {
    Path input = tmp.resolve("good.parquet");
    Path output = tmp.resolve("out-parquet");
    try (SparkSession spark = session()) { // a Parquet input as a user would have it
      spark.read().json(goodRows.toString()).write().parquet(input.toString());
    }
    assertEquals(
        0,
        sketchrt(
            "spark",
            "--master",
            "local[2]",
            "--model",
            model.toString(),
            "--input",
            input.toString(),
            "--output",
            output.toString()));
    try (SparkSession spark = session()) {
      List<Row> rows = spark.read().parquet(output.toString()).collectAsList();
      assertEquals(GOOD.size(), rows.size());
      for (Row r : rows) {
        // Spark's JSON reader made the ids one string column ("7"); the row without one gets
        // its index, as in generate
        String id = r.getAs("id");
        JsonNode want = generated.get(id);
        assertNotNull(want, "row " + id);
        assertEquals(want.get("text").asText(), r.getAs("text"), "text of row " + id);
        assertEquals(want.get("tuned").asText(), r.getAs("tuned"), "tuned of row " + id);
        assertEquals(
            want.get("completion_tokens").asInt(),
            (int) r.getAs("completion_tokens"),
            "completion_tokens of row " + id);
      }
    }
  }

  @Test
  void anExistingOutputIsRefusedAndLeftAlone() throws Exception {
    Path output = Files.createDirectories(tmp.resolve("existing"));
    Path kept = Files.writeString(output.resolve("keep-me"), "precious");
    StringWriter err = new StringWriter();
    int code =
        sketchrt(
            err,
            "spark",
            "--master",
            "local[1]",
            "--model",
            model.toString(),
            "--input",
            goodRows.toString(),
            "--output",
            output.toString());
    assertEquals(2, code);
    assertEquals(
        "sketchrt: error: --output " + output + " already exists (give --overwrite to replace it)",
        err.toString().strip());
    assertEquals("precious", Files.readString(kept));
  }

  @Test
  void aMissingModelIsOneLineAndExit2() {
    StringWriter err = new StringWriter();
    int code =
        sketchrt(
            err,
            "spark",
            "--master",
            "local[1]",
            "--model",
            tmp.resolve("no-such-model").toString(),
            "--input",
            goodRows.toString(),
            "--output",
            tmp.resolve("never-written").toString());
    assertEquals(2, code);
    assertTrue(err.toString().contains("no-such-model: no such directory"), err.toString());
    assertFalse(Files.exists(tmp.resolve("never-written")));
  }

  private static SparkSession session() {
    return SparkSession.builder().master("local[1]").appName("test").getOrCreate();
  }

  private static Map<String, JsonNode> byId(List<String> lines) throws Exception {
    Map<String, JsonNode> out = new HashMap<>();
    for (String line : lines) {
      if (!line.isBlank()) {
        JsonNode n = JSON.readTree(line);
        out.put(n.get("id").asText(), n);
      }
    }
    return out;
  }

  private static int sketchrt(String... args) {
    return sketchrt(new StringWriter(), args);
  }

  private static int sketchrt(StringWriter err, String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }
}
