package io.sketchrt.validation.bench;

import java.io.PrintWriter;
import java.util.List;

/**
 * What a longer context adds to a decode step, against the time to read that much more KV cache at
 * the measured bandwidth: near 1x means decode grows only by the attention's own reads, far above
 * it means the cache is copied or reallocated per token.
 */
public final class ContextGrowth {
  private ContextGrowth() {}

  /**
   * Prints the KV memory per token and per slot, then one line per context after the first.
   *
   * @param residentPerToken bytes the cache holds per cached position of one row
   * @param readPerToken bytes one decode step reads per cached position of one row (one copy)
   * @param gbs read bandwidth in GB/s, or NaN when not measured (then only the deltas print)
   */
  public static void report(
      PrintWriter out,
      String layout,
      long residentPerToken,
      long readPerToken,
      int maxPositions,
      List<GenerateBench.ContextDecode> contexts,
      double gbs) {
    out.printf(
        "KV cache: %s, %.1f KB per token per row (slot); a slot at %d positions holds %.1f MB"
            + " (room grows with use, doubling from 256 positions)%n",
        layout,
        residentPerToken / 1024.0,
        maxPositions,
        residentPerToken * (double) maxPositions / 1e6);
    if (contexts.size() < 2) {
      return;
    }
    GenerateBench.ContextDecode base = contexts.getFirst();
    for (GenerateBench.ContextDecode c : contexts.subList(1, contexts.size())) {
      double added = c.millisPerToken() - base.millisPerToken();
      long more = (long) (c.context() - base.context()) * readPerToken;
      if (Double.isNaN(gbs) || gbs <= 0) {
        out.printf(
            "decode growth, context %d -> %d: %+.3f ms/token (%.1f MB more KV read per token)%n",
            base.context(), c.context(), added, more / 1e6);
        continue;
      }
      double readMs = more / (gbs * 1e9) * 1e3;
      out.printf(
          "decode growth, context %d -> %d: %+.3f ms/token; reading %.1f MB more KV takes %.3f ms"
              + " at %.1f GB/s: %.1fx%n",
          base.context(), c.context(), added, more / 1e6, readMs, gbs, added / readMs);
    }
    out.flush();
  }
}
