/* Eight threads hammer one breaker on a shared virtual clock. Every call is
 * accounted for (admitted + rejected = attempted; success + failure +
 * release = admitted), and at no moment are more half-open trials in
 * flight than half_open_max_calls allows — even though the threads report
 * every trial permit and a third of the others a second time on purpose (a caller bug the
 * library must refuse with RESILIENCE_ERR_PERMIT_MISUSE, changing nothing:
 * before permits were checked, a second release freed a second trial slot).
 * Runs with half_open_max_calls 1 and 2.
 *
 * Then the same eight threads on a failure-rate breaker that never trips, a
 * time window (its buckets rotating hundreds of times as the clock moves)
 * and a count window: the window's totals must equal the calls reported,
 * exactly (a rotation never loses or double-counts a call).
 * Usage: test_breaker_threads [calls per thread] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"

#define THREADS 8

typedef struct {
    int64_t now_ns; /* read and advanced with atomics */
    int trials_in_flight;
    int max_trials_seen;
    pthread_barrier_t start; /* all threads begin together, so their calls overlap */
} shared_state;

typedef struct {
    pthread_t thread;
    resilience_circuit_breaker_t *breaker;
    shared_state *shared;
    unsigned seed;
    long calls, admitted, rejected, successes, failures, releases, trials, bad_status;
    long double_reports, refused;
} worker;

static long calls_per_thread = 100000;

static int64_t atomic_now(void *user_data) {
    return __atomic_load_n(&((shared_state *)user_data)->now_ns, __ATOMIC_ACQUIRE);
}

static unsigned next_random(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7FFF;
}

static void note_trial_started(shared_state *s) {
    int now = __atomic_add_fetch(&s->trials_in_flight, 1, __ATOMIC_ACQ_REL);
    int seen = __atomic_load_n(&s->max_trials_seen, __ATOMIC_ACQUIRE);
    while (now > seen && !__atomic_compare_exchange_n(&s->max_trials_seen, &seen, now, 0, __ATOMIC_ACQ_REL,
                                                      __ATOMIC_ACQUIRE)) {
    }
}

/* The caller bug, on purpose: a permit already reported, reported again.
 * Every such report must be refused. */
static void report_again(worker *w, resilience_permit_t spent, unsigned r) {
    resilience_status_t st;
    w->double_reports++;
    switch (r % 3) {
    case 0: st = resilience_circuit_breaker_release(w->breaker, spent); break;
    case 1: st = resilience_circuit_breaker_record_failure(w->breaker, spent); break;
    default: st = resilience_circuit_breaker_record_success(w->breaker, spent); break;
    }
    if (st == RESILIENCE_ERR_PERMIT_MISUSE) w->refused++;
    else w->bad_status++;
}

static void *hammer(void *arg) {
    worker *w = arg;
    resilience_permit_t spent; /* a permit this thread reported already */
    int has_spent = 0;
    long i;
    pthread_barrier_wait(&w->shared->start);
    for (i = 0; i < calls_per_thread; i++) {
        resilience_permit_t permit;
        resilience_status_t st;
        bool trial = false;
        unsigned r = next_random(&w->seed);
        w->calls++;
        /* Time moves now and then, so the breaker keeps cycling open -> half-open. */
        if (r % 2 == 0) __atomic_add_fetch(&w->shared->now_ns, 100, __ATOMIC_ACQ_REL);
        st = resilience_circuit_breaker_try_acquire(w->breaker, &permit, NULL);
        if (st == RESILIENCE_ERR_CIRCUIT_OPEN) {
            w->rejected++;
            if (has_spent && (r >> 12) % 2 == 0) { report_again(w, spent, r >> 9); has_spent = 0; }
            continue;
        }
        if (st != RESILIENCE_OK || resilience_permit_is_trial(permit, &trial) != RESILIENCE_OK) { w->bad_status++; continue; }
        w->admitted++;
        if (trial) { w->trials++; note_trial_started(w->shared); }
        if (trial || r % 4 == 0) sched_yield(); /* let others in while we hold the permit */
        /* The bug while holding a live permit, possibly a trial: had the
         * spent permit freed a slot again, another thread could now start a
         * trial beside this one. */
        if (has_spent) { report_again(w, spent, r >> 9); has_spent = 0; }
        if (trial) sched_yield();
        /* Stop counting the trial before giving the permit back: after that
         * its slot may legitimately go to another thread. */
        if (trial) __atomic_sub_fetch(&w->shared->trials_in_flight, 1, __ATOMIC_ACQ_REL);
        /* Trials mostly end uncounted (released), so the breaker stays
         * half-open with its trial slots in demand. */
        switch (trial ? ((r >> 3) % 5 == 0 ? 0 : (r >> 3) % 5 == 1 ? 1 : 2) : (r >> 3) % 5) {
        case 0: st = resilience_circuit_breaker_record_failure(w->breaker, permit); w->failures++; break;
        case 2: st = resilience_circuit_breaker_release(w->breaker, permit); w->releases++; break;
        default: st = resilience_circuit_breaker_record_success(w->breaker, permit); w->successes++; break;
        }
        if (st != RESILIENCE_OK) w->bad_status++;
        /* Keep every trial permit, and a third of the others, for a second
         * report later (right away, too, now and then). */
        if (trial || (r >> 6) % 3 == 0) {
            spent = permit;
            has_spent = 1;
            if ((r >> 13) % 4 == 0) report_again(w, spent, r >> 10);
        }
    }
    if (has_spent) report_again(w, spent, 0);
    return NULL;
}

static void run(int trial_limit) {
    shared_state shared;
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *breaker = NULL;
    worker workers[THREADS];
    long calls = 0, admitted = 0, rejected = 0, outcomes = 0, trials = 0, bad = 0, doubles = 0, refused = 0;
    resilience_circuit_state_t state;
    resilience_permit_t permit;
    uint32_t count = 0;
    int i;
    memset(&shared, 0, sizeof shared);
    CHECK(pthread_barrier_init(&shared.start, NULL, THREADS) == 0);
    cfg.failure_threshold = 3;
    cfg.recovery_timeout_ns = 1000;
    cfg.half_open_max_calls = trial_limit;
    cfg.clock.user_data = &shared;
    cfg.clock.now_ns = atomic_now;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &breaker));
    for (i = 0; i < THREADS; i++) {
        worker z = {0};
        workers[i] = z;
        workers[i].breaker = breaker;
        workers[i].shared = &shared;
        workers[i].seed = 1234u + (unsigned)i * 7919u + (unsigned)trial_limit;
        CHECK(pthread_create(&workers[i].thread, NULL, hammer, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(workers[i].thread, NULL) == 0);
        calls += workers[i].calls;
        admitted += workers[i].admitted;
        rejected += workers[i].rejected;
        outcomes += workers[i].successes + workers[i].failures + workers[i].releases;
        trials += workers[i].trials;
        bad += workers[i].bad_status;
        doubles += workers[i].double_reports;
        refused += workers[i].refused;
    }
    CHECK(bad == 0);
    CHECK(calls == (long)THREADS * calls_per_thread);
    CHECK(admitted + rejected == calls);
    CHECK(outcomes == admitted);
    CHECK(doubles > 0 && refused == doubles); /* every second report refused */
    CHECK(rejected > 0 && trials > 0); /* the run really cycled through open and half-open */
    CHECK(shared.max_trials_seen >= 1 && shared.max_trials_seen <= trial_limit);
    CHECK(shared.trials_in_flight == 0);
    CHECK_OK(resilience_circuit_breaker_state(breaker, &state));
    CHECK(state == RESILIENCE_CIRCUIT_CLOSED || state == RESILIENCE_CIRCUIT_OPEN || state == RESILIENCE_CIRCUIT_HALF_OPEN);
    CHECK_OK(resilience_circuit_breaker_reset(breaker));
    CHECK_OK(resilience_circuit_breaker_failure_count(breaker, &count));
    CHECK(count == 0);
    /* Nothing leaked: every trial slot is free again, so a half-open breaker
     * admits exactly trial_limit trials. */
    for (i = 0; i < 3; i++) {
        CHECK_OK(resilience_circuit_breaker_try_acquire(breaker, &permit, NULL));
        CHECK_OK(resilience_circuit_breaker_record_failure(breaker, permit));
    }
    __atomic_add_fetch(&shared.now_ns, 1000, __ATOMIC_ACQ_REL);
    {
        resilience_permit_t held[8];
        for (i = 0; i < trial_limit; i++) CHECK_OK(resilience_circuit_breaker_try_acquire(breaker, &held[i], NULL));
        CHECK_STATUS(resilience_circuit_breaker_try_acquire(breaker, &permit, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
        for (i = 0; i < trial_limit; i++) CHECK_OK(resilience_circuit_breaker_release(breaker, held[i]));
    }
    printf("threads (half_open_max_calls %d): %ld calls, %ld admitted (%ld trials, at most %d at once), %ld rejected, "
           "%ld double reports refused\n",
           trial_limit, calls, admitted, trials, shared.max_trials_seen, rejected, refused);
    resilience_circuit_breaker_free(breaker);
    pthread_barrier_destroy(&shared.start);
}

typedef struct {
    pthread_t thread;
    resilience_circuit_breaker_t *breaker;
    shared_state *shared;
    unsigned seed;
    long successes, failures, releases, bad_status;
} window_worker;

static void *count_into_window(void *arg) {
    window_worker *w = arg;
    long i;
    pthread_barrier_wait(&w->shared->start);
    for (i = 0; i < calls_per_thread; i++) {
        resilience_permit_t permit;
        resilience_status_t st;
        unsigned r = next_random(&w->seed);
        if (r % 2 == 0) __atomic_add_fetch(&w->shared->now_ns, 100, __ATOMIC_ACQ_REL);
        if (resilience_circuit_breaker_try_acquire(w->breaker, &permit, NULL) != RESILIENCE_OK) { w->bad_status++; continue; }
        if (r % 8 == 0) sched_yield();
        switch ((r >> 3) % 3) {
        case 0: st = resilience_circuit_breaker_record_failure(w->breaker, permit); w->failures++; break;
        case 1: st = resilience_circuit_breaker_release(w->breaker, permit); w->releases++; break; /* not a call of the window */
        default: st = resilience_circuit_breaker_record_success(w->breaker, permit); w->successes++; break;
        }
        if (st != RESILIENCE_OK) w->bad_status++;
    }
    return NULL;
}

static void run_window(resilience_window_kind_t kind) {
    shared_state shared;
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *breaker = NULL;
    resilience_circuit_breaker_metrics_t m;
    window_worker workers[THREADS];
    long successes = 0, failures = 0, bad = 0;
    int i;
    memset(&shared, 0, sizeof shared);
    CHECK(pthread_barrier_init(&shared.start, NULL, THREADS) == 0);
    cfg.failure_ratio = 1;
    cfg.minimum_throughput = UINT32_MAX; /* counts, never trips */
    cfg.window_kind = kind;
    /* Buckets of 100 us: the clock (about 50 ns a call) rotates them
     * hundreds of times, and never moves a whole window (100 ms). */
    cfg.sampling_duration_ns = 100000000;
    cfg.sampling_buckets = 1000;
    cfg.window_size = 1000000;
    cfg.clock.user_data = &shared;
    cfg.clock.now_ns = atomic_now;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &breaker));
    for (i = 0; i < THREADS; i++) {
        window_worker z = {0};
        workers[i] = z;
        workers[i].breaker = breaker;
        workers[i].shared = &shared;
        workers[i].seed = 4321u + (unsigned)i * 104729u;
        CHECK(pthread_create(&workers[i].thread, NULL, count_into_window, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(workers[i].thread, NULL) == 0);
        successes += workers[i].successes;
        failures += workers[i].failures;
        bad += workers[i].bad_status;
    }
    CHECK(bad == 0);
    CHECK(successes + failures <= 1000000); /* the count window holds them all */
    CHECK(shared.now_ns < 99900000);        /* and so does the time window */
    CHECK_OK(resilience_circuit_breaker_metrics(breaker, &m));
    CHECK_EQ_U64(m.window_calls, successes + failures);
    CHECK_EQ_U64(m.window_failures, failures);
    CHECK(m.state == RESILIENCE_CIRCUIT_CLOSED && m.openings == 0 && m.rejections == 0 && m.window_slow_calls == 0);
    printf("threads (%s window): %llu calls in the window, %llu failed, the clock at %lld ns\n",
           kind == RESILIENCE_WINDOW_TIME ? "time" : "count", (unsigned long long)m.window_calls,
           (unsigned long long)m.window_failures, (long long)shared.now_ns);
    resilience_circuit_breaker_free(breaker);
    pthread_barrier_destroy(&shared.start);
}

int main(int argc, char **argv) {
    if (argc > 1) calls_per_thread = atol(argv[1]);
    run(1);
    run(2);
    run_window(RESILIENCE_WINDOW_TIME);
    run_window(RESILIENCE_WINDOW_COUNT);
    return check_report("breaker threads");
}
