/* AVX2 + FMA kernels. Only entered after sketch_cpu_path_supported(AVX2). */
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "internal.h"
#include "sketchrt_cpu.h"

#define R2 4 /* rows per micro-kernel pass (ymm register budget) */

/* Per 64-column block: 32 code bytes, vpermq so that in-lane unpacks come out in column order,
   low/high nibbles, pshufb on the low-byte and high-byte tables of the int16 LUT, unpack to words,
   pmaddwd against the even/odd activations. Each int32 lane of the two accumulators takes 4 products
   per block; they are converted to fp32 every 2 blocks (8 products). */
static inline __attribute__((always_inline)) void dot2_r(const sk_ctx* c, int64_t nrow, int64_t set,
                                                         const int64_t* rows, float* res, const int R) {
    __m256 tot[R2];
    const int16_t* xb[R2];
    const float* xsr[R2];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        tot[r] = _mm256_setzero_ps();
        xb[r] = c->xq + rows[r] * c->xstride;
        xsr[r] = c->xs + rows[r] * c->groups;
    }
    const uint8_t* cp = c->codes + nrow * (c->k / 2);
    const int64_t lrow = (set * c->n + nrow) * c->groups;
    const int64_t nblk = c->nblk, gb = c->gb, full = gb >> 5;
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12,
                                           14, 1, 3, 5, 7, 9, 11, 13, 15);
    for (int64_t g = 0; g < c->groups; ++g) {
        const __m256i e = _mm256_loadu_si256((const __m256i*)(c->lq + (lrow + g) * 16));
        /* lane 0: low bytes of entries 0..15, lane 1: high bytes */
        const __m256i t = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(e, split), 0xD8);
        const __m256i tl = _mm256_permute2x128_si256(t, t, 0x00), th = _mm256_permute2x128_si256(t, t, 0x11);
        const float ls = c->ls[lrow + g];
        const uint8_t* gcp = cp + g * gb;
        const int64_t xoff = g * nblk * SK_BLOCK;
        __m256 sc[R2];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) sc[r] = _mm256_set1_ps(ls * xsr[r][g]);
        for (int64_t b = 0; b < nblk; b += 2) {
            const int64_t be = b + 2 < nblk ? b + 2 : nblk;
            __m256i ae[R2], ao[R2];
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) ae[r] = ao[r] = _mm256_setzero_si256();
            for (int64_t bb = b; bb < be; ++bb) {
                __m256i cb;
                /* the codes stream from memory: fetch them into L2 well ahead (see kern_avx512.c) */
                _mm_prefetch((const char*)(gcp + bb * 32) + SK_PREFETCH, _MM_HINT_T1);
                if (bb < full) {
                    cb = _mm256_loadu_si256((const __m256i*)(gcp + bb * 32));
                } else {
                    uint8_t tmp[32] = {0};
                    memcpy(tmp, gcp + bb * 32, (size_t)(gb - bb * 32));
                    cb = _mm256_loadu_si256((const __m256i*)tmp);
                }
                cb = _mm256_permute4x64_epi64(cb, 0xD8);
                const __m256i lo = _mm256_and_si256(cb, nib);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(cb, 4), nib);
                const __m256i ol = _mm256_shuffle_epi8(tl, lo), oh = _mm256_shuffle_epi8(th, lo);
                const __m256i el = _mm256_shuffle_epi8(tl, hi), eh = _mm256_shuffle_epi8(th, hi);
                const __m256i wo0 = _mm256_unpacklo_epi8(ol, oh), wo1 = _mm256_unpackhi_epi8(ol, oh);
                const __m256i we0 = _mm256_unpacklo_epi8(el, eh), we1 = _mm256_unpackhi_epi8(el, eh);
#pragma GCC unroll 8
                for (int r = 0; r < R; ++r) {
                    const int16_t* x = xb[r] + xoff + bb * SK_BLOCK;
                    const __m256i pe =
                        _mm256_add_epi32(_mm256_madd_epi16(we0, _mm256_loadu_si256((const __m256i*)x)),
                                         _mm256_madd_epi16(we1, _mm256_loadu_si256((const __m256i*)(x + 16))));
                    const __m256i po =
                        _mm256_add_epi32(_mm256_madd_epi16(wo0, _mm256_loadu_si256((const __m256i*)(x + 32))),
                                         _mm256_madd_epi16(wo1, _mm256_loadu_si256((const __m256i*)(x + 48))));
                    ae[r] = _mm256_add_epi32(ae[r], pe);
                    ao[r] = _mm256_add_epi32(ao[r], po);
                }
            }
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                tot[r] =
                    _mm256_fmadd_ps(_mm256_add_ps(_mm256_cvtepi32_ps(ae[r]), _mm256_cvtepi32_ps(ao[r])), sc[r], tot[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(tot[r]), _mm256_extractf128_ps(tot[r], 1));
        const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        res[r * SK_TILE_N] = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
    }
}

static void sk_dot_avx2_1(const sk_ctx* c, int64_t nrow, int64_t set, const int64_t* rows, int cnt, float* res) {
    while (cnt > 0) {
        const int k = cnt < R2 ? cnt : R2;
        switch (k) {
            case 1: dot2_r(c, nrow, set, rows, res, 1); break;
            case 2: dot2_r(c, nrow, set, rows, res, 2); break;
            case 3: dot2_r(c, nrow, set, rows, res, 3); break;
            default: dot2_r(c, nrow, set, rows, res, 4); break;
        }
        rows += k;
        res += k * SK_TILE_N;
        cnt -= k;
    }
}

void sk_dot_avx2(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res) {
    for (int64_t j = 0; j < nn; ++j) sk_dot_avx2_1(c, nt + j, set, rows, cnt, res + j);
}

double sk_read_avx2(const void* p, int64_t bytes) {
    const __m256i* q = (const __m256i*)p;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < bytes / 32; i += 4) {
        a0 = _mm256_xor_si256(a0, _mm256_load_si256(q + i));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256(q + i + 1));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256(q + i + 2));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256(q + i + 3));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    long long v[4];
    _mm256_storeu_si256((__m256i*)v, a0);
    return (double)(v[0] ^ v[1] ^ v[2] ^ v[3]);
}

/* Dense bf16 lm_head (dense.c). */
static inline float sk_bf16_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void sk_dense_avx2(const float* x, int64_t m, int64_t k, const uint16_t* w, float* y, int64_t n, int64_t n0,
                   int64_t n1) {
    const int64_t k8 = k & ~(int64_t)7;
    for (int64_t row = n0; row < n1; ++row) {
        const uint16_t* wr = w + row * k;
        for (int64_t i0 = 0; i0 < m; i0 += SK_DENSE_ROWS) {
            const int cnt = (int)(m - i0 < SK_DENSE_ROWS ? m - i0 : SK_DENSE_ROWS);
            __m256 acc[SK_DENSE_ROWS];
            for (int r = 0; r < SK_DENSE_ROWS; ++r) acc[r] = _mm256_setzero_ps();
            for (int64_t j = 0; j < k8; j += 8) {
                if (i0 == 0 && (j & 31) == 0) _mm_prefetch((const char*)(wr + j) + SK_PREFETCH, _MM_HINT_T1);
                const __m256 wf = _mm256_castsi256_ps(
                    _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(wr + j))), 16));
                for (int r = 0; r < cnt; ++r)
                    acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + (i0 + r) * k + j), wf, acc[r]);
            }
            for (int r = 0; r < cnt; ++r) {
                __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
                h = _mm_add_ps(h, _mm_movehl_ps(h, h));
                h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
                float s = _mm_cvtss_f32(h);
                for (int64_t j = k8; j < k; ++j) s += x[(i0 + r) * k + j] * sk_bf16_f32(wr[j]);
                y[(i0 + r) * n + row] = s;
            }
        }
    }
}

/* Activations (see kern_avx512.c): the absmax and the rounding in ymm, the even/odd split through a
   small buffer. */

int32_t sk_prepare_x_avx2(const float* x, int64_t m, int64_t k, int64_t groups, int64_t nblk, float* xs,
                          int16_t* data) {
    const int64_t gc = k / groups, gstride = nblk * SK_BLOCK;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 big = _mm256_set1_ps(3.402823466e38f);
    const __m256i lim = _mm256_set1_epi32(8191), nlim = _mm256_set1_epi32(-8191);
    int32_t buf[SK_BLOCK];
    for (int64_t r = 0; r < m; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
            const float* xg = x + r * k + g * gc;
            __m256 amax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
            int64_t c = 0;
            for (; c + 8 <= gc; c += 8) {
                const __m256 a = _mm256_and_ps(_mm256_loadu_ps(xg + c), absmask);
                bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, big, _CMP_NLE_UQ));
                amax = _mm256_max_ps(amax, a);
            }
            float lanes[8];
            _mm256_storeu_ps(lanes, amax);
            float am = 0.0f;
            for (int i = 0; i < 8; ++i) am = lanes[i] > am ? lanes[i] : am;
            int nonfinite = _mm256_movemask_ps(bad) != 0;
            for (; c < gc; ++c) {
                const float a = fabsf(xg[c]);
                nonfinite |= !(a <= 3.402823466e38f);
                am = a > am ? a : am;
            }
            if (nonfinite) return SKETCH_CPU_ERR_X_NONFINITE;
            xs[r * groups + g] = am / 8191.0f;
            const float invs = am > 0.0f ? 8191.0f / am : 0.0f;
            const __m256 inv = _mm256_set1_ps(invs);
            int16_t* out = data + (r * groups + g) * gstride;
            for (int64_t b = 0; b < nblk; ++b) {
                const int64_t c0 = b * SK_BLOCK;
                const int64_t cnt = gc - c0 < SK_BLOCK ? gc - c0 : SK_BLOCK;
                int64_t j = 0;
                for (; j + 8 <= cnt; j += 8) {
                    const __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + c0 + j), inv));
                    _mm256_storeu_si256((__m256i*)(buf + j), _mm256_max_epi32(_mm256_min_epi32(v, lim), nlim));
                }
                for (; j < SK_BLOCK; ++j) {
                    long e = j < cnt ? lrintf(xg[c0 + j] * invs) : 0;
                    buf[j] = (int32_t)(e > 8191 ? 8191 : (e < -8191 ? -8191 : e));
                }
                int16_t* ob = out + b * SK_BLOCK;
                for (int64_t i = 0; i < 32; ++i) {
                    ob[i] = (int16_t)buf[2 * i];
                    ob[32 + i] = (int16_t)buf[2 * i + 1];
                }
            }
        }
    }
    return SKETCH_CPU_OK;
}
