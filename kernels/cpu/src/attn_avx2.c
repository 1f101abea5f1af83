/* AVX2 + FMA attention kernel, the same three passes as attn_avx512.c with 8-lane vectors: K in blocks
   of 8 positions (8 partial vectors per head, 8x8 transpose-add), exp with the exponent built in the
   integer unit, V in blocks of up to 64 positions with 32-column chunks. Only entered after
   sketch_cpu_path_supported(AVX2). */
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "internal.h"

#ifndef SK_ATTN_PF
#define SK_ATTN_PF 0
#endif

static inline __m256 exp256(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    /* n in [-126, 127]: 2^n = (n + 127) << 23 */
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* Lane j of the result = sum of the 8 lanes of a[j]. */
static inline __attribute__((always_inline)) __m256 hsum8x8(const __m256* a) {
    __m256 x[4], y[2];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
        x[i] = _mm256_add_ps(_mm256_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm256_unpackhi_ps(a[2 * i], a[2 * i + 1]));
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
        const __m256d l = _mm256_castps_pd(x[2 * i]), h = _mm256_castps_pd(x[2 * i + 1]);
        y[i] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(l, h)), _mm256_castpd_ps(_mm256_unpackhi_pd(l, h)));
    }
    return _mm256_add_ps(_mm256_permute2f128_ps(y[0], y[1], 0x20), _mm256_permute2f128_ps(y[0], y[1], 0x31));
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

/* lanes < n all ones */
static inline __m256 lane_mask(int64_t n) {
    return _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

/* o[0 .. 8W) += sum_{j < nv} p[j] * vb[j * d + 0 .. 8W) */
static inline __attribute__((always_inline)) void vacc(const float* p, const float* vb, int64_t d, int64_t nv, float* o,
                                                       const int W) {
    __m256 a0[4], a1[4];
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) {
        a0[w] = _mm256_loadu_ps(o + 8 * w);
        a1[w] = _mm256_setzero_ps();
    }
    int64_t j = 0;
    for (; j + 1 < nv; j += 2) {
        const __m256 p0 = _mm256_broadcast_ss(p + j), p1 = _mm256_broadcast_ss(p + j + 1);
        const float* r0 = vb + j * d;
        const float* r1 = r0 + d;
#pragma GCC unroll 4
        for (int w = 0; w < W; ++w) {
            a0[w] = _mm256_fmadd_ps(p0, _mm256_loadu_ps(r0 + 8 * w), a0[w]);
            a1[w] = _mm256_fmadd_ps(p1, _mm256_loadu_ps(r1 + 8 * w), a1[w]);
        }
    }
    if (j < nv) {
        const __m256 p0 = _mm256_broadcast_ss(p + j);
        const float* r0 = vb + j * d;
#pragma GCC unroll 4
        for (int w = 0; w < W; ++w) a0[w] = _mm256_fmadd_ps(p0, _mm256_loadu_ps(r0 + 8 * w), a0[w]);
    }
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) _mm256_storeu_ps(o + 8 * w, _mm256_add_ps(a0[w], a1[w]));
}

void sk_attn_avx2(const float* q, int64_t g, int64_t d, const float* kc, const float* vc, int64_t len, float scale,
                  float* scratch, float* out) {
    const int64_t lpad = sk_attn_lpad(len);
    float* tail = scratch + g * lpad; /* [8][d]: the last partial K block, zero padded */
    float* rs = tail + 16 * d;        /* [g]: 1 / sum of each head's softmax numerators */
    const __m256 vscale = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);

    /* 1. scores; lanes in [len, lpad) are -inf */
    for (int64_t j0 = 0; j0 < lpad; j0 += 8) {
        if (j0 >= len) {
            for (int64_t h = 0; h < g; ++h) _mm256_store_ps(scratch + h * lpad + j0, ninf);
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
        const __m256 valid = lane_mask(nv);
        for (int64_t h = 0; h < g; ++h) {
            const float* qh = q + h * d;
            __m256 a[8];
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j) a[j] = _mm256_setzero_ps();
            for (int64_t c = 0; c < d; c += 8) {
                const __m256 qv = _mm256_loadu_ps(qh + c);
#pragma GCC unroll 8
                for (int j = 0; j < 8; ++j) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kb + j * d + c), a[j]);
            }
            const __m256 s = _mm256_mul_ps(hsum8x8(a), vscale);
            _mm256_store_ps(scratch + h * lpad + j0, _mm256_blendv_ps(ninf, s, valid));
        }
    }

    /* 2. softmax numerators (lanes >= len set to 0) and their sums */
    for (int64_t h = 0; h < g; ++h) {
        float* s = scratch + h * lpad;
        __m256 m = ninf;
        for (int64_t j = 0; j < lpad; j += 8) m = _mm256_max_ps(m, _mm256_load_ps(s + j));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        const __m256 mx = _mm256_broadcastss_ps(m4);
        __m256 sum = _mm256_setzero_ps();
        for (int64_t j = 0; j < lpad; j += 8) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_load_ps(s + j), mx));
            if (j + 8 > len) e = _mm256_and_ps(e, lane_mask(len - j));
            _mm256_store_ps(s + j, e);
            sum = _mm256_add_ps(sum, e);
        }
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
        memset(out + h * d, 0, (size_t)d * sizeof(float));
        rs[h] = 1.0f / _mm_cvtss_f32(s4);
    }

    /* 3. out += p V */
    const int64_t vbs = d <= 64 ? 64 : 4096 / d;
    for (int64_t j0 = 0; j0 < len; j0 += vbs) {
        const int64_t nv = len - j0 < vbs ? len - j0 : vbs;
        const float* vb = vc + j0 * d;
        prefetch_block(vb, nv * d * 4);
        for (int64_t h = 0; h < g; ++h) {
            const float* p = scratch + h * lpad + j0;
            float* oh = out + h * d;
            for (int64_t c = 0; c < d; c += 32) {
                switch ((d - c) >= 32 ? 4 : (int)((d - c) / 8)) {
                    case 4: vacc(p, vb + c, d, nv, oh + c, 4); break;
                    case 3: vacc(p, vb + c, d, nv, oh + c, 3); break;
                    case 2: vacc(p, vb + c, d, nv, oh + c, 2); break;
                    default: vacc(p, vb + c, d, nv, oh + c, 1); break;
                }
            }
        }
    }
    for (int64_t h = 0; h < g; ++h) {
        const __m256 r = _mm256_set1_ps(rs[h]);
        float* oh = out + h * d;
        for (int64_t c = 0; c < d; c += 8) _mm256_storeu_ps(oh + c, _mm256_mul_ps(_mm256_loadu_ps(oh + c), r));
    }
}
