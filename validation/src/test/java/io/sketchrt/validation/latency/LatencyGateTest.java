package io.sketchrt.validation.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The gate's rule on fixed figures (the end-to-end runs are in the cli module's
 * ValidateCommandTest).
 */
class LatencyGateTest {
  private static final Map<String, String> S =
      Map.of("backend", "ort-cpu", "intra_op_threads", "1");

  private static LatencySamples samples(double... decode) {
    return new LatencySamples(S, decode, new double[] {1});
  }

  @Test
  void aClearSlowdownIsARegression() {
    LatencySamples base = samples(10, 10.2, 9.8, 10.1, 9.9);
    LatencySamples now = samples(12, 12.5, 11.8, 12.2, 12.1);
    LatencyGate.Regression r =
        assertThrows(LatencyGate.Regression.class, () -> LatencyGate.assertWithin(base, now, 0.10));
    assertTrue(
        r.getMessage().contains("REGRESSION") && r.getMessage().contains("allowed up to 11.000"),
        r.getMessage());
    assertEquals(0.2, r.verdict().change(), 0.01);
  }

  @Test
  void withinTheAllowanceOrNoisyIsNot() {
    LatencySamples base = samples(10, 10, 10, 10, 10);
    assertFalse(
        LatencyGate.assertWithin(base, samples(10.5, 10.9, 10.2, 10.8, 10.4), 0.10).regressed());
    // median above the allowance, but most repeats were as fast as the baseline: noise, not a
    // regression
    assertFalse(
        LatencyGate.compare(base, samples(9.9, 9.95, 12, 12, 12.5, 9.8, 9.9, 12.1, 9.7), 0.10)
            .regressed());
  }

  @Test
  void differentSettingsAreRefused() {
    LatencySamples other =
        new LatencySamples(
            Map.of("backend", "ort-cpu", "intra_op_threads", "2"),
            new double[] {1},
            new double[] {1});
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LatencyGate.compare(samples(1), other, 0.1));
    assertTrue(
        e.getMessage().contains("intra_op_threads is '1' in the baseline and '2' now"),
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> LatencyGate.compare(samples(1), samples(1), -0.1));
  }
}
