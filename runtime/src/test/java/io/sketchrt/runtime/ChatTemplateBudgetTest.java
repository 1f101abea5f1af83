package io.sketchrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hostile chat templates (issue 11): each ends quickly with a one-line error naming the budget. */
class ChatTemplateBudgetTest {
  private static final Path SOURCE = Path.of("evil/tokenizer_config.json");
  private static final List<ChatMessage> HI = List.of(ChatMessage.user("hi"));

  private static SketchrtException fails(String template, Duration timeFloor, String fragment) {
    ChatTemplate t = new ChatTemplate(template, SOURCE, timeFloor);
    SketchrtException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () -> assertThrows(SketchrtException.class, () -> t.render(HI, true, "<s>", "</s>")));
    assertTrue(e.getMessage().startsWith(SOURCE + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    return e;
  }

  @Test
  void nestedLoopsWithoutOutputHitTheTimeBudget() {
    String loops =
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
            + "{% if a < 0 %}x{% endif %}{% endfor %}{% endfor %}{% endfor %}";
    fails(loops, Duration.ofMillis(300), "render time budget of 300 ms");
  }

  @Test
  void nestedLoopsWithOutputHitTheSizeBudget() {
    String loops =
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
            + "xxxxxxxxxxxxxxxx{% endfor %}{% endfor %}{% endfor %}";
    fails(loops, ChatTemplate.TIME_FLOOR, "output passed its size budget of 1048628 characters");
  }

  @Test
  void stringAndListBlowUpsAreBounded() {
    ChatTemplate t1 =
        new ChatTemplate(
            "{% set s = 'x' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s|length }}",
            SOURCE, ChatTemplate.TIME_FLOOR);
    assertThrows(SketchrtException.class, () -> t1.render(HI, true, "", ""));
    ChatTemplate t2 =
        new ChatTemplate(
            "{% set l = [] %}{% for i in range(1000) %}{% for j in range(1000) %}{% do l.append(j) %}{% endfor %}{% endfor %}{{ l|length }}",
            SOURCE, ChatTemplate.TIME_FLOOR);
    assertThrows(SketchrtException.class, () -> t2.render(HI, true, "", ""));
  }

  @Test
  void deepRecursionIsAnErrorNotACrash() {
    String macro = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
    ChatTemplate t = new ChatTemplate(macro, SOURCE, ChatTemplate.TIME_FLOOR);
    try {
      String out = t.render(HI, true, "", "");
      assertTrue(out.length() < 10_000, "recursion produced " + out.length() + " chars");
    } catch (SketchrtException e) {
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }

  @Test
  void aLongConversationGetsAProportionalBudget() throws SketchrtException {
    String content = "word ".repeat(400_000); // 2 MB: past the 1 MiB floor
    ChatTemplate t =
        new ChatTemplate(
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
            SOURCE, ChatTemplate.TIME_FLOOR);
    String out = t.render(List.of(ChatMessage.user(content)), false, "", "");
    assertEquals(content.length() + "user: \n".length(), out.length());
  }
}
