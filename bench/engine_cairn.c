/*
** engine_cairn.c -- the Cairn adapter, through cairn.h.
**
** Options. Cairn takes its options as JSON at cairn_open(). The harness's
** defaults are the strings below, in this one place; the environment
** variable CAIRN_BENCH_OPTIONS (a JSON object) adds keys or overrides them,
** so options the storage engine gains later (block_cache_mb, compression,
** ...) can be measured without editing the harness:
**
**     CAIRN_BENCH_OPTIONS='{"checkpoint_mb":256}' make bench N=100000
**
** "sync" is the one key the environment may not set: it is what the
** workload decides ("never" for every row but fillsync and fillsync8,
** "always" for those). An option cairn_open() rejects stops the benchmark
** with Cairn's message; it is never dropped silently.
**
** Every other Cairn setting is its default.
*/
#include "engine.h"

#include <cairn.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The harness's Cairn options, per durability mode: the only place they are
 * written. Keys the environment also names are taken from the environment. */
static const char CAIRN_OPTIONS_NOSYNC[] = "{\"sync\": \"never\"}";
static const char CAIRN_OPTIONS_SYNC[] = "{\"sync\": \"always\"}";
static const char CAIRN_OPTIONS_ENV[] = "CAIRN_BENCH_OPTIONS";

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
static char *cairn_options_json(int sync, char *err)
{
    const char *base = sync ? CAIRN_OPTIONS_SYNC : CAIRN_OPTIONS_NOSYNC;
    const char *env = getenv(CAIRN_OPTIONS_ENV);
    json_member defaults[16], overrides[64];
    int n_defaults = json_members(base, defaults, 16), n_overrides = 0;
    if (n_defaults < 0) {
        bench_fail(err, "the harness's Cairn options are not a JSON object: %s", base);
        return NULL;
    }
    if (env != NULL && *env != '\0') {
        n_overrides = json_members(env, overrides, 64);
        if (n_overrides < 0) {
            bench_fail(err, "%s is not a JSON object (of at most 64 members): %s", CAIRN_OPTIONS_ENV, env);
            return NULL;
        }
        if (member_named(overrides, n_overrides, "sync", 4)) {
            bench_fail(err, "%s may not set \"sync\": each workload chooses it", CAIRN_OPTIONS_ENV);
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

/* ---- The adapter --------------------------------------------------------- */

typedef struct cairn_handle {
    cairn_db *db;
    int sync;
    cairn_batch *batch; /* write_batch() reuses one */
} cairn_handle;

struct engine_iter {
    cairn_iter *iter;
};

/* Copies a Cairn errmsg into err and frees it. */
static int cairn_fail(char *err, const char *what, int status, char *msg)
{
    bench_fail(err, "%s: %s: %s", what, cairn_status_name(status), msg ? msg : "(no message)");
    cairn_free(msg);
    return -1;
}

static const char *cairn_bench_version(void) { return cairn_version(); }

static void cairn_bench_describe(FILE *out)
{
    char err[BENCH_ERRLEN];
    char *nosync = cairn_options_json(0, err);
    char *sync = nosync ? cairn_options_json(1, err) : NULL;
    if (sync == NULL) {
        fprintf(out, "options rejected: %s", err);
    } else {
        fprintf(out, "cairn_open options %s (fillsync rows: %s); %s=%s; every other option at its default",
                nosync, sync, CAIRN_OPTIONS_ENV, getenv(CAIRN_OPTIONS_ENV) ? getenv(CAIRN_OPTIONS_ENV) : "(unset)");
    }
    free(nosync);
    free(sync);
}

static int cairn_bench_open(const char *dir, int sync, void **out, char *err)
{
    if (cairn_abi_version() != CAIRN_ABI_VERSION)
        return bench_fail(err, "libcairn ABI %d, cairn.h ABI %d", cairn_abi_version(), CAIRN_ABI_VERSION);
    char *json = cairn_options_json(sync, err);
    if (json == NULL) return -1;
    cairn_handle *h = calloc(1, sizeof *h);
    if (h == NULL) {
        free(json);
        return bench_fail(err, "out of memory");
    }
    char *msg = NULL;
    int rc = cairn_open(dir, json, strlen(json), &h->db, &msg);
    if (rc != CAIRN_OK) {
        char what[BENCH_ERRLEN / 2];
        snprintf(what, sizeof what, "cairn_open with options %s", json);
        free(json);
        free(h);
        return cairn_fail(err, what, rc, msg);
    }
    free(json);
    h->sync = sync;
    *out = h;
    return 0;
}

static int cairn_bench_close(void *db, char *err)
{
    cairn_handle *h = db;
    cairn_batch_free(h->batch);
    char *msg = NULL;
    int rc = cairn_close(h->db, &msg);
    free(h);
    return rc == CAIRN_OK ? 0 : cairn_fail(err, "cairn_close", rc, msg);
}

static int cairn_bench_put(void *db, const char *key, size_t key_len, const char *value, size_t value_len,
                           char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    int rc = cairn_put(h->db, (const uint8_t *)key, key_len, (const uint8_t *)value, value_len, 0, &msg);
    return rc == CAIRN_OK ? 0 : cairn_fail(err, "cairn_put", rc, msg);
}

/* Durability is the handle's: opened with "sync":"always" by the harness. */
static int cairn_bench_put_sync(void *db, const char *key, size_t key_len, const char *value,
                                size_t value_len, char *err)
{
    cairn_handle *h = db;
    if (!h->sync) return bench_fail(err, "put_sync on a database opened with \"sync\":\"never\"");
    return cairn_bench_put(db, key, key_len, value, value_len, err);
}

static int cairn_bench_write_batch(void *db, const char *const *keys, const size_t *key_lens,
                                   const char *const *values, const size_t *value_lens, size_t n, char *err)
{
    cairn_handle *h = db;
    char *msg = NULL;
    int rc;
    if (h->batch == NULL && (rc = cairn_batch_new(&h->batch, &msg)) != CAIRN_OK)
        return cairn_fail(err, "cairn_batch_new", rc, msg);
    cairn_batch_clear(h->batch);
    for (size_t i = 0; i < n; i++) {
        rc = cairn_batch_put(h->batch, (const uint8_t *)keys[i], key_lens[i], (const uint8_t *)values[i],
                             value_lens[i], 0, &msg);
        if (rc != CAIRN_OK) return cairn_fail(err, "cairn_batch_put", rc, msg);
    }
    rc = cairn_write(h->db, h->batch, &msg);
    return rc == CAIRN_OK ? 0 : cairn_fail(err, "cairn_write", rc, msg);
}

static int cairn_bench_get(void *db, const char *key, size_t key_len, char *value, size_t cap,
                           size_t *value_len, char *err)
{
    cairn_handle *h = db;
    uint8_t *v = NULL;
    size_t len = 0;
    /* No errmsg: Cairn formats a message for every NOT_FOUND, which a
     * caller probing for keys would not ask for. Only a real error is
     * repeated to fetch its message. */
    int rc = cairn_get(h->db, (const uint8_t *)key, key_len, &v, &len, NULL);
    if (rc == CAIRN_NOT_FOUND) return 0;
    if (rc != CAIRN_OK) {
        char *msg = NULL;
        rc = cairn_get(h->db, (const uint8_t *)key, key_len, &v, &len, &msg);
        if (rc != CAIRN_OK) return cairn_fail(err, "cairn_get", rc, msg);
    }
    memcpy(value, v, len < cap ? len : cap);
    *value_len = len;
    cairn_free(v);
    return 1;
}

static engine_iter *cairn_bench_iter_open(void *db, char *err)
{
    cairn_handle *h = db;
    engine_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        bench_fail(err, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    int rc = cairn_iter_open(h->db, NULL, 0, NULL, 0, 0, &it->iter, &msg);
    if (rc != CAIRN_OK) {
        free(it);
        cairn_fail(err, "cairn_iter_open", rc, msg);
        return NULL;
    }
    return it;
}

static int cairn_bench_iter_seek(engine_iter *it, const char *key, size_t key_len, char *err)
{
    char *msg = NULL;
    int rc = cairn_iter_seek(it->iter, (const uint8_t *)key, key_len, &msg);
    return rc == CAIRN_OK ? 0 : cairn_fail(err, "cairn_iter_seek", rc, msg);
}

static int cairn_bench_iter_next(engine_iter *it, const char **key, size_t *key_len, const char **value,
                                 size_t *value_len, char *err)
{
    char *msg = NULL;
    int rc = cairn_iter_next(it->iter, (const uint8_t **)key, key_len, (const uint8_t **)value, value_len, &msg);
    if (rc == CAIRN_OK) return 1;
    if (rc == CAIRN_DONE) {
        cairn_free(msg);
        return 0;
    }
    return cairn_fail(err, "cairn_iter_next", rc, msg);
}

static void cairn_bench_iter_close(engine_iter *it)
{
    cairn_iter_close(it->iter);
    free(it);
}

static char *cairn_bench_stats(void *db)
{
    cairn_handle *h = db;
    char *json = NULL, *msg = NULL;
    if (cairn_stats(h->db, &json, NULL, &msg) != CAIRN_OK) {
        cairn_free(msg);
        return NULL;
    }
    size_t len = strlen(json);
    char *copy = malloc(len + 1);
    if (copy) memcpy(copy, json, len + 1);
    cairn_free(json);
    return copy;
}

const engine engine_cairn = {
    .name = "cairn",
    .version = cairn_bench_version,
    .describe = cairn_bench_describe,
    .open = cairn_bench_open,
    .close = cairn_bench_close,
    .put = cairn_bench_put,
    .put_sync = cairn_bench_put_sync,
    .write_batch = cairn_bench_write_batch,
    .get = cairn_bench_get,
    .iter_open = cairn_bench_iter_open,
    .iter_seek = cairn_bench_iter_seek,
    .iter_next = cairn_bench_iter_next,
    .iter_close = cairn_bench_iter_close,
    .stats = cairn_bench_stats,
};
