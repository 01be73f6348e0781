/* Load control under eight threads, on virtual clocks (no timing asserts):
 *  - one retry budget shared by two retry policies: with every first
 *    attempt deposited before any retry is asked for, exactly ratio x
 *    deposits retries are granted, however the threads interleave; with
 *    deposits and withdrawals interleaved, never more;
 *  - one GCRA rate limiter hammered by 8 threads while they move a shared
 *    clock forward: the cells admitted by clock reading `now` never exceed
 *    burst + now / T (the emission interval), and every refusal's wait is
 *    at most n x T;
 *  - one adaptive throttle asked by 8 threads at once: every request and
 *    every accept reported is counted, exactly.
 * Usage: test_load_threads [operations per thread] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "resilience.h"
#include "support/check.h"

#define THREADS 8
#define MS 1000000LL

static long ops_per_thread = 20000;

/* ---- a shared virtual clock -------------------------------------------------- */

typedef struct {
    int64_t now_ns;
} shared_clock;

static int64_t shared_now(void *user_data) {
    return __atomic_load_n(&((shared_clock *)user_data)->now_ns, __ATOMIC_ACQUIRE);
}

static resilience_time_source_t borrowed(shared_clock *c) {
    resilience_time_source_t t = resilience_time_source_system();
    t.user_data = c;
    t.now_ns = shared_now;
    return t;
}

/* ---- one budget, two policies ----------------------------------------------- */

typedef struct {
    pthread_t thread;
    pthread_barrier_t *barrier;
    resilience_retry_policy_t *policies[2];
    resilience_retry_state_t **states;
    long sequences;
    long granted, denied, bad;
    int interleaved;
} budget_worker;

static void *use_budget(void *arg) {
    budget_worker *w = arg;
    long i;
    resilience_retry_decision_t d;
    pthread_barrier_wait(w->barrier);
    if (!w->interleaved) {
        /* Phase 1: every sequence starts (a deposit each)... */
        for (i = 0; i < w->sequences; i++)
            if (resilience_retry_state_new(w->policies[i % 2], &w->states[i]) != RESILIENCE_OK) w->bad++;
        pthread_barrier_wait(w->barrier);
        /* ...phase 2: each asks for one retry. */
        for (i = 0; i < w->sequences; i++) {
            if (resilience_retry_state_on_failure(w->states[i], true, &d) != RESILIENCE_OK) w->bad++;
            else if (d.action == RESILIENCE_RETRY_ACTION_RETRY) w->granted++;
            else if (d.reason == RESILIENCE_GIVE_UP_BUDGET) w->denied++;
            else w->bad++;
            resilience_retry_state_free(w->states[i]);
        }
        return NULL;
    }
    /* Interleaved: start a sequence, retry it until the budget says no. */
    for (i = 0; i < w->sequences; i++) {
        resilience_retry_state_t *s = NULL;
        if (resilience_retry_state_new(w->policies[i % 2], &s) != RESILIENCE_OK) { w->bad++; continue; }
        for (;;) {
            if (resilience_retry_state_on_failure(s, true, &d) != RESILIENCE_OK) { w->bad++; break; }
            if (d.action != RESILIENCE_RETRY_ACTION_RETRY) {
                if (d.reason != RESILIENCE_GIVE_UP_BUDGET) w->bad++;
                break;
            }
            w->granted++;
        }
        resilience_retry_state_free(s);
    }
    return NULL;
}

static void test_shared_budget(int interleaved) {
    resilience_retry_budget_config_t bc = resilience_retry_budget_config_default();
    resilience_retry_config_t rc = resilience_retry_config_default();
    resilience_retry_budget_t *budget = NULL;
    resilience_retry_policy_t *p1 = NULL, *p2 = NULL;
    shared_clock clock = {5 * MS};
    pthread_barrier_t barrier;
    budget_worker w[THREADS];
    long sequences = ops_per_thread / 4 + 1, granted = 0, denied = 0, bad = 0, deposits;
    int t;
    bc.min_retries_per_sec = 0; /* the ratio alone: the bound is exact */
    bc.retry_ratio = 0.5;
    bc.clock = borrowed(&clock);
    CHECK_OK(resilience_retry_budget_new(&bc, &budget));
    rc.max_attempts = 1000000;
    rc.jitter = RESILIENCE_JITTER_NONE;
    rc.base_delay_ns = 1;
    rc.budget = budget;
    CHECK_OK(resilience_retry_policy_new(&rc, &p1));
    rc.backoff = RESILIENCE_BACKOFF_LINEAR;
    CHECK_OK(resilience_retry_policy_new(&rc, &p2));
    resilience_retry_budget_free(budget); /* the policies share it from here */
    CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0);
    for (t = 0; t < THREADS; t++) {
        w[t].barrier = &barrier;
        w[t].policies[0] = t % 2 ? p1 : p2;
        w[t].policies[1] = t % 2 ? p2 : p1;
        w[t].sequences = sequences;
        w[t].states = calloc((size_t)sequences, sizeof *w[t].states);
        w[t].granted = w[t].denied = w[t].bad = 0;
        w[t].interleaved = interleaved;
        if (!w[t].states) exit(1);
        CHECK(pthread_create(&w[t].thread, NULL, use_budget, &w[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_join(w[t].thread, NULL) == 0);
        granted += w[t].granted;
        denied += w[t].denied;
        bad += w[t].bad;
        free(w[t].states);
    }
    deposits = sequences * THREADS;
    CHECK_EQ_U64(bad, 0);
    if (!interleaved) {
        /* Every deposit was visible before the first withdrawal: exactly half. */
        CHECK_EQ_U64(granted, deposits / 2);
        CHECK_EQ_U64(denied, deposits - deposits / 2);
    } else {
        CHECK(granted <= deposits / 2);
        CHECK(granted > 0);
    }
    printf("budget threads (%s): %ld first attempts over two policies, %ld retries granted (bound %ld)\n",
           interleaved ? "interleaved" : "deposits first", deposits, granted, deposits / 2);
    pthread_barrier_destroy(&barrier);
    resilience_retry_policy_free(p1);
    resilience_retry_policy_free(p2);
}

/* ---- one limiter, eight threads ------------------------------------------- */

typedef struct {
    pthread_t thread;
    pthread_barrier_t *barrier;
    resilience_rate_limiter_t *limiter;
    shared_clock *clock;
    uint64_t *admitted; /* cells taken, all threads */
    uint64_t interval, burst;
    unsigned seed;
    long ok, limited, exceeded, bad, over_bound;
} limiter_worker;

static unsigned next_rand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static void *hammer(void *arg) {
    limiter_worker *w = arg;
    long i;
    pthread_barrier_wait(w->barrier);
    for (i = 0; i < ops_per_thread; i++) {
        unsigned r = next_rand(&w->seed);
        int64_t n = r % 64 == 0 ? (int64_t)w->burst + 1 : 1 + (int64_t)(r % 3);
        uint64_t wait = 0;
        int64_t before = shared_now(w->clock);
        resilience_status_t st = resilience_rate_limiter_try_acquire(w->limiter, n, &wait);
        int64_t after = shared_now(w->clock);
        if (st == RESILIENCE_OK) {
            /* Everything counted in `total` was taken before this clock reading. */
            uint64_t total = __atomic_add_fetch(w->admitted, (uint64_t)n, __ATOMIC_ACQ_REL);
            int64_t now = shared_now(w->clock);
            if (total > w->burst + (uint64_t)now / w->interval) w->over_bound++;
            w->ok++;
        } else if (st == RESILIENCE_ERR_RATE_LIMITED) {
            /* The limiter read the clock between `before` and `after`; other
             * threads may have moved it meanwhile, so the wait is at most
             * n x T plus that movement. */
            if (wait == 0 || wait > (uint64_t)n * w->interval + (uint64_t)(after - before)) w->bad++;
            w->limited++;
        } else if (st == RESILIENCE_ERR_EXCEEDS_BURST && n > (int64_t)w->burst) {
            w->exceeded++;
        } else {
            w->bad++;
        }
        /* Time moves: a quarter of an emission interval, now and then. */
        if (r % 4 == 1) __atomic_add_fetch(&w->clock->now_ns, (int64_t)(w->interval / 4), __ATOMIC_ACQ_REL);
    }
    return NULL;
}

static void test_hammered_limiter(void) {
    resilience_rate_limiter_config_t cfg = resilience_rate_limiter_config_default();
    resilience_rate_limiter_t *l = NULL;
    shared_clock clock = {0};
    pthread_barrier_t barrier;
    limiter_worker w[THREADS];
    uint64_t admitted = 0, interval = 0;
    long ok = 0, limited = 0, exceeded = 0, bad = 0, over_bound = 0;
    int t;
    cfg.rate = 1000; /* T = 1 ms */
    cfg.per_ns = 1000 * MS;
    cfg.burst = 5;
    cfg.clock = borrowed(&clock);
    CHECK_OK(resilience_rate_limiter_new(&cfg, &l));
    CHECK_OK(resilience_rate_limiter_emission_interval(l, &interval));
    CHECK_EQ_U64(interval, 1 * MS);
    CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0);
    for (t = 0; t < THREADS; t++) {
        w[t].barrier = &barrier;
        w[t].limiter = l;
        w[t].clock = &clock;
        w[t].admitted = &admitted;
        w[t].interval = interval;
        w[t].burst = (uint64_t)cfg.burst;
        w[t].seed = 17u * (unsigned)t + 1u;
        w[t].ok = w[t].limited = w[t].exceeded = w[t].bad = w[t].over_bound = 0;
        CHECK(pthread_create(&w[t].thread, NULL, hammer, &w[t]) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_join(w[t].thread, NULL) == 0);
        ok += w[t].ok;
        limited += w[t].limited;
        exceeded += w[t].exceeded;
        bad += w[t].bad;
        over_bound += w[t].over_bound;
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(over_bound, 0); /* never more than the GCRA allows */
    CHECK(admitted <= (uint64_t)cfg.burst + (uint64_t)clock.now_ns / interval);
    CHECK(ok > 0 && limited > 0 && exceeded > 0);
    printf("limiter threads: %ld grants (%llu cells) and %ld refusals by %d threads over %lld ms of virtual time; "
           "GCRA bound %llu cells\n",
           ok, (unsigned long long)admitted, limited, THREADS, (long long)(clock.now_ns / MS),
           (unsigned long long)((uint64_t)cfg.burst + (uint64_t)clock.now_ns / interval));
    pthread_barrier_destroy(&barrier);
    resilience_rate_limiter_free(l);
}

/* ---- one throttle, eight threads ------------------------------------------ */

typedef struct {
    pthread_t thread;
    pthread_barrier_t *barrier;
    resilience_adaptive_throttle_t *throttle;
    long admitted, shed, accepted, bad;
} throttle_worker;

static void *ask(void *arg) {
    throttle_worker *w = arg;
    long i;
    pthread_barrier_wait(w->barrier);
    for (i = 0; i < ops_per_thread; i++) {
        resilience_status_t st = resilience_adaptive_throttle_try_admit(w->throttle, NULL);
        if (st == RESILIENCE_OK) {
            /* The backend accepts a third of what it gets: the throttle sheds some. */
            int accepted = i % 3 == 0;
            if (resilience_adaptive_throttle_record(w->throttle, accepted) != RESILIENCE_OK) w->bad++;
            w->admitted++;
            w->accepted += accepted;
        } else if (st == RESILIENCE_ERR_THROTTLED) {
            w->shed++;
        } else {
            w->bad++;
        }
    }
    return NULL;
}

static void test_shared_throttle(void) {
    resilience_adaptive_throttle_config_t cfg = resilience_adaptive_throttle_config_default();
    resilience_adaptive_throttle_t *t = NULL;
    resilience_throttle_stats_t stats;
    shared_clock clock = {0}; /* still: every request stays in the window */
    pthread_barrier_t barrier;
    throttle_worker w[THREADS];
    long admitted = 0, shed = 0, accepted = 0, bad = 0;
    int k;
    cfg.seeded = true;
    cfg.seed = 11;
    cfg.clock = borrowed(&clock);
    CHECK_OK(resilience_adaptive_throttle_new(&cfg, &t));
    CHECK(pthread_barrier_init(&barrier, NULL, THREADS) == 0);
    for (k = 0; k < THREADS; k++) {
        w[k].barrier = &barrier;
        w[k].throttle = t;
        w[k].admitted = w[k].shed = w[k].accepted = w[k].bad = 0;
        CHECK(pthread_create(&w[k].thread, NULL, ask, &w[k]) == 0);
    }
    for (k = 0; k < THREADS; k++) {
        CHECK(pthread_join(w[k].thread, NULL) == 0);
        admitted += w[k].admitted;
        shed += w[k].shed;
        accepted += w[k].accepted;
        bad += w[k].bad;
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_OK(resilience_adaptive_throttle_stats(t, &stats));
    CHECK_EQ_U64(stats.requests, (uint64_t)(admitted + shed)); /* shed requests count too */
    CHECK_EQ_U64(stats.accepts, (uint64_t)accepted);
    CHECK(shed > 0 && stats.probability > 0.0 && stats.probability < 1.0);
    printf("throttle threads: %ld requests by %d threads, %ld shed, %ld accepts: all counted\n", admitted + shed,
           THREADS, shed, accepted);
    pthread_barrier_destroy(&barrier);
    resilience_adaptive_throttle_free(t);
}

int main(int argc, char **argv) {
    if (argc > 1) ops_per_thread = atol(argv[1]);
    test_shared_budget(0);
    test_shared_budget(1);
    test_hammered_limiter();
    test_shared_throttle();
    return check_report("load threads");
}
