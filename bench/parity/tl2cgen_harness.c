/* Times a tl2cgen-generated predict() from C: one row per call (the generated code has no batch
 * entry point; its Predictor's batch path loops over rows calling it), thread CPU time.
 *   harness ROWS.f32 FEATURES ROWS_PER_RUN RUNS SCORES.f32
 * Reads float32 rows (NaN = missing), writes every row's score to SCORES.f32 (for a parity
 * check), prints "ns/row median min max" over RUNS measured runs after one discarded warm-up. */
#define _POSIX_C_SOURCE 199309L  /* clock_gettime under -std=c99 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "header.h"

static double thread_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s ROWS.f32 FEATURES ROWS_PER_RUN RUNS SCORES.f32\n", argv[0]);
        return 2;
    }
    long features = atol(argv[2]), per_run = atol(argv[3]), runs = atol(argv[4]);
    FILE *in = fopen(argv[1], "rb");
    if (!in || features <= 0 || per_run <= 0 || runs <= 0) { perror(argv[1]); return 2; }
    fseek(in, 0, SEEK_END);
    long count = ftell(in) / 4 / features;
    fseek(in, 0, SEEK_SET);
    float *x = malloc((size_t)(count * features) * sizeof *x);
    union Entry *rows = malloc((size_t)(count * features) * sizeof *rows);
    double *times = malloc((size_t)runs * sizeof *times);
    if (count <= 0 || fread(x, sizeof *x, (size_t)(count * features), in) != (size_t)(count * features)) {
        fprintf(stderr, "%s: short read\n", argv[1]);
        return 2;
    }
    fclose(in);
    for (long i = 0; i < count * features; i++) {
        if (isnan(x[i])) rows[i].missing = -1; else rows[i].fvalue = x[i];
    }
    FILE *out = fopen(argv[5], "wb");
    for (long r = 0; r < count; r++) {
        float score = 0;
        predict(rows + r * features, 0, &score);
        fwrite(&score, sizeof score, 1, out);
    }
    fclose(out);
    volatile float sink = 0;
    for (long run = 0; run <= runs; run++) {
        double start = thread_ns();
        for (long i = 0; i < per_run; i++) {
            float score = 0;
            predict(rows + (i % count) * features, 0, &score);
            sink += score;
        }
        double elapsed = thread_ns() - start;
        if (run) times[run - 1] = elapsed / (double)per_run;
    }
    qsort(times, (size_t)runs, sizeof *times, by_value);
    printf("%.1f %.1f %.1f\n", times[runs / 2], times[0], times[runs - 1]);
    return 0;
}
