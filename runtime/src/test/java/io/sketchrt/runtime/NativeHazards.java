package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.Backends;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs, in a JVM of its own (see {@link NativeHazardsTest}), something that used to kill the
 * process from native code. Prints one result line; a crash shows up as the exit status instead.
 */
public final class NativeHazards {
  private NativeHazards() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      // args[1..]: ignored, only there to make the command line long
      case "ort-env" -> {
        Backends.find("ort-cpu").checkAvailable();
        System.out.println("ok");
      }
      // args[1]: tokenizer dir, args[2]: text unit, args[3]: repeats, args[4]: caller stack bytes
      case "encode" -> {
        String text = args[2].repeat(Integer.parseInt(args[3]));
        AtomicReference<String> out = new AtomicReference<>();
        Thread t =
            new Thread(
                null,
                () -> out.set(encode(Path.of(args[1]), text)),
                "caller",
                Long.parseLong(args[4]));
        t.start();
        t.join();
        System.out.println(out.get());
      }
      case "close-race" -> System.out.println(closeRace(Path.of(args[1])));
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  private static String encode(Path dir, String text) {
    try (Tokenizer t = Tokenizer.load(dir)) {
      long[] ids = t.encode(text, true);
      return "encoded " + ids.length + " decoded " + t.decode(ids).length();
    } catch (SketchrtException | UncheckedSketchrtException e) {
      return "refused: " + e.getMessage();
    }
  }

  /** Threads encode and decode in a loop while the tokenizer is closed under them. */
  private static String closeRace(Path dir) throws Exception {
    int rounds = 20;
    AtomicInteger refused = new AtomicInteger();
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    for (int r = 0; r < rounds; r++) {
      Tokenizer t = Tokenizer.load(dir);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        threads.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        while (true) {
                          long[] ids = t.encode("Once upon a time ".repeat(50), true);
                          t.decode(ids);
                        }
                      } catch (IllegalStateException e) {
                        refused.incrementAndGet();
                      } catch (Throwable e) {
                        unexpected.set(e);
                      }
                    }));
      }
      Thread.sleep(5);
      t.close();
      for (Thread th : threads) {
        th.join();
      }
    }
    return unexpected.get() != null
        ? "unexpected " + unexpected.get()
        : "ok " + refused.get() + " refused";
  }
}
