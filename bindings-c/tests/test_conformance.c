/* Runs every conformance vector in tests/conformance/ through the C ABI.
 * Usage: test_conformance DIR.
 *
 * Values are decoded as tests/README.md "Values" says. C passes integers
 * (int64_t fields; the seed is a uint64_t) and names as constants, so a case
 * whose value C cannot pass where the vector puts it — a float, NaN or an
 * infinity, null, text (other than a backoff or jitter name), a boolean, an
 * integer beyond the field's C type (after the unit conversion to ns) — is
 * skipped, named, and counted per file. So is what C has no face for:
 * hedging (its vectors and configurations), pipelines (their
 * configurations, and `events` cases other than one retry or one breaker,
 * which C runs through its executor and breaker with their event
 * callbacks). Anything the runner does not understand (a kind, an op, a
 * key, an outcome, a value encoding) fails.
 *
 * The runners of issue 10 (retry_timeline, timeout, events, hedging) and
 * issue 11 (budget, budget_retry, throttle, limiter) live in
 * conformance_timeline.h and conformance_load.h, included below. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/check.h"
#include "support/json.h"
#include "support/vclock.h"

#define NS_PER_MS 1000000LL
#define MAX_CODES 64
#define MAX_NAMED 64

static const char *current_case = "";
static size_t skipped_in_file = 0;

static void case_failed(const char *what) {
    check_failures++;
    fprintf(stderr, "case \"%s\": %s\n", current_case, what);
}

static int str_eq(const json_value *v, const char *s) {
    return v && v->type == JSON_STRING && strcmp(v->string, s) == 0;
}

/* ---- values (tests/README.md "Values") ----------------------------------- */

typedef enum {
    V_INT,    /* an integer that fits int64_t */
    V_UINT64, /* an integer beyond int64_t that fits uint64_t */
    V_BEYOND, /* any other integer */
    V_FLOAT,  /* a number with a fraction, NaN, an infinity */
    V_NULL,
    V_TEXT,
    V_BOOL,
    V_BAD /* an encoding the runner does not know: a failure */
} value_kind;

typedef struct {
    value_kind kind;
    int64_t i;
    uint64_t u;
    const char *text;
} cvalue;

static cvalue value_of(const json_value *v) {
    cvalue out;
    memset(&out, 0, sizeof out);
    out.kind = V_BAD;
    if (!v) return out;
    switch (v->type) {
    case JSON_NULL: out.kind = V_NULL; break;
    case JSON_BOOL: out.kind = V_BOOL; break;
    case JSON_STRING: out.kind = V_TEXT; out.text = v->string; break;
    case JSON_NUMBER:
        if (!v->integer_literal) out.kind = V_FLOAT;
        else if (v->integer_overflow) out.kind = V_BEYOND; /* plain literals: the README writes big ones as {"int"} */
        else { out.kind = V_INT; out.i = v->integer; }
        break;
    case JSON_OBJECT: {
        const json_value *digits = json_get(v, "int"), *f = json_get(v, "float");
        if (v->count != 1) break;
        if (digits && digits->type == JSON_STRING && digits->string[0]) {
            const char *s = digits->string;
            char *end;
            long long i;
            errno = 0;
            i = strtoll(s, &end, 10);
            if (*end != '\0') break;
            if (errno == 0) { out.kind = V_INT; out.i = i; break; }
            if (s[0] != '-') {
                unsigned long long u;
                errno = 0;
                u = strtoull(s, &end, 10);
                if (errno == 0) { out.kind = V_UINT64; out.u = u; break; }
            }
            out.kind = V_BEYOND;
        } else if (str_eq(f, "NaN") || str_eq(f, "Infinity") || str_eq(f, "-Infinity")) {
            out.kind = V_FLOAT;
        }
        break;
    }
    default: break;
    }
    return out;
}

/* A conversion into a C field: done, skipped (C cannot express the value;
 * `why` says so), or malformed (a failure). */
typedef enum { CONV_OK, CONV_SKIP, CONV_MALFORMED } conversion;

static const char *skip_reason = "";

static conversion cannot_express(const cvalue *v, const char *field_type) {
    static char why[128];
    const char *what = v->kind == V_FLOAT    ? "a float"
                       : v->kind == V_NULL   ? "null"
                       : v->kind == V_TEXT   ? "text"
                       : v->kind == V_BOOL   ? "a boolean"
                       : v->kind == V_INT    ? (v->i < 0 ? "a negative integer" : "an integer")
                                             : "an integer beyond int64_t";
    if (v->kind == V_BAD) return CONV_MALFORMED;
    snprintf(why, sizeof why, "%s where C takes %s", what, field_type);
    skip_reason = why;
    return CONV_SKIP;
}

static conversion int_field(const json_value *j, int64_t *out) {
    cvalue v = value_of(j);
    if (v.kind != V_INT) return cannot_express(&v, "an int64_t");
    *out = v.i;
    return CONV_OK;
}

/* Milliseconds into int64_t nanoseconds. */
static conversion ms_field(const json_value *j, int64_t *ns) {
    cvalue v = value_of(j);
    if (v.kind != V_INT) return cannot_express(&v, "int64_t nanoseconds");
    if (v.i > INT64_MAX / NS_PER_MS || v.i < INT64_MIN / NS_PER_MS) {
        skip_reason = "milliseconds whose nanoseconds no int64_t holds";
        return CONV_SKIP;
    }
    *ns = v.i * NS_PER_MS;
    return CONV_OK;
}

/* A number into a double: integers, fractions, NaN and the infinities all
 * reach the field as they are. */
static conversion double_field(const json_value *j, double *out) {
    cvalue v = value_of(j);
    const json_value *f = j && j->type == JSON_OBJECT ? json_get(j, "float") : NULL;
    if (v.kind == V_INT) *out = (double)v.i;
    else if (v.kind == V_FLOAT && j->type == JSON_NUMBER) *out = j->number;
    else if (v.kind == V_FLOAT && str_eq(f, "NaN")) *out = NAN;
    else if (v.kind == V_FLOAT && str_eq(f, "Infinity")) *out = INFINITY;
    else if (v.kind == V_FLOAT && str_eq(f, "-Infinity")) *out = -INFINITY;
    else return cannot_express(&v, "a double");
    return CONV_OK;
}

/* A ratio field: C spells "no such rule" as 0, so a vector's zero ratio
 * (which core refuses as too small) is a value C cannot pass. */
static conversion ratio_field(const json_value *j, double *out) {
    conversion c = double_field(j, out);
    if (c == CONV_OK && *out == 0.0) {
        skip_reason = "a zero ratio, which C's config spells as \"no such rule\"";
        return CONV_SKIP;
    }
    return c;
}

static conversion seed_field(const json_value *j, uint64_t *out) {
    cvalue v = value_of(j);
    if (v.kind == V_INT && v.i >= 0) { *out = (uint64_t)v.i; return CONV_OK; }
    if (v.kind == V_UINT64) { *out = v.u; return CONV_OK; }
    return cannot_express(&v, "a uint64_t");
}

/* C spells a name as a constant; a name that is none is a value no
 * constant has (what a C caller with a bad enum value passes). */
static conversion name_field(const json_value *j, const char *const *names, size_t n, uint32_t *out) {
    cvalue v = value_of(j);
    size_t i;
    if (j && j->type == JSON_ARRAY) {
        skip_reason = "a list where C takes a RESILIENCE_* constant";
        return CONV_SKIP;
    }
    if (v.kind != V_TEXT) return cannot_express(&v, "a RESILIENCE_* constant");
    for (i = 0; i < n; i++)
        if (strcmp(v.text, names[i]) == 0) { *out = (uint32_t)i; return CONV_OK; }
    *out = 0xBAD;
    return CONV_OK;
}

/* Index = the RESILIENCE_BACKOFF_* / RESILIENCE_JITTER_* value (checked in main). */
static const char *const backoff_names[] = {"fixed", "linear", "exponential", "fibonacci"};
static const char *const jitter_names[] = {"none", "proportional", "full", "equal", "decorrelated"};

/* Fills `cfg` from a vector's policy object. An unknown key is malformed (so
 * a new field can never be ignored silently). */
static conversion retry_config_from(const json_value *p, resilience_retry_config_t *cfg, int64_t *codes) {
    size_t i;
    *cfg = resilience_retry_config_default();
    if (p && p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; p && i < p->count; i++) {
        const char *k = p->keys[i];
        const json_value *v = p->items[i];
        conversion c;
        if (strcmp(k, "max_attempts") == 0) c = int_field(v, &cfg->max_attempts);
        else if (strcmp(k, "backoff") == 0) c = name_field(v, backoff_names, 4, &cfg->backoff);
        else if (strcmp(k, "jitter") == 0) c = name_field(v, jitter_names, 5, &cfg->jitter);
        else if (strcmp(k, "base_delay_ms") == 0) c = ms_field(v, &cfg->base_delay_ns);
        else if (strcmp(k, "max_delay_ms") == 0) c = ms_field(v, &cfg->max_delay_ns);
        else if (strcmp(k, "seed") == 0) {
            c = seed_field(v, &cfg->seed);
            cfg->seeded = true;
        } else if (strcmp(k, "retryable_status_codes") == 0) {
            size_t j;
            cvalue whole = value_of(v);
            if (v->type != JSON_ARRAY) {
                if (whole.kind == V_BAD && v->type != JSON_OBJECT) return CONV_MALFORMED;
                c = cannot_express(&whole, "an array of int64_t");
            } else if (v->count > MAX_CODES) {
                return CONV_MALFORMED;
            } else {
                c = CONV_OK;
                for (j = 0; c == CONV_OK && j < v->count; j++) c = int_field(v->items[j], &codes[j]);
                cfg->retryable_status_codes = codes;
                cfg->retryable_status_codes_len = v->count;
            }
        } else if (strcmp(k, "max_elapsed_ms") == 0) {
            /* Rule `optional`: null is no deadline (C's flag off). */
            cfg->has_max_elapsed = v->type != JSON_NULL;
            c = cfg->has_max_elapsed ? ms_field(v, &cfg->max_elapsed_ns) : CONV_OK;
        } else if (strcmp(k, "attempt_timeout_ms") == 0) {
            /* Null is no timeout: C's 0. A zero timeout (which core refuses)
             * is the one value C cannot pass there. */
            c = v->type == JSON_NULL ? CONV_OK : ms_field(v, &cfg->attempt_timeout_ns);
            if (c == CONV_OK && v->type != JSON_NULL && cfg->attempt_timeout_ns == 0) {
                skip_reason = "a zero attempt_timeout, which C's config spells as \"no timeout\"";
                c = CONV_SKIP;
            }
        } else {
            fprintf(stderr, "unknown policy key %s\n", k);
            return CONV_MALFORMED;
        }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

/* The vectors' keys (tests/README.md "breaker") into the C config: a key
 * selects what core's builder method of the same name selects
 * (core/tests/vectors: failure_ratio the failure-rate rule, window_size a
 * count window, a sampling key a time window, slow_call_ratio the slow-call
 * rule, break_backoff the break backoff). */
static conversion breaker_config_from(const json_value *p, resilience_circuit_breaker_config_t *cfg) {
    size_t i;
    int sampling = 0, size = 0;
    *cfg = resilience_circuit_breaker_config_default();
    if (!p || p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; i < p->count; i++) {
        const char *k = p->keys[i];
        const json_value *v = p->items[i];
        conversion c;
        if (strcmp(k, "failure_threshold") == 0) c = int_field(v, &cfg->failure_threshold);
        else if (strcmp(k, "half_open_max_calls") == 0) c = int_field(v, &cfg->half_open_max_calls);
        else if (strcmp(k, "recovery_timeout_ms") == 0) c = ms_field(v, &cfg->recovery_timeout_ns);
        else if (strcmp(k, "failure_ratio") == 0) c = ratio_field(v, &cfg->failure_ratio);
        else if (strcmp(k, "minimum_throughput") == 0) c = int_field(v, &cfg->minimum_throughput);
        else if (strcmp(k, "sampling_duration_ms") == 0) { c = ms_field(v, &cfg->sampling_duration_ns); sampling = 1; }
        else if (strcmp(k, "sampling_buckets") == 0) { c = int_field(v, &cfg->sampling_buckets); sampling = 1; }
        else if (strcmp(k, "window_size") == 0) { c = int_field(v, &cfg->window_size); size = 1; }
        else if (strcmp(k, "slow_call_duration_ms") == 0) c = ms_field(v, &cfg->slow_call_duration_ns);
        else if (strcmp(k, "slow_call_ratio") == 0) c = ratio_field(v, &cfg->slow_call_ratio);
        else if (strcmp(k, "break_backoff") == 0) c = name_field(v, backoff_names, 4, &cfg->break_backoff);
        else if (strcmp(k, "max_recovery_timeout_ms") == 0) c = ms_field(v, &cfg->max_recovery_timeout_ns);
        else { fprintf(stderr, "unknown breaker key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    if (size && sampling) {
        skip_reason = "both windows, where C chooses one with window_kind";
        return CONV_SKIP;
    }
    if (size) cfg->window_kind = RESILIENCE_WINDOW_COUNT;
    if (sampling) cfg->window_kind = RESILIENCE_WINDOW_TIME;
    return CONV_OK;
}

static conversion bulkhead_config_from(const json_value *p, resilience_bulkhead_config_t *cfg) {
    size_t i;
    *cfg = resilience_bulkhead_config_default();
    if (!p || p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; i < p->count; i++) {
        const char *k = p->keys[i];
        conversion c;
        if (strcmp(k, "max_concurrent") == 0) c = int_field(p->items[i], &cfg->max_concurrent);
        else if (strcmp(k, "max_queue_size") == 0) c = int_field(p->items[i], &cfg->max_queue_size);
        else if (strcmp(k, "timeout_ms") == 0) c = ms_field(p->items[i], &cfg->timeout_ns);
        else { fprintf(stderr, "unknown bulkhead key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

/* Records a skipped case (or entry) with its reason. */
static void skip(const char *what) {
    skipped_in_file++;
    printf("  skipped: \"%s\"%s%s: %s\n", current_case, what ? " " : "", what ? what : "", skip_reason);
}

/* A policy from a vector that must be valid and expressible. */
static resilience_retry_policy_t *policy_from(const json_value *p) {
    resilience_retry_config_t cfg;
    int64_t codes[MAX_CODES];
    resilience_retry_policy_t *policy = NULL;
    if (retry_config_from(p, &cfg, codes) != CONV_OK) { case_failed("bad policy object"); return NULL; }
    if (resilience_retry_policy_new(&cfg, &policy) != RESILIENCE_OK) {
        case_failed(resilience_last_error_message());
        return NULL;
    }
    return policy;
}

/* An exact integer of a vector (counts, nanoseconds), or -1 and a failure. */
static int64_t int_of(const json_value *v) {
    cvalue c = value_of(v);
    if (c.kind != V_INT) { case_failed("expected an integer"); return -1; }
    return c.i;
}

/* ---- delays, retry, retry_state, decisions, retry_after ----------------- */

static void run_delays(const json_value *c) {
    const json_value *attempts = json_get(c, "attempts"), *expected = json_get(c, "expected_ns");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    size_t i;
    if (!policy || !attempts || !expected || attempts->count != expected->count) { case_failed("malformed"); goto out; }
    for (i = 0; i < attempts->count; i++) {
        uint64_t got = 0;
        CHECK_OK(resilience_retry_policy_calculate_delay(policy, int_of(attempts->items[i]), &got));
        if (got != (uint64_t)int_of(expected->items[i])) {
            fprintf(stderr, "attempt %lld: got %llu ns\n", (long long)int_of(attempts->items[i]), (unsigned long long)got);
            case_failed("delay differs");
        }
    }
out:
    resilience_retry_policy_free(policy);
}

/* How attempt k's failure classifies itself (the vector's outcome words). */
typedef enum { O_OK, O_RETRYABLE, O_FATAL, O_PREDICATE_FAILS, O_UNKNOWN } outcome;

static outcome outcome_of(const json_value *o) {
    if (str_eq(o, "ok")) return O_OK;
    if (str_eq(o, "retryable")) return O_RETRYABLE;
    if (str_eq(o, "fatal")) return O_FATAL;
    if (str_eq(o, "predicate_fails")) return O_PREDICATE_FAILS;
    return O_UNKNOWN;
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
 * which attempt's failure came back (C's notion of "the same error"). In
 * resilience_retry_execute the code is the classification: C expresses a
 * filter that failed as a negative code (the rule: not retryable). */
static int code_for(outcome o, uint32_t attempt) {
    switch (o) {
    case O_OK: return RESILIENCE_OP_SUCCESS;
    case O_RETRYABLE: return 100 + (int)attempt;
    case O_FATAL: return -(100 + (int)attempt);
    case O_PREDICATE_FAILS: return -(200 + (int)attempt);
    default: return RESILIENCE_OP_FATAL;
    }
}

static int scripted_op(void *user_data, uint32_t attempt) {
    script *s = user_data;
    const json_value *o = json_at(s->outcomes, s->calls);
    s->calls++;
    if (attempt != s->calls || !o || outcome_of(o) == O_UNKNOWN) {
        s->beyond_script = 1;
        return RESILIENCE_OP_FATAL;
    }
    return code_for(outcome_of(o), attempt);
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

static uint32_t reason_of(const json_value *reason) {
    if (str_eq(reason, "exhausted")) return RESILIENCE_GIVE_UP_EXHAUSTED;
    if (str_eq(reason, "not_retryable")) return RESILIENCE_GIVE_UP_NOT_RETRYABLE;
    if (str_eq(reason, "deadline")) return RESILIENCE_GIVE_UP_DEADLINE;
    if (str_eq(reason, "budget")) return RESILIENCE_GIVE_UP_BUDGET;
    if (reason && reason->type == JSON_NULL) return RESILIENCE_GIVE_UP_NONE;
    case_failed("unknown reason");
    return 0xBAD;
}

static void check_sleeps_and_hooks(const json_value *expected, const uint64_t *sleeps, size_t n_sleeps,
                                   const uint32_t *hook_attempts, const uint64_t *hook_delays, size_t n_hooks) {
    const json_value *want_sleeps = json_get(expected, "sleeps_ns"), *hooks = json_get(expected, "on_retry");
    size_t i;
    if (!want_sleeps || !hooks) { case_failed("malformed expectation"); return; }
    CHECK_EQ_U64(n_sleeps, want_sleeps->count);
    for (i = 0; i < want_sleeps->count && i < n_sleeps && i < 64; i++) CHECK_EQ_U64(sleeps[i], int_of(want_sleeps->items[i]));
    CHECK_EQ_U64(n_hooks, hooks->count);
    for (i = 0; i < hooks->count && i < n_hooks && i < 64; i++) {
        CHECK_EQ_U64(hook_attempts[i], int_of(json_at(hooks->items[i], 0)));
        CHECK_EQ_U64(hook_delays[i], int_of(json_at(hooks->items[i], 1)));
    }
}

/* The blocking executor: the operation's code classifies its failure. */
static void run_retry_execute(const json_value *c, const json_value *outcomes, const json_value *expected) {
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    script s;
    vclock clock;
    resilience_time_source_t time;
    resilience_retry_outcome_t outcome;
    resilience_status_t status;
    size_t i;
    uint64_t total = 0;
    if (!policy) return;
    memset(&s, 0, sizeof s);
    memset(&clock, 0, sizeof clock);
    s.outcomes = outcomes;
    time = vclock_borrowed(&clock);
    status = resilience_retry_execute(policy, scripted_op, record_retry, &s, &time, &outcome);
    if (s.beyond_script) case_failed("the operation ran beyond its script");
    if (str_eq(json_get(expected, "result"), "ok")) CHECK(status == RESILIENCE_OK);
    else if (str_eq(json_get(expected, "result"), "error")) {
        CHECK(status == RESILIENCE_ERR_OPERATION_FAILED);
        /* The last attempt's own code, unchanged. */
        CHECK(outcome.last_code == code_for(outcome_of(json_at(outcomes, s.calls - 1)), (uint32_t)s.calls));
    } else case_failed("unknown result");
    CHECK_EQ_U64(outcome.attempts, int_of(json_get(expected, "attempts")));
    CHECK_EQ_U64(s.calls, int_of(json_get(expected, "attempts")));
    CHECK_EQ_U64(outcome.reason, reason_of(json_get(expected, "reason")));
    check_sleeps_and_hooks(expected, clock.sleeps, clock.sleep_count, s.on_retry_attempt, s.on_retry_delay,
                           s.on_retry_count);
    for (i = 0; i < clock.sleep_count && i < VCLOCK_MAX_SLEEPS; i++) total += clock.sleeps[i];
    CHECK_EQ_U64(outcome.total_delay_ns, total);
    resilience_retry_policy_free(policy);
}

/* The same script through the step API, as an event loop drives it with a
 * filter of its own: the filter runs only when core says the failure needs
 * classifying; a filter that fails answers RESILIENCE_PREDICATE_FAILED. */
static void run_retry_steps(const json_value *c, const json_value *outcomes, const json_value *expected) {
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    resilience_retry_state_t *state = NULL;
    uint64_t delays[64];
    uint32_t attempts_of[64];
    size_t n_retries = 0, runs = 0, predicate_calls = 0;
    uint32_t reason = RESILIENCE_GIVE_UP_NONE;
    const json_value *want_calls = json_get(expected, "predicate_calls");
    if (!policy) return;
    if (!want_calls) { case_failed("no predicate_calls"); goto out; }
    CHECK_OK(resilience_retry_state_new(policy, &state));
    while (state) {
        const json_value *o = json_at(outcomes, runs);
        outcome what = outcome_of(o);
        resilience_retry_decision_t d;
        resilience_predicate_outcome_t answer = RESILIENCE_PREDICATE_NO;
        bool needs = false;
        runs++;
        if (!o || what == O_UNKNOWN) { case_failed("the loop ran beyond its script"); break; }
        if (what == O_OK) break;
        CHECK_OK(resilience_retry_state_needs_classification(state, &needs));
        if (needs) {
            predicate_calls++;
            answer = what == O_RETRYABLE ? RESILIENCE_PREDICATE_YES
                     : what == O_FATAL   ? RESILIENCE_PREDICATE_NO
                                         : RESILIENCE_PREDICATE_FAILED;
        }
        CHECK_OK(resilience_retry_state_on_failure_classified(state, answer, NULL, &d));
        if (d.action == RESILIENCE_RETRY_ACTION_GIVE_UP) {
            reason = d.reason;
            CHECK_EQ_U64(d.attempt, runs);
            break;
        }
        CHECK_EQ_U64(d.attempt, runs);
        if (n_retries < 64) {
            attempts_of[n_retries] = d.attempt;
            delays[n_retries] = d.delay_ns;
        }
        n_retries++;
    }
    CHECK_EQ_U64(runs, int_of(json_get(expected, "attempts")));
    CHECK_EQ_U64(predicate_calls, int_of(want_calls));
    CHECK_EQ_U64(reason, reason_of(json_get(expected, "reason")));
    /* Each retry's delay is both the sleep and the on_retry delay. */
    check_sleeps_and_hooks(expected, delays, n_retries, attempts_of, delays, n_retries);
out:
    resilience_retry_state_free(state);
    resilience_retry_policy_free(policy);
}

static void run_retry(const json_value *c) {
    const json_value *expected = json_get(c, "expected"), *outcomes = json_get(c, "outcomes");
    size_t i;
    if (!expected || !outcomes || outcomes->type != JSON_ARRAY) { case_failed("malformed"); return; }
    for (i = 0; i < outcomes->count; i++)
        if (outcome_of(outcomes->items[i]) == O_UNKNOWN) { case_failed("unknown outcome"); return; }
    run_retry_execute(c, outcomes, expected);
    run_retry_steps(c, outcomes, expected);
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
        const json_value *retryable = json_get(f, "retryable"), *classify = json_get(f, "classify");
        resilience_retry_decision_t d;
        int64_t hint_ns = 0;
        int has_hint = hint && hint->type != JSON_NULL;
        if ((!classify && (!retryable || retryable->type != JSON_BOOL)) || !expect || (!retry_ns && !give_up)) {
            case_failed("malformed failure");
            break;
        }
        if (has_hint && ms_field(hint, &hint_ns) != CONV_OK) { case_failed("bad retry_after_ms"); break; }
        if (classify) {
            /* Ask core whether to classify; only then run the "filter". */
            const json_value *asked = json_get(expect, "asked");
            resilience_predicate_outcome_t answer = RESILIENCE_PREDICATE_NO;
            uint64_t hint_u = (uint64_t)hint_ns;
            bool needs = false;
            CHECK_OK(resilience_retry_state_needs_classification(state, &needs));
            if (!asked || asked->type != JSON_BOOL) { case_failed("classify without asked"); break; }
            CHECK_EQ_U64(needs, asked->boolean != 0);
            if (needs) {
                if (str_eq(classify, "yes")) answer = RESILIENCE_PREDICATE_YES;
                else if (str_eq(classify, "no")) answer = RESILIENCE_PREDICATE_NO;
                else if (str_eq(classify, "fails")) answer = RESILIENCE_PREDICATE_FAILED;
                else { case_failed("unknown classify"); break; }
            }
            CHECK_OK(resilience_retry_state_on_failure_classified(state, answer, has_hint ? &hint_u : NULL, &d));
        } else if (has_hint) {
            CHECK_OK(resilience_retry_state_on_failure_with_hint(state, retryable->boolean != 0, (uint64_t)hint_ns, &d));
        } else {
            CHECK_OK(resilience_retry_state_on_failure(state, retryable->boolean != 0, &d));
        }
        if (retry_ns) {
            CHECK_EQ_U64(d.action, RESILIENCE_RETRY_ACTION_RETRY);
            CHECK_EQ_U64(d.delay_ns, int_of(retry_ns));
            CHECK_EQ_U64(d.attempt, i + 1);
        } else {
            CHECK_EQ_U64(d.action, RESILIENCE_RETRY_ACTION_GIVE_UP);
            CHECK_EQ_U64(d.reason, reason_of(give_up));
        }
    }
out:
    resilience_retry_state_free(state);
    resilience_retry_policy_free(policy);
}

static int bool_of(const json_value *v) {
    if (!v || v->type != JSON_BOOL) { case_failed("expected a boolean"); return -1; }
    return v->boolean != 0;
}

static void run_decisions(const json_value *c) {
    const json_value *sr = json_get(c, "should_retry"), *srs = json_get(c, "should_retry_status");
    const json_value *errors = json_get(c, "attempt_errors");
    resilience_retry_policy_t *policy = policy_from(json_get(c, "policy"));
    size_t i;
    char what[64];
    if (!policy) return;
    if (!sr || !srs) { case_failed("malformed"); goto out; }
    for (i = 0; i < sr->count; i++) {
        const json_value *d = sr->items[i];
        int64_t attempt;
        bool got = false;
        conversion conv = int_field(json_get(d, "attempt"), &attempt);
        snprintf(what, sizeof what, "should_retry #%zu", i);
        if (conv == CONV_SKIP) { skip(what); continue; }
        if (conv != CONV_OK) { case_failed("bad attempt"); continue; }
        CHECK_OK(resilience_retry_policy_should_retry(policy, attempt, bool_of(json_get(d, "retryable")) == 1, &got));
        if (got != (bool_of(json_get(d, "expected")) == 1)) case_failed("should_retry differs");
    }
    for (i = 0; i < srs->count; i++) {
        const json_value *d = srs->items[i];
        int64_t attempt, status;
        bool got = false;
        conversion conv = int_field(json_get(d, "status"), &status);
        if (conv == CONV_OK) conv = int_field(json_get(d, "attempt"), &attempt);
        snprintf(what, sizeof what, "should_retry_status #%zu", i);
        if (conv == CONV_SKIP) { skip(what); continue; }
        if (conv != CONV_OK) { case_failed("bad status or attempt"); continue; }
        CHECK_OK(resilience_retry_policy_should_retry_status(policy, status, attempt, &got));
        if (got != (bool_of(json_get(d, "expected")) == 1)) case_failed("should_retry_status differs");
    }
    /* Every int64_t is a valid attempt in C, so only values C cannot pass
     * can be invalid: those are skipped; an integer here would be a rule C
     * does not follow. */
    for (i = 0; errors && i < errors->count; i++) {
        int64_t attempt;
        conversion conv = int_field(json_get(errors->items[i], "attempt"), &attempt);
        snprintf(what, sizeof what, "attempt_errors #%zu", i);
        if (conv == CONV_SKIP) { skip(what); continue; }
        case_failed(conv == CONV_OK ? "an integer attempt that should be an error" : "bad attempt");
    }
out:
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
    if (ms_field(json_get(c, "max_delay_ms"), &cfg.max_delay_ns) != CONV_OK) { case_failed("bad max_delay_ms"); return; }
    CHECK_OK(resilience_retry_policy_new(&cfg, &policy));
    status = resilience_parse_retry_after(header->string, (uint64_t)int_of(json_get(c, "now_unix_s")) * 1000000000ULL,
                                          &wait);
    if (expected->type == JSON_NULL) {
        CHECK_STATUS(status, RESILIENCE_ERR_INVALID_ARGUMENT, "neither delta-seconds nor an HTTP-date");
    } else {
        CHECK(status == RESILIENCE_OK);
        CHECK_OK(resilience_retry_policy_cap_retry_after(policy, wait, &capped));
        CHECK_EQ_U64(capped, int_of(expected));
    }
    resilience_retry_policy_free(policy);
}

/* ---- breaker, fallback, bulkhead ---------------------------------------- */

/* Permits, slots and tickets by the vector's id (ids stay known after use). */
typedef struct {
    char id[32];
    int is_ticket;
    uint64_t value;
} named;

static named *find_named(named *table, size_t *n, const char *id, int create) {
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp(table[i].id, id) == 0) return &table[i];
    if (!create || *n >= MAX_NAMED) return NULL;
    snprintf(table[*n].id, sizeof table[*n].id, "%s", id);
    return &table[(*n)++];
}

static const char *id_of(const json_value *step) {
    const json_value *id = json_get(step, "id");
    return id && id->type == JSON_STRING ? id->string : NULL;
}

/* "on": absent (this object) or "other" (a second one of the same config). */
static int on_other(const json_value *step, int *bad) {
    const json_value *on = json_get(step, "on");
    if (!on) return 0;
    if (str_eq(on, "other")) return 1;
    *bad = 1;
    return 0;
}

static resilience_status_t report(resilience_circuit_breaker_t *b, resilience_permit_t p, const json_value *outcome) {
    if (str_eq(outcome, "success")) return resilience_circuit_breaker_record_success(b, p);
    if (str_eq(outcome, "failure")) return resilience_circuit_breaker_record_failure(b, p);
    if (str_eq(outcome, "ignored")) return resilience_circuit_breaker_release(b, p);
    case_failed("unknown outcome");
    return RESILIENCE_ERR_INVALID_ARGUMENT;
}

/* Breaker steps C can run: a clock reading that is not an integer (NaN: a
 * float clock) cannot come from a C clock, so such a case is skipped whole
 * (its later steps depend on it). */
static int breaker_steps_expressible(const json_value *steps) {
    size_t i;
    for (i = 0; i < steps->count; i++) {
        const json_value *s = steps->items[i];
        if (str_eq(json_get(s, "op"), "set_clock") || str_eq(json_get(s, "op"), "advance")) {
            int64_t ns;
            conversion conv = ms_field(json_get(s, "ms"), &ns);
            if (conv == CONV_SKIP) return 0;
        }
    }
    return 1;
}

static void count_finalized(void *user_data) {
    ++*(int *)user_data;
}

/* Structural equality of two JSON values (numbers by value; objects by
 * their keys, in any order). */
static int json_equal(const json_value *a, const json_value *b) {
    size_t i;
    if (!a || !b || a->type != b->type) return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return (a->boolean != 0) == (b->boolean != 0);
    case JSON_NUMBER:
        if (a->integer_literal && b->integer_literal && !a->integer_overflow && !b->integer_overflow)
            return a->integer == b->integer;
        return a->number == b->number;
    case JSON_STRING: return strcmp(a->string, b->string) == 0;
    case JSON_ARRAY:
        if (a->count != b->count) return 0;
        for (i = 0; i < a->count; i++)
            if (!json_equal(a->items[i], b->items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        if (a->count != b->count) return 0;
        for (i = 0; i < a->count; i++)
            if (!json_equal(a->items[i], json_get(b, a->keys[i]))) return 0;
        return 1;
    }
    return 0;
}

/* The breaker's snapshot document (malloc'd, NUL-terminated), asked for as
 * a C caller does: the length first, then a buffer of that size plus one. */
static char *take_snapshot(const resilience_circuit_breaker_t *b) {
    size_t len = 0, again = 0;
    char *buf;
    CHECK_STATUS(resilience_circuit_breaker_snapshot(b, NULL, 0, &len), RESILIENCE_ERR_BUFFER_TOO_SMALL, "bytes");
    buf = malloc(len + 1);
    if (!buf) return NULL;
    CHECK_OK(resilience_circuit_breaker_snapshot(b, buf, len + 1, &again));
    CHECK_EQ_U64(again, len);
    CHECK_EQ_U64(strlen(buf), len);
    return buf;
}

/* A metric as the vectors give it: durations in ms (compared in ns when
 * the vector's value is whole), counts and ratios exactly. */
static void check_metric(const resilience_circuit_breaker_metrics_t *m, const char *key, const json_value *want) {
    double got;
    if (!want || want->type != JSON_NUMBER) { case_failed("a metric that is not a number"); return; }
    if (strcmp(key, "time_in_state_ms") == 0 || strcmp(key, "break_ms") == 0) {
        uint64_t ns = key[0] == 't' ? m->time_in_state_ns : m->break_ns;
        if (want->integer_literal && !want->integer_overflow) { CHECK_EQ_U64(ns, (uint64_t)want->integer * NS_PER_MS); return; }
        got = (double)ns / 1e6;
    } else if (strcmp(key, "window_calls") == 0) got = (double)m->window_calls;
    else if (strcmp(key, "window_failures") == 0) got = (double)m->window_failures;
    else if (strcmp(key, "window_slow_calls") == 0) got = (double)m->window_slow_calls;
    else if (strcmp(key, "failure_ratio") == 0) got = m->failure_ratio;
    else if (strcmp(key, "slow_call_ratio") == 0) got = m->slow_call_ratio;
    else if (strcmp(key, "rejections") == 0) got = (double)m->rejections;
    else if (strcmp(key, "openings") == 0) got = (double)m->openings;
    else if (strcmp(key, "consecutive_failures") == 0) got = (double)m->consecutive_failures;
    else { fprintf(stderr, "unknown metric %s\n", key); case_failed("unknown metric"); return; }
    if (got != want->number) {
        fprintf(stderr, "metric %s: got %.17g, expected %.17g\n", key, got, want->number);
        case_failed("metric differs");
    }
}

#define MAX_BREAKERS 8

/* Breakers of one case: the current one and every one a restore replaced
 * (kept until the end, as the "other" breaker reads the first one's clock),
 * each with the virtual clock it owns. */
typedef struct {
    resilience_circuit_breaker_t *b[MAX_BREAKERS];
    size_t n;
    int finalized[MAX_BREAKERS];
} breakers;

/* A breaker of `cfg` on a new virtual clock at `now_ns` (owned by it), or
 * from `document` when not NULL. */
static resilience_circuit_breaker_t *new_breaker(breakers *all, resilience_circuit_breaker_config_t cfg, int64_t now_ns,
                                                 const char *document, vclock **clock_out) {
    vclock *clock = NULL;
    resilience_circuit_breaker_t *b = NULL;
    resilience_status_t st;
    if (all->n >= MAX_BREAKERS) { case_failed("too many restores"); return NULL; }
    all->finalized[all->n] = 0;
    cfg.clock = vclock_owned(&clock, &all->finalized[all->n]);
    if (!clock) return NULL;
    clock->now_ns = now_ns;
    st = document ? resilience_circuit_breaker_new_from_snapshot(&cfg, document, strlen(document), &b)
                  : resilience_circuit_breaker_new(&cfg, &b);
    if (st != RESILIENCE_OK) {
        case_failed(resilience_last_error_message());
        CHECK(all->finalized[all->n] == 0); /* a failed build leaves the clock with the caller */
        free(clock);
        return NULL;
    }
    all->b[all->n++] = b;
    *clock_out = clock;
    return b;
}

/* Snapshot documents by the vector's id. */
typedef struct {
    char id[32];
    char *document;
} saved;

static void run_breaker(const json_value *c) {
    const json_value *steps = json_get(c, "steps");
    resilience_circuit_breaker_config_t cfg;
    resilience_circuit_breaker_t *b = NULL, *other = NULL;
    breakers all;
    saved snapshots[MAX_NAMED];
    vclock *clock = NULL;
    named held[MAX_NAMED];
    size_t n_held = 0, n_saved = 0, i;
    memset(&all, 0, sizeof all);
    if (breaker_config_from(json_get(c, "config"), &cfg) != CONV_OK || !steps || steps->type != JSON_ARRAY) {
        case_failed("malformed");
        return;
    }
    if (!breaker_steps_expressible(steps)) { skip(NULL); return; }
    b = new_breaker(&all, cfg, 0, NULL, &clock);
    if (!b) return;
    /* The other breaker reads the same clock, borrowed (no finalizer). */
    cfg.clock = vclock_borrowed(clock);
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &other));
    for (i = 0; b && other && i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        resilience_permit_t permit;
        uint64_t retry_after = 0;
        int bad = 0;
        if (str_eq(op, "call")) {
            resilience_rejection_t why;
            const json_value *duration = json_get(s, "duration_ms");
            int64_t duration_ns = 0;
            resilience_status_t st;
            const char *word = "rejected";
            if (duration && ms_field(duration, &duration_ns) != CONV_OK) { case_failed("bad duration_ms"); continue; }
            st = resilience_circuit_breaker_try_acquire_ex(b, &permit, &why);
            if (st == RESILIENCE_OK) {
                clock->now_ns += duration_ns; /* the call takes its time */
                CHECK_OK(report(b, permit, json_get(s, "outcome")));
                word = str_eq(json_get(s, "outcome"), "success") ? "ok" : "error";
            } else {
                CHECK(st == RESILIENCE_ERR_CIRCUIT_OPEN);
                CHECK(why.reason >= RESILIENCE_REJECT_OPEN && why.reason <= RESILIENCE_REJECT_ISOLATED);
            }
            if (!str_eq(expect, word)) {
                fprintf(stderr, "step %zu: call gave %s\n", i, word);
                case_failed("call answered differently");
            }
        } else if (str_eq(op, "acquire")) {
            resilience_circuit_breaker_t *from = on_other(s, &bad) ? other : b;
            resilience_status_t st = resilience_circuit_breaker_try_acquire(from, &permit, &retry_after);
            const json_value *ra = json_get(s, "retry_after_ms");
            if (bad || !id_of(s)) { case_failed("bad acquire step"); continue; }
            if (str_eq(expect, "admitted")) {
                named *slot = find_named(held, &n_held, id_of(s), 1);
                CHECK(st == RESILIENCE_OK);
                if (slot) slot->value = permit.token;
            } else if (str_eq(expect, "rejected")) {
                CHECK(st == RESILIENCE_ERR_CIRCUIT_OPEN);
                if (ra) CHECK_EQ_U64(retry_after, int_of(ra) * NS_PER_MS);
            } else case_failed("unknown acquire expectation");
        } else if (str_eq(op, "complete")) {
            named *slot = id_of(s) ? find_named(held, &n_held, id_of(s), 0) : NULL;
            resilience_status_t st;
            if (!slot) { case_failed("complete of an unknown permit"); continue; }
            permit.token = slot->value;
            st = report(b, permit, json_get(s, "outcome"));
            if (!expect || str_eq(expect, "ok")) CHECK_OK(st);
            else if (str_eq(expect, "misuse")) CHECK_STATUS(st, RESILIENCE_ERR_PERMIT_MISUSE, "permit");
            else case_failed("unknown complete expectation");
        } else if (str_eq(op, "advance") || str_eq(op, "set_clock")) {
            int64_t ns = 0;
            if (ms_field(json_get(s, "ms"), &ns) != CONV_OK) { case_failed("bad ms"); continue; }
            /* A C clock reads int64_t: a negative reading is passed as is. */
            if (str_eq(op, "advance")) clock->now_ns += ns;
            else clock->now_ns = ns;
        } else if (str_eq(op, "reset")) {
            CHECK_OK(resilience_circuit_breaker_reset(b));
        } else if (str_eq(op, "isolate")) {
            CHECK_OK(resilience_circuit_breaker_isolate(b));
        } else if (str_eq(op, "close")) {
            CHECK_OK(resilience_circuit_breaker_close(b));
        } else if (str_eq(op, "metrics")) {
            resilience_circuit_breaker_metrics_t m;
            size_t k;
            if (!expect || expect->type != JSON_OBJECT || expect->count == 0) { case_failed("empty metrics"); continue; }
            CHECK_OK(resilience_circuit_breaker_metrics(b, &m));
            for (k = 0; k < expect->count; k++) check_metric(&m, expect->keys[k], expect->items[k]);
        } else if (str_eq(op, "snapshot")) {
            char *document = take_snapshot(b), err[160];
            json_value *parsed = document ? json_parse(document, err, sizeof err) : NULL;
            size_t k;
            if (!parsed || !id_of(s) || !expect || expect->type != JSON_OBJECT || n_saved >= MAX_NAMED) {
                case_failed(parsed ? "bad snapshot step" : "the snapshot is not JSON");
                json_free(parsed);
                free(document);
                continue;
            }
            for (k = 0; k < expect->count; k++) {
                if (!json_equal(expect->items[k], json_get(parsed, expect->keys[k]))) {
                    fprintf(stderr, "step %zu: snapshot field %s differs in %s\n", i, expect->keys[k], document);
                    case_failed("snapshot differs");
                }
            }
            json_free(parsed);
            snprintf(snapshots[n_saved].id, sizeof snapshots[n_saved].id, "%s", id_of(s));
            snapshots[n_saved++].document = document;
        } else if (str_eq(op, "restore")) {
            /* A new process: a new clock at clock_ms, the breaker built from
             * the saved document; later steps use them. */
            const json_value *from = json_get(s, "from");
            int64_t at_ns = 0;
            size_t k;
            const char *document = NULL;
            for (k = 0; from && from->type == JSON_STRING && k < n_saved; k++)
                if (strcmp(snapshots[k].id, from->string) == 0) document = snapshots[k].document;
            if (!document || ms_field(json_get(s, "clock_ms"), &at_ns) != CONV_OK) { case_failed("bad restore step"); continue; }
            cfg.clock = resilience_time_source_system();
            b = new_breaker(&all, cfg, at_ns, document, &clock);
        } else if (str_eq(op, "restore_document")) {
            /* Refused with its typed status; nothing built, nothing taken. */
            const json_value *document = json_get(s, "document"), *want = json_get(s, "expect_error");
            resilience_circuit_breaker_t *restored = (resilience_circuit_breaker_t *)(uintptr_t)0x5E47;
            resilience_circuit_breaker_config_t attempt = cfg;
            int finalized = 0;
            resilience_status_t st;
            if (!document || document->type != JSON_STRING) { case_failed("bad restore_document step"); continue; }
            attempt.clock = vclock_borrowed(clock);
            attempt.clock.free_user_data = NULL;
            attempt.listener.user_data = &finalized;
            attempt.listener.free_user_data = count_finalized;
            st = resilience_circuit_breaker_new_from_snapshot(&attempt, document->string, strlen(document->string), &restored);
            if (str_eq(want, "malformed")) CHECK_STATUS(st, RESILIENCE_ERR_INVALID_SNAPSHOT, "malformed circuit breaker snapshot");
            else if (str_eq(want, "unsupported_version")) CHECK_STATUS(st, RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION, "newer");
            else case_failed("unknown expect_error");
            if (st == RESILIENCE_OK) resilience_circuit_breaker_free(restored);
            else CHECK(restored == (resilience_circuit_breaker_t *)(uintptr_t)0x5E47 && finalized == 0);
        } else if (str_eq(op, "check")) {
            const json_value *state = json_get(s, "state"), *count = json_get(s, "failure_count");
            if (!state && !count) case_failed("empty check");
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
                CHECK_EQ_U64(got, int_of(count));
            }
        } else {
            fprintf(stderr, "unknown breaker op %s\n", op && op->string ? op->string : "?");
            case_failed("unknown op");
        }
    }
    resilience_circuit_breaker_free(other);
    for (i = 0; i < all.n; i++) {
        resilience_circuit_breaker_free(all.b[i]);
        CHECK(all.finalized[i] == 1); /* each breaker ran its clock's finalizer */
    }
    for (i = 0; i < n_saved; i++) free(snapshots[i].document);
}

static void run_fallback(const json_value *c) {
    const json_value *expected = json_get(c, "expected"), *outcomes = json_get(c, "fallback_outcomes");
    const json_value *primary = json_get(c, "primary"), *want_calls = json_get(expected, "calls");
    const json_value *answered = json_get(expected, "answered_by"), *raised = json_get(expected, "raised");
    resilience_fallback_t *chain = NULL;
    resilience_fallback_step_t step;
    char calls[16][32], got_answer[32] = "", got_raised[32] = "";
    size_t n_calls = 0, i;
    if (!expected || !primary || !want_calls || !answered || !raised) { case_failed("malformed"); return; }
    if (!str_eq(primary, "ok") && !str_eq(primary, "expected_error") && !str_eq(primary, "unexpected_error") &&
        !str_eq(primary, "filter_fails")) {
        case_failed("unknown primary outcome");
        return;
    }
    CHECK_OK(resilience_fallback_new((size_t)int_of(json_get(c, "fallbacks")), &chain));
    snprintf(calls[n_calls++], 32, "primary");
    if (str_eq(primary, "ok")) {
        snprintf(got_answer, sizeof got_answer, "primary");
    } else {
        snprintf(got_raised, sizeof got_raised, "primary");
        if (str_eq(primary, "filter_fails"))
            /* The expected-error filter itself failed: C says so explicitly. */
            CHECK_OK(resilience_fallback_on_primary_error_classified(chain, RESILIENCE_PREDICATE_FAILED, &step));
        else
            CHECK_OK(resilience_fallback_on_primary_error(chain, str_eq(primary, "expected_error"), &step));
        while (step.action == RESILIENCE_FALLBACK_CALL && n_calls < 16) {
            const json_value *o = json_at(outcomes, step.index);
            snprintf(calls[n_calls++], 32, "fallback:%zu", step.index);
            if (!str_eq(o, "ok") && !str_eq(o, "error")) { case_failed("unknown fallback outcome"); break; }
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
    resilience_bulkhead_t *b = NULL, *other = NULL;
    named handles[MAX_NAMED];
    size_t n = 0, i;
    if (bulkhead_config_from(json_get(c, "config"), &cfg) != CONV_OK || !steps || steps->type != JSON_ARRAY) {
        case_failed("malformed");
        return;
    }
    CHECK_OK(resilience_bulkhead_new(&cfg, &b));
    CHECK_OK(resilience_bulkhead_new(&cfg, &other));
    for (i = 0; b && other && i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        named *h = id_of(s) ? find_named(handles, &n, id_of(s), str_eq(op, "acquire")) : NULL;
        int bad = 0;
        if (str_eq(op, "acquire")) {
            resilience_bulkhead_admission_t a;
            resilience_bulkhead_t *from = on_other(s, &bad) ? other : b;
            resilience_status_t st = resilience_bulkhead_try_acquire(from, &a);
            const char *word = st == RESILIENCE_ERR_BULKHEAD_FULL                  ? "queue_full"
                               : st != RESILIENCE_OK                               ? "error"
                               : a.admission == RESILIENCE_ADMISSION_ACQUIRED      ? "acquired"
                               : a.admission == RESILIENCE_ADMISSION_QUEUED        ? "queued"
                                                                                   : "?";
            if (bad || !h) { case_failed("bad acquire step"); continue; }
            if (!str_eq(expect, word)) case_failed("acquire answered differently");
            if (st == RESILIENCE_OK) {
                h->is_ticket = a.admission == RESILIENCE_ADMISSION_QUEUED;
                h->value = h->is_ticket ? a.ticket.id : a.slot.id;
            }
        } else if (str_eq(op, "release")) {
            resilience_bulkhead_handoff_t hand;
            resilience_bulkhead_slot_t slot;
            const json_value *want = json_get(s, "expect_granted");
            resilience_status_t st;
            if (!h) { case_failed("release of an unknown id"); continue; }
            if (h->is_ticket) {
                /* A waiter holds its slot once granted: the ticket's slot. */
                resilience_bulkhead_ticket_t t;
                t.id = h->value;
                CHECK_OK(resilience_bulkhead_ticket_slot(t, &slot));
            } else {
                slot.id = h->value;
            }
            st = resilience_bulkhead_release(b, slot, &hand);
            if (str_eq(expect, "misuse")) {
                CHECK_STATUS(st, RESILIENCE_ERR_PERMIT_MISUSE, "slot");
            } else if (expect) {
                case_failed("unknown release expectation");
            } else if (!want) {
                case_failed("release without expect_granted");
            } else {
                CHECK_OK(st);
                if (want->type == JSON_NULL) {
                    CHECK(!hand.granted && hand.ticket.id == 0);
                } else {
                    named *t = want->type == JSON_STRING ? find_named(handles, &n, want->string, 0) : NULL;
                    CHECK(hand.granted && t && t->is_ticket && t->value == hand.ticket.id);
                }
            }
        } else if (str_eq(op, "cancel")) {
            resilience_bulkhead_cancellation_t out;
            resilience_bulkhead_ticket_t t;
            resilience_status_t st;
            if (!h || !h->is_ticket) { case_failed("cancel of an unknown ticket"); continue; }
            t.id = h->value;
            st = resilience_bulkhead_cancel(b, t, &out);
            if (str_eq(expect, "misuse")) {
                CHECK_STATUS(st, RESILIENCE_ERR_PERMIT_MISUSE, "slot");
            } else {
                CHECK_OK(st);
                if (str_eq(expect, "withdrawn")) {
                    CHECK(out.outcome == RESILIENCE_CANCEL_WITHDRAWN && out.slot.id == 0);
                } else if (str_eq(expect, "already_granted")) {
                    resilience_bulkhead_slot_t slot;
                    CHECK_OK(resilience_bulkhead_ticket_slot(t, &slot));
                    CHECK(out.outcome == RESILIENCE_CANCEL_ALREADY_GRANTED && out.slot.id == slot.id);
                } else {
                    case_failed("unknown cancel expectation");
                }
            }
        } else if (str_eq(op, "check")) {
            resilience_bulkhead_stats_t st;
            CHECK_OK(resilience_bulkhead_stats(b, &st));
            CHECK_EQ_U64(st.active, int_of(json_get(s, "active")));
            CHECK_EQ_U64(st.queued, int_of(json_get(s, "queued")));
        } else {
            case_failed("unknown bulkhead op");
        }
    }
    resilience_bulkhead_free(other);
    resilience_bulkhead_free(b);
}

/* The runners of issue 10's and 11's kinds (one translation unit with
 * this file: they use its helpers). */
static int kind_of(const char *name, resilience_config_error_kind_t *out);
#include "conformance_timeline.h"
#include "conformance_load.h"

/* ---- configuration ------------------------------------------------------ */

/* Components C has no face for are skipped, each with the reason: hedging
 * needs a runtime that can run attempts concurrently and cancel the losers
 * (DESIGN §7.3: Python asyncio, JavaScript, Rust async), and issue 10 gives
 * C the deadline and the event callback instead of a pipeline object. */
static int no_c_face(const json_value *component) {
    if (str_eq(component, "hedging")) {
        skip_reason = "C has no hedging (hedging is for runtimes that can cancel a running attempt)";
    } else if (str_eq(component, "pipeline")) {
        skip_reason = "C has no pipeline object (issue 10: C composes strategies by hand)";
    } else {
        return 0;
    }
    skip(NULL);
    return 1;
}

typedef enum { BUILT, REFUSED, NOT_RUN } build_result;

/* Builds the vector's component; NOT_RUN when C cannot express its config
 * (skipped) or the case is malformed (failed). */
static build_result build(const json_value *c, resilience_status_t *status) {
    const json_value *component = json_get(c, "component"), *config = json_get(c, "config");
    conversion conv;
    if (str_eq(component, "retry")) {
        resilience_retry_config_t cfg;
        int64_t codes[MAX_CODES];
        resilience_retry_policy_t *p = NULL;
        conv = retry_config_from(config, &cfg, codes);
        if (conv == CONV_OK) {
            *status = resilience_retry_policy_new(&cfg, &p);
            CHECK((*status == RESILIENCE_OK) == (p != NULL)); /* written only on success */
            resilience_retry_policy_free(p);
        }
    } else if (str_eq(component, "breaker")) {
        resilience_circuit_breaker_config_t cfg;
        resilience_circuit_breaker_t *b = NULL;
        conv = breaker_config_from(config, &cfg);
        if (conv == CONV_OK) {
            *status = resilience_circuit_breaker_new(&cfg, &b);
            CHECK((*status == RESILIENCE_OK) == (b != NULL));
            resilience_circuit_breaker_free(b);
        }
    } else if (str_eq(component, "bulkhead")) {
        resilience_bulkhead_config_t cfg;
        resilience_bulkhead_t *b = NULL;
        conv = bulkhead_config_from(config, &cfg);
        if (conv == CONV_OK) {
            *status = resilience_bulkhead_new(&cfg, &b);
            CHECK((*status == RESILIENCE_OK) == (b != NULL));
            resilience_bulkhead_free(b);
        }
    } else if (str_eq(component, "timeout")) {
        resilience_deadline_t d;
        int64_t timeout_ns = 0;
        conv = config && config->type == JSON_OBJECT && config->count == 1
                   ? ms_field(json_get(config, "timeout_ms"), &timeout_ns)
                   : CONV_MALFORMED;
        if (conv == CONV_OK) *status = resilience_timeout_start(timeout_ns, 0, &d);
    } else if (str_eq(component, "budget") || str_eq(component, "throttle") || str_eq(component, "limiter")) {
        conv = build_load(component->string, config, status);
    } else {
        case_failed("unknown component");
        return NOT_RUN;
    }
    if (conv == CONV_SKIP) { skip(NULL); return NOT_RUN; }
    if (conv != CONV_OK) { case_failed("malformed config"); return NOT_RUN; }
    return *status == RESILIENCE_OK ? BUILT : REFUSED;
}

/* The kinds, by the vectors' names: the runner's own table, so a wrong
 * mapping in the library cannot hide. */
static int kind_of(const char *name, resilience_config_error_kind_t *out) {
    static const struct {
        const char *name;
        resilience_config_error_kind_t kind;
    } kinds[] = {
        {"wrong_type", RESILIENCE_CONFIG_ERROR_WRONG_TYPE},     {"not_an_integer", RESILIENCE_CONFIG_ERROR_NOT_AN_INTEGER},
        {"not_a_number", RESILIENCE_CONFIG_ERROR_NOT_A_NUMBER}, {"too_small", RESILIENCE_CONFIG_ERROR_TOO_SMALL},
        {"too_large", RESILIENCE_CONFIG_ERROR_TOO_LARGE},       {"unknown_name", RESILIENCE_CONFIG_ERROR_UNKNOWN_NAME},
        {"below_other", RESILIENCE_CONFIG_ERROR_BELOW_OTHER},   {"requires_other", RESILIENCE_CONFIG_ERROR_REQUIRES_OTHER},
    };
    size_t i;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0) { *out = kinds[i].kind; return 1; }
    return 0;
}

/* The parameter as C spells it: a duration's field ends in _ns. */
static void c_spelling(const char *parameter, char *out, size_t len) {
    static const char *const durations[] = {"base_delay",        "max_delay",          "recovery_timeout",
                                            "timeout",           "sampling_duration",  "slow_call_duration",
                                            "max_recovery_timeout", "max_elapsed",     "attempt_timeout",
                                            "ttl",               "window",             "per"};
    size_t i;
    for (i = 0; i < sizeof durations / sizeof durations[0]; i++)
        if (strcmp(parameter, durations[i]) == 0) { snprintf(out, len, "%s_ns", parameter); return; }
    snprintf(out, len, "%s", parameter);
}

/* Building fails with RESILIENCE_ERR_INVALID_CONFIG, the vector's kind (via
 * resilience_last_error_kind()) and parameter (via
 * resilience_last_error_parameter(), and in the message). */
static void run_config_error(const json_value *c) {
    const json_value *param = json_get(c, "parameter"), *kind = json_get(c, "kind");
    resilience_status_t status = RESILIENCE_OK;
    resilience_config_error_kind_t want_kind;
    char spelled[96], prefix[112];
    if (no_c_face(json_get(c, "component"))) return;
    if (!param || param->type != JSON_STRING || !kind || kind->type != JSON_STRING) { case_failed("malformed"); return; }
    c_spelling(param->string, spelled, sizeof spelled);
    snprintf(prefix, sizeof prefix, "invalid %s:", spelled);
    switch (build(c, &status)) {
    case NOT_RUN: return;
    case BUILT: case_failed("built, expected a configuration error"); return;
    case REFUSED: break;
    }
    /* After building: a case C cannot express is skipped whatever its kind
     * (conflicts_with needs two windows, which C's window_kind cannot give). */
    if (!kind_of(kind->string, &want_kind)) { case_failed("unknown kind"); return; }
    CHECK_STATUS(status, RESILIENCE_ERR_INVALID_CONFIG, prefix);
    CHECK(strncmp(resilience_last_error_message(), prefix, strlen(prefix)) == 0);
    CHECK(strlen(resilience_last_error_message()) < 160); /* short whatever the input */
    if (resilience_last_error_kind() != want_kind) {
        fprintf(stderr, "kind %s, expected %s\n", resilience_config_error_kind_name(resilience_last_error_kind()),
                kind->string);
        case_failed("kind differs");
    }
    if (strcmp(resilience_last_error_parameter(), spelled) != 0) {
        fprintf(stderr, "parameter %s, expected %s\n", resilience_last_error_parameter(), spelled);
        case_failed("parameter differs");
    }
}

static void run_config_accepted(const json_value *c) {
    resilience_status_t status = RESILIENCE_OK;
    if (no_c_face(json_get(c, "component"))) return;
    if (build(c, &status) == REFUSED) case_failed(resilience_last_error_message());
}

/* ---- driver ------------------------------------------------------------- */

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    DIR *dir;
    struct dirent *e;
    char *names[256];
    size_t n_files = 0, n_cases = 0, n_skipped = 0, f;
    if (argc != 2) { fprintf(stderr, "usage: %s tests/conformance\n", argv[0]); return 2; }
    /* The name tables above are the C constants, in order. */
    CHECK(RESILIENCE_BACKOFF_FIXED == 0 && RESILIENCE_BACKOFF_FIBONACCI == 3 && RESILIENCE_JITTER_NONE == 0 &&
          RESILIENCE_JITTER_PROPORTIONAL == 1 && RESILIENCE_JITTER_DECORRELATED == 4);
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
        skipped_in_file = 0;
        if (!doc || !kind || !cases || cases->type != JSON_ARRAY || cases->count == 0) {
            fprintf(stderr, "%s: %s\n", names[f], doc ? "no kind/cases" : err);
            check_failures++;
            json_free(doc);
            free(names[f]);
            continue;
        }
        printf("%s:\n", names[f]);
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
            else if (str_eq(kind, "config_accepted")) run_config_accepted(c);
            else if (str_eq(kind, "retry_timeline")) run_retry_timeline(c);
            else if (str_eq(kind, "timeout")) run_timeout(c);
            else if (str_eq(kind, "events")) run_events(c);
            else if (str_eq(kind, "hedging")) run_hedging(c);
            else if (str_eq(kind, "budget")) run_budget(c);
            else if (str_eq(kind, "budget_retry")) run_budget_retry(c);
            else if (str_eq(kind, "throttle")) run_throttle(c);
            else if (str_eq(kind, "limiter")) run_limiter(c);
            else {
                fprintf(stderr, "%s: unknown kind %s\n", names[f], kind->string ? kind->string : "?");
                check_failures++;
                break;
            }
        }
        printf("  %zu case(s); %zu case(s) or entries skipped (each named above)\n", cases->count, skipped_in_file);
        n_skipped += skipped_in_file;
        json_free(doc);
        free(names[f]);
    }
    if (n_files == 0) { fprintf(stderr, "no vectors in %s\n", argv[1]); return 1; }
    printf("%zu file(s), %zu case(s), %zu case(s) or entries skipped\n", n_files, n_cases, n_skipped);
    return check_report("conformance");
}
