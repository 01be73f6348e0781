/* Assertion helpers shared by the C tests: a failed check prints where and
 * why, counts, and lets the test continue; main() returns the count. */
#ifndef RESILIENCE_TEST_CHECK_H
#define RESILIENCE_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "resilience.h"

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        check_count++;                                                                \
        if (!(cond)) {                                                                \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECK_EQ_U64(got, want)                                                                       \
    do {                                                                                              \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);          \
        check_count++;                                                                                \
        if (g_ != w_) {                                                                               \
            check_failures++;                                                                         \
            fprintf(stderr, "%s:%d: %s == %llu, expected %llu\n", __FILE__, __LINE__, #got, g_, w_); \
        }                                                                                             \
    } while (0)

/* `got` is `want`, and when it is a failure the thread's last error
 * message contains `fragment` (NULL: no requirement). */
static inline void check_status_at(const char *file, int line, const char *call, resilience_status_t got,
                                   resilience_status_t want, const char *fragment) {
    const char *message = resilience_last_error_message();
    check_count++;
    if (got != want) {
        check_failures++;
        fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d; last error: %s\n", file, line, call, (int)got,
                resilience_status_message((int)got), (int)want, message);
    } else if (got != RESILIENCE_OK && fragment != NULL && strstr(message, fragment) == NULL) {
        check_failures++;
        fprintf(stderr, "%s:%d: %s: last error \"%s\" lacks \"%s\"\n", file, line, call, message, fragment);
    }
}

#define CHECK_STATUS(call, status, fragment) check_status_at(__FILE__, __LINE__, #call, (call), (status), (fragment))

#define CHECK_OK(call) CHECK_STATUS(call, RESILIENCE_OK, NULL)

static inline int check_report(const char *suite) {
    if (check_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", suite, check_failures, check_count);
        return 1;
    }
    printf("%s: all %d checks passed\n", suite, check_count);
    return 0;
}

#endif
