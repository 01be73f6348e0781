/* Issue 10's C face on virtual time: the deadline (max_elapsed_ns) in the
 * blocking executor and the step API, RESILIENCE_ERR_TIMEOUT, the attempt
 * timeout and the standalone timeout's decision, result classification
 * (a value judged a failure is retried, the last value returned), and the
 * event callback of the executor and the breaker. Every entry point also
 * gets its NULLs and its misuse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

#define MS 1000000LL
#define SENTINEL 0xC0FFEEu

/* ---- a scripted operation ------------------------------------------------ */

#define MAX_EVENTS 16

typedef struct {
    const int *codes;     /* what attempt k returns */
    const int *bad_value; /* attempt k returned a value that is a failure (code 0) */
    const uint64_t *hints;
    size_t n;
    uint32_t calls;
    uint32_t classified;
    int64_t takes_ns; /* each run advances the clock by this */
    vclock *clock;
    resilience_event_t events[MAX_EVENTS];
    size_t n_events;
} script;

static int scripted(void *user_data, uint32_t attempt) {
    script *s = user_data;
    s->calls++;
    s->clock->now_ns += s->takes_ns;
    return attempt >= 1 && attempt <= s->n ? s->codes[attempt - 1] : RESILIENCE_OP_FATAL;
}

static resilience_predicate_outcome_t classify(void *user_data, uint32_t attempt, uint64_t *retry_after_ns) {
    script *s = user_data;
    s->classified++;
    CHECK(*retry_after_ns == 0); /* preset: no hint */
    if (attempt < 1 || attempt > s->n) return RESILIENCE_PREDICATE_FAILED;
    if (s->hints) *retry_after_ns = s->hints[attempt - 1];
    return (resilience_predicate_outcome_t)s->bad_value[attempt - 1];
}

static void record_event(void *user_data, const resilience_event_t *e) {
    script *s = user_data;
    if (s->n_events < MAX_EVENTS) s->events[s->n_events] = *e;
    s->n_events++;
}

static resilience_retry_policy_t *policy_with(int64_t attempts, resilience_backoff_t backoff, int64_t base_ns,
                                              int has_deadline, int64_t max_elapsed_ns) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    cfg.max_attempts = attempts;
    cfg.backoff = backoff;
    cfg.jitter = RESILIENCE_JITTER_NONE;
    cfg.base_delay_ns = base_ns;
    cfg.has_max_elapsed = has_deadline;
    cfg.max_elapsed_ns = max_elapsed_ns;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    return p;
}

/* ---- the deadline in the blocking executor -------------------------------- */

/* Attempts take 100 ms, fixed 1 s waits, a 2.5 s deadline: two retries,
 * then the wait after attempt 3 (ending at 2.3 s) would cross it. */
static void test_executor_deadline(void) {
    static const int codes[] = {5, 6, 7, 8};
    resilience_retry_policy_t *p = policy_with(10, RESILIENCE_BACKOFF_FIXED, 1000 * MS, 1, 2500 * MS);
    vclock clock;
    script s;
    resilience_time_source_t time;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&s, 0, sizeof s);
    s.codes = codes;
    s.n = 4;
    s.takes_ns = 100 * MS;
    s.clock = &clock;
    clock.now_ns = 7 * MS; /* the deadline counts from the first attempt's start, not from 0 */
    time = vclock_borrowed(&clock);
    CHECK_STATUS(resilience_retry_execute(p, scripted, NULL, &s, &time, &o), RESILIENCE_ERR_TIMEOUT,
                 "gave up after 3 attempt(s) (deadline), last code 7");
    CHECK(o.attempts == 3 && o.last_code == 7 && o.reason == RESILIENCE_GIVE_UP_DEADLINE);
    CHECK_EQ_U64(o.total_delay_ns, 2000 * MS);
    CHECK(clock.sleep_count == 2 && clock.sleeps[0] == 1000 * MS && clock.sleeps[1] == 1000 * MS);
    CHECK(strcmp(resilience_give_up_reason_name(o.reason), "deadline") == 0);

    /* Without a clock of its own the executor reads the system clock: a
     * virtual sleeper then makes the waits count (elapsed is never less
     * than the waits decided). 3.5 s of 1 s waits: three retries. */
    resilience_retry_policy_free(p);
    p = policy_with(10, RESILIENCE_BACKOFF_FIXED, 1000 * MS, 1, 3500 * MS);
    memset(&clock, 0, sizeof clock);
    s.calls = 0;
    s.takes_ns = 0;
    time = vclock_borrowed(&clock);
    time.now_ns = NULL;
    CHECK_STATUS(resilience_retry_execute(p, scripted, NULL, &s, &time, &o), RESILIENCE_ERR_TIMEOUT, "(deadline)");
    CHECK(o.attempts == 4 && o.reason == RESILIENCE_GIVE_UP_DEADLINE && clock.sleep_count == 3);
    resilience_retry_policy_free(p);

    /* A zero deadline: only the first attempt runs. */
    p = policy_with(10, RESILIENCE_BACKOFF_FIXED, 1000 * MS, 1, 0);
    memset(&clock, 0, sizeof clock);
    s.calls = 0;
    time = vclock_borrowed(&clock);
    CHECK_STATUS(resilience_retry_execute(p, scripted, NULL, &s, &time, &o), RESILIENCE_ERR_TIMEOUT, NULL);
    CHECK(o.attempts == 1 && s.calls == 1 && clock.sleep_count == 0);
    resilience_retry_policy_free(p);
}

/* ---- result classification and events in execute_ex ----------------------- */

static void test_execute_ex_values_and_events(void) {
    static const int codes[] = {0, 9, 0, 0};
    static const int bad[] = {1, 0, 1, 1};
    static const uint64_t hints[] = {0, 0, 5000 * MS, 0};
    resilience_retry_policy_t *p = policy_with(4, RESILIENCE_BACKOFF_EXPONENTIAL, 100 * MS, 0, 0);
    resilience_retry_call_t call = resilience_retry_call_default();
    vclock clock;
    script s;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&s, 0, sizeof s);
    s.codes = codes;
    s.bad_value = bad;
    s.hints = hints;
    s.n = 4;
    s.clock = &clock;
    CHECK(call.op == NULL && call.on_event == NULL && call.classify_result == NULL && call.time.now_ns == NULL);
    call.op = scripted;
    call.user_data = &s;
    call.classify_result = classify;
    call.on_event = record_event;
    call.time = vclock_borrowed(&clock);
    /* bad value, error 9, bad value with a 5 s hint, bad value: retries run
     * out on a value, which is the answer: RESILIENCE_OK, reason exhausted. */
    CHECK_OK(resilience_retry_execute_ex(p, &call, &o));
    CHECK(o.attempts == 4 && o.last_code == 0 && o.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
    CHECK_EQ_U64(o.total_delay_ns, 100 * MS + 200 * MS + 5000 * MS);
    CHECK_EQ_U64(s.classified, 3); /* every value, the last one's included; never an error */
    CHECK_EQ_U64(s.n_events, 4);
    CHECK(s.events[0].kind == RESILIENCE_EVENT_RETRY_SCHEDULED && s.events[0].of.retry_scheduled.attempt == 1 &&
          s.events[0].of.retry_scheduled.code == 0 && s.events[0].of.retry_scheduled.delay_ns == 100 * MS);
    CHECK(s.events[1].kind == RESILIENCE_EVENT_RETRY_SCHEDULED && s.events[1].of.retry_scheduled.attempt == 2 &&
          s.events[1].of.retry_scheduled.code == 9 && s.events[1].of.retry_scheduled.delay_ns == 200 * MS);
    CHECK(s.events[2].kind == RESILIENCE_EVENT_RETRY_SCHEDULED && s.events[2].of.retry_scheduled.delay_ns == 5000 * MS);
    CHECK(s.events[3].kind == RESILIENCE_EVENT_GAVE_UP && s.events[3].of.gave_up.attempts == 4 &&
          s.events[3].of.gave_up.code == 0 && s.events[3].of.gave_up.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
    CHECK(strcmp(resilience_event_kind_name(s.events[3].kind), "gave_up") == 0);
    CHECK(strcmp(resilience_event_kind_name(RESILIENCE_EVENT_RETRY_SCHEDULED), "retry_scheduled") == 0);
    CHECK(strcmp(resilience_event_kind_name(0), "unknown") == 0);

    /* A value judged fine ends the call at once; a predicate that fails (or
     * answers something else) accepts the value too. */
    {
        static const int fine[] = {0, 0, 2, 0};
        static const int weird[] = {7, 0, 0, 0};
        s.bad_value = fine;
        s.calls = s.classified = 0;
        s.n_events = 0;
        CHECK_OK(resilience_retry_execute_ex(p, &call, &o));
        CHECK(o.attempts == 1 && o.reason == RESILIENCE_GIVE_UP_NONE && s.n_events == 0);
        s.bad_value = weird;
        s.calls = 0;
        CHECK_OK(resilience_retry_execute_ex(p, &call, &o));
        CHECK(o.attempts == 1 && o.reason == RESILIENCE_GIVE_UP_NONE);
    }

    /* Failures surface as before: a fatal code, events without a
     * predicate, on_retry told about error retries only. */
    {
        static const int fatal[] = {3, -4};
        s.codes = fatal;
        s.n = 2;
        s.n_events = 0;
        s.calls = 0;
        call.classify_result = NULL;
        CHECK_STATUS(resilience_retry_execute_ex(p, &call, &o), RESILIENCE_ERR_OPERATION_FAILED, "not_retryable");
        CHECK(o.attempts == 2 && o.last_code == -4 && o.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
        CHECK(s.n_events == 2 && s.events[1].kind == RESILIENCE_EVENT_GAVE_UP &&
              s.events[1].of.gave_up.code == -4 && s.events[1].of.gave_up.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
    }

    /* NULLs: nothing runs, nothing is written. */
    {
        resilience_retry_call_t bad = call;
        s.calls = 0;
        o.attempts = SENTINEL;
        CHECK_STATUS(resilience_retry_execute_ex(NULL, &call, &o), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
        CHECK_STATUS(resilience_retry_execute_ex(p, NULL, &o), RESILIENCE_ERR_NULL_ARGUMENT, "call");
        CHECK_STATUS(resilience_retry_execute_ex(p, &call, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "outcome_out");
        bad.op = NULL;
        CHECK_STATUS(resilience_retry_execute_ex(p, &bad, &o), RESILIENCE_ERR_NULL_ARGUMENT, "call->op");
        CHECK(s.calls == 0 && o.attempts == SENTINEL);
    }
    resilience_retry_policy_free(p);
}

/* ---- the deadline in the step API ----------------------------------------- */

static void test_step_api_deadline(void) {
    resilience_retry_policy_t *p = policy_with(10, RESILIENCE_BACKOFF_EXPONENTIAL, 1000 * MS, 1, 5000 * MS);
    resilience_retry_state_t *s = NULL;
    resilience_retry_decision_t d;
    bool has = true;
    uint64_t at = SENTINEL, hint = 10000 * MS;
    int64_t now;

    /* Started at 10 s: the deadline is 15 s. */
    CHECK_OK(resilience_retry_state_new_at(p, 10000 * MS, &s));
    CHECK_OK(resilience_retry_state_deadline(s, &has, &at));
    CHECK(has && at == 15000 * MS);
    CHECK_OK(resilience_retry_state_on_failure_at(s, true, NULL, 10900 * MS, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 1000 * MS);
    /* At 14.5 s a 10 s hint is beyond the deadline: give up at once. */
    CHECK_OK(resilience_retry_state_on_failure_at(s, true, &hint, 14500 * MS, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_DEADLINE && d.attempt == 2);
    resilience_retry_state_free(s);

    /* The classified twin; a clock that jumps back buys no time. */
    CHECK_OK(resilience_retry_state_new_at(p, 0, &s));
    CHECK_OK(resilience_retry_state_on_failure_classified_at(s, RESILIENCE_PREDICATE_YES, NULL, 100 * MS, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 1000 * MS);
    CHECK_OK(resilience_retry_state_on_failure_classified_at(s, RESILIENCE_PREDICATE_YES, NULL, -5, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 2000 * MS); /* 3 s of waits so far */
    CHECK_OK(resilience_retry_state_on_failure_classified_at(s, RESILIENCE_PREDICATE_YES, NULL, 0, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_DEADLINE);
    d.action = SENTINEL;
    CHECK_STATUS(resilience_retry_state_on_failure_classified_at(s, 3, NULL, 0, &d), RESILIENCE_ERR_INVALID_ARGUMENT,
                 "outcome");
    CHECK(d.action == SENTINEL);
    resilience_retry_state_free(s);

    /* Without a clock: no deadline reading, the waits count. */
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_deadline(s, &has, &at));
    CHECK(!has && at == 0);
    now = 0;
    CHECK_OK(resilience_retry_state_on_timeout(s, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 1000 * MS);
    CHECK_OK(resilience_retry_state_on_timeout(s, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.delay_ns == 2000 * MS);
    CHECK_OK(resilience_retry_state_on_timeout(s, &now, &d)); /* no start reading: still the waits */
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_DEADLINE);
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);

    /* A policy without a deadline has none. */
    p = policy_with(2, RESILIENCE_BACKOFF_FIXED, 1000 * MS, 0, 123);
    CHECK_OK(resilience_retry_state_new_at(p, 5, &s));
    CHECK_OK(resilience_retry_state_deadline(s, &has, &at));
    CHECK(!has);
    /* A timeout is retryable whatever; the attempt count decides first. */
    now = 1000000 * MS;
    CHECK_OK(resilience_retry_state_on_timeout(s, &now, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY);
    CHECK_OK(resilience_retry_state_on_timeout(s, &now, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);
}

/* ---- results in the step API ---------------------------------------------- */

static void test_step_api_results(void) {
    resilience_retry_policy_t *p = policy_with(3, RESILIENCE_BACKOFF_EXPONENTIAL, 1000 * MS, 1, 10000 * MS);
    resilience_retry_state_t *s = NULL;
    resilience_retry_decision_t d;
    uint64_t hint = 5000 * MS, huge = 30000 * MS;
    int64_t now = 10 * MS;

    CHECK_OK(resilience_retry_state_new_at(p, 0, &s));
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_YES, NULL, &now, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 1 && d.delay_ns == 1000 * MS);
    now = 1100 * MS;
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_YES, &hint, &now, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 2 && d.delay_ns == 5000 * MS);
    /* The last attempt's value is judged too: still a failure, so the
     * sequence gives up and the value is the answer. */
    now = 6200 * MS;
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_YES, NULL, &now, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.attempt == 3 && d.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
    resilience_retry_state_free(s);

    /* Accepted: a fine value, or a predicate that failed. */
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_NO, NULL, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_ACCEPT && d.attempt == 1 && d.delay_ns == 0 &&
          d.reason == RESILIENCE_GIVE_UP_NONE);
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_FAILED, NULL, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_ACCEPT);
    /* A value's hint beyond the deadline gives up. */
    CHECK_OK(resilience_retry_state_on_result(s, RESILIENCE_PREDICATE_YES, &huge, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_DEADLINE);
    d.action = SENTINEL;
    CHECK_STATUS(resilience_retry_state_on_result(s, 9, NULL, NULL, &d), RESILIENCE_ERR_INVALID_ARGUMENT,
                 "RESILIENCE_PREDICATE_");
    CHECK(d.action == SENTINEL);
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);
}

/* ---- the configuration fields and the attempt timeout ---------------------- */

#define CHECK_CONFIG_ERROR(kind, parameter)                                  \
    do {                                                                     \
        CHECK_EQ_U64(resilience_last_error_kind(), (kind));                  \
        CHECK(strcmp(resilience_last_error_parameter(), (parameter)) == 0); \
    } while (0)

static void test_config_fields(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = (resilience_retry_policy_t *)(uintptr_t)SENTINEL;
    uint64_t timeout = SENTINEL;
    CHECK(!cfg.has_max_elapsed && cfg.max_elapsed_ns == 0 && cfg.attempt_timeout_ns == 0 && cfg.budget == NULL);
    cfg.has_max_elapsed = true;
    cfg.max_elapsed_ns = -1;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid max_elapsed_ns:");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_elapsed_ns");
    CHECK(p == (resilience_retry_policy_t *)(uintptr_t)SENTINEL);
    /* Read only with the flag. */
    cfg.has_max_elapsed = false;
    cfg.attempt_timeout_ns = -5;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid attempt_timeout_ns:");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "attempt_timeout_ns");
    cfg.attempt_timeout_ns = 2000 * MS;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK_OK(resilience_retry_policy_attempt_timeout(p, &timeout));
    CHECK_EQ_U64(timeout, 2000 * MS);
    CHECK_STATUS(resilience_retry_policy_attempt_timeout(NULL, &timeout), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_attempt_timeout(p, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "timeout_ns_out");
    resilience_retry_policy_free(p);
    cfg.attempt_timeout_ns = 0; /* none */
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK_OK(resilience_retry_policy_attempt_timeout(p, &timeout));
    CHECK_EQ_U64(timeout, 0);
    resilience_retry_policy_free(p);
}

/* ---- step API NULLs -------------------------------------------------------- */

static void test_step_api_nulls(void) {
    resilience_retry_policy_t *p = policy_with(3, RESILIENCE_BACKOFF_FIXED, 1, 1, 100);
    resilience_retry_state_t *s = (resilience_retry_state_t *)(uintptr_t)SENTINEL;
    resilience_retry_decision_t d;
    bool has = false;
    uint64_t at = 0;
    int64_t now = 0;
    CHECK_STATUS(resilience_retry_state_new_at(NULL, 0, &s), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_state_new_at(p, 0, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "state_out");
    CHECK(s == (resilience_retry_state_t *)(uintptr_t)SENTINEL);
    CHECK_OK(resilience_retry_state_new_at(p, -1, &s)); /* a negative reading counts as 0 */
    CHECK_OK(resilience_retry_state_deadline(s, &has, &at));
    CHECK(has && at == 100);
    CHECK_STATUS(resilience_retry_state_on_failure_at(NULL, true, NULL, 0, &d), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_on_failure_at(s, true, NULL, 0, NULL), RESILIENCE_ERR_NULL_ARGUMENT,
                 "decision_out");
    CHECK_STATUS(resilience_retry_state_on_failure_classified_at(NULL, 1, NULL, 0, &d), RESILIENCE_ERR_NULL_ARGUMENT,
                 "state");
    CHECK_STATUS(resilience_retry_state_on_timeout(NULL, &now, &d), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_on_timeout(s, &now, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "decision_out");
    CHECK_STATUS(resilience_retry_state_on_result(NULL, 1, NULL, NULL, &d), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_on_result(s, 1, NULL, NULL, NULL), RESILIENCE_ERR_NULL_ARGUMENT,
                 "decision_out");
    CHECK_STATUS(resilience_retry_state_deadline(NULL, &has, &at), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_deadline(s, NULL, &at), RESILIENCE_ERR_NULL_ARGUMENT, "has_deadline_out");
    has = true;
    CHECK_STATUS(resilience_retry_state_deadline(s, &has, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "deadline_ns_out");
    CHECK(has); /* nothing written on failure */
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);
}

/* ---- the standalone timeout ----------------------------------------------- */

static void test_timeout(void) {
    resilience_deadline_t d, untouched;
    bool expired = true;
    uint64_t left = 0;
    CHECK_OK(resilience_timeout_start(2000 * MS, 10000 * MS, &d));
    CHECK(d.start_ns == 10000 * MS && d.timeout_ns == 2000 * MS && d.at_ns == 12000 * MS);
    CHECK_OK(resilience_deadline_expired(&d, 11999 * MS, &expired));
    CHECK(!expired);
    CHECK_OK(resilience_deadline_remaining(&d, 11999 * MS, &left));
    CHECK_EQ_U64(left, 1 * MS);
    CHECK_OK(resilience_deadline_expired(&d, 12000 * MS, &expired));
    CHECK(expired);
    CHECK_OK(resilience_deadline_remaining(&d, 15000 * MS, &left));
    CHECK_EQ_U64(left, 0);
    /* Before the start: the whole timeout (and more) is left. */
    CHECK_OK(resilience_deadline_remaining(&d, -3, &left));
    CHECK_EQ_U64(left, 12000 * MS);
    /* Saturation at the end of the clock's range. */
    CHECK_OK(resilience_timeout_start(INT64_MAX, INT64_MAX, &d));
    CHECK(d.at_ns == (uint64_t)INT64_MAX * 2);
    /* A zero or negative timeout is refused, nothing written. */
    memset(&untouched, 0xAB, sizeof untouched);
    d = untouched;
    CHECK_STATUS(resilience_timeout_start(0, 0, &d), RESILIENCE_ERR_INVALID_CONFIG, "invalid timeout_ns:");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "timeout_ns");
    CHECK_STATUS(resilience_timeout_start(-1, 0, &d), RESILIENCE_ERR_INVALID_CONFIG, "invalid timeout_ns:");
    CHECK(memcmp(&d, &untouched, sizeof d) == 0);
    CHECK_STATUS(resilience_timeout_start(1, 0, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "deadline_out");
    CHECK_STATUS(resilience_deadline_expired(NULL, 0, &expired), RESILIENCE_ERR_NULL_ARGUMENT, "deadline");
    CHECK_STATUS(resilience_deadline_expired(&d, 0, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "expired_out");
    CHECK_STATUS(resilience_deadline_remaining(NULL, 0, &left), RESILIENCE_ERR_NULL_ARGUMENT, "deadline");
    CHECK_STATUS(resilience_deadline_remaining(&d, 0, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "remaining_ns_out");
}

/* ---- breaker events -------------------------------------------------------- */

typedef struct {
    resilience_event_t events[MAX_EVENTS];
    size_t n;
    int freed;
} event_log;

static void log_event(void *user_data, const resilience_event_t *e) {
    event_log *l = user_data;
    if (l->n < MAX_EVENTS) l->events[l->n] = *e;
    l->n++;
}

static void log_freed(void *user_data) {
    ((event_log *)user_data)->freed++;
}

static unsigned transitions_heard = 0;
static void count_transition(void *user_data, resilience_circuit_state_t from, resilience_circuit_state_t to) {
    (void)user_data;
    (void)from;
    (void)to;
    transitions_heard++;
}

static void test_breaker_events(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = NULL;
    resilience_permit_t permit;
    uint64_t wait = 0;
    vclock *clock = NULL;
    int clock_freed = 0;
    event_log log;
    memset(&log, 0, sizeof log);
    CHECK(cfg.events.on_event == NULL && cfg.events.user_data == NULL && cfg.events.free_user_data == NULL);
    cfg.failure_threshold = 2;
    cfg.recovery_timeout_ns = 30000 * MS;
    cfg.clock = vclock_owned(&clock, &clock_freed);
    cfg.events.user_data = &log;
    cfg.events.on_event = log_event;
    cfg.events.free_user_data = log_freed;
    cfg.listener.on_transition = count_transition; /* both listeners hear transitions */
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, permit));
    CHECK_EQ_U64(log.n, 0);
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, permit));
    CHECK_EQ_U64(log.n, 1);
    CHECK(log.events[0].kind == RESILIENCE_EVENT_BREAKER_TRANSITION &&
          log.events[0].of.breaker_transition.from == RESILIENCE_CIRCUIT_CLOSED &&
          log.events[0].of.breaker_transition.to == RESILIENCE_CIRCUIT_OPEN);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &permit, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(log.n, 2);
    CHECK(log.events[1].kind == RESILIENCE_EVENT_BREAKER_REJECTED &&
          log.events[1].of.breaker_rejected.reason == RESILIENCE_REJECT_OPEN &&
          log.events[1].of.breaker_rejected.retry_after_ns == 30000 * MS && wait == 30000 * MS);
    CHECK(strcmp(resilience_event_kind_name(log.events[1].kind), "breaker_rejected") == 0);
    /* try_acquire_ex reports rejections too; isolation says so. */
    CHECK_OK(resilience_circuit_breaker_isolate(b));
    {
        resilience_rejection_t why;
        CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, &permit, &why), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    }
    CHECK_EQ_U64(log.n, 4);
    CHECK(log.events[2].kind == RESILIENCE_EVENT_BREAKER_TRANSITION &&
          log.events[2].of.breaker_transition.to == RESILIENCE_CIRCUIT_ISOLATED);
    CHECK(log.events[3].kind == RESILIENCE_EVENT_BREAKER_REJECTED &&
          log.events[3].of.breaker_rejected.reason == RESILIENCE_REJECT_ISOLATED &&
          log.events[3].of.breaker_rejected.retry_after_ns == UINT64_MAX);
    CHECK_EQ_U64(transitions_heard, 2);
    resilience_circuit_breaker_free(b);
    CHECK(log.freed == 1 && clock_freed == 1);

    /* A failed build leaves the events' user data with the caller. */
    log.freed = 0;
    cfg = resilience_circuit_breaker_config_default();
    cfg.failure_threshold = 0;
    cfg.events.user_data = &log;
    cfg.events.free_user_data = log_freed;
    b = NULL;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, NULL);
    CHECK(b == NULL && log.freed == 0);
    /* A finalizer alone is owned too (called once). */
    cfg.failure_threshold = 1;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    resilience_circuit_breaker_free(b);
    CHECK(log.freed == 1);
}

int main(void) {
    test_executor_deadline();
    test_execute_ex_values_and_events();
    test_step_api_deadline();
    test_step_api_results();
    test_config_fields();
    test_step_api_nulls();
    test_timeout();
    test_breaker_events();
    return check_report("deadline_events");
}
