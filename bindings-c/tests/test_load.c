/* Issue 11's C face on virtual time: the retry budget (alone, in a policy,
 * shared by two policies, outliving its handle), the adaptive throttle and
 * the GCRA rate limiter — every entry point with its NULLs, every
 * configuration field's rule (kind and field), out-parameters untouched on
 * failure, finalizers run once. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define SENTINEL 0xC0FFEEu

#define CHECK_CONFIG_ERROR(kind, parameter)                                                 \
    do {                                                                                    \
        CHECK_EQ_U64(resilience_last_error_kind(), (kind));                                 \
        if (strcmp(resilience_last_error_parameter(), (parameter)) != 0) {                  \
            fprintf(stderr, "parameter %s, expected %s\n", resilience_last_error_parameter(), \
                    (parameter));                                                           \
            CHECK(0);                                                                       \
        }                                                                                   \
    } while (0)

/* ---- retry budget ---------------------------------------------------------- */

static void budget_config_error(resilience_retry_budget_config_t cfg, resilience_config_error_kind_t kind,
                                const char *parameter) {
    resilience_retry_budget_t *b = (resilience_retry_budget_t *)(uintptr_t)SENTINEL;
    int freed = 0;
    vclock *clock = NULL;
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_STATUS(resilience_retry_budget_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, parameter);
    CHECK_CONFIG_ERROR(kind, parameter);
    CHECK(b == (resilience_retry_budget_t *)(uintptr_t)SENTINEL && freed == 0); /* nothing built, nothing taken */
    free(clock);
}

static void test_budget_config(void) {
    resilience_retry_budget_config_t d = resilience_retry_budget_config_default(), c;
    resilience_retry_budget_t *b = NULL;
    CHECK(d.ttl_ns == 10 * SEC && d.min_retries_per_sec == 10 && d.retry_ratio == 0.2 && d.clock.now_ns == NULL);
    c = d; c.ttl_ns = 999 * MS;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "ttl_ns");
    c = d; c.ttl_ns = 60 * SEC + 1;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "ttl_ns");
    c = d; c.ttl_ns = -1;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "ttl_ns");
    c = d; c.min_retries_per_sec = -1;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "min_retries_per_sec");
    c = d; c.min_retries_per_sec = 4294967296LL;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "min_retries_per_sec");
    c = d; c.retry_ratio = 0.0;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "retry_ratio");
    c = d; c.retry_ratio = 1.5;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "retry_ratio");
    c = d; c.retry_ratio = NAN;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, "retry_ratio");
    c = d; c.retry_ratio = -INFINITY;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "retry_ratio");
    /* The first invalid field, in order ttl, min_retries_per_sec, retry_ratio. */
    c = d; c.ttl_ns = 1; c.retry_ratio = 7;
    budget_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "ttl_ns");
    /* The edges. */
    c = d; c.ttl_ns = SEC; c.min_retries_per_sec = 0; c.retry_ratio = 1.0;
    CHECK_OK(resilience_retry_budget_new(&c, &b));
    resilience_retry_budget_free(b);
    c = d; c.ttl_ns = 60 * SEC; c.min_retries_per_sec = 4294967295LL; c.retry_ratio = 1e-9;
    CHECK_OK(resilience_retry_budget_new(&c, &b));
    resilience_retry_budget_free(b);
    /* NULLs. */
    b = (resilience_retry_budget_t *)(uintptr_t)SENTINEL;
    CHECK_STATUS(resilience_retry_budget_new(NULL, &b), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_retry_budget_new(&d, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "budget_out");
    CHECK(b == (resilience_retry_budget_t *)(uintptr_t)SENTINEL);
    resilience_retry_budget_free(NULL);
}

static void test_budget_alone(void) {
    resilience_retry_budget_config_t cfg = resilience_retry_budget_config_default();
    resilience_retry_budget_t *b = NULL;
    vclock *clock = NULL;
    int freed = 0, i;
    uint64_t available = SENTINEL;
    bool granted = true;
    cfg.ttl_ns = SEC;
    cfg.min_retries_per_sec = 0;
    cfg.retry_ratio = 0.25;
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_retry_budget_new(&cfg, &b));
    CHECK_OK(resilience_retry_budget_available(b, &available));
    CHECK_EQ_U64(available, 0);
    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
    CHECK(!granted);
    for (i = 0; i < 8; i++) CHECK_OK(resilience_retry_budget_deposit(b));
    CHECK_OK(resilience_retry_budget_available(b, &available));
    CHECK_EQ_U64(available, 2);
    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
    CHECK(granted);
    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
    CHECK(granted);
    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
    CHECK(!granted);
    /* Everything expires after ttl. */
    clock->now_ns += SEC;
    for (i = 0; i < 4; i++) CHECK_OK(resilience_retry_budget_deposit(b));
    CHECK_OK(resilience_retry_budget_available(b, &available));
    CHECK_EQ_U64(available, 1);
    /* NULLs: nothing written. */
    available = SENTINEL;
    granted = true;
    CHECK_STATUS(resilience_retry_budget_deposit(NULL), RESILIENCE_ERR_NULL_ARGUMENT, "budget");
    CHECK_STATUS(resilience_retry_budget_try_withdraw(NULL, &granted), RESILIENCE_ERR_NULL_ARGUMENT, "budget");
    CHECK_STATUS(resilience_retry_budget_try_withdraw(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "granted_out");
    CHECK_STATUS(resilience_retry_budget_available(NULL, &available), RESILIENCE_ERR_NULL_ARGUMENT, "budget");
    CHECK_STATUS(resilience_retry_budget_available(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "available_out");
    CHECK(available == SENTINEL && granted);
    resilience_retry_budget_free(b);
    CHECK(freed == 1);
}

static int always_fails(void *user_data, uint32_t attempt) {
    (void)attempt;
    ++*(int *)user_data;
    return RESILIENCE_OP_RETRYABLE;
}

/* One budget, two policies: every sequence deposits, retries withdraw, a
 * denied retry gives up with reason budget; the policies keep the budget
 * (and its clock) alive after its handle is freed. */
static void test_budget_in_policies(void) {
    resilience_retry_budget_config_t bc = resilience_retry_budget_config_default();
    resilience_retry_config_t rc = resilience_retry_config_default();
    resilience_retry_budget_t *budget = NULL;
    resilience_retry_policy_t *p1 = NULL, *p2 = NULL;
    resilience_retry_state_t *a = NULL, *b = NULL;
    resilience_retry_decision_t d;
    resilience_retry_outcome_t o;
    resilience_time_source_t time;
    vclock *clock = NULL, sleeper;
    int freed = 0, runs = 0;
    uint64_t available = 0;
    bc.min_retries_per_sec = 0;
    bc.retry_ratio = 0.5;
    bc.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_retry_budget_new(&bc, &budget));
    rc.max_attempts = 5;
    rc.jitter = RESILIENCE_JITTER_NONE;
    rc.base_delay_ns = 100 * MS;
    rc.budget = budget;
    CHECK_OK(resilience_retry_policy_new(&rc, &p1));
    rc.backoff = RESILIENCE_BACKOFF_FIXED;
    CHECK_OK(resilience_retry_policy_new(&rc, &p2));

    /* Sequence a (policy 1) alone: one deposit, half a retry: denied. */
    CHECK_OK(resilience_retry_state_new(p1, &a));
    CHECK_OK(resilience_retry_state_on_failure(a, true, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_BUDGET && d.attempt == 1);
    CHECK(strcmp(resilience_give_up_reason_name(d.reason), "budget") == 0);
    /* Sequence b (policy 2) deposits too: one retry for both, then none. */
    CHECK_OK(resilience_retry_state_new(p2, &b));
    CHECK_OK(resilience_retry_state_on_failure(b, true, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 100 * MS);
    CHECK_OK(resilience_retry_state_on_failure(b, true, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_BUDGET);
    /* Not retryable: decided before the budget, which is not asked. */
    resilience_retry_state_free(a);
    resilience_retry_state_free(b);
    CHECK_OK(resilience_retry_state_new(p1, &a)); /* a third deposit: half a retry */
    CHECK_OK(resilience_retry_state_new_at(p1, 0, &b)); /* ...a fourth: one retry */
    CHECK_OK(resilience_retry_state_on_failure(a, false, &d));
    CHECK(d.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
    CHECK_OK(resilience_retry_budget_available(budget, &available));
    CHECK_EQ_U64(available, 1);
    resilience_retry_state_free(a);
    resilience_retry_state_free(b);

    /* The blocking executor: a deposit per call, retries while the budget lasts. */
    resilience_retry_budget_free(budget); /* the policies keep it */
    CHECK(freed == 0);
    memset(&sleeper, 0, sizeof sleeper);
    time = vclock_borrowed(&sleeper);
    CHECK_STATUS(resilience_retry_execute(p1, always_fails, NULL, &runs, &time, &o), RESILIENCE_ERR_OPERATION_FAILED,
                 "(budget)");
    /* 5 deposits, 2.5 retries earned, 1 spent: the call gets one retry. */
    CHECK(o.attempts == 2 && runs == 2 && o.reason == RESILIENCE_GIVE_UP_BUDGET && sleeper.sleep_count == 1);
    resilience_retry_policy_free(p1);
    CHECK(freed == 0);
    resilience_retry_policy_free(p2);
    CHECK(freed == 1); /* the clock's finalizer, once, when the last user went */
}

/* ---- adaptive throttle ----------------------------------------------------- */

static void throttle_config_error(resilience_adaptive_throttle_config_t cfg, resilience_config_error_kind_t kind,
                                  const char *parameter) {
    resilience_adaptive_throttle_t *t = (resilience_adaptive_throttle_t *)(uintptr_t)SENTINEL;
    int freed = 0;
    vclock *clock = NULL;
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_STATUS(resilience_adaptive_throttle_new(&cfg, &t), RESILIENCE_ERR_INVALID_CONFIG, parameter);
    CHECK_CONFIG_ERROR(kind, parameter);
    CHECK(t == (resilience_adaptive_throttle_t *)(uintptr_t)SENTINEL && freed == 0);
    free(clock);
}

static void test_throttle(void) {
    resilience_adaptive_throttle_config_t d = resilience_adaptive_throttle_config_default(), c;
    resilience_adaptive_throttle_t *t = NULL;
    resilience_throttle_stats_t st;
    resilience_throttled_t why, untouched;
    vclock *clock = NULL;
    int freed = 0, i, shed = 0;
    CHECK(d.k == 2.0 && d.window_ns == 120 * SEC && !d.seeded && d.clock.now_ns == NULL);
    c = d; c.k = 0;
    throttle_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "k");
    c = d; c.k = INFINITY;
    throttle_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "k");
    c = d; c.k = NAN;
    throttle_config_error(c, RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, "k");
    c = d; c.window_ns = 999 * MS;
    throttle_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "window_ns");
    c = d; c.window_ns = -SEC;
    throttle_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "window_ns");

    /* The SRE formula: 2 accepted, then 7 rejected by the backend (k 2, seed 1). */
    c = d;
    c.seeded = true;
    c.seed = 1;
    c.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_adaptive_throttle_new(&c, &t));
    for (i = 0; i < 2; i++) {
        CHECK_OK(resilience_adaptive_throttle_try_admit(t, NULL));
        CHECK_OK(resilience_adaptive_throttle_record(t, true));
    }
    for (i = 0; i < 7; i++) {
        resilience_status_t s = resilience_adaptive_throttle_try_admit(t, &why);
        CHECK(s == RESILIENCE_OK || s == RESILIENCE_ERR_THROTTLED);
        if (s == RESILIENCE_OK) CHECK_OK(resilience_adaptive_throttle_record(t, false));
        else {
            shed++;
            CHECK(why.probability > 0.0 && why.probability < 1.0 && why.retry_after_ns > 0);
        }
    }
    CHECK_OK(resilience_adaptive_throttle_stats(t, &st));
    CHECK(st.requests == 9 && st.accepts == 2 && st.probability == 0.5);
    CHECK_EQ_U64(shed, 1); /* the seeded draws: "aaaaaat" (tests/conformance/throttle.json) */

    /* NULLs, and nothing written on failure or on success. */
    memset(&untouched, 0xAB, sizeof untouched);
    why = untouched;
    CHECK_STATUS(resilience_adaptive_throttle_try_admit(NULL, &why), RESILIENCE_ERR_NULL_ARGUMENT, "throttle");
    CHECK(memcmp(&why, &untouched, sizeof why) == 0);
    CHECK_STATUS(resilience_adaptive_throttle_record(NULL, true), RESILIENCE_ERR_NULL_ARGUMENT, "throttle");
    CHECK_STATUS(resilience_adaptive_throttle_stats(NULL, &st), RESILIENCE_ERR_NULL_ARGUMENT, "throttle");
    CHECK_STATUS(resilience_adaptive_throttle_stats(t, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "stats_out");
    resilience_adaptive_throttle_free(t);
    CHECK(freed == 1);
    resilience_adaptive_throttle_free(NULL);

    /* A backend that rejects everything: the client sheds most requests. */
    c = d;
    c.seeded = true;
    c.seed = 42;
    c.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_adaptive_throttle_new(&c, &t));
    shed = 0;
    for (i = 0; i < 1000; i++) {
        why = untouched;
        if (resilience_adaptive_throttle_try_admit(t, &why) == RESILIENCE_OK) {
            CHECK(memcmp(&why, &untouched, sizeof why) == 0); /* written only when shed */
            CHECK_OK(resilience_adaptive_throttle_record(t, false));
        } else shed++;
    }
    CHECK(shed > 900);
    resilience_adaptive_throttle_free(t);
    t = (resilience_adaptive_throttle_t *)(uintptr_t)SENTINEL;
    CHECK_STATUS(resilience_adaptive_throttle_new(NULL, &t), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_adaptive_throttle_new(&d, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "throttle_out");
    CHECK(t == (resilience_adaptive_throttle_t *)(uintptr_t)SENTINEL);
}

/* ---- rate limiter ---------------------------------------------------------- */

static void limiter_config_error(resilience_rate_limiter_config_t cfg, resilience_config_error_kind_t kind,
                                 const char *parameter) {
    resilience_rate_limiter_t *l = (resilience_rate_limiter_t *)(uintptr_t)SENTINEL;
    int freed = 0;
    vclock *clock = NULL;
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_STATUS(resilience_rate_limiter_new(&cfg, &l), RESILIENCE_ERR_INVALID_CONFIG, parameter);
    CHECK_CONFIG_ERROR(kind, parameter);
    CHECK(l == (resilience_rate_limiter_t *)(uintptr_t)SENTINEL && freed == 0);
    free(clock);
}

static void test_limiter(void) {
    resilience_rate_limiter_config_t d = resilience_rate_limiter_config_default(), c;
    resilience_rate_limiter_t *l = NULL;
    resilience_time_source_t time;
    vclock *clock = NULL;
    int freed = 0;
    uint64_t wait = SENTINEL, interval = 0;
    CHECK(d.rate == 100 && d.per_ns == SEC && d.burst == 10 && d.clock.now_ns == NULL);
    c = d; c.rate = 0;
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "rate");
    c = d; c.rate = 4294967296LL;
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "rate");
    c = d; c.per_ns = 0;
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "per_ns");
    c = d; c.per_ns = -5;
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "per_ns");
    c = d; c.burst = 0;
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "burst");
    c = d; c.rate = 1; c.per_ns = INT64_MAX; c.burst = 3; /* 3 x 292 years: more than 584 */
    limiter_config_error(c, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "burst");

    /* rate 10 per second, burst 3: the burst, then one per 100 ms. */
    c = d;
    c.rate = 10;
    c.burst = 3;
    c.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_rate_limiter_new(&c, &l));
    CHECK_OK(resilience_rate_limiter_emission_interval(l, &interval));
    CHECK_EQ_U64(interval, 100 * MS);
    CHECK_OK(resilience_rate_limiter_try_acquire(l, 1, &wait));
    CHECK_EQ_U64(wait, SENTINEL); /* nothing written on OK */
    CHECK_OK(resilience_rate_limiter_try_acquire(l, 2, NULL));
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, 1, &wait), RESILIENCE_ERR_RATE_LIMITED, NULL);
    CHECK_EQ_U64(wait, 100 * MS);
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, 1, NULL), RESILIENCE_ERR_RATE_LIMITED, NULL);
    clock->now_ns += 99 * MS;
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, 1, &wait), RESILIENCE_ERR_RATE_LIMITED, NULL);
    CHECK_EQ_U64(wait, 1 * MS);
    clock->now_ns += 1 * MS;
    CHECK_OK(resilience_rate_limiter_try_acquire(l, 0, NULL)); /* zero cells always conform */
    CHECK_OK(resilience_rate_limiter_try_acquire(l, 1, NULL));
    /* More than the burst: never, at once, with a message. */
    wait = SENTINEL;
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, 4, &wait), RESILIENCE_ERR_EXCEEDS_BURST,
                 "4 cells requested at once, but the burst is 3");
    CHECK_EQ_U64(wait, SENTINEL);
    /* n goes through rule `cells`: kind and parameter. */
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, -1, &wait), RESILIENCE_ERR_INVALID_ARGUMENT, "invalid n:");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "n");
    CHECK_STATUS(resilience_rate_limiter_try_acquire(l, 4294967296LL, &wait), RESILIENCE_ERR_INVALID_ARGUMENT, "n");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "n");
    CHECK_EQ_U64(wait, SENTINEL);

    /* The blocking acquire sleeps exactly the wait, over a borrowed time source. */
    time = vclock_borrowed(clock);
    clock->sleep_count = 0;
    CHECK_OK(resilience_rate_limiter_acquire(l, 2, &time));
    CHECK(clock->sleep_count == 1 && clock->sleeps[0] == 200 * MS);
    CHECK_STATUS(resilience_rate_limiter_acquire(l, 9, &time), RESILIENCE_ERR_EXCEEDS_BURST, "burst is 3");
    CHECK_STATUS(resilience_rate_limiter_acquire(l, -2, &time), RESILIENCE_ERR_INVALID_ARGUMENT, "n");
    CHECK_EQ_U64(clock->sleep_count, 1); /* never a wait for cells that can never conform */
    CHECK_OK(resilience_rate_limiter_acquire(l, 0, NULL)); /* system sleep, never needed */

    /* NULLs. */
    CHECK_STATUS(resilience_rate_limiter_try_acquire(NULL, 1, &wait), RESILIENCE_ERR_NULL_ARGUMENT, "limiter");
    CHECK_STATUS(resilience_rate_limiter_acquire(NULL, 1, &time), RESILIENCE_ERR_NULL_ARGUMENT, "limiter");
    CHECK_STATUS(resilience_rate_limiter_emission_interval(NULL, &interval), RESILIENCE_ERR_NULL_ARGUMENT, "limiter");
    CHECK_STATUS(resilience_rate_limiter_emission_interval(l, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "interval_ns_out");
    resilience_rate_limiter_free(l);
    CHECK(freed == 1);
    resilience_rate_limiter_free(NULL);
    l = (resilience_rate_limiter_t *)(uintptr_t)SENTINEL;
    CHECK_STATUS(resilience_rate_limiter_new(NULL, &l), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_rate_limiter_new(&d, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "limiter_out");
    CHECK(l == (resilience_rate_limiter_t *)(uintptr_t)SENTINEL);

    /* The emission interval rounds up: 3 per second is 333,333,334 ns. */
    c = d;
    c.rate = 3;
    c.burst = 1;
    CHECK_OK(resilience_rate_limiter_new(&c, &l));
    CHECK_OK(resilience_rate_limiter_emission_interval(l, &interval));
    CHECK_EQ_U64(interval, 333333334);
    resilience_rate_limiter_free(l);
}

int main(void) {
    test_budget_config();
    test_budget_alone();
    test_budget_in_policies();
    test_throttle();
    test_limiter();
    return check_report("load");
}
