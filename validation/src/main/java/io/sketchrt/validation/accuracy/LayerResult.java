package io.sketchrt.validation.accuracy;

/**
 * One sketched layer checked against the training-time computation.
 *
 * @param relError ‖y − ref‖ / ‖ref‖ against the exact-LUT float64 reference (the gate)
 * @param relErrorVsBf16Lut the same against SketchTune's bf16-LUT computation (informative)
 * @param maxAbsError max |y − ref| against the exact reference
 */
public record LayerResult(
    String module,
    long n,
    long k,
    int groups,
    int bits,
    double relError,
    double relErrorVsBf16Lut,
    double maxAbsError,
    double tolerance) {
  public boolean passed() {
    return relError <= tolerance;
  }
}
