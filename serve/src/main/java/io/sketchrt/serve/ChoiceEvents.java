package io.sketchrt.serve;

import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.Token;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the engine hands one HTTP request (its n choices), buffered for the request's writer. The
 * engine's thread only offers here and never waits: when {@code capacity} tokens are waiting for a
 * client that does not read, the offer throws, which cancels that engine request (the engine's
 * contract for a throwing listener), and the queue is marked overflowed so the writer ends the
 * response. A slow client so costs its own request and never a decode step.
 */
final class ChoiceEvents {
  /** A token of choice {@code choice}, a choice's end, or a choice's failure. */
  sealed interface Event {}

  record TokenEvent(int choice, Token token) implements Event {}

  record Finished(int choice, GenerationResult result) implements Event {}

  record Failed(int choice, Throwable error) implements Event {}

  private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger pendingTokens = new AtomicInteger();
  private final AtomicBoolean overflowed = new AtomicBoolean();
  private final int capacity;

  ChoiceEvents(int capacity) {
    this.capacity = capacity;
  }

  /** On the engine's thread: queues a token, or throws when the client is too far behind. */
  void offerToken(int choice, Token token) {
    if (overflowed.get() || pendingTokens.incrementAndGet() > capacity) {
      overflowed.set(true);
      throw new IllegalStateException("the client reads too slowly: " + capacity + " tokens wait");
    }
    queue.add(new TokenEvent(choice, token));
  }

  /** A choice's end (result or failure); never refused, so a response always learns its end. */
  void finish(int choice, GenerationResult result, Throwable error) {
    queue.add(error == null ? new Finished(choice, result) : new Failed(choice, error));
  }

  /** The next event, or null after {@code timeoutMillis}. */
  Event poll(long timeoutMillis) throws InterruptedException {
    Event e = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (e instanceof TokenEvent) {
      pendingTokens.decrementAndGet();
    }
    return e;
  }

  boolean overflowed() {
    return overflowed.get();
  }
}
