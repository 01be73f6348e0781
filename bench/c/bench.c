/* C benchmarks of libresilience, each side by side with a bare call and a
 * hand-written C equivalent, in one run (so ratios compare like with like).
 *   S1 retry, first attempt succeeds      S2 two failures then success (no-op sleeper)
 *   S3 breaker closed (acquire+success)   S4 breaker open (rejection)
 *   S7 one breaker shared by 1, 2, 4 threads (closed path)
 * and a second table, the failure-rate breaker (issue 9) against our own
 * consecutive breaker (S3's):
 *   S8 closed path with a time window / a count window
 *   S9 metrics read, snapshot into a caller's buffer (reported, no target)
 * and a third, issues 10 and 11 against our own S1 and hand-written C:
 *   S1 through resilience_retry_execute_ex without a listener (no cost?)
 *   L2 a retry with a retry budget, success path, against S1 without one
 *   L1 a rate limiter's try_acquire against a hand-written C GCRA
 * Prints Markdown tables. `make bench-c` writes them to bench/c/RESULTS.md. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* CLOCK_MONOTONIC_COARSE (Linux) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resilience.h"

#define REPEATS 21
#define ITERS 500000L

/* Per thread, so S7's threads share nothing but the breaker under test. */
static __thread volatile uint64_t sink;

/* The "work" every case wraps: an opaque call, so nothing is folded away. */
__attribute__((noinline)) static int work(void *user_data, uint32_t attempt) {
    sink += attempt + (uint64_t)(uintptr_t)user_data;
    return 0;
}

/* Attempts 1 and 2 fail (retryably), attempt 3 succeeds. */
__attribute__((noinline)) static int fail_twice(void *user_data, uint32_t attempt) {
    (void)user_data;
    sink += attempt;
    return attempt <= 2 ? RESILIENCE_OP_RETRYABLE : RESILIENCE_OP_SUCCESS;
}

__attribute__((noinline)) static void no_sleep(void *user_data, uint64_t ns) {
    (void)user_data;
    sink += ns;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- hand-written peers --------------------------------------------------- */

/* The retry loop a C programmer writes by hand: exponential, capped, no jitter. */
static int handwritten_retry(int (*op)(void *, uint32_t), void *ud, uint32_t max_attempts, uint64_t base,
                             uint64_t cap, void (*sleep_ns)(void *, uint64_t)) {
    uint32_t attempt;
    for (attempt = 1;; attempt++) {
        int rc = op(ud, attempt);
        uint64_t delay;
        if (rc == 0) return 0;
        if (attempt >= max_attempts || rc < 0) return rc;
        delay = attempt > 63 ? cap : base << (attempt - 1);
        sleep_ns(ud, delay > cap ? cap : delay);
    }
}

/* A minimal atomic breaker: closed check and success are plain atomic loads. */
typedef struct {
    int open;
    uint32_t failures;
    uint64_t opened_at;
    uint32_t threshold;
    uint64_t timeout;
} atomic_breaker;

static int ab_acquire(atomic_breaker *b) {
    if (!__atomic_load_n(&b->open, __ATOMIC_ACQUIRE)) return 1;
    return now_ns() - __atomic_load_n(&b->opened_at, __ATOMIC_ACQUIRE) >= b->timeout;
}

static void ab_success(atomic_breaker *b) {
    if (__atomic_load_n(&b->failures, __ATOMIC_RELAXED) != 0) __atomic_store_n(&b->failures, 0, __ATOMIC_RELEASE);
    if (__atomic_load_n(&b->open, __ATOMIC_ACQUIRE)) __atomic_store_n(&b->open, 0, __ATOMIC_RELEASE);
}

static void ab_failure(atomic_breaker *b) {
    if (__atomic_add_fetch(&b->failures, 1, __ATOMIC_ACQ_REL) >= b->threshold) {
        __atomic_store_n(&b->opened_at, now_ns(), __ATOMIC_RELEASE);
        __atomic_store_n(&b->open, 1, __ATOMIC_RELEASE);
    }
}

/* ---- the cases ------------------------------------------------------------- */

static resilience_retry_policy_t *policy;
static resilience_circuit_breaker_t *closed_breaker, *open_breaker;
static atomic_breaker hand_closed = {0, 0, 0, 5, 30000000000ULL}, hand_open = {0, 0, 0, 1, 3600000000000ULL};
static resilience_time_source_t noop_time;

static void s1_bare(void) { work(NULL, 1); }
static void s1_ours(void) {
    resilience_retry_outcome_t o;
    resilience_retry_execute(policy, work, NULL, NULL, &noop_time, &o);
}
static void s1_hand(void) { handwritten_retry(work, NULL, 3, 1000000000u, 60000000000ULL, no_sleep); }

static void s2_bare(void) {
    fail_twice(NULL, 1);
    fail_twice(NULL, 2);
    fail_twice(NULL, 3);
}
static void s2_ours(void) {
    resilience_retry_outcome_t o;
    resilience_retry_execute(policy, fail_twice, NULL, NULL, &noop_time, &o);
}
static void s2_hand(void) { handwritten_retry(fail_twice, NULL, 3, 1000000000u, 60000000000ULL, no_sleep); }

static void s3_ours(void) {
    resilience_permit_t p;
    if (resilience_circuit_breaker_try_acquire(closed_breaker, &p, NULL) == RESILIENCE_OK) {
        work(NULL, 1);
        resilience_circuit_breaker_record_success(closed_breaker, p);
    }
}
static void s3_hand(void) {
    if (ab_acquire(&hand_closed)) {
        work(NULL, 1);
        ab_success(&hand_closed);
    }
}

static void s4_ours(void) {
    resilience_permit_t p;
    if (resilience_circuit_breaker_try_acquire(open_breaker, &p, NULL) == RESILIENCE_OK) work(NULL, 1);
}
static void s4_hand(void) {
    if (ab_acquire(&hand_open)) work(NULL, 1);
}

/* Failure-rate breakers (ratio 0.5 over at least 100 calls, never reached:
 * every call succeeds), on the system clock as S3's. */
static resilience_circuit_breaker_t *time_window_breaker, *count_window_breaker, *coarse_window_breaker;
static char snapshot_buf[4096];

/* A clock a C program may inject when a time window's clock reading per
 * call matters: the kernel's coarse monotonic clock (a few ms resolution;
 * the window's buckets are 3 s). */
static int64_t coarse_now(void *user_data) {
    struct timespec ts;
    (void)user_data;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static void s8_clock_read(void) { sink += now_ns(); }
static void s8_coarse(void);

static void closed_call(resilience_circuit_breaker_t *b) {
    resilience_permit_t p;
    if (resilience_circuit_breaker_try_acquire(b, &p, NULL) == RESILIENCE_OK) {
        work(NULL, 1);
        resilience_circuit_breaker_record_success(b, p);
    }
}
static void s8_time(void) { closed_call(time_window_breaker); }
static void s8_count(void) { closed_call(count_window_breaker); }
static void s8_coarse(void) { closed_call(coarse_window_breaker); }
static void s9_metrics_consecutive(void) {
    resilience_circuit_breaker_metrics_t m;
    resilience_circuit_breaker_metrics(closed_breaker, &m);
    sink += m.window_calls;
}
static void s9_metrics_time(void) {
    resilience_circuit_breaker_metrics_t m;
    resilience_circuit_breaker_metrics(time_window_breaker, &m);
    sink += m.window_calls;
}
static void s9_snapshot_time(void) {
    size_t len;
    resilience_circuit_breaker_snapshot(time_window_breaker, snapshot_buf, sizeof snapshot_buf, &len);
    sink += len;
}

/* ---- issues 10 and 11 --------------------------------------------------- */

static resilience_retry_policy_t *budgeted_policy, *coarse_budgeted_policy;
static resilience_rate_limiter_t *limiter, *coarse_limiter;
static resilience_retry_call_t s1_call;

static void s1_ex(void) {
    resilience_retry_outcome_t o;
    resilience_retry_execute_ex(policy, &s1_call, &o);
}
static void l2_budget(void) {
    resilience_retry_outcome_t o;
    resilience_retry_execute(budgeted_policy, work, NULL, NULL, &noop_time, &o);
}
static void l2_budget_coarse(void) {
    resilience_retry_outcome_t o;
    resilience_retry_execute(coarse_budgeted_policy, work, NULL, NULL, &noop_time, &o);
}

/* GCRA as a C programmer writes it (governor's, redis-cell's): the
 * theoretical arrival time in one atomic word, one compare-and-swap. */
static uint64_t hand_tat;
static uint64_t (*hand_clock)(void);
static int hand_gcra(uint64_t interval, uint64_t tolerance) {
    uint64_t now = hand_clock(), tat = __atomic_load_n(&hand_tat, __ATOMIC_ACQUIRE), next;
    for (;;) {
        if (tat > now + tolerance) return 0;
        next = (tat > now ? tat : now) + interval;
        if (__atomic_compare_exchange_n(&hand_tat, &tat, next, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return 1;
    }
}
static uint64_t coarse_now_u(void) { return (uint64_t)coarse_now(NULL); }
static void l1_ours(void) {
    if (resilience_rate_limiter_try_acquire(limiter, 1, NULL) == RESILIENCE_OK) work(NULL, 1);
}
static void l1_ours_coarse(void) {
    if (resilience_rate_limiter_try_acquire(coarse_limiter, 1, NULL) == RESILIENCE_OK) work(NULL, 1);
}
/* The limiters never run dry: one cell per ns, a burst of 2^32 - 1. */
static void l1_hand(void) {
    hand_clock = now_ns;
    if (hand_gcra(1, 4294967294ULL)) work(NULL, 1);
}
static void l1_hand_coarse(void) {
    hand_clock = coarse_now_u;
    if (hand_gcra(1, 4294967294ULL)) work(NULL, 1);
}

static double time_once(void (*f)(void), long iters) {
    uint64_t t0 = now_ns();
    long i;
    for (i = 0; i < iters; i++) f();
    return (double)(now_ns() - t0) / (double)iters;
}

/* Best of REPEATS runs of each of up to three contenders, in ns per call.
 * The contenders take turns within each repeat, so a burst of load from
 * other processes hits all of them alike. */
static void measure(void (*f[3])(void), long iters, double best[3]) {
    int r, k;
    for (k = 0; k < 3; k++) best[k] = 1e30;
    for (r = 0; r < REPEATS; r++)
        for (k = 0; k < 3; k++)
            if (f[k]) {
                double ns = time_once(f[k], iters);
                if (ns < best[k]) best[k] = ns;
            }
    for (k = 0; k < 3; k++)
        if (!f[k]) best[k] = 0.0;
}

typedef struct {
    void (*f)(void);
    long iters;
} thread_job;

static void *run_job(void *arg) {
    thread_job *j = arg;
    long i;
    for (i = 0; i < j->iters; i++) j->f();
    return NULL;
}

static double time_threads(void (*f)(void), int threads, long iters) {
    pthread_t tids[8];
    thread_job job;
    uint64_t t0 = now_ns();
    int t;
    job.f = f;
    job.iters = iters;
    for (t = 0; t < threads; t++) pthread_create(&tids[t], NULL, run_job, &job);
    for (t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    return (double)(now_ns() - t0) / (double)iters;
}

/* Wall time per call seen by each of `threads` threads running at once;
 * best of REPEATS, ours and the peer taking turns. */
static void measure_threads(void (*ours)(void), void (*peer)(void), int threads, long iters, double best[2]) {
    int r;
    best[0] = best[1] = 1e30;
    for (r = 0; r < REPEATS; r++) {
        double a = time_threads(ours, threads, iters), b = time_threads(peer, threads, iters);
        if (a < best[0]) best[0] = a;
        if (b < best[1]) best[1] = b;
    }
}

static void row(const char *scenario, double bare, double ours, double hand);

static void compare(const char *scenario, void (*bare)(void), void (*ours)(void), void (*hand)(void)) {
    void (*f[3])(void);
    double best[3];
    f[0] = bare;
    f[1] = ours;
    f[2] = hand;
    measure(f, ITERS, best);
    row(scenario, best[0], best[1], best[2]);
}

static void row(const char *scenario, double bare, double ours, double hand) {
    char b[32] = "-", over[32] = "-";
    if (bare > 0) {
        snprintf(b, sizeof b, "%.2f", bare);
        snprintf(over, sizeof over, "%+.2f", ours - bare);
    }
    printf("| %s | %s | %.2f | %.2f | %s | %.2fx |\n", scenario, b, ours, hand, over, ours / hand);
}

int main(void) {
    resilience_retry_config_t rc = resilience_retry_config_default();
    resilience_circuit_breaker_config_t bc = resilience_circuit_breaker_config_default();
    resilience_permit_t p;
    double s7_ours[3], s7_hand[3];
    int threads[3] = {1, 2, 4}, k;

    rc.jitter = RESILIENCE_JITTER_NONE; /* the hand-written loop has none either */
    noop_time = resilience_time_source_system();
    noop_time.sleep_ns = no_sleep;
    if (resilience_retry_policy_new(&rc, &policy) || resilience_circuit_breaker_new(&bc, &closed_breaker)) return 1;
    bc.failure_threshold = 1;
    bc.recovery_timeout_ns = 3600000000000LL;
    if (resilience_circuit_breaker_new(&bc, &open_breaker)) return 1;
    resilience_circuit_breaker_try_acquire(open_breaker, &p, NULL);
    resilience_circuit_breaker_record_failure(open_breaker, p);
    ab_failure(&hand_open);

    printf("| scenario | bare call (ns) | libresilience (ns) | hand-written C (ns) | over bare (ns) | vs hand-written |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    compare("S1 retry, first attempt succeeds", s1_bare, s1_ours, s1_hand);
    compare("S2 two failures then success (no-op sleeper)", s2_bare, s2_ours, s2_hand);
    compare("S3 breaker closed: acquire + call + success", s1_bare, s3_ours, s3_hand);
    compare("S4 breaker open: rejection", NULL, s4_ours, s4_hand);
    for (k = 0; k < 3; k++) {
        double best[2];
        measure_threads(s3_ours, s3_hand, threads[k], ITERS, best);
        s7_ours[k] = best[0];
        s7_hand[k] = best[1];
    }
    for (k = 0; k < 3; k++) {
        char name[96];
        snprintf(name, sizeof name, "S7 one closed breaker shared by %d thread(s) (wall ns per call, each thread)",
                 threads[k]);
        row(name, 0.0, s7_ours[k], s7_hand[k]);
    }

    /* The failure-rate breaker against our consecutive one, same run. */
    bc = resilience_circuit_breaker_config_default();
    bc.failure_ratio = 0.5;
    if (resilience_circuit_breaker_new(&bc, &time_window_breaker)) return 1; /* 30 s in 10 buckets */
    bc.clock.now_ns = coarse_now;
    if (resilience_circuit_breaker_new(&bc, &coarse_window_breaker)) return 1;
    bc.clock.now_ns = NULL;
    bc.window_kind = RESILIENCE_WINDOW_COUNT;
    bc.window_size = 100;
    if (resilience_circuit_breaker_new(&bc, &count_window_breaker)) return 1;
    {
        void (*f[3])(void);
        double best[3];
        printf("\n| scenario | consecutive breaker (ns) | failure-rate breaker (ns) | ratio |\n");
        printf("|---|---:|---:|---:|\n");
        f[0] = s3_ours;
        f[1] = s8_time;
        f[2] = s8_count;
        measure(f, ITERS, best);
        printf("| S8 closed: acquire + call + success, time window (30 s, 10 buckets; reads the clock) | %.2f | %.2f | %.2fx |\n",
               best[0], best[1], best[1] / best[0]);
        printf("| S8 closed: acquire + call + success, count window (100 calls) | %.2f | %.2f | %.2fx |\n", best[0],
               best[2], best[2] / best[0]);
        f[1] = s8_coarse;
        f[2] = s8_clock_read;
        measure(f, ITERS, best);
        printf("| S8 closed: time window on an injected CLOCK_MONOTONIC_COARSE clock | %.2f | %.2f | %.2fx |\n", best[0],
               best[1], best[1] / best[0]);
        printf("| S8 for scale: one clock_gettime(CLOCK_MONOTONIC) (the system clock's reading) | - | %.2f | - |\n",
               best[2]);
        f[0] = s9_metrics_consecutive;
        f[1] = s9_metrics_time;
        f[2] = s9_snapshot_time;
        measure(f, ITERS / 10, best);
        printf("| S9 metrics read (no target) | %.2f | %.2f | - |\n", best[0], best[1]);
        printf("| S9 snapshot into a caller's buffer, time window (no target) | - | %.2f | - |\n", best[2]);
    }
    /* Issues 10 and 11: the new paths against S1 and hand-written C. */
    {
        resilience_retry_budget_config_t budget_cfg = resilience_retry_budget_config_default();
        resilience_retry_budget_t *budget = NULL, *coarse_budget = NULL;
        resilience_rate_limiter_config_t lc = resilience_rate_limiter_config_default();
        void (*f[3])(void);
        double best[3];
        if (resilience_retry_budget_new(&budget_cfg, &budget)) return 1; /* the system clock */
        budget_cfg.clock.now_ns = coarse_now;
        if (resilience_retry_budget_new(&budget_cfg, &coarse_budget)) return 1;
        rc.budget = budget;
        if (resilience_retry_policy_new(&rc, &budgeted_policy)) return 1;
        rc.budget = coarse_budget;
        if (resilience_retry_policy_new(&rc, &coarse_budgeted_policy)) return 1;
        resilience_retry_budget_free(budget);
        resilience_retry_budget_free(coarse_budget);
        lc.rate = 4294967295LL; /* one cell per ns: never limited at these speeds */
        lc.per_ns = 1000000000LL;
        lc.burst = 4294967295LL;
        if (resilience_rate_limiter_new(&lc, &limiter)) return 1;
        lc.clock.now_ns = coarse_now;
        if (resilience_rate_limiter_new(&lc, &coarse_limiter)) return 1;
        s1_call = resilience_retry_call_default();
        s1_call.op = work;
        s1_call.time = noop_time;

        printf("\n| scenario | baseline (ns) | libresilience (ns) | ratio |\n");
        printf("|---|---:|---:|---:|\n");
        f[0] = s1_ours;
        f[1] = s1_ex;
        f[2] = l2_budget;
        measure(f, ITERS, best);
        printf("| S1 through retry_execute_ex, no listener, no result predicate (baseline: S1) | %.2f | %.2f | %.2fx |\n",
               best[0], best[1], best[1] / best[0]);
        printf("| L2 retry with a retry budget, first attempt succeeds, system clock (baseline: S1, no budget) | %.2f | "
               "%.2f | %.2fx |\n",
               best[0], best[2], best[2] / best[0]);
        f[1] = l2_budget_coarse;
        f[2] = s8_clock_read;
        measure(f, ITERS, best);
        printf("| L2 the same, budget on an injected CLOCK_MONOTONIC_COARSE clock (baseline: S1) | %.2f | %.2f | "
               "%.2fx |\n",
               best[0], best[1], best[1] / best[0]);
        printf("| for scale: one clock_gettime(CLOCK_MONOTONIC) | - | %.2f | - |\n", best[2]);
        f[0] = l1_hand;
        f[1] = l1_ours;
        f[2] = NULL;
        measure(f, ITERS, best);
        printf("| L1 rate limiter try_acquire(1) + call, system clock (baseline: hand-written C GCRA, same clock) | "
               "%.2f | %.2f | %.2fx |\n",
               best[0], best[1], best[1] / best[0]);
        f[0] = l1_hand_coarse;
        f[1] = l1_ours_coarse;
        measure(f, ITERS, best);
        printf("| L1 the same on CLOCK_MONOTONIC_COARSE (baseline: hand-written C GCRA, same clock) | %.2f | %.2f | "
               "%.2fx |\n",
               best[0], best[1], best[1] / best[0]);
        resilience_retry_policy_free(budgeted_policy);
        resilience_retry_policy_free(coarse_budgeted_policy);
        resilience_rate_limiter_free(limiter);
        resilience_rate_limiter_free(coarse_limiter);
    }
    resilience_circuit_breaker_free(time_window_breaker);
    resilience_circuit_breaker_free(count_window_breaker);
    resilience_circuit_breaker_free(coarse_window_breaker);
    resilience_circuit_breaker_free(closed_breaker);
    resilience_circuit_breaker_free(open_breaker);
    resilience_retry_policy_free(policy);
    return 0;
}
