package io.sketchrt.serve;

import io.sketchrt.runtime.Model;
import java.nio.file.Path;

/** A server on loopback (an ephemeral port) over its own model, closed in order. */
record Running(OpenAiServer server, Model model) implements AutoCloseable {
  static Running start(ServeOptions options) throws Exception {
    Path dir = ArithSets.dir();
    OpenAiServer server = OpenAiServer.start(options.withPort(0));
    Model model = Model.load(dir);
    server.serve(model);
    return new Running(server, model);
  }

  static Running start() throws Exception {
    return start(ServeOptions.defaults());
  }

  Client client() {
    return new Client(server);
  }

  /** Makes every engine step take at least {@code millis}, so a test can act mid-generation. */
  Running slowSteps(long millis) {
    server.setStepHook(
        () -> {
          try {
            Thread.sleep(millis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    return this;
  }

  @Override
  public void close() {
    server.close();
    model.close();
  }
}
