package io.sketchrt.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sketchrt.format.ServeContract;
import io.sketchrt.runtime.EngineLoop;
import io.sketchrt.runtime.Model;
import io.sketchrt.runtime.Scheduler;
import io.sketchrt.runtime.SketchrtException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The OpenAI-compatible HTTP server of {@code sketchrt serve} (DESIGN section 8) on the JDK's
 * {@link HttpServer}, one virtual thread per request, over one {@link EngineLoop}. It listens from
 * {@link #start} on ({@code /health} answers 503 while the model loads), serves once {@link #serve}
 * has the model, and {@link #drain} refuses new requests with 503 while those in flight finish.
 */
public final class OpenAiServer implements AutoCloseable {
  private enum State {
    LOADING,
    READY,
    DRAINING
  }

  private final ServeOptions options;
  private final HttpServer http;
  private final ServerMetrics metrics;
  private final Semaphore admission;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile State state = State.LOADING;
  private volatile EngineLoop loop;
  private volatile Model model;
  private volatile ModelNames names;
  private volatile CompletionsEndpoint completions;
  private volatile Runnable stepHook; // tests: slows each engine step

  private OpenAiServer(ServeOptions options, HttpServer http) {
    this.options = options;
    this.http = http;
    this.metrics = new ServerMetrics(() -> loop);
    this.admission = new Semaphore(options.capacity());
  }

  /** Binds and starts answering; every endpoint but /health and /metrics is 503 until serve. */
  public static OpenAiServer start(ServeOptions options) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
    OpenAiServer server = new OpenAiServer(options, http);
    http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    http.createContext("/", server::handle);
    http.start();
    return server;
  }

  /** Starts the engine over {@code model} (which the caller owns and closes after this server). */
  public void serve(Model model) throws SketchrtException {
    EngineLoop l =
        EngineLoop.start(
            model,
            new Scheduler(options.maxBatch(), options.prefillTokens(), options.prefillTokens()));
    l.setStepListener(
        (rows, prefill, nanos) -> {
          metrics.onStep(rows);
          Runnable hook = stepHook;
          if (hook != null) {
            hook.run();
          }
        });
    this.model = model;
    this.names = new ModelNames(model);
    this.loop = l;
    this.completions = new CompletionsEndpoint(model, names, l, admission, metrics, options);
    state = State.READY;
  }

  /** Where it listens (the real port when 0 was asked for). */
  public InetSocketAddress address() {
    return http.getAddress();
  }

  /** Requests in the running batch now. */
  public int running() {
    EngineLoop l = loop;
    return l == null ? 0 : l.running();
  }

  /**
   * New requests get 503 from now on; waits up to {@code grace} for the engine's requests to end
   * and their responses to be written. Returns true when all of them did.
   */
  public boolean drain(Duration grace) throws InterruptedException {
    state = State.DRAINING;
    long deadline = System.nanoTime() + grace.toNanos();
    boolean done = loop == null || loop.drain(grace);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return done && inFlight.get() == 0;
  }

  void setStepHook(Runnable hook) {
    this.stepHook = hook;
  }

  private void handle(HttpExchange ex) {
    inFlight.incrementAndGet();
    try (ex) {
      try {
        route(ex);
      } catch (ApiException e) {
        Exchanges.error(ex, e);
      } catch (IOException e) {
        // the client went away before its answer: nothing to tell it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        Exchanges.error(
            ex, ApiException.internal(e.getClass().getSimpleName() + ": " + e.getMessage()));
      }
    } catch (IOException e) {
      // the error response itself could not be written: the client is gone
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private void route(HttpExchange ex) throws IOException, InterruptedException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    switch (path) {
      case ServeContract.HEALTH_PATH -> {
        expect(method, "GET", path);
        if (state != State.READY) {
          throw ApiException.unavailable(
              state == State.LOADING ? "the model is loading" : "the server is draining");
        }
        Exchanges.text(ex, 200, "application/json", "{\"status\":\"ok\"}");
      }
      case ServeContract.METRICS_PATH -> {
        expect(method, "GET", path);
        Exchanges.send(ex, 200, ServerMetrics.contentType(), metrics.scrape());
      }
      case "/v1/models" -> {
        expect(method, "GET", path);
        Exchanges.authorize(ex, options.apiKey());
        ready();
        Exchanges.json(ex, 200, models());
      }
      case "/v1/completions", "/v1/chat/completions" -> {
        expect(method, "POST", path);
        Exchanges.authorize(ex, options.apiKey());
        ready();
        completions.handle(ex, path.equals("/v1/chat/completions"));
      }
      case "/v1/load_tuned", "/v1/unload_tuned" -> {
        expect(method, "POST", path);
        Exchanges.authorize(ex, options.apiKey());
        if (!options.allowRuntimeTuned()) {
          throw ApiException.notFound(
              null, null, path + " is off: start the server with --allow-runtime-tuned");
        }
        ready();
        TunedEndpoint tuned = new TunedEndpoint(model);
        if (path.equals("/v1/load_tuned")) {
          tuned.load(ex);
        } else {
          tuned.unload(ex);
        }
      }
      default -> throw ApiException.notFound(null, null, "no endpoint " + path);
    }
  }

  private static void expect(String method, String allowed, String path) {
    if (!method.equalsIgnoreCase(allowed)) {
      throw ApiException.methodNotAllowed(method, path);
    }
  }

  private void ready() {
    switch (state) {
      case LOADING -> throw ApiException.unavailable("the model is loading: retry shortly");
      case DRAINING -> throw ApiException.unavailable("the server is shutting down");
      case READY -> {}
    }
  }

  /** Every tuned set, {@code parent} = the base (vLLM lists its LoRA adapters the same way). */
  private ObjectNode models() {
    ObjectNode o = Json.object();
    o.put("object", "list");
    ArrayNode data = o.putArray("data");
    long created = System.currentTimeMillis() / 1000;
    for (String id : names.ids()) {
      ObjectNode m = data.addObject();
      m.put("id", id);
      m.put("object", "model");
      m.put("created", created);
      m.put("owned_by", "sketchrt");
      m.put("root", names.base());
      if (id.equals(names.base())) {
        m.putNull("parent");
      } else {
        m.put("parent", names.base());
      }
      m.put("max_model_len", model.card().maxPositionEmbeddings());
    }
    return o;
  }

  /** Stops the engine (cancelling what is left) and the HTTP server. */
  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    state = State.DRAINING;
    EngineLoop l = loop;
    if (l != null) {
      l.close();
    }
    http.stop(0);
  }
}
