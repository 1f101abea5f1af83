/* AVX-512 F attention kernel (one token, one KV head, all its query heads). Only entered after
   sketch_cpu_path_supported(AVX512).
   Two passes over the cache, each row read once for all g query heads:
   1. K, in blocks of 16 positions (16 * d floats, from L1 after the first head): per query head 16
      partial vectors (d / 16 FMAs each), reduced by a 16x16 transpose-add to the 16 scores in one zmm.
   2. Per head max, exp (Cephes range reduction, degree-6 polynomial, vscalefps; ~1 ulp) and sum.
   3. V, in blocks of up to 64 positions: per head and 64-column chunk, out += p[j] * V[j] with two
      interleaved accumulator sets; finally out *= 1 / sum. */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma")
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "internal.h"

#ifndef SK_ATTN_PF
#define SK_ATTN_PF                                                                         \
    0 /* bytes ahead the K / V streams are prefetched into L2; 0 (none) measured best: the \
         hardware prefetcher follows the two sequential streams (4096 cost 10-30 %) */
#endif

static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f)); /* keeps the result a normal float */
    x = _mm512_min_ps(x, _mm512_set1_ps(88.3f));
    const __m512 n =
        _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    return _mm512_scalef_ps(_mm512_add_ps(p, _mm512_set1_ps(1.0f)), n);
}

/* Lane j of the result = sum of the 16 lanes of a[j]. */
static inline __attribute__((always_inline)) __m512 hsum16x16(const __m512* a) {
    __m512 x[8], y[4], z[2];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
        x[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
        const __m512d l = _mm512_castps_pd(x[2 * i]), h = _mm512_castps_pd(x[2 * i + 1]);
        y[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(l, h)), _mm512_castpd_ps(_mm512_unpackhi_pd(l, h)));
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i)
        z[i] = _mm512_add_ps(_mm512_shuffle_f32x4(y[2 * i], y[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(y[2 * i], y[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(z[0], z[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

static inline void prefetch_block(const float* p, int64_t bytes) {
#if SK_ATTN_PF > 0
    const char* c = (const char*)p + SK_ATTN_PF;
    for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch(c + o, _MM_HINT_T1);
#else
    (void)p;
    (void)bytes;
#endif
}

/* o0[0 .. 16W) += sum_{j < nv} p0[j] * vb[j * d + 0 .. 16W), and the same for o1 with p1 (two query heads
   sharing each V load) */
static inline __attribute__((always_inline)) void vacc2(const float* p0, const float* p1, const float* vb, int64_t d,
                                                        int64_t nv, float* o0, float* o1, const int W) {
    __m512 a0[4], a1[4];
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) {
        a0[w] = _mm512_loadu_ps(o0 + 16 * w);
        a1[w] = _mm512_loadu_ps(o1 + 16 * w);
    }
    for (int64_t j = 0; j < nv; ++j) {
        const __m512 b0 = _mm512_set1_ps(p0[j]), b1 = _mm512_set1_ps(p1[j]);
        const float* r = vb + j * d;
#pragma GCC unroll 4
        for (int w = 0; w < W; ++w) {
            const __m512 x = _mm512_loadu_ps(r + 16 * w);
            a0[w] = _mm512_fmadd_ps(b0, x, a0[w]);
            a1[w] = _mm512_fmadd_ps(b1, x, a1[w]);
        }
    }
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) {
        _mm512_storeu_ps(o0 + 16 * w, a0[w]);
        _mm512_storeu_ps(o1 + 16 * w, a1[w]);
    }
}

/* o[0 .. 16W) += sum_{j < nv} p[j] * vb[j * d + 0 .. 16W) */
static inline __attribute__((always_inline)) void vacc(const float* p, const float* vb, int64_t d, int64_t nv, float* o,
                                                       const int W) {
    __m512 a0[4], a1[4];
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) {
        a0[w] = _mm512_loadu_ps(o + 16 * w);
        a1[w] = _mm512_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 1 < nv; j += 2) {
        const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
        const float* r0 = vb + j * d;
        const float* r1 = r0 + d;
#pragma GCC unroll 4
        for (int w = 0; w < W; ++w) {
            a0[w] = _mm512_fmadd_ps(p0, _mm512_loadu_ps(r0 + 16 * w), a0[w]);
            a1[w] = _mm512_fmadd_ps(p1, _mm512_loadu_ps(r1 + 16 * w), a1[w]);
        }
    }
    if (j < nv) {
        const __m512 p0 = _mm512_set1_ps(p[j]);
        const float* r0 = vb + j * d;
#pragma GCC unroll 4
        for (int w = 0; w < W; ++w) a0[w] = _mm512_fmadd_ps(p0, _mm512_loadu_ps(r0 + 16 * w), a0[w]);
    }
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) _mm512_storeu_ps(o + 16 * w, _mm512_add_ps(a0[w], a1[w]));
}

void sk_attn_avx512(const float* q, int64_t g, int64_t d, const float* kc, const float* vc, int64_t len, float scale,
                    float* scratch, float* out) {
    const int64_t lpad = sk_attn_lpad(len);
    float* tail = scratch + g * lpad; /* [16][d]: the last partial K block, zero padded */
    float* rs = tail + 16 * d;        /* [g]: 1 / sum of each head's softmax numerators */
    const __m512 vscale = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);

    /* 1. scores, two query heads at a time (each K load feeds two FMAs); lanes in [len, lpad) are -inf */
    for (int64_t j0 = 0; j0 < lpad; j0 += 8) {
        if (j0 >= len) {
            for (int64_t h = 0; h < g; ++h) _mm256_store_ps(scratch + h * lpad + j0, _mm256_set1_ps(-INFINITY));
            continue;
        }
        const int64_t nv = len - j0 < 8 ? len - j0 : 8;
        const float* kb = kc + j0 * d;
        if (nv < 8) {
            memcpy(tail, kb, (size_t)(nv * d) * sizeof(float));
            memset(tail + nv * d, 0, (size_t)((8 - nv) * d) * sizeof(float));
            kb = tail;
        } else {
            prefetch_block(kb, 8 * d * 4);
        }
        const __mmask16 valid = (__mmask16)(((1u << nv) - 1u) * 0x101u);
        for (int64_t h = 0; h < g; h += 2) {
            const float* q0 = q + h * d;
            const float* q1 = h + 1 < g ? q0 + d : q0;
            __m512 a[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; ++j) a[j] = _mm512_setzero_ps();
            for (int64_t c = 0; c < d; c += 16) {
                const __m512 x0 = _mm512_loadu_ps(q0 + c), x1 = _mm512_loadu_ps(q1 + c);
#pragma GCC unroll 8
                for (int j = 0; j < 8; ++j) {
                    const __m512 kr = _mm512_loadu_ps(kb + j * d + c);
                    a[j] = _mm512_fmadd_ps(x0, kr, a[j]);
                    a[8 + j] = _mm512_fmadd_ps(x1, kr, a[8 + j]);
                }
            }
            const __m512 s = _mm512_mask_blend_ps(valid, ninf, _mm512_mul_ps(hsum16x16(a), vscale));
            _mm256_store_ps(scratch + h * lpad + j0, _mm512_castps512_ps256(s));
            if (h + 1 < g)
                _mm256_store_ps(scratch + (h + 1) * lpad + j0,
                                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
        }
    }

    /* 2. softmax numerators (tail lanes set to 0) and their sums */
    const __mmask16 last = (__mmask16)((1u << (len - (lpad - 16))) - 1u);
    for (int64_t h = 0; h < g; ++h) {
        float* s = scratch + h * lpad;
        __m512 m = ninf;
        for (int64_t j = 0; j < lpad; j += 16) m = _mm512_max_ps(m, _mm512_load_ps(s + j));
        const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
        __m512 sum = _mm512_setzero_ps();
        for (int64_t j = 0; j < lpad; j += 16) {
            __m512 e = exp512(_mm512_sub_ps(_mm512_load_ps(s + j), mx));
            if (j + 16 == lpad) e = _mm512_maskz_mov_ps(last, e);
            _mm512_store_ps(s + j, e);
            sum = _mm512_add_ps(sum, e);
        }
        memset(out + h * d, 0, (size_t)d * sizeof(float));
        rs[h] = 1.0f / _mm512_reduce_add_ps(sum);
    }

    /* 3. out += p V, blocks of vb positions (vb * d <= 4096 floats stay in L1 across the heads) */
    const int64_t vbs = d <= 64 ? 64 : 4096 / d;
    for (int64_t j0 = 0; j0 < len; j0 += vbs) {
        const int64_t nv = len - j0 < vbs ? len - j0 : vbs;
        const float* vb = vc + j0 * d;
        prefetch_block(vb, nv * d * 4);
        int64_t h = 0;
        for (; h + 1 < g; h += 2) {
            const float* p0 = scratch + h * lpad + j0;
            const float* p1 = p0 + lpad;
            float* o0 = out + h * d;
            float* o1 = o0 + d;
            for (int64_t c = 0; c < d; c += 64) {
                switch ((d - c) >= 64 ? 4 : (int)((d - c) / 16)) {
                    case 4: vacc2(p0, p1, vb + c, d, nv, o0 + c, o1 + c, 4); break;
                    case 3: vacc2(p0, p1, vb + c, d, nv, o0 + c, o1 + c, 3); break;
                    case 2: vacc2(p0, p1, vb + c, d, nv, o0 + c, o1 + c, 2); break;
                    default: vacc2(p0, p1, vb + c, d, nv, o0 + c, o1 + c, 1); break;
                }
            }
        }
        for (; h < g; ++h) {
            const float* p = scratch + h * lpad + j0;
            float* oh = out + h * d;
            for (int64_t c = 0; c < d; c += 64) {
                switch ((d - c) >= 64 ? 4 : (int)((d - c) / 16)) {
                    case 4: vacc(p, vb + c, d, nv, oh + c, 4); break;
                    case 3: vacc(p, vb + c, d, nv, oh + c, 3); break;
                    case 2: vacc(p, vb + c, d, nv, oh + c, 2); break;
                    default: vacc(p, vb + c, d, nv, oh + c, 1); break;
                }
            }
        }
    }
    for (int64_t h = 0; h < g; ++h) {
        const __m512 r = _mm512_set1_ps(rs[h]);
        float* oh = out + h * d;
        for (int64_t c = 0; c < d; c += 16) _mm512_storeu_ps(oh + c, _mm512_mul_ps(_mm512_loadu_ps(oh + c), r));
    }
}
