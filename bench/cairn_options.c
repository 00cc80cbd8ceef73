/*
** cairn_options.c -- the Cairn open options of both harnesses; see
** cairn_options.h.
*/
#include "cairn_options.h"
#include "util.h"

#include <cairn.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harnesses' Cairn options, per durability mode: the only place they are
 * written. Keys the environment also names are taken from the environment. */
static const char CAIRN_OPTIONS_NOSYNC[] = "{\"sync\": \"never\"}";
static const char CAIRN_OPTIONS_SYNC[] = "{\"sync\": \"always\"}";

/* ---- A tiny scanner for the top level of a JSON object ------------------ */
/* It finds member names and the extent of their values; Cairn parses the
 * values. Enough to merge two objects by key. */

typedef struct json_member {
    const char *name; /* inside the quotes, escapes left as written */
    size_t name_len;
    const char *text; /* the whole member: "name": value */
    size_t text_len;
} json_member;

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p)) p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    /* p is at the opening quote; returns just past the closing one. */
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end)
{
    p = skip_space(p, end);
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (p == NULL) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *start = p;
    while (p < end && *p != ',' && *p != '}' && !isspace((unsigned char)*p)) p++;
    return p > start ? p : NULL;
}

/* Splits the object `text` into at most `cap` members; returns their number
 * or -1 when the text is not a JSON object. */
static int json_members(const char *text, json_member *members, int cap)
{
    const char *p = text, *end = text + strlen(text);
    p = skip_space(p, end);
    if (p >= end || *p != '{') return -1;
    p = skip_space(p + 1, end);
    int n = 0;
    if (p < end && *p == '}') return skip_space(p + 1, end) == end ? 0 : -1;
    for (;;) {
        if (p >= end || *p != '"' || n == cap) return -1;
        const char *name_end = skip_string(p, end);
        if (name_end == NULL) return -1;
        json_member *m = &members[n++];
        m->text = p;
        m->name = p + 1;
        m->name_len = (size_t)(name_end - 1 - (p + 1));
        p = skip_space(name_end, end);
        if (p >= end || *p != ':') return -1;
        p = skip_value(p + 1, end);
        if (p == NULL) return -1;
        m->text_len = (size_t)(p - m->text);
        p = skip_space(p, end);
        if (p < end && *p == ',') {
            p = skip_space(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') return skip_space(p + 1, end) == end ? n : -1;
        return -1;
    }
}

static int member_named(const json_member *members, int n, const char *name, size_t name_len)
{
    for (int i = 0; i < n; i++)
        if (members[i].name_len == name_len && memcmp(members[i].name, name, name_len) == 0) return 1;
    return 0;
}

/* The options JSON for one open: the harness's members that the environment
 * does not name, then the environment's. A malloc()ed string, or NULL with
 * err set. */
char *bench_cairn_options(int sync, char *err)
{
    const char *base = sync ? CAIRN_OPTIONS_SYNC : CAIRN_OPTIONS_NOSYNC;
    const char *env = getenv(BENCH_CAIRN_OPTIONS_ENV);
    json_member defaults[16], overrides[64];
    int n_defaults = json_members(base, defaults, 16), n_overrides = 0;
    if (n_defaults < 0) {
        bench_fail(err, "the harness's Cairn options are not a JSON object: %s", base);
        return NULL;
    }
    if (env != NULL && *env != '\0') {
        n_overrides = json_members(env, overrides, 64);
        if (n_overrides < 0) {
            bench_fail(err, "%s is not a JSON object (of at most 64 members): %s", BENCH_CAIRN_OPTIONS_ENV, env);
            return NULL;
        }
        if (member_named(overrides, n_overrides, "sync", 4)) {
            bench_fail(err, "%s may not set \"sync\": the harness chooses it", BENCH_CAIRN_OPTIONS_ENV);
            return NULL;
        }
    }
    size_t cap = strlen(base) + (env ? strlen(env) : 0) + 8;
    char *json = malloc(cap);
    if (json == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    size_t len = 0;
    json[len++] = '{';
    for (int i = 0; i < n_defaults + n_overrides; i++) {
        const json_member *m = i < n_defaults ? &defaults[i] : &overrides[i - n_defaults];
        if (i < n_defaults && member_named(overrides, n_overrides, m->name, m->name_len)) continue;
        if (len > 1) json[len++] = ',';
        memcpy(json + len, m->text, m->text_len);
        len += m->text_len;
    }
    json[len++] = '}';
    json[len] = '\0';
    return json;
}

int bench_cairn_fail(char *err, const char *what, int status, char *msg)
{
    bench_fail(err, "%s: %s: %s", what, cairn_status_name(status), msg ? msg : "(no message)");
    cairn_free(msg);
    return -1;
}

int bench_cairn_open(const char *dir, int sync, cairn_db **out, char *err)
{
    if (cairn_abi_version() != CAIRN_ABI_VERSION)
        return bench_fail(err, "libcairn ABI %d, cairn.h ABI %d", cairn_abi_version(), CAIRN_ABI_VERSION);
    char *json = bench_cairn_options(sync, err);
    if (json == NULL) return -1;
    char *msg = NULL;
    int rc = cairn_open(dir, json, strlen(json), out, &msg);
    if (rc != CAIRN_OK) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "cairn_open with options %s", json);
        free(json);
        return bench_cairn_fail(err, what, rc, msg);
    }
    free(json);
    return 0;
}
