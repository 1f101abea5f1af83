package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sketchrt.format.testing.TestData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sketchrt validate} and {@code inspect} on every fixture and the bundled example. */
class ValidateCommandTest {
  private static final Path EXAMPLE = TestData.committed("examples/arith");
  @TempDir static Path tmp;
  private static Path tuned;
  private static Path untuned;

  record Run(int exit, String out, String err) {}

  static Run sketchrt(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeAll
  static void convertTheExample() {
    tuned = ConvertThenGenerateTest.convert(EXAMPLE, tmp.resolve("arith"));
    untuned = tmp.resolve("arith-base");
    Run r =
        sketchrt(
            "convert",
            "--model",
            EXAMPLE.resolve("hf").toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString(),
            "--out",
            untuned.toString());
    assertEquals(0, r.exit(), r.err());
  }

  @Test
  void everyFixturePassesPerLayerValidation() throws Exception {
    // the default (near-exact) kernel, held to 1e-3 per op; the exact one to the fp32 bound
    everyFixtureValidates(null, 1e-3);
    everyFixtureValidates("exact", 1e-5);
  }

  private void everyFixtureValidates(String kernel, double bound) throws Exception {
    for (Path fixture : TestData.fixtures()) {
      Path out =
          ConvertThenGenerateTest.convert(
              fixture, tmp.resolve("v-" + kernel + "-" + fixture.getFileName()));
      Path json = tmp.resolve(kernel + "-" + fixture.getFileName() + ".json");
      Stream.Builder<String> args =
          Stream.<String>builder()
              .add("validate")
              .add("--model")
              .add(out.toString())
              .add("--sketch")
              .add(fixture.resolve("sketch.pkl").toString())
              .add("--json")
              .add(json.toString());
      if (Files.exists(fixture.resolve("tuned"))) {
        args.add("--tuned").add(fixture.resolve("tuned").toString());
      }
      if (kernel != null) {
        args.add("--kernel").add(kernel);
      }
      Run r = sketchrt(args.build().toArray(String[]::new));
      assertEquals(ExitCodes.OK, r.exit(), fixture + ": " + r.out() + r.err());
      JsonNode report = new ObjectMapper().readTree(json.toFile());
      assertTrue(report.get("layers").size() > 0);
      for (JsonNode l : report.get("layers")) {
        assertTrue(
            l.get("rel_error").asDouble() <= bound && l.get("tolerance").asDouble() == bound,
            kernel + " " + fixture + " " + l);
      }
      System.out.println(fixture.getFileName() + ": " + r.out().strip());
    }
  }

  @Test
  void theExamplePassesAndTheUntunedConversionFailsNamingALayer() {
    Run ok =
        sketchrt(
            "validate",
            "--model",
            tuned.toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString(),
            "--tuned",
            EXAMPLE.resolve("tuned").toString());
    assertEquals(ExitCodes.OK, ok.exit(), ok.err());
    assertTrue(ok.out().startsWith("PASSED: 14 layers"), ok.out());
    Run bad =
        sketchrt(
            "validate",
            "--model",
            untuned.toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString(),
            "--tuned",
            EXAMPLE.resolve("tuned").toString());
    assertEquals(ExitCodes.CHECK_FAILED, bad.exit(), bad.err());
    assertTrue(bad.out().startsWith("FAILED accuracy: model.layers."), bad.out());
    Run one =
        sketchrt(
            "validate",
            "--model",
            untuned.toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString(),
            "--layers",
            "layers\\.1\\.mlp\\.up_proj$");
    assertEquals(ExitCodes.OK, one.exit(), one.err());
    assertTrue(one.err().contains("layer 1/1 model.layers.1.mlp.up_proj"), one.err());
  }

  @Test
  void theExampleMatchesItsGoldenOutputsAndAForeignGoldenFails() throws Exception {
    Path golden = EXAMPLE.resolve("golden.json");
    Run ok = sketchrt("validate", "--model", tuned.toString(), "--reference", golden.toString());
    assertEquals(ExitCodes.OK, ok.exit(), ok.out() + ok.err());
    assertTrue(ok.out().startsWith("PASSED: 3 prompts match"), ok.out());
    // The golden was written from the tuned LUTs: the base conversion must not match it.
    Run bad = sketchrt("validate", "--model", untuned.toString(), "--reference", golden.toString());
    assertEquals(ExitCodes.CHECK_FAILED, bad.exit(), bad.out() + bad.err());
    assertTrue(bad.out().startsWith("FAILED accuracy: prompt \"57-38=\""), bad.out());
    Path broken = tmp.resolve("broken.json");
    Files.writeString(broken, "{\"format\": \"something-else\"}");
    assertEquals(
        ExitCodes.BAD_INPUT,
        sketchrt("validate", "--model", tuned.toString(), "--reference", broken.toString()).exit());
  }

  @Test
  void badInputIsExitCode2() {
    assertEquals(ExitCodes.BAD_INPUT, sketchrt("validate", "--model", tuned.toString()).exit());
    assertEquals(
        ExitCodes.BAD_INPUT,
        sketchrt(
                "validate",
                "--model",
                tuned.toString(),
                "--sketch",
                EXAMPLE.resolve("sketch.pkl").toString(),
                "--layers",
                "(")
            .exit());
    assertEquals(
        ExitCodes.BAD_INPUT,
        sketchrt(
                "validate",
                "--model",
                tuned.toString(),
                "--sketch",
                EXAMPLE.resolve("sketch.pkl").toString(),
                "--layers",
                "nothing-matches")
            .exit());
    Run r =
        sketchrt(
            "validate",
            "--model",
            tmp.resolve("missing").toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString());
    assertEquals(ExitCodes.BAD_INPUT, r.exit());
    assertTrue(
        r.err().startsWith("sketchrt: error: ") && r.err().strip().lines().count() == 1, r.err());
  }

  @Test
  @Tag("slow") // about 5 s of timed runs
  void latencyGatePassesItsOwnBaselineAndFailsATwiceFasterOne() throws Exception {
    Path baseline = tmp.resolve("baseline.json");
    Run bench =
        sketchrt(
            "bench",
            "--model",
            tuned.toString(),
            "--prompt-tokens",
            "8",
            "--new-tokens",
            "24",
            "--contexts",
            "8",
            "--repeats",
            "9",
            "--threads",
            "1",
            "--json",
            baseline.toString());
    assertEquals(0, bench.exit(), bench.err());
    // A 2-core shared machine: 1.0 keeps the fresh-baseline case robust; the gate logic is what is
    // tested.
    Path sameJson = tmp.resolve("same.json");
    Run same =
        sketchrt(
            "validate",
            "--model",
            tuned.toString(),
            "--threads",
            "1",
            "--latency-baseline",
            baseline.toString(),
            "--max-regression",
            "1.0",
            "--repeats",
            "9",
            "--json",
            sameJson.toString());
    assertEquals(ExitCodes.OK, same.exit(), same.out() + same.err());
    assertTrue(same.err().contains("within allowance"), same.err());

    // A baseline twice as fast as what this (warm) JVM just measured.
    ObjectMapper mapper = new ObjectMapper();
    double now =
        mapper
            .readTree(sameJson.toFile())
            .get("latency")
            .get("measured_median_ms_per_token")
            .asDouble();
    ObjectNode root = (ObjectNode) mapper.readTree(baseline.toFile());
    for (String series : new String[] {"decode_ms_per_token", "prefill_ms"}) {
      ArrayNode a = (ArrayNode) root.get("latency").get(series);
      for (int i = 0; i < a.size(); i++) {
        a.set(i, series.startsWith("decode") ? now / 2 : a.get(i).asDouble() / 2);
      }
    }
    Path fast = tmp.resolve("fast.json");
    mapper.writeValue(fast.toFile(), root);
    Run slow =
        sketchrt(
            "validate",
            "--model",
            tuned.toString(),
            "--threads",
            "1",
            "--latency-baseline",
            fast.toString(),
            "--max-regression",
            "0.10",
            "--repeats",
            "9");
    assertEquals(ExitCodes.LATENCY_REGRESSION, slow.exit(), slow.out() + slow.err());
    assertTrue(slow.out().startsWith("FAILED latency"), slow.out());

    Run other =
        sketchrt(
            "validate",
            "--model",
            tuned.toString(),
            "--threads",
            "2",
            "--latency-baseline",
            baseline.toString());
    assertEquals(ExitCodes.BAD_INPUT, other.exit(), other.err());
    assertTrue(
        other
            .err()
            .contains("different settings: intra_op_threads is '1' in the baseline and '2' now"),
        other.err());
  }

  @Test
  void htmlReportRendersItsChartsInHeadlessChromium() throws Exception {
    Path html = tmp.resolve("report.html");
    Run r =
        sketchrt(
            "validate",
            "--model",
            tuned.toString(),
            "--sketch",
            EXAMPLE.resolve("sketch.pkl").toString(),
            "--tuned",
            EXAMPLE.resolve("tuned").toString(),
            "--contexts",
            "4,8,16",
            "--report",
            html.toString());
    assertEquals(0, r.exit(), r.err());
    String text = Files.readString(html);
    assertTrue(
        !text.contains("<script") && !text.contains("http://")
            || text.contains("http://www.w3.org/2000/svg"),
        "self-contained");
    Headless.Screenshot shot = Headless.screenshot(html, tmp.resolve("report.png"));
    // The per-layer chart draws its points in #1565c0 (exact LUT) and #ef6c00 (bf16 LUT), the curve
    // in #2e7d32.
    assertTrue(
        shot.pixelsNear(0x1565c0) > 50, "exact-LUT points not drawn: " + shot.pixelsNear(0x1565c0));
    assertTrue(shot.pixelsNear(0xef6c00) > 50, "bf16-LUT points not drawn");
    assertTrue(shot.pixelsNear(0x2e7d32) > 200, "decode curve or verdict not drawn");
    assertTrue(shot.pixelsNear(0xc62828) > 50, "tolerance line not drawn");
  }

  @Test
  void inspectWorksOnEveryFixtureAndItsInputs() throws Exception {
    for (Path fixture : TestData.fixtures()) {
      Path out =
          ConvertThenGenerateTest.convert(fixture, tmp.resolve("i-" + fixture.getFileName()));
      Run text = sketchrt("inspect", "--model", out.toString());
      assertEquals(0, text.exit(), text.err());
      assertTrue(
          text.out().contains("sketched modules: ") && text.out().contains("ort-cpu/sketch"),
          text.out());
      Run json = sketchrt("inspect", "--model", out.toString(), "--json");
      JsonNode j = new ObjectMapper().readTree(json.out());
      assertEquals(
          j.get("card").get("sketch").get("modules").asInt(), j.get("sketched_modules").size());
      assertTrue(j.get("bytes").get("codes").asLong() > 0);
      Stream.Builder<String> args =
          Stream.<String>builder()
              .add("inspect")
              .add("--sketch")
              .add(fixture.resolve("sketch.pkl").toString())
              .add("--json");
      if (Files.exists(fixture.resolve("tuned"))) {
        args.add("--tuned").add(fixture.resolve("tuned").toString());
      }
      Run in = sketchrt(args.build().toArray(String[]::new));
      assertEquals(0, in.exit(), in.err());
      JsonNode k = new ObjectMapper().readTree(in.out());
      assertEquals(j.get("sketched_modules").size(), k.get("module_count").asInt());
    }
    assertEquals(ExitCodes.BAD_INPUT, sketchrt("inspect", "--model", tmp.toString()).exit());
    assertEquals(ExitCodes.BAD_INPUT, sketchrt("inspect").exit());
  }
}
