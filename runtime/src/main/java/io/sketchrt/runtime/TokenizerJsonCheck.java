package io.sketchrt.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Checks a {@code tokenizer.json} for what makes the Rust {@code tokenizers} library panic, which
 * aborts the whole JVM from inside a native call, before the file is handed to it:
 *
 * <ul>
 *   <li>a model with an empty vocabulary, which fails on every text;
 *   <li>a {@code TemplateProcessing} post-processor whose template names a special token that
 *       {@code special_tokens} lacks, whose special token has different numbers of ids and tokens,
 *       or whose single-sequence template uses the pair sequence {@code $B} (deserialising skips
 *       the library's own validation; the first encode indexes past the end);
 *   <li>a regular expression (pre-tokenizer, normalizer or decoder) that backtracks
 *       catastrophically: Oniguruma gives up after 10 million steps and the library panics on that
 *       error (see {@link RegexRisk}).
 * </ul>
 */
final class TokenizerJsonCheck {
  private TokenizerJsonCheck() {}

  static void check(Path file, JsonNode root) throws SketchrtException {
    if (!root.isObject()) {
      throw new SketchrtException(file + ": not a tokenizer (the JSON is not an object)");
    }
    checkVocabulary(file, root.path("model"));
    checkPostProcessor(file, root.path("post_processor"));
    for (String part : new String[] {"normalizer", "pre_tokenizer", "decoder", "post_processor"}) {
      checkRegexes(file, part, root.path(part), 0);
    }
  }

  /**
   * A model without a single token cannot encode anything (a Unigram model then fails every text
   * with "unk_id is missing").
   */
  private static void checkVocabulary(Path file, JsonNode model) throws SketchrtException {
    JsonNode vocab = model.path("vocab");
    if (model.isObject() && vocab.isContainerNode() && vocab.isEmpty()) {
      throw new SketchrtException(
          file
              + ": model.vocab is empty: the "
              + model.path("type").asText("tokenizer")
              + " model has no tokens");
    }
  }

  private static void checkPostProcessor(Path file, JsonNode p) throws SketchrtException {
    if (!p.isObject()) {
      return;
    }
    String type = p.path("type").asText("");
    if (type.equals("Sequence")) {
      for (JsonNode inner : p.path("processors")) {
        checkPostProcessor(file, inner);
      }
      return;
    }
    if (!type.equals("TemplateProcessing")) {
      return;
    }
    JsonNode special = p.path("special_tokens");
    Set<String> known = new HashSet<>();
    for (Map.Entry<String, JsonNode> e : special.properties()) {
      JsonNode ids = e.getValue().path("ids");
      JsonNode tokens = e.getValue().path("tokens");
      if (!ids.isArray() || !tokens.isArray() || ids.size() != tokens.size()) {
        throw inconsistent(
            file,
            "special token "
                + quote(e.getKey())
                + " has "
                + ids.size()
                + " ids but "
                + tokens.size()
                + " tokens");
      }
      known.add(e.getKey());
    }
    for (String template : new String[] {"single", "pair"}) {
      for (JsonNode piece : p.path(template)) {
        JsonNode token = piece.path("SpecialToken");
        if (token.isObject() && !known.contains(token.path("id").asText())) {
          throw inconsistent(
              file,
              "the '"
                  + template
                  + "' template uses special token "
                  + quote(token.path("id").asText())
                  + ", which special_tokens does not define");
        }
        if (template.equals("single") && piece.path("Sequence").path("id").asText("").equals("B")) {
          throw inconsistent(file, "the 'single' template uses the pair sequence $B");
        }
      }
    }
  }

  private static SketchrtException inconsistent(Path file, String problem) {
    return new SketchrtException(
        file
            + ": inconsistent post_processor: "
            + problem
            + " (the tokenizers library would abort the process on the first encode)");
  }

  /** Every {@code {"Regex": "..."}} in a component, however deeply nested in Sequences. */
  private static void checkRegexes(Path file, String where, JsonNode n, int depth)
      throws SketchrtException {
    if (depth > 64) {
      throw new SketchrtException(file + ": '" + where + "' is nested more than 64 levels deep");
    }
    if (n.isObject()) {
      JsonNode regex = n.get("Regex");
      if (regex != null && regex.isTextual()) {
        String problem = RegexRisk.problem(regex.asText());
        if (problem != null) {
          throw new SketchrtException(
              file
                  + ": "
                  + where
                  + " regex "
                  + quote(regex.asText())
                  + " "
                  + problem
                  + " (the tokenizers library aborts the process when a match gives up)");
        }
      }
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        checkRegexes(file, where, e.getValue(), depth + 1);
      }
    } else if (n.isArray()) {
      for (JsonNode e : n) {
        checkRegexes(file, where, e, depth + 1);
      }
    }
  }

  /** Text from the file, quoted for a one-line message: controls escaped, cut at 80 chars. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder("'");
    int n = Math.min(s.length(), 80);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append(s.length() > n ? "...'" : "'").toString();
  }
}
