package io.sketchrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Prompts keep their characters under LC_ALL=C (issue 11), checked in a JVM started that way. */
class CommandLineTextTest {

  /** Child: prints each recovered argument's code points, and the text itself on stdout. */
  public static void main(String[] args) {
    String[] fixed = CommandLineText.recoverArgs(args);
    java.io.PrintStream out = CommandLineText.stdout();
    for (String a : fixed) {
      out.println(a.codePoints().mapToObj(Integer::toHexString).toList() + " " + a);
    }
  }

  @Test
  void argumentsAndOutputSurviveTheCLocale() throws Exception {
    assumeTrue(Files.isReadable(Path.of("/proc/self/cmdline")), "no /proc/self/cmdline here");
    String prompt = "héllo 世界 🙂";
    ProcessBuilder pb =
        new ProcessBuilder(
            ProcessHandle.current().info().command().orElse("java"),
            "-cp",
            System.getProperty("java.class.path"),
            CommandLineTextTest.class.getName(),
            prompt,
            "plain");
    pb.environment().put("LC_ALL", "C");
    pb.environment().remove("LANG");
    Process p = pb.redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assumeTrue(p.waitFor(60, TimeUnit.SECONDS), "child hung");
    List<String> lines = new String(out, StandardCharsets.UTF_8).lines().toList();
    assertEquals(0, p.exitValue(), String.join("\n", lines));
    String expected = prompt.codePoints().mapToObj(Integer::toHexString).toList() + " " + prompt;
    assertEquals(List.of(expected, "[70, 6c, 61, 69, 6e] plain"), lines);
  }
}
