package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.converter.ConversionListener;
import io.sketchrt.converter.Converter;
import io.sketchrt.converter.tensor.DType;
import io.sketchrt.format.Target;
import io.sketchrt.format.testing.TestData;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sketchrt serve} as a user runs it: bad flags are one line and exit 2, and the real process
 * serves, then drains on SIGTERM and exits 0.
 */
class ServeCommandTest {
  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void convert() throws Exception {
    Path example = TestData.committed("examples/arith");
    model = tmp.resolve("arith");
    Converter.convert(
        new Converter.Request(
            example.resolve("hf"),
            example.resolve("sketch.pkl"),
            example.resolve("tuned"),
            model,
            DType.F32,
            Target.PORTABLE,
            false),
        ConversionListener.silent());
  }

  private static int run(StringWriter err, String... args) {
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void badFlagsAndAMissingModelAreOneLineAndExit2() {
    for (String[] args :
        List.of(
            new String[] {"serve", "--model", model.toString(), "--max-batch", "0"},
            new String[] {"serve", "--model", model.toString(), "--port", "70000"},
            new String[] {"serve", "--model", tmp.resolve("nothing").toString(), "--port", "0"})) {
      StringWriter err = new StringWriter();
      assertEquals(ExitCodes.BAD_INPUT, run(err, args), err.toString());
      String text = err.toString().strip();
      assertTrue(text.startsWith("sketchrt: error: "), text);
      assertFalse(text.contains("\n"), "one line: " + text);
    }
  }

  @Test
  @org.junit.jupiter.api.Tag("slow") // about 3 s: starts a JVM that loads the model
  void theProcessServesThenDrainsOnSigtermAndExits0() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules",
            "jdk.incubator.vector",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "serve",
            "--model",
            model.toString(),
            "--port",
            "0",
            "--api-key",
            "k"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      Pattern ready = Pattern.compile("ready on (http://\\S+)/v1 ");
      String base = null;
      StringBuilder seen = new StringBuilder();
      for (String line; base == null && (line = out.readLine()) != null; ) {
        seen.append(line).append('\n');
        Matcher m = ready.matcher(line);
        if (m.find()) {
          base = m.group(1);
        }
      }
      assertTrue(base != null, "the server said where it is ready:\n" + seen);
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                      .header("Authorization", "Bearer k")
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"prompt\":\"57-38=\",\"max_tokens\":8,\"temperature\":0}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.body().contains("\"finish_reason\""), r.body());
      p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM");
      String rest = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), seen + rest);
      assertTrue(rest.contains("draining") && rest.contains("stopped"), rest);
    } finally {
      p.destroyForcibly();
    }
  }
}
