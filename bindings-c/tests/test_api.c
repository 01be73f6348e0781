/* Every exported function, called with good and bad input: NULL pointers,
 * zero / negative / huge values, out-of-range enum values, freeing NULL.
 * Each bad call must return its documented status, explain itself in the
 * last-error message, and leave out-parameters untouched. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

#define SENTINEL 0xC0FFEEu

/* The last failure was a configuration error of `kind` naming `parameter`. */
#define CHECK_CONFIG_ERROR(kind, parameter)                                  \
    do {                                                                     \
        CHECK_EQ_U64(resilience_last_error_kind(), (kind));                  \
        CHECK(strcmp(resilience_last_error_parameter(), (parameter)) == 0); \
    } while (0)

static void test_status_messages(void) {
    CHECK(strcmp(resilience_status_message(RESILIENCE_OK), "ok") == 0);
    CHECK(strcmp(resilience_status_message(RESILIENCE_ERR_CIRCUIT_OPEN), "circuit breaker is open") == 0);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_PANIC), "panic") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_NULL_ARGUMENT), "NULL") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_INVALID_CONFIG), "configuration") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_INVALID_ARGUMENT), "argument") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_BULKHEAD_FULL), "full") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_OPERATION_FAILED), "failed") != NULL);
    CHECK(strcmp(resilience_status_message(RESILIENCE_ERR_PERMIT_MISUSE),
                 "a permit or bulkhead slot was reported twice, to the wrong object, or never issued") == 0);
    /* Out-of-range values are not a crash. */
    CHECK(strcmp(resilience_status_message(-1), "unknown status") == 0);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_INVALID_SNAPSHOT), "malformed") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION), "newer") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_BUFFER_TOO_SMALL), "too small") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_TIMEOUT), "deadline") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_RATE_LIMITED), "rate limited") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_EXCEEDS_BURST), "burst") != NULL);
    CHECK(strstr(resilience_status_message(RESILIENCE_ERR_THROTTLED), "throttled") != NULL);
    CHECK(strcmp(resilience_status_message(16), "unknown status") == 0);
    CHECK(strcmp(resilience_status_message(INT32_MAX), "unknown status") == 0);
    /* The numeric values are ABI: pinned here. */
    CHECK(RESILIENCE_OK == 0 && RESILIENCE_ERR_NULL_ARGUMENT == 1 && RESILIENCE_ERR_INVALID_CONFIG == 2 &&
          RESILIENCE_ERR_INVALID_ARGUMENT == 3 && RESILIENCE_ERR_CIRCUIT_OPEN == 4 &&
          RESILIENCE_ERR_BULKHEAD_FULL == 5 && RESILIENCE_ERR_OPERATION_FAILED == 6 && RESILIENCE_ERR_PANIC == 7 &&
          RESILIENCE_ERR_PERMIT_MISUSE == 8 && RESILIENCE_ERR_INVALID_SNAPSHOT == 9 &&
          RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION == 10 && RESILIENCE_ERR_BUFFER_TOO_SMALL == 11 &&
          RESILIENCE_ERR_TIMEOUT == 12 && RESILIENCE_ERR_RATE_LIMITED == 13 && RESILIENCE_ERR_EXCEEDS_BURST == 14 &&
          RESILIENCE_ERR_THROTTLED == 15);
    CHECK(RESILIENCE_CONFIG_ERROR_NONE == 0 && RESILIENCE_CONFIG_ERROR_WRONG_TYPE == 1 &&
          RESILIENCE_CONFIG_ERROR_NOT_AN_INTEGER == 2 && RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER == 3 &&
          RESILIENCE_CONFIG_ERROR_TOO_SMALL == 4 && RESILIENCE_CONFIG_ERROR_TOO_LARGE == 5 &&
          RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME == 6 && RESILIENCE_CONFIG_ERROR_BELOW_OTHER == 7 &&
          RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER == 8 && RESILIENCE_CONFIG_ERROR_OTHER == 255);
    CHECK(RESILIENCE_PREDICATE_NO == 0 && RESILIENCE_PREDICATE_YES == 1 && RESILIENCE_PREDICATE_FAILED == 2);
    CHECK(strcmp(resilience_config_error_kind_name(RESILIENCE_CONFIG_ERROR_NONE), "none") == 0);
    CHECK(strcmp(resilience_config_error_kind_name(RESILIENCE_CONFIG_ERROR_TOO_SMALL), "too_small") == 0);
    CHECK(strcmp(resilience_config_error_kind_name(RESILIENCE_CONFIG_ERROR_BELOW_OTHER), "below_other") == 0);
    CHECK(strcmp(resilience_config_error_kind_name(RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER), "requires_other") == 0);
    CHECK(strcmp(resilience_config_error_kind_name(RESILIENCE_CONFIG_ERROR_OTHER), "other") == 0);
    CHECK(strcmp(resilience_config_error_kind_name(42), "unknown") == 0);
    /* The operation codes are safe in any expression (a bare -1 macro is not). */
    CHECK(1-RESILIENCE_OP_FATAL == 2 && RESILIENCE_OP_SUCCESS == 0 && RESILIENCE_OP_RETRYABLE > 0);
    CHECK(strcmp(resilience_circuit_state_name(RESILIENCE_CIRCUIT_CLOSED), "closed") == 0);
    CHECK(strcmp(resilience_circuit_state_name(RESILIENCE_CIRCUIT_OPEN), "open") == 0);
    CHECK(strcmp(resilience_circuit_state_name(RESILIENCE_CIRCUIT_HALF_OPEN), "half_open") == 0);
    CHECK(strcmp(resilience_circuit_state_name(RESILIENCE_CIRCUIT_ISOLATED), "isolated") == 0);
    CHECK(strcmp(resilience_circuit_state_name(77), "unknown") == 0);
    CHECK(RESILIENCE_CIRCUIT_CLOSED == 0 && RESILIENCE_CIRCUIT_OPEN == 1 && RESILIENCE_CIRCUIT_HALF_OPEN == 2 &&
          RESILIENCE_CIRCUIT_ISOLATED == 3);
    CHECK(RESILIENCE_REJECT_OPEN == 1 && RESILIENCE_REJECT_TRIALS_TAKEN == 2 && RESILIENCE_REJECT_ISOLATED == 3);
    CHECK(strcmp(resilience_reject_reason_name(RESILIENCE_REJECT_OPEN), "open") == 0);
    CHECK(strcmp(resilience_reject_reason_name(RESILIENCE_REJECT_TRIALS_TAKEN), "trials_taken") == 0);
    CHECK(strcmp(resilience_reject_reason_name(RESILIENCE_REJECT_ISOLATED), "isolated") == 0);
    CHECK(strcmp(resilience_reject_reason_name(0), "unknown") == 0);
    CHECK(RESILIENCE_WINDOW_TIME == 0 && RESILIENCE_WINDOW_COUNT == 1 && RESILIENCE_BACKOFF_NONE == UINT32_MAX);
}

static void test_retry_config(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = (resilience_retry_policy_t *)(uintptr_t)SENTINEL;
    int64_t codes[] = {503, 500, 503};

    CHECK(cfg.max_attempts == 3 && cfg.backoff == RESILIENCE_BACKOFF_EXPONENTIAL);
    CHECK(cfg.base_delay_ns == 1000000000LL && cfg.max_delay_ns == 60000000000LL);
    CHECK(cfg.jitter == RESILIENCE_JITTER_PROPORTIONAL && !cfg.seeded && cfg.retryable_status_codes == NULL);

    CHECK_STATUS(resilience_retry_policy_new(NULL, &p), RESILIENCE_ERR_NULL_ARGUMENT, "config must not be NULL");
    CHECK_STATUS(resilience_retry_policy_new(&cfg, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "policy_out must not be NULL");

    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NONE, ""); /* a NULL argument is no configuration error */

    /* The exact message the header's documentation quotes. */
    cfg.max_attempts = 0;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid max_attempts: must be an integer in 1..=4294967295, got 0");
    CHECK(strcmp(resilience_last_error_message(), "invalid max_attempts: must be an integer in 1..=4294967295, got 0") == 0);
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_attempts");
    cfg.max_attempts = -5;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "got -5");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_attempts");
    cfg.max_attempts = (int64_t)UINT32_MAX + 1; /* never saturated */
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "got 4294967296");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "max_attempts");
    cfg.max_attempts = INT64_MAX;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid max_attempts");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "max_attempts");
    cfg = resilience_retry_config_default();
    cfg.base_delay_ns = -1;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid base_delay_ns: must be an integer number of nanoseconds in 0..=18446744073709551615, got -1");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "base_delay_ns");
    cfg = resilience_retry_config_default();
    cfg.max_delay_ns = INT64_MIN;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid max_delay_ns");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_delay_ns");
    cfg = resilience_retry_config_default();
    cfg.base_delay_ns = 2000;
    cfg.max_delay_ns = 1000;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid max_delay_ns: must be >= base_delay_ns (2000), got 1000");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_BELOW_OTHER, "max_delay_ns");
    cfg = resilience_retry_config_default();
    cfg.backoff = 4;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid backoff: must be one of fixed, linear, exponential, fibonacci, got 4");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, "backoff");
    cfg.backoff = UINT32_MAX;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "got 4294967295");
    cfg = resilience_retry_config_default();
    cfg.jitter = 5;
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid jitter");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, "jitter");
    {
        /* Each status code through the one rule: 100..=599. */
        int64_t too_large[] = {503, 70000}, too_small[] = {-1}, below_100[] = {99};
        cfg = resilience_retry_config_default();
        cfg.retryable_status_codes = too_large;
        cfg.retryable_status_codes_len = 2;
        CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG,
                     "invalid retryable_status_codes: must be an integer in 100..=599, got 70000");
        CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "retryable_status_codes");
        cfg.retryable_status_codes = too_small;
        cfg.retryable_status_codes_len = 1;
        CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "got -1");
        CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "retryable_status_codes");
        cfg.retryable_status_codes = below_100;
        CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, "got 99");
        CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "retryable_status_codes");
    }
    cfg = resilience_retry_config_default();
    cfg.retryable_status_codes_len = 2; /* but no array */
    CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_NULL_ARGUMENT, "retryable_status_codes");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NONE, "");
    CHECK(p == (resilience_retry_policy_t *)(uintptr_t)SENTINEL); /* never written on failure */

    /* Huge but valid: max_delay of 292 years, every seed, duplicate codes. */
    cfg = resilience_retry_config_default();
    cfg.max_delay_ns = INT64_MAX;
    cfg.max_attempts = UINT32_MAX;
    cfg.retryable_status_codes = codes;
    cfg.retryable_status_codes_len = 3;
    cfg.seeded = true;
    cfg.seed = UINT64_MAX;
    p = NULL;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK(p != NULL);
    /* A success leaves the last error (and its kind) as they were. */
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NONE, "");
    resilience_retry_policy_free(p);
    {
        int64_t edges[] = {100, 599};
        cfg = resilience_retry_config_default();
        cfg.retryable_status_codes = edges;
        cfg.retryable_status_codes_len = 2;
        cfg.max_attempts = 1;
        CHECK_OK(resilience_retry_policy_new(&cfg, &p));
        resilience_retry_policy_free(p);
    }
    resilience_retry_policy_free(NULL); /* a no-op */
}

static void test_policy_functions(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    int64_t codes[] = {503};
    uint64_t ns = SENTINEL;
    bool yes = false;

    cfg.jitter = RESILIENCE_JITTER_NONE;
    cfg.base_delay_ns = 100000000; /* 100 ms */
    cfg.max_delay_ns = 1000000000; /* 1 s */
    cfg.retryable_status_codes = codes;
    cfg.retryable_status_codes_len = 1;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));

    CHECK_OK(resilience_retry_policy_calculate_delay(p, 3, &ns));
    CHECK_EQ_U64(ns, 400000000);
    CHECK_OK(resilience_retry_policy_calculate_delay(p, 10000, &ns));
    CHECK_EQ_U64(ns, 1000000000); /* saturates at max_delay, never overflows */
    CHECK_OK(resilience_retry_policy_calculate_delay(p, INT64_MIN, &ns));
    CHECK_EQ_U64(ns, 0);
    CHECK_OK(resilience_retry_policy_raw_delay(p, 2, &ns));
    CHECK_EQ_U64(ns, 200000000);
    ns = SENTINEL;
    CHECK_STATUS(resilience_retry_policy_calculate_delay(NULL, 1, &ns), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_calculate_delay(p, 1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "delay_ns_out");
    CHECK_STATUS(resilience_retry_policy_raw_delay(NULL, 1, &ns), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_raw_delay(p, 1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "delay_ns_out");
    CHECK(ns == SENTINEL);

    CHECK_OK(resilience_retry_policy_should_retry(p, 2, true, &yes));
    CHECK(yes);
    CHECK_OK(resilience_retry_policy_should_retry(p, 3, true, &yes));
    CHECK(!yes);
    CHECK_OK(resilience_retry_policy_should_retry(p, 1, false, &yes));
    CHECK(!yes);
    CHECK_STATUS(resilience_retry_policy_should_retry(NULL, 1, true, &yes), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_should_retry(p, 1, true, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "retry_out");

    CHECK_OK(resilience_retry_policy_should_retry_status(p, 503, 1, &yes));
    CHECK(yes);
    CHECK_OK(resilience_retry_policy_should_retry_status(p, 500, 1, &yes));
    CHECK(!yes);
    CHECK_OK(resilience_retry_policy_should_retry_status(p, -503, 1, &yes));
    CHECK(!yes);
    CHECK_STATUS(resilience_retry_policy_should_retry_status(NULL, 503, 1, &yes), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_should_retry_status(p, 503, 1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "retry_out");

    CHECK_OK(resilience_retry_policy_cap_retry_after(p, 5000000000ULL, &ns));
    CHECK_EQ_U64(ns, 1000000000);
    CHECK_OK(resilience_retry_policy_cap_retry_after(p, UINT64_MAX, &ns));
    CHECK_EQ_U64(ns, 1000000000);
    CHECK_STATUS(resilience_retry_policy_cap_retry_after(NULL, 1, &ns), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_policy_cap_retry_after(p, 1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "delay_ns_out");
    resilience_retry_policy_free(p);
}

static void test_seeded_jitter_is_reproducible(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *a = NULL, *b = NULL;
    int i, differs_from_raw = 0;
    cfg.seeded = true;
    cfg.seed = 42;
    CHECK_OK(resilience_retry_policy_new(&cfg, &a));
    CHECK_OK(resilience_retry_policy_new(&cfg, &b));
    for (i = 1; i <= 5; i++) {
        uint64_t da = 0, db = 0, raw = 0;
        CHECK_OK(resilience_retry_policy_calculate_delay(a, i, &da));
        CHECK_OK(resilience_retry_policy_calculate_delay(b, i, &db));
        CHECK_OK(resilience_retry_policy_raw_delay(a, i, &raw));
        CHECK_EQ_U64(da, db);
        CHECK(da >= raw / 4 * 3 && da <= raw / 4 * 5); /* proportional: [0.75, 1.25] x raw */
        differs_from_raw |= da != raw;
    }
    CHECK(differs_from_raw);
    resilience_retry_policy_free(a);
    resilience_retry_policy_free(b);
}

static void test_retry_state_bad_input(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    resilience_retry_state_t *s = (resilience_retry_state_t *)(uintptr_t)SENTINEL;
    resilience_retry_decision_t d;
    uint32_t attempt = SENTINEL;
    uint64_t total = SENTINEL;
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK_STATUS(resilience_retry_state_new(NULL, &s), RESILIENCE_ERR_NULL_ARGUMENT, "policy must not be NULL");
    CHECK_STATUS(resilience_retry_state_new(p, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "state_out");
    CHECK(s == (resilience_retry_state_t *)(uintptr_t)SENTINEL);
    CHECK_STATUS(resilience_retry_state_on_failure(NULL, true, &d), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_on_failure_with_hint(NULL, true, 1, &d), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_attempt(NULL, &attempt), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_STATUS(resilience_retry_state_total_delay(NULL, &total), RESILIENCE_ERR_NULL_ARGUMENT, "state");
    CHECK_OK(resilience_retry_state_new(p, &s));
    CHECK_STATUS(resilience_retry_state_on_failure(s, true, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "decision_out");
    CHECK_STATUS(resilience_retry_state_on_failure_with_hint(s, true, 1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "decision_out");
    CHECK_STATUS(resilience_retry_state_attempt(s, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "attempt_out");
    CHECK_STATUS(resilience_retry_state_total_delay(s, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "total_delay_ns_out");
    CHECK(attempt == SENTINEL && total == SENTINEL);
    {
        bool needs = false;
        uint64_t hint = 5;
        memset(&d, 0xAB, sizeof d);
        CHECK_STATUS(resilience_retry_state_needs_classification(NULL, &needs), RESILIENCE_ERR_NULL_ARGUMENT, "state");
        CHECK_STATUS(resilience_retry_state_needs_classification(s, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "needs_out");
        CHECK_STATUS(resilience_retry_state_on_failure_classified(NULL, RESILIENCE_PREDICATE_YES, NULL, &d),
                     RESILIENCE_ERR_NULL_ARGUMENT, "state");
        CHECK_STATUS(resilience_retry_state_on_failure_classified(s, RESILIENCE_PREDICATE_YES, &hint, NULL),
                     RESILIENCE_ERR_NULL_ARGUMENT, "decision_out");
        CHECK_STATUS(resilience_retry_state_on_failure_classified(s, 7, NULL, &d), RESILIENCE_ERR_INVALID_ARGUMENT,
                     "invalid outcome");
        CHECK(d.action == 0xABABABABu && !needs);
        CHECK_OK(resilience_retry_state_attempt(s, &attempt)); /* the refused outcome changed nothing */
        CHECK_EQ_U64(attempt, 1);
        attempt = SENTINEL;
    }
    resilience_retry_policy_free(p); /* the state keeps its policy alive */
    CHECK_OK(resilience_retry_state_attempt(s, &attempt));
    CHECK_EQ_U64(attempt, 1);
    resilience_retry_state_free(s);
    resilience_retry_state_free(NULL);
}

static int succeed(void *user_data, uint32_t attempt) {
    (void)user_data;
    (void)attempt;
    return RESILIENCE_OP_SUCCESS;
}

static void test_execute_bad_input(void) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    resilience_retry_outcome_t o;
    memset(&o, 0xAB, sizeof o);
    CHECK_OK(resilience_retry_policy_new(&cfg, &p));
    CHECK_STATUS(resilience_retry_execute(NULL, succeed, NULL, NULL, NULL, &o), RESILIENCE_ERR_NULL_ARGUMENT, "policy");
    CHECK_STATUS(resilience_retry_execute(p, NULL, NULL, NULL, NULL, &o), RESILIENCE_ERR_NULL_ARGUMENT, "op must not be NULL");
    CHECK_STATUS(resilience_retry_execute(p, succeed, NULL, NULL, NULL, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "outcome_out");
    CHECK(o.attempts == 0xABABABABu); /* untouched */
    /* NULL time source: the system sleeper (never reached: the first attempt succeeds). */
    CHECK_OK(resilience_retry_execute(p, succeed, NULL, NULL, NULL, &o));
    CHECK(o.attempts == 1 && o.last_code == 0 && o.reason == RESILIENCE_GIVE_UP_NONE && o.total_delay_ns == 0);
    resilience_retry_policy_free(p);
}

static void test_breaker_api(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = (resilience_circuit_breaker_t *)(uintptr_t)SENTINEL;
    resilience_permit_t permit = {SENTINEL};
    resilience_circuit_state_t state = SENTINEL;
    uint32_t count = SENTINEL;
    uint64_t wait = SENTINEL;
    vclock *clock = NULL;
    int finalized = 0;

    CHECK(cfg.failure_threshold == 5 && cfg.recovery_timeout_ns == 30000000000LL && cfg.half_open_max_calls == 1);
    CHECK(cfg.clock.now_ns == NULL && cfg.clock.sleep_ns == NULL && cfg.clock.free_user_data == NULL);
    {
        resilience_time_source_t system = resilience_time_source_system();
        CHECK(system.user_data == NULL && system.now_ns == NULL && system.sleep_ns == NULL &&
              system.free_user_data == NULL);
    }
    CHECK_STATUS(resilience_circuit_breaker_new(NULL, &b), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "breaker_out");
    cfg.failure_threshold = 0;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "invalid failure_threshold");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "failure_threshold");
    cfg.failure_threshold = -1;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "got -1");
    cfg.failure_threshold = (int64_t)UINT32_MAX + 2;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "got 4294967297");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "failure_threshold");
    cfg = resilience_circuit_breaker_config_default();
    cfg.half_open_max_calls = 0;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "invalid half_open_max_calls");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "half_open_max_calls");
    cfg = resilience_circuit_breaker_config_default();
    cfg.recovery_timeout_ns = -30;
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid recovery_timeout_ns: must be an integer number of nanoseconds in 0..=18446744073709551615, got -30");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "recovery_timeout_ns");
    CHECK(b == (resilience_circuit_breaker_t *)(uintptr_t)SENTINEL);

    /* A failed new leaves the clock with the caller: no finalizer runs. */
    cfg.clock = vclock_owned(&clock, &finalized);
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "recovery_timeout");
    CHECK(finalized == 0);
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 1000;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));

    CHECK_STATUS(resilience_circuit_breaker_try_acquire(NULL, &permit, &wait), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, NULL, &wait), RESILIENCE_ERR_NULL_ARGUMENT, "permit_out");
    CHECK_STATUS(resilience_circuit_breaker_record_success(NULL, permit), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_record_failure(NULL, permit), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_release(NULL, permit), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_state(NULL, &state), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_state(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "state_out");
    CHECK_STATUS(resilience_circuit_breaker_failure_count(NULL, &count), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_failure_count(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "count_out");
    CHECK_STATUS(resilience_circuit_breaker_reset(NULL), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK(permit.token == SENTINEL && state == SENTINEL && count == SENTINEL && wait == SENTINEL);

    /* Closed -> one failure opens it (threshold 1) -> rejected with the time left. */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, permit));
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_OPEN);
    CHECK_OK(resilience_circuit_breaker_failure_count(b, &count));
    CHECK_EQ_U64(count, 1);
    clock->now_ns += 400;
    permit.token = SENTINEL;
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &permit, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(wait, 600);
    CHECK(permit.token == SENTINEL);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &permit, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    /* Half-open: one trial; a forged permit changes nothing; release frees the slot. */
    clock->now_ns += 600;
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_HALF_OPEN);
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &permit, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(wait, 0);
    {
        /* Permits the breaker never issued are refused and change nothing. */
        resilience_permit_t forged = {UINT64_MAX}, zero = {0}, near = permit;
        near.token ^= (uint64_t)1 << 30; /* the same breaker's tag, another slot */
        CHECK_STATUS(resilience_circuit_breaker_record_success(b, forged), RESILIENCE_ERR_PERMIT_MISUSE, "permit");
        CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NONE, "");
        CHECK_STATUS(resilience_circuit_breaker_record_success(b, zero), RESILIENCE_ERR_PERMIT_MISUSE,
                     "issued by another circuit breaker");
        CHECK_STATUS(resilience_circuit_breaker_record_success(b, near), RESILIENCE_ERR_PERMIT_MISUSE,
                     "already reported, or was never issued");
        CHECK_STATUS(resilience_circuit_breaker_release(b, forged), RESILIENCE_ERR_PERMIT_MISUSE, "permit");
        CHECK_OK(resilience_circuit_breaker_state(b, &state));
        CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_HALF_OPEN);
        CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &forged, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    }
    {
        bool trial = false;
        CHECK_OK(resilience_permit_is_trial(permit, &trial));
        CHECK(trial); /* admitted while half-open */
        CHECK_STATUS(resilience_permit_is_trial(permit, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "is_trial_out");
    }
    CHECK_OK(resilience_circuit_breaker_release(b, permit));
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_OK(resilience_circuit_breaker_record_success(b, permit));
    {
        bool trial = true;
        CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
        CHECK_OK(resilience_permit_is_trial(permit, &trial));
        CHECK(!trial); /* closed again: a normal permit */
        CHECK_OK(resilience_circuit_breaker_record_success(b, permit));
    }
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_CLOSED);
    CHECK_OK(resilience_circuit_breaker_failure_count(b, &count));
    CHECK_EQ_U64(count, 0);
    /* reset() from open. */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &permit, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, permit));
    CHECK_OK(resilience_circuit_breaker_reset(b));
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_CLOSED);

    resilience_circuit_breaker_free(b);
    CHECK(finalized == 1);
    resilience_circuit_breaker_free(NULL);

    /* The system clock (all-NULL time source) works too. */
    cfg = resilience_circuit_breaker_config_default();
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    CHECK_OK(resilience_circuit_breaker_state(b, &state));
    CHECK_EQ_U64(state, RESILIENCE_CIRCUIT_CLOSED);
    resilience_circuit_breaker_free(b);
}

typedef struct {
    resilience_circuit_state_t seen[16][2];
    size_t count;
    int *freed;
} transitions;

static void record_transition(void *user_data, resilience_circuit_state_t from, resilience_circuit_state_t to) {
    transitions *t = user_data;
    if (t->count < 16) {
        t->seen[t->count][0] = from;
        t->seen[t->count][1] = to;
    }
    t->count++;
}

static void free_transitions(void *user_data) {
    transitions *t = user_data;
    *t->freed = 1;
    free(t);
}

/* The listener hears every change, in order, and is finalized with the breaker. */
static void test_breaker_listener(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = NULL;
    resilience_permit_t p;
    vclock *clock = NULL;
    int clock_freed = 0, listener_freed = 0;
    transitions *t = calloc(1, sizeof *t);
    CHECK(cfg.listener.user_data == NULL && cfg.listener.on_transition == NULL && cfg.listener.free_user_data == NULL);
    t->freed = &listener_freed;
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 10;
    cfg.clock = vclock_owned(&clock, &clock_freed);
    cfg.listener.user_data = t;
    cfg.listener.on_transition = record_transition;
    cfg.listener.free_user_data = free_transitions;
    cfg.half_open_max_calls = 0; /* invalid: neither finalizer may run */
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "half_open_max_calls");
    CHECK(listener_freed == 0 && clock_freed == 0);
    cfg.half_open_max_calls = 1;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));

    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL));
    CHECK_OK(resilience_circuit_breaker_record_failure(b, p)); /* closed -> open */
    clock->now_ns += 10;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL)); /* open -> half_open */
    CHECK_OK(resilience_circuit_breaker_record_failure(b, p));    /* half_open -> open */
    clock->now_ns += 10;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL)); /* open -> half_open */
    CHECK_OK(resilience_circuit_breaker_record_success(b, p));    /* half_open -> closed */
    CHECK_OK(resilience_circuit_breaker_reset(b));                /* already closed: no change */
    CHECK_EQ_U64(t->count, 5);
    CHECK(t->seen[0][0] == RESILIENCE_CIRCUIT_CLOSED && t->seen[0][1] == RESILIENCE_CIRCUIT_OPEN);
    CHECK(t->seen[1][0] == RESILIENCE_CIRCUIT_OPEN && t->seen[1][1] == RESILIENCE_CIRCUIT_HALF_OPEN);
    CHECK(t->seen[2][0] == RESILIENCE_CIRCUIT_HALF_OPEN && t->seen[2][1] == RESILIENCE_CIRCUIT_OPEN);
    CHECK(t->seen[3][0] == RESILIENCE_CIRCUIT_OPEN && t->seen[3][1] == RESILIENCE_CIRCUIT_HALF_OPEN);
    CHECK(t->seen[4][0] == RESILIENCE_CIRCUIT_HALF_OPEN && t->seen[4][1] == RESILIENCE_CIRCUIT_CLOSED);
    resilience_circuit_breaker_free(b);
    CHECK(listener_freed == 1 && clock_freed == 1);
}

static void test_bulkhead_api(void) {
    resilience_bulkhead_config_t cfg = resilience_bulkhead_config_default();
    resilience_bulkhead_t *b = (resilience_bulkhead_t *)(uintptr_t)SENTINEL;
    resilience_bulkhead_admission_t a, queued;
    resilience_bulkhead_handoff_t h;
    resilience_bulkhead_stats_t st = {SENTINEL, SENTINEL};
    resilience_bulkhead_cancellation_t c;
    resilience_bulkhead_slot_t waiter_slot = {SENTINEL};
    resilience_bulkhead_ticket_t unknown = {SENTINEL};
    uint64_t timeout = SENTINEL;
    memset(&a, 0xAB, sizeof a);
    memset(&h, 0xAB, sizeof h);
    memset(&c, 0xAB, sizeof c);

    CHECK(cfg.max_concurrent == 10 && cfg.max_queue_size == 100 && cfg.timeout_ns == 30000000000LL);
    CHECK_STATUS(resilience_bulkhead_new(NULL, &b), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_bulkhead_new(&cfg, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead_out");
    cfg.max_concurrent = 0;
    CHECK_STATUS(resilience_bulkhead_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "invalid max_concurrent");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_concurrent");
    cfg = resilience_bulkhead_config_default();
    cfg.max_queue_size = -1;
    CHECK_STATUS(resilience_bulkhead_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid max_queue_size: must be an integer in 0..=4294967295, got -1");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_queue_size");
    cfg = resilience_bulkhead_config_default();
    cfg.max_queue_size = (int64_t)UINT32_MAX + 1;
    CHECK_STATUS(resilience_bulkhead_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "invalid max_queue_size");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "max_queue_size");
    cfg = resilience_bulkhead_config_default();
    cfg.timeout_ns = -1;
    CHECK_STATUS(resilience_bulkhead_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, "invalid timeout_ns");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "timeout_ns");
    CHECK(b == (resilience_bulkhead_t *)(uintptr_t)SENTINEL);

    cfg = resilience_bulkhead_config_default();
    cfg.max_concurrent = 1;
    cfg.max_queue_size = 1;
    cfg.timeout_ns = 5;
    CHECK_OK(resilience_bulkhead_new(&cfg, &b));
    CHECK_STATUS(resilience_bulkhead_try_acquire(NULL, &a), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead");
    CHECK_STATUS(resilience_bulkhead_try_acquire(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "admission_out");
    CHECK_STATUS(resilience_bulkhead_release(NULL, a.slot, &h), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead");
    CHECK_STATUS(resilience_bulkhead_release(b, a.slot, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "handoff_out");
    CHECK_STATUS(resilience_bulkhead_cancel(NULL, unknown, &c), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead");
    CHECK_STATUS(resilience_bulkhead_cancel(b, unknown, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "cancellation_out");
    CHECK_STATUS(resilience_bulkhead_ticket_slot(unknown, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "slot_out");
    CHECK_STATUS(resilience_bulkhead_stats(NULL, &st), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead");
    CHECK_STATUS(resilience_bulkhead_stats(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "stats_out");
    CHECK_STATUS(resilience_bulkhead_timeout(NULL, &timeout), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead");
    CHECK_STATUS(resilience_bulkhead_timeout(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "timeout_ns_out");
    CHECK(a.admission == 0xABABABABu && h.ticket.id == 0xABABABABABABABABull && st.active == SENTINEL &&
          c.outcome == 0xABABABABu && timeout == SENTINEL);

    CHECK_OK(resilience_bulkhead_timeout(b, &timeout));
    CHECK_EQ_U64(timeout, 5);
    CHECK_OK(resilience_bulkhead_try_acquire(b, &a));
    CHECK_EQ_U64(a.admission, RESILIENCE_ADMISSION_ACQUIRED);
    CHECK(a.slot.id != 0 && a.ticket.id == 0);
    CHECK_OK(resilience_bulkhead_try_acquire(b, &queued));
    CHECK_EQ_U64(queued.admission, RESILIENCE_ADMISSION_QUEUED);
    CHECK(queued.slot.id == 0 && queued.ticket.id != 0 && queued.ticket.id != a.slot.id);
    {
        resilience_bulkhead_admission_t full = queued;
        CHECK_STATUS(resilience_bulkhead_try_acquire(b, &full), RESILIENCE_ERR_BULKHEAD_FULL, NULL);
        CHECK(full.admission == queued.admission && full.ticket.id == queued.ticket.id); /* untouched */
    }
    CHECK_OK(resilience_bulkhead_stats(b, &st));
    CHECK(st.active == 1 && st.queued == 1);
    /* An unknown ticket, and a slot the waiter does not hold yet, are refused. */
    unknown.id = queued.ticket.id + 1;
    CHECK_STATUS(resilience_bulkhead_cancel(b, unknown, &c), RESILIENCE_ERR_PERMIT_MISUSE, "not held");
    CHECK_OK(resilience_bulkhead_ticket_slot(queued.ticket, &waiter_slot));
    CHECK(waiter_slot.id == queued.ticket.id); /* a granted ticket becomes its slot */
    CHECK_STATUS(resilience_bulkhead_release(b, waiter_slot, &h), RESILIENCE_ERR_PERMIT_MISUSE, "not held");
    CHECK(c.outcome == 0xABABABABu && h.ticket.id == 0xABABABABABABABABull);
    CHECK_OK(resilience_bulkhead_stats(b, &st));
    CHECK(st.active == 1 && st.queued == 1);

    CHECK_OK(resilience_bulkhead_release(b, a.slot, &h)); /* hands the slot to the waiter */
    CHECK(h.granted && h.ticket.id == queued.ticket.id);
    CHECK_OK(resilience_bulkhead_cancel(b, queued.ticket, &c)); /* it timed out just after */
    CHECK_EQ_U64(c.outcome, RESILIENCE_CANCEL_ALREADY_GRANTED);
    CHECK(c.slot.id == waiter_slot.id);
    CHECK_OK(resilience_bulkhead_try_acquire(b, &queued));
    CHECK_OK(resilience_bulkhead_cancel(b, queued.ticket, &c));
    CHECK_EQ_U64(c.outcome, RESILIENCE_CANCEL_WITHDRAWN);
    CHECK(c.slot.id == 0);
    CHECK_STATUS(resilience_bulkhead_cancel(b, queued.ticket, &c), RESILIENCE_ERR_PERMIT_MISUSE, "not held");
    CHECK_OK(resilience_bulkhead_release(b, waiter_slot, &h));
    CHECK(!h.granted && h.ticket.id == 0);
    CHECK_OK(resilience_bulkhead_stats(b, &st));
    CHECK(st.active == 0 && st.queued == 0);
    resilience_bulkhead_free(b);
    resilience_bulkhead_free(NULL);
}

static void test_fallback_api(void) {
    resilience_fallback_t *f = (resilience_fallback_t *)(uintptr_t)SENTINEL;
    resilience_fallback_step_t step = {SENTINEL, SENTINEL};
    CHECK_STATUS(resilience_fallback_new(2, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "fallback_out");
    CHECK(f == (resilience_fallback_t *)(uintptr_t)SENTINEL);
    CHECK_OK(resilience_fallback_new(2, &f));
    CHECK_STATUS(resilience_fallback_on_primary_error(NULL, true, &step), RESILIENCE_ERR_NULL_ARGUMENT, "fallback");
    CHECK_STATUS(resilience_fallback_on_primary_error(f, true, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "step_out");
    CHECK_STATUS(resilience_fallback_on_fallback_error(NULL, &step), RESILIENCE_ERR_NULL_ARGUMENT, "fallback");
    CHECK_STATUS(resilience_fallback_on_fallback_error(f, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "step_out");
    CHECK(step.action == SENTINEL);
    CHECK_OK(resilience_fallback_on_primary_error(f, true, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_CALL && step.index == 0);
    CHECK_OK(resilience_fallback_on_fallback_error(f, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_CALL && step.index == 1);
    CHECK_OK(resilience_fallback_on_fallback_error(f, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_RAISE);
    CHECK_OK(resilience_fallback_on_primary_error(f, false, &step)); /* unexpected: raise at once */
    CHECK(step.action == RESILIENCE_FALLBACK_RAISE);
    resilience_fallback_free(f);
    /* A filter's answer, including "it failed" (not expected: no fallback). */
    CHECK_OK(resilience_fallback_new(2, &f));
    step.action = SENTINEL;
    CHECK_STATUS(resilience_fallback_on_primary_error_classified(NULL, RESILIENCE_PREDICATE_YES, &step),
                 RESILIENCE_ERR_NULL_ARGUMENT, "fallback");
    CHECK_STATUS(resilience_fallback_on_primary_error_classified(f, RESILIENCE_PREDICATE_YES, NULL),
                 RESILIENCE_ERR_NULL_ARGUMENT, "step_out");
    CHECK_STATUS(resilience_fallback_on_primary_error_classified(f, 3, &step), RESILIENCE_ERR_INVALID_ARGUMENT,
                 "invalid outcome: must be RESILIENCE_PREDICATE_NO (0), RESILIENCE_PREDICATE_YES (1) or "
                 "RESILIENCE_PREDICATE_FAILED (2), got 3");
    CHECK(step.action == SENTINEL);
    CHECK_OK(resilience_fallback_on_primary_error_classified(f, RESILIENCE_PREDICATE_FAILED, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_RAISE);
    CHECK_OK(resilience_fallback_on_primary_error_classified(f, RESILIENCE_PREDICATE_NO, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_RAISE);
    CHECK_OK(resilience_fallback_on_primary_error_classified(f, RESILIENCE_PREDICATE_YES, &step));
    CHECK(step.action == RESILIENCE_FALLBACK_CALL && step.index == 0);
    resilience_fallback_free(f);
    resilience_fallback_free(NULL);
    /* Huge counts are fine: the chain only counts. */
    CHECK_OK(resilience_fallback_new(SIZE_MAX, &f));
    CHECK_OK(resilience_fallback_on_primary_error(f, true, &step));
    CHECK(step.index == 0);
    resilience_fallback_free(f);
}

static void test_retry_after_and_durations(void) {
    const uint64_t now = 784111777ULL * 1000000000ULL; /* Sun, 06 Nov 1994 08:49:37 GMT */
    uint64_t wait = SENTINEL;
    int64_t ns = 7;
    CHECK_OK(resilience_parse_retry_after("120", now, &wait));
    CHECK_EQ_U64(wait, 120000000000ULL);
    CHECK_OK(resilience_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now, &wait));
    CHECK_EQ_U64(wait, 10000000000ULL);
    wait = SENTINEL;
    CHECK_STATUS(resilience_parse_retry_after("soon", now, &wait), RESILIENCE_ERR_INVALID_ARGUMENT,
                 "invalid header: \"soon\" is neither delta-seconds nor an HTTP-date");
    CHECK_STATUS(resilience_parse_retry_after("\xff\xfe", now, &wait), RESILIENCE_ERR_INVALID_ARGUMENT, "not UTF-8");
    CHECK_STATUS(resilience_parse_retry_after(NULL, now, &wait), RESILIENCE_ERR_NULL_ARGUMENT, "header");
    CHECK_STATUS(resilience_parse_retry_after("1", now, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "wait_ns_out");
    CHECK(wait == SENTINEL);

    CHECK_OK(resilience_duration_from_secs(1.5, &ns));
    CHECK(ns == 1500000000LL);
    CHECK_OK(resilience_duration_from_secs(0.1, &ns));
    CHECK(ns == 100000000LL); /* exact: the same 100 ms as Python's 0.1 */
    CHECK_OK(resilience_duration_from_millis(0.25, &ns));
    CHECK(ns == 250000LL);
    ns = 7;
    CHECK_STATUS(resilience_duration_from_secs(NAN, &ns), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid secs: must be a duration of at most 18446744073.709551615s, got NaN");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, "secs");
    CHECK_STATUS(resilience_duration_from_secs(-0.5, &ns), RESILIENCE_ERR_INVALID_CONFIG, "got -0.5");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "secs");
    CHECK_STATUS(resilience_duration_from_secs(INFINITY, &ns), RESILIENCE_ERR_INVALID_CONFIG, "got inf");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "secs");
    CHECK_STATUS(resilience_duration_from_secs(1e300, &ns), RESILIENCE_ERR_INVALID_CONFIG, "got 1e+300");
    CHECK(strlen(resilience_last_error_message()) < 100); /* short whatever the value */
    /* Within the rule's 584 years, beyond what an int64_t of nanoseconds holds. */
    CHECK_STATUS(resilience_duration_from_secs(1e10, &ns), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid secs: must be a duration of at most 9223372036.854775807s");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_LARGE, "secs");
    CHECK_STATUS(resilience_duration_from_millis(-INFINITY, &ns), RESILIENCE_ERR_INVALID_CONFIG, "invalid millis");
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_TOO_SMALL, "millis");
    CHECK_STATUS(resilience_duration_from_millis(1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "ns_out");
    CHECK_STATUS(resilience_duration_from_secs(1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "ns_out");
    CHECK(ns == 7);
}

static void test_last_error_is_per_call(void) {
    /* Successes leave the message alone; the next failure replaces it. */
    resilience_fallback_t *f = NULL;
    CHECK_STATUS(resilience_fallback_new(1, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "fallback_out");
    CHECK_OK(resilience_fallback_new(1, &f));
    CHECK(strstr(resilience_last_error_message(), "fallback_out") != NULL);
    CHECK_STATUS(resilience_bulkhead_stats(NULL, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "bulkhead must not be NULL");
    resilience_fallback_free(f);
}

static void test_version(void) {
    char macros[64];
    snprintf(macros, sizeof macros, "%d.%d.%d", RESILIENCE_VERSION_MAJOR, RESILIENCE_VERSION_MINOR,
             RESILIENCE_VERSION_PATCH);
    CHECK(resilience_version() != NULL);
    CHECK(strcmp(resilience_version(), macros) == 0); /* the header matches the library */
    CHECK(resilience_version() == resilience_version()); /* static */
}

int main(void) {
    CHECK(strcmp(resilience_last_error_message(), "") == 0); /* nothing failed yet */
    CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_NONE, "");
    test_version();
    test_status_messages();
    test_retry_config();
    test_policy_functions();
    test_seeded_jitter_is_reproducible();
    test_retry_state_bad_input();
    test_execute_bad_input();
    test_breaker_api();
    test_breaker_listener();
    test_bulkhead_api();
    test_fallback_api();
    test_retry_after_and_durations();
    test_last_error_is_per_call();
    return check_report("api");
}
