/* Scalar float16 / bfloat16 <-> float conversions (round to nearest even), shared with the tests. */
#ifndef SKETCHRT_CPU_CONVERT_H
#define SKETCHRT_CPU_CONVERT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float sk_h2f(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu, bits;
    if (e == 0) {
        float f = (float)m * 0x1p-24f; /* zero or subnormal, exact */
        memcpy(&bits, &f, 4);
        bits |= s;
    } else if (e == 31) {
        bits = s | 0x7F800000u | (m << 13);
    } else {
        bits = s | ((e + 112u) << 23) | (m << 13);
    }
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

static inline uint16_t sk_f2h(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t s = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7FFFFFFFu;
    if (x > 0x7F800000u) return (uint16_t)(s | 0x7E00u);  /* NaN */
    if (x >= 0x477FF000u) return (uint16_t)(s | 0x7C00u); /* >= 65520 rounds to Inf */
    if (x < 0x38800000u) {                                /* below 2^-14: subnormal half */
        float a;
        memcpy(&a, &x, 4);
        return (uint16_t)(s | (uint16_t)lrintf(a * 0x1p24f));
    }
    uint32_t r = (((x >> 23) - 112u) << 10) | ((x & 0x7FFFFFu) >> 13);
    uint32_t rem = x & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
    return (uint16_t)(s | r);
}

static inline float sk_bf2f(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

static inline uint16_t sk_f2bf(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* type: 1 float, 10 float16, 16 bfloat16 */
static inline float sk_load(const void* p, int32_t type, int64_t i) {
    switch (type) {
        case 1: return ((const float*)p)[i];
        case 10: return sk_h2f(((const uint16_t*)p)[i]);
        default: return sk_bf2f(((const uint16_t*)p)[i]);
    }
}

static inline void sk_store(void* p, int32_t type, int64_t i, float v) {
    switch (type) {
        case 1: ((float*)p)[i] = v; break;
        case 10: ((uint16_t*)p)[i] = sk_f2h(v); break;
        default: ((uint16_t*)p)[i] = sk_f2bf(v); break;
    }
}

#endif
