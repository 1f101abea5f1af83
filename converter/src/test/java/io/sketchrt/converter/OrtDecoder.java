package io.sketchrt.converter;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs a converted fp32 decoder in ONNX Runtime (CPU) with an explicit KV cache, for tests. */
final class OrtDecoder implements AutoCloseable {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  final OrtSession session;
  final int layers;
  final int kvHeads;
  final int headDim;

  /** One forward step's results: logits [B, S, V] flattened, and the present KV cache. */
  record Step(float[] logits, long[] logitsShape, List<float[]> present, long pastLen) {}

  OrtDecoder(Path model, int layers, int kvHeads, int headDim) throws OrtException {
    this.session = ENV.createSession(model.toString(), new OrtSession.SessionOptions());
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
  }

  /**
   * One forward pass. {@code past} holds 2 * layers arrays [B, KV, P, D] (key, value per layer) or
   * null for an empty cache.
   */
  Step run(long[][] ids, long[][] mask, long[][] positions, List<float[]> past, long pastLen)
      throws OrtException {
    int b = ids.length;
    List<OnnxTensor> owned = new ArrayList<>();
    try {
      Map<String, OnnxTensor> in = new HashMap<>();
      in.put("input_ids", longs(ids, owned));
      in.put("attention_mask", longs(mask, owned));
      in.put("position_ids", longs(positions, owned));
      // num_logits_to_keep is left to its default, 0: every position's logits (the standard feed)
      long[] kvShape = {b, kvHeads, pastLen, headDim};
      for (int i = 0; i < layers; i++) {
        for (int j = 0; j < 2; j++) {
          float[] data = past == null ? new float[0] : past.get(2 * i + j);
          OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(data), kvShape);
          owned.add(t);
          in.put("past_key_values." + i + (j == 0 ? ".key" : ".value"), t);
        }
      }
      try (OrtSession.Result out = session.run(in)) {
        OnnxTensor logits = (OnnxTensor) out.get("logits").orElseThrow();
        float[] l = new float[(int) logits.getInfo().getNumElements()];
        logits.getFloatBuffer().get(l);
        List<float[]> present = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
          for (String kind : List.of("key", "value")) {
            OnnxValue v = out.get("present." + i + "." + kind).orElseThrow();
            OnnxTensor t = (OnnxTensor) v;
            float[] a = new float[(int) t.getInfo().getNumElements()];
            t.getFloatBuffer().get(a);
            present.add(a);
          }
        }
        return new Step(l, logits.getInfo().getShape(), present, pastLen + ids[0].length);
      }
    } finally {
      owned.forEach(OnnxTensor::close);
    }
  }

  /** Greedy decoding: prefill the prompt, then one token at a time through the KV cache. */
  long[] greedy(long[] prompt, int n) throws OrtException {
    long[] tokens = new long[n];
    Step s =
        run(
            new long[][] {prompt},
            ones(1, prompt.length),
            new long[][] {range(0, prompt.length)},
            null,
            0);
    for (int i = 0; i < n; i++) {
      int vocab = (int) s.logitsShape()[2];
      int last = (int) s.logitsShape()[1] - 1;
      tokens[i] = argmax(s.logits(), last * vocab, vocab);
      if (i == n - 1) {
        break;
      }
      long pos = s.pastLen();
      s =
          run(
              new long[][] {{tokens[i]}},
              ones(1, (int) pos + 1),
              new long[][] {{pos}},
              s.present(),
              pos);
    }
    return tokens;
  }

  static int argmax(float[] a, int from, int len) {
    int best = 0;
    for (int i = 1; i < len; i++) {
      if (a[from + i] > a[from + best]) {
        best = i;
      }
    }
    return best;
  }

  static long[][] ones(int b, int t) {
    long[][] m = new long[b][t];
    for (long[] row : m) {
      java.util.Arrays.fill(row, 1);
    }
    return m;
  }

  static long[] range(long from, long to) {
    long[] r = new long[(int) (to - from)];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  private static OnnxTensor longs(long[][] v, List<OnnxTensor> owned) throws OrtException {
    long[] flat = new long[v.length * v[0].length];
    for (int i = 0; i < v.length; i++) {
      System.arraycopy(v[i], 0, flat, i * v[0].length, v[0].length);
    }
    OnnxTensor t =
        OnnxTensor.createTensor(ENV, LongBuffer.wrap(flat), new long[] {v.length, v[0].length});
    owned.add(t);
    return t;
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
