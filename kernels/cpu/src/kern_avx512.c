/* AVX-512 F/BW/VL + VNNI kernels. Only entered after sketch_cpu_path_supported(AVX512). */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,bmi2")
#include <immintrin.h>
#include <string.h>

#include "internal.h"
#include "sketchrt_cpu.h"

/* Codes stream from DRAM once per call: the hardware prefetcher alone keeps one core at about 5 GB/s
   of them; asking for the bytes 16 KB ahead into L2 gives about 18 GB/s (measured, 64 MB of codes). */
#ifndef SK_PF_HINT
#define SK_PF_HINT _MM_HINT_T1
#endif
#ifndef SK_PREFETCH
#define SK_PREFETCH 16384
#endif

/* Decode micro-kernel: one W row, R rows of X of one set. Per 64-column block: 32 code bytes,
   vpmovzxbw, vpsrlw 4, two vpermw on the LUT broadcast to both 256-bit halves, then per row two
   vpdpwssd (even columns, odd columns). Each int32 lane takes at most 8 products (4 instructions)
   before it is converted to fp32 and scaled. */
static inline __attribute__((always_inline)) void dot_r(const sk_ctx* c, int64_t nrow, int64_t set, const int64_t* rows,
                                                        float* res, const int R) {
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
                _mm_prefetch((const char*)(gcp + bb * 32) + SK_PREFETCH, SK_PF_HINT);
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
                tot[r] =
                    _mm512_fmadd_ps(_mm512_add_ps(_mm512_cvtepi32_ps(ae[r]), _mm512_cvtepi32_ps(ao[r])), sc[r], tot[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) res[r * SK_TILE_N] = _mm512_reduce_add_ps(tot[r]);
}

/* One row of X against NW W rows at once (m = 1 decode): the activation loads are shared and the
   independent chains of the NW rows hide the vpdpwssd latency. */
#ifndef NW
#define NW 2
#endif
static void dot_1xn(const sk_ctx* c, int64_t nrow, int64_t set, int64_t row, float* res) {
    __m512 tot[NW];
    const uint8_t* cp[NW];
    int64_t lrow[NW];
    for (int w = 0; w < NW; ++w) {
        tot[w] = _mm512_setzero_ps();
        cp[w] = c->codes + (nrow + w) * (c->k / 2);
        lrow[w] = (set * c->n + nrow + w) * c->groups;
    }
    const int16_t* xb = c->xq + row * c->xstride;
    const float* xsr = c->xs + row * c->groups;
    const int64_t nblk = c->nblk, gb = c->gb, full = gb >> 5;
    const __mmask32 tmask = (__mmask32)((1u << (gb & 31)) - 1u);
    for (int64_t g = 0; g < c->groups; ++g) {
        __m512i lut[NW];
        __m512 sc[NW];
        for (int w = 0; w < NW; ++w) {
            lut[w] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(c->lq + (lrow[w] + g) * 16)));
            sc[w] = _mm512_set1_ps(c->ls[lrow[w] + g] * xsr[g]);
        }
        const int16_t* xg = xb + g * nblk * SK_BLOCK;
        for (int64_t b = 0; b < nblk; b += 4) {
            const int64_t be = b + 4 < nblk ? b + 4 : nblk;
            __m512i ae[NW], ao[NW];
            for (int64_t bb = b; bb < be; ++bb) {
                const __m512i xe = _mm512_loadu_si512(xg + bb * SK_BLOCK),
                              xo = _mm512_loadu_si512(xg + bb * SK_BLOCK + 32);
#pragma GCC unroll 4
                for (int w = 0; w < NW; ++w) {
                    const uint8_t* q = cp[w] + g * gb + bb * 32;
                    /* The codes stream from memory: ask for them SK_PREFETCH bytes ahead (rows are
                       contiguous, so this runs into the next rows). */
                    _mm_prefetch((const char*)q + SK_PREFETCH, SK_PF_HINT);
                    const __m256i cb =
                        bb < full ? _mm256_loadu_si256((const __m256i*)q) : _mm256_maskz_loadu_epi8(tmask, q);
                    const __m512i lo = _mm512_cvtepu8_epi16(cb);
                    const __m512i wo = _mm512_permutexvar_epi16(lo, lut[w]);
                    const __m512i we = _mm512_permutexvar_epi16(_mm512_srli_epi16(lo, 4), lut[w]);
                    if (bb == b) {
                        ae[w] = _mm512_madd_epi16(we, xe);
                        ao[w] = _mm512_madd_epi16(wo, xo);
                    } else {
                        ae[w] = _mm512_dpwssd_epi32(ae[w], we, xe);
                        ao[w] = _mm512_dpwssd_epi32(ao[w], wo, xo);
                    }
                }
            }
#pragma GCC unroll 4
            for (int w = 0; w < NW; ++w)
                tot[w] =
                    _mm512_fmadd_ps(_mm512_add_ps(_mm512_cvtepi32_ps(ae[w]), _mm512_cvtepi32_ps(ao[w])), sc[w], tot[w]);
        }
    }
    for (int w = 0; w < NW; ++w) res[w] = _mm512_reduce_add_ps(tot[w]);
}

#define SK_DOT_LOOP(R) \
    for (int64_t j = 0; j < nn; ++j) dot_r(c, nt + j, set, rows, res + j, R)

void sk_dot_avx512(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int cnt, float* res) {
    switch (cnt) {
        case 1: {
            int64_t j = 0;
            for (; j + NW <= nn; j += NW) dot_1xn(c, nt + j, set, rows[0], res + j);
            for (; j < nn; ++j) dot_r(c, nt + j, set, rows, res + j, 1);
            break;
        }
        case 2: SK_DOT_LOOP(2); break;
        case 3: SK_DOT_LOOP(3); break;
        case 4: SK_DOT_LOOP(4); break;
        case 5: SK_DOT_LOOP(5); break;
        default: SK_DOT_LOOP(6); break;
    }
}

/* ---------------------------------------------------------------- prefill
   The codes of SK_TILE_N = 32 W rows are decoded once per (tile, set) into int16 weights, laid out for
   an outer product: for each group, block and pair p (0..31) of the block, two zmm (W rows 0..15 and
   16..31 of the tile, one int32 lane = 2 int16 weights per row). Pair p < 16 holds columns (4p, 4p+2),
   pair p >= 16 columns (4(p-16)+1, 4(p-16)+3): exactly dword p of the block in the activation layout,
   so the activation pair is one broadcast dword. The micro-kernel runs PR rows of X x 32 W rows with
   vpdpwssd; every int32 accumulator takes 4 vpdpwssd (8 products) before fp32 conversion. */

#define PR 6 /* rows of X per micro-kernel pass */

int64_t sk_prefill_tile_bytes(const sk_ctx* c) { return c->groups * c->nblk * 32 * 2 * 64; }

static inline __attribute__((always_inline)) void transpose16(__m512i* r) {
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    /* u[4q + e]: lane l = rows 4q..4q+3 of column 4l + e */
    for (int e = 0; e < 4; ++e) {
        const __m512i ab_lo = _mm512_shuffle_i32x4(u[e], u[4 + e], 0x44),
                      ab_hi = _mm512_shuffle_i32x4(u[e], u[4 + e], 0xEE);
        const __m512i cd_lo = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0x44),
                      cd_hi = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0xEE);
        r[e] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0x88);
        r[4 + e] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0xDD);
        r[8 + e] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0x88);
        r[12 + e] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0xDD);
    }
}

static void decode_tile(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, __m512i* tile) {
    const int64_t nblk = c->nblk, gb = c->gb, full = gb >> 5;
    const __mmask32 tmask = (__mmask32)((1u << (gb & 31)) - 1u);
    for (int64_t g = 0; g < c->groups; ++g) {
        for (int h = 0; h < 2; ++h) {
            __m512i lut[16];
            const uint8_t* cp[16];
            for (int j = 0; j < 16; ++j) {
                const int64_t nr = nt + h * 16 + j;
                if (nr < nt + nn) {
                    lut[j] = _mm512_broadcast_i64x4(
                        _mm256_loadu_si256((const __m256i*)(c->lq + ((set * c->n + nr) * c->groups + g) * 16)));
                    cp[j] = c->codes + nr * (c->k / 2) + g * gb;
                } else {
                    lut[j] = _mm512_setzero_si512();
                    cp[j] = NULL;
                }
            }
            for (int64_t b = 0; b < nblk; ++b) {
                __m512i ev[16], od[16];
                for (int j = 0; j < 16; ++j) {
                    if (!cp[j]) {
                        ev[j] = od[j] = _mm512_setzero_si512();
                        continue;
                    }
                    const __m256i cb = b < full ? _mm256_loadu_si256((const __m256i*)(cp[j] + b * 32))
                                                : _mm256_maskz_loadu_epi8(tmask, cp[j] + b * 32);
                    const __m512i lo = _mm512_cvtepu8_epi16(cb);
                    od[j] = _mm512_permutexvar_epi16(lo, lut[j]);
                    ev[j] = _mm512_permutexvar_epi16(_mm512_srli_epi16(lo, 4), lut[j]);
                }
                transpose16(ev);
                transpose16(od);
                __m512i* out = tile + (g * nblk + b) * 64 + h;
                for (int p = 0; p < 16; ++p) {
                    _mm512_store_si512(out + 2 * p, ev[p]);
                    _mm512_store_si512(out + 2 * (16 + p), od[p]);
                }
            }
        }
    }
}

static inline __attribute__((always_inline)) void prefill_r(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set,
                                                            const int64_t* rows, const __m512i* tile, float* res,
                                                            const int R) {
    __m512 tot[PR][2];
    const int16_t* xb[PR];
    const float* xsr[PR];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        tot[r][0] = tot[r][1] = _mm512_setzero_ps();
        xb[r] = c->xq + rows[r] * c->xstride;
        xsr[r] = c->xs + rows[r] * c->groups;
    }
    const int64_t nblk = c->nblk;
    const __mmask16 m0 = (__mmask16)(nn >= 16 ? 0xFFFF : (1u << nn) - 1u);
    const __mmask16 m1 = (__mmask16)(nn >= 32 ? 0xFFFF : nn <= 16 ? 0 : (1u << (nn - 16)) - 1u);
    for (int64_t g = 0; g < c->groups; ++g) {
        /* per-lane LUT scales of the tile's W rows for this group, times each row's x scale */
        const float* lsb = c->ls + (set * c->n + nt) * c->groups + g;
        const __m512i gidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                _mm512_set1_epi32((int)c->groups));
        const __m512 ls0 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m0, gidx, lsb, 4);
        const __m512 ls1 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m1, gidx, lsb + 16 * c->groups, 4);
        __m512 sc[PR][2];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m512 xs = _mm512_set1_ps(xsr[r][g]);
            sc[r][0] = _mm512_mul_ps(ls0, xs);
            sc[r][1] = _mm512_mul_ps(ls1, xs);
        }
        const __m512i* tg = tile + g * nblk * 64;
        const int64_t xoff = g * nblk * SK_BLOCK;
        for (int64_t p4 = 0; p4 < nblk * 8; ++p4) { /* 4 pairs at a time */
            __m512i acc[PR][2];
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int i = 0; i < 4; ++i) {
                const __m512i w0 = _mm512_load_si512(tg + (p4 * 4 + i) * 2);
                const __m512i w1 = _mm512_load_si512(tg + (p4 * 4 + i) * 2 + 1);
#pragma GCC unroll 8
                for (int r = 0; r < R; ++r) {
                    int32_t xv;
                    __builtin_memcpy(&xv, xb[r] + xoff + (p4 * 4 + i) * 2, 4);
                    const __m512i xx = _mm512_set1_epi32(xv);
                    acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], w0, xx);
                    acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], w1, xx);
                }
            }
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) {
                tot[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), sc[r][0], tot[r][0]);
                tot[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), sc[r][1], tot[r][1]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        _mm512_storeu_ps(res + r * SK_TILE_N, tot[r][0]);
        _mm512_storeu_ps(res + r * SK_TILE_N + 16, tot[r][1]);
    }
}

void sk_prefill_avx512(const sk_ctx* c, int64_t nt, int64_t nn, int64_t set, const int64_t* rows, int64_t cnt,
                       void* tile, float* res) {
    decode_tile(c, nt, nn, set, (__m512i*)tile);
    for (int64_t r0 = 0; r0 < cnt; r0 += PR) {
        const int64_t k = cnt - r0 < PR ? cnt - r0 : PR;
        float* out = res + r0 * SK_TILE_N;
        switch (k) {
            case 1: prefill_r(c, nt, nn, set, rows + r0, tile, out, 1); break;
            case 2: prefill_r(c, nt, nn, set, rows + r0, tile, out, 2); break;
            case 3: prefill_r(c, nt, nn, set, rows + r0, tile, out, 3); break;
            case 4: prefill_r(c, nt, nn, set, rows + r0, tile, out, 4); break;
            case 5: prefill_r(c, nt, nn, set, rows + r0, tile, out, 5); break;
            default: prefill_r(c, nt, nn, set, rows + r0, tile, out, 6); break;
        }
    }
}

/* ---------------------------------------------------------------- activations

   Per (row, group): absmax (NaN and Inf caught by one unordered compare), then per 64-column block
   x * (8191 / absmax) rounded to nearest-even (vcvtps2dq, as lrintf), clamped to +-8191, even columns
   to int16 0..31 and odd ones to 32..63. The same float operations as the scalar code: same bits. */

int32_t sk_prepare_x_avx512(const float* x, int64_t m, int64_t k, int64_t groups, int64_t nblk, float* xs,
                            int16_t* data) {
    const int64_t gc = k / groups, gstride = nblk * SK_BLOCK;
    const __m512 big = _mm512_set1_ps(3.402823466e38f);
    const __m512i lim = _mm512_set1_epi32(8191), nlim = _mm512_set1_epi32(-8191);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t r = 0; r < m; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
            const float* xg = x + r * k + g * gc;
            __m512 amax = _mm512_setzero_ps();
            __mmask16 bad = 0;
            for (int64_t c = 0; c < gc; c += 16) {
                const __mmask16 mk = gc - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (gc - c)) - 1u);
                const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(mk, xg + c));
                bad |= _mm512_cmp_ps_mask(a, big, _CMP_NLE_UQ);
                amax = _mm512_max_ps(amax, a);
            }
            if (bad) return SKETCH_CPU_ERR_X_NONFINITE;
            const float am = _mm512_reduce_max_ps(amax);
            xs[r * groups + g] = am / 8191.0f;
            const __m512 inv = _mm512_set1_ps(am > 0.0f ? 8191.0f / am : 0.0f);
            int16_t* out = data + (r * groups + g) * gstride;
            for (int64_t b = 0; b < nblk; ++b) {
                __m512i q[4];
                for (int i = 0; i < 4; ++i) {
                    const int64_t c = b * SK_BLOCK + 16 * i;
                    const int64_t left = gc - c;
                    const __mmask16 mk = left >= 16  ? (__mmask16)0xFFFF
                                         : left <= 0 ? (__mmask16)0
                                                     : (__mmask16)((1u << left) - 1u);
                    const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(mk, xg + c), inv));
                    q[i] = _mm512_max_epi32(_mm512_min_epi32(v, lim), nlim);
                }
                int16_t* ob = out + b * SK_BLOCK;
                _mm256_storeu_si256((__m256i*)ob, _mm512_cvtepi32_epi16(_mm512_permutex2var_epi32(q[0], even, q[1])));
                _mm256_storeu_si256((__m256i*)(ob + 16),
                                    _mm512_cvtepi32_epi16(_mm512_permutex2var_epi32(q[2], even, q[3])));
                _mm256_storeu_si256((__m256i*)(ob + 32),
                                    _mm512_cvtepi32_epi16(_mm512_permutex2var_epi32(q[0], odd, q[1])));
                _mm256_storeu_si256((__m256i*)(ob + 48),
                                    _mm512_cvtepi32_epi16(_mm512_permutex2var_epi32(q[2], odd, q[3])));
            }
        }
    }
    return SKETCH_CPU_OK;
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

/* Dense bf16 lm_head (dense.c): weights widened to fp32 in registers, prefetched like the codes. */
static inline float sk_bf16_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void sk_dense_avx512(const float* x, int64_t m, int64_t k, const uint16_t* w, float* y, int64_t n, int64_t n0,
                     int64_t n1) {
    const int64_t k16 = k & ~(int64_t)15;
    for (int64_t row = n0; row < n1; ++row) {
        const uint16_t* wr = w + row * k;
        for (int64_t i0 = 0; i0 < m; i0 += SK_DENSE_ROWS) {
            const int cnt = (int)(m - i0 < SK_DENSE_ROWS ? m - i0 : SK_DENSE_ROWS);
            __m512 acc[SK_DENSE_ROWS];
            for (int r = 0; r < SK_DENSE_ROWS; ++r) acc[r] = _mm512_setzero_ps();
            for (int64_t j = 0; j < k16; j += 16) {
                if (i0 == 0) _mm_prefetch((const char*)(wr + j) + SK_PREFETCH, _MM_HINT_T1);
                const __m512 wf = _mm512_castsi512_ps(
                    _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(wr + j))), 16));
                for (int r = 0; r < cnt; ++r)
                    acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(x + (i0 + r) * k + j), wf, acc[r]);
            }
            for (int r = 0; r < cnt; ++r) {
                float s = _mm512_reduce_add_ps(acc[r]);
                for (int64_t j = k16; j < k; ++j) s += x[(i0 + r) * k + j] * sk_bf16_f32(wr[j]);
                y[(i0 + r) * n + row] = s;
            }
        }
    }
}
