/* The demo's C leg: one flaky service driven through
 * fallback(retry(breaker(service))) on virtual time, printing the trace of
 * examples/README.md. Every decision comes from libresilience; this file
 * only runs the service, keeps the virtual clock and prints.
 *
 * Usage: demo SCENARIO.json OUT.trace */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience.h"
#include "support/json.h"

#define NS_PER_MS 1000000ULL
#define MAX_OUTAGES 16

typedef struct {
    uint64_t now_ns;   /* the one virtual clock */
    uint64_t slept_ns; /* every sleep the retry asked for */
} virtual_time;

typedef struct {
    uint64_t outage_start[MAX_OUTAGES], outage_end[MAX_OUTAGES];
    size_t outages;
    uint64_t fail_every;
    uint64_t calls;
} service;

typedef struct {
    virtual_time *time;
    service *svc;
    resilience_circuit_breaker_t *breaker;
    unsigned long long req;
    unsigned long long rejected;
    FILE *out;
} request;

static int64_t clock_now(void *user_data) { return (int64_t)((virtual_time *)user_data)->now_ns; }

static void clock_sleep(void *user_data, uint64_t ns) {
    virtual_time *t = user_data;
    t->now_ns += ns;
    t->slept_ns += ns;
}

/* "{ms}.{micros:03}" from integer nanoseconds, as every leg prints it. */
static const char *ms(uint64_t ns, char buf[32]) {
    snprintf(buf, 32, "%llu.%03llu", (unsigned long long)(ns / 1000000), (unsigned long long)((ns / 1000) % 1000));
    return buf;
}

static void emit(FILE *out, const char *line) {
    fputs(line, stdout);
    fputs(line, out);
}

static int service_fails(service *s, uint64_t now_ns) {
    size_t i;
    s->calls++;
    for (i = 0; i < s->outages; i++)
        if (now_ns >= s->outage_start[i] && now_ns < s->outage_end[i]) return 1;
    return s->calls % s->fail_every == 0;
}

/* One attempt: breaker(service). A service failure is retryable; a breaker
 * rejection is not (the retry gives up at once and the fallback answers). */
static int attempt_once(void *user_data, uint32_t attempt) {
    request *r = user_data;
    char line[160], t[32];
    uint64_t started = r->time->now_ns;
    resilience_circuit_state_t state = RESILIENCE_CIRCUIT_CLOSED;
    resilience_permit_t permit;
    const char *word;
    int code;
    resilience_circuit_breaker_state(r->breaker, &state);
    if (resilience_circuit_breaker_try_acquire(r->breaker, &permit, NULL) != RESILIENCE_OK) {
        r->rejected++;
        word = "rejected";
        code = RESILIENCE_OP_FATAL;
    } else if (service_fails(r->svc, r->time->now_ns)) {
        resilience_circuit_breaker_record_failure(r->breaker, permit);
        word = "fail";
        code = RESILIENCE_OP_RETRYABLE;
    } else {
        resilience_circuit_breaker_record_success(r->breaker, permit);
        word = "ok";
        code = RESILIENCE_OP_SUCCESS;
    }
    snprintf(line, sizeof line, "t=%s req=%llu attempt=%u breaker=%s -> %s\n", ms(started, t), r->req, attempt,
             resilience_circuit_state_name(state), word);
    emit(r->out, line);
    return code;
}

static void on_retry(void *user_data, uint32_t attempt, int code, uint64_t delay_ns) {
    request *r = user_data;
    char line[160], t[32], d[32];
    (void)attempt;
    (void)code;
    snprintf(line, sizeof line, "t=%s req=%llu retry in %s\n", ms(r->time->now_ns, t), r->req, ms(delay_ns, d));
    emit(r->out, line);
}

/* ---- reading scenario.json ---------------------------------------------- */

static int number(const json_value *obj, const char *key, uint64_t *out) {
    const json_value *v = json_get(obj, key);
    if (!json_is_integer(v) || v->number < 0) {
        fprintf(stderr, "scenario: missing number `%s`\n", key);
        return 0;
    }
    *out = (uint64_t)v->number;
    return 1;
}

static int named(const json_value *obj, const char *key, const char *const names[], size_t n, uint32_t *out) {
    const json_value *v = json_get(obj, key);
    size_t i;
    for (i = 0; v && v->type == JSON_STRING && i < n; i++)
        if (strcmp(v->string, names[i]) == 0) { *out = (uint32_t)i; return 1; }
    fprintf(stderr, "scenario: unknown `%s`\n", key);
    return 0;
}

int main(int argc, char **argv) {
    static const char *const backoffs[] = {"fixed", "linear", "exponential", "fibonacci"};    /* RESILIENCE_BACKOFF_* order */
    static const char *const jitters[] = {"none", "proportional", "full", "equal", "decorrelated"}; /* RESILIENCE_JITTER_* order */
    char err[200], line[200], t[32];
    json_value *doc;
    const json_value *retry, *brk, *svc_json, *outages;
    resilience_retry_config_t rc = resilience_retry_config_default();
    resilience_circuit_breaker_config_t bc = resilience_circuit_breaker_config_default();
    resilience_retry_policy_t *policy = NULL;
    resilience_circuit_breaker_t *breaker = NULL;
    resilience_time_source_t time_source = resilience_time_source_system();
    virtual_time vt = {0, 0};
    service svc;
    request r;
    uint64_t requests = 0, interval_ms = 0, v = 0, primary = 0, fallback = 0;
    size_t i;
    int ok = 1;
    FILE *out;

    if (argc != 3) { fprintf(stderr, "usage: %s SCENARIO.json OUT.trace\n", argv[0]); return 2; }
    doc = json_parse_file(argv[1], err, sizeof err);
    if (!doc) { fprintf(stderr, "demo failed: %s\n", err); return 1; }
    retry = json_get(doc, "retry");
    brk = json_get(doc, "breaker");
    svc_json = json_get(doc, "service");
    outages = json_get(svc_json, "outages_ms");
    memset(&svc, 0, sizeof svc);

    ok = ok && number(doc, "requests", &requests) && number(doc, "request_interval_ms", &interval_ms);
    ok = ok && number(doc, "seed", &rc.seed);
    ok = ok && number(retry, "max_attempts", &v) && (rc.max_attempts = (int64_t)v, 1);
    ok = ok && named(retry, "backoff", backoffs, 4, &rc.backoff) && named(retry, "jitter", jitters, 5, &rc.jitter);
    ok = ok && number(retry, "base_delay_ms", &v) && (rc.base_delay_ns = (int64_t)(v * NS_PER_MS), 1);
    ok = ok && number(retry, "max_delay_ms", &v) && (rc.max_delay_ns = (int64_t)(v * NS_PER_MS), 1);
    ok = ok && number(brk, "failure_threshold", &v) && (bc.failure_threshold = (int64_t)v, 1);
    ok = ok && number(brk, "recovery_timeout_ms", &v) && (bc.recovery_timeout_ns = (int64_t)(v * NS_PER_MS), 1);
    ok = ok && number(brk, "half_open_max_calls", &v) && (bc.half_open_max_calls = (int64_t)v, 1);
    ok = ok && number(svc_json, "fail_every", &svc.fail_every);
    for (i = 0; ok && outages && i < outages->count && i < MAX_OUTAGES; i++) {
        const json_value *w = json_at(outages, i);
        ok = json_is_integer(json_at(w, 0)) && json_is_integer(json_at(w, 1));
        if (ok) {
            svc.outage_start[i] = (uint64_t)json_at(w, 0)->number * NS_PER_MS;
            svc.outage_end[i] = (uint64_t)json_at(w, 1)->number * NS_PER_MS;
            svc.outages++;
        }
    }
    json_free(doc);
    if (!ok || !outages) { fprintf(stderr, "demo failed: bad scenario\n"); return 1; }
    if (svc.fail_every == 0) svc.fail_every = 1;
    rc.seeded = true;

    bc.clock.user_data = &vt; /* borrowed: no finalizer */
    bc.clock.now_ns = clock_now;
    time_source.user_data = &vt;
    time_source.now_ns = clock_now;
    time_source.sleep_ns = clock_sleep;
    if (resilience_retry_policy_new(&rc, &policy) != RESILIENCE_OK ||
        resilience_circuit_breaker_new(&bc, &breaker) != RESILIENCE_OK) {
        fprintf(stderr, "demo failed: %s\n", resilience_last_error_message());
        resilience_retry_policy_free(policy);
        return 1;
    }
    out = fopen(argv[2], "w");
    if (!out) { fprintf(stderr, "demo failed: cannot write %s\n", argv[2]); return 1; }

    memset(&r, 0, sizeof r);
    r.time = &vt;
    r.svc = &svc;
    r.breaker = breaker;
    r.out = out;
    for (r.req = 1; r.req <= requests; r.req++) {
        resilience_retry_outcome_t outcome;
        resilience_status_t st = resilience_retry_execute(policy, attempt_once, on_retry, &r, &time_source, &outcome);
        const char *answered_by;
        if (st == RESILIENCE_OK) {
            primary++;
            answered_by = "primary";
        } else if (st == RESILIENCE_ERR_OPERATION_FAILED) {
            /* The fallback chain: one cache fallback that always answers. */
            resilience_fallback_t *chain = NULL;
            resilience_fallback_step_t step;
            if (resilience_fallback_new(1, &chain) != RESILIENCE_OK ||
                resilience_fallback_on_primary_error(chain, true, &step) != RESILIENCE_OK ||
                step.action != RESILIENCE_FALLBACK_CALL) {
                fprintf(stderr, "demo failed: the fallback chain raised\n");
                return 1;
            }
            resilience_fallback_free(chain);
            fallback++;
            answered_by = "fallback";
        } else {
            fprintf(stderr, "demo failed: %s\n", resilience_last_error_message());
            return 1;
        }
        snprintf(line, sizeof line, "t=%s req=%llu answered by %s\n", ms(vt.now_ns, t), r.req, answered_by);
        emit(out, line);
        vt.now_ns += interval_ms * NS_PER_MS;
    }
    snprintf(line, sizeof line, "summary primary=%llu fallback=%llu service_calls=%llu rejected=%llu slept=%s\n",
             (unsigned long long)primary, (unsigned long long)fallback, (unsigned long long)svc.calls, r.rejected,
             ms(vt.slept_ns, t));
    emit(out, line);
    resilience_circuit_breaker_free(breaker);
    resilience_retry_policy_free(policy);
    return fclose(out) == 0 ? 0 : 1;
}
