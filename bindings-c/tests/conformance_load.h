/* Part of test_conformance.c (included once, after its helpers): the
 * runners of issue 11's kinds — budget, budget_retry, throttle, limiter —
 * and the load-control components of config_errors / config_accepted.
 * Every config goes in as C passes it (int64_t counts and nanoseconds,
 * double ratios and factors, a seeded flag and a uint64_t seed). */
#ifndef RESILIENCE_CONFORMANCE_LOAD_H
#define RESILIENCE_CONFORMANCE_LOAD_H

/* ---- configurations ---------------------------------------------------------- */

static conversion budget_config_from(const json_value *p, resilience_retry_budget_config_t *cfg) {
    size_t i;
    *cfg = resilience_retry_budget_config_default();
    if (!p || p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; i < p->count; i++) {
        const char *k = p->keys[i];
        conversion c;
        if (strcmp(k, "ttl_ms") == 0) c = ms_field(p->items[i], &cfg->ttl_ns);
        else if (strcmp(k, "min_retries_per_sec") == 0) c = int_field(p->items[i], &cfg->min_retries_per_sec);
        /* A budget always has a ratio: 0 reaches the rule (too small). */
        else if (strcmp(k, "retry_ratio") == 0) c = double_field(p->items[i], &cfg->retry_ratio);
        else { fprintf(stderr, "unknown budget key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

static conversion throttle_config_from(const json_value *p, resilience_adaptive_throttle_config_t *cfg) {
    size_t i;
    *cfg = resilience_adaptive_throttle_config_default();
    if (!p || p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; i < p->count; i++) {
        const char *k = p->keys[i];
        const json_value *v = p->items[i];
        conversion c;
        if (strcmp(k, "k") == 0) c = double_field(v, &cfg->k);
        else if (strcmp(k, "window_ms") == 0) c = ms_field(v, &cfg->window_ns);
        else if (strcmp(k, "seed") == 0) {
            /* Rule `seed`: null is "from the OS", C's flag off. */
            cfg->seeded = v->type != JSON_NULL;
            c = cfg->seeded ? seed_field(v, &cfg->seed) : CONV_OK;
        } else { fprintf(stderr, "unknown throttle key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

static conversion limiter_config_from(const json_value *p, resilience_rate_limiter_config_t *cfg) {
    size_t i;
    *cfg = resilience_rate_limiter_config_default();
    if (!p || p->type != JSON_OBJECT) return CONV_MALFORMED;
    for (i = 0; i < p->count; i++) {
        const char *k = p->keys[i];
        conversion c;
        if (strcmp(k, "rate") == 0) c = int_field(p->items[i], &cfg->rate);
        else if (strcmp(k, "per_ms") == 0) c = ms_field(p->items[i], &cfg->per_ns);
        else if (strcmp(k, "burst") == 0) c = int_field(p->items[i], &cfg->burst);
        else { fprintf(stderr, "unknown limiter key %s\n", k); return CONV_MALFORMED; }
        if (c != CONV_OK) return c;
    }
    return CONV_OK;
}

/* Builds a load-control component for config_errors / config_accepted. */
static conversion build_load(const char *component, const json_value *config, resilience_status_t *status) {
    conversion conv;
    if (strcmp(component, "budget") == 0) {
        resilience_retry_budget_config_t cfg;
        resilience_retry_budget_t *b = NULL;
        conv = budget_config_from(config, &cfg);
        if (conv != CONV_OK) return conv;
        *status = resilience_retry_budget_new(&cfg, &b);
        CHECK((*status == RESILIENCE_OK) == (b != NULL)); /* written only on success */
        resilience_retry_budget_free(b);
    } else if (strcmp(component, "throttle") == 0) {
        resilience_adaptive_throttle_config_t cfg;
        resilience_adaptive_throttle_t *t = NULL;
        conv = throttle_config_from(config, &cfg);
        if (conv != CONV_OK) return conv;
        *status = resilience_adaptive_throttle_new(&cfg, &t);
        CHECK((*status == RESILIENCE_OK) == (t != NULL));
        resilience_adaptive_throttle_free(t);
    } else {
        resilience_rate_limiter_config_t cfg;
        resilience_rate_limiter_t *l = NULL;
        conv = limiter_config_from(config, &cfg);
        if (conv != CONV_OK) return conv;
        *status = resilience_rate_limiter_new(&cfg, &l);
        CHECK((*status == RESILIENCE_OK) == (l != NULL));
        resilience_rate_limiter_free(l);
    }
    return CONV_OK;
}

/* ---- shared steps ------------------------------------------------------------ */

/* `advance` / `set_clock` on the case's virtual clock (1: handled). A C
 * clock reads int64_t, so a negative reading is passed as is (rule
 * `clock_reading`); a case with a reading C cannot give (NaN) is skipped
 * whole before it starts (breaker_steps_expressible()). */
static int clock_step(vclock *clock, const json_value *step) {
    const json_value *op = json_get(step, "op");
    int64_t ns = 0;
    if (!str_eq(op, "advance") && !str_eq(op, "set_clock")) return 0;
    if (ms_field(json_get(step, "ms"), &ns) != CONV_OK) { case_failed("bad ms"); return 1; }
    if (str_eq(op, "advance")) clock->now_ns += ns;
    else clock->now_ns = ns;
    return 1;
}

/* The steps of a load-control case, or NULL (skipped or failed). */
static const json_value *load_steps(const json_value *c) {
    const json_value *steps = json_get(c, "steps");
    if (!steps || steps->type != JSON_ARRAY) { case_failed("malformed"); return NULL; }
    if (!breaker_steps_expressible(steps)) { skip(NULL); return NULL; }
    return steps;
}

/* A budget on its own virtual clock (owned), or NULL (skipped or failed). */
static resilience_retry_budget_t *budget_of(const json_value *config, vclock **clock, int *freed) {
    resilience_retry_budget_config_t cfg;
    resilience_retry_budget_t *b = NULL;
    conversion conv = budget_config_from(config, &cfg);
    if (conv == CONV_SKIP) { skip(NULL); return NULL; }
    if (conv != CONV_OK) { case_failed("bad budget config"); return NULL; }
    cfg.clock = vclock_owned(clock, freed);
    if (resilience_retry_budget_new(&cfg, &b) != RESILIENCE_OK) {
        case_failed(resilience_last_error_message());
        free(*clock);
        return NULL;
    }
    return b;
}

static void check_available(const resilience_retry_budget_t *b, const json_value *step) {
    uint64_t available = 0;
    CHECK_OK(resilience_retry_budget_available(b, &available));
    if (available != (uint64_t)int_of(json_get(step, "available"))) {
        fprintf(stderr, "available %llu\n", (unsigned long long)available);
        case_failed("available differs");
    }
}

/* ---- budget ------------------------------------------------------------------- */

static void run_budget(const json_value *c) {
    const json_value *steps = load_steps(c);
    resilience_retry_budget_t *b = NULL;
    vclock *clock = NULL;
    int freed = 0;
    size_t i, k;
    if (!steps || !(b = budget_of(json_get(c, "config"), &clock, &freed))) return;
    for (i = 0; i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        if (clock_step(clock, s)) continue;
        if (str_eq(op, "deposit")) {
            const json_value *times = json_get(s, "times");
            int64_t n = times ? int_of(times) : 1;
            for (k = 0; (int64_t)k < n; k++) CHECK_OK(resilience_retry_budget_deposit(b));
        } else if (str_eq(op, "withdraw")) {
            bool granted = false;
            if (expect) {
                for (k = 0; expect->type == JSON_ARRAY && k < expect->count; k++) {
                    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
                    if ((int)granted != bool_of(expect->items[k])) {
                        fprintf(stderr, "step %zu: withdrawal %zu %s\n", i, k, granted ? "granted" : "denied");
                        case_failed("withdrawal differs");
                    }
                }
                if (expect->type != JSON_ARRAY) case_failed("malformed withdraw");
            } else {
                int64_t times = int_of(json_get(s, "times")), got = 0;
                for (k = 0; (int64_t)k < times; k++) {
                    CHECK_OK(resilience_retry_budget_try_withdraw(b, &granted));
                    got += granted;
                }
                CHECK_EQ_U64(got, int_of(json_get(s, "granted")));
            }
        } else if (str_eq(op, "check")) {
            check_available(b, s);
        } else {
            case_failed("unknown budget op");
        }
    }
    resilience_retry_budget_free(b);
    CHECK(freed == 1);
}

/* ---- budget_retry --------------------------------------------------------------- */

/* One budget shared by every sequence of one policy, through the step API
 * (resilience_retry_state_new() deposits; on_failure withdraws). */
static void run_budget_retry(const json_value *c) {
    const json_value *steps = load_steps(c);
    resilience_retry_budget_t *b = NULL;
    resilience_retry_policy_t *policy = NULL;
    resilience_retry_config_t rc;
    resilience_retry_state_t *states[MAX_NAMED];
    char names[MAX_NAMED][32];
    int64_t codes[MAX_CODES];
    vclock *clock = NULL;
    int freed = 0;
    size_t n = 0, i, k;
    conversion conv;
    if (!steps) return;
    conv = retry_config_from(json_get(c, "policy"), &rc, codes);
    if (conv == CONV_SKIP) { skip(NULL); return; }
    if (conv != CONV_OK) { case_failed("bad policy object"); return; }
    if (!(b = budget_of(json_get(c, "budget"), &clock, &freed))) return;
    rc.budget = b;
    CHECK_OK(resilience_retry_policy_new(&rc, &policy));
    for (i = 0; policy && i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *seq = json_get(s, "seq");
        resilience_retry_state_t *state = NULL;
        if (clock_step(clock, s)) continue;
        if (str_eq(op, "check")) { check_available(b, s); continue; }
        if (!seq || seq->type != JSON_STRING) { case_failed("a step without seq"); break; }
        for (k = 0; k < n; k++)
            if (strcmp(names[k], seq->string) == 0) state = states[k];
        if (str_eq(op, "start")) {
            if (state || n >= MAX_NAMED) { case_failed("a sequence started twice"); break; }
            snprintf(names[n], sizeof names[n], "%s", seq->string);
            CHECK_OK(resilience_retry_state_new(policy, &states[n]));
            n++;
        } else if (str_eq(op, "failure")) {
            resilience_retry_decision_t d;
            int retryable = bool_of(json_get(s, "retryable"));
            if (!state || retryable < 0) { case_failed("a failure of an unknown sequence"); break; }
            CHECK_OK(resilience_retry_state_on_failure(state, retryable == 1, &d));
            /* The attempt a retry names is the sequence's own. */
            {
                const json_value *expect = json_get(s, "expect");
                if (json_get(expect, "retry_ns")) check_decision(&d, expect, d.attempt, i);
                else check_decision(&d, expect, 0, i);
            }
        } else {
            case_failed("unknown budget_retry op");
        }
    }
    for (k = 0; k < n; k++) resilience_retry_state_free(states[k]);
    resilience_retry_policy_free(policy);
    CHECK(freed == 0); /* the policy held the budget until now... */
    resilience_retry_budget_free(b);
    CHECK(freed == 1); /* ...and the budget's clock went with the last holder */
}

/* ---- throttle ----------------------------------------------------------------------- */

static void run_throttle(const json_value *c) {
    const json_value *steps = load_steps(c);
    resilience_adaptive_throttle_config_t cfg;
    resilience_adaptive_throttle_t *t = NULL;
    vclock *clock = NULL;
    int freed = 0;
    size_t i, k;
    conversion conv;
    if (!steps) return;
    conv = throttle_config_from(json_get(c, "config"), &cfg);
    if (conv == CONV_SKIP) { skip(NULL); return; }
    if (conv != CONV_OK) { case_failed("bad throttle config"); return; }
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_adaptive_throttle_new(&cfg, &t));
    for (i = 0; t && i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        if (clock_step(clock, s)) continue;
        if (str_eq(op, "requests")) {
            int accepted = bool_of(json_get(s, "accepted"));
            char got[256];
            size_t n = expect && expect->type == JSON_STRING ? strlen(expect->string) : 0;
            if (accepted < 0 || n == 0 || n >= sizeof got) { case_failed("malformed requests"); break; }
            for (k = 0; k < n; k++) {
                resilience_status_t st = resilience_adaptive_throttle_try_admit(t, NULL);
                if (st == RESILIENCE_OK) CHECK_OK(resilience_adaptive_throttle_record(t, accepted == 1));
                else CHECK(st == RESILIENCE_ERR_THROTTLED);
                got[k] = st == RESILIENCE_OK ? 'a' : 't';
            }
            got[n] = '\0';
            if (strcmp(got, expect->string) != 0) {
                fprintf(stderr, "step %zu: %s\n", i, got);
                case_failed("admissions differ");
            }
        } else if (str_eq(op, "check")) {
            resilience_throttle_stats_t st;
            const json_value *p = json_get(s, "probability");
            CHECK_OK(resilience_adaptive_throttle_stats(t, &st));
            CHECK_EQ_U64(st.requests, int_of(json_get(s, "requests")));
            CHECK_EQ_U64(st.accepts, int_of(json_get(s, "accepts")));
            if (!p || p->type != JSON_NUMBER || st.probability != p->number) {
                fprintf(stderr, "step %zu: probability %.17g\n", i, st.probability);
                case_failed("probability differs");
            }
        } else if (str_eq(op, "throttled")) {
            resilience_throttled_t why;
            CHECK_STATUS(resilience_adaptive_throttle_try_admit(t, &why), RESILIENCE_ERR_THROTTLED, NULL);
            CHECK_EQ_U64(why.retry_after_ns, int_of(json_get(s, "retry_after_ns")));
        } else {
            case_failed("unknown throttle op");
        }
    }
    resilience_adaptive_throttle_free(t);
    CHECK(freed == 1);
}

/* ---- limiter ------------------------------------------------------------------------ */

/* `n` as C passes it (int64_t), or the reason it cannot. */
static conversion cells_of(const json_value *step, int64_t *n) {
    return int_field(json_get(step, "n"), n);
}

static void run_limiter(const json_value *c) {
    const json_value *steps = load_steps(c);
    resilience_rate_limiter_config_t cfg;
    resilience_rate_limiter_t *l = NULL;
    resilience_time_source_t sleeper;
    vclock *clock = NULL;
    int freed = 0;
    size_t i, k;
    conversion conv;
    char what[64];
    if (!steps) return;
    conv = limiter_config_from(json_get(c, "config"), &cfg);
    if (conv == CONV_SKIP) { skip(NULL); return; }
    if (conv != CONV_OK) { case_failed("bad limiter config"); return; }
    cfg.clock = vclock_owned(&clock, &freed);
    CHECK_OK(resilience_rate_limiter_new(&cfg, &l));
    sleeper = clock ? vclock_borrowed(clock) : resilience_time_source_system();
    for (i = 0; l && i < steps->count; i++) {
        const json_value *s = steps->items[i], *op = json_get(s, "op"), *expect = json_get(s, "expect");
        const json_value *error = json_get(expect, "error"), *wait_ns = json_get(expect, "wait_ns");
        int64_t n = 0;
        if (clock_step(clock, s)) continue;
        conv = cells_of(s, &n);
        snprintf(what, sizeof what, "step %zu", i);
        if (conv == CONV_SKIP) {
            /* A refused n changes nothing, so the case goes on; any other
             * step C cannot take ends it. */
            skip(what);
            if (error) continue;
            break;
        }
        if (conv != CONV_OK) { case_failed("bad n"); break; }
        if (str_eq(op, "acquire")) {
            uint64_t wait = 0;
            resilience_status_t st = resilience_rate_limiter_try_acquire(l, n, &wait);
            if (str_eq(expect, "ok")) CHECK_OK(st);
            else if (str_eq(expect, "exceeds_burst")) CHECK_STATUS(st, RESILIENCE_ERR_EXCEEDS_BURST, "burst");
            else if (wait_ns) {
                CHECK_STATUS(st, RESILIENCE_ERR_RATE_LIMITED, NULL);
                CHECK_EQ_U64(wait, int_of(wait_ns));
            } else if (error && error->type == JSON_STRING) {
                resilience_config_error_kind_t want;
                CHECK_STATUS(st, RESILIENCE_ERR_INVALID_ARGUMENT, "invalid n:");
                if (!kind_of(error->string, &want) || resilience_last_error_kind() != want) case_failed("kind differs");
                CHECK(strcmp(resilience_last_error_parameter(), "n") == 0);
            } else {
                case_failed("unknown acquire expectation");
            }
        } else if (str_eq(op, "acquire_blocking")) {
            const json_value *sleeps = json_get(s, "sleeps_ns");
            resilience_status_t st;
            clock->sleep_count = 0;
            st = resilience_rate_limiter_acquire(l, n, &sleeper);
            if (str_eq(expect, "exceeds_burst")) {
                CHECK_STATUS(st, RESILIENCE_ERR_EXCEEDS_BURST, "burst");
                CHECK_EQ_U64(clock->sleep_count, 0);
            } else if (sleeps && sleeps->type == JSON_ARRAY && !expect) {
                CHECK_OK(st);
                CHECK_EQ_U64(clock->sleep_count, sleeps->count);
                for (k = 0; k < sleeps->count && k < clock->sleep_count && k < VCLOCK_MAX_SLEEPS; k++)
                    CHECK_EQ_U64(clock->sleeps[k], int_of(sleeps->items[k]));
            } else {
                case_failed("malformed acquire_blocking");
            }
        } else {
            case_failed("unknown limiter op");
        }
    }
    resilience_rate_limiter_free(l);
    CHECK(freed == 1);
}

#endif
