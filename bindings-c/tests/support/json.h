/* A tiny JSON reader for the C tests and the demo: parses a whole document
 * into a tree (objects keep key order). Enough for the conformance vectors
 * and examples/scenario.json; not a general-purpose library. */
#ifndef RESILIENCE_TEST_JSON_H
#define RESILIENCE_TEST_JSON_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    int boolean;
    double number;
    /* JSON_NUMBER written without fraction or exponent ("-12"): its exact
     * value in `integer` when it fits a long long, else `integer_overflow`. */
    int integer_literal;
    int integer_overflow;
    long long integer;
    char *string;               /* JSON_STRING: the decoded text */
    struct json_value **items;  /* JSON_ARRAY / JSON_OBJECT: the values */
    char **keys;                /* JSON_OBJECT: the keys */
    size_t count;
} json_value;

/* Parses `text`; NULL on a syntax error (with a message in `error`, if given). */
json_value *json_parse(const char *text, char *error, size_t error_len);
/* Reads and parses a file; NULL (and a message) on failure. */
json_value *json_parse_file(const char *path, char *error, size_t error_len);
void json_free(json_value *value);

/* The member `key` of an object, or NULL (also when `object` is not one). */
const json_value *json_get(const json_value *object, const char *key);
/* Item `i` of an array, or NULL. */
const json_value *json_at(const json_value *array, size_t i);
/* Whether `v` is a number with an integral value. */
int json_is_integer(const json_value *v);

#endif
