/* Eight threads hammer one breaker on a shared virtual clock. Every call is
 * accounted for (admitted + rejected = attempted; success + failure +
 * release = admitted), and at no moment are more half-open trials in
 * flight than half_open_max_calls allows.
 * Usage: test_breaker_threads [calls per thread] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "resilience.h"
#include "support/check.h"

#define THREADS 8
#define TRIAL_LIMIT 2

typedef struct {
    uint64_t now_ns; /* read and advanced with atomics */
    int trials_in_flight;
    int max_trials_seen;
} shared_state;

typedef struct {
    pthread_t thread;
    resilience_circuit_breaker_t *breaker;
    shared_state *shared;
    unsigned seed;
    long calls, admitted, rejected, successes, failures, releases, trials, bad_status;
} worker;

static long calls_per_thread = 20000;

static uint64_t atomic_now(void *user_data) {
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

static void *hammer(void *arg) {
    worker *w = arg;
    long i;
    for (i = 0; i < calls_per_thread; i++) {
        resilience_permit_t permit;
        resilience_status_t st;
        bool trial = false;
        unsigned r = next_random(&w->seed);
        w->calls++;
        /* Time moves now and then, so the breaker keeps cycling open -> half-open. */
        if (r % 8 == 0) __atomic_add_fetch(&w->shared->now_ns, 100, __ATOMIC_ACQ_REL);
        st = resilience_circuit_breaker_try_acquire(w->breaker, &permit, NULL);
        if (st == RESILIENCE_ERR_CIRCUIT_OPEN) { w->rejected++; continue; }
        if (st != RESILIENCE_OK || resilience_permit_is_trial(permit, &trial) != RESILIENCE_OK) { w->bad_status++; continue; }
        w->admitted++;
        if (trial) { w->trials++; note_trial_started(w->shared); }
        if (r % 4 == 0) sched_yield(); /* let others in while we hold the permit */
        /* Stop counting the trial before giving the permit back: after that
         * its slot may legitimately go to another thread. */
        if (trial) __atomic_sub_fetch(&w->shared->trials_in_flight, 1, __ATOMIC_ACQ_REL);
        switch ((r >> 3) % 5) {
        case 0: st = resilience_circuit_breaker_record_failure(w->breaker, permit); w->failures++; break;
        case 2: st = resilience_circuit_breaker_release(w->breaker, permit); w->releases++; break;
        default: st = resilience_circuit_breaker_record_success(w->breaker, permit); w->successes++; break;
        }
        if (st != RESILIENCE_OK) w->bad_status++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    shared_state shared = {0, 0, 0};
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *breaker = NULL;
    worker workers[THREADS];
    long calls = 0, admitted = 0, rejected = 0, outcomes = 0, trials = 0, bad = 0;
    resilience_circuit_state_t state;
    uint32_t count = 0;
    int i;
    if (argc > 1) calls_per_thread = atol(argv[1]);
    cfg.failure_threshold = 3;
    cfg.recovery_timeout_ns = 1000;
    cfg.half_open_max_calls = TRIAL_LIMIT;
    cfg.clock.user_data = &shared;
    cfg.clock.now_ns = atomic_now;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &breaker));
    for (i = 0; i < THREADS; i++) {
        worker z = {0};
        workers[i] = z;
        workers[i].breaker = breaker;
        workers[i].shared = &shared;
        workers[i].seed = 1234u + (unsigned)i * 7919u;
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
    }
    CHECK(bad == 0);
    CHECK(calls == (long)THREADS * calls_per_thread);
    CHECK(admitted + rejected == calls);
    CHECK(outcomes == admitted);
    CHECK(rejected > 0 && trials > 0); /* the run really cycled through open and half-open */
    CHECK(shared.max_trials_seen >= 1 && shared.max_trials_seen <= TRIAL_LIMIT);
    CHECK(shared.trials_in_flight == 0);
    CHECK_OK(resilience_circuit_breaker_state(breaker, &state));
    CHECK(state == RESILIENCE_CIRCUIT_CLOSED || state == RESILIENCE_CIRCUIT_OPEN || state == RESILIENCE_CIRCUIT_HALF_OPEN);
    CHECK_OK(resilience_circuit_breaker_reset(breaker));
    CHECK_OK(resilience_circuit_breaker_failure_count(breaker, &count));
    CHECK(count == 0);
    printf("threads: %ld calls, %ld admitted (%ld trials, at most %d at once), %ld rejected\n", calls, admitted, trials,
           shared.max_trials_seen, rejected);
    resilience_circuit_breaker_free(breaker);
    return check_report("breaker threads");
}
