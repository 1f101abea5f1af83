package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inputs that used to kill the JVM from native code (issue 11). Each case runs in a JVM of its own
 * ({@link NativeHazards}), so a regression fails this test with the child's exit status instead of
 * ending the test run.
 */
@Tag("slow") // about 12 s: one child JVM per case
class NativeHazardsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private record Child(int exit, String out) {}

  private static Child fork(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(NativeHazards.class.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("child still running after 120 s");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    return new Child(p.exitValue(), text);
  }

  private static String lastLine(Child c) {
    List<String> lines = c.out().lines().filter(l -> !l.startsWith("SLF4J")).toList();
    return lines.isEmpty() ? "" : lines.getLast();
  }

  private static void assertClean(Child c, String expectedStart) {
    assertEquals(0, c.exit(), () -> "child died (exit " + c.exit() + "): " + tail(c.out()));
    assertTrue(lastLine(c).startsWith(expectedStart), () -> "child said: " + tail(c.out()));
  }

  private static String tail(String s) {
    return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
  }

  // ---- ONNX Runtime's environment walks the command line recursively

  @ParameterizedTest
  @ValueSource(ints = {4_500, 100_000})
  void aLongCommandLineDoesNotCrashOnnxRuntime(int chars) throws Exception {
    assertClean(fork("ort-env", "a".repeat(chars), " ".repeat(chars)), "ok");
  }

  // ---- tokenizer.json that makes the Rust library panic (abort)

  /** A copy of the toy tokenizer with one change. */
  private Path tokenizerWith(Consumer<ObjectNode> change) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("tok" + System.nanoTime()));
    ObjectNode root = (ObjectNode) JSON.readTree(ToyModel.dir().resolve("tokenizer.json").toFile());
    change.accept(root);
    JSON.writeValue(dir.resolve("tokenizer.json").toFile(), root);
    return dir;
  }

  private static ObjectNode post(ObjectNode root) {
    return (ObjectNode) root.get("post_processor");
  }

  @Test
  void templateNamingAnUndefinedSpecialTokenIsRefused() throws Exception {
    Path dir = tokenizerWith(r -> post(r).putObject("special_tokens"));
    assertClean(fork("encode", dir.toString(), "a", "10", "0"), "refused: ");
    assertTrue(
        lastLine(fork("encode", dir.toString(), "a", "10", "0"))
            .contains(
                "inconsistent post_processor: the 'single' template uses special token '<s>', which special_tokens does not define"));
  }

  @Test
  void specialTokenWithMismatchedIdsAndTokensIsRefused() throws Exception {
    Path dir =
        tokenizerWith(
            r ->
                ((ObjectNode) post(r).get("special_tokens").get("<s>"))
                    .putArray("ids")
                    .add(1)
                    .add(2));
    Child c = fork("encode", dir.toString(), "a", "10", "0");
    assertClean(c, "refused: ");
    assertTrue(lastLine(c).contains("special token '<s>' has 2 ids but 1 tokens"), lastLine(c));
  }

  @Test
  void singleTemplateUsingThePairSequenceIsRefused() throws Exception {
    Path dir =
        tokenizerWith(
            r ->
                post(r)
                    .withArray("single")
                    .addObject()
                    .putObject("Sequence")
                    .put("id", "B")
                    .put("type_id", 0));
    Child c = fork("encode", dir.toString(), "a", "10", "0");
    assertClean(c, "refused: ");
    assertTrue(
        lastLine(c).contains("the 'single' template uses the pair sequence $B"), lastLine(c));
  }

  @ParameterizedTest
  @ValueSource(strings = {"(a+)+b", "(?:a+){2,}b", "(a{1,3})+b", "([a-z]+)*[0-9]", "a*a*a*a*a*b"})
  void catastrophicRegexIsRefused(String regex) throws Exception {
    Path dir =
        tokenizerWith(
            r ->
                r.putObject("pre_tokenizer")
                    .put("type", "Split")
                    .put("behavior", "Isolated")
                    .put("invert", false)
                    .putObject("pattern")
                    .put("Regex", regex));
    Child c = fork("encode", dir.toString(), "a", "200", "0");
    assertClean(c, "refused: ");
    assertTrue(lastLine(c).contains("pre_tokenizer regex"), lastLine(c));
  }

  // ---- long runs of letters and spaces, on a caller thread with a small stack

  @ParameterizedTest
  @ValueSource(strings = {"a", " ", "\n", "é"})
  void longRunsEncodeOnASmallCallerStack(String unit) throws Exception {
    Child c = fork("encode", ToyModel.dir().toString(), unit, "200000", String.valueOf(256 << 10));
    assertClean(c, "encoded ");
  }

  // ---- closing while other threads use the tokenizer

  @Test
  void closingUnderConcurrentUseGivesExceptionsNotCrashes() throws Exception {
    Child c = fork("close-race", ToyModel.dir().toString());
    assertClean(c, "ok ");
  }

  // ---- in-process checks (no native call involved)

  @Test
  void textsLongerThanTheLimitAreRefusedBeforeTheNativeCall() throws SketchrtException {
    try (Tokenizer t = Tokenizer.load(ToyModel.dir())) {
      var e =
          assertThrows(
              UncheckedSketchrtException.class,
              () -> t.encode("a".repeat(Tokenizer.MAX_TEXT_CHARS + 1), true));
      assertTrue(e.getMessage().contains("the tokenizer takes at most 4194304"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class, () -> t.decode(new long[Tokenizer.MAX_DECODE_IDS + 1]));
      t.close();
      assertThrows(IllegalStateException.class, () -> t.encode("a", true));
      assertThrows(IllegalStateException.class, () -> t.decode(new long[] {1}));
    }
  }

  @Test
  void releasedTokenizerPatternsPassTheRegexCheck() {
    for (String p :
        List.of(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            " ?[^(\\s|[.,!?…。，、।۔،])]+",
            ".",
            "\\d|\\s+|[^\\d\\s]+")) {
      assertEquals(null, RegexRisk.problem(p), p);
    }
  }

  @Test
  void regexShapesThatAbortedTheJvmAreFoundWithoutRunningThem() {
    for (String p :
        List.of(
            "(a+)+b",
            "(?:a+){2,}b",
            "(a{1,3})+b",
            "(x*y?)*",
            "((ab)+c)+",
            "(a?){30}a{30}",
            "(?:\\s|\\S+)+$")) {
      assertTrue(RegexRisk.repeatsVariableLengthGroup(p), p);
    }
    for (String p :
        List.of("(ab)+c", "(?:'s|'t)?\\p{L}+", "[(a+)+]", "\\(a+\\)+", "(a{2})+", "\\p{N}{1,3}")) {
      assertTrue(!RegexRisk.repeatsVariableLengthGroup(p), p);
    }
  }

  @Test
  void everyBundledTokenizerPassesTheCheck() throws Exception {
    List<Path> files = new ArrayList<>();
    files.add(ToyModel.dir().resolve("tokenizer.json"));
    Path repo = ToyModel.dir();
    while (repo != null && !Files.isDirectory(repo.resolve("testdata"))) {
      repo = repo.getParent();
    }
    if (repo != null) {
      try (var s = Files.walk(repo.resolve("testdata"))) {
        s.filter(p -> p.getFileName().toString().equals("tokenizer.json")).forEach(files::add);
      }
      files.add(repo.resolve("examples/arith/hf/tokenizer.json"));
    }
    assertTrue(files.size() > 1, "repository test data not found from " + ToyModel.dir());
    for (Path f : files) {
      TokenizerJsonCheck.check(f, JSON.readTree(f.toFile()));
    }
  }
}
