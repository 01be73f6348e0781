/* The grown-up breaker through the C ABI (issue 9): the failure-rate and
 * slow-call rules, break backoff, isolate/close, rejection reasons, metrics,
 * snapshots to a caller's buffer and breakers built back from them.
 *
 * Every entry point with NULLs and bad values: the documented status, the
 * kind and field of a configuration error, out-parameters untouched on
 * failure, ownership of the clock and listener left with the caller when
 * nothing was built. Virtual time throughout. (Run plain, under valgrind and
 * under ASan/UBSan by make test-c.) */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/vclock.h"

#define MS 1000000LL
#define SENTINEL ((resilience_circuit_breaker_t *)(uintptr_t)0xC0FFEE)

/* The last failure was a configuration error of `kind` naming `field`. */
#define CHECK_CONFIG_ERROR(kind, field)                                  \
    do {                                                                 \
        CHECK_EQ_U64(resilience_last_error_kind(), (kind));              \
        CHECK(strcmp(resilience_last_error_parameter(), (field)) == 0); \
    } while (0)

static void count_call(void *user_data) {
    ++*(int *)user_data;
}

/* `cfg` is refused with a configuration error of `kind` naming `field`,
 * writing no breaker and taking neither the clock's nor the listener's
 * user data. */
static void check_refused(resilience_circuit_breaker_config_t cfg, resilience_config_error_kind_t kind, const char *field) {
    resilience_circuit_breaker_t *b = SENTINEL;
    int clock_freed = 0, listener_freed = 0;
    char prefix[64];
    cfg.clock.user_data = &clock_freed;
    cfg.clock.free_user_data = count_call;
    cfg.listener.user_data = &listener_freed;
    cfg.listener.free_user_data = count_call;
    snprintf(prefix, sizeof prefix, "invalid %s:", field);
    CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, prefix);
    CHECK(strncmp(resilience_last_error_message(), prefix, strlen(prefix)) == 0);
    CHECK_CONFIG_ERROR(kind, field);
    CHECK(b == SENTINEL && clock_freed == 0 && listener_freed == 0);
}

static void check_built(resilience_circuit_breaker_config_t cfg) {
    resilience_circuit_breaker_t *b = NULL;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    CHECK(b != NULL);
    resilience_circuit_breaker_free(b);
}

static resilience_circuit_breaker_config_t rate_config(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    cfg.failure_ratio = 0.5;
    return cfg;
}

static void test_config_defaults_and_rules(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    /* Core's defaults; every opt-in rule off. */
    CHECK(cfg.failure_ratio == 0.0 && cfg.minimum_throughput == 100 && cfg.window_kind == RESILIENCE_WINDOW_TIME);
    CHECK(cfg.sampling_duration_ns == 30000 * MS && cfg.sampling_buckets == 10 && cfg.window_size == 0);
    CHECK(cfg.slow_call_duration_ns == 0 && cfg.slow_call_ratio == 0.0);
    CHECK(cfg.break_backoff == RESILIENCE_BACKOFF_NONE && cfg.max_recovery_timeout_ns == 0);

    /* The trip rule's ratio: a double, so NaN and the infinities reach core's rule. */
    cfg = rate_config();
    cfg.failure_ratio = NAN;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, "failure_ratio");
    cfg.failure_ratio = -0.25;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "failure_ratio");
    CHECK(strcmp(resilience_last_error_message(), "invalid failure_ratio: must be a number in (0, 1], got -0.25") == 0);
    cfg.failure_ratio = 1.0000001;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "failure_ratio");
    cfg.failure_ratio = INFINITY;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "failure_ratio");
    cfg.failure_ratio = -INFINITY;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "failure_ratio");
    cfg.failure_ratio = 1.0;
    check_built(cfg);
    cfg.failure_ratio = 4.9e-324; /* the smallest double above 0 */
    check_built(cfg);

    cfg = rate_config();
    cfg.minimum_throughput = 0;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "minimum_throughput");
    cfg.minimum_throughput = (int64_t)UINT32_MAX + 1;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "minimum_throughput");

    /* The time window. */
    cfg = rate_config();
    cfg.sampling_buckets = 0;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "sampling_buckets");
    cfg.sampling_buckets = 1001;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "sampling_buckets");
    cfg.sampling_buckets = 1000;
    check_built(cfg);
    cfg.sampling_duration_ns = -1;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "sampling_duration_ns");
    cfg.sampling_duration_ns = 999; /* each of 1000 buckets needs at least 1 ns */
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "sampling_duration_ns");
    cfg.sampling_duration_ns = 1000;
    check_built(cfg);

    /* The count window: no default size. */
    cfg = rate_config();
    cfg.window_kind = RESILIENCE_WINDOW_COUNT;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "window_size");
    cfg.window_size = 1000001;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "window_size");
    cfg.window_size = 1;
    check_built(cfg);
    cfg.window_kind = 2;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, "window_kind");
    CHECK(strcmp(resilience_last_error_message(), "invalid window_kind: must be one of time, count, got 2") == 0);

    /* The slow-call rule needs the failure-rate rule: core's rule names the
     * duration, spelled as the C field. */
    cfg = resilience_circuit_breaker_config_default();
    cfg.slow_call_ratio = 0.5;
    cfg.slow_call_duration_ns = 100 * MS;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER, "slow_call_duration_ns");
    CHECK(strcmp(resilience_last_error_message(),
                 "invalid slow_call_duration_ns: must be set together with failure_ratio") == 0);
    cfg.failure_ratio = 0.5;
    check_built(cfg);
    cfg.slow_call_ratio = NAN;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER, "slow_call_ratio");
    cfg.slow_call_ratio = 2;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_LARGE, "slow_call_ratio");
    cfg.slow_call_ratio = 1;
    cfg.slow_call_duration_ns = -1;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "slow_call_duration_ns");

    /* The break backoff: a strategy and a cap >= the recovery timeout. */
    cfg = resilience_circuit_breaker_config_default();
    cfg.break_backoff = RESILIENCE_BACKOFF_EXPONENTIAL;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_BELOW_OTHER, "max_recovery_timeout_ns");
    cfg.max_recovery_timeout_ns = -1;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_TOO_SMALL, "max_recovery_timeout_ns");
    cfg.max_recovery_timeout_ns = cfg.recovery_timeout_ns;
    check_built(cfg);
    cfg.break_backoff = 4;
    check_refused(cfg, RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, "break_backoff");
    CHECK(strstr(resilience_last_error_message(), "one of fixed, linear, exponential, fibonacci") != NULL);

    /* The fields of the rule not selected are not read. */
    cfg = resilience_circuit_breaker_config_default();
    cfg.minimum_throughput = 0;
    cfg.window_kind = 99;
    cfg.sampling_buckets = -1;
    cfg.slow_call_duration_ns = -1; /* no slow_call_ratio */
    cfg.max_recovery_timeout_ns = -1; /* no break_backoff */
    check_built(cfg);
    cfg = rate_config();
    cfg.failure_threshold = 0;
    check_built(cfg);

    /* A retry needs a strategy: NONE is only for break_backoff. */
    {
        resilience_retry_config_t rc = resilience_retry_config_default();
        resilience_retry_policy_t *p = NULL;
        rc.backoff = RESILIENCE_BACKOFF_NONE;
        CHECK_STATUS(resilience_retry_policy_new(&rc, &p), RESILIENCE_ERR_INVALID_CONFIG, "invalid backoff");
        CHECK_CONFIG_ERROR(RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME, "backoff");
        CHECK(p == NULL);
    }
}

/* A breaker on a virtual clock it owns (finalizer counted in *freed). */
static resilience_circuit_breaker_t *make(resilience_circuit_breaker_config_t cfg, vclock **clock, int *freed) {
    resilience_circuit_breaker_t *b = NULL;
    cfg.clock = vclock_owned(clock, freed);
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    return b;
}

/* One call through `b` taking `ms` of virtual time; 1 = success, 0 = failure. */
static resilience_status_t call(resilience_circuit_breaker_t *b, vclock *clock, int ok, int64_t ms) {
    resilience_permit_t p;
    resilience_status_t st = resilience_circuit_breaker_try_acquire(b, &p, NULL);
    if (st != RESILIENCE_OK) return st;
    clock->now_ns += ms * MS;
    return ok ? resilience_circuit_breaker_record_success(b, p) : resilience_circuit_breaker_record_failure(b, p);
}

static resilience_circuit_breaker_metrics_t metrics(const resilience_circuit_breaker_t *b) {
    resilience_circuit_breaker_metrics_t m;
    memset(&m, 0xAB, sizeof m);
    CHECK_OK(resilience_circuit_breaker_metrics(b, &m));
    return m;
}

static resilience_circuit_state_t state_of(const resilience_circuit_breaker_t *b) {
    resilience_circuit_state_t s = 99;
    CHECK_OK(resilience_circuit_breaker_state(b, &s));
    return s;
}

static void test_failure_rate_and_reasons(void) {
    resilience_circuit_breaker_config_t cfg = rate_config();
    resilience_circuit_breaker_t *b;
    resilience_circuit_breaker_metrics_t m;
    resilience_rejection_t why = {0xAB, 0xAB};
    resilience_permit_t p = {0xAB}, trial;
    vclock *clock = NULL;
    int freed = 0, i;
    cfg.minimum_throughput = 4;
    cfg.window_kind = RESILIENCE_WINDOW_COUNT;
    cfg.window_size = 10;
    cfg.recovery_timeout_ns = 1000 * MS;
    b = make(cfg, &clock, &freed);
    /* Below the minimum throughput, even all failures do not trip. */
    for (i = 0; i < 3; i++) CHECK_OK(call(b, clock, 0, 0));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);
    m = metrics(b);
    CHECK(m.window_calls == 3 && m.window_failures == 3 && m.failure_ratio == 1.0 && m.consecutive_failures == 3);
    /* The fourth call: 4 calls, 3 failed >= 0.5 of them, on a success? A
     * success never trips; the next failure does. */
    CHECK_OK(call(b, clock, 1, 0));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);
    CHECK_OK(call(b, clock, 0, 0));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_OPEN);
    m = metrics(b);
    CHECK(m.openings == 1 && m.window_calls == 5 && m.window_failures == 4 && m.failure_ratio == 0.8);
    CHECK(m.break_ns == 1000 * MS && m.time_in_state_ns == 0 && m.rejections == 0);

    /* try_acquire_ex: the reason and the time left; no permit. */
    clock->now_ns += 250 * MS;
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(NULL, &p, &why), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, NULL, &why), RESILIENCE_ERR_NULL_ARGUMENT, "permit_out");
    CHECK(why.reason == 0xAB && why.retry_after_ns == 0xAB && p.token == 0xAB);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, &p, &why), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK(why.reason == RESILIENCE_REJECT_OPEN && why.retry_after_ns == 750 * MS && p.token == 0xAB);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, &p, NULL), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    m = metrics(b);
    CHECK(m.rejections == 2 && m.time_in_state_ns == 250 * MS);
    /* Half-open: one trial; the next caller is told the trials are taken. */
    clock->now_ns += 750 * MS;
    memset(&why, 0xAB, sizeof why);
    CHECK_OK(resilience_circuit_breaker_try_acquire_ex(b, &trial, &why));
    CHECK(why.reason == 0xABABABABu); /* written only on a rejection */
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, &p, &why), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK(why.reason == RESILIENCE_REJECT_TRIALS_TAKEN && why.retry_after_ns == 0);
    CHECK_OK(resilience_circuit_breaker_record_success(b, trial));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);
    m = metrics(b);
    CHECK(m.window_calls == 0 && m.failure_ratio == 0.0 && m.consecutive_failures == 0); /* closing clears the window */
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

static void test_slow_calls_and_time_window(void) {
    resilience_circuit_breaker_config_t cfg = rate_config();
    resilience_circuit_breaker_t *b;
    resilience_circuit_breaker_metrics_t m;
    vclock *clock = NULL;
    int freed = 0;
    cfg.failure_ratio = 1;
    cfg.minimum_throughput = 2;
    cfg.sampling_duration_ns = 1000 * MS;
    cfg.sampling_buckets = 10;
    cfg.slow_call_duration_ns = 100 * MS;
    cfg.slow_call_ratio = 0.5;
    cfg.recovery_timeout_ns = 1000 * MS;
    b = make(cfg, &clock, &freed);
    CHECK_OK(call(b, clock, 1, 100)); /* exactly the duration: not slow */
    m = metrics(b);
    CHECK(m.window_calls == 1 && m.window_slow_calls == 0);
    CHECK_OK(call(b, clock, 1, 101)); /* slow: 1 of 2 >= 0.5 */
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_OPEN);
    m = metrics(b);
    CHECK(m.window_slow_calls == 1 && m.slow_call_ratio == 0.5 && m.failure_ratio == 0.0 && m.openings == 1);
    /* A slow trial re-opens; a fast one closes. */
    clock->now_ns += 1000 * MS;
    CHECK_OK(call(b, clock, 1, 500));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_OPEN);
    CHECK_EQ_U64(metrics(b).consecutive_failures, 0); /* slow, not failed */
    clock->now_ns += 1000 * MS;
    CHECK_OK(call(b, clock, 1, 10));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);
    /* A time window forgets: a gap longer than the window empties it. */
    CHECK_OK(call(b, clock, 0, 0));
    CHECK_EQ_U64(metrics(b).window_calls, 1);
    clock->now_ns += 1001 * MS;
    m = metrics(b);
    CHECK(m.window_calls == 0 && m.window_failures == 0);
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

static void test_break_backoff(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b;
    vclock *clock = NULL;
    int freed = 0, i;
    const int64_t breaks[] = {1000, 2000, 4000, 5000, 5000};
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 1000 * MS;
    cfg.break_backoff = RESILIENCE_BACKOFF_EXPONENTIAL;
    cfg.max_recovery_timeout_ns = 5000 * MS;
    b = make(cfg, &clock, &freed);
    CHECK_EQ_U64(metrics(b).break_ns, 1000 * MS);
    CHECK_OK(call(b, clock, 0, 0));
    for (i = 0; i < 5; i++) {
        uint64_t wait = 0;
        resilience_permit_t p;
        CHECK_EQ_U64(metrics(b).break_ns, breaks[i] * MS);
        CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &p, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
        CHECK_EQ_U64(wait, breaks[i] * MS);
        clock->now_ns += breaks[i] * MS;
        CHECK_OK(call(b, clock, 0, 0)); /* the trial fails: a longer break */
    }
    CHECK_EQ_U64(metrics(b).openings, 6);
    /* Closing starts over. */
    clock->now_ns += 5000 * MS;
    CHECK_OK(call(b, clock, 1, 0));
    CHECK_EQ_U64(metrics(b).break_ns, 1000 * MS);
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

typedef struct {
    resilience_circuit_state_t seen[8][2];
    size_t count;
} transitions;

static void record_transition(void *user_data, resilience_circuit_state_t from, resilience_circuit_state_t to) {
    transitions *t = user_data;
    if (t->count < 8) {
        t->seen[t->count][0] = from;
        t->seen[t->count][1] = to;
    }
    t->count++;
}

static void test_isolate_and_close(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b;
    resilience_rejection_t why;
    resilience_permit_t p, trial;
    transitions t;
    uint64_t wait = 0;
    vclock *clock = NULL;
    int freed = 0;
    memset(&t, 0, sizeof t);
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 1000 * MS;
    cfg.listener.user_data = &t;
    cfg.listener.on_transition = record_transition;
    b = make(cfg, &clock, &freed);
    CHECK_STATUS(resilience_circuit_breaker_isolate(NULL), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_close(NULL), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");

    /* A permit out when isolated decides nothing when it comes back. */
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &p, NULL));
    CHECK_OK(resilience_circuit_breaker_isolate(b));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_ISOLATED);
    CHECK_OK(resilience_circuit_breaker_record_failure(b, p));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_ISOLATED);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire_ex(b, &p, &why), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK(why.reason == RESILIENCE_REJECT_ISOLATED && why.retry_after_ns == UINT64_MAX);
    clock->now_ns += INT64_MAX / 2; /* time alone never ends an isolation */
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(b, &p, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(wait, UINT64_MAX);
    CHECK_EQ_U64(metrics(b).state, RESILIENCE_CIRCUIT_ISOLATED);
    CHECK_OK(resilience_circuit_breaker_isolate(b)); /* again: no change, no event */
    CHECK_OK(resilience_circuit_breaker_close(b));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);

    /* Isolating a half-open breaker: its trial decides nothing; close() closes. */
    CHECK_OK(call(b, clock, 0, 0));
    clock->now_ns += 1000 * MS;
    CHECK_OK(resilience_circuit_breaker_try_acquire(b, &trial, NULL));
    CHECK_OK(resilience_circuit_breaker_isolate(b));
    CHECK_OK(resilience_circuit_breaker_record_success(b, trial));
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_ISOLATED);
    CHECK_OK(resilience_circuit_breaker_reset(b)); /* reset() also ends an isolation */
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_CLOSED);
    CHECK_OK(resilience_circuit_breaker_close(b)); /* closing a closed breaker: no event */

    {
        const resilience_circuit_state_t want[][2] = {
            {RESILIENCE_CIRCUIT_CLOSED, RESILIENCE_CIRCUIT_ISOLATED},  {RESILIENCE_CIRCUIT_ISOLATED, RESILIENCE_CIRCUIT_CLOSED},
            {RESILIENCE_CIRCUIT_CLOSED, RESILIENCE_CIRCUIT_OPEN},      {RESILIENCE_CIRCUIT_OPEN, RESILIENCE_CIRCUIT_HALF_OPEN},
            {RESILIENCE_CIRCUIT_HALF_OPEN, RESILIENCE_CIRCUIT_ISOLATED}, {RESILIENCE_CIRCUIT_ISOLATED, RESILIENCE_CIRCUIT_CLOSED},
        };
        size_t i;
        CHECK_EQ_U64(t.count, 6);
        for (i = 0; i < 6 && i < t.count; i++) CHECK(t.seen[i][0] == want[i][0] && t.seen[i][1] == want[i][1]);
    }
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

static void test_metrics_api(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b;
    resilience_circuit_breaker_metrics_t m;
    vclock *clock = NULL;
    int freed = 0;
    b = make(cfg, &clock, &freed);
    memset(&m, 0xAB, sizeof m);
    CHECK_STATUS(resilience_circuit_breaker_metrics(NULL, &m), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_metrics(b, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "metrics_out");
    CHECK(m.openings == 0xABABABABABABABABull); /* untouched */
    /* The consecutive rule has no window: its counts read 0. */
    clock->now_ns = 42 * MS;
    CHECK_OK(call(b, clock, 0, 0));
    m = metrics(b);
    CHECK(m.state == RESILIENCE_CIRCUIT_CLOSED && m.consecutive_failures == 1 && m.window_calls == 0 &&
          m.window_failures == 0 && m.window_slow_calls == 0 && m.failure_ratio == 0.0 && m.slow_call_ratio == 0.0);
    CHECK(m.rejections == 0 && m.openings == 0 && m.time_in_state_ns == 42 * MS && m.break_ns == 30000 * MS);
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

/* ---- snapshots ------------------------------------------------------------ */

static void test_snapshot_buffer(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b;
    char buf[512];
    size_t len = 7, need = 0, i;
    vclock *clock = NULL;
    int freed = 0;
    b = make(cfg, &clock, &freed);
    memset(buf, 'Z', sizeof buf);
    CHECK_STATUS(resilience_circuit_breaker_snapshot(NULL, buf, sizeof buf, &len), RESILIENCE_ERR_NULL_ARGUMENT, "breaker");
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, buf, sizeof buf, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "len_out");
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, NULL, 10, &len), RESILIENCE_ERR_NULL_ARGUMENT, "buf");
    CHECK(len == 7 && buf[0] == 'Z');
    /* The length first (NULL, 0), as with snprintf. */
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, NULL, 0, &need), RESILIENCE_ERR_BUFFER_TOO_SMALL, "bytes");
    CHECK(need > 0 && need < sizeof buf);
    CHECK_EQ_U64(resilience_last_error_kind(), RESILIENCE_CONFIG_ERROR_NONE);
    /* Room for the document but not its NUL: too small, buffer untouched. */
    len = 0;
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, buf, need, &len), RESILIENCE_ERR_BUFFER_TOO_SMALL, "NUL");
    CHECK_EQ_U64(len, need);
    for (i = 0; i < sizeof buf; i++) CHECK(buf[i] == 'Z');
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, buf, 1, &len), RESILIENCE_ERR_BUFFER_TOO_SMALL, NULL);
    CHECK(buf[0] == 'Z');
    /* Exactly the length plus one: the document and a NUL, nothing past it. */
    len = 0;
    CHECK_OK(resilience_circuit_breaker_snapshot(b, buf, need + 1, &len));
    CHECK_EQ_U64(len, need);
    CHECK_EQ_U64(strlen(buf), need);
    CHECK(buf[need + 1] == 'Z');
    CHECK(strncmp(buf, "{\"format\":\"resilience.circuit_breaker\",\"version\":1,\"state\":\"closed\"", 66) == 0);
    CHECK_OK(resilience_circuit_breaker_snapshot(b, buf, sizeof buf, &len));
    CHECK_EQ_U64(len, need);
    resilience_circuit_breaker_free(b);
    CHECK(freed == 1);
}

/* The breaker's document, malloc'd. */
static char *snapshot_of(const resilience_circuit_breaker_t *b, size_t *len) {
    char *buf;
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, NULL, 0, len), RESILIENCE_ERR_BUFFER_TOO_SMALL, NULL);
    buf = malloc(*len + 1);
    if (buf) CHECK_OK(resilience_circuit_breaker_snapshot(b, buf, *len + 1, len));
    return buf;
}

/* A worker restarts: its breaker comes back from the snapshot, on a new
 * clock whose readings have nothing to do with the old one's. */
static void test_snapshot_across_a_restart(void) {
    resilience_circuit_breaker_config_t cfg = rate_config();
    resilience_circuit_breaker_t *b, *restored = NULL;
    resilience_circuit_breaker_metrics_t m;
    resilience_permit_t p;
    transitions t;
    uint64_t wait = 0;
    vclock *clock = NULL, *clock2 = NULL;
    int freed = 0, freed2 = 0, listener_freed = 0, i;
    size_t len = 0;
    char *document;
    cfg.minimum_throughput = 4;
    cfg.sampling_duration_ns = 1000 * MS;
    cfg.sampling_buckets = 10;
    cfg.recovery_timeout_ns = 30000 * MS;
    cfg.break_backoff = RESILIENCE_BACKOFF_LINEAR;
    cfg.max_recovery_timeout_ns = 600000 * MS;
    b = make(cfg, &clock, &freed);
    clock->now_ns = 1000000000 * MS; /* the old process's clock: 11.6 days in */
    for (i = 0; i < 4; i++) CHECK_OK(call(b, clock, i == 0, 0)); /* 3 of 4 failed: opens */
    CHECK_EQ_U64(state_of(b), RESILIENCE_CIRCUIT_OPEN);
    clock->now_ns += 10000 * MS;
    document = snapshot_of(b, &len);
    if (!document) return;
    CHECK(strstr(document, "\"state\":\"open\"") && strstr(document, "\"break_remaining_ms\":20000"));
    resilience_circuit_breaker_free(b); /* the process exits */
    CHECK(freed == 1);

    /* The new process: its clock starts near 0. */
    memset(&t, 0, sizeof t);
    cfg.clock = vclock_owned(&clock2, &freed2);
    clock2->now_ns = 5 * MS;
    cfg.listener.user_data = &t;
    cfg.listener.on_transition = record_transition;
    CHECK_STATUS(resilience_circuit_breaker_new_from_snapshot(NULL, document, len, &restored), RESILIENCE_ERR_NULL_ARGUMENT, "config");
    CHECK_STATUS(resilience_circuit_breaker_new_from_snapshot(&cfg, NULL, len, &restored), RESILIENCE_ERR_NULL_ARGUMENT, "document");
    CHECK_STATUS(resilience_circuit_breaker_new_from_snapshot(&cfg, document, len, NULL), RESILIENCE_ERR_NULL_ARGUMENT, "breaker_out");
    CHECK(restored == NULL && freed2 == 0);
    CHECK_OK(resilience_circuit_breaker_new_from_snapshot(&cfg, document, len, &restored));
    free(document);
    if (!restored) return;
    /* Still open for the rest of its break, measured on the new clock. */
    CHECK_EQ_U64(state_of(restored), RESILIENCE_CIRCUIT_OPEN);
    CHECK_STATUS(resilience_circuit_breaker_try_acquire(restored, &p, &wait), RESILIENCE_ERR_CIRCUIT_OPEN, NULL);
    CHECK_EQ_U64(wait, 20000 * MS);
    m = metrics(restored);
    /* The window aged out before the snapshot. A new clock that reads less
     * than the break already served (5 ms < 10 s) cannot place the opening
     * in its past: core counts the rest of the break (20 s) from now, and
     * still reports the break at its full length (30 s). */
    CHECK(m.consecutive_failures == 3 && m.break_ns == 30000 * MS && m.window_calls == 0);
    clock2->now_ns += 20000 * MS;
    CHECK_EQ_U64(state_of(restored), RESILIENCE_CIRCUIT_HALF_OPEN);
    /* Its break backoff continued: a failed trial opens for the second break (60 s). */
    CHECK_OK(call(restored, clock2, 0, 0));
    CHECK_EQ_U64(metrics(restored).break_ns, 60000 * MS);
    /* The listener came along. */
    CHECK_EQ_U64(t.count, 2);
    CHECK(t.seen[1][0] == RESILIENCE_CIRCUIT_HALF_OPEN && t.seen[1][1] == RESILIENCE_CIRCUIT_OPEN);

    /* An isolated breaker stays isolated across a restart; a window of the same shape comes back. */
    CHECK_OK(resilience_circuit_breaker_close(restored));
    CHECK_OK(call(restored, clock2, 0, 0));
    CHECK_OK(call(restored, clock2, 1, 0));
    CHECK_OK(resilience_circuit_breaker_isolate(restored));
    document = snapshot_of(restored, &len);
    resilience_circuit_breaker_free(restored);
    CHECK(freed2 == 1);
    if (!document) return;
    {
        resilience_circuit_breaker_t *again = NULL;
        vclock *clock3 = NULL;
        int freed3 = 0;
        cfg.clock = vclock_owned(&clock3, &freed3);
        cfg.listener.user_data = &listener_freed;
        cfg.listener.on_transition = NULL;
        cfg.listener.free_user_data = count_call;
        CHECK_OK(resilience_circuit_breaker_new_from_snapshot(&cfg, document, len, &again));
        CHECK_EQ_U64(state_of(again), RESILIENCE_CIRCUIT_ISOLATED);
        m = metrics(again);
        CHECK(m.window_calls == 2 && m.window_failures == 1 && m.rejections == 0 && m.openings == 0);
        /* A differently shaped window starts empty (not an error). */
        {
            resilience_circuit_breaker_config_t other = cfg;
            resilience_circuit_breaker_t *counted = NULL;
            other.window_kind = RESILIENCE_WINDOW_COUNT;
            other.window_size = 5;
            other.clock = resilience_time_source_system();
            other.listener.free_user_data = NULL;
            CHECK_OK(resilience_circuit_breaker_new_from_snapshot(&other, document, len, &counted));
            CHECK_EQ_U64(state_of(counted), RESILIENCE_CIRCUIT_ISOLATED);
            CHECK_EQ_U64(metrics(counted).window_calls, 0);
            resilience_circuit_breaker_free(counted);
        }
        resilience_circuit_breaker_free(again);
        CHECK(freed3 == 1 && listener_freed == 1);
    }
    free(document);
}

/* `document` (`len` bytes) is refused with `want`: no breaker written, the
 * clock's and the listener's user data left with the caller. */
static void check_unreadable(const char *document, size_t len, resilience_status_t want, const char *fragment) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b = SENTINEL;
    int clock_freed = 0, listener_freed = 0;
    cfg.clock.user_data = &clock_freed;
    cfg.clock.free_user_data = count_call;
    cfg.listener.user_data = &listener_freed;
    cfg.listener.free_user_data = count_call;
    CHECK_STATUS(resilience_circuit_breaker_new_from_snapshot(&cfg, document, len, &b), want, fragment);
    CHECK_EQ_U64(resilience_last_error_kind(), RESILIENCE_CONFIG_ERROR_NONE);
    CHECK(b == SENTINEL && clock_freed == 0 && listener_freed == 0);
}

static void test_unreadable_snapshots(void) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *b, *restored = SENTINEL;
    vclock *clock = NULL;
    int freed = 0;
    size_t len = 0, cut;
    char *document, *copy;
    static const char future[] =
        "{\"format\":\"resilience.circuit_breaker\",\"version\":2,\"state\":\"open\",\"consecutive_failures\":1,"
        "\"openings_in_a_row\":1,\"break_ms\":1,\"break_remaining_ms\":1,\"window\":null}";
    static const char bad_utf8[] = "{\"format\":\"resilience.circuit_breaker\xff\"}";

    cfg.failure_threshold = 1;
    b = make(cfg, &clock, &freed);
    CHECK_OK(call(b, clock, 0, 0)); /* open */
    document = snapshot_of(b, &len);
    resilience_circuit_breaker_free(b);
    if (!document) return;

    check_unreadable("", 0, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed circuit breaker snapshot");
    check_unreadable("not json", 8, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed");
    check_unreadable("{}", 2, RESILIENCE_ERR_INVALID_SNAPSHOT, "\"format\"");
    check_unreadable("null", 4, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed");
    check_unreadable(bad_utf8, sizeof bad_utf8 - 1, RESILIENCE_ERR_INVALID_SNAPSHOT, "not UTF-8");
    check_unreadable(future, sizeof future - 1, RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION, "version 2 is newer");
    /* Truncated anywhere: never a breaker (and never a closed one). The cut
     * copies live in their own allocation, so ASan sees any read past `cut`. */
    for (cut = 0; cut < len; cut++) {
        copy = malloc(cut + 1);
        if (!copy) break;
        memcpy(copy, document, cut);
        check_unreadable(copy, cut, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed");
        free(copy);
    }
    /* A NUL inside the counted bytes is not JSON either. */
    copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, document, len + 1);
        check_unreadable(copy, len + 1, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed");
        free(copy);
    }
    /* The configuration is checked first, as resilience_circuit_breaker_new() does. */
    cfg = resilience_circuit_breaker_config_default();
    cfg.half_open_max_calls = 0;
    CHECK_STATUS(resilience_circuit_breaker_new_from_snapshot(&cfg, "x", 1, &restored), RESILIENCE_ERR_INVALID_CONFIG,
                 "invalid half_open_max_calls");
    CHECK(restored == SENTINEL);
    /* The whole document restores (the loop above was not refusing everything). */
    cfg = resilience_circuit_breaker_config_default();
    CHECK_OK(resilience_circuit_breaker_new_from_snapshot(&cfg, document, len, &restored));
    CHECK_EQ_U64(state_of(restored), RESILIENCE_CIRCUIT_OPEN);
    resilience_circuit_breaker_free(restored);
    free(document);
}

int main(void) {
    test_config_defaults_and_rules();
    test_failure_rate_and_reasons();
    test_slow_calls_and_time_window();
    test_break_backoff();
    test_isolate_and_close();
    test_metrics_api();
    test_snapshot_buffer();
    test_snapshot_across_a_restart();
    test_unreadable_snapshots();
    return check_report("breaker window");
}
