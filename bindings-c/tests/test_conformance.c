/* Runs every conformance vector in tests/conformance/ through the C ABI.
 * Usage: test_conformance DIR. An unknown kind, op or key fails the run. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/json.h"
#include "support/vclock.h"

#define NS_PER_MS 1000000LL

static const char *current_case = "";

static void case_failed(const char *what) {
    check_failures++;
    fprintf(stderr, "case \"%s\": %s\n", current_case, what);
}

static int str_eq(const json_value *v, const char *s) {
    return v && v->type == JSON_STRING && strcmp(v->string, s) == 0;
}

/* ---- configuration ------------------------------------------------------ */

/* An unknown name maps to a value outside every constant, as a C caller
 * passing a bad enum value would. */
static uint32_t backoff_from_name(const char *name) {
    if (strcmp(name, "fixed") == 0) return RESILIENCE_BACKOFF_FIXED;
    if (strcmp(name, "linear") == 0) return RESILIENCE_BACKOFF_LINEAR;
    if (strcmp(name, "exponential") == 0) return RESILIENCE_BACKOFF_EXPONENTIAL;
    if (strcmp(name, "fibonacci") == 0) return RESILIENCE_BACKOFF_FIBONACCI;
    return 0xBAD;
}

static uint32_t jitter_from_name(const char *name) {
    if (strcmp(name, "none") == 0) return RESILIENCE_JITTER_NONE;
    if (strcmp(name, "proportional") == 0) return RESILIENCE_JITTER_PROPORTIONAL;
    if (strcmp(name, "full") == 0) return RESILIENCE_JITTER_FULL;
    if (strcmp(name, "equal") == 0) return RESILIENCE_JITTER_EQUAL;
    if (strcmp(name, "decorrelated") == 0) return RESILIENCE_JITTER_DECORRELATED;
    return 0xBAD;
}

/* A JSON number, or one of the strings "NaN", "Infinity", "-Infinity". */
static int number_of(const json_value *v, double *out) {
    if (v && v->type == JSON_NUMBER) { *out = v->number; return 1; }
    if (str_eq(v, "NaN")) { *out = NAN; return 1; }
    if (str_eq(v, "Infinity")) { *out = INFINITY; return 1; }
    if (str_eq(v, "-Infinity")) { *out = -INFINITY; return 1; }
    return 0;
}

typedef enum { CONV_OK, CONV_REJECTED, CONV_MALFORMED } conversion;

/* Milliseconds from a vector into a config's int64_t nanoseconds. A value no
 * int64_t can hold (NaN, an infinity, more than 292 years) goes through the
 * library's one float entry point, resilience_duration_from_millis(), which
 * must reject it, saying why. */
static conversion ms_to_ns(const json_value *v, int64_t *ns) {
    double ms;
    if (!number_of(v, &ms)) return CONV_MALFORMED;
    if (isfinite(ms) && ms == floor(ms) && fabs(ms) < 9e12) { *ns = (int64_t)ms * NS_PER_MS; return CONV_OK; }
    if (resilience_duration_from_millis(ms, ns) == RESILIENCE_OK) return CONV_OK;
    CHECK_STATUS(resilience_duration_from_millis(ms, ns), RESILIENCE_ERR_INVALID_CONFIG,
                 isfinite(ms) && ms >= 0 ? "must be at most 9223372036854775807 ns" : "must be a finite number >= 0");
    return CONV_REJECTED;
}

static conversion count_of(const json_value *v, int64_t *n) {
    if (!json_is_integer(v)) return CONV_MALFORMED;
    *n = (int64_t)v->number;
    return CONV_OK;
}

/* Fills `cfg` from a vector's policy object. Returns CONV_MALFORMED on an
 * unknown key (so a new field can never be ignored silently). */
static conversion retry_config_from(const json_value *p, resilience_retry_config_t *cfg, uint16_t *codes) {
    size_t i;
    *cfg = resilience_retry_config_default();
    for (i = 0; p && i < p->count; i++) {
        const char *k = p->keys[i];
        const json_value *v = p->items[i];
        conversion c = CONV_OK;
        if (strcmp(k, "max_attempts") == 0) c = count_of(v, &cfg->max_attempts);
        else if (strcmp(k, "backoff") == 0 && v->type == JSON_STRING) cfg->backoff = backoff_from_name(v->string);
        else if (strcmp(k, "jitter") == 0 && v->type == JSON_STRING) cfg->jitter = jitter_from_name(v->string);
        else if (strcmp(k, "base_delay_ms") == 0) c = ms_to_ns(v, &cfg->base_delay_ns);
        else if (strcmp(k, "max_delay_ms") == 0) c = ms_to_ns(v, &cfg->max_delay_ns);
        else if (strcmp(k, "seed") == 0 && json_is_integer(v)) { cfg->seeded = true; cfg->seed = (uint64_t)v->number; }
        else if (strcmp(k, "retryable_status_codes") == 0 && v->type == JSON_ARRAY && v->count <= 64) {
            size_t j;
            for (j = 0; j < v->count; j++) codes[j] = (uint16_t)v->items[j]->number;
            cfg->retryable_status_codes = codes;
            cfg->retryable_status_codes_len = v->count;
        } else {
            fprintf(stderr, "unknown or malformed policy key %s\n", k);
            return CONV_MALFORMED;
        }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

static conversion breaker_config_from(const json_value *p, resilience_circuit_breaker_config_t *cfg) {
    size_t i;
    *cfg = resilience_circuit_breaker_config_default();
    for (i = 0; p && i < p->count; i++) {
        const char *k = p->keys[i];
        conversion c;
        if (strcmp(k, "failure_threshold") == 0) c = count_of(p->items[i], &cfg->failure_threshold);
        else if (strcmp(k, "half_open_max_calls") == 0) c = count_of(p->items[i], &cfg->half_open_max_calls);
        else if (strcmp(k, "recovery_timeout_ms") == 0) c = ms_to_ns(p->items[i], &cfg->recovery_timeout_ns);
        else { fprintf(stderr, "unknown breaker key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

static conversion bulkhead_config_from(const json_value *p, resilience_bulkhead_config_t *cfg) {
    size_t i;
    *cfg = resilience_bulkhead_config_default();
    for (i = 0; p && i < p->count; i++) {
        const char *k = p->keys[i];
        conversion c;
        if (strcmp(k, "max_concurrent") == 0) c = count_of(p->items[i], &cfg->max_concurrent);
        else if (strcmp(k, "max_queue_size") == 0) c = count_of(p->items[i], &cfg->max_queue_size);
        else if (strcmp(k, "timeout_ms") == 0) c = ms_to_ns(p->items[i], &cfg->timeout_ns);
        else { fprintf(stderr, "unknown bulkhead key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

static resilience_retry_policy_t *policy_from(const json_value *p) {
    resilience_retry_config_t cfg;
    uint16_t codes[64];
    resilience_retry_policy_t *policy = NULL;
    if (retry_config_from(p, &cfg, codes) != CONV_OK) { case_failed("bad policy object"); return NULL; }
    if (resilience_retry_policy_new(&cfg, &policy) != RESILIENCE_OK) {
        case_failed(resilience_last_error_message());
        return NULL;
    }
    return policy;
}

/* ---- kinds -------------------------------------------------------------- */

static void run_delays(const json_value *c) {
    const json_value *attempts = json_get(c, "attempts"), *expected = json_get(c, "expected_ns");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    size_t i;
    if (!policy || !attempts || !expected || attempts->count != expected->count) { case_failed("malformed"); goto out; }
    for (i = 0; i < attempts->count; i++) {
        uint64_t got = 0;
        CHECK_OK(resilience_retry_policy_calculate_delay(policy, (int64_t)attempts->items[i]->number, &got));
        if (got != (uint64_t)expected->items[i]->number) {
            fprintf(stderr, "attempt %.0f: got %llu ns, want %.0f\n", attempts->items[i]->number,
                    (unsigned long long)got, expected->items[i]->number);
            case_failed("delay differs");
        }
    }
out:
    resilience_retry_policy_free(policy);
}

typedef struct {
    const json_value *outcomes;
    size_t calls;
    int beyond_script;
    uint32_t on_retry_attempt[64];
    uint64_t on_retry_delay[64];
    size_t on_retry_count;
} script;

/* Attempt k returns a code unique to it, so the surfaced last_code proves
 * which attempt's failure came back (C's notion of "the same error"). */
static int scripted_op(void *user_data, uint32_t attempt) {
    script *s = user_data;
    const json_value *o = json_at(s->outcomes, s->calls);
    s->calls++;
    if (attempt != s->calls) s->beyond_script = 1;
    if (!o) { s->beyond_script = 1; return RESILIENCE_OP_FATAL; }
    if (str_eq(o, "ok")) return RESILIENCE_OP_SUCCESS;
    if (str_eq(o, "retryable")) return 100 + (int)attempt;
    if (str_eq(o, "fatal")) return -(100 + (int)attempt);
    s->beyond_script = 1;
    return RESILIENCE_OP_FATAL;
}

static void record_retry(void *user_data, uint32_t attempt, int code, uint64_t delay_ns) {
    script *s = user_data;
    (void)code;
    if (s->on_retry_count < 64) {
        s->on_retry_attempt[s->on_retry_count] = attempt;
        s->on_retry_delay[s->on_retry_count] = delay_ns;
    }
    s->on_retry_count++;
}

static void run_retry(const json_value *c) {
    const json_value *expected = json_get(c, "expected");
    const json_value *sleeps = json_get(expected, "sleeps_ns"), *hooks = json_get(expected, "on_retry");
    const json_value *reason = json_get(expected, "reason");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    script s;
    vclock clock;
    resilience_time_source_t time;
    resilience_retry_outcome_t outcome;
    resilience_status_t status;
    uint32_t want_reason;
    size_t i;
    memset(&s, 0, sizeof s);
    memset(&clock, 0, sizeof clock);
    s.outcomes = json_get(c, "outcomes");
    time = vclock_borrowed(&clock);
    if (!policy || !expected || !sleeps || !hooks || !s.outcomes) { case_failed("malformed"); goto out; }
    status = resilience_retry_execute(policy, scripted_op, record_retry, &s, &time, &outcome);
    if (s.beyond_script) case_failed("the operation ran beyond its script");
    if (str_eq(json_get(expected, "result"), "ok")) CHECK(status == RESILIENCE_OK);
    else if (str_eq(json_get(expected, "result"), "error")) {
        const json_value *last = json_at(s.outcomes, s.calls - 1);
        CHECK(status == RESILIENCE_ERR_OPERATION_FAILED);
        CHECK(outcome.last_code == (str_eq(last, "fatal") ? -(100 + (int)s.calls) : 100 + (int)s.calls));
    } else case_failed("unknown result");
    CHECK_EQ_U64(outcome.attempts, json_get(expected, "attempts")->number);
    CHECK_EQ_U64(s.calls, json_get(expected, "attempts")->number);
    want_reason = str_eq(reason, "exhausted")       ? RESILIENCE_GIVE_UP_EXHAUSTED
                  : str_eq(reason, "not_retryable") ? RESILIENCE_GIVE_UP_NOT_RETRYABLE
                  : reason && reason->type == JSON_NULL ? RESILIENCE_GIVE_UP_NONE
                                                     : 0xBAD;
    CHECK_EQ_U64(outcome.reason, want_reason);
    CHECK_EQ_U64(clock.sleep_count, sleeps->count);
    for (i = 0; i < sleeps->count && i < clock.sleep_count; i++) CHECK_EQ_U64(clock.sleeps[i], sleeps->items[i]->number);
    CHECK_EQ_U64(s.on_retry_count, hooks->count);
    for (i = 0; i < hooks->count && i < s.on_retry_count; i++) {
        CHECK_EQ_U64(s.on_retry_attempt[i], json_at(hooks->items[i], 0)->number);
        CHECK_EQ_U64(s.on_retry_delay[i], json_at(hooks->items[i], 1)->number);
    }
    {
        uint64_t total = 0;
        for (i = 0; i < clock.sleep_count && i < VCLOCK_MAX_SLEEPS; i++) total += clock.sleeps[i];
        CHECK_EQ_U64(outcome.total_delay_ns, total);
    }
out:
    resilience_retry_policy_free(policy);
}

/* The step API fed each failure (with its Retry-After hint, if any). */
static void run_retry_state(const json_value *c) {
    const json_value *failures = json_get(c, "failures");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    resilience_retry_state_t *state = NULL;
    size_t i;
    if (!policy || !failures || failures->type != JSON_ARRAY) { case_failed("malformed"); goto out; }
    CHECK_OK(resilience_retry_state_new(policy, &state));
    for (i = 0; state && i < failures->count; i++) {
        const json_value *f = failures->items[i], *hint = json_get(f, "retry_after_ms"), *expect = json_get(f, "expect");
        const json_value *retry_ns = json_get(expect, "retry_ns"), *give_up = json_get(expect, "give_up");
        const json_value *retryable = json_get(f, "retryable");
        resilience_retry_decision_t d;
        if (!retryable || retryable->type != JSON_BOOL || !expect || (!retry_ns && !give_up)) {
            case_failed("malformed failure");
            break;
        }
        if (hint && hint->type != JSON_NULL) {
            int64_t hint_ns = 0;
            if (ms_to_ns(hint, &hint_ns) != CONV_OK) { case_failed("bad retry_after_ms"); break; }
            CHECK_OK(resilience_retry_state_on_failure_with_hint(state, retryable->boolean != 0, (uint64_t)hint_ns, &d));
        } else {
            CHECK_OK(resilience_retry_state_on_failure(state, retryable->boolean != 0, &d));
        }
        if (retry_ns) {
            CHECK_EQ_U64(d.action, RESILIENCE_RETRY_ACTION_RETRY);
            CHECK_EQ_U64(d.delay_ns, retry_ns->number);
            CHECK_EQ_U64(d.attempt, i + 1);
        } else {
            CHECK_EQ_U64(d.action, RESILIENCE_RETRY_ACTION_GIVE_UP);
            CHECK_EQ_U64(d.reason, str_eq(give_up, "exhausted")       ? RESILIENCE_GIVE_UP_EXHAUSTED
                                   : str_eq(give_up, "not_retryable") ? RESILIENCE_GIVE_UP_NOT_RETRYABLE
                                                                      : 0xBAD);
        }
    }
out:
    resilience_retry_state_free(state);
    resilience_retry_policy_free(policy);
}

static void run_decisions(const json_value *c) {
    const json_value *sr = json_get(c, "should_retry"), *srs = json_get(c, "should_retry_status");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    size_t i;
    if (!policy) return;
    for (i = 0; sr && i < sr->count; i++) {
        const json_value *d = sr->items[i];
        bool got = false;
        CHECK_OK(resilience_retry_policy_should_retry(policy, (int64_t)json_get(d, "attempt")->number,
                                                      json_get(d, "retryable")->boolean != 0, &got));
        if (got != (json_get(d, "expected")->boolean != 0)) case_failed("should_retry differs");
    }
    for (i = 0; srs && i < srs->count; i++) {
        const json_value *d = srs->items[i];
        bool got = false;
        CHECK_OK(resilience_retry_policy_should_retry_status(policy, (int64_t)json_get(d, "status")->number,
                                                             (int64_t)json_get(d, "attempt")->number, &got));
        if (got != (json_get(d, "expected")->boolean != 0)) case_failed("should_retry_status differs");
    }
    resilience_retry_policy_free(policy);
}

static void run_retry_after(const json_value *c) {
    const json_value *expected = json_get(c, "expected_ns"), *header = json_get(c, "header");
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *policy = NULL;
    uint64_t wait = 0, capped = 0;
    resilience_status_t status;
    if (!header || header->type != JSON_STRING || !expected) { case_failed("malformed"); return; }
    cfg.base_delay_ns = 0;
    if (ms_to_ns(json_get(c, "max_delay_ms"), &cfg.max_delay_ns) != CONV_OK) { case_failed("bad max_delay_ms"); return; }
    CHECK_OK(resilience_retry_policy_new(&cfg, &policy));
    status = resilience_parse_retry_after(header->string,
                                          (uint64_t)json_get(c, "now_unix_s")->number * 1000000000ULL, &wait);
    if (expected->type == JSON_NULL) {
        CHECK_STATUS(status, RESILIENCE_ERR_INVALID_ARGUMENT, "neither delta-seconds nor an HTTP-date");
    } else {
        CHECK(status == RESILIENCE_OK);
        CHECK_OK(resilience_retry_policy_cap_retry_after(policy, wait, &capped));
        CHECK_EQ_U64(capped, expected->number);
    }
    resilience_retry_policy_free(policy);
}

/* Held permits and bulkhead tickets, by the vector's id. */
typedef struct {
    char id[32];
    uint64_t value;
} named;

static named *find_named(named *table, size_t *n, const char *id, int create) {
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp(table[i].id, id) == 0) return &table[i];
    if (!create || *n >= 64) return NULL;
    snprintf(table[*n].id, sizeof table[*n].id, "%s", id);
    return &table[(*n)++];
}

static const char *finish(resilience_circuit_breaker_t *b, resilience_permit_t p, const json_value *outcome) {
    if (str_eq(outcome, "success")) { CHECK_OK(resilience_circuit_breaker_record_success(b, p)); return "ok"; }
    if (str_eq(outcome, "failure")) { CHECK_OK(resilience_circuit_breaker_record_failure(b, p)); return "error"; }
    if (str_eq(outcome, "ignored")) { CHECK_OK(resilience_circuit_breaker_release(b, p)); return "error"; }
    case_failed("unknown outcome");
    return "?";
}

static void run_breaker(const json_value *c) {
    const json_value *steps = json_get(c, "steps");
    resilience_circuit_breaker_config_t cfg;
    resilience_circuit_breaker_t *b = NULL;
    vclock *clock = NULL;
    int finalized = 0;
    named held[64];
    size_t n_held = 0, i;
    if (breaker_config_from(json_get(c, "config"), &cfg) != CONV_OK || !steps) { case_failed("malformed"); return; }
    cfg.clock = vclock_owned(&clock, &finalized);
    if (resilience_circuit_breaker_new(&cfg, &b) != RESILIENCE_OK) {
        case_failed(resilience_last_error_message());
        free(clock);
        return;
    }
    for (i = 0; i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op");
        resilience_permit_t permit;
        uint64_t retry_after = 0;
        if (str_eq(op, "call")) {
            resilience_status_t st = resilience_circuit_breaker_try_acquire(b, &permit, &retry_after);
            const char *word = st == RESILIENCE_ERR_CIRCUIT_OPEN ? "rejected" : finish(b, permit, json_get(s, "outcome"));
            if (!str_eq(json_get(s, "expect"), word)) {
                fprintf(stderr, "step %zu: call gave %s\n", i, word);
                case_failed("call answered differently");
            }
        } else if (str_eq(op, "acquire")) {
            resilience_status_t st = resilience_circuit_breaker_try_acquire(b, &permit, &retry_after);
            const json_value *ra = json_get(s, "retry_after_ms");
            if (str_eq(json_get(s, "expect"), "admitted")) {
                named *slot = find_named(held, &n_held, json_get(s, "id")->string, 1);
                CHECK(st == RESILIENCE_OK);
                if (slot) slot->value = permit.token;
            } else if (str_eq(json_get(s, "expect"), "rejected")) {
                CHECK(st == RESILIENCE_ERR_CIRCUIT_OPEN);
                if (ra) CHECK_EQ_U64(retry_after, ra->number * NS_PER_MS);
            } else case_failed("unknown acquire expectation");
        } else if (str_eq(op, "complete")) {
            named *slot = find_named(held, &n_held, json_get(s, "id")->string, 0);
            if (!slot) { case_failed("complete of an unknown permit"); continue; }
            permit.token = slot->value;
            finish(b, permit, json_get(s, "outcome"));
        } else if (str_eq(op, "advance")) {
            clock->now_ns += (uint64_t)(json_get(s, "ms")->number * NS_PER_MS);
        } else if (str_eq(op, "reset")) {
            CHECK_OK(resilience_circuit_breaker_reset(b));
        } else if (str_eq(op, "check")) {
            const json_value *state = json_get(s, "state"), *count = json_get(s, "failure_count");
            if (state) {
                resilience_circuit_state_t got = 99;
                CHECK_OK(resilience_circuit_breaker_state(b, &got));
                if (!str_eq(state, resilience_circuit_state_name(got))) {
                    fprintf(stderr, "step %zu: state %s\n", i, resilience_circuit_state_name(got));
                    case_failed("state differs");
                }
            }
            if (count) {
                uint32_t got = 0;
                CHECK_OK(resilience_circuit_breaker_failure_count(b, &got));
                CHECK_EQ_U64(got, count->number);
            }
        } else {
            fprintf(stderr, "unknown breaker op %s\n", op && op->string ? op->string : "?");
            case_failed("unknown op");
        }
    }
    resilience_circuit_breaker_free(b);
    CHECK(finalized == 1); /* the breaker ran the clock's finalizer */
}

static void run_fallback(const json_value *c) {
    const json_value *expected = json_get(c, "expected"), *outcomes = json_get(c, "fallback_outcomes");
    const json_value *primary = json_get(c, "primary"), *want_calls = json_get(expected, "calls");
    const json_value *answered = json_get(expected, "answered_by"), *raised = json_get(expected, "raised");
    resilience_fallback_t *chain = NULL;
    resilience_fallback_step_t step;
    char calls[16][32], got_answer[32] = "", got_raised[32] = "";
    size_t n_calls = 0, i;
    if (!expected || !primary || !want_calls) { case_failed("malformed"); return; }
    if (!str_eq(primary, "ok") && !str_eq(primary, "expected_error") && !str_eq(primary, "unexpected_error")) {
        case_failed("unknown primary outcome");
        return;
    }
    CHECK_OK(resilience_fallback_new((size_t)json_get(c, "fallbacks")->number, &chain));
    snprintf(calls[n_calls++], 32, "primary");
    if (str_eq(primary, "ok")) {
        snprintf(got_answer, sizeof got_answer, "primary");
    } else {
        snprintf(got_raised, sizeof got_raised, "primary");
        CHECK_OK(resilience_fallback_on_primary_error(chain, str_eq(primary, "expected_error"), &step));
        while (step.action == RESILIENCE_FALLBACK_CALL && n_calls < 16) {
            const json_value *o = json_at(outcomes, step.index);
            snprintf(calls[n_calls++], 32, "fallback:%zu", step.index);
            if (!str_eq(o, "ok") && !str_eq(o, "error")) case_failed("unknown fallback outcome");
            if (str_eq(o, "ok")) {
                snprintf(got_answer, sizeof got_answer, "fallback:%zu", step.index);
                got_raised[0] = '\0';
                break;
            }
            snprintf(got_raised, sizeof got_raised, "fallback:%zu", step.index);
            CHECK_OK(resilience_fallback_on_fallback_error(chain, &step));
        }
    }
    resilience_fallback_free(chain);
    if (answered->type == JSON_NULL ? got_answer[0] != '\0' : !str_eq(answered, got_answer)) case_failed("answered_by differs");
    if (raised->type == JSON_NULL ? got_raised[0] != '\0' : !str_eq(raised, got_raised)) case_failed("raised differs");
    CHECK_EQ_U64(n_calls, want_calls->count);
    for (i = 0; i < n_calls && i < want_calls->count; i++)
        if (!str_eq(want_calls->items[i], calls[i])) case_failed("calls differ");
}

static void run_bulkhead(const json_value *c) {
    const json_value *steps = json_get(c, "steps");
    resilience_bulkhead_config_t cfg;
    resilience_bulkhead_t *b = NULL;
    named tickets[64];
    size_t n = 0, i;
    if (bulkhead_config_from(json_get(c, "config"), &cfg) != CONV_OK || !steps) { case_failed("malformed"); return; }
    CHECK_OK(resilience_bulkhead_new(&cfg, &b));
    if (!b) return;
    for (i = 0; i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        if (str_eq(op, "acquire")) {
            resilience_bulkhead_admission_t a;
            resilience_status_t st = resilience_bulkhead_try_acquire(b, &a);
            const char *word = st == RESILIENCE_ERR_BULKHEAD_FULL                                   ? "queue_full"
                               : st != RESILIENCE_OK                                                ? "error"
                               : a.admission == RESILIENCE_ADMISSION_ACQUIRED                       ? "acquired"
                               : a.admission == RESILIENCE_ADMISSION_QUEUED                         ? "queued"
                                                                                                    : "?";
            if (!str_eq(expect, word)) case_failed("acquire answered differently");
            if (st == RESILIENCE_OK && a.admission == RESILIENCE_ADMISSION_QUEUED) {
                named *t = find_named(tickets, &n, json_get(s, "id")->string, 1);
                if (t) t->value = a.ticket;
            }
        } else if (str_eq(op, "release")) {
            resilience_bulkhead_handoff_t h;
            const json_value *want = json_get(s, "expect_granted");
            CHECK_OK(resilience_bulkhead_release(b, &h));
            if (!want || want->type == JSON_NULL) {
                CHECK(!h.granted);
            } else {
                named *t = find_named(tickets, &n, want->string, 0);
                CHECK(h.granted && t && t->value == h.ticket);
            }
        } else if (str_eq(op, "cancel")) {
            named *t = find_named(tickets, &n, json_get(s, "id")->string, 0);
            resilience_cancel_outcome_t out = 99;
            if (!t) { case_failed("cancel of an unknown ticket"); continue; }
            CHECK_OK(resilience_bulkhead_cancel(b, t->value, &out));
            CHECK_EQ_U64(out, str_eq(expect, "withdrawn")         ? RESILIENCE_CANCEL_WITHDRAWN
                              : str_eq(expect, "already_granted") ? RESILIENCE_CANCEL_ALREADY_GRANTED
                                                                  : 0xBAD);
        } else if (str_eq(op, "check")) {
            resilience_bulkhead_stats_t st;
            CHECK_OK(resilience_bulkhead_stats(b, &st));
            CHECK_EQ_U64(st.active, json_get(s, "active")->number);
            CHECK_EQ_U64(st.queued, json_get(s, "queued")->number);
        } else {
            case_failed("unknown bulkhead op");
        }
    }
    resilience_bulkhead_free(b);
}

/* Building the component fails with RESILIENCE_ERR_INVALID_CONFIG and a
 * message naming the parameter ("invalid <parameter>: must be ..."). */
static void run_config_error(const json_value *c) {
    const json_value *component = json_get(c, "component"), *param = json_get(c, "parameter");
    const json_value *config = json_get(c, "config");
    char named_param[96];
    conversion conv;
    if (!param || param->type != JSON_STRING) { case_failed("malformed"); return; }
    snprintf(named_param, sizeof named_param, "invalid %s:", param->string);
    if (str_eq(component, "retry")) {
        resilience_retry_config_t cfg;
        uint16_t codes[64];
        resilience_retry_policy_t *p = NULL;
        conv = retry_config_from(config, &cfg, codes);
        if (conv == CONV_OK) {
            CHECK_STATUS(resilience_retry_policy_new(&cfg, &p), RESILIENCE_ERR_INVALID_CONFIG, named_param);
            CHECK(p == NULL); /* out-params are written only on success */
        }
    } else if (str_eq(component, "breaker")) {
        resilience_circuit_breaker_config_t cfg;
        resilience_circuit_breaker_t *b = NULL;
        conv = breaker_config_from(config, &cfg);
        if (conv == CONV_OK) {
            CHECK_STATUS(resilience_circuit_breaker_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, named_param);
            CHECK(b == NULL);
        }
    } else if (str_eq(component, "bulkhead")) {
        resilience_bulkhead_config_t cfg;
        resilience_bulkhead_t *b = NULL;
        conv = bulkhead_config_from(config, &cfg);
        if (conv == CONV_OK) {
            CHECK_STATUS(resilience_bulkhead_new(&cfg, &b), RESILIENCE_ERR_INVALID_CONFIG, named_param);
            CHECK(b == NULL);
        }
    } else {
        case_failed("unknown component");
        return;
    }
    if (conv == CONV_MALFORMED) case_failed("config cannot be expressed in C");
    if (conv == CONV_REJECTED)
        printf("  (%s: no int64_t nanoseconds can hold it; resilience_duration_from_millis rejected it)\n", current_case);
}

/* ---- driver ------------------------------------------------------------- */

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    DIR *dir;
    struct dirent *e;
    char *names[256];
    size_t n_files = 0, n_cases = 0, f;
    if (argc != 2) { fprintf(stderr, "usage: %s tests/conformance\n", argv[0]); return 2; }
    dir = opendir(argv[1]);
    if (!dir) { fprintf(stderr, "cannot open %s\n", argv[1]); return 2; }
    while ((e = readdir(dir)) != NULL && n_files < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            names[n_files] = malloc(strlen(argv[1]) + len + 2);
            sprintf(names[n_files++], "%s/%s", argv[1], e->d_name);
        }
    }
    closedir(dir);
    qsort(names, n_files, sizeof *names, compare_names);
    for (f = 0; f < n_files; f++) {
        char err[160];
        json_value *doc = json_parse_file(names[f], err, sizeof err);
        const json_value *kind = json_get(doc, "kind"), *cases = json_get(doc, "cases");
        size_t i;
        if (!doc || !kind || !cases || cases->type != JSON_ARRAY) {
            fprintf(stderr, "%s: %s\n", names[f], doc ? "no kind/cases" : err);
            check_failures++;
            json_free(doc);
            free(names[f]);
            continue;
        }
        for (i = 0; i < cases->count; i++) {
            const json_value *c = cases->items[i], *name = json_get(c, "name");
            current_case = name && name->type == JSON_STRING ? name->string : "?";
            n_cases++;
            if (str_eq(kind, "delays")) run_delays(c);
            else if (str_eq(kind, "retry")) run_retry(c);
            else if (str_eq(kind, "retry_state")) run_retry_state(c);
            else if (str_eq(kind, "decisions")) run_decisions(c);
            else if (str_eq(kind, "retry_after")) run_retry_after(c);
            else if (str_eq(kind, "breaker")) run_breaker(c);
            else if (str_eq(kind, "fallback")) run_fallback(c);
            else if (str_eq(kind, "bulkhead")) run_bulkhead(c);
            else if (str_eq(kind, "config_errors")) run_config_error(c);
            else {
                fprintf(stderr, "%s: unknown kind %s\n", names[f], kind->string ? kind->string : "?");
                check_failures++;
                break;
            }
        }
        printf("%s: %zu case(s)\n", names[f], cases->count);
        json_free(doc);
        free(names[f]);
    }
    if (n_files == 0) { fprintf(stderr, "no vectors in %s\n", argv[1]); return 1; }
    printf("%zu file(s), %zu case(s)\n", n_files, n_cases);
    return check_report("conformance");
}
