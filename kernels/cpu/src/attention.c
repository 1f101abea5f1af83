/* GroupQueryAttention over an in-place KV cache (sketch_cpu_gqa): argument checks, the cache update,
   the per-task / per-token loop, and the portable scalar kernel. The vector kernels are in
   attn_avx512.c and attn_avx2.c. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "sketchrt_cpu.h"

/* Scalar: fp32 scores, max-subtracted softmax with expf, fp32 sums (one query head at a time). */
static void attn_scalar(const float* q, int64_t g, int64_t d, const float* kc, const float* vc, int64_t len,
                        float scale, float* scratch, float* out) {
    float* s = scratch;
    for (int64_t h = 0; h < g; ++h) {
        const float* qh = q + h * d;
        float m = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
            const float* kr = kc + j * d;
            float acc = 0.0f;
            for (int64_t c = 0; c < d; ++c) acc += qh[c] * kr[c];
            s[j] = acc * scale;
            if (s[j] > m) m = s[j];
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
            s[j] = expf(s[j] - m);
            sum += s[j];
        }
        float* oh = out + h * d;
        for (int64_t c = 0; c < d; ++c) oh[c] = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
            const float* vr = vc + j * d;
            const float p = s[j];
            for (int64_t c = 0; c < d; ++c) oh[c] += p * vr[c];
        }
        const float inv = 1.0f / sum;
        for (int64_t c = 0; c < d; ++c) oh[c] *= inv;
    }
}

/* y = x * c + rotate_half(x) * s over one head (d even). Each product and the sum round separately, as
   ONNX's Mul, Mul, Add do: this file is built with -ffp-contract=off (CMakeLists.txt). */
static void rope(const float* x, const float* c, const float* s, int64_t d, float* y) {
    const int64_t h = d / 2;
    for (int64_t j = 0; j < h; ++j) {
        const float a = x[j] * c[j], b = -x[j + h] * s[j];
        y[j] = a + b;
    }
    for (int64_t j = h; j < d; ++j) {
        const float a = x[j] * c[j], b = x[j - h] * s[j];
        y[j] = a + b;
    }
}

int32_t sketch_cpu_gqa(int32_t path, const float* q, const float* k, const float* v, int64_t batch, int64_t seq,
                       int64_t heads, int64_t kv_heads, int64_t head_dim, const int32_t* seqlens_k,
                       const float* rope_cos, const float* rope_sin, float* cache_k, float* cache_v, int64_t room,
                       float scale, float* out, int64_t t0, int64_t t1) {
    if (!sketch_cpu_path_supported(path)) return SKETCH_CPU_ERR_PATH;
    if (!q || !k || !v || !seqlens_k || !cache_k || !cache_v || !out) return SKETCH_CPU_ERR_NULL;
    if (!rope_cos != !rope_sin) return SKETCH_CPU_ERR_NULL;
    if (batch < 1 || seq < 1 || heads < 1 || kv_heads < 1 || head_dim < 1 || room < 1 || heads % kv_heads != 0)
        return SKETCH_CPU_ERR_SHAPE;
    if (rope_cos && head_dim % 2 != 0) return SKETCH_CPU_ERR_SHAPE;
    if (path != SKETCH_CPU_PATH_SCALAR && (head_dim % 16 != 0 || head_dim > SK_ATTN_MAX_D)) return SKETCH_CPU_ERR_SHAPE;
    if (t0 < 0 || t1 < t0 || t1 > batch * kv_heads) return SKETCH_CPU_ERR_SHAPE;
    int64_t lmax = 0;
    for (int64_t b = 0; b < batch; ++b) {
        const int64_t past = (int64_t)seqlens_k[b] + 1 - seq;
        if (past < 0 || past + seq > room) return SKETCH_CPU_ERR_SHAPE;
        if (past + seq > lmax) lmax = past + seq;
    }
    if (t0 == t1) return SKETCH_CPU_OK;

    const int64_t g = heads / kv_heads, d = head_dim;
    /* the kernel's scratch, then (rotary) this token's g rotated query heads */
    const int64_t base = sk_attn_scratch_floats(g, lmax, d);
    float* scratch = (float*)sk_thread_scratch((size_t)(base + (rope_cos ? g * d + 16 : 0)) * sizeof(float));
    if (!scratch) return SKETCH_CPU_ERR_NOMEM;
    float* qrot = scratch + ((base + 15) & ~(int64_t)15);
    void (*attn)(const float*, int64_t, int64_t, const float*, const float*, int64_t, float, float*, float*) =
        path == SKETCH_CPU_PATH_AVX512 ? sk_attn_avx512
        : path == SKETCH_CPU_PATH_AVX2 ? sk_attn_avx2
                                       : attn_scalar;

    for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / kv_heads, kvh = t % kv_heads;
        const int64_t past = (int64_t)seqlens_k[b] + 1 - seq;
        float* kc = cache_k + t * room * d;
        float* vc = cache_v + t * room * d;
        for (int64_t i = 0; i < seq; ++i) {
            const int64_t src = ((b * seq + i) * kv_heads + kvh) * d;
            if (rope_cos) {
                const int64_t r = (b * seq + i) * d;
                rope(k + src, rope_cos + r, rope_sin + r, d, kc + (past + i) * d);
            } else {
                memcpy(kc + (past + i) * d, k + src, (size_t)d * sizeof(float));
            }
            memcpy(vc + (past + i) * d, v + src, (size_t)d * sizeof(float));
        }
        for (int64_t i = 0; i < seq; ++i) {
            const int64_t off = ((b * seq + i) * heads + kvh * g) * d;
            const float* qi = q + off;
            if (rope_cos) {
                const int64_t r = (b * seq + i) * d;
                for (int64_t h = 0; h < g; ++h) rope(q + off + h * d, rope_cos + r, rope_sin + r, d, qrot + h * d);
                qi = qrot;
            }
            attn(qi, g, d, kc, vc, past + i + 1, scale, scratch, out + off);
        }
    }
    return SKETCH_CPU_OK;
}
