/* AVX-512 F/BW/VL + VNNI kernels. Only entered after sketch_cpu_path_supported(AVX512). */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,bmi2")
#include <immintrin.h>

#include "internal.h"

/* Decode micro-kernel: one W row, R rows of X of one set. Per 64-column block: 32 code bytes,
   vpmovzxbw, vpsrlw 4, two vpermw on the LUT broadcast to both 256-bit halves, then per row two
   vpdpwssd (even columns, odd columns). Each int32 lane takes at most 8 products (4 instructions)
   before it is converted to fp32 and scaled. */
static inline __attribute__((always_inline)) void dot_r(const sk_ctx* c, int64_t nrow, int64_t set,
                                                        const int64_t* rows, float* res, const int R) {
    __m512 tot[SK_DECODE_ROWS];
    const int16_t* xb[SK_DECODE_ROWS];
    const float* xsr[SK_DECODE_ROWS];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        tot[r] = _mm512_setzero_ps();
        xb[r] = c->xq + rows[r] * c->xstride;
        xsr[r] = c->xs + rows[r] * c->groups;
    }
    const uint8_t* cp = c->codes + nrow * (c->k / 2);
    const int64_t lrow = (set * c->n + nrow) * c->groups;
    const int64_t nblk = c->nblk, gb = c->gb, full = gb >> 5;
    const __mmask32 tmask = (__mmask32)((1u << (gb & 31)) - 1u);
    for (int64_t g = 0; g < c->groups; ++g) {
        const __m512i lut = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(c->lq + (lrow + g) * 16)));
        const float ls = c->ls[lrow + g];
        const uint8_t* gcp = cp + g * gb;
        const int64_t xoff = g * nblk * SK_BLOCK;
        __m512 sc[SK_DECODE_ROWS];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) sc[r] = _mm512_set1_ps(ls * xsr[r][g]);
        for (int64_t b = 0; b < nblk; b += 4) {
            const int64_t be = b + 4 < nblk ? b + 4 : nblk;
            __m512i ae[SK_DECODE_ROWS], ao[SK_DECODE_ROWS];
            for (int64_t bb = b; bb < be; ++bb) {
                const __m256i cb = bb < full ? _mm256_loadu_si256((const __m256i*)(gcp + bb * 32))
                                             : _mm256_maskz_loadu_epi8(tmask, gcp + bb * 32);
                const __m512i lo = _mm512_cvtepu8_epi16(cb);
                const __m512i hi = _mm512_srli_epi16(lo, 4);
                const __m512i wo = _mm512_permutexvar_epi16(lo, lut);
                const __m512i we = _mm512_permutexvar_epi16(hi, lut);
                /* the first block of each 4 starts the int32 sums with vpmaddwd (no zeroing) */
                if (bb == b) {
#pragma GCC unroll 8
                    for (int r = 0; r < R; ++r) {
                        const int16_t* x = xb[r] + xoff + bb * SK_BLOCK;
                        ae[r] = _mm512_madd_epi16(we, _mm512_loadu_si512(x));
                        ao[r] = _mm512_madd_epi16(wo, _mm512_loadu_si512(x + 32));
                    }
                } else {
#pragma GCC unroll 8
                    for (int r = 0; r < R; ++r) {
                        const int16_t* x = xb[r] + xoff + bb * SK_BLOCK;
                        ae[r] = _mm512_dpwssd_epi32(ae[r], we, _mm512_loadu_si512(x));
                        ao[r] = _mm512_dpwssd_epi32(ao[r], wo, _mm512_loadu_si512(x + 32));
                    }
                }
            }
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r)
                tot[r] = _mm512_fmadd_ps(_mm512_add_ps(_mm512_cvtepi32_ps(ae[r]), _mm512_cvtepi32_ps(ao[r])), sc[r],
                                         tot[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) res[r] = _mm512_reduce_add_ps(tot[r]);
}

void sk_dot_avx512(const sk_ctx* c, int64_t nrow, int64_t set, const int64_t* rows, int cnt, float* res) {
    switch (cnt) {
        case 1: dot_r(c, nrow, set, rows, res, 1); break;
        case 2: dot_r(c, nrow, set, rows, res, 2); break;
        case 3: dot_r(c, nrow, set, rows, res, 3); break;
        case 4: dot_r(c, nrow, set, rows, res, 4); break;
        case 5: dot_r(c, nrow, set, rows, res, 5); break;
        default: dot_r(c, nrow, set, rows, res, 6); break;
    }
}

/* ---------------------------------------------------------------- prefill (placeholder: decode per row) */

int64_t sk_prefill_tile_bytes(const sk_ctx* c) {
    (void)c;
    return 64;
}

void sk_prefill_avx512(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int64_t cnt,
                       void* tile, float* res) {
    (void)tile;
    for (int64_t j = 0; j < nn; ++j) {
        for (int64_t r0 = 0; r0 < cnt; r0 += SK_DECODE_ROWS) {
            const int k = (int)(cnt - r0 < SK_DECODE_ROWS ? cnt - r0 : SK_DECODE_ROWS);
            float out[SK_DECODE_ROWS];
            sk_dot_avx512(c, nt + j, set, rows + r0, k, out);
            for (int i = 0; i < k; ++i) res[(r0 + i) * SK_TILE_N + j] = out[i];
        }
    }
}

/* ---------------------------------------------------------------- bandwidth */

double sk_read_avx512(const void* p, int64_t bytes) {
    const __m512i* q = (const __m512i*)p;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < bytes / 64; i += 4) {
        a0 = _mm512_xor_si512(a0, _mm512_load_si512(q + i));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512(q + i + 1));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512(q + i + 2));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512(q + i + 3));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (double)_mm512_reduce_add_epi64(a0);
}
