/* Virtual time for the C tests: a counter that only moves when told to or
 * when the library "sleeps" on it, recording every sleep. Header-only. */
#ifndef RESILIENCE_TEST_VCLOCK_H
#define RESILIENCE_TEST_VCLOCK_H

#include <stdint.h>
#include <stdlib.h>

#include "resilience.h"

#define VCLOCK_MAX_SLEEPS 64

typedef struct {
    int64_t now_ns; /* a reading: int64_t, as the library's clocks give it */
    uint64_t sleeps[VCLOCK_MAX_SLEEPS];
    size_t sleep_count;
    int *freed; /* set to 1 by the finalizer, if not NULL */
} vclock;

static inline int64_t vclock_now(void *user_data) {
    return ((vclock *)user_data)->now_ns;
}

static inline void vclock_sleep(void *user_data, uint64_t ns) {
    vclock *c = user_data;
    if (c->sleep_count < VCLOCK_MAX_SLEEPS) c->sleeps[c->sleep_count] = ns;
    c->sleep_count++;
    c->now_ns += (int64_t)ns;
}

static inline void vclock_free(void *user_data) {
    vclock *c = user_data;
    if (c->freed) *c->freed = 1;
    free(c);
}

/* A time source over `c` that does not own it. */
static inline resilience_time_source_t vclock_borrowed(vclock *c) {
    resilience_time_source_t t = resilience_time_source_system();
    t.user_data = c;
    t.now_ns = vclock_now;
    t.sleep_ns = vclock_sleep;
    return t;
}

/* A heap clock whose ownership passes to the object it is given to. */
static inline resilience_time_source_t vclock_owned(vclock **out, int *freed) {
    vclock *c = calloc(1, sizeof *c);
    resilience_time_source_t t = vclock_borrowed(c);
    if (c) c->freed = freed;
    t.free_user_data = vclock_free;
    *out = c;
    return t;
}

#endif
