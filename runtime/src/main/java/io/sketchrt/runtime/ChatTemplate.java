package io.sketchrt.runtime;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaNodePreProcessor;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template (Jinja2) rendered with Jinjava, configured like {@code
 * transformers}' {@code apply_chat_template}: trim_blocks and lstrip_blocks on, and a {@code
 * raise_exception(msg)} function for templates that reject a conversation.
 *
 * <p>Templates come from downloaded files, so each render runs under budgets: output and any string
 * at most {@link #OUTPUT_FLOOR} characters plus four times the conversation's, lists and maps at
 * most {@link #MAX_COLLECTION} entries, {@code range()} at most 1,000 numbers, and a wall-clock
 * time of {@link #TIME_FLOOR} plus one second per MiB of conversation. Released chat templates
 * render in milliseconds and add a few hundred characters per message.
 */
final class ChatTemplate {
  static final long OUTPUT_FLOOR = 1 << 20;
  static final int MAX_COLLECTION = 100_000;
  static final Duration TIME_FLOOR = Duration.ofSeconds(5);

  /** The deadline of the render running on this thread (Jinjava renders on the caller's). */
  private static final ThreadLocal<long[]> DEADLINE = new ThreadLocal<>();

  private final String template;
  private final Path source;
  private final Jinjava jinjava;
  private final Duration timeFloor;

  ChatTemplate(String template, Path source) {
    this(template, source, TIME_FLOOR);
  }

  /** With a different time floor: for tests that check the time budget without waiting 5 s. */
  ChatTemplate(String template, Path source, Duration timeFloor) {
    this.template = template;
    this.source = source;
    this.timeFloor = timeFloor;
    this.jinjava = new Jinjava(config(OUTPUT_FLOOR));
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
  }

  private static JinjavaConfig config(long maxChars) {
    JinjavaNodePreProcessor interruptCheck = new JinjavaNodePreProcessor();
    return JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        .withFailOnUnknownTokens(false)
        .withNestedInterpretationEnabled(false)
        .withMaxOutputSize(maxChars)
        .withMaxStringLength(maxChars)
        .withMaxListSize(MAX_COLLECTION)
        .withMaxMapSize(MAX_COLLECTION)
        .withRangeLimit(1000)
        .withNodePreProcessor(
            (Node node, JinjavaInterpreter interpreter) -> {
              interruptCheck.accept(node, interpreter);
              long[] deadline = DEADLINE.get();
              if (deadline != null && System.nanoTime() - deadline[0] > 0) {
                throw new RenderTimeExceeded();
              }
            })
        .build();
  }

  String render(
      List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken)
      throws SketchrtException {
    List<Map<String, Object>> turns = new ArrayList<>();
    long inputChars = bosToken.length() + eosToken.length();
    for (ChatMessage m : messages) {
      turns.add(Map.of("role", m.role(), "content", m.content()));
      inputChars += m.role().length() + m.content().length();
    }
    Map<String, Object> context = new HashMap<>();
    context.put("messages", turns);
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    long maxChars = OUTPUT_FLOOR + 4 * inputChars;
    Duration budget = timeFloor.plusSeconds(inputChars >> 20);
    DEADLINE.set(new long[] {System.nanoTime() + budget.toNanos()});
    RenderResult result;
    try {
      result = jinjava.renderForResult(template, context, config(maxChars));
    } catch (RenderTimeExceeded e) {
      throw timeExceeded(budget);
    } catch (OutputTooBigException e) {
      throw outputExceeded(maxChars);
    } catch (RuntimeException | StackOverflowError e) {
      throw new SketchrtException(
          source + ": the chat template failed: " + SketchrtException.firstLine(e), e);
    } finally {
      DEADLINE.remove();
    }
    for (TemplateError error : result.getErrors()) {
      if (causedBy(error, RenderTimeExceeded.class)) {
        throw timeExceeded(budget);
      }
      if (causedBy(error, OutputTooBigException.class) || isSizeLimit(error)) {
        throw outputExceeded(maxChars);
      }
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new SketchrtException(source + ": the chat template failed: " + rootMessage(error));
      }
    }
    String out = result.getOutput();
    if (out.length() > maxChars) {
      throw outputExceeded(maxChars);
    }
    return out;
  }

  private SketchrtException timeExceeded(Duration budget) {
    return new SketchrtException(
        source
            + ": the chat template ran past its render time budget of "
            + budget.toMillis()
            + " ms");
  }

  private SketchrtException outputExceeded(long maxChars) {
    return new SketchrtException(
        source
            + ": the chat template's output passed its size budget of "
            + maxChars
            + " characters");
  }

  private static boolean causedBy(TemplateError error, Class<? extends Throwable> type) {
    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** Jinjava reports strings, lists and maps over their limits as errors naming the limit. */
  private static boolean isSizeLimit(TemplateError error) {
    String m = String.valueOf(error.getMessage());
    return m.contains("OutputTooBig")
        || m.contains("too big")
        || m.contains("exceeds")
        || m.contains("too large")
        || causedBy(error, com.hubspot.jinjava.interpret.CollectionTooBigException.class);
  }

  /** raise_exception's own message sits under Jinjava's "Error invoking function" wrappers. */
  private static String rootMessage(TemplateError error) {
    String message = error.getMessage();
    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage();
      }
    }
    return message == null ? "unknown error" : message.lines().findFirst().orElse("");
  }

  /** Called by templates as {@code raise_exception('...')}. */
  public static String raiseException(String message) {
    throw new IllegalArgumentException(message);
  }

  /** Thrown from the node hook once the deadline passes; unwinds the render. */
  private static final class RenderTimeExceeded extends RuntimeException {
    RenderTimeExceeded() {
      super("render time budget exceeded", null, false, false);
    }
  }
}
