/* libFuzzer harness over the C ABI: configurations and outcome scripts from
 * arbitrary bytes (retry with a deadline, the step API on a clock, results
 * and events; breakers; bulkheads; fallbacks; retry budgets, adaptive
 * throttles, rate limiters, timeouts), and arbitrary bytes as breaker
 * snapshot documents. Any
 * crash, sanitizer report or broken invariant (abort) is a finding.
 *
 * Short run (part of `make test-c`): fuzz_c_abi -max_total_time=20 CORPUS SEEDS
 * Long run:  make c-fuzz C_FUZZ_SECONDS=3600   (or run target/c/fuzz_c_abi
 *            -max_total_time=3600 -jobs=2 target/c/fuzz-corpus) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes;

static uint64_t take(bytes *b, size_t width) {
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < width && b->n; i++, b->n--, b->p++) v = (v << 8) | *b->p;
    return v;
}

#define REQUIRE(cond) \
    do {              \
        if (!(cond)) abort(); \
    } while (0)

static void require_known_status(resilience_status_t s) {
    REQUIRE((int)s >= RESILIENCE_OK && (int)s <= RESILIENCE_ERR_THROTTLED && s != RESILIENCE_ERR_PANIC);
    REQUIRE(resilience_last_error_message() != NULL && resilience_last_error_parameter() != NULL);
    /* A configuration error always says which rule and which field. */
    if (s == RESILIENCE_ERR_INVALID_CONFIG)
        REQUIRE(resilience_last_error_kind() != RESILIENCE_CONFIG_ERROR_NONE && resilience_last_error_parameter()[0] != '\0');
}

typedef struct {
    int64_t now; /* any reading, negative and huge ones included */
    const uint8_t *script;
    size_t script_len;
} world;

static int64_t world_now(void *u) { return ((world *)u)->now; }
/* A reading `step` later, saturating: the harness itself must not overflow
 * (signed overflow is undefined) where the library copes with any reading. */
static int64_t forward(int64_t now, uint64_t step) {
    return step > (uint64_t)(INT64_MAX - (now < 0 ? 0 : now)) ? INT64_MAX : now + (int64_t)step;
}

static void world_sleep(void *u, uint64_t ns) { ((world *)u)->now = (int64_t)((uint64_t)((world *)u)->now + ns); }

static int scripted(void *u, uint32_t attempt) {
    world *w = u;
    if (attempt == 0 || attempt > w->script_len) return RESILIENCE_OP_SUCCESS;
    return (int)(int8_t)w->script[attempt - 1];
}

/* a + b, saturating at UINT64_MAX. */
static uint64_t sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The step API on a clock: every retry decided must let the next attempt
 * start before the deadline (elapsed + wait < max_elapsed, where elapsed is
 * never less than the waits decided before), and every decision must be
 * one of the documented shapes. */
static void fuzz_clocked_steps(bytes *b, const resilience_retry_policy_t *p, const resilience_retry_config_t *cfg) {
    resilience_retry_state_t *s = NULL;
    int64_t start = (int64_t)take(b, 4), now = start;
    uint64_t start_reading = start < 0 ? 0 : (uint64_t)start, deadline = 0;
    bool has = false;
    int i;
    REQUIRE(resilience_retry_state_new_at(p, start, &s) == RESILIENCE_OK);
    REQUIRE(resilience_retry_state_deadline(s, &has, &deadline) == RESILIENCE_OK);
    REQUIRE(has == cfg->has_max_elapsed);
    if (has) REQUIRE(deadline == sat_add(start_reading, (uint64_t)cfg->max_elapsed_ns));
    for (i = 0; i < 12 && b->n; i++) {
        resilience_retry_decision_t d;
        uint8_t c = (uint8_t)take(b, 1);
        uint64_t hint = take(b, 4), waited = 0, elapsed, reading;
        resilience_status_t st;
        now = (c & 0x80) ? (int64_t)take(b, 8) : forward(now, take(b, 3));
        reading = now < 0 ? 0 : (uint64_t)now;
        REQUIRE(resilience_retry_state_total_delay(s, &waited) == RESILIENCE_OK);
        switch (c % 4) {
        case 0: st = resilience_retry_state_on_failure_at(s, c & 4, (c & 8) ? &hint : NULL, now, &d); break;
        case 1: st = resilience_retry_state_on_failure_classified_at(s, (c >> 4) % 3, (c & 8) ? &hint : NULL, now, &d); break;
        case 2: st = resilience_retry_state_on_timeout(s, (c & 8) ? &now : NULL, &d); break;
        default: st = resilience_retry_state_on_result(s, (c >> 4) % 4, (c & 8) ? &hint : NULL, &now, &d); break;
        }
        if (c % 4 == 3 && (c >> 4) % 4 == 3) { REQUIRE(st == RESILIENCE_ERR_INVALID_ARGUMENT); continue; }
        REQUIRE(st == RESILIENCE_OK);
        if (d.action == RESILIENCE_RETRY_ACTION_ACCEPT) {
            REQUIRE(c % 4 == 3 && d.reason == RESILIENCE_GIVE_UP_NONE && d.delay_ns == 0);
            continue;
        }
        if (d.action == RESILIENCE_RETRY_ACTION_GIVE_UP) {
            REQUIRE(d.reason >= RESILIENCE_GIVE_UP_EXHAUSTED && d.reason <= RESILIENCE_GIVE_UP_DEADLINE);
            if (d.reason == RESILIENCE_GIVE_UP_DEADLINE) REQUIRE(cfg->has_max_elapsed);
            break;
        }
        REQUIRE(d.action == RESILIENCE_RETRY_ACTION_RETRY && (int64_t)d.attempt < cfg->max_attempts);
        if (cfg->has_max_elapsed) {
            /* Real time counts only where a reading was given (case 2 may pass none). */
            elapsed = (c % 4 == 2 && !(c & 8)) || reading < start_reading ? 0 : reading - start_reading;
            if (elapsed < waited) elapsed = waited;
            REQUIRE(sat_add(elapsed, d.delay_ns) < (uint64_t)cfg->max_elapsed_ns);
        }
    }
    resilience_retry_state_free(s);
}

/* execute_ex on the world's clock, with a result predicate judging by the
 * script's bytes and an event callback that checks each event's shape. */
typedef struct {
    world *w;
    unsigned events, gave_up;
    uint64_t delays;
} fuzz_events;

static resilience_predicate_outcome_t fuzz_classify(void *u, uint32_t attempt, uint64_t *hint) {
    fuzz_events *e = u;
    uint8_t byte = attempt >= 1 && attempt <= e->w->script_len ? e->w->script[attempt - 1] : 0;
    REQUIRE(*hint == 0);
    *hint = (uint64_t)(byte >> 4) * 1000;
    return (resilience_predicate_outcome_t)(byte % 4); /* 3: no such answer (counts as failed) */
}

static int fuzz_op(void *u, uint32_t attempt) {
    return scripted(((fuzz_events *)u)->w, attempt);
}

static void fuzz_on_event(void *u, const resilience_event_t *ev) {
    fuzz_events *e = u;
    REQUIRE(ev->kind == RESILIENCE_EVENT_RETRY_SCHEDULED || ev->kind == RESILIENCE_EVENT_GAVE_UP);
    REQUIRE(e->gave_up == 0); /* nothing after giving up */
    if (ev->kind == RESILIENCE_EVENT_GAVE_UP) {
        REQUIRE(ev->of.gave_up.reason >= RESILIENCE_GIVE_UP_EXHAUSTED && ev->of.gave_up.reason <= RESILIENCE_GIVE_UP_DEADLINE);
        e->gave_up++;
    } else {
        REQUIRE(ev->of.retry_scheduled.attempt == e->events + 1);
        REQUIRE(ev->of.retry_scheduled.code >= 0);
        e->delays = sat_add(e->delays, ev->of.retry_scheduled.delay_ns);
        e->events++;
    }
}

static void fuzz_execute_ex(const resilience_retry_policy_t *p, const resilience_retry_config_t *cfg, world *w,
                            const resilience_time_source_t *t) {
    resilience_retry_call_t call = resilience_retry_call_default();
    resilience_retry_outcome_t o;
    fuzz_events e = {0, 0, 0, 0};
    resilience_status_t st;
    e.w = w;
    call.op = fuzz_op;
    call.user_data = &e;
    call.classify_result = fuzz_classify;
    call.on_event = fuzz_on_event;
    call.time = *t;
    call.time.user_data = w;
    st = resilience_retry_execute_ex(p, &call, &o);
    REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_OPERATION_FAILED || st == RESILIENCE_ERR_TIMEOUT);
    REQUIRE(o.attempts >= 1 && (int64_t)o.attempts <= cfg->max_attempts);
    REQUIRE(o.attempts == e.events + 1 && o.total_delay_ns == e.delays);
    /* Gave up (with an event) exactly when the outcome has a reason. */
    REQUIRE((o.reason != RESILIENCE_GIVE_UP_NONE) == (e.gave_up == 1));
    if (st != RESILIENCE_OK) REQUIRE(o.reason != RESILIENCE_GIVE_UP_NONE && o.last_code != 0);
}

static void fuzz_retry(bytes *b) {
    resilience_retry_config_t cfg = resilience_retry_config_default();
    resilience_retry_policy_t *p = NULL;
    resilience_retry_state_t *s = NULL;
    resilience_retry_outcome_t o;
    resilience_time_source_t t = resilience_time_source_system();
    world w = {0, NULL, 0};
    int64_t codes[4];
    resilience_status_t st;
    int i;
    /* Small attempt counts most of the time, anything sometimes. */
    cfg.max_attempts = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(take(b, 1) % 12);
    cfg.backoff = (uint32_t)take(b, 1) % 6;
    cfg.jitter = (uint32_t)take(b, 1) % 7;
    cfg.base_delay_ns = (int64_t)take(b, 8);
    /* Unsigned sum: wrapping past INT64_MAX gives a negative (invalid) delay, not UB. */
    cfg.max_delay_ns = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)((uint64_t)cfg.base_delay_ns + take(b, 4));
    cfg.seeded = take(b, 1) & 1;
    cfg.seed = take(b, 8);
    for (i = 0; i < 4; i++) codes[i] = (take(b, 1) & 1) ? (int64_t)take(b, 8) : 100 + (int64_t)(take(b, 2) % 500);
    if (take(b, 1) & 1) { cfg.retryable_status_codes = codes; cfg.retryable_status_codes_len = take(b, 1) % 5; }
    /* Issue 10: a deadline (small, or anything) and an attempt timeout. */
    cfg.has_max_elapsed = take(b, 1) & 1;
    cfg.max_elapsed_ns = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)take(b, 4) - 1000;
    cfg.attempt_timeout_ns = (take(b, 1) & 1) ? 0 : (int64_t)take(b, 2) - 10;
    st = resilience_retry_policy_new(&cfg, &p);
    require_known_status(st);
    if (st != RESILIENCE_OK) { REQUIRE(st == RESILIENCE_ERR_INVALID_CONFIG && p == NULL); return; }
    REQUIRE(!cfg.has_max_elapsed || cfg.max_elapsed_ns >= 0);
    REQUIRE(cfg.attempt_timeout_ns >= 0);
    REQUIRE(cfg.max_attempts >= 1 && cfg.max_attempts <= UINT32_MAX && cfg.base_delay_ns >= 0 &&
            cfg.max_delay_ns >= cfg.base_delay_ns && cfg.backoff <= RESILIENCE_BACKOFF_FIBONACCI &&
            cfg.jitter <= RESILIENCE_JITTER_DECORRELATED);
    for (i = 0; cfg.retryable_status_codes && i < (int)cfg.retryable_status_codes_len; i++)
        REQUIRE(codes[i] >= 100 && codes[i] <= 599);
    for (i = 0; i < 8 && b->n; i++) {
        uint64_t d = 0, raw = 0;
        int64_t attempt = (int64_t)take(b, 8);
        bool yes = false;
        REQUIRE(resilience_retry_policy_calculate_delay(p, attempt, &d) == RESILIENCE_OK);
        REQUIRE(resilience_retry_policy_raw_delay(p, attempt, &raw) == RESILIENCE_OK);
        REQUIRE(raw <= (uint64_t)cfg.max_delay_ns);
        /* Proportional jitter may reach 1.25 x max_delay; every other mode stays under it. */
        REQUIRE(d / 5 <= (uint64_t)cfg.max_delay_ns / 4 + 1);
        if (attempt <= 0) REQUIRE(d == 0 && raw == 0);
        REQUIRE(resilience_retry_policy_should_retry(p, attempt, true, &yes) == RESILIENCE_OK);
        REQUIRE(!yes || attempt < cfg.max_attempts);
        REQUIRE(resilience_retry_policy_should_retry_status(p, (int64_t)take(b, 2), attempt, &yes) == RESILIENCE_OK);
        REQUIRE(resilience_retry_policy_cap_retry_after(p, take(b, 8), &d) == RESILIENCE_OK);
        REQUIRE(d <= (uint64_t)cfg.max_delay_ns);
    }
    /* The step API over an outcome script (plain, hinted and classified),
     * and, on a clock (issue 10), the *_at, timeout and result steps. */
    fuzz_clocked_steps(b, p, &cfg);
    REQUIRE(resilience_retry_state_new(p, &s) == RESILIENCE_OK);
    for (i = 0; i < 16 && b->n; i++) {
        resilience_retry_decision_t d;
        uint8_t c = (uint8_t)take(b, 1);
        uint64_t hint = take(b, 8);
        bool needs = false;
        uint32_t attempt = 0;
        REQUIRE(resilience_retry_state_needs_classification(s, &needs) == RESILIENCE_OK);
        REQUIRE(resilience_retry_state_attempt(s, &attempt) == RESILIENCE_OK);
        REQUIRE(needs == ((int64_t)attempt < cfg.max_attempts));
        switch (c % 4) {
        case 0: st = resilience_retry_state_on_failure(s, c & 4, &d); break;
        case 1: st = resilience_retry_state_on_failure_with_hint(s, c & 4, hint, &d); break;
        default:
            st = resilience_retry_state_on_failure_classified(s, (uint32_t)(c >> 2) % 4, (c & 1) ? &hint : NULL, &d);
            if ((c >> 2) % 4 == 3) { REQUIRE(st == RESILIENCE_ERR_INVALID_ARGUMENT); continue; }
            /* No, or a filter that failed: give up (not retryable; exhausted on the last attempt). */
            if ((c >> 2) % 4 != RESILIENCE_PREDICATE_YES)
                REQUIRE(st == RESILIENCE_OK && d.action == RESILIENCE_RETRY_ACTION_GIVE_UP &&
                        d.reason == (needs ? RESILIENCE_GIVE_UP_NOT_RETRYABLE : RESILIENCE_GIVE_UP_EXHAUSTED));
            break;
        }
        REQUIRE(st == RESILIENCE_OK);
        if (!needs) REQUIRE(d.action == RESILIENCE_RETRY_ACTION_GIVE_UP && d.reason == RESILIENCE_GIVE_UP_EXHAUSTED);
        if (d.action == RESILIENCE_RETRY_ACTION_GIVE_UP) {
            REQUIRE(d.reason == RESILIENCE_GIVE_UP_EXHAUSTED || d.reason == RESILIENCE_GIVE_UP_NOT_RETRYABLE ||
                    (cfg.has_max_elapsed && d.reason == RESILIENCE_GIVE_UP_DEADLINE));
            break;
        }
        REQUIRE(d.action == RESILIENCE_RETRY_ACTION_RETRY && (int64_t)d.attempt < cfg.max_attempts);
    }
    resilience_retry_state_free(s);
    /* The blocking executor over the same kind of script, on virtual time. */
    w.script = b->p;
    w.script_len = b->n < 16 ? b->n : 16;
    t.user_data = &w;
    t.now_ns = world_now;
    t.sleep_ns = world_sleep;
    st = resilience_retry_execute(p, scripted, NULL, &w, &t, &o);
    REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_OPERATION_FAILED || st == RESILIENCE_ERR_TIMEOUT);
    REQUIRE(o.attempts >= 1 && (int64_t)o.attempts <= cfg.max_attempts);
    REQUIRE((st == RESILIENCE_OK) == (o.last_code == 0));
    REQUIRE((st == RESILIENCE_ERR_TIMEOUT) == (o.reason == RESILIENCE_GIVE_UP_DEADLINE));
    /* The same script with a result predicate and events (execute_ex). */
    fuzz_execute_ex(p, &cfg, &w, &t);
    resilience_retry_policy_free(p);
}

/* Every transition reported must be a real change between known states. */
static void check_transition(void *u, resilience_circuit_state_t from, resilience_circuit_state_t to) {
    REQUIRE(from != to && from <= RESILIENCE_CIRCUIT_ISOLATED && to <= RESILIENCE_CIRCUIT_ISOLATED);
    ++*(unsigned *)u;
}

/* A ratio: mostly 0 (rule off) or a share, sometimes any double at all. */
static double take_ratio(bytes *b) {
    uint8_t pick = (uint8_t)take(b, 1);
    uint64_t bits;
    double d;
    if (pick % 4 == 0) return 0.0;
    if (pick % 4 != 3) return (double)(pick >> 2) / 32.0; /* 0 .. 1.97 */
    bits = take(b, 8);
    memcpy(&d, &bits, sizeof d); /* NaN, infinities, subnormals included */
    return d;
}

/* The fields of issue 9, from bytes (valid and invalid alike). */
static void take_rate_fields(bytes *b, resilience_circuit_breaker_config_t *cfg) {
    cfg->failure_ratio = take_ratio(b);
    cfg->minimum_throughput = (int64_t)(int8_t)take(b, 1);
    cfg->window_kind = (uint32_t)take(b, 1) % 3;
    cfg->sampling_duration_ns = (int64_t)take(b, 3) - 100;
    cfg->sampling_buckets = (int64_t)(int16_t)take(b, 2);
    cfg->window_size = (int64_t)(int8_t)take(b, 1);
    cfg->slow_call_ratio = take_ratio(b);
    cfg->slow_call_duration_ns = (int64_t)take(b, 2) - 100;
    cfg->break_backoff = (uint32_t)take(b, 1) % 6;
    if (cfg->break_backoff == 5) cfg->break_backoff = RESILIENCE_BACKOFF_NONE;
    cfg->max_recovery_timeout_ns = (int64_t)take(b, 3) - 100;
}

/* A breaker's metrics agree with themselves. */
static void require_sane_metrics(const resilience_circuit_breaker_t *br) {
    resilience_circuit_breaker_metrics_t m;
    REQUIRE(resilience_circuit_breaker_metrics(br, &m) == RESILIENCE_OK);
    REQUIRE(m.state <= RESILIENCE_CIRCUIT_ISOLATED);
    REQUIRE(m.window_failures <= m.window_calls && m.window_slow_calls <= m.window_calls);
    REQUIRE(m.failure_ratio >= 0.0 && m.failure_ratio <= 1.0 && m.slow_call_ratio >= 0.0 && m.slow_call_ratio <= 1.0);
}

/* Snapshot `br` (asking for the length first) and build a breaker of `cfg`
 * back from the document: it must be readable, and start in the same state
 * (times are relative, the clock is the same). */
static void require_round_trip(const resilience_circuit_breaker_t *br, const resilience_circuit_breaker_config_t *cfg) {
    resilience_circuit_breaker_t *back = NULL;
    resilience_circuit_breaker_config_t plain = *cfg;
    resilience_circuit_state_t before, after;
    size_t len = 0, again = 0;
    char *doc;
    REQUIRE(resilience_circuit_breaker_snapshot(br, NULL, 0, &len) == RESILIENCE_ERR_BUFFER_TOO_SMALL && len > 0);
    doc = malloc(len + 1);
    REQUIRE(doc != NULL);
    REQUIRE(resilience_circuit_breaker_snapshot(br, doc, len, &again) == RESILIENCE_ERR_BUFFER_TOO_SMALL && again == len);
    REQUIRE(resilience_circuit_breaker_snapshot(br, doc, len + 1, &again) == RESILIENCE_OK && again == len);
    REQUIRE(doc[len] == '\0' && strlen(doc) == len);
    plain.listener.on_transition = NULL;
    plain.listener.free_user_data = NULL;
    REQUIRE(resilience_circuit_breaker_new_from_snapshot(&plain, doc, len, &back) == RESILIENCE_OK);
    REQUIRE(resilience_circuit_breaker_state(br, &before) == RESILIENCE_OK);
    REQUIRE(resilience_circuit_breaker_state(back, &after) == RESILIENCE_OK);
    REQUIRE(before == after);
    resilience_circuit_breaker_free(back);
    free(doc);
}

static void fuzz_breaker(bytes *b) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *br = NULL;
    resilience_permit_t held[4], spent;
    size_t n_held = 0;
    int has_spent = 0;
    world w = {0, NULL, 0};
    unsigned transitions = 0;
    resilience_status_t st;
    int i;
    cfg.failure_threshold = (int64_t)(int8_t)take(b, 1);
    cfg.recovery_timeout_ns = (int64_t)take(b, 2) - 100;
    cfg.half_open_max_calls = (int64_t)(int8_t)take(b, 1);
    if (take(b, 1) & 1) take_rate_fields(b, &cfg);
    cfg.clock.user_data = &w;
    cfg.clock.now_ns = world_now;
    cfg.listener.user_data = &transitions;
    cfg.listener.on_transition = check_transition;
    st = resilience_circuit_breaker_new(&cfg, &br);
    require_known_status(st);
    if (st != RESILIENCE_OK) { REQUIRE(br == NULL); return; }
    for (i = 0; i < 64 && b->n; i++) {
        uint8_t op = (uint8_t)take(b, 1);
        resilience_permit_t p;
        resilience_circuit_state_t state;
        uint32_t count;
        uint64_t wait = 0;
        switch (op % 8) {
        case 0: case 1: {
            resilience_rejection_t why;
            resilience_circuit_state_t s_now;
            REQUIRE(resilience_circuit_breaker_state(br, &s_now) == RESILIENCE_OK);
            st = (op & 0x20) ? resilience_circuit_breaker_try_acquire(br, &p, &wait)
                             : resilience_circuit_breaker_try_acquire_ex(br, &p, &why);
            REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_CIRCUIT_OPEN);
            if (st == RESILIENCE_ERR_CIRCUIT_OPEN && !(op & 0x20)) {
                wait = why.retry_after_ns;
                REQUIRE(why.reason >= RESILIENCE_REJECT_OPEN && why.reason <= RESILIENCE_REJECT_ISOLATED);
                REQUIRE((why.reason == RESILIENCE_REJECT_ISOLATED) == (s_now == RESILIENCE_CIRCUIT_ISOLATED));
            }
            /* The wait is at most the longest break; isolated: "until closed". */
            if (st == RESILIENCE_ERR_CIRCUIT_OPEN && s_now != RESILIENCE_CIRCUIT_ISOLATED)
                REQUIRE(wait <= (uint64_t)cfg.recovery_timeout_ns ||
                        (cfg.break_backoff != RESILIENCE_BACKOFF_NONE && wait <= (uint64_t)cfg.max_recovery_timeout_ns));
            if (st == RESILIENCE_ERR_CIRCUIT_OPEN && s_now == RESILIENCE_CIRCUIT_ISOLATED) REQUIRE(wait == UINT64_MAX);
            if (st == RESILIENCE_OK) {
                if (op & 0x40) w.now = forward(w.now, take(b, 2)); /* the call takes time (slow calls) */
                if (n_held < 4) held[n_held++] = p;
            }
            break;
        }
        case 2: case 3: case 4:
            /* A permit held (reported once: accepted), or one reported
             * already (any time later, after resets too: always refused,
             * changing nothing). */
            if ((op & 0x40) && has_spent) {
                uint32_t before = 0, after = 0;
                resilience_circuit_state_t s_before, s_after;
                REQUIRE(resilience_circuit_breaker_failure_count(br, &before) == RESILIENCE_OK);
                REQUIRE(resilience_circuit_breaker_state(br, &s_before) == RESILIENCE_OK);
                st = op % 8 == 2   ? resilience_circuit_breaker_record_success(br, spent)
                     : op % 8 == 3 ? resilience_circuit_breaker_record_failure(br, spent)
                                   : resilience_circuit_breaker_release(br, spent);
                REQUIRE(st == RESILIENCE_ERR_PERMIT_MISUSE);
                REQUIRE(resilience_circuit_breaker_failure_count(br, &after) == RESILIENCE_OK);
                REQUIRE(resilience_circuit_breaker_state(br, &s_after) == RESILIENCE_OK);
                REQUIRE(before == after && s_before == s_after);
            } else if (n_held) {
                p = held[--n_held];
                st = op % 8 == 2   ? resilience_circuit_breaker_record_success(br, p)
                     : op % 8 == 3 ? resilience_circuit_breaker_record_failure(br, p)
                                   : resilience_circuit_breaker_release(br, p);
                REQUIRE(st == RESILIENCE_OK);
                spent = p;
                has_spent = 1;
            }
            break;
        case 5: w.now = (op & 0x10) ? (int64_t)take(b, 8) : forward(w.now, take(b, 2)); break;
        case 6:
            p.token = take(b, 8); /* a forged permit is refused, harmlessly */
            st = resilience_circuit_breaker_record_failure(br, p);
            REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_PERMIT_MISUSE);
            break;
        default:
            switch ((op >> 3) % 6) {
            case 0: REQUIRE(resilience_circuit_breaker_reset(br) == RESILIENCE_OK); break;
            case 1:
                REQUIRE(resilience_circuit_breaker_isolate(br) == RESILIENCE_OK);
                REQUIRE(resilience_circuit_breaker_state(br, &state) == RESILIENCE_OK && state == RESILIENCE_CIRCUIT_ISOLATED);
                break;
            case 2:
                REQUIRE(resilience_circuit_breaker_close(br) == RESILIENCE_OK);
                REQUIRE(resilience_circuit_breaker_state(br, &state) == RESILIENCE_OK && state == RESILIENCE_CIRCUIT_CLOSED);
                break;
            case 3: require_round_trip(br, &cfg); break;
            default: break;
            }
            break;
        }
        require_sane_metrics(br);
        REQUIRE(resilience_circuit_breaker_state(br, &state) == RESILIENCE_OK && state <= RESILIENCE_CIRCUIT_ISOLATED);
        REQUIRE(resilience_circuit_breaker_failure_count(br, &count) == RESILIENCE_OK);
    }
    resilience_circuit_breaker_free(br);
}

static void fuzz_bulkhead_and_fallback(bytes *b) {
    resilience_bulkhead_config_t cfg = resilience_bulkhead_config_default();
    resilience_bulkhead_t *bh = NULL;
    resilience_fallback_t *fb = NULL;
    resilience_fallback_step_t step;
    resilience_status_t st;
    size_t fallbacks = take(b, 1) % 5, calls = 0;
    int i;
    cfg.max_concurrent = (int64_t)(int8_t)take(b, 1);
    cfg.max_queue_size = (int64_t)(int8_t)take(b, 1);
    cfg.timeout_ns = (int64_t)take(b, 8);
    st = resilience_bulkhead_new(&cfg, &bh);
    require_known_status(st);
    if (st == RESILIENCE_OK) {
        /* Handles seen so far (slots, tickets, forged values): any of them
         * may come back, in any order; only real ones are accepted. */
        uint64_t seen[16] = {0};
        size_t n_seen = 0;
        for (i = 0; i < 32 && b->n; i++) {
            uint8_t op = (uint8_t)take(b, 1);
            resilience_bulkhead_admission_t a;
            resilience_bulkhead_handoff_t h;
            resilience_bulkhead_cancellation_t c;
            resilience_bulkhead_stats_t before, after;
            uint64_t handle = (op & 0x80) ? take(b, 8) : seen[take(b, 1) % 16];
            REQUIRE(resilience_bulkhead_stats(bh, &before) == RESILIENCE_OK);
            if (op % 3 == 0) {
                st = resilience_bulkhead_try_acquire(bh, &a);
                REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_BULKHEAD_FULL);
                if (st == RESILIENCE_OK) seen[n_seen++ % 16] = a.admission == RESILIENCE_ADMISSION_ACQUIRED ? a.slot.id : a.ticket.id;
            } else if (op % 3 == 1) {
                resilience_bulkhead_slot_t slot;
                slot.id = handle;
                st = resilience_bulkhead_release(bh, slot, &h);
                REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_PERMIT_MISUSE);
                if (st == RESILIENCE_OK) REQUIRE(h.granted ? before.queued > 0 : h.ticket.id == 0);
            } else {
                resilience_bulkhead_ticket_t ticket;
                ticket.id = handle;
                st = resilience_bulkhead_cancel(bh, ticket, &c);
                REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_PERMIT_MISUSE);
                if (st == RESILIENCE_OK && c.outcome == RESILIENCE_CANCEL_ALREADY_GRANTED) REQUIRE(c.slot.id == handle);
            }
            REQUIRE(resilience_bulkhead_stats(bh, &after) == RESILIENCE_OK);
            REQUIRE(after.active <= (uint32_t)cfg.max_concurrent && after.queued <= (uint32_t)cfg.max_queue_size);
            /* A refused handle changed nothing. */
            if (st == RESILIENCE_ERR_PERMIT_MISUSE) REQUIRE(before.active == after.active && before.queued == after.queued);
        }
        resilience_bulkhead_free(bh);
    }
    REQUIRE(resilience_fallback_new(fallbacks, &fb) == RESILIENCE_OK);
    {
        uint32_t outcome = (uint32_t)take(b, 1) % 4;
        st = resilience_fallback_on_primary_error_classified(fb, outcome, &step);
        if (outcome > RESILIENCE_PREDICATE_FAILED) {
            REQUIRE(st == RESILIENCE_ERR_INVALID_ARGUMENT);
            REQUIRE(resilience_fallback_on_primary_error(fb, true, &step) == RESILIENCE_OK);
        } else {
            REQUIRE(st == RESILIENCE_OK);
            if (outcome != RESILIENCE_PREDICATE_YES) REQUIRE(step.action == RESILIENCE_FALLBACK_RAISE);
        }
    }
    while (step.action == RESILIENCE_FALLBACK_CALL) {
        REQUIRE(step.index == calls++ && calls <= fallbacks);
        REQUIRE(resilience_fallback_on_fallback_error(fb, &step) == RESILIENCE_OK);
    }
    resilience_fallback_free(fb);
}

static void fuzz_text(bytes *b) {
    char header[64];
    uint64_t wait, bits = take(b, 8), now = take(b, 8);
    size_t n = b->n < sizeof header - 1 ? b->n : sizeof header - 1;
    double d;
    int64_t ns;
    resilience_status_t st;
    memcpy(header, b->p, n);
    header[n] = '\0';
    st = resilience_parse_retry_after(header, now, &wait);
    REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_INVALID_ARGUMENT);
    memcpy(&d, &bits, sizeof d); /* every double, NaNs and infinities included */
    st = resilience_duration_from_secs(d, &ns);
    REQUIRE(st == RESILIENCE_OK ? ns >= 0 : st == RESILIENCE_ERR_INVALID_CONFIG);
    if (st != RESILIENCE_OK) REQUIRE(strlen(resilience_last_error_message()) < 160); /* short for any double */
    st = resilience_duration_from_millis(d, &ns);
    REQUIRE(st == RESILIENCE_OK ? ns >= 0 : st == RESILIENCE_ERR_INVALID_CONFIG);
}

static void count_finalizer(void *u) {
    ++*(int *)u;
}

/* Arbitrary bytes as a snapshot document, for a breaker of one of three
 * shapes (the seeds' shapes, so their windows restore): a typed error that
 * builds nothing and takes nothing, or a breaker that works and whose own
 * snapshot restores again. */
static void fuzz_snapshot_document(bytes *b) {
    resilience_circuit_breaker_config_t cfg = resilience_circuit_breaker_config_default();
    resilience_circuit_breaker_t *br = (resilience_circuit_breaker_t *)(uintptr_t)0x5E47;
    world w = {0, NULL, 0};
    int listener_freed = 0;
    uint8_t shape = (uint8_t)take(b, 1);
    resilience_status_t st;
    w.now = (int64_t)take(b, 4);
    cfg.failure_threshold = 1;
    cfg.recovery_timeout_ns = 1000000000;
    if (shape % 3 != 0) {
        cfg.failure_ratio = 0.5;
        cfg.minimum_throughput = 3;
        cfg.sampling_duration_ns = 1000000000; /* buckets of 100 ms */
        cfg.window_kind = shape % 3 == 1 ? RESILIENCE_WINDOW_TIME : RESILIENCE_WINDOW_COUNT;
        cfg.window_size = 4;
    }
    if (shape & 4) {
        cfg.break_backoff = RESILIENCE_BACKOFF_EXPONENTIAL;
        cfg.max_recovery_timeout_ns = 60000000000;
    }
    cfg.clock.user_data = &w;
    cfg.clock.now_ns = world_now;
    /* The listener's user data belongs to the caller unless a breaker is built. */
    cfg.listener.user_data = &listener_freed;
    cfg.listener.free_user_data = count_finalizer;
    st = resilience_circuit_breaker_new_from_snapshot(&cfg, (const char *)b->p, b->n, &br);
    require_known_status(st);
    if (st != RESILIENCE_OK) {
        REQUIRE(st == RESILIENCE_ERR_INVALID_SNAPSHOT || st == RESILIENCE_ERR_UNSUPPORTED_SNAPSHOT_VERSION);
        REQUIRE(br == (resilience_circuit_breaker_t *)(uintptr_t)0x5E47 && listener_freed == 0);
        REQUIRE(resilience_last_error_kind() == RESILIENCE_CONFIG_ERROR_NONE && resilience_last_error_message()[0] != '\0');
        return;
    }
    require_sane_metrics(br);
    require_round_trip(br, &cfg);
    {
        resilience_permit_t p;
        resilience_rejection_t why;
        resilience_circuit_state_t state;
        REQUIRE(resilience_circuit_breaker_state(br, &state) == RESILIENCE_OK);
        st = resilience_circuit_breaker_try_acquire_ex(br, &p, &why);
        REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_CIRCUIT_OPEN);
        /* Never a silently closed breaker: a closed one admits; an open or
         * isolated one rejects. */
        if (state == RESILIENCE_CIRCUIT_OPEN || state == RESILIENCE_CIRCUIT_ISOLATED) REQUIRE(st == RESILIENCE_ERR_CIRCUIT_OPEN);
        if (state == RESILIENCE_CIRCUIT_CLOSED) REQUIRE(st == RESILIENCE_OK);
        if (st == RESILIENCE_OK) REQUIRE(resilience_circuit_breaker_record_failure(br, p) == RESILIENCE_OK);
    }
    require_sane_metrics(br);
    resilience_circuit_breaker_free(br);
    REQUIRE(listener_freed == 1);
}

/* Issue 11: a budget, a throttle and a limiter from arbitrary values, then
 * arbitrary operations on a clock that only moves forward. */
static void fuzz_load(bytes *b) {
    resilience_retry_budget_config_t bc = resilience_retry_budget_config_default();
    resilience_adaptive_throttle_config_t tc = resilience_adaptive_throttle_config_default();
    resilience_rate_limiter_config_t lc = resilience_rate_limiter_config_default();
    resilience_retry_budget_t *budget = NULL;
    resilience_adaptive_throttle_t *throttle = NULL;
    resilience_rate_limiter_t *limiter = NULL;
    world w = {0, NULL, 0};
    resilience_time_source_t sleeper = resilience_time_source_system();
    resilience_status_t st;
    uint64_t interval = 1, cells = 0, bits;
    int64_t created;
    int i;
    w.now = (int64_t)take(b, 4);
    created = w.now;
    sleeper.user_data = &w;
    sleeper.now_ns = world_now;
    sleeper.sleep_ns = world_sleep;
    bc.ttl_ns = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(take(b, 1) % 70) * 1000000000 - 1;
    bc.min_retries_per_sec = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(int8_t)take(b, 1);
    bc.retry_ratio = take_ratio(b);
    bc.clock = sleeper;
    st = resilience_retry_budget_new(&bc, &budget);
    require_known_status(st);
    REQUIRE((st == RESILIENCE_OK) == (bc.ttl_ns >= 1000000000 && bc.ttl_ns <= 60000000000 && bc.min_retries_per_sec >= 0 &&
                                     bc.min_retries_per_sec <= UINT32_MAX && bc.retry_ratio > 0 && bc.retry_ratio <= 1));
    bits = take(b, 8);
    memcpy(&tc.k, &bits, sizeof tc.k); /* every double: NaN, infinities, subnormals */
    if (take(b, 1) & 1) tc.k = (double)(take(b, 1) % 8) / 2.0;
    tc.window_ns = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(take(b, 1) % 4) * 1000000000;
    tc.seeded = take(b, 1) & 1;
    tc.seed = take(b, 8);
    tc.clock = sleeper;
    st = resilience_adaptive_throttle_new(&tc, &throttle);
    require_known_status(st);
    REQUIRE((st == RESILIENCE_OK) == (tc.k > 0 && tc.k <= 1.7976931348623157e308 && tc.window_ns >= 1000000000));
    lc.rate = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(int8_t)take(b, 1);
    lc.per_ns = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)take(b, 3) - 10;
    lc.burst = (take(b, 1) & 1) ? (int64_t)take(b, 8) : (int64_t)(int8_t)take(b, 1);
    lc.clock = sleeper;
    st = resilience_rate_limiter_new(&lc, &limiter);
    require_known_status(st);
    if (st == RESILIENCE_OK) {
        REQUIRE(lc.rate >= 1 && lc.rate <= UINT32_MAX && lc.per_ns >= 1 && lc.burst >= 1);
        REQUIRE(resilience_rate_limiter_emission_interval(limiter, &interval) == RESILIENCE_OK && interval >= 1);
        /* The rounding rule: per / rate rounded up, and the burst refill fits 584 years. */
        REQUIRE(interval == ((uint64_t)lc.per_ns + (uint64_t)lc.rate - 1) / (uint64_t)lc.rate);
        REQUIRE((uint64_t)lc.burst <= UINT64_MAX / interval);
    }
    for (i = 0; i < 48 && b->n; i++) {
        uint8_t op = (uint8_t)take(b, 1);
        switch (op % 6) {
        case 0: w.now = forward(w.now, take(b, (op >> 3) % 5)); break; /* forward only: the GCRA bound below needs it */
        case 1:
            if (budget) {
                uint64_t before = 0, after = 0;
                bool granted = false;
                if (op & 0x40) REQUIRE(resilience_retry_budget_deposit(budget) == RESILIENCE_OK);
                REQUIRE(resilience_retry_budget_available(budget, &before) == RESILIENCE_OK);
                REQUIRE(resilience_retry_budget_try_withdraw(budget, &granted) == RESILIENCE_OK);
                REQUIRE(resilience_retry_budget_available(budget, &after) == RESILIENCE_OK);
                /* On one clock reading: granted exactly when one was available, and it is spent. */
                REQUIRE(granted == (before > 0));
                REQUIRE(after == (granted ? before - 1 : 0));
            }
            break;
        case 2:
            if (throttle) {
                resilience_throttled_t why;
                resilience_throttle_stats_t stats;
                st = resilience_adaptive_throttle_try_admit(throttle, &why);
                REQUIRE(st == RESILIENCE_OK || st == RESILIENCE_ERR_THROTTLED);
                if (st == RESILIENCE_OK) REQUIRE(resilience_adaptive_throttle_record(throttle, op & 0x40) == RESILIENCE_OK);
                else REQUIRE(why.probability > 0 && why.probability < 1);
                REQUIRE(resilience_adaptive_throttle_stats(throttle, &stats) == RESILIENCE_OK);
                REQUIRE(stats.probability >= 0 && stats.probability < 1);
            }
            break;
        case 3:
        case 4:
            if (limiter) {
                int64_t n = (op & 0x80) ? (int64_t)take(b, 8) : (int64_t)(take(b, 1) % 6);
                uint64_t wait = 0;
                /* Blocking only for waits the world's int64_t clock can sleep through. */
                int blocking = op % 6 == 4 && n >= 0 && n <= lc.burst && (uint64_t)n <= (1ULL << 40) / interval;
                st = blocking ? resilience_rate_limiter_acquire(limiter, n, &sleeper)
                         : resilience_rate_limiter_try_acquire(limiter, n, &wait);
                require_known_status(st);
                if (n < 0 || n > UINT32_MAX) REQUIRE(st == RESILIENCE_ERR_INVALID_ARGUMENT);
                else if (n > lc.burst) REQUIRE(st == RESILIENCE_ERR_EXCEEDS_BURST);
                else if (st == RESILIENCE_ERR_RATE_LIMITED) REQUIRE(wait > 0 && wait <= (uint64_t)n * interval);
                else {
                    REQUIRE(st == RESILIENCE_OK);
                    cells += (uint64_t)n;
                }
                /* Never more than the GCRA allows since the limiter was made. */
                REQUIRE(cells <= (uint64_t)lc.burst + (uint64_t)(w.now - created) / interval);
            }
            break;
        default: {
            /* The standalone timeout's decision. */
            resilience_deadline_t d;
            int64_t timeout = (int64_t)take(b, 8), start = (int64_t)take(b, 8), at = (int64_t)take(b, 8);
            bool expired = false;
            uint64_t left = 0;
            st = resilience_timeout_start(timeout, start, &d);
            REQUIRE((st == RESILIENCE_OK) == (timeout > 0));
            if (st != RESILIENCE_OK) break;
            REQUIRE(d.at_ns == sat_add(start < 0 ? 0 : (uint64_t)start, (uint64_t)timeout));
            REQUIRE(resilience_deadline_expired(&d, at, &expired) == RESILIENCE_OK);
            REQUIRE(resilience_deadline_remaining(&d, at, &left) == RESILIENCE_OK);
            REQUIRE(expired == ((at < 0 ? 0 : (uint64_t)at) >= d.at_ns));
            REQUIRE(expired == (left == 0));
            break;
        }
        }
    }
    resilience_retry_budget_free(budget);
    resilience_adaptive_throttle_free(throttle);
    resilience_rate_limiter_free(limiter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bytes b;
    if (size == 0) return 0;
    b.p = data + 1;
    b.n = size - 1;
    switch (data[0] % 6) {
    case 0: fuzz_retry(&b); break;
    case 1: fuzz_breaker(&b); break;
    case 2: fuzz_bulkhead_and_fallback(&b); break;
    case 3: fuzz_text(&b); break;
    case 4: fuzz_snapshot_document(&b); break;
    default: fuzz_load(&b); break;
    }
    return 0;
}
