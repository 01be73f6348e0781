/* The blocking executor and the step API on virtual time: the executor
 * sleeps through the injected sleeper, reports attempts and the last code;
 * the step API answers "retry after N ns" or "give up". */
#include <stdint.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

typedef struct {
    int codes[8]; /* what attempt k returns */
    uint32_t calls;
    uint32_t retried[8];
    int retried_code[8];
    uint64_t retried_delay[8];
    uint32_t retries;
    vclock *clock;
    int64_t started_at[8];
} flaky;

static int flaky_op(void *user_data, uint32_t attempt) {
    flaky *f = user_data;
    if (attempt >= 1 && attempt <= 8) f->started_at[attempt - 1] = f->clock->now_ns;
    f->calls++;
    return attempt >= 1 && attempt <= 8 ? f->codes[attempt - 1] : RESILIENCE_OP_FATAL;
}

static void flaky_on_retry(void *user_data, uint32_t attempt, int code, uint64_t delay_ns) {
    flaky *f = user_data;
    if (f->retries < 8) {
        f->retried[f->retries] = attempt;
        f->retried_code[f->retries] = code;
        f->retried_delay[f->retries] = delay_ns;
    }
    f->retries++;
}

static resilience_retry_policy_t *fixed_policy(int64_t attempts) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    cfg.max_attempts = attempts;
    cfg.jitter = RESILIENCE_JITTER_NONE;
    cfg.base_delay_ns = 100;
    cfg.max_delay_ns = 1000;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    return p;
}

static void test_two_failures_then_success(void) {
    resilience_retry_policy_t *p = fixed_policy(3);
    vclock clock;
    resilience_time_source_t time;
    flaky f;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&f, 0, sizeof f);
    f.clock = &clock;
    f.codes[0] = 7;
    f.codes[1] = RESILIENCE_OP_RETRYABLE;
    f.codes[2] = RESILIENCE_OP_SUCCESS;
    time = vclock_borrowed(&clock);
    CHECK_OK(resilience_retry_execute(p, flaky_op, flaky_on_retry, &f, &time, &o));
    CHECK(o.attempts == 3 && o.last_code == 0 && o.reason == RESILIENCE_GIVE_UP_NONE);
    CHECK_EQ_U64(o.total_delay_ns, 300); /* exponential: 100 + 200 */
    CHECK_EQ_U64(clock.sleep_count, 2);
    CHECK(clock.sleeps[0] == 100 && clock.sleeps[1] == 200);
    CHECK(f.started_at[1] == 100 && f.started_at[2] == 300); /* each attempt after its sleep */
    CHECK(f.retries == 2 && f.retried[0] == 1 && f.retried_code[0] == 7 && f.retried_delay[0] == 100);
    CHECK(f.retried[1] == 2 && f.retried_code[1] == 1 && f.retried_delay[1] == 200);
    resilience_retry_policy_free(p);
}

static void test_exhausted_and_fatal(void) {
    resilience_retry_policy_t *p = fixed_policy(2);
    vclock clock;
    resilience_time_source_t time;
    flaky f;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&f, 0, sizeof f);
    f.clock = &clock;
    f.codes[0] = 11;
    f.codes[1] = 12;
    time = vclock_borrowed(&clock);
    CHECK_STATUS(resilience_retry_execute(p, flaky_op, NULL, &f, &time, &o), RESILIENCE_ERR_OPERATION_FAILED,
                 "gave up after 2 attempt(s) (exhausted), last code 12");
    CHECK(o.attempts == 2 && o.last_code == 12 && o.reason == RESILIENCE_GIVE_UP_EXHAUSTED && f.calls == 2);

    memset(&f, 0, sizeof f);
    f.clock = &clock;
    clock.sleep_count = 0;
    f.codes[0] = -42;
    CHECK_STATUS(resilience_retry_execute(p, flaky_op, flaky_on_retry, &f, &time, &o),
                 RESILIENCE_ERR_OPERATION_FAILED, "(not_retryable), last code -42");
    CHECK(o.attempts == 1 && o.last_code == -42 && o.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
    CHECK(clock.sleep_count == 0 && f.retries == 0);
    resilience_retry_policy_free(p);
}

static void test_step_api(void) {
    resilience_retry_policy_t *p = fixed_policy(3);
    resilience_retry_state_t *s = NULL;
    resilience_retry_decision_t d;
    uint32_t attempt = 0;
    uint64_t total = 0;
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_on_failure(s, true, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 1 && d.delay_ns == 100 &&
          d.reason == RESILIENCE_GIVE_UP_NONE);
    /* A server asked for 500 ns: honoured (under the 1000 ns cap). */
    CHECK_OK(resilience_retry_state_on_failure_with_hint(s, true, 500, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 2 && d.delay_ns == 500);
    CHECK_OK(resilience_retry_state_attempt(s, &attempt));
    CHECK_EQ_U64(attempt, 3);
    CHECK_OK(resilience_retry_state_total_delay(s, &total));
    CHECK_EQ_U64(total, 600);
    CHECK_OK(resilience_retry_state_on_failure(s, true, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.attempt == 3 && d.reason == RESILIENCE_GIVE_UP_EXHAUSTED &&
          d.delay_ns == 0);
    resilience_retry_state_free(s);

    /* A not-retryable failure gives up at once; a huge hint is capped. */
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_on_failure_with_hint(s, true, UINT64_MAX, &d));
    CHECK(d.delay_ns == 1000);
    CHECK_OK(resilience_retry_state_on_failure(s, false, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.attempt == 2 && d.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);
}

/* The lazy filter: core says when to classify; the last attempt's failure
 * never is, and a filter that failed means "not retryable". */
static void test_step_api_classification(void) {
    resilience_retry_policy_t *p = fixed_policy(3);
    resilience_retry_state_t *s = NULL;
    resilience_retry_decision_t d;
    bool needs = false;
    uint64_t hint = 700;
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_needs_classification(s, &needs));
    CHECK(needs);
    CHECK_OK(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_YES, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 1 && d.delay_ns == 100);
    CHECK_OK(resilience_retry_state_needs_classification(s, &needs));
    CHECK(needs);
    CHECK_OK(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_YES, &hint, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_RETRY && d.attempt == 2 && d.delay_ns == 700); /* the hint wins */
    CHECK_OK(resilience_retry_state_needs_classification(s, &needs));
    CHECK(!needs); /* attempt 3 of 3: its failure is never classified */
    CHECK_OK(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_FAILED, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_EXHAUSTED && d.attempt == 3);
    resilience_retry_state_free(s);

    /* A filter that fails (or says no) before the last attempt: not retryable. */
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_FAILED, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE && d.attempt == 1);
    resilience_retry_state_free(s);
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_OK(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_NO, NULL, &d));
    CHECK(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE);
    resilience_retry_state_free(s);
    resilience_retry_policy_free(p);
}

/* resilience_retry_execute: the code is the classification, and the last
 * attempt's code is never consulted (a fatal code there is "exhausted"). */
static void test_fatal_on_the_last_attempt_is_exhausted(void) {
    resilience_retry_policy_t *p = fixed_policy(2);
    vclock clock;
    resilience_time_source_t time;
    flaky f;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&f, 0, sizeof f);
    f.clock = &clock;
    f.codes[0] = RESILIENCE_OP_RETRYABLE;
    f.codes[1] = -9;
    time = vclock_borrowed(&clock);
    CHECK_STATUS(resilience_retry_execute(p, flaky_op, NULL, &f, &time, &o), RESILIENCE_ERR_OPERATION_FAILED,
                 "(exhausted), last code -9");
    CHECK(o.attempts == 2 && o.last_code == -9 && o.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
    resilience_retry_policy_free(p);
}

/* A NULL time source means the system sleeper; zero delays keep the test
 * free of real waiting while still going through it. */
static void test_system_sleeper_with_zero_delays(void) {
    resilience_retry_policy_t *p = NULL;
    resilience_retry_config_t cfg = resilience_retry_config_default();
    vclock clock;
    flaky f;
    resilience_retry_outcome_t o;
    memset(&clock, 0, sizeof clock);
    memset(&f, 0, sizeof f);
    f.clock = &clock;
    f.codes[0] = RESILIENCE_OP_RETRYABLE;
    cfg.base_delay_ns = 0;
    cfg.max_delay_ns = 0;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK_OK(resilience_retry_execute(p, flaky_op, flaky_on_retry, &f, NULL, &o));
    CHECK(o.attempts == 2 && o.total_delay_ns == 0 && f.retries == 1 && f.retried_delay[0] == 0);
    resilience_retry_policy_free(p);
}

int main(void) {
    test_two_failures_then_success();
    test_exhausted_and_fatal();
    test_step_api();
    test_step_api_classification();
    test_fatal_on_the_last_attempt_is_exhausted();
    test_system_sleeper_with_zero_delays();
    return check_report("retry");
}
