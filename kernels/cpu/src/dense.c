/* Dense bf16 matmul for the lm_head (DenseMatMul): y[m, n] = sum_k x[m, k] * float(w[n, k]).
   Exact: each bf16 weight is widened to fp32 in registers (its bits are the fp32's high half) and
   multiplied in fp32, as the Java kernel does; only the order of the sums differs. The weights
   stream from DRAM once per call (the lm_head is the largest single tensor a decode step reads), so
   they are prefetched ahead into L2 like the codes. */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "sketchrt_cpu.h"

static float bf16_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void dense_scalar(const float* x, int64_t m, int64_t k, const uint16_t* w, float* y, int64_t n, int64_t n0,
                         int64_t n1) {
    for (int64_t r = 0; r < n1 - n0; ++r) {
        const uint16_t* wr = w + (n0 + r) * k;
        for (int64_t i = 0; i < m; ++i) {
            const float* xi = x + i * k;
            double acc = 0;
            for (int64_t j = 0; j < k; ++j) acc += (double)xi[j] * bf16_to_f32(wr[j]);
            y[i * n + n0 + r] = (float)acc;
        }
    }
}

int32_t sketch_cpu_dense_bf16(int32_t path, const float* x, int64_t m, int64_t k, const uint16_t* w, float* y,
                              int64_t n, int64_t n0, int64_t n1) {
    if (!sketch_cpu_path_supported(path)) return SKETCH_CPU_ERR_PATH;
    if (!x || !w || !y) return SKETCH_CPU_ERR_NULL;
    if (m < 0 || k < 1 || n < 1 || n0 < 0 || n1 < n0 || n1 > n) return SKETCH_CPU_ERR_SHAPE;
    if (m == 0 || n0 == n1) return SKETCH_CPU_OK;
    if (path == SKETCH_CPU_PATH_AVX512) {
        sk_dense_avx512(x, m, k, w, y, n, n0, n1);
    } else if (path == SKETCH_CPU_PATH_AVX2) {
        sk_dense_avx2(x, m, k, w, y, n, n0, n1);
    } else {
        dense_scalar(x, m, k, w, y, n, n0, n1);
    }
    return SKETCH_CPU_OK;
}
