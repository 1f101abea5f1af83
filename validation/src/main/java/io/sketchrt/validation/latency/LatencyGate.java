package io.sketchrt.validation.latency;

import java.util.Map;
import java.util.TreeSet;

/**
 * Decides whether decode got slower than a baseline allows. Noise-aware: it compares medians of
 * repeats, and calls a regression only when the measured median is above the allowance <em>and</em>
 * the measured lower quartile is slower than the baseline's median (three repeats in four were
 * slower than the baseline's typical run), so a few slow repeats on a shared machine cannot fail a
 * build. Runs under different settings are refused.
 *
 * <pre>{@code
 * // in a service's own JUnit test
 * LatencySamples baseline = LatencySamples.read(Path.of("src/test/resources/decode-baseline.json"));
 * LatencySamples now = ...; // e.g. from GenerateBench under baseline.settings()
 * LatencyGate.assertWithin(baseline, now, 0.10); // throws LatencyGate.Regression (an AssertionError)
 * }</pre>
 */
public final class LatencyGate {
  private LatencyGate() {}

  /**
   * A decode latency regression beyond the allowance; an {@link AssertionError} so JUnit reports it
   * as a failure.
   */
  public static final class Regression extends AssertionError {
    private final Verdict verdict;

    Regression(Verdict verdict) {
      super(verdict.describe());
      this.verdict = verdict;
    }

    public Verdict verdict() {
      return verdict;
    }
  }

  /** The comparison, printed either way. */
  public record Verdict(
      double baselineMedian,
      double baselineMin,
      double baselineMax,
      double measuredMedian,
      double measuredMin,
      double measuredMax,
      double maxRegression,
      boolean regressed) {

    public double allowed() {
      return baselineMedian * (1 + maxRegression);
    }

    public double change() {
      return measuredMedian / baselineMedian - 1;
    }

    public String describe() {
      return String.format(
          "decode %.3f ms/token (median; min %.3f, max %.3f) against baseline %.3f (min %.3f, max %.3f): "
              + "%+.1f%%, allowed up to %.3f ms/token (+%.0f%%): %s",
          measuredMedian,
          measuredMin,
          measuredMax,
          baselineMedian,
          baselineMin,
          baselineMax,
          100 * change(),
          allowed(),
          100 * maxRegression,
          regressed ? "REGRESSION" : "within allowance");
    }
  }

  /** Compares; throws IllegalArgumentException when the settings differ. */
  public static Verdict compare(
      LatencySamples baseline, LatencySamples measured, double maxRegression) {
    if (!(maxRegression >= 0) || Double.isInfinite(maxRegression)) {
      throw new IllegalArgumentException(
          "the allowed regression must be a fraction >= 0, e.g. 0.10 (got " + maxRegression + ")");
    }
    requireSameSettings(baseline.settings(), measured.settings());
    double allowed = baseline.decodeMedian() * (1 + maxRegression);
    boolean regressed =
        measured.decodeMedian() > allowed
            && measured.decodeLowerQuartile() > baseline.decodeMedian();
    return new Verdict(
        baseline.decodeMedian(),
        baseline.decodeMin(),
        baseline.decodeMax(),
        measured.decodeMedian(),
        measured.decodeMin(),
        measured.decodeMax(),
        maxRegression,
        regressed);
  }

  /** Throws {@link Regression} when {@code measured} is slower than {@code baseline} allows. */
  public static Verdict assertWithin(
      LatencySamples baseline, LatencySamples measured, double maxRegression) {
    Verdict v = compare(baseline, measured, maxRegression);
    if (v.regressed()) {
      throw new Regression(v);
    }
    return v;
  }

  static void requireSameSettings(Map<String, String> a, Map<String, String> b) {
    TreeSet<String> keys = new TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    for (String k : keys) {
      String x = a.get(k);
      String y = b.get(k);
      if (x == null ? y != null : !x.equals(y)) {
        throw new IllegalArgumentException(
            "cannot compare latencies measured under different settings: "
                + k
                + " is '"
                + x
                + "' in the baseline and '"
                + y
                + "' now");
      }
    }
  }
}
