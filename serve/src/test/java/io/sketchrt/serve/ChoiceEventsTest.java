package io.sketchrt.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.runtime.GenerationResult;
import io.sketchrt.runtime.StopReason;
import io.sketchrt.runtime.Token;
import org.junit.jupiter.api.Test;

/** The per-request buffer: the engine's offers never wait, and overflow cancels, not stalls. */
class ChoiceEventsTest {
  private static Token token(int id) {
    return new Token(0, id, "t" + id, null);
  }

  @Test
  void aClientTooFarBehindMakesTheOfferThrowButTheEndStillArrives() throws Exception {
    ChoiceEvents events = new ChoiceEvents(2);
    events.offerToken(0, token(1));
    events.offerToken(0, token(2));
    assertFalse(events.overflowed());
    // the engine's listener throwing is what cancels the engine request (Engine's contract)
    assertThrows(IllegalStateException.class, () -> events.offerToken(0, token(3)));
    assertTrue(events.overflowed());
    assertThrows(IllegalStateException.class, () -> events.offerToken(0, token(4)));
    GenerationResult cancelled =
        new GenerationResult("t1t2", new long[] {1, 2}, 3, StopReason.CANCELLED, 0, 0, 0);
    events.finish(0, cancelled, null);
    assertEquals(1, ((ChoiceEvents.TokenEvent) events.poll(10)).token().id());
    assertEquals(2, ((ChoiceEvents.TokenEvent) events.poll(10)).token().id());
    assertInstanceOf(ChoiceEvents.Finished.class, events.poll(10));
    assertNull(events.poll(10));
  }

  @Test
  void aReadingClientNeverOverflows() throws Exception {
    ChoiceEvents events = new ChoiceEvents(2);
    for (int i = 0; i < 100; i++) {
      events.offerToken(0, token(i));
      assertEquals(i, ((ChoiceEvents.TokenEvent) events.poll(10)).token().id());
    }
    assertFalse(events.overflowed());
  }
}
