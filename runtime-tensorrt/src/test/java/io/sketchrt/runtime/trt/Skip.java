package io.sketchrt.runtime.trt;

import org.junit.jupiter.api.Assumptions;

/** Skips a test that needs what this machine lacks, printing why (CI lists skipped tests). */
final class Skip {
  private Skip() {}

  static void unless(boolean condition, String reason) {
    if (!condition) {
      System.out.println("SKIPPED: " + reason);
      Assumptions.assumeTrue(false, reason);
    }
  }
}
