/* Handles that detect misuse: every permit, trial permit, bulkhead slot and
 * ticket is unique and checked when it comes back. Each caller bug below is
 * refused with RESILIENCE_ERR_PERMIT_MISUSE and a message, changes no state,
 * and never aborts; each test fails if the bug gets through again.
 * (Run plain, under valgrind and under ASan/UBSan by make test-c.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

#define CHECK_MISUSE(call) CHECK_STATUS(call, RESILIENCE_ERR_PERMIT_MISUSE, "permit")

/* A breaker on a virtual clock (owned by the breaker), opened by one failure. */
static resilience_circuit_breaker_t *open_breaker(int64_t half_open_max_calls, vclock **clock) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = NULL;
    resilience_permit_t p;
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 1000;
    cfg.half_open_max_calls = half_open_max_calls;
    cfg.clock = vclock_owned(clock, NULL);
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, p));
    return b;
}

static void check_breaker(resilience_circuit_breaker_t *b, resilience_circuit_state_t want_state, uint32_t want_count) {
    resilience_circuit_state_t state = 99;
    uint32_t count = 99;
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_OK(resilience_circuit_breaker_failure_count(b, &count));
    CHECK_EQ_U64(state, want_state);
    CHECK_EQ_U64(count, want_count);
}

/* Issue: a trial permit released twice freed a second trial slot, so a third
 * caller was admitted while half_open_max_calls = 1. */
static void test_trial_permit_released_twice(void) {
    vclock *clock = NULL;
    resilience_circuit_breaker_t *b = open_breaker(1, &clock);
    resilience_permit_t t1, t2, t3;
    uint64_t wait = 99;
    clock->now_ns += 1000;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &t1, NULL));
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &t2, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(wait, 0); /* half-open, its one trial slot taken */
    CHECK_OK(resilience_circuit_breaker_release(b, t1));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &t3, NULL)); /* the freed slot */
    /* The bug: t1 again. Refused, with a message; the slot stays t3's. */
    CHECK_MISUSE(resilience_circuit_breaker_release(b, t1));
    CHECK(strcmp(resilience_last_error_message(), "the permit was already reported, or was never issued") == 0);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &t2, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    /* Any report of t1 is refused, not only a second release. */
    CHECK_MISUSE(resilience_circuit_breaker_record_success(b, t1));
    CHECK_MISUSE(resilience_circuit_breaker_record_failure(b, t1));
    check_breaker(b, RESILIENCE_CIRCUIT_HALF_OPEN, 1);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &t2, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_OK(resilience_circuit_breaker_record_success(b, t3));
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 0);
    resilience_circuit_breaker_free(b);
}

/* Issue: a permit from breaker A recorded on half-open breaker B closed B. */
static void test_permit_of_another_breaker(void) {
    vclock *clock_a = NULL, *clock_b = NULL;
    resilience_circuit_breaker_t *a = open_breaker(1, &clock_a), *b = open_breaker(1, &clock_b);
    resilience_permit_t from_a, from_b, extra;
    clock_a->now_ns += 1000;
    clock_b->now_ns += 1000;
    CHECK_OK(resilience_circuit_breaker_try_acquire(a, &from_a, NULL));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &from_b, NULL));
    CHECK_STATUS(resilience_circuit_breaker_record_success(b, from_a), RESILIENCE_ERR_PERMIT_MISUSE,
                 "the permit was issued by another circuit breaker");
    CHECK_MISUSE(resilience_circuit_breaker_record_failure(b, from_a));
    CHECK_MISUSE(resilience_circuit_breaker_release(b, from_a));
    check_breaker(b, RESILIENCE_CIRCUIT_HALF_OPEN, 1); /* not closed, not re-opened */
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &extra, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    /* A's permit still belongs to A and still counts there, once. */
    CHECK_OK(resilience_circuit_breaker_record_success(a, from_a));
    check_breaker(a, RESILIENCE_CIRCUIT_CLOSED, 0);
    CHECK_OK(resilience_circuit_breaker_record_failure(b, from_b));
    check_breaker(b, RESILIENCE_CIRCUIT_OPEN, 2);
    resilience_circuit_breaker_free(a);
    resilience_circuit_breaker_free(b);
}

/* Issue: record_failure twice with one permit counted twice. */
static void test_failure_recorded_twice(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = NULL;
    resilience_permit_t p, q;
    vclock *clock = NULL;
    cfg.failure_threshold = 2;
    cfg.clock = vclock_owned(&clock, NULL);
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, p));
    CHECK_MISUSE(resilience_circuit_breaker_record_failure(b, p));
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 1); /* counted once: still closed at threshold 2 */
    CHECK_MISUSE(resilience_circuit_breaker_record_success(b, p));
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 1); /* and the refused success reset nothing */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &q, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, q));
    check_breaker(b, RESILIENCE_CIRCUIT_OPEN, 2);
    resilience_circuit_breaker_free(b);
}

/* Issue: the header promised that permits out at reset() are stale and
 * harmless, but failing them afterwards re-opened the breaker. */
static void test_permits_out_at_reset_are_stale(void) {
    vclock *clock = NULL;
    resilience_circuit_breaker_t *b = open_breaker(1, &clock);
    resilience_permit_t trial, later_trial, closed_permit, extra;
    CHECK_OK(resilience_circuit_breaker_reset(b));
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 0);

    /* A closed-state permit out at a reset: its failure counts for nothing
     * (threshold 1 would open the breaker), once. */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &closed_permit, NULL));
    CHECK_OK(resilience_circuit_breaker_reset(b));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, closed_permit));
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 0);
    CHECK_MISUSE(resilience_circuit_breaker_record_failure(b, closed_permit));

    /* A trial out at a reset cannot close, re-open or free a slot of a later
     * half-open round. */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &extra, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, extra)); /* open again */
    clock->now_ns += 1000;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &trial, NULL));
    CHECK_OK(resilience_circuit_breaker_reset(b));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &extra, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, extra)); /* open, a new round */
    clock->now_ns += 1000;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &later_trial, NULL));
    CHECK_OK(resilience_circuit_breaker_record_success(b, trial)); /* stale: accepted, ignored */
    check_breaker(b, RESILIENCE_CIRCUIT_HALF_OPEN, 1);
    CHECK_MISUSE(resilience_circuit_breaker_release(b, trial)); /* reported once already */
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &extra, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_OK(resilience_circuit_breaker_record_failure(b, later_trial));
    check_breaker(b, RESILIENCE_CIRCUIT_OPEN, 2);
    resilience_circuit_breaker_free(b);
}

/* A leak in the caller: 65,536 permits out and none reported. The next
 * acquire is refused as a misuse (not "circuit open": waiting would not
 * help), and reporting one permit makes room again. Run only when asked
 * (`test_misuse --exhaust`, the plain run of make test-c): the core's permit
 * ledger scans the permits out on each acquire, so taking 65,536 of them
 * costs seconds, minutes under valgrind. */
#define PERMITS_TRACKED 65536
static void test_too_many_permits_out(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = NULL;
    resilience_permit_t *out = calloc(PERMITS_TRACKED, sizeof *out), extra = {7};
    uint64_t wait = 99;
    long i, failed = 0;
    vclock *clock = NULL;
    cfg.clock = vclock_owned(&clock, NULL);
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    if (!out || !b) return;
    for (i = 0; i < PERMITS_TRACKED; i++)
        if (resilience_circuit_breaker_try_acquire(b, &out[i], NULL) != RESILIENCE_OK) failed++;
    CHECK(failed == 0);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &extra, &wait), RESILIENCE_ERR_PERMIT_MISUSE,
                 "too many permits out");
    CHECK(extra.token == 7 && wait == 99); /* nothing written */
    CHECK_OK(resilience_circuit_breaker_release(b, out[0]));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &extra, NULL));
    CHECK_OK(resilience_circuit_breaker_record_success(b, extra));
    for (i = 1; i < PERMITS_TRACKED; i++)
        if (resilience_circuit_breaker_release(b, out[i]) != RESILIENCE_OK) failed++;
    CHECK(failed == 0);
    check_breaker(b, RESILIENCE_CIRCUIT_CLOSED, 0);
    resilience_circuit_breaker_free(b);
    free(out);
}

static resilience_bulkhead_t *bulkhead(int64_t max_concurrent, int64_t max_queue_size) {
    resilience_bulkhead_config_t cfg = resilience_bulkhead_config_default();
    resilience_bulkhead_t *b = NULL;
    cfg.max_concurrent = max_concurrent;
    cfg.max_queue_size = max_queue_size;
    CHECK_OK(resilience_bulkhead_new(&cfg, &b));
    return b;
}

static void check_stats(resilience_bulkhead_t *b, uint32_t active, uint32_t queued) {
    resilience_bulkhead_stats_t st = {99, 99};
    CHECK_OK(resilience_bulkhead_stats(b, &st));
    CHECK_EQ_U64(st.active, active);
    CHECK_EQ_U64(st.queued, queued);
}

/* Issue: resilience_bulkhead_release twice by one holder let two more callers
 * in (three real holders with max_concurrent = 2). */
static void test_bulkhead_slot_released_twice(void) {
    resilience_bulkhead_t *b = bulkhead(2, 0);
    resilience_bulkhead_admission_t first, second, third, fourth;
    resilience_bulkhead_handoff_t h;
    CHECK_OK(resilience_bulkhead_try_acquire(b, &first));
    CHECK_OK(resilience_bulkhead_try_acquire(b, &second));
    CHECK_OK(resilience_bulkhead_release(b, first.slot, &h));
    CHECK(!h.granted);
    CHECK_STATUS(resilience_bulkhead_release(b, first.slot, &h), RESILIENCE_ERR_PERMIT_MISUSE,
                 "the slot or ticket is not held or queued (released or cancelled already, or never issued)");
    check_stats(b, 1, 0);
    CHECK_OK(resilience_bulkhead_try_acquire(b, &third));
    CHECK_EQ_U64(third.admission, RESILIENCE_ADMISSION_ACQUIRED);
    CHECK_STATUS(resilience_bulkhead_try_acquire(b, &fourth), RESILIENCE_ERR_BULKHEAD_FULL, NULL);
    check_stats(b, 2, 0); /* two real holders: second and third */
    CHECK_OK(resilience_bulkhead_release(b, second.slot, &h));
    CHECK_OK(resilience_bulkhead_release(b, third.slot, &h));
    check_stats(b, 0, 0);
    resilience_bulkhead_free(b);
}

/* The other bulkhead handles: another bulkhead's slot, an unknown or spent
 * ticket, a slot released twice after a hand-off. */
static void test_bulkhead_foreign_and_spent_handles(void) {
    resilience_bulkhead_t *b = bulkhead(1, 1), *other = bulkhead(1, 1);
    resilience_bulkhead_admission_t held, waiter, foreign;
    resilience_bulkhead_handoff_t h;
    resilience_bulkhead_cancellation_t c;
    resilience_bulkhead_slot_t granted;
    CHECK_OK(resilience_bulkhead_try_acquire(b, &held));
    CHECK_OK(resilience_bulkhead_try_acquire(b, &waiter));
    CHECK_OK(resilience_bulkhead_try_acquire(other, &foreign));
    CHECK_STATUS(resilience_bulkhead_release(b, foreign.slot, &h), RESILIENCE_ERR_PERMIT_MISUSE,
                 "issued by another bulkhead");
    CHECK_STATUS(resilience_bulkhead_cancel(other, waiter.ticket, &c), RESILIENCE_ERR_PERMIT_MISUSE,
                 "issued by another bulkhead");
    check_stats(b, 1, 1);
    check_stats(other, 1, 0);
    CHECK_OK(resilience_bulkhead_release(b, held.slot, &h));
    CHECK(h.granted && h.ticket.id == waiter.ticket.id);
    CHECK_OK(resilience_bulkhead_ticket_slot(waiter.ticket, &granted));
    CHECK_OK(resilience_bulkhead_release(b, granted, &h));
    CHECK_STATUS(resilience_bulkhead_release(b, granted, &h), RESILIENCE_ERR_PERMIT_MISUSE, "not held");
    CHECK_STATUS(resilience_bulkhead_cancel(b, waiter.ticket, &c), RESILIENCE_ERR_PERMIT_MISUSE, "not held");
    check_stats(b, 0, 0);
    CHECK_OK(resilience_bulkhead_release(other, foreign.slot, &h));
    resilience_bulkhead_free(b);
    resilience_bulkhead_free(other);
}

int main(int argc, char **argv) {
    test_trial_permit_released_twice();
    test_permit_of_another_breaker();
    test_failure_recorded_twice();
    test_permits_out_at_reset_are_stale();
    if (argc > 1 && strcmp(argv[1], "--exhaust") == 0) test_too_many_permits_out();
    test_bulkhead_slot_released_twice();
    test_bulkhead_foreign_and_spent_handles();
    return check_report("misuse");
}
