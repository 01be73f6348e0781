/* A tiny recursive-descent JSON parser (see json.h). */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    char *error;
    size_t error_len;
} parser;

static json_value *parse_value(parser *ps, int depth);

static void fail(parser *ps, const char *what) {
    if (ps->error && ps->error_len) snprintf(ps->error, ps->error_len, "json: %s near '%.20s'", what, ps->p);
}

static void skip_ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static json_value *new_value(json_type type) {
    json_value *v = calloc(1, sizeof *v);
    if (v) v->type = type;
    return v;
}

static int append(json_value *container, json_value *item, char *key) {
    json_value **items = realloc(container->items, (container->count + 1) * sizeof *items);
    if (!items) return 0;
    container->items = items;
    if (container->type == JSON_OBJECT) {
        char **keys = realloc(container->keys, (container->count + 1) * sizeof *keys);
        if (!keys) return 0;
        container->keys = keys;
        keys[container->count] = key;
    }
    items[container->count++] = item;
    return 1;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* Decodes a string literal (ps->p at the opening quote) into UTF-8. */
static char *parse_string(parser *ps) {
    size_t cap = 16, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    ps->p++;
    while (*ps->p && *ps->p != '"') {
        unsigned cp;
        if (len + 5 >= cap) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger) { free(out); return NULL; }
            out = bigger;
        }
        if (*ps->p != '\\') { out[len++] = *ps->p++; continue; }
        ps->p++;
        switch (*ps->p) {
        case '"': case '\\': case '/': out[len++] = *ps->p; break;
        case 'b': out[len++] = '\b'; break;
        case 'f': out[len++] = '\f'; break;
        case 'n': out[len++] = '\n'; break;
        case 'r': out[len++] = '\r'; break;
        case 't': out[len++] = '\t'; break;
        case 'u':
            if (!hex4(ps->p + 1, &cp)) { fail(ps, "bad \\u escape"); free(out); return NULL; }
            ps->p += 4;
            /* Basic Multilingual Plane only: the vectors need no more. */
            if (cp < 0x80) out[len++] = (char)cp;
            else if (cp < 0x800) { out[len++] = (char)(0xC0 | (cp >> 6)); out[len++] = (char)(0x80 | (cp & 0x3F)); }
            else {
                out[len++] = (char)(0xE0 | (cp >> 12));
                out[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[len++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        default: fail(ps, "bad escape"); free(out); return NULL;
        }
        ps->p++;
    }
    if (*ps->p != '"') { fail(ps, "unterminated string"); free(out); return NULL; }
    ps->p++;
    out[len] = '\0';
    return out;
}

static json_value *parse_container(parser *ps, int depth, int is_object) {
    json_value *v = new_value(is_object ? JSON_OBJECT : JSON_ARRAY);
    char close = is_object ? '}' : ']';
    if (!v) return NULL;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) { ps->p++; return v; }
    for (;;) {
        char *key = NULL;
        json_value *item;
        skip_ws(ps);
        if (is_object) {
            if (*ps->p != '"') { fail(ps, "expected a key"); json_free(v); return NULL; }
            key = parse_string(ps);
            if (!key) { json_free(v); return NULL; }
            skip_ws(ps);
            if (*ps->p != ':') { fail(ps, "expected ':'"); free(key); json_free(v); return NULL; }
            ps->p++;
        }
        item = parse_value(ps, depth + 1);
        if (!item || !append(v, item, key)) { json_free(item); free(key); json_free(v); return NULL; }
        skip_ws(ps);
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == close) { ps->p++; return v; }
        fail(ps, "expected ',' or a closing bracket");
        json_free(v);
        return NULL;
    }
}

static json_value *parse_value(parser *ps, int depth) {
    json_value *v;
    skip_ws(ps);
    if (depth > 64) { fail(ps, "nested too deeply"); return NULL; }
    switch (*ps->p) {
    case '{': return parse_container(ps, depth, 1);
    case '[': return parse_container(ps, depth, 0);
    case '"': {
        char *s = parse_string(ps);
        if (!s) return NULL;
        v = new_value(JSON_STRING);
        if (!v) { free(s); return NULL; }
        v->string = s;
        return v;
    }
    case 't': case 'f': case 'n': {
        const char *words[] = {"true", "false", "null"};
        int i;
        for (i = 0; i < 3; i++) {
            size_t n = strlen(words[i]);
            if (strncmp(ps->p, words[i], n) == 0) {
                ps->p += n;
                v = new_value(i == 2 ? JSON_NULL : JSON_BOOL);
                if (v) v->boolean = (i == 0);
                return v;
            }
        }
        fail(ps, "unknown literal");
        return NULL;
    }
    default: {
        char *end;
        double d = strtod(ps->p, &end);
        if (end == ps->p || !(*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
            fail(ps, "unexpected character");
            return NULL;
        }
        v = new_value(JSON_NUMBER);
        if (v) {
            const char *c;
            v->number = d;
            v->integer_literal = 1;
            for (c = ps->p; c < end; c++)
                if (*c == '.' || *c == 'e' || *c == 'E') v->integer_literal = 0;
            if (v->integer_literal) {
                errno = 0;
                v->integer = strtoll(ps->p, NULL, 10);
                v->integer_overflow = errno == ERANGE;
            }
        }
        ps->p = end;
        return v;
    }
    }
}

json_value *json_parse(const char *text, char *error, size_t error_len) {
    parser ps;
    json_value *v;
    ps.p = text;
    ps.error = error;
    ps.error_len = error_len;
    v = parse_value(&ps, 0);
    if (!v) return NULL;
    skip_ws(&ps);
    if (*ps.p) { fail(&ps, "trailing characters"); json_free(v); return NULL; }
    return v;
}

json_value *json_parse_file(const char *path, char *error, size_t error_len) {
    FILE *f = fopen(path, "rb");
    long size;
    char *text;
    json_value *v;
    if (!f) { if (error) snprintf(error, error_len, "cannot open %s", path); return NULL; }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        if (error) snprintf(error, error_len, "cannot size %s", path);
        return NULL;
    }
    text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        fclose(f);
        if (error) snprintf(error, error_len, "cannot read %s", path);
        return NULL;
    }
    fclose(f);
    text[size] = '\0';
    v = json_parse(text, error, error_len);
    free(text);
    return v;
}

void json_free(json_value *v) {
    size_t i;
    if (!v) return;
    for (i = 0; i < v->count; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    free(v);
}

const json_value *json_get(const json_value *o, const char *key) {
    size_t i;
    if (!o || o->type != JSON_OBJECT) return NULL;
    for (i = 0; i < o->count; i++)
        if (strcmp(o->keys[i], key) == 0) return o->items[i];
    return NULL;
}

const json_value *json_at(const json_value *a, size_t i) {
    if (!a || a->type != JSON_ARRAY || i >= a->count) return NULL;
    return a->items[i];
}

int json_is_integer(const json_value *v) {
    /* The range check keeps the cast defined. */
    return v && v->type == JSON_NUMBER && v->number >= -9.2e18 && v->number <= 9.2e18 &&
           v->number == (double)(long long)v->number;
}
