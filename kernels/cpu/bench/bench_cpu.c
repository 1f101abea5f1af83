/* Single-threaded throughput of sketch_cpu_matmul per path, and read bandwidth.
   Usage: sketch_cpu_bench [max_seconds_per_config (default 0.6) [max_m (default 512)]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "sketchrt_cpu.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static float uni(float a, float b) { return a + (b - a) * (float)((next_u64() >> 40) * 0x1p-24); }

static void* xalloc(size_t bytes) {
    void* p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static int cmpd(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
    const double budget = argc > 1 ? atof(argv[1]) : 0.6;
    const long long max_m = argc > 2 ? atoll(argv[2]) : 512;
    static const struct {
        int64_t n, k, g;
        const char* name;
    } shapes[] = {{2048, 2048, 8, "2048x2048 G=8 (q/o proj)"},
                  {5632, 2048, 4, "5632x2048 G=4 (gate/up)"},
                  {2048, 5632, 4, "2048x5632 G=4 (down)"},
                  {65536, 2048, 4, "65536x2048 G=4 (64 MB codes: from DRAM)"}};
    static const int64_t ms[] = {1, 4, 7, 8, 16, 32, 64, 512};
    printf("sketchrt_cpu bench, best path %s, single thread, bits=4\n", sketch_cpu_path_name(sketch_cpu_best_path()));
    printf("%-26s %-12s %5s %10s %10s %10s %10s\n", "shape", "path", "m", "min ms", "med ms", "G w/s", "GMAC/s");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
        const int64_t n = shapes[si].n, k = shapes[si].k, g = shapes[si].g;
        float* lut = xalloc((size_t)(n * g * 16) * 4);
        for (int64_t i = 0; i < n * g * 16; ++i) lut[i] = uni(-0.05f, 0.05f);
        uint8_t* codes = xalloc((size_t)(n * k / 2));
        for (int64_t i = 0; i < n * k / 2; ++i) codes[i] = (uint8_t)next_u64();
        int16_t* q = xalloc((size_t)(n * g) * 32);
        float* sc = xalloc((size_t)(n * g) * 4);
        if (sketch_cpu_prepare_lut(lut, 1, 1, n, g, 4, 16, q, sc)) return 1;
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; ++mi) {
            const int64_t m = ms[mi];
            if (m > max_m) continue;
            float* x = xalloc((size_t)(m * k) * 4);
            for (int64_t i = 0; i < m * k; ++i) x[i] = uni(-1, 1);
            void* xq = xalloc((size_t)sketch_cpu_x_bytes(m, k, g));
            float* y = xalloc((size_t)(m * n) * 4);
            for (int path = 0; path <= 2; ++path) {
                if (!sketch_cpu_path_supported(path)) continue;
                if (path == 0 && m > 4) continue; /* scalar prefill would take minutes */
                if (sketch_cpu_prepare_x(path, x, 1, m, k, g, xq)) return 1;
                double t[25];
                int runs = 0;
                const double start = now();
                while (runs < 25 && (runs < 3 || now() - start < budget)) {
                    const double t0 = now();
                    const int rc = sketch_cpu_matmul(path, xq, m, k, g, 4, NULL, 1, codes, q, sc, NULL, 1, y, n, 0, n);
                    t[runs++] = now() - t0;
                    if (rc) {
                        printf("error %d %s\n", rc, sketch_cpu_error_string(rc));
                        return 1;
                    }
                }
                qsort(t, (size_t)runs, sizeof t[0], cmpd);
                const double w = (double)n * (double)k;
                printf("%-26s %-12s %5lld %10.3f %10.3f %10.2f %10.2f\n", shapes[si].name, sketch_cpu_path_name(path),
                       (long long)m, t[0] * 1e3, t[runs / 2] * 1e3, w / t[0] * 1e-9, w * (double)m / t[0] * 1e-9);
                fflush(stdout);
            }
            free(x);
            free(xq);
            free(y);
        }
        free(lut);
        free(codes);
        free(q);
        free(sc);
    }
    const double bw = sketch_cpu_read_bandwidth_gbs((int64_t)1 << 30, 5);
    printf("read bandwidth, 1 GiB buffer, single thread, widest loads: %.2f GB/s\n", bw);
    return 0;
}
