package io.sketchrt.runtime;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template (Jinja2) rendered with Jinjava, configured like
 * {@code transformers}' {@code apply_chat_template}: trim_blocks and lstrip_blocks on, and a
 * {@code raise_exception(msg)} function for templates that reject a conversation.
 */
final class ChatTemplate {
  private final String template;
  private final Path source;
  private final Jinjava jinjava;

  ChatTemplate(String template, Path source) {
    this.template = template;
    this.source = source;
    this.jinjava =
        new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).withFailOnUnknownTokens(false).build());
    jinjava
        .getGlobalContext()
        .registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
  }

  String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken)
      throws SketchrtException {
    List<Map<String, Object>> turns = new ArrayList<>();
    for (ChatMessage m : messages) {
      turns.add(Map.of("role", m.role(), "content", m.content()));
    }
    Map<String, Object> context = new HashMap<>();
    context.put("messages", turns);
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result = jinjava.renderForResult(template, context);
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new SketchrtException(source + ": the chat template failed: " + rootMessage(error));
      }
    }
    return result.getOutput();
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
}
