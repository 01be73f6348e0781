/* Built with `pkg-config --cflags --libs resilience` against an installed
 * libresilience (make install-c PREFIX=...): retry a flaky operation, and
 * guard it with a circuit breaker. Time is injected, so this runs instantly. */
#include <stdint.h>
#include <stdio.h>

#include <resilience.h>

typedef struct {
    int64_t now_ns;
    int calls;
} world;

static int64_t now(void *user_data) { return ((world *)user_data)->now_ns; }
static void sleep_virtually(void *user_data, uint64_t ns) { ((world *)user_data)->now_ns += (int64_t)ns; }

/* Fails twice (retryably), then succeeds. */
static int flaky(void *user_data, uint32_t attempt) {
    world *w = user_data;
    (void)attempt;
    return ++w->calls < 3 ? RESILIENCE_OP_RETRYABLE : RESILIENCE_OP_SUCCESS;
}

int main(void) {
    world w = {0, 0};
    resilience_retry_config_t rc = resilience_retry_config_default();
    resilience_circuit_breaker_config_t bc = resilience_circuit_breaker_config_default();
    resilience_time_source_t time = resilience_time_source_system();
    resilience_retry_policy_t *policy = NULL;
    resilience_circuit_breaker_t *breaker = NULL;
    resilience_retry_outcome_t outcome;
    resilience_permit_t permit;
    uint64_t wait_ns = 0;
    int i;

    rc.jitter = RESILIENCE_JITTER_NONE;
    time.user_data = &w;
    time.now_ns = now;
    time.sleep_ns = sleep_virtually;
    if (resilience_retry_policy_new(&rc, &policy) != RESILIENCE_OK) {
        fprintf(stderr, "%s\n", resilience_last_error_message());
        return 1;
    }
    if (resilience_retry_execute(policy, flaky, NULL, &w, &time, &outcome) != RESILIENCE_OK || outcome.attempts != 3 ||
        outcome.total_delay_ns != 3000000000ULL) { /* 1 s + 2 s of exponential backoff */
        fprintf(stderr, "unexpected retry outcome\n");
        return 1;
    }
    printf("retry: succeeded on attempt %u after %llu ms of backoff\n", outcome.attempts,
           (unsigned long long)(outcome.total_delay_ns / 1000000));

    bc.failure_threshold = 2;
    bc.clock.user_data = &w;
    bc.clock.now_ns = now;
    if (resilience_circuit_breaker_new(&bc, &breaker) != RESILIENCE_OK) return 1;
    for (i = 0; i < 2; i++) {
        resilience_circuit_breaker_try_acquire(breaker, &permit, NULL);
        resilience_circuit_breaker_record_failure(breaker, permit);
    }
    if (resilience_circuit_breaker_try_acquire(breaker, &permit, &wait_ns) != RESILIENCE_ERR_CIRCUIT_OPEN) return 1;
    printf("breaker: %s after 2 failures, retry in %llu s\n",
           resilience_status_message(RESILIENCE_ERR_CIRCUIT_OPEN), (unsigned long long)(wait_ns / 1000000000));
    resilience_circuit_breaker_free(breaker);
    resilience_retry_policy_free(policy);
    return 0;
}
