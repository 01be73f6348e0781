/* Part of test_conformance.c (included once, after its helpers): the
 * runners of issue 10's kinds — retry_timeline (the step API told the
 * clock), timeout (the standalone timeout's decision), events (one retry
 * or one breaker, through the executor's and the breaker's event
 * callbacks; other pipelines skipped) and hedging (skipped: C has none). */
#ifndef RESILIENCE_CONFORMANCE_TIMELINE_H
#define RESILIENCE_CONFORMANCE_TIMELINE_H

/* A vector's policy that C may not be able to express: NULL and skipped
 * (or failed, when malformed or refused). */
static resilience_retry_policy_t *policy_or_skip(const json_value *p, int64_t *codes) {
    resilience_retry_config_t cfg;
    resilience_retry_policy_t *policy = NULL;
    conversion conv = retry_config_from(p, &cfg, codes);
    if (conv == CONV_SKIP) { skip(NULL); return NULL; }
    if (conv != CONV_OK) { case_failed("bad policy object"); return NULL; }
    if (resilience_retry_policy_new(&cfg, &policy) != RESILIENCE_OK) case_failed(resilience_last_error_message());
    return policy;
}

/* A decision as the vectors expect it: { "retry_ns" }, { "give_up" } or
 * { "accept": true }; `attempt` is the failed attempt a retry names. */
static void check_decision(const resilience_retry_decision_t *d, const json_value *expect, size_t attempt,
                           size_t step) {
    const json_value *retry_ns = json_get(expect, "retry_ns"), *give_up = json_get(expect, "give_up");
    const json_value *accept = json_get(expect, "accept");
    if (!expect || expect->type != JSON_OBJECT || expect->count != 1 || (!retry_ns && !give_up && !accept)) {
        case_failed("malformed expect");
        return;
    }
    if (retry_ns) {
        if (d->action != RESILIENCE_RETRY_ACTION_RETRY || d->delay_ns != (uint64_t)int_of(retry_ns) ||
            d->attempt != attempt) {
            fprintf(stderr, "step %zu: action %u, attempt %u, delay %llu ns\n", step, d->action, d->attempt,
                    (unsigned long long)d->delay_ns);
            case_failed("expected a retry");
        }
    } else if (give_up) {
        if (d->action != RESILIENCE_RETRY_ACTION_GIVE_UP || d->reason != reason_of(give_up)) {
            fprintf(stderr, "step %zu: action %u, reason %s\n", step, d->action, resilience_give_up_reason_name(d->reason));
            case_failed("expected a give-up");
        }
    } else if (bool_of(accept) != 1 || d->action != RESILIENCE_RETRY_ACTION_ACCEPT) {
        case_failed("expected the value accepted");
    }
}

/* ---- retry_timeline ------------------------------------------------------- */

static void run_retry_timeline(const json_value *c) {
    const json_value *steps = json_get(c, "steps"), *start = json_get(c, "start_ms");
    resilience_retry_policy_t *policy = NULL;
    resilience_retry_state_t *state = NULL;
    int64_t codes[MAX_CODES], start_ns = 0;
    int clocked;
    size_t i;
    if (!steps || steps->type != JSON_ARRAY || !start) { case_failed("malformed"); return; }
    clocked = start->type != JSON_NULL;
    if (clocked && ms_field(start, &start_ns) != CONV_OK) { case_failed("bad start_ms"); return; }
    policy = policy_or_skip(json_get(c, "policy"), codes);
    if (!policy) return;
    /* With a clock, the sequence starts at start_ms; without, the deadline counts the waits. */
    if (clocked) CHECK_OK(resilience_retry_state_new_at(policy, start_ns, &state));
    else CHECK_OK(resilience_retry_state_new(policy, &state));
    for (i = 0; state && i < steps->count; i++) {
        const json_value *s = steps->items[i], *failure = json_get(s, "failure"), *at = json_get(s, "at_ms");
        const json_value *hint = json_get(s, "retry_after_ms");
        resilience_retry_decision_t d;
        int64_t now_ns = 0, hint_ns = 0;
        uint64_t hint_u;
        int has_hint = hint && hint->type != JSON_NULL;
        if (clocked ? (!at || ms_field(at, &now_ns) != CONV_OK) : at != NULL) { case_failed("bad at_ms"); break; }
        if (has_hint && ms_field(hint, &hint_ns) != CONV_OK) { case_failed("bad retry_after_ms"); break; }
        hint_u = (uint64_t)hint_ns;
        memset(&d, 0, sizeof d);
        if (str_eq(failure, "error")) {
            int retryable = bool_of(json_get(s, "retryable"));
            if (retryable < 0) break;
            if (clocked)
                CHECK_OK(resilience_retry_state_on_failure_at(state, retryable == 1, has_hint ? &hint_u : NULL, now_ns, &d));
            else if (has_hint)
                CHECK_OK(resilience_retry_state_on_failure_with_hint(state, retryable == 1, hint_u, &d));
            else
                CHECK_OK(resilience_retry_state_on_failure(state, retryable == 1, &d));
        } else if (str_eq(failure, "timeout")) {
            CHECK_OK(resilience_retry_state_on_timeout(state, clocked ? &now_ns : NULL, &d));
        } else if (str_eq(failure, "value")) {
            const json_value *judged = json_get(s, "judged");
            resilience_predicate_outcome_t outcome;
            if (str_eq(judged, "failure")) outcome = RESILIENCE_PREDICATE_YES;
            else if (str_eq(judged, "success")) outcome = RESILIENCE_PREDICATE_NO;
            else if (str_eq(judged, "fails")) outcome = RESILIENCE_PREDICATE_FAILED;
            else { case_failed("unknown judgement"); break; }
            CHECK_OK(resilience_retry_state_on_result(state, outcome, has_hint ? &hint_u : NULL,
                                                      clocked ? &now_ns : NULL, &d));
        } else {
            case_failed("unknown failure");
            break;
        }
        check_decision(&d, json_get(s, "expect"), i + 1, i);
    }
    resilience_retry_state_free(state);
    resilience_retry_policy_free(policy);
}

/* ---- timeout -------------------------------------------------------------- */

static void run_timeout(const json_value *c) {
    const json_value *checks = json_get(c, "checks");
    resilience_deadline_t d;
    int64_t timeout_ns = 0, start_ns = 0;
    conversion conv;
    size_t i;
    if (!checks || checks->type != JSON_ARRAY) { case_failed("malformed"); return; }
    conv = ms_field(json_get(c, "timeout_ms"), &timeout_ns);
    if (conv == CONV_OK) conv = ms_field(json_get(c, "start_ms"), &start_ns);
    for (i = 0; conv == CONV_OK && i < checks->count; i++) {
        int64_t at;
        conv = ms_field(json_get(checks->items[i], "at_ms"), &at);
    }
    if (conv == CONV_SKIP) { skip(NULL); return; }
    if (conv != CONV_OK) { case_failed("bad ms"); return; }
    CHECK_OK(resilience_timeout_start(timeout_ns, start_ns, &d));
    for (i = 0; i < checks->count; i++) {
        const json_value *k = checks->items[i];
        int64_t at = 0;
        bool expired = false;
        uint64_t remaining = 0;
        ms_field(json_get(k, "at_ms"), &at);
        CHECK_OK(resilience_deadline_expired(&d, at, &expired));
        CHECK_OK(resilience_deadline_remaining(&d, at, &remaining));
        if ((int)expired != bool_of(json_get(k, "expired")) || remaining != (uint64_t)int_of(json_get(k, "remaining_ns"))) {
            fprintf(stderr, "at %lld ns: expired %d, remaining %llu ns\n", (long long)at, (int)expired,
                    (unsigned long long)remaining);
            case_failed("timeout differs");
        }
    }
}

/* ---- hedging: none in C --------------------------------------------------- */

static void run_hedging(const json_value *c) {
    (void)c;
    skip_reason = "C has no hedging (hedging is for runtimes that can cancel a running attempt)";
    skip(NULL);
}

/* ---- events ----------------------------------------------------------------- */

#define MAX_RECORDS 32

typedef struct {
    resilience_event_t events[MAX_RECORDS];
    size_t n;
    int freed;
} event_log;

static void log_event(void *user_data, const resilience_event_t *e) {
    event_log *l = user_data;
    if (l->n < MAX_RECORDS) l->events[l->n] = *e;
    l->n++;
}

static void log_freed(void *user_data) {
    ((event_log *)user_data)->freed++;
}

/* The operation's scripted runs of one call. */
typedef struct {
    const json_value *outcomes;
    size_t runs;
    int beyond;
    int64_t takes_ns;
    vclock *clock;
    event_log log;
} event_script;

/* Outcome words as the operation returns them: a value (`ok`,
 * `bad_value`) is RESILIENCE_OP_SUCCESS; `error` a retryable code; `fatal`
 * one the retry filter rejects (a negative code). */
static int event_code(const json_value *o) {
    if (str_eq(o, "ok") || str_eq(o, "bad_value")) return RESILIENCE_OP_SUCCESS;
    if (str_eq(o, "error")) return RESILIENCE_OP_RETRYABLE;
    if (str_eq(o, "fatal")) return RESILIENCE_OP_FATAL;
    return 99;
}

static int event_op(void *user_data, uint32_t attempt) {
    event_script *s = user_data;
    const json_value *o = json_at(s->outcomes, s->runs);
    (void)attempt;
    s->clock->now_ns += s->takes_ns;
    s->runs++;
    if (!o || event_code(o) == 99) { s->beyond = 1; return RESILIENCE_OP_FATAL; }
    return event_code(o);
}

/* The retry's result predicate: `bad_value` is a failure. */
static resilience_predicate_outcome_t event_classify(void *user_data, uint32_t attempt, uint64_t *hint) {
    event_script *s = user_data;
    (void)attempt;
    (void)hint;
    return str_eq(json_at(s->outcomes, s->runs - 1), "bad_value") ? RESILIENCE_PREDICATE_YES : RESILIENCE_PREDICATE_NO;
}

static const char *cause_of(int code) {
    return code > 0 ? "error" : code < 0 ? "fatal" : "bad_value";
}

/* One event against its record: the type and exactly the fields the record
 * names (an unknown field fails). */
static void check_event(const resilience_event_t *e, const json_value *want, size_t k) {
    size_t i;
    const char *type = resilience_event_kind_name(e->kind);
    if (!want || want->type != JSON_OBJECT || !str_eq(json_get(want, "type"), type)) {
        fprintf(stderr, "event %zu: got %s\n", k, type);
        case_failed("event type differs");
        return;
    }
    for (i = 0; i < want->count; i++) {
        const char *key = want->keys[i];
        const json_value *v = want->items[i];
        int ok;
        if (strcmp(key, "type") == 0) continue;
        if (e->kind == RESILIENCE_EVENT_RETRY_SCHEDULED && strcmp(key, "attempt") == 0)
            ok = e->of.retry_scheduled.attempt == (uint32_t)int_of(v);
        else if (e->kind == RESILIENCE_EVENT_RETRY_SCHEDULED && strcmp(key, "delay_ns") == 0)
            ok = e->of.retry_scheduled.delay_ns == (uint64_t)int_of(v);
        else if (e->kind == RESILIENCE_EVENT_RETRY_SCHEDULED && strcmp(key, "cause") == 0)
            ok = str_eq(v, cause_of(e->of.retry_scheduled.code));
        else if (e->kind == RESILIENCE_EVENT_GAVE_UP && strcmp(key, "attempts") == 0)
            ok = e->of.gave_up.attempts == (uint32_t)int_of(v);
        else if (e->kind == RESILIENCE_EVENT_GAVE_UP && strcmp(key, "reason") == 0)
            ok = str_eq(v, resilience_give_up_reason_name(e->of.gave_up.reason));
        else if (e->kind == RESILIENCE_EVENT_BREAKER_TRANSITION && strcmp(key, "from") == 0)
            ok = str_eq(v, resilience_circuit_state_name(e->of.breaker_transition.from));
        else if (e->kind == RESILIENCE_EVENT_BREAKER_TRANSITION && strcmp(key, "to") == 0)
            ok = str_eq(v, resilience_circuit_state_name(e->of.breaker_transition.to));
        else if (e->kind == RESILIENCE_EVENT_BREAKER_REJECTED && strcmp(key, "retry_after_ns") == 0)
            ok = e->of.breaker_rejected.retry_after_ns == (uint64_t)int_of(v);
        else {
            fprintf(stderr, "event %zu: unknown field %s\n", k, key);
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "event %zu (%s): field %s differs\n", k, type, key);
            case_failed("event differs");
        }
    }
}

static void check_events(const event_log *log, const json_value *want) {
    size_t i;
    if (!want || want->type != JSON_ARRAY) { case_failed("no events"); return; }
    if (log->n != want->count) {
        fprintf(stderr, "%zu event(s), expected %zu\n", log->n, want->count);
        case_failed("event count differs");
    }
    for (i = 0; i < log->n && i < want->count && i < MAX_RECORDS; i++) check_event(&log->events[i], want->items[i], i);
}

/* Whether the call's script was run exactly (no run beyond it, none left). */
static void check_script(const event_script *s) {
    if (s->beyond || s->runs != s->outcomes->count) case_failed("the operation's runs differ from its script");
}

/* The executor's event callback gets the call's user data: the script. */
static void script_log_event(void *user_data, const resilience_event_t *e) {
    log_event(&((event_script *)user_data)->log, e);
}

/* The name of what the call surfaced: the last run's outcome word (its
 * value, or its error). */
static const char *last_outcome(const event_script *s) {
    const json_value *o = s->runs ? json_at(s->outcomes, s->runs - 1) : NULL;
    return o && o->type == JSON_STRING ? o->string : "";
}

/* One retry: each call through resilience_retry_execute_ex with the
 * vector's fixed filters (a negative code for `fatal`, the result
 * predicate for `bad_value`) and its event callback, on one virtual clock
 * that the runs (attempt_ms each) and the sleeps move. */
static void run_events_retry(const json_value *c, const json_value *strategy, int64_t takes_ns) {
    const json_value *calls = json_get(c, "calls");
    int64_t codes[MAX_CODES];
    resilience_retry_policy_t *policy = policy_or_skip(json_get(strategy, "policy"), codes);
    vclock clock;
    size_t i;
    if (!policy) return;
    memset(&clock, 0, sizeof clock);
    for (i = 0; calls && i < calls->count; i++) {
        const json_value *call = calls->items[i], *expected = json_get(call, "expected");
        const json_value *result = json_get(expected, "result");
        resilience_retry_call_t rc = resilience_retry_call_default();
        resilience_retry_outcome_t o;
        resilience_status_t st;
        event_script s;
        memset(&s, 0, sizeof s);
        s.outcomes = json_get(call, "outcomes");
        s.takes_ns = takes_ns;
        s.clock = &clock;
        if (!s.outcomes || s.outcomes->type != JSON_ARRAY || json_get(expected, "breaker")) {
            case_failed("malformed call");
            break;
        }
        rc.op = event_op;
        rc.user_data = &s;
        rc.classify_result = event_classify;
        rc.on_event = script_log_event;
        rc.time = vclock_borrowed(&clock);
        st = resilience_retry_execute_ex(policy, &rc, &o);
        check_script(&s);
        if (st != RESILIENCE_OK && st != RESILIENCE_ERR_OPERATION_FAILED && st != RESILIENCE_ERR_TIMEOUT)
            case_failed(resilience_last_error_message());
        if (!str_eq(result, last_outcome(&s))) {
            fprintf(stderr, "call %zu: status %d, surfaced %s\n", i, (int)st, last_outcome(&s));
            case_failed("result differs");
        }
        /* A value surfaces with RESILIENCE_OK; an error with a failure status
         * (RESILIENCE_ERR_TIMEOUT exactly when it gave up on the deadline). */
        if ((st == RESILIENCE_OK) != (str_eq(result, "ok") || str_eq(result, "bad_value"))) case_failed("status differs");
        if ((st == RESILIENCE_ERR_TIMEOUT) != (st != RESILIENCE_OK && o.reason == RESILIENCE_GIVE_UP_DEADLINE))
            case_failed("RESILIENCE_ERR_TIMEOUT is for the deadline");
        check_events(&s.log, json_get(expected, "events"));
    }
    resilience_retry_policy_free(policy);
}

/* One breaker: each call asks for a permit; a rejection surfaces as
 * `breaker_open` (the operation does not run); otherwise the run's outcome
 * is reported: `ok` a success, anything else a failure (every error
 * counts, and the breaker's result predicate calls `bad_value` one). */
static void run_events_breaker(const json_value *c, const json_value *strategy, int64_t takes_ns) {
    const json_value *calls = json_get(c, "calls");
    resilience_circuit_breaker_config_t cfg;
    resilience_circuit_breaker_t *b = NULL;
    event_log log;
    vclock *clock = NULL;
    int clock_freed = 0;
    size_t i;
    conversion conv = breaker_config_from(json_get(strategy, "config"), &cfg);
    if (conv == CONV_SKIP) { skip(NULL); return; }
    if (conv != CONV_OK) { case_failed("bad breaker config"); return; }
    memset(&log, 0, sizeof log);
    cfg.clock = vclock_owned(&clock, &clock_freed);
    cfg.events.user_data = &log;
    cfg.events.on_event = log_event;
    cfg.events.free_user_data = log_freed;
    CHECK_OK(resilience_circuit_breaker_new(&cfg, &b));
    for (i = 0; b && calls && i < calls->count; i++) {
        const json_value *call = calls->items[i], *expected = json_get(call, "expected");
        const json_value *outcomes = json_get(call, "outcomes"), *want = json_get(expected, "breaker");
        resilience_permit_t permit;
        resilience_rejection_t why;
        const char *surfaced = "";
        log.n = 0;
        if (!outcomes || outcomes->type != JSON_ARRAY) { case_failed("malformed call"); break; }
        if (resilience_circuit_breaker_try_acquire_ex(b, &permit, &why) == RESILIENCE_OK) {
            const json_value *o = json_at(outcomes, 0);
            clock->now_ns += takes_ns;
            if (!o || outcomes->count != 1 || event_code(o) == 99) {
                case_failed("the operation's runs differ from its script");
                CHECK_OK(resilience_circuit_breaker_release(b, permit));
                continue;
            }
            surfaced = o->string;
            if (str_eq(o, "ok")) CHECK_OK(resilience_circuit_breaker_record_success(b, permit));
            else CHECK_OK(resilience_circuit_breaker_record_failure(b, permit));
        } else {
            surfaced = "breaker_open";
            if (outcomes->count != 0) case_failed("the operation's runs differ from its script");
        }
        if (!str_eq(json_get(expected, "result"), surfaced)) {
            fprintf(stderr, "call %zu: surfaced %s\n", i, surfaced);
            case_failed("result differs");
        }
        check_events(&log, json_get(expected, "events"));
        if (want) {
            resilience_circuit_state_t state = 99;
            uint32_t failures = 0;
            CHECK_OK(resilience_circuit_breaker_state(b, &state));
            CHECK_OK(resilience_circuit_breaker_failure_count(b, &failures));
            if (!str_eq(json_get(want, "state"), resilience_circuit_state_name(state))) case_failed("state differs");
            CHECK_EQ_U64(failures, int_of(json_get(want, "failure_count")));
        }
    }
    resilience_circuit_breaker_free(b);
    CHECK(clock_freed == 1 && log.freed == 1);
}

/* Whether every strategy of an `events` pipeline has only the keys the
 * format names (tests/README.md), so a new key can never be skipped
 * silently, not even in a case C skips. */
static int strategy_keys_known(const json_value *pipeline) {
    static const char *const known[] = {"strategy", "policy", "config", "fallbacks", "occupied", "taken", "history"};
    size_t i, k, n;
    for (i = 0; i < pipeline->count; i++) {
        const json_value *s = pipeline->items[i];
        if (s->type != JSON_OBJECT) return 0;
        for (k = 0; k < s->count; k++) {
            for (n = 0; n < sizeof known / sizeof known[0]; n++)
                if (strcmp(s->keys[k], known[n]) == 0) break;
            if (n == sizeof known / sizeof known[0]) {
                fprintf(stderr, "unknown strategy key %s\n", s->keys[k]);
                return 0;
            }
        }
    }
    return 1;
}

static void run_events(const json_value *c) {
    const json_value *pipeline = json_get(c, "pipeline"), *attempt_ms = json_get(c, "attempt_ms");
    const json_value *only = json_at(pipeline, 0);
    int64_t takes_ns = 0;
    if (!pipeline || pipeline->type != JSON_ARRAY || pipeline->count == 0) { case_failed("malformed"); return; }
    if (!strategy_keys_known(pipeline)) { case_failed("unknown strategy key"); return; }
    if (attempt_ms && ms_field(attempt_ms, &takes_ns) != CONV_OK) { case_failed("bad attempt_ms"); return; }
    if (pipeline->count == 1 && str_eq(json_get(only, "strategy"), "retry")) {
        run_events_retry(c, only, takes_ns);
    } else if (pipeline->count == 1 && str_eq(json_get(only, "strategy"), "breaker")) {
        run_events_breaker(c, only, takes_ns);
    } else {
        skip_reason = "a pipeline other than one retry or one breaker (several strategies, a rate limiter, a "
                      "throttle): C has no pipeline object (issue 10); it runs the cases of one retry or one breaker";
        skip(NULL);
    }
}

#endif
