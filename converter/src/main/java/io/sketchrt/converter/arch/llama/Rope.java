package io.sketchrt.converter.arch.llama;

import io.sketchrt.converter.ConvertException;
import io.sketchrt.converter.arch.RopeScaling;

/**
 * Rotary position embedding tables, computed the way Hugging Face transformers does: inverse
 * frequencies and angles in fp32, {@code cos}/{@code sin} of {@code cat(freqs, freqs)}.
 */
public final class Rope {
  private Rope() {}

  /** {@code cos}/{@code sin} tables {@code [positions, headDim]}, row-major. */

  /** {@code inv_freq[i] = 1 / theta^(2i / d)}, then the {@code rope_scaling} rule if any. */
  public static float[] inverseFrequencies(int headDim, double theta, RopeScaling scaling)
      throws ConvertException {
    float[] inv = new float[headDim / 2];
    for (int i = 0; i < inv.length; i++) {
      float exponent = (float) (2 * i) / (float) headDim;
      inv[i] = 1.0f / (float) Math.pow((float) theta, exponent);
    }
    if (scaling == null) {
      return inv;
    }
    // ModelConfig accepts only llama3 scaling (anything else is refused when config.json is read).
    return scaleLlama3(inv, scaling);
  }

  /**
   * Llama 3.1: long wavelengths ({@code > old_ctx / low_freq_factor}) are divided by {@code
   * factor}, short ones ({@code < old_ctx / high_freq_factor}) kept, the band between blended by
   * {@code s = (old_ctx / wavelen - low) / (high - low)}.
   */
  private static float[] scaleLlama3(float[] inv, RopeScaling s) {
    float factor = (float) s.factor();
    float low = (float) s.lowFreqFactor();
    float high = (float) s.highFreqFactor();
    float oldContext = s.originalMaxPositionEmbeddings();
    float lowFreqWavelen = oldContext / low;
    float highFreqWavelen = oldContext / high;
    float[] out = new float[inv.length];
    for (int i = 0; i < inv.length; i++) {
      float wavelen = (float) (2 * Math.PI) / inv[i];
      float scaled = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
      boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      if (medium) {
        float smooth = (oldContext / wavelen - low) / (high - low);
        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
      }
      out[i] = scaled;
    }
    return out;
  }
}
