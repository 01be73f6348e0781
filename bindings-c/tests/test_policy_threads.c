/* Eight threads draw jittered delays from one seeded policy at once. The
 * policy is thread-safe if no draw is lost or repeated: sorted, the delays
 * the threads saw are exactly the delays one thread sees from a policy with
 * the same seed, however the draws interleaved.
 * Usage: test_policy_threads [draws per thread] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "resilience.h"
#include "support/check.h"

#define THREADS 8

typedef struct {
    pthread_t thread;
    resilience_retry_policy_t *policy;
    pthread_barrier_t *start;
    uint64_t *delays;
    long bad;
} worker;

static long draws_per_thread = 20000;

static void *draw(void *arg) {
    worker *w = arg;
    long i;
    pthread_barrier_wait(w->start);
    for (i = 0; i < draws_per_thread; i++)
        if (resilience_retry_policy_calculate_delay(w->policy, 3, &w->delays[i]) != RESILIENCE_OK) w->bad++;
    return NULL;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static resilience_retry_policy_t *seeded_policy(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    cfg.seeded = true;
    cfg.seed = 2026;
    cfg.jitter = RESILIENCE_JITTER_FULL; /* every draw a different delay */
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    return p;
}

int main(int argc, char **argv) {
    resilience_retry_policy_t *shared, *alone;
    pthread_barrier_t start;
    worker workers[THREADS];
    uint64_t *seen, *expected;
    long n, i, bad = 0, distinct = 0;
    int t;
    if (argc > 1) draws_per_thread = atol(argv[1]);
    n = draws_per_thread * THREADS;
    seen = calloc((size_t)n, sizeof *seen);
    expected = calloc((size_t)n, sizeof *expected);
    shared = seeded_policy();
    alone = seeded_policy();
    if (!seen || !expected || !shared || !alone) return 1;
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (t = 0; t < THREADS; t++) {
        workers[t].policy = shared;
        workers[t].start = &start;
        workers[t].delays = seen + (long)t * draws_per_thread;
        workers[t].bad = 0;
        CHECK(pthread_create(&workers[t].thread, NULL, draw, &workers[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_join(workers[t].thread, NULL) == 0);
        bad += workers[t].bad;
    }
    for (i = 0; i < n; i++)
        if (resilience_retry_policy_calculate_delay(alone, 3, &expected[i]) != RESILIENCE_OK) bad++;
    qsort(seen, (size_t)n, sizeof *seen, by_value);
    qsort(expected, (size_t)n, sizeof *expected, by_value);
    CHECK(bad == 0);
    for (i = 0; i < n; i++) {
        if (seen[i] != expected[i]) { CHECK(seen[i] == expected[i]); break; }
        distinct += i == 0 || seen[i] != seen[i - 1];
    }
    CHECK(distinct > n / 2); /* the draws really differ, so a repeat would show */
    printf("policy threads: %ld draws by %d threads, the same %ld delays as one thread's\n", n, THREADS, n);
    pthread_barrier_destroy(&start);
    resilience_retry_policy_free(shared);
    resilience_retry_policy_free(alone);
    free(seen);
    free(expected);
    return check_report("policy threads");
}
