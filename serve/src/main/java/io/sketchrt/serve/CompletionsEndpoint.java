package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.StopReason;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: parse, check, submit one
 * engine request per choice, and answer whole or as server-sent events. Runs on the request's own
 * virtual thread; the engine's thread only offers tokens into the request's {@link ChoiceEvents},
 * and this thread writes them, so a slow client holds nobody but itself.
 */
final class CompletionsEndpoint {
  private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

  private final Model model;
  private final ModelNames names;
  private final EngineLoop loop;
  private final Semaphore admission;
  private final ServerMetrics metrics;
  private final ServeOptions options;

  CompletionsEndpoint(
      Model model,
      ModelNames names,
      EngineLoop loop,
      Semaphore admission,
      ServerMetrics metrics,
      ServeOptions options) {
    this.model = model;
    this.names = names;
    this.loop = loop;
    this.admission = admission;
    this.metrics = metrics;
    this.options = options;
  }

  void handle(HttpExchange ex, boolean chat) throws IOException, InterruptedException {
    ObjectNode body = Json.parseObject(Exchanges.body(ex));
    String modelId = names.resolve(Fields.string(body, "model"));
    List<long[]> prompts =
        chat ? List.of(Prompts.chat(body, model)) : Prompts.completion(body, model);
    // completions: 16 tokens unless asked (OpenAI's default); chat: up to the context
    SamplingParams params =
        SamplingParams.parse(body, chat ? model.card().maxPositionEmbeddings() : 16, chat);
    if (prompts.size() * params.n() > options.capacity()) {
      throw ApiException.badRequest(
          "n",
          prompts.size() * params.n()
              + " choices asked for at once; this server holds "
              + options.capacity());
    }
    String set = names.tunedSet(modelId);
    List<Generation.Choice> choices = new ArrayList<>();
    int promptTokens = 0;
    for (long[] p : prompts) {
      promptTokens += p.length;
      for (int i = 0; i < params.n(); i++) {
        choices.add(new Generation.Choice(p, params.config(set, i)));
      }
    }
    long[] lastPromptIds = new long[choices.size()];
    for (int i = 0; i < lastPromptIds.length; i++) {
      long[] p = choices.get(i).prompt();
      lastPromptIds[i] = p.length == 0 ? -1 : p[p.length - 1];
    }
    Responses responses = new Responses(chat, modelId, tokenText(model), lastPromptIds);
    if (!params.stream()) {
      Generation g =
          Generation.submit(
              loop, admission, choices, modelId, metrics, null, params.logprobs() >= 0);
      List<GenerationResult> results = g.results();
      if (results.stream().anyMatch(r -> r.stopReason() == StopReason.CANCELLED)) {
        throw ApiException.unavailable("the request was cancelled: the server is shutting down");
      }
      Exchanges.json(ex, 200, responses.whole(results, g.tokens(), promptTokens));
      return;
    }
    ChoiceEvents events = new ChoiceEvents(options.bufferedTokens());
    Generation g = Generation.submit(loop, admission, choices, modelId, metrics, events, false);
    try {
      stream(ex, g, events, responses, chat, params.includeUsage(), promptTokens);
    } catch (IOException e) {
      g.cancel(); // the client went away: its slots are free at the next step
    } finally {
      g.cancel(); // no-op for the choices that ended
    }
  }

  private void stream(
      HttpExchange ex,
      Generation g,
      ChoiceEvents events,
      Responses responses,
      boolean chat,
      boolean includeUsage,
      int promptTokens)
      throws IOException, InterruptedException {
    ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    ex.sendResponseHeaders(200, 0); // chunked
    OutputStream out = ex.getResponseBody();
    if (chat) {
      for (int i = 0; i < g.size(); i++) {
        frame(out, responses.roleChunk(i, includeUsage));
      }
      out.flush();
    }
    int open = g.size();
    int generated = 0;
    while (open > 0) {
      ChoiceEvents.Event e = events.poll(1000);
      switch (e) {
        case null -> {}
        case ChoiceEvents.TokenEvent t -> {
          String text = t.token().text();
          String finish = t.token().isLast() ? t.token().stopReason().finishReason() : null;
          // one chunk per token, its text empty while a character or stop string is incomplete
          // (or for a model without a tokenizer): clients count tokens and time the first
          frame(out, responses.chunk(t.choice(), t.token(), text, finish, includeUsage));
          out.flush();
        }
        case ChoiceEvents.Finished f -> {
          open--;
          generated += f.result().tokens().length;
          if (f.result().stopReason() == StopReason.CANCELLED) {
            String why =
                events.overflowed()
                    ? "the client read too slowly: the request was cancelled"
                    : "the request was cancelled: the server is shutting down";
            errorFrame(out, ApiException.unavailable(why));
            return;
          }
        }
        case ChoiceEvents.Failed f -> {
          errorFrame(out, ApiException.internal("the engine failed: " + f.error().getMessage()));
          return;
        }
      }
    }
    if (includeUsage) {
      frame(out, responses.usageChunk(promptTokens, generated));
    }
    out.write(DONE);
    out.flush();
  }

  /** Tokens' own texts after the one before them, for logprobs ("[id]" without a tokenizer). */
  private static Responses.TokenText tokenText(Model model) {
    if (!model.hasTokenizer()) {
      return (previous, ids) -> {
        String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
          out[i] = "[" + ids[i] + "]";
        }
        return out;
      };
    }
    return model.tokenizer()::tokenTexts;
  }

  private static void frame(OutputStream out, ObjectNode chunk) throws IOException {
    out.write(("data: " + Json.text(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
  }

  /** An error after the 200 went out: a {@code data: {"error": ...}} frame ends the stream. */
  private static void errorFrame(OutputStream out, ApiException e) throws IOException {
    frame(out, Json.errorBody(e));
    out.write(DONE);
    out.flush();
  }
}
