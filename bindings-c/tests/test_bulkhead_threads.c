/* Eight threads share one bulkhead (3 slots, a queue of 4) the way a C
 * program would: a thread that gets a slot runs its call and releases it; a
 * queued thread waits on a condition variable until a release hands it a
 * slot, or gives up at once now and then (its "timeout") and cancels. The
 * threads also release a third of their slots a second time, on purpose.
 * At no moment do more than max_concurrent threads hold a slot, every
 * second release is refused with RESILIENCE_ERR_PERMIT_MISUSE, every slot
 * and ticket is accounted for, and the bulkhead ends empty.
 * Usage: test_bulkhead_threads [calls per thread] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resilience.h"
#include "support/check.h"

#define THREADS 8
#define MAX_CONCURRENT 3
#define QUEUE 4

typedef struct {
    resilience_bulkhead_t *bulkhead;
    /* Hand-offs: a release and the publication of its grant happen under
     * `lock`, as do a waiter's cancel and its look-up, so a grant is never
     * missed or seen twice. */
    pthread_mutex_t lock;
    pthread_cond_t granted;
    uint64_t grants[THREADS]; /* tickets handed a slot, not yet collected */
    size_t n_grants;
    int holders, max_holders; /* threads inside a slot right now (atomics) */
    pthread_barrier_t start;
} shared_state;

typedef struct {
    pthread_t thread;
    shared_state *shared;
    unsigned seed;
    long acquired, queued, woken, withdrawn, already_granted, full, releases, double_releases, refused, bad;
} worker;

static long calls_per_thread = 20000;

static unsigned next_random(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7FFF;
}

/* Under the lock: takes `ticket` out of the published grants, if there. */
static int take_grant(shared_state *s, uint64_t ticket) {
    size_t i;
    for (i = 0; i < s->n_grants; i++) {
        if (s->grants[i] == ticket) {
            s->grants[i] = s->grants[--s->n_grants];
            return 1;
        }
    }
    return 0;
}

/* Under the lock: releases `slot` and publishes a hand-off. */
static resilience_status_t release_locked(worker *w, resilience_bulkhead_slot_t slot) {
    shared_state *s = w->shared;
    resilience_bulkhead_handoff_t h;
    resilience_status_t st = resilience_bulkhead_release(s->bulkhead, slot, &h);
    if (st == RESILIENCE_OK && h.granted) {
        if (s->n_grants < THREADS) s->grants[s->n_grants++] = h.ticket.id;
        else w->bad++;
        pthread_cond_broadcast(&s->granted);
    }
    return st;
}

static void release_again(worker *w, resilience_bulkhead_slot_t spent) {
    resilience_status_t st;
    pthread_mutex_lock(&w->shared->lock);
    st = release_locked(w, spent);
    pthread_mutex_unlock(&w->shared->lock);
    w->double_releases++;
    if (st == RESILIENCE_ERR_PERMIT_MISUSE) w->refused++;
    else w->bad++;
}

/* Waits (without a deadline of its own: a release always comes) until the
 * ticket is granted. A generous real-time bound turns a lost hand-off into a
 * failure instead of a hang. */
static int wait_for_grant(worker *w, resilience_bulkhead_ticket_t ticket) {
    shared_state *s = w->shared;
    struct timespec deadline;
    int got = 0;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&s->lock);
    while (!(got = take_grant(s, ticket.id)))
        if (pthread_cond_timedwait(&s->granted, &s->lock, &deadline) != 0) break;
    pthread_mutex_unlock(&s->lock);
    return got;
}

static void *run_calls(void *arg) {
    worker *w = arg;
    shared_state *s = w->shared;
    resilience_bulkhead_slot_t spent; /* a slot this thread released already */
    int has_spent = 0;
    long i;
    pthread_barrier_wait(&s->start);
    for (i = 0; i < calls_per_thread; i++) {
        resilience_bulkhead_admission_t a;
        resilience_bulkhead_slot_t slot;
        resilience_status_t st;
        unsigned r = next_random(&w->seed);
        int inside;
        st = resilience_bulkhead_try_acquire(s->bulkhead, &a);
        if (st == RESILIENCE_ERR_BULKHEAD_FULL) { w->full++; continue; }
        if (st != RESILIENCE_OK) { w->bad++; continue; }
        if (a.admission == RESILIENCE_ADMISSION_ACQUIRED) {
            w->acquired++;
            slot = a.slot;
        } else {
            w->queued++;
            if (r % 4 == 0) {
                /* Gives up at once, as if its timeout passed. */
                resilience_bulkhead_cancellation_t c;
                pthread_mutex_lock(&s->lock);
                st = resilience_bulkhead_cancel(s->bulkhead, a.ticket, &c);
                if (st == RESILIENCE_OK && c.outcome == RESILIENCE_CANCEL_ALREADY_GRANTED && !take_grant(s, a.ticket.id))
                    w->bad++; /* granted, so its grant was published */
                pthread_mutex_unlock(&s->lock);
                if (st != RESILIENCE_OK) { w->bad++; continue; }
                if (c.outcome == RESILIENCE_CANCEL_WITHDRAWN) { w->withdrawn++; continue; }
                w->already_granted++;
                slot = c.slot;
            } else {
                if (!wait_for_grant(w, a.ticket)) { w->bad++; continue; }
                w->woken++;
                if (resilience_bulkhead_ticket_slot(a.ticket, &slot) != RESILIENCE_OK) { w->bad++; continue; }
            }
        }
        /* The call, inside the slot. */
        inside = __atomic_add_fetch(&s->holders, 1, __ATOMIC_ACQ_REL);
        {
            int seen = __atomic_load_n(&s->max_holders, __ATOMIC_ACQUIRE);
            while (inside > seen &&
                   !__atomic_compare_exchange_n(&s->max_holders, &seen, inside, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            }
        }
        /* The caller bug while holding a live slot: had the spent slot freed
         * a place again, a fourth thread could now get in beside this one. */
        if (has_spent) { release_again(w, spent); has_spent = 0; }
        if (r % 2 == 0) sched_yield();
        __atomic_sub_fetch(&s->holders, 1, __ATOMIC_ACQ_REL);
        pthread_mutex_lock(&s->lock);
        st = release_locked(w, slot);
        pthread_mutex_unlock(&s->lock);
        if (st != RESILIENCE_OK) w->bad++;
        w->releases++;
        if ((r >> 3) % 3 == 0) {
            spent = slot;
            has_spent = 1;
            if ((r >> 5) % 4 == 0) { release_again(w, spent); }
        }
    }
    if (has_spent) release_again(w, spent);
    return NULL;
}

int main(int argc, char **argv) {
    shared_state shared;
    resilience_bulkhead_config_t cfg = resilience_bulkhead_config_default();
    resilience_bulkhead_stats_t stats = {99, 99};
    worker workers[THREADS];
    long acquired = 0, queued = 0, woken = 0, withdrawn = 0, granted_on_cancel = 0, full = 0, releases = 0;
    long doubles = 0, refused = 0, bad = 0;
    int i;
    if (argc > 1) calls_per_thread = atol(argv[1]);
    memset(&shared, 0, sizeof shared);
    CHECK(pthread_mutex_init(&shared.lock, NULL) == 0);
    CHECK(pthread_cond_init(&shared.granted, NULL) == 0);
    CHECK(pthread_barrier_init(&shared.start, NULL, THREADS) == 0);
    cfg.max_concurrent = MAX_CONCURRENT;
    cfg.max_queue_size = QUEUE;
    CHECK_OK(resilience_bulkhead_new(&cfg, &shared.bulkhead));
    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].shared = &shared;
        workers[i].seed = 4321u + (unsigned)i * 104729u;
        CHECK(pthread_create(&workers[i].thread, NULL, run_calls, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(workers[i].thread, NULL) == 0);
        acquired += workers[i].acquired;
        queued += workers[i].queued;
        woken += workers[i].woken;
        withdrawn += workers[i].withdrawn;
        granted_on_cancel += workers[i].already_granted;
        full += workers[i].full;
        releases += workers[i].releases;
        doubles += workers[i].double_releases;
        refused += workers[i].refused;
        bad += workers[i].bad;
    }
    CHECK(bad == 0);
    CHECK(acquired + queued + full == (long)THREADS * calls_per_thread);
    CHECK(queued == woken + withdrawn + granted_on_cancel); /* every ticket ended one way */
    CHECK(releases == acquired + woken + granted_on_cancel); /* every slot released, once */
    CHECK(doubles > 0 && refused == doubles);                /* every second release refused */
    CHECK(queued > 0 && woken > 0);                           /* the queue and hand-offs really ran */
    CHECK(shared.max_holders >= 1 && shared.max_holders <= MAX_CONCURRENT);
    CHECK(shared.holders == 0 && shared.n_grants == 0);
    CHECK_OK(resilience_bulkhead_stats(shared.bulkhead, &stats));
    CHECK(stats.active == 0 && stats.queued == 0); /* ends empty */
    printf("bulkhead threads: %ld calls, %ld got a slot at once, %ld queued (%ld woken by a hand-off, %ld withdrew, "
           "%ld granted as they gave up), %ld turned away, at most %d holders at once, %ld double releases refused\n",
           (long)THREADS * calls_per_thread, acquired, queued, woken, withdrawn, granted_on_cancel, full,
           shared.max_holders, refused);
    resilience_bulkhead_free(shared.bulkhead);
    pthread_barrier_destroy(&shared.start);
    pthread_cond_destroy(&shared.granted);
    pthread_mutex_destroy(&shared.lock);
    return check_report("bulkhead threads");
}
