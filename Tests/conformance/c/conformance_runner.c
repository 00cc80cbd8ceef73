/*
** conformance_runner.c -- runs the language-neutral conformance cases
** (the JSON files in Tests/conformance/cases, described in
** Tests/conformance/README.md)
** against libcairn through its C ABI.
**
**   cairn-conformance-c CASES_DIR [CASE ...]
**
** Runs every *.json file in CASES_DIR in name order (or only the named
** cases, given as "kv_basic" or "kv_basic.json"), each against a fresh
** temporary directory that is removed afterwards. A case fails at its first
** step whose status or result differs from the expectation, and also when it
** has an unknown op, an unknown or mistyped field, or is not valid JSON: the
** runner never skips. Each failing case prints one line,
**
**   FAIL kv_basic.json: steps[3] get: got CAIRN_OK, want CAIRN_NOT_FOUND
**
** and the run ends with "conformance: N cases passed". The exit status is 0
** only when every case passed.
**
** How a step maps onto calls (README, "Steps"): where a step makes several
** calls, they are made in order and the first one that does not return
** CAIRN_OK ends the calls and gives the step its status; handles the step
** created are released all the same. A step's expect_* results are compared
** only when its status is CAIRN_OK, except those of insert_many with
** options, which describe a partial failure too.
**
** Document steps (README, "Document steps") pass JSON-valued fields as the
** text json_write() makes of them and "*_raw" fields verbatim. JSON that
** the library returns (documents, _ids, names, update results) must parse,
** with no trailing text and no key twice in an object, and is compared as
** parsed JSON: numbers by value (1 equals 1.0), objects whatever the order of
** their keys, arrays in order.
**
** Transaction steps (README, "Transaction steps") keep each transaction's
** handle under its name for the rest of the case, also after commit or
** rollback, so that later steps can misuse it. A key-value or document step
** with "txn" passes that handle (a cairn_db *) instead of the database's;
** naming a transaction that was never begun fails the case. Every handle is
** rolled back when the case ends.
**
** The database directory of a case is "db" inside its temporary directory,
** so it does not exist until the first open creates it. The "regular_file"
** of the open step's "at" is a file beside it.
*/
#define _XOPEN_SOURCE 700

#include <cairn.h>
#include <cjson/cJSON.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Strings and bytes                                                         */
/* ------------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "cairn-conformance-c: out of memory\n");
        exit(2);
    }
    return p;
}

/* A growable NUL-terminated string for messages and JSON text. */
typedef struct {
    char *p;
    size_t len, cap;
} strbuf;

static void sb_reserve(strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + extra + 1)
            cap *= 2;
        sb->p = realloc(sb->p, cap);
        if (sb->p == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
        sb->cap = cap;
    }
}

static void sb_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    va_list again;
    int n;
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0) {
        sb_reserve(sb, (size_t)n);
        vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
    }
    va_end(again);
}

static void sb_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

static void sb_clear(strbuf *sb)
{
    sb->len = 0;
    if (sb->p != NULL)
        sb->p[0] = '\0';
}

static void sb_release(strbuf *sb)
{
    free(sb->p);
    sb->p = NULL;
    sb->len = sb->cap = 0;
}

/* Bytes of a key or value. */
typedef struct {
    const uint8_t *p;
    size_t len;
} bytes;

static int bytes_eq(bytes a, bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Appends bytes as a quoted string for messages: "\x00" for what is not printable ASCII. */
static void sb_quoted(strbuf *sb, bytes b)
{
    size_t i;
    sb_printf(sb, "\"");
    for (i = 0; i < b.len; i++) {
        uint8_t c = b.p[i];
        if (c == '"' || c == '\\')
            sb_printf(sb, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            sb_printf(sb, "%c", c);
        else
            sb_printf(sb, "\\x%02x", c);
    }
    sb_printf(sb, "\"");
}

/* ------------------------------------------------------------------------ */
/* NUL bytes in JSON strings                                                 */
/* ------------------------------------------------------------------------ */

/*
** cJSON hands out strings NUL-terminated and without a length, so a
** "\u0000" in a case would silently cut a key short. Before parsing, the
** runner rewrites inside string literals "\u0000" as "\u0001" "0", and
** "\u0001" (and a raw 0x01 byte) as "\u0001" "1"; string_bytes() undoes
** this, so every string reaches the library byte for byte.
*/
#define NUL_ESCAPE 0x01

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *protect_nuls(const char *in, size_t len, size_t *out_len)
{
    char *out = xmalloc(len * 7 + 1); /* worst case: every byte a raw 0x01 */
    size_t i = 0, o = 0;
    int in_string = 0;
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        if (!in_string) {
            in_string = c == '"';
            out[o++] = in[i++];
        } else if (c == '"') {
            in_string = 0;
            out[o++] = in[i++];
        } else if (c == NUL_ESCAPE) {
            memcpy(out + o, "\\u00011", 7);
            o += 7;
            i += 1;
        } else if (c == '\\' && i + 1 < len) {
            if (in[i + 1] == 'u' && i + 6 <= len && hex_digit(in[i + 2]) >= 0 &&
                hex_digit(in[i + 3]) >= 0 && hex_digit(in[i + 4]) >= 0 &&
                hex_digit(in[i + 5]) >= 0) {
                int v = hex_digit(in[i + 2]) << 12 | hex_digit(in[i + 3]) << 8 |
                        hex_digit(in[i + 4]) << 4 | hex_digit(in[i + 5]);
                if (v == 0 || v == NUL_ESCAPE) {
                    memcpy(out + o, "\\u0001", 6);
                    o += 6;
                    out[o++] = v == 0 ? '0' : '1';
                } else {
                    memcpy(out + o, in + i, 6);
                    o += 6;
                }
                i += 6;
            } else {
                out[o++] = in[i++];
                out[o++] = in[i++];
            }
        } else {
            out[o++] = in[i++];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ------------------------------------------------------------------------ */
/* The state of one case                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *file;       /* the case's file name, for messages */
    char dir[PATH_MAX];     /* its temporary directory */
    char db_path[PATH_MAX]; /* the database directory inside it */
    char file_path[PATH_MAX];

    cairn_db *db;       /* the current handle, kept after close for misuse */
    cairn_db **retired; /* handles replaced by a later open, closed at the end */
    size_t n_retired;

    /*
    ** Transactions by name (README, "Transaction steps"). A handle stays
    ** under its name after commit or rollback, so that later steps can
    ** misuse it; a name begun again retires the old handle. Every handle is
    ** rolled back at the end of the case (rollback of an ended transaction
    ** is a no-op).
    */
    struct named_txn {
        char *name;
        cairn_db *txn;
    } *txns;
    size_t n_txns;
    cairn_db **retired_txns;
    size_t n_retired_txns;

    cairn_db *h; /* the handle the step passes: db, or the txn it names */

    /*
    ** Watches by name (README, "Change feed steps"), each with every event
    ** it delivered (for resume_after). A handle stays under its name after
    ** close, for misuse; a name opened again retires the old handle. All
    ** are closed at the end of the case.
    */
    struct named_watch {
        char *name;
        cairn_watch *watch;
        cJSON *events;
    } *watches;
    size_t n_watches;
    cairn_watch **retired_watches;
    size_t n_retired_watches;

    /* The step being run. */
    int expect;          /* the status it must return */
    int status;          /* the first status that was not CAIRN_OK */
    const char *call;    /* the call that returned it */
    char *err;           /* the errmsg argument of every call */
    strbuf errmsg;       /* that call's errmsg */
    strbuf why;          /* why the step failed */
    void **allocs;       /* freed when the step ends */
    size_t n_allocs, cap_allocs;
} runner;

static void *step_alloc(runner *r, size_t n)
{
    void *p = xmalloc(n);
    if (r->n_allocs == r->cap_allocs) {
        r->cap_allocs = r->cap_allocs ? 2 * r->cap_allocs : 16;
        r->allocs = realloc(r->allocs, r->cap_allocs * sizeof *r->allocs);
        if (r->allocs == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
    }
    r->allocs[r->n_allocs++] = p;
    return p;
}

static void step_free_all(runner *r)
{
    size_t i;
    for (i = 0; i < r->n_allocs; i++)
        free(r->allocs[i]);
    r->n_allocs = 0;
}

/* Records why the step failed (the first reason wins) and returns -1. */
static int fail(runner *r, const char *fmt, ...)
{
    va_list ap;
    if (r->why.len > 0)
        return -1;
    va_start(ap, fmt);
    sb_vprintf(&r->why, fmt, ap);
    va_end(ap);
    return -1;
}

/*
** Records the outcome of one call of the step, which passed &r->err as its
** errmsg: the first status that is not CAIRN_OK becomes the step's status.
** Frees the message. Returns rc == CAIRN_OK. (r->err is read here, after the
** call has returned, never as an argument next to the call.)
*/
static int track(runner *r, const char *call, int rc)
{
    if (r->status == CAIRN_OK && rc != CAIRN_OK) {
        r->status = rc;
        r->call = call;
        sb_clear(&r->errmsg);
        if (r->err != NULL)
            sb_printf(&r->errmsg, "%s", r->err);
    }
    cairn_free(r->err);
    r->err = NULL;
    return rc == CAIRN_OK;
}

static const struct {
    const char *name;
    int code;
} STATUSES[] = {
    {"OK", CAIRN_OK},
    {"NOT_FOUND", CAIRN_NOT_FOUND},
    {"INVALID_ARGUMENT", CAIRN_INVALID_ARGUMENT},
    {"IO_ERROR", CAIRN_IO_ERROR},
    {"CORRUPTION", CAIRN_CORRUPTION},
    {"BUSY", CAIRN_BUSY},
    {"CLOSED", CAIRN_CLOSED},
    {"CONFLICT", CAIRN_CONFLICT},
    {"CONSTRAINT", CAIRN_CONSTRAINT},
    {"SCHEMA", CAIRN_SCHEMA},
    {"NO_SPACE", CAIRN_NO_SPACE},
    {"INTERNAL", CAIRN_INTERNAL},
    {"NO_MEMORY", CAIRN_NO_MEMORY},
    {"INTERRUPTED", CAIRN_INTERRUPTED},
    {"HISTORY_LOST", CAIRN_HISTORY_LOST},
    {"DONE", CAIRN_DONE},
};

static const char *status_text(int code)
{
    static char buf[32];
    size_t i;
    for (i = 0; i < sizeof STATUSES / sizeof STATUSES[0]; i++)
        if (STATUSES[i].code == code)
            return STATUSES[i].name;
    snprintf(buf, sizeof buf, "status %d", code);
    return buf;
}

/*
** Compares the step's status with its expectation. Returns -1 (failed) when
** they differ, 1 when both are OK (so results are to be compared), 0 when
** the expected failure happened.
*/
static int check_status(runner *r)
{
    if (r->status != r->expect) {
        if (r->status == CAIRN_OK)
            return fail(r, "got CAIRN_OK, want CAIRN_%s", status_text(r->expect));
        return fail(r, "got CAIRN_%s from %s (%s), want CAIRN_%s", status_text(r->status),
                    r->call, r->errmsg.len > 0 ? r->errmsg.p : "no errmsg",
                    status_text(r->expect));
    }
    return r->status == CAIRN_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading the fields of a step                                              */
/* ------------------------------------------------------------------------ */

static const cJSON *field(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The bytes of a JSON string, with the NUL protection undone. */
static bytes string_bytes(runner *r, const char *s)
{
    size_t n = strlen(s), i, o = 0;
    uint8_t *p = step_alloc(r, n);
    bytes b;
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] == NUL_ESCAPE && i + 1 < n) {
            p[o++] = s[i + 1] == '0' ? 0x00 : NUL_ESCAPE;
            i++;
        } else {
            p[o++] = (uint8_t)s[i];
        }
    }
    b.p = p;
    b.len = o;
    return b;
}

static int get_string(runner *r, const cJSON *obj, const char *name, int required, bytes *out,
                      int *present)
{
    const cJSON *v = field(obj, name);
    out->p = NULL;
    out->len = 0;
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return required ? fail(r, "missing field \"%s\"", name) : 0;
    if (!cJSON_IsString(v))
        return fail(r, "field \"%s\" must be a string", name);
    *out = string_bytes(r, v->valuestring);
    return 0;
}

static int as_int(const cJSON *v, int64_t *out)
{
    double d;
    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || (double)(int64_t)d != d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static int get_int(runner *r, const cJSON *obj, const char *name, int required, int64_t def,
                   int64_t *out, int *present)
{
    const cJSON *v = field(obj, name);
    if (present != NULL)
        *present = v != NULL;
    *out = def;
    if (v == NULL)
        return required ? fail(r, "missing field \"%s\"", name) : 0;
    if (as_int(v, out) < 0)
        return fail(r, "field \"%s\" must be an integer", name);
    return 0;
}

/* An array field whose items all pass `ok` (NULL: any item). */
static int get_array(runner *r, const cJSON *obj, const char *name, int required,
                     cJSON_bool (*ok)(const cJSON *), const char *what, const cJSON **out)
{
    const cJSON *v = field(obj, name), *item;
    *out = v;
    if (v == NULL)
        return required ? fail(r, "missing field \"%s\"", name) : 0;
    if (!cJSON_IsArray(v))
        return fail(r, "field \"%s\" must be an array of %s", name, what);
    cJSON_ArrayForEach(item, v) {
        if (ok != NULL && !ok(item))
            return fail(r, "field \"%s\" must be an array of %s", name, what);
    }
    return 0;
}

static cJSON_bool is_string_or_null(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNull(v);
}

static cJSON_bool is_string_pair(const cJSON *v)
{
    return cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 &&
           cJSON_IsString(cJSON_GetArrayItem(v, 0)) && cJSON_IsString(cJSON_GetArrayItem(v, 1));
}

/* Writes a JSON value as text, with the NUL protection undone in strings. */
static void json_write_string(strbuf *sb, const char *s)
{
    sb_printf(sb, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == NUL_ESCAPE && s[1] != '\0') {
            s++;
            sb_printf(sb, "\\u%04x", *s == '0' ? 0 : NUL_ESCAPE);
        } else if (c == '"' || c == '\\') {
            sb_printf(sb, "\\%c", c);
        } else if (c < 0x20) {
            sb_printf(sb, "\\u%04x", c);
        } else {
            sb_printf(sb, "%c", c);
        }
    }
    sb_printf(sb, "\"");
}

static void json_write(strbuf *sb, const cJSON *v)
{
    const cJSON *item;
    int64_t i;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        int object = cJSON_IsObject(v), first = 1;
        sb_printf(sb, object ? "{" : "[");
        cJSON_ArrayForEach(item, v) {
            if (!first)
                sb_printf(sb, ",");
            first = 0;
            if (object) {
                json_write_string(sb, item->string);
                sb_printf(sb, ":");
            }
            json_write(sb, item);
        }
        sb_printf(sb, object ? "}" : "]");
    } else if (cJSON_IsString(v)) {
        json_write_string(sb, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        if (as_int(v, &i) == 0)
            sb_printf(sb, "%lld", (long long)i);
        else
            sb_printf(sb, "%.17g", v->valuedouble);
    } else if (cJSON_IsTrue(v)) {
        sb_printf(sb, "true");
    } else if (cJSON_IsFalse(v)) {
        sb_printf(sb, "false");
    } else {
        sb_printf(sb, "null");
    }
}

/*
** The text of a JSON value from a case, NUL-terminated and freed when the
** step ends. json_write() rather than cJSON_PrintUnformatted(): the case's
** strings carry the NUL protection, which only json_write() undoes.
*/
static bytes json_text(runner *r, const cJSON *v)
{
    strbuf sb = {NULL, 0, 0};
    char *copy;
    bytes b;
    json_write(&sb, v);
    copy = step_alloc(r, sb.len + 1);
    memcpy(copy, sb.p, sb.len + 1);
    sb_release(&sb);
    b.p = (const uint8_t *)copy;
    b.len = strlen(copy);
    return b;
}

/*
** A JSON-valued field: `name` holds the JSON itself and is passed as its
** text; `raw_name` (NULL when the op has no raw variant) holds a string
** passed verbatim, for malformed input. The two exclude each other;
** `required` asks for one of them. With neither, *out is NULL with length
** 0, which the ABI reads as "{}".
*/
static int get_json(runner *r, const cJSON *step, const char *name, const char *raw_name,
                    int required, bytes *out)
{
    const cJSON *v = field(step, name);
    int have_raw = 0;
    out->p = NULL;
    out->len = 0;
    if (raw_name != NULL && get_string(r, step, raw_name, 0, out, &have_raw) < 0)
        return -1;
    if (v != NULL && have_raw)
        return fail(r, "fields \"%s\" and \"%s\" exclude each other", name, raw_name);
    if (v == NULL && !have_raw) {
        if (!required)
            return 0;
        if (raw_name != NULL)
            return fail(r, "missing field \"%s\" (or \"%s\")", name, raw_name);
        return fail(r, "missing field \"%s\"", name);
    }
    if (v != NULL)
        *out = json_text(r, v);
    return 0;
}

/*
** The options text of a step: "options" (a JSON value, passed as its text),
** "options_raw" (a string passed verbatim, when allowed), or neither (NULL
** with length 0, which the ABI reads as "{}").
*/
static int get_options(runner *r, const cJSON *step, int allow_raw, bytes *out)
{
    return get_json(r, step, "options", allow_raw ? "options_raw" : NULL, 0, out);
}

/* ------------------------------------------------------------------------ */
/* Packed lists                                                              */
/* ------------------------------------------------------------------------ */

typedef struct {
    int absent;
    bytes b;
} item;

static uint8_t *pack(runner *r, const cJSON *strings, size_t *len)
{
    const cJSON *s;
    size_t total = 0, o = 0;
    uint8_t *p;
    cJSON_ArrayForEach(s, strings) total += 4 + string_bytes(r, s->valuestring).len;
    p = step_alloc(r, total);
    cJSON_ArrayForEach(s, strings) {
        bytes b = string_bytes(r, s->valuestring);
        p[o++] = (uint8_t)(b.len & 0xff);
        p[o++] = (uint8_t)(b.len >> 8 & 0xff);
        p[o++] = (uint8_t)(b.len >> 16 & 0xff);
        p[o++] = (uint8_t)(b.len >> 24 & 0xff);
        if (b.len > 0)
            memcpy(p + o, b.p, b.len);
        o += b.len;
    }
    *len = total;
    return total > 0 ? p : NULL;
}

/* Splits a packed list from the library. Returns the count, or -1 (failed). */
static long unpack(runner *r, const char *call, const uint8_t *p, size_t len, int allow_absent,
                   item **out)
{
    size_t off = 0, n = 0;
    item *items = step_alloc(r, (len / 4 + 1) * sizeof *items);
    if (p == NULL && len > 0)
        return fail(r, "%s returned a NULL list of %zu bytes", call, len);
    while (off < len) {
        uint32_t n_bytes;
        if (len - off < 4)
            return fail(r, "%s returned a malformed packed list (%zu stray bytes at offset %zu)",
                        call, len - off, off);
        n_bytes = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
                  (uint32_t)p[off + 3] << 24;
        off += 4;
        items[n].absent = n_bytes == CAIRN_ABSENT;
        items[n].b.p = p + off;
        items[n].b.len = 0;
        if (n_bytes == CAIRN_ABSENT) {
            if (!allow_absent)
                return fail(r, "%s returned CAIRN_ABSENT in a list of keys", call);
        } else {
            if (n_bytes > len - off)
                return fail(r, "%s returned a malformed packed list (item %zu overruns it)",
                            call, n);
            items[n].b.len = n_bytes;
            off += n_bytes;
        }
        n++;
    }
    *out = items;
    return (long)n;
}

static void sb_items(strbuf *sb, const item *items, long n)
{
    long i;
    sb_printf(sb, "[");
    for (i = 0; i < n; i++) {
        if (i > 0)
            sb_printf(sb, ", ");
        if (items[i].absent)
            sb_printf(sb, "null");
        else
            sb_quoted(sb, items[i].b);
    }
    sb_printf(sb, "]");
}

/* Compares a list from the library with an expect_* array of strings (or null). */
static int compare_items(runner *r, const char *name, const item *got, long n, const cJSON *want)
{
    long i = 0;
    int same = (long)cJSON_GetArraySize(want) == n;
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        if (!same)
            break;
        if (cJSON_IsNull(w))
            same = got[i].absent;
        else
            same = !got[i].absent && bytes_eq(got[i].b, string_bytes(r, w->valuestring));
        i++;
    }
    if (!same) {
        strbuf sb = {NULL, 0, 0};
        item *want_items = step_alloc(r, ((size_t)cJSON_GetArraySize(want) + 1) * sizeof *want_items);
        long m = 0;
        cJSON_ArrayForEach(w, want) {
            want_items[m].absent = cJSON_IsNull(w);
            if (!want_items[m].absent)
                want_items[m].b = string_bytes(r, w->valuestring);
            m++;
        }
        sb_printf(&sb, "%s: got ", name);
        sb_items(&sb, got, n);
        sb_printf(&sb, ", want ");
        sb_items(&sb, want_items, m);
        fail(r, "%s", sb.p);
        sb_release(&sb);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Steps                                                                     */
/* ------------------------------------------------------------------------ */

/*
** Ends every transaction of the case (rollback is idempotent and frees the
** handle), then closes every database handle, including retired ones
** (close is idempotent).
*/
static void close_all(runner *r)
{
    size_t i;
    for (i = 0; i < r->n_watches; i++) {
        cairn_watch_close(r->watches[i].watch);
        cJSON_Delete(r->watches[i].events);
        free(r->watches[i].name);
    }
    for (i = 0; i < r->n_retired_watches; i++)
        cairn_watch_close(r->retired_watches[i]);
    free(r->watches);
    free(r->retired_watches);
    r->watches = NULL;
    r->retired_watches = NULL;
    r->n_watches = r->n_retired_watches = 0;
    for (i = 0; i < r->n_txns; i++) {
        cairn_txn_rollback(r->txns[i].txn);
        free(r->txns[i].name);
    }
    for (i = 0; i < r->n_retired_txns; i++)
        cairn_txn_rollback(r->retired_txns[i]);
    free(r->txns);
    free(r->retired_txns);
    r->txns = NULL;
    r->retired_txns = NULL;
    r->n_txns = r->n_retired_txns = 0;
    for (i = 0; i < r->n_retired; i++)
        cairn_close(r->retired[i], NULL);
    free(r->retired);
    r->retired = NULL;
    r->n_retired = 0;
    cairn_close(r->db, NULL);
    r->db = NULL;
}

static void open_db(runner *r, const char *path, bytes options)
{
    cairn_db *db = NULL;
    int rc;
    if (r->db != NULL) {
        r->retired = realloc(r->retired, (r->n_retired + 1) * sizeof *r->retired);
        if (r->retired == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
        r->retired[r->n_retired++] = r->db;
    }
    rc = cairn_open(path, (const char *)options.p, options.len, &db, &r->err);
    track(r, "cairn_open", rc);
    if (rc != CAIRN_OK && db != NULL) {
        fail(r, "cairn_open returned CAIRN_%s but did not set *out_db to NULL",
             status_text(rc));
        cairn_close(db, NULL);
        db = NULL;
    }
    r->db = db;
}

static int op_open(runner *r, const cJSON *step)
{
    bytes options, at;
    int have_at;
    const char *path = r->db_path;
    if (get_options(r, step, 1, &options) < 0 || get_string(r, step, "at", 0, &at, &have_at) < 0)
        return -1;
    if (have_at) {
        FILE *f;
        if (at.len != strlen("regular_file") || memcmp(at.p, "regular_file", at.len) != 0)
            return fail(r, "field \"at\": unknown value (only \"regular_file\" is defined)");
        f = fopen(r->file_path, "w");
        if (f == NULL || fputs("not a database\n", f) < 0 || fclose(f) != 0)
            return fail(r, "cannot create %s: %s", r->file_path, strerror(errno));
        path = r->file_path;
    }
    open_db(r, path, options);
    return check_status(r) < 0 ? -1 : 0;
}

static int op_close(runner *r, const cJSON *step)
{
    (void)step;
    track(r, "cairn_close", cairn_close(r->db, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_reopen(runner *r, const cJSON *step)
{
    bytes options;
    if (get_options(r, step, 0, &options) < 0)
        return -1;
    if (track(r, "cairn_close", cairn_close(r->db, &r->err)))
        open_db(r, r->db_path, options);
    return check_status(r) < 0 ? -1 : 0;
}

static int op_put(runner *r, const cJSON *step)
{
    bytes key, value;
    int64_t ttl;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_string(r, step, "value", 1, &value, NULL) < 0 ||
        get_int(r, step, "ttl_ms", 0, 0, &ttl, NULL) < 0)
        return -1;
    track(r, "cairn_put", cairn_put(r->h, key.p, key.len, value.p, value.len, ttl, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int get_bool(runner *r, const cJSON *obj, const char *name, int *out, int *present);

static int op_put_if_absent(runner *r, const cJSON *step)
{
    bytes key, value;
    int64_t ttl;
    int stored = -1, want, have_want, checked;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_string(r, step, "value", 1, &value, NULL) < 0 ||
        get_int(r, step, "ttl_ms", 0, 0, &ttl, NULL) < 0 ||
        get_bool(r, step, "expect_stored", &want, &have_want) < 0)
        return -1;
    track(r, "cairn_put_if_absent",
          cairn_put_if_absent(r->h, key.p, key.len, value.p, value.len, ttl, &stored, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && stored != want)
        return fail(r, "put_if_absent stored %d, want %d", stored, want);
    return checked < 0 ? -1 : 0;
}

static int op_get_ttl(runner *r, const cJSON *step)
{
    bytes key;
    int64_t ttl = -1, exact, least, most;
    int have_exact, checked;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_int(r, step, "expect_ttl_ms", 0, 0, &exact, &have_exact) < 0 ||
        get_int(r, step, "expect_ttl_min", 0, INT64_MIN, &least, NULL) < 0 ||
        get_int(r, step, "expect_ttl_max", 0, INT64_MAX, &most, NULL) < 0)
        return -1;
    track(r, "cairn_get_ttl", cairn_get_ttl(r->h, key.p, key.len, &ttl, &r->err));
    checked = check_status(r);
    if (checked > 0 && ((have_exact && ttl != exact) || ttl < least || ttl > most))
        return fail(r, "ttl %lld ms, want %s%lld (in %lld...%lld)", (long long)ttl, have_exact ? "" : "any ",
                    (long long)(have_exact ? exact : 0), (long long)least, (long long)most);
    return checked < 0 ? -1 : 0;
}

static int op_touch(runner *r, const cJSON *step)
{
    bytes key;
    int64_t ttl;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_int(r, step, "ttl_ms", 1, 0, &ttl, NULL) < 0)
        return -1;
    track(r, "cairn_touch", cairn_touch(r->h, key.p, key.len, ttl, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_get(runner *r, const cJSON *step)
{
    bytes key, want, got;
    int have_want, checked;
    uint8_t *value = NULL;
    size_t value_len = 0;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_string(r, step, "expect_value", 0, &want, &have_want) < 0)
        return -1;
    if (have_want && r->expect != CAIRN_OK)
        return fail(r, "\"expect_value\" requires the status OK, but \"expect\" is %s",
                    status_text(r->expect));
    track(r, "cairn_get", cairn_get(r->h, key.p, key.len, &value, &value_len, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want) {
        got.p = value;
        got.len = value_len;
        if (value == NULL && value_len > 0) {
            fail(r, "cairn_get returned a NULL value of length %zu", value_len);
            checked = -1;
        } else if (!bytes_eq(got, want)) {
            strbuf sb = {NULL, 0, 0};
            sb_printf(&sb, "value: got ");
            sb_quoted(&sb, got);
            sb_printf(&sb, ", want ");
            sb_quoted(&sb, want);
            fail(r, "%s", sb.p);
            sb_release(&sb);
            checked = -1;
        }
    }
    cairn_free(value);
    return checked < 0 ? -1 : 0;
}

static int op_delete(runner *r, const cJSON *step)
{
    bytes key;
    if (get_string(r, step, "key", 1, &key, NULL) < 0)
        return -1;
    track(r, "cairn_delete", cairn_delete(r->h, key.p, key.len, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_delete_range(runner *r, const cJSON *step)
{
    bytes start, end;
    if (get_string(r, step, "start", 1, &start, NULL) < 0 ||
        get_string(r, step, "end", 1, &end, NULL) < 0)
        return -1;
    track(r, "cairn_delete_range",
          cairn_delete_range(r->h, start.p, start.len, end.p, end.len, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_get_many(runner *r, const cJSON *step)
{
    const cJSON *keys, *want;
    uint8_t *packed, *values = NULL;
    size_t packed_len, values_len = 0;
    int checked;
    if (get_array(r, step, "keys", 1, cJSON_IsString, "strings", &keys) < 0 ||
        get_array(r, step, "expect_values", 0, is_string_or_null, "strings or null", &want) < 0)
        return -1;
    packed = pack(r, keys, &packed_len);
    track(r, "cairn_get_many",
          cairn_get_many(r->h, packed, packed_len, &values, &values_len, &r->err));
    checked = check_status(r);
    if (checked > 0 && want != NULL) {
        item *items = NULL;
        long n = unpack(r, "cairn_get_many", values, values_len, 1, &items);
        if (n < 0 || compare_items(r, "values", items, n, want) < 0)
            checked = -1;
    }
    cairn_free(values);
    return checked < 0 ? -1 : 0;
}

static const char *const BATCH_PUT_FIELDS[] = {"op", "key", "value", "ttl_ms", NULL};
static const char *const BATCH_DELETE_FIELDS[] = {"op", "key", NULL};
static const char *const BATCH_DELETE_RANGE_FIELDS[] = {"op", "start", "end", NULL};

static int check_fields(runner *r, const cJSON *obj, const char *const *allowed,
                        const char *where);

static int op_batch(runner *r, const cJSON *step)
{
    enum { PUT, DELETE, DELETE_RANGE };
    struct batch_op {
        int kind;
        bytes a, b;
        int64_t ttl;
    } *ops;
    const cJSON *list, *o;
    size_t n = 0, i;
    cairn_batch *batch = NULL;

    if (get_array(r, step, "ops", 1, cJSON_IsObject, "objects", &list) < 0)
        return -1;
    /* Read every operation before making any call, so a malformed one fails the case. */
    ops = step_alloc(r, ((size_t)cJSON_GetArraySize(list) + 1) * sizeof *ops);
    cJSON_ArrayForEach(o, list) {
        const cJSON *op = field(o, "op");
        char where[64];
        snprintf(where, sizeof where, "ops[%zu]: ", n);
        if (!cJSON_IsString(op))
            return fail(r, "%smissing string field \"op\"", where);
        if (strcmp(op->valuestring, "put") == 0) {
            ops[n].kind = PUT;
            if (check_fields(r, o, BATCH_PUT_FIELDS, where) < 0 ||
                get_string(r, o, "key", 1, &ops[n].a, NULL) < 0 ||
                get_string(r, o, "value", 1, &ops[n].b, NULL) < 0 ||
                get_int(r, o, "ttl_ms", 0, 0, &ops[n].ttl, NULL) < 0)
                return -1;
        } else if (strcmp(op->valuestring, "delete") == 0) {
            ops[n].kind = DELETE;
            if (check_fields(r, o, BATCH_DELETE_FIELDS, where) < 0 ||
                get_string(r, o, "key", 1, &ops[n].a, NULL) < 0)
                return -1;
        } else if (strcmp(op->valuestring, "delete_range") == 0) {
            ops[n].kind = DELETE_RANGE;
            if (check_fields(r, o, BATCH_DELETE_RANGE_FIELDS, where) < 0 ||
                get_string(r, o, "start", 1, &ops[n].a, NULL) < 0 ||
                get_string(r, o, "end", 1, &ops[n].b, NULL) < 0)
                return -1;
        } else {
            return fail(r, "%sunknown op \"%s\"", where, op->valuestring);
        }
        n++;
    }

    if (track(r, "cairn_batch_new", cairn_batch_new(&batch, &r->err))) {
        for (i = 0; i < n && r->status == CAIRN_OK; i++) {
            const struct batch_op *b = &ops[i];
            if (b->kind == PUT)
                track(r, "cairn_batch_put",
                      cairn_batch_put(batch, b->a.p, b->a.len, b->b.p, b->b.len, b->ttl, &r->err));
            else if (b->kind == DELETE)
                track(r, "cairn_batch_delete", cairn_batch_delete(batch, b->a.p, b->a.len, &r->err));
            else
                track(r, "cairn_batch_delete_range",
                      cairn_batch_delete_range(batch, b->a.p, b->a.len, b->b.p, b->b.len, &r->err));
        }
        if (r->status == CAIRN_OK) {
            track(r, "cairn_write", cairn_write(r->h, batch, &r->err));
        }
    }
    track(r, "cairn_batch_free", cairn_batch_free(batch));
    return check_status(r) < 0 ? -1 : 0;
}

/* Appends a copy of one scanned item (borrowed views) at index n, growing
   the arrays as needed. */
static void scan_add(runner *r, item **keys, item **values, size_t *cap, long n, const uint8_t *k,
                     size_t k_len, const uint8_t *v, size_t v_len)
{
    uint8_t *copy;
    if ((size_t)n == *cap) {
        item *k2 = step_alloc(r, 2 * *cap * sizeof *k2);
        item *v2 = step_alloc(r, 2 * *cap * sizeof *v2);
        memcpy(k2, *keys, *cap * sizeof **keys);
        memcpy(v2, *values, *cap * sizeof **values);
        *keys = k2;
        *values = v2;
        *cap *= 2;
    }
    copy = step_alloc(r, k_len + v_len);
    if (k_len > 0)
        memcpy(copy, k, k_len);
    if (v_len > 0)
        memcpy(copy + k_len, v, v_len);
    (*keys)[n].absent = (*values)[n].absent = 0;
    (*keys)[n].b.p = copy;
    (*keys)[n].b.len = k_len;
    (*values)[n].b.p = copy + k_len;
    (*values)[n].b.len = v_len;
}

static int op_scan(runner *r, const cJSON *step)
{
    bytes start, end, prefix, seek;
    int have_start, have_end, have_prefix, have_seek, have_limit, have_batch, checked, reverse = 0, keys_only;
    int64_t limit, batch;
    const cJSON *want, *rev = field(step, "reverse"), *only = field(step, "keys_only");
    cairn_iter *it = NULL;
    item *keys = NULL, *values = NULL;
    long n = 0;

    if (get_string(r, step, "start", 0, &start, &have_start) < 0 ||
        get_string(r, step, "end", 0, &end, &have_end) < 0 ||
        get_string(r, step, "prefix", 0, &prefix, &have_prefix) < 0 ||
        get_string(r, step, "seek", 0, &seek, &have_seek) < 0 ||
        get_int(r, step, "limit", 0, 0, &limit, &have_limit) < 0 ||
        get_int(r, step, "batch", 0, 0, &batch, &have_batch) < 0 ||
        get_array(r, step, "expect_items", 0, is_string_pair, "[key, value] string pairs",
                  &want) < 0)
        return -1;
    if (rev != NULL && !cJSON_IsBool(rev))
        return fail(r, "field \"reverse\" must be a boolean");
    if (only != NULL && (!cJSON_IsBool(only) || !have_batch))
        return fail(r, "field \"keys_only\" must be a boolean, with \"batch\"");
    keys_only = cJSON_IsTrue(only);
    if (have_batch && batch < 0)
        return fail(r, "field \"batch\" must not be negative");
    reverse = cJSON_IsTrue(rev);
    if (have_prefix && (have_start || have_end))
        return fail(r, "field \"prefix\" excludes \"start\" and \"end\"");
    if (have_limit && limit < 0)
        return fail(r, "field \"limit\" must not be negative");

    if (have_prefix)
        track(r, "cairn_iter_open_prefix",
              cairn_iter_open_prefix(r->h, prefix.p, prefix.len,
                                     reverse ? CAIRN_ITER_REVERSE : 0, &it, &r->err));
    else
        track(r, "cairn_iter_open",
              cairn_iter_open(r->h, start.p, start.len, end.p, end.len,
                              reverse ? CAIRN_ITER_REVERSE : 0, &it, &r->err));
    if (r->status == CAIRN_OK && have_seek) {
        track(r, "cairn_iter_seek", cairn_iter_seek(it, seek.p, seek.len, &r->err));
    }
    if (r->status == CAIRN_OK) {
        size_t cap = 16;
        keys = step_alloc(r, cap * sizeof *keys);
        values = step_alloc(r, cap * sizeof *values);
        while (have_batch && (!have_limit || n < limit)) {
            /* Batches: keys (and values) back to back, with their lengths. */
            const uint8_t *data = NULL;
            const uint32_t *lengths = NULL;
            size_t data_len = 0, count = 0, offset = 0, piece = 0, i;
            int rc = cairn_iter_next_batch(it, (size_t)batch, 0, keys_only ? CAIRN_BATCH_KEYS_ONLY : 0, &data,
                                           &data_len, &lengths, &count, &r->err);
            if (rc == CAIRN_DONE) {
                cairn_free(r->err);
                r->err = NULL;
                break;
            }
            if (!track(r, "cairn_iter_next_batch", rc))
                break;
            if (count == 0 || lengths == NULL || (batch > 0 && count > (size_t)batch)) {
                fail(r, "cairn_iter_next_batch returned %zu items for a batch of %lld", count, (long long)batch);
                break;
            }
            for (i = 0; i < count && (!have_limit || n < limit); i++) {
                size_t k_len = lengths[piece++], v_len = keys_only ? 0 : lengths[piece++];
                if (offset + k_len + v_len > data_len) {
                    fail(r, "cairn_iter_next_batch: the lengths run past the data");
                    break;
                }
                scan_add(r, &keys, &values, &cap, n, data + offset, k_len, data + offset + k_len, v_len);
                offset += k_len + v_len;
                n++;
            }
            if (r->why.len > 0)
                break;
        }
        while (!have_batch && (!have_limit || n < limit)) {
            const uint8_t *k = NULL, *v = NULL;
            size_t k_len = 0, v_len = 0;
            int rc;
            rc = cairn_iter_next(it, &k, &k_len, &v, &v_len, &r->err);
            if (rc == CAIRN_DONE) {
                cairn_free(r->err);
                r->err = NULL;
                break;
            }
            if (!track(r, "cairn_iter_next", rc))
                break;
            if ((k == NULL && k_len > 0) || (v == NULL && v_len > 0)) {
                fail(r, "cairn_iter_next returned a NULL view with a non-zero length");
                break;
            }
            scan_add(r, &keys, &values, &cap, n, k, k_len, v, v_len);
            n++;
        }
    }
    track(r, "cairn_iter_close", cairn_iter_close(it));
    if (r->why.len > 0)
        return -1;
    checked = check_status(r);
    if (checked > 0 && want != NULL) {
        const cJSON *pair;
        long i = 0;
        int same = (long)cJSON_GetArraySize(want) == n;
        cJSON_ArrayForEach(pair, want) {
            if (!same)
                break;
            same = bytes_eq(keys[i].b, string_bytes(r, cJSON_GetArrayItem(pair, 0)->valuestring)) &&
                   bytes_eq(values[i].b, string_bytes(r, cJSON_GetArrayItem(pair, 1)->valuestring));
            i++;
        }
        if (!same) {
            strbuf sb = {NULL, 0, 0};
            sb_printf(&sb, "items: got [");
            for (i = 0; i < n; i++) {
                sb_printf(&sb, i > 0 ? ", [" : "[");
                sb_quoted(&sb, keys[i].b);
                sb_printf(&sb, ", ");
                sb_quoted(&sb, values[i].b);
                sb_printf(&sb, "]");
            }
            sb_printf(&sb, "], want [");
            i = 0;
            cJSON_ArrayForEach(pair, want) {
                sb_printf(&sb, i++ > 0 ? ", [" : "[");
                sb_quoted(&sb, string_bytes(r, cJSON_GetArrayItem(pair, 0)->valuestring));
                sb_printf(&sb, ", ");
                sb_quoted(&sb, string_bytes(r, cJSON_GetArrayItem(pair, 1)->valuestring));
                sb_printf(&sb, "]");
            }
            sb_printf(&sb, "]");
            fail(r, "%s", sb.p);
            sb_release(&sb);
            checked = -1;
        }
    }
    return checked < 0 ? -1 : 0;
}

static int op_keys(runner *r, const cJSON *step)
{
    bytes options;
    const cJSON *want;
    uint8_t *keys = NULL;
    size_t keys_len = 0, count = 0;
    int checked;
    if (get_options(r, step, 1, &options) < 0 ||
        get_array(r, step, "expect_keys", 0, cJSON_IsString, "strings", &want) < 0)
        return -1;
    track(r, "cairn_keys",
          cairn_keys(r->h, (const char *)options.p, options.len, &keys, &keys_len, &count, &r->err));
    checked = check_status(r);
    if (checked > 0 && want != NULL) {
        item *items = NULL;
        long n = unpack(r, "cairn_keys", keys, keys_len, 0, &items);
        if (n < 0)
            checked = -1;
        else if ((size_t)n != count)
            checked = fail(r, "cairn_keys returned %zu in *count but %ld keys in the list",
                           count, n);
        else if (compare_items(r, "keys", items, n, want) < 0)
            checked = -1;
    }
    cairn_free(keys);
    return checked < 0 ? -1 : 0;
}

static int op_stats(runner *r, const cJSON *step)
{
    const cJSON *want, *name;
    char *json = NULL;
    size_t json_len = 0;
    int checked;
    if (get_array(r, step, "expect_fields", 0, cJSON_IsString, "strings", &want) < 0)
        return -1;
    track(r, "cairn_stats", cairn_stats(r->h, &json, &json_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        cJSON *stats = NULL;
        if (json == NULL)
            checked = fail(r, "cairn_stats returned CAIRN_OK and a NULL json");
        else if (json_len != strlen(json))
            checked = fail(r, "cairn_stats: *json_len is %zu, strlen(json) is %zu", json_len,
                           strlen(json));
        else if ((stats = cJSON_ParseWithLength(json, json_len)) == NULL || !cJSON_IsObject(stats))
            checked = fail(r, "cairn_stats returned something that is not a JSON object: %s",
                           json);
        else if (want != NULL) {
            cJSON_ArrayForEach(name, want) {
                const cJSON *v = field(stats, name->valuestring);
                if (v == NULL) {
                    checked = fail(r, "stats: no field \"%s\" in %s", name->valuestring, json);
                    break;
                }
                if (!cJSON_IsNumber(v)) {
                    checked = fail(r, "stats: field \"%s\" is not a number in %s",
                                   name->valuestring, json);
                    break;
                }
            }
        }
        cJSON_Delete(stats);
    }
    cairn_free(json);
    return checked < 0 ? -1 : 0;
}

static int op_parse_duration(runner *r, const cJSON *step)
{
    bytes text;
    int64_t want, ms = -1;
    int have_want, checked;
    if (get_string(r, step, "text", 1, &text, NULL) < 0 ||
        get_int(r, step, "expect_ms", 0, 0, &want, &have_want) < 0)
        return -1;
    track(r, "cairn_parse_duration",
          cairn_parse_duration((const char *)text.p, text.len, &ms, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && ms != want)
        return fail(r, "ms: got %lld, want %lld", (long long)ms, (long long)want);
    return checked < 0 ? -1 : 0;
}

static int op_sleep(runner *r, const cJSON *step)
{
    int64_t ms;
    struct timespec ts;
    if (get_int(r, step, "ms", 1, 0, &ms, NULL) < 0)
        return -1;
    if (ms < 0)
        return fail(r, "field \"ms\" must not be negative");
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return check_status(r) < 0 ? -1 : 0;
}

static int op_flush(runner *r, const cJSON *step)
{
    (void)step;
    track(r, "cairn_flush", cairn_flush(r->h, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_compact_range(runner *r, const cJSON *step)
{
    bytes start, end;
    int have_start, have_end;
    if (get_string(r, step, "start", 0, &start, &have_start) < 0 ||
        get_string(r, step, "end", 0, &end, &have_end) < 0)
        return -1;
    track(r, "cairn_compact_range",
          cairn_compact_range(r->h, have_start ? start.p : NULL, have_start ? start.len : 0,
                              have_end ? end.p : NULL, have_end ? end.len : 0, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Document steps                                                            */
/* ------------------------------------------------------------------------ */

/* The (pointer, length) pair of text that the document functions take. */
#define TEXT(b) (const char *)(b).p, (b).len

/* A cursor that has not ended after this many documents is taken for stuck. */
#define MAX_FIND_DOCUMENTS 100000

static int get_bool(runner *r, const cJSON *obj, const char *name, int *out, int *present)
{
    const cJSON *v = field(obj, name);
    *out = 0;
    if (present != NULL)
        *present = v != NULL;
    if (v == NULL)
        return 0;
    if (!cJSON_IsBool(v))
        return fail(r, "field \"%s\" must be a boolean", name);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A non-negative integer field; *present tells whether it was given. */
static int get_count(runner *r, const cJSON *obj, const char *name, int64_t *out, int *present)
{
    if (get_int(r, obj, name, 0, 0, out, present) < 0)
        return -1;
    if (*out < 0)
        return fail(r, "field \"%s\" must not be negative", name);
    return 0;
}

/* expect_* fields describe the results of a call, so they need the status OK. */
static int results_need_ok(runner *r, const cJSON *step)
{
    const cJSON *f;
    if (r->expect == CAIRN_OK)
        return 0;
    cJSON_ArrayForEach(f, step) {
        if (strncmp(f->string, "expect_", 7) == 0)
            return fail(r, "\"%s\" requires the status OK, but \"expect\" is %s", f->string,
                        status_text(r->expect));
    }
    return 0;
}

/* A JSON value as text for messages (freed when the step ends). */
static const char *json_str(runner *r, const cJSON *v)
{
    return (const char *)json_text(r, v).p;
}

/* The first key that appears twice in one object anywhere in `v`, or NULL. */
static const char *duplicate_key(const cJSON *v)
{
    const cJSON *a, *b;
    cJSON_ArrayForEach(a, v) {
        const char *d;
        if (cJSON_IsObject(v))
            for (b = v->child; b != a; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return a->string;
        if ((d = duplicate_key(a)) != NULL)
            return d;
    }
    return NULL;
}

/*
** Equality of parsed JSON as the README defines it: numbers by value (1
** equals 1.0), objects whatever the order of their keys, arrays in order.
*/
static int json_equal(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        for (x = a->child, y = b->child; x != NULL && y != NULL; x = x->next, y = y->next)
            if (!json_equal(x, y))
                return 0;
        return x == NULL && y == NULL;
    }
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        cJSON_ArrayForEach(x, a) {
            y = field(b, x->string);
            if (y == NULL || !json_equal(x, y))
                return 0;
        }
        return 1;
    }
    return (cJSON_IsTrue(a) && cJSON_IsTrue(b)) || (cJSON_IsFalse(a) && cJSON_IsFalse(b)) ||
           (cJSON_IsNull(a) && cJSON_IsNull(b));
}

static int compare_json(runner *r, const char *what, const cJSON *got, const cJSON *want)
{
    if (json_equal(got, want))
        return 0;
    return fail(r, "%s: got %s, want %s", what, json_str(r, got), json_str(r, want));
}

/*
** Parses JSON text that `call` returned in (text, len); `terminated` when
** the header promises a NUL after it. Strings get the NUL protection of the
** case files, so that they compare with the cases' strings byte for byte.
** Returns the value, which the caller deletes, or NULL after fail().
*/
static cJSON *parse_returned(runner *r, const char *call, const char *what, const char *text,
                             size_t len, int terminated)
{
    char *protected_text;
    size_t protected_len;
    cJSON *v;
    const char *dup;
    if (text == NULL) {
        fail(r, "%s returned CAIRN_OK and a NULL %s", call, what);
        return NULL;
    }
    if (memchr(text, '\0', len) != NULL) {
        fail(r, "%s: the %s holds a NUL byte within its length %zu", call, what, len);
        return NULL;
    }
    if (terminated && text[len] != '\0') {
        fail(r, "%s: the %s is not NUL-terminated at its length %zu", call, what, len);
        return NULL;
    }
    protected_text = protect_nuls(text, len, &protected_len);
    /* The length counts the NUL, which cJSON needs to see to reject trailing text. */
    v = cJSON_ParseWithLengthOpts(protected_text, protected_len + 1, NULL, 1);
    free(protected_text);
    if (v == NULL) {
        fail(r, "%s returned a %s that is not valid JSON: %.*s", call, what,
             (int)(len < 2000 ? len : 2000), text);
        return NULL;
    }
    if ((dup = duplicate_key(v)) != NULL) {
        fail(r, "%s returned a %s with the key \"%s\" twice: %s", call, what, dup, json_str(r, v));
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static int op_create_collection(runner *r, const cJSON *step)
{
    bytes name, options;
    if (get_string(r, step, "name", 1, &name, NULL) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0)
        return -1;
    track(r, "cairn_collection_create",
          cairn_collection_create(r->h, TEXT(name), TEXT(options), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_drop_collection(runner *r, const cJSON *step)
{
    bytes name;
    if (get_string(r, step, "name", 1, &name, NULL) < 0)
        return -1;
    track(r, "cairn_collection_drop", cairn_collection_drop(r->h, TEXT(name), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_list_collections(runner *r, const cJSON *step)
{
    const cJSON *want, *name;
    char *json = NULL;
    size_t json_len = 0;
    cJSON *got = NULL;
    int checked;
    if (get_array(r, step, "expect_names", 0, cJSON_IsString, "strings", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_collection_list", cairn_collection_list(r->h, &json, &json_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        got = parse_returned(r, "cairn_collection_list", "*json", json, json_len, 1);
        if (got == NULL)
            checked = -1;
        else if (!cJSON_IsArray(got))
            checked = fail(r, "cairn_collection_list returned %s, not an array", json_str(r, got));
        else {
            cJSON_ArrayForEach(name, got) {
                if (!cJSON_IsString(name)) {
                    checked = fail(r, "cairn_collection_list returned %s, not an array of names",
                                   json_str(r, got));
                    break;
                }
            }
            if (checked > 0 && want != NULL && compare_json(r, "names", got, want) < 0)
                checked = -1;
        }
    }
    cJSON_Delete(got);
    cairn_free(json);
    return checked < 0 ? -1 : 0;
}

static int op_insert_one(runner *r, const cJSON *step)
{
    bytes collection, document;
    const cJSON *want = field(step, "expect_id");
    char *id = NULL;
    size_t id_len = 0;
    cJSON *got = NULL;
    int checked, have_ttl;
    int64_t ttl;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "document", "document_raw", 1, &document) < 0 ||
        get_int(r, step, "ttl_ms", 0, 0, &ttl, &have_ttl) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    if (have_ttl)
        track(r, "cairn_insert_one_with_ttl",
              cairn_insert_one_with_ttl(r->h, TEXT(collection), TEXT(document), ttl, &id, &id_len, &r->err));
    else
        track(r, "cairn_insert_one",
              cairn_insert_one(r->h, TEXT(collection), TEXT(document), &id, &id_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        got = parse_returned(r, "cairn_insert_one", "*id_json", id, id_len, 0);
        if (got == NULL || (want != NULL && compare_json(r, "_id", got, want) < 0))
            checked = -1;
    }
    cJSON_Delete(got);
    cairn_free(id);
    return checked < 0 ? -1 : 0;
}

static cJSON *new_array(void)
{
    cJSON *a = cJSON_CreateArray();
    if (a == NULL) {
        fprintf(stderr, "cairn-conformance-c: out of memory\n");
        exit(2);
    }
    return a;
}

static const char *const INSERT_ERROR_FIELDS[] = {"index", "status", NULL};

/* The code of a status name without the CAIRN_ prefix, or -1. */
static int status_code(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof STATUSES / sizeof STATUSES[0]; i++)
        if (strcmp(STATUSES[i].name, name) == 0)
            return STATUSES[i].code;
    return -1;
}

/*
** Checks that `got` is {"inserted_ids": [...], "errors": [{"index": n,
** "status": "CAIRN_...", "message": "..."}, ...]} and agrees with the
** status `rc` of the call (CAIRN_OK exactly when there is no error, else
** the first error's status), then compares inserted_ids with `want_ids` and
** the errors' index and status, without the prefix, with `want_errors`
** (either may be NULL).
*/
static int check_insert_many_result(runner *r, const cJSON *got, int rc, const cJSON *want_ids,
                                    const cJSON *want_errors)
{
    const char *call = "cairn_insert_many_with_options";
    const cJSON *ids = field(got, "inserted_ids"), *errors = field(got, "errors"), *e;
    cJSON *reduced;
    int first = -1, i = 0, same;
    if (!cJSON_IsObject(got) || !cJSON_IsArray(ids) || !cJSON_IsArray(errors))
        return fail(r, "%s returned %s, not {\"inserted_ids\": [...], \"errors\": [...]}",
                    call, json_str(r, got));
    reduced = new_array();
    cJSON_ArrayForEach(e, errors) {
        const cJSON *status = field(e, "status"), *message = field(e, "message");
        int64_t index;
        int code = -1;
        cJSON *entry;
        if (cJSON_IsString(status) && strncmp(status->valuestring, "CAIRN_", 6) == 0)
            code = status_code(status->valuestring + 6);
        if (!cJSON_IsObject(e) || as_int(field(e, "index"), &index) < 0 || index < 0 || code < 0 ||
            code == CAIRN_OK || code == CAIRN_DONE || !cJSON_IsString(message)) {
            cJSON_Delete(reduced);
            return fail(r,
                        "%s returned errors[%d] %s, not {\"index\": n, \"status\": "
                        "\"CAIRN_<error>\", \"message\": \"...\"}",
                        call, i, json_str(r, e));
        }
        if (first < 0)
            first = code;
        entry = cJSON_CreateObject();
        if (entry == NULL || cJSON_AddNumberToObject(entry, "index", (double)index) == NULL ||
            cJSON_AddStringToObject(entry, "status", status->valuestring + 6) == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
        cJSON_AddItemToArray(reduced, entry);
        i++;
    }
    if (rc != (first < 0 ? CAIRN_OK : first)) {
        cJSON_Delete(reduced);
        return fail(r, "%s returned CAIRN_%s, but its first error is %s", call, status_text(rc),
                    first < 0 ? "none" : status_text(first));
    }
    same = (want_ids == NULL || compare_json(r, "inserted_ids", ids, want_ids) == 0) &&
           (want_errors == NULL || compare_json(r, "errors", reduced, want_errors) == 0);
    cJSON_Delete(reduced);
    return same ? 0 : -1;
}

/*
** insert_many with "options": cairn_insert_many_with_options. Its result is
** compared with expect_ids and expect_errors whatever the status, then the
** status with "expect". "documents" may be any JSON value here, so that a
** case can pass one that is not an array.
*/
static int op_insert_many_with_options(runner *r, const cJSON *step)
{
    bytes collection, documents, options;
    const cJSON *want_ids, *want_errors, *e;
    char *result = NULL;
    size_t result_len = 0;
    cJSON *got = NULL;
    int rc, checked = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "documents", NULL, 1, &documents) < 0 ||
        get_json(r, step, "options", NULL, 1, &options) < 0 ||
        get_array(r, step, "expect_ids", 0, NULL, "_ids", &want_ids) < 0 ||
        get_array(r, step, "expect_errors", 0, cJSON_IsObject, "objects", &want_errors) < 0)
        return -1;
    if (want_errors != NULL) {
        int i = 0;
        cJSON_ArrayForEach(e, want_errors) {
            const cJSON *status = field(e, "status");
            int64_t index;
            char where[64];
            snprintf(where, sizeof where, "expect_errors[%d]: ", i++);
            if (check_fields(r, e, INSERT_ERROR_FIELDS, where) < 0)
                return -1;
            if (as_int(field(e, "index"), &index) < 0 || index < 0)
                return fail(r, "%sfield \"index\" must be a non-negative integer", where);
            if (!cJSON_IsString(status) || status_code(status->valuestring) < 0)
                return fail(r, "%sfield \"status\" must name a status", where);
        }
    }
    rc = cairn_insert_many_with_options(r->h, TEXT(collection), TEXT(documents), TEXT(options),
                                        &result, &result_len, &r->err);
    track(r, "cairn_insert_many_with_options", rc);
    if (result != NULL) {
        got = parse_returned(r, "cairn_insert_many_with_options", "*result_json", result,
                             result_len, 0);
        if (got == NULL || check_insert_many_result(r, got, rc, want_ids, want_errors) < 0)
            checked = -1;
    } else if (rc == CAIRN_OK || want_ids != NULL || want_errors != NULL) {
        checked = fail(r, "cairn_insert_many_with_options returned CAIRN_%s and a NULL "
                          "*result_json",
                       status_text(rc));
    }
    if (checked == 0)
        checked = check_status(r);
    cJSON_Delete(got);
    cairn_free(result);
    return checked < 0 ? -1 : 0;
}

/*
** bulk_write: cairn_bulk_write. Its result, with each error reduced to its
** index and status (without the prefix), is compared with expect_result
** whatever the status, and the status must be that of the first error.
*/
static int op_bulk_write(runner *r, const cJSON *step)
{
    bytes collection, operations, options;
    const cJSON *want = field(step, "expect_result"), *errors, *e;
    char *result = NULL;
    size_t result_len = 0;
    cJSON *got = NULL, *reduced;
    int rc, checked = 0, first = -1;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "operations", NULL, 1, &operations) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0)
        return -1;
    if (want != NULL && !cJSON_IsObject(want))
        return fail(r, "field \"expect_result\" must be an object");
    rc = cairn_bulk_write(r->h, TEXT(collection), TEXT(operations), TEXT(options), &result, &result_len, &r->err);
    track(r, "cairn_bulk_write", rc);
    if (result != NULL) {
        got = parse_returned(r, "cairn_bulk_write", "*result_json", result, result_len, 0);
        errors = got == NULL ? NULL : field(got, "errors");
        if (got != NULL && !cJSON_IsArray(errors))
            checked = fail(r, "cairn_bulk_write returned %s, without an \"errors\" array", json_str(r, got));
        else if (got == NULL)
            checked = -1;
        if (checked == 0) {
            reduced = new_array();
            cJSON_ArrayForEach(e, errors) {
                const cJSON *status = field(e, "status");
                int64_t index;
                cJSON *entry;
                int code = -1;
                if (cJSON_IsString(status) && strncmp(status->valuestring, "CAIRN_", 6) == 0)
                    code = status_code(status->valuestring + 6);
                if (as_int(field(e, "index"), &index) < 0 || code < 0 || !cJSON_IsString(field(e, "message"))) {
                    checked = fail(r, "cairn_bulk_write returned the error %s", json_str(r, e));
                    break;
                }
                if (first < 0)
                    first = code;
                entry = cJSON_CreateObject();
                if (entry == NULL || cJSON_AddNumberToObject(entry, "index", (double)index) == NULL ||
                    cJSON_AddStringToObject(entry, "status", status->valuestring + 6) == NULL) {
                    fprintf(stderr, "cairn-conformance-c: out of memory\n");
                    exit(2);
                }
                cJSON_AddItemToArray(reduced, entry);
            }
            cJSON_ReplaceItemInObject(got, "errors", reduced);
            if (checked == 0 && rc != (first < 0 ? CAIRN_OK : first))
                checked = fail(r, "cairn_bulk_write returned CAIRN_%s, but its first error is %s", status_text(rc),
                               first < 0 ? "none" : status_text(first));
            if (checked == 0 && want != NULL && compare_json(r, "result", got, want) < 0)
                checked = -1;
        }
    } else if (rc == CAIRN_OK || want != NULL) {
        checked = fail(r, "cairn_bulk_write returned CAIRN_%s and a NULL *result_json", status_text(rc));
    }
    if (checked == 0)
        checked = check_status(r);
    cJSON_Delete(got);
    cairn_free(result);
    return checked < 0 ? -1 : 0;
}

static int op_insert_many(runner *r, const cJSON *step)
{
    bytes collection, documents;
    const cJSON *list, *want;
    char *ids = NULL;
    size_t ids_len = 0;
    cJSON *got = NULL;
    int checked;
    if (field(step, "options") != NULL)
        return op_insert_many_with_options(r, step);
    if (field(step, "expect_errors") != NULL)
        return fail(r, "field \"expect_errors\" needs \"options\"");
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_array(r, step, "documents", 1, NULL, "documents", &list) < 0 ||
        get_array(r, step, "expect_ids", 0, NULL, "_ids", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    documents = json_text(r, list);
    track(r, "cairn_insert_many",
          cairn_insert_many(r->h, TEXT(collection), TEXT(documents), &ids, &ids_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        got = parse_returned(r, "cairn_insert_many", "*ids_json", ids, ids_len, 0);
        if (got == NULL)
            checked = -1;
        else if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != cJSON_GetArraySize(list))
            checked = fail(r, "cairn_insert_many returned %s, not an array of %d _ids",
                           json_str(r, got), cJSON_GetArraySize(list));
        else if (want != NULL && compare_json(r, "_ids", got, want) < 0)
            checked = -1;
    }
    cJSON_Delete(got);
    cairn_free(ids);
    return checked < 0 ? -1 : 0;
}

/*
** Reads `cursor` until CAIRN_DONE, appending each document to `got`, then
** closes it (NULL is allowed). A failing call is tracked; a malformed
** document fails the step.
*/
static void read_cursor(runner *r, cairn_cursor *cursor, cJSON *got)
{
    while (cursor != NULL) {
        const char *doc = NULL;
        size_t doc_len = 0;
        cJSON *parsed;
        int rc = cairn_cursor_next(cursor, &doc, &doc_len, &r->err);
        if (rc == CAIRN_DONE) {
            cairn_free(r->err);
            r->err = NULL;
            break;
        }
        if (!track(r, "cairn_cursor_next", rc))
            break;
        if (cJSON_GetArraySize(got) >= MAX_FIND_DOCUMENTS) {
            fail(r, "the cursor did not end after %d documents", MAX_FIND_DOCUMENTS);
            break;
        }
        /* A borrowed view: parsed before the next call on the cursor. */
        parsed = parse_returned(r, "cairn_cursor_next", "document", doc, doc_len, 1);
        if (parsed == NULL)
            break;
        if (!cJSON_IsObject(parsed)) {
            fail(r, "cairn_cursor_next returned %s, not an object", json_str(r, parsed));
            cJSON_Delete(parsed);
            break;
        }
        cJSON_AddItemToArray(got, parsed);
    }
    /* Closed whatever happened; NULL is allowed. */
    track(r, "cairn_cursor_close", cairn_cursor_close(cursor));
}

/* read_cursor with cairn_cursor_next_batch: each document is cut out of the
   batch's JSON array by its length (checking the ',' or ']' after it). */
static void read_cursor_batches(runner *r, cairn_cursor *cursor, cJSON *got, int64_t batch)
{
    while (cursor != NULL) {
        const char *json = NULL;
        const uint32_t *lengths = NULL;
        size_t json_len = 0, count = 0, offset = 1, i;
        int rc = cairn_cursor_next_batch(cursor, (size_t)batch, 0, &json, &json_len, &lengths, &count, &r->err);
        if (rc == CAIRN_DONE) {
            cairn_free(r->err);
            r->err = NULL;
            break;
        }
        if (!track(r, "cairn_cursor_next_batch", rc))
            break;
        if (count == 0 || json == NULL || lengths == NULL || json[0] != '[' || (batch > 0 && count > (size_t)batch)) {
            fail(r, "cairn_cursor_next_batch returned %zu documents for a batch of %lld", count, (long long)batch);
            break;
        }
        for (i = 0; i < count; i++) {
            cJSON *parsed;
            if (offset + lengths[i] >= json_len || json[offset + lengths[i]] != (i + 1 == count ? ']' : ',')) {
                fail(r, "cairn_cursor_next_batch: document %zu does not end where its length says", i);
                break;
            }
            if (cJSON_GetArraySize(got) >= MAX_FIND_DOCUMENTS) {
                fail(r, "the cursor did not end after %d documents", MAX_FIND_DOCUMENTS);
                break;
            }
            parsed = parse_returned(r, "cairn_cursor_next_batch", "document", json + offset, lengths[i], 0);
            if (parsed == NULL)
                break;
            cJSON_AddItemToArray(got, parsed);
            offset += lengths[i] + 1;
        }
        if (r->why.len > 0)
            break;
        if (offset != json_len) {
            fail(r, "cairn_cursor_next_batch: json_len %zu, the documents end at %zu", json_len, offset);
            break;
        }
    }
    track(r, "cairn_cursor_close", cairn_cursor_close(cursor));
}

static int op_find(runner *r, const cJSON *step)
{
    bytes collection, filter, options;
    const cJSON *want;
    cairn_cursor *cursor = NULL;
    cJSON *got;
    int checked, have_batch;
    int64_t batch;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", "filter_raw", 0, &filter) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_int(r, step, "batch", 0, 0, &batch, &have_batch) < 0 ||
        get_array(r, step, "expect_documents", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    got = new_array();
    if (track(r, "cairn_find",
              cairn_find(r->h, TEXT(collection), TEXT(filter), TEXT(options), &cursor,
                         &r->err))) {
        if (have_batch)
            read_cursor_batches(r, cursor, got, batch < 0 ? 0 : batch);
        else
            read_cursor(r, cursor, got);
    } else
        cairn_cursor_close(cursor);
    checked = r->why.len > 0 ? -1 : check_status(r);
    if (checked > 0 && want != NULL && compare_json(r, "documents", got, want) < 0)
        checked = -1;
    cJSON_Delete(got);
    return checked < 0 ? -1 : 0;
}

/* cairn_count, or cairn_count_with_options when the step has "options". */
static int op_count(runner *r, const cJSON *step)
{
    bytes collection, filter, options;
    int64_t want;
    int have_want, checked;
    uint64_t count = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 0, &filter) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_count(r, step, "expect_count", &want, &have_want) < 0 || results_need_ok(r, step) < 0)
        return -1;
    if (field(step, "options") != NULL)
        track(r, "cairn_count_with_options",
              cairn_count_with_options(r->h, TEXT(collection), TEXT(filter), TEXT(options), &count,
                                       &r->err));
    else
        track(r, "cairn_count",
              cairn_count(r->h, TEXT(collection), TEXT(filter), &count, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && count != (uint64_t)want)
        return fail(r, "count: got %llu, want %lld", (unsigned long long)count, (long long)want);
    return checked < 0 ? -1 : 0;
}

/* cairn_update_one, cairn_update_many and cairn_replace_one. */
typedef int (*update_call)(cairn_db *, const char *, size_t, const char *, size_t, const char *,
                           size_t, const char *, size_t, char **, size_t *, char **);

static int run_update(runner *r, const cJSON *step, const char *call, update_call fn,
                      const char *update_field, const char *update_raw_field)
{
    bytes collection, filter, update, options;
    int64_t want_matched, want_modified, matched = 0, modified = 0;
    int have_matched, have_modified, have_upserted, want_upserted, checked;
    char *result = NULL;
    size_t result_len = 0;
    cJSON *got = NULL;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 1, &filter) < 0 ||
        get_json(r, step, update_field, update_raw_field, 1, &update) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_count(r, step, "expect_matched", &want_matched, &have_matched) < 0 ||
        get_count(r, step, "expect_modified", &want_modified, &have_modified) < 0 ||
        get_bool(r, step, "expect_upserted", &want_upserted, &have_upserted) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, call,
          fn(r->h, TEXT(collection), TEXT(filter), TEXT(update), TEXT(options), &result,
             &result_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        const cJSON *upserted = NULL;
        got = parse_returned(r, call, "*result_json", result, result_len, 0);
        if (got == NULL)
            checked = -1;
        else if (!cJSON_IsObject(got) || as_int(field(got, "matched"), &matched) < 0 ||
                 matched < 0 || as_int(field(got, "modified"), &modified) < 0 || modified < 0 ||
                 (upserted = field(got, "upserted_id")) == NULL)
            checked = fail(r,
                           "%s returned %s, not {\"matched\": n, \"modified\": n, "
                           "\"upserted_id\": <_id or null>}",
                           call, json_str(r, got));
        else if (have_matched && matched != want_matched)
            checked = fail(r, "matched: got %lld, want %lld", (long long)matched,
                           (long long)want_matched);
        else if (have_modified && modified != want_modified)
            checked = fail(r, "modified: got %lld, want %lld", (long long)modified,
                           (long long)want_modified);
        else if (have_upserted && (cJSON_IsNull(upserted) ? 0 : 1) != want_upserted)
            checked = fail(r, "upserted_id: got %s, want %s", json_str(r, upserted),
                           want_upserted ? "an _id" : "null");
    }
    cJSON_Delete(got);
    cairn_free(result);
    return checked < 0 ? -1 : 0;
}

static int op_update_one(runner *r, const cJSON *step)
{
    return run_update(r, step, "cairn_update_one", cairn_update_one, "update", "update_raw");
}

static int op_update_many(runner *r, const cJSON *step)
{
    return run_update(r, step, "cairn_update_many", cairn_update_many, "update", "update_raw");
}

static int op_replace_one(runner *r, const cJSON *step)
{
    return run_update(r, step, "cairn_replace_one", cairn_replace_one, "replacement", NULL);
}

/* cairn_delete_one and cairn_delete_many. */
typedef int (*delete_call)(cairn_db *, const char *, size_t, const char *, size_t, uint64_t *,
                           char **);

static int run_delete(runner *r, const cJSON *step, const char *call, delete_call fn)
{
    bytes collection, filter;
    int64_t want;
    int have_want, checked;
    uint64_t deleted = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 1, &filter) < 0 ||
        get_count(r, step, "expect_deleted", &want, &have_want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, call, fn(r->h, TEXT(collection), TEXT(filter), &deleted, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && deleted != (uint64_t)want)
        return fail(r, "deleted: got %llu, want %lld", (unsigned long long)deleted,
                    (long long)want);
    return checked < 0 ? -1 : 0;
}

static int op_delete_one(runner *r, const cJSON *step)
{
    return run_delete(r, step, "cairn_delete_one", cairn_delete_one);
}

static int op_delete_many(runner *r, const cJSON *step)
{
    return run_delete(r, step, "cairn_delete_many", cairn_delete_many);
}

/* ------------------------------------------------------------------------ */
/* Queries, aggregation and indexes                                          */
/* ------------------------------------------------------------------------ */

static cJSON_bool is_document(const cJSON *v)
{
    return cJSON_IsObject(v);
}

static cJSON_bool is_document_or_null(const cJSON *v)
{
    return cJSON_IsObject(v) || cJSON_IsNull(v);
}

/*
** An expect_* field holding one JSON value that must pass `ok`: *out is the
** value or NULL when the field is absent.
*/
static int get_value(runner *r, const cJSON *step, const char *name,
                     cJSON_bool (*ok)(const cJSON *), const char *what, const cJSON **out)
{
    const cJSON *v = field(step, name);
    *out = v;
    if (v != NULL && ok != NULL && !ok(v))
        return fail(r, "field \"%s\" must be %s", name, what);
    return 0;
}

/*
** After a call that returned JSON in (json, len): when the step's status is
** OK, parses it, checks that it passes `shape` (described by `what`) and,
** when `want` is not NULL, that it equals `want`. Returns the result of
** check_status() (or -1 after fail()), and frees `json`.
*/
static int check_returned(runner *r, const char *call, char *json, size_t len,
                          cJSON_bool (*shape)(const cJSON *), const char *what,
                          const char *name, const cJSON *want)
{
    int checked = check_status(r);
    cJSON *got = NULL;
    if (checked > 0) {
        got = parse_returned(r, call, "*json", json, len, 0);
        if (got == NULL)
            checked = -1;
        else if (shape != NULL && !shape(got))
            checked = fail(r, "%s returned %s, not %s", call, json_str(r, got), what);
        else if (want != NULL && compare_json(r, name, got, want) < 0)
            checked = -1;
    }
    cJSON_Delete(got);
    cairn_free(json);
    return checked;
}

static int op_find_one(runner *r, const cJSON *step)
{
    bytes collection, filter, options;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 0, &filter) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_value(r, step, "expect_document", is_document, "an object", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_find_one",
          cairn_find_one(r->h, TEXT(collection), TEXT(filter), TEXT(options), &json, &len,
                         &r->err));
    return check_returned(r, "cairn_find_one", json, len, is_document, "a document", "document",
                          want) < 0
               ? -1
               : 0;
}

static int op_find_by_id(runner *r, const cJSON *step)
{
    bytes collection, id;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "id", NULL, 1, &id) < 0 ||
        get_value(r, step, "expect_document", is_document, "an object", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_find_by_id",
          cairn_find_by_id(r->h, TEXT(collection), TEXT(id), &json, &len, &r->err));
    return check_returned(r, "cairn_find_by_id", json, len, is_document, "a document",
                          "document", want) < 0
               ? -1
               : 0;
}

static int op_link(runner *r, const cJSON *step)
{
    bytes key, collection, id, metadata;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "id", NULL, 1, &id) < 0 ||
        get_json(r, step, "metadata", NULL, 0, &metadata) < 0)
        return -1;
    track(r, "cairn_link",
          cairn_link(r->h, key.p, key.len, TEXT(collection), TEXT(id), TEXT(metadata), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_unlink(runner *r, const cJSON *step)
{
    bytes key, collection, id;
    int removed = -1, want, have_want, checked;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "id", NULL, 1, &id) < 0 ||
        get_bool(r, step, "expect_removed", &want, &have_want) < 0)
        return -1;
    track(r, "cairn_unlink",
          cairn_unlink(r->h, key.p, key.len, TEXT(collection), TEXT(id), &removed, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && removed != want)
        return fail(r, "unlink removed %d, want %d", removed, want);
    return checked < 0 ? -1 : 0;
}

static int op_unlink_all(runner *r, const cJSON *step)
{
    bytes key;
    size_t removed = 0;
    int64_t want;
    int have_want, checked;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_int(r, step, "expect_removed", 0, 0, &want, &have_want) < 0)
        return -1;
    track(r, "cairn_unlink_all", cairn_unlink_all(r->h, key.p, key.len, &removed, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_want && (int64_t)removed != want)
        return fail(r, "unlink_all removed %zu, want %lld", removed, (long long)want);
    return checked < 0 ? -1 : 0;
}

static int op_key_links(runner *r, const cJSON *step)
{
    bytes key;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "key", 1, &key, NULL) < 0 ||
        get_array(r, step, "expect_links", 0, NULL, "links", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_key_links", cairn_key_links(r->h, key.p, key.len, &json, &len, &r->err));
    return check_returned(r, "cairn_key_links", json, len, cJSON_IsArray, "an array", "links", want) < 0 ? -1 : 0;
}

static int op_document_links(runner *r, const cJSON *step)
{
    bytes collection, id;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "id", NULL, 1, &id) < 0 ||
        get_array(r, step, "expect_links", 0, NULL, "links", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_document_links",
          cairn_document_links(r->h, TEXT(collection), TEXT(id), &json, &len, &r->err));
    return check_returned(r, "cairn_document_links", json, len, cJSON_IsArray, "an array", "links", want) < 0
               ? -1
               : 0;
}

static int op_distinct(runner *r, const cJSON *step)
{
    bytes collection, path, filter;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_string(r, step, "field", 1, &path, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 0, &filter) < 0 ||
        get_array(r, step, "expect_values", 0, NULL, "values", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_distinct",
          cairn_distinct(r->h, TEXT(collection), TEXT(path), TEXT(filter), &json, &len, &r->err));
    return check_returned(r, "cairn_distinct", json, len, cJSON_IsArray, "an array", "values",
                          want) < 0
               ? -1
               : 0;
}

static int op_find_one_and_update(runner *r, const cJSON *step)
{
    bytes collection, filter, update, options;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 1, &filter) < 0 ||
        get_json(r, step, "update", NULL, 1, &update) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_value(r, step, "expect_document", is_document_or_null, "an object or null",
                  &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_find_one_and_update",
          cairn_find_one_and_update(r->h, TEXT(collection), TEXT(filter), TEXT(update),
                                    TEXT(options), &json, &len, &r->err));
    return check_returned(r, "cairn_find_one_and_update", json, len, is_document_or_null,
                          "a document or null", "document", want) < 0
               ? -1
               : 0;
}

static int op_find_one_and_replace(runner *r, const cJSON *step)
{
    bytes collection, filter, replacement, options;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 1, &filter) < 0 ||
        get_json(r, step, "replacement", NULL, 1, &replacement) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_value(r, step, "expect_document", is_document_or_null, "an object or null",
                  &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_find_one_and_replace",
          cairn_find_one_and_replace(r->h, TEXT(collection), TEXT(filter), TEXT(replacement),
                                     TEXT(options), &json, &len, &r->err));
    return check_returned(r, "cairn_find_one_and_replace", json, len, is_document_or_null,
                          "a document or null", "document", want) < 0
               ? -1
               : 0;
}

static int op_find_one_and_delete(runner *r, const cJSON *step)
{
    bytes collection, filter, options;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 1, &filter) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_value(r, step, "expect_document", is_document, "an object", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_find_one_and_delete",
          cairn_find_one_and_delete(r->h, TEXT(collection), TEXT(filter), TEXT(options), &json,
                                    &len, &r->err));
    return check_returned(r, "cairn_find_one_and_delete", json, len, is_document, "a document",
                          "document", want) < 0
               ? -1
               : 0;
}

/*
** The end of a step whose call opened a cursor: `rc` is the call's status.
** Reads the cursor's documents (or closes it when the call failed), checks
** the status, compares the documents with `want` (when given) and returns
** the step's result.
*/
static int check_cursor(runner *r, const char *call, int rc, cairn_cursor *cursor,
                        const char *what, const cJSON *want)
{
    cJSON *got = new_array();
    int checked;
    if (track(r, call, rc))
        read_cursor(r, cursor, got);
    else
        cairn_cursor_close(cursor);
    checked = r->why.len > 0 ? -1 : check_status(r);
    if (checked > 0 && want != NULL && compare_json(r, what, got, want) < 0)
        checked = -1;
    cJSON_Delete(got);
    return checked < 0 ? -1 : 0;
}

static int op_aggregate(runner *r, const cJSON *step)
{
    bytes collection, pipeline;
    const cJSON *want;
    cairn_cursor *cursor = NULL;
    int rc;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "pipeline", "pipeline_raw", 1, &pipeline) < 0 ||
        get_array(r, step, "expect_documents", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    rc = cairn_aggregate(r->h, TEXT(collection), TEXT(pipeline), &cursor, &r->err);
    return check_cursor(r, "cairn_aggregate", rc, cursor, "documents", want);
}

/*
** cairn_search: "expect_documents" are the hits' documents in order;
** "expect_hits" the fields each hit must hold, "score" within 1e-6 relative.
*/
static int compare_hits(runner *r, const cJSON *got, const cJSON *want)
{
    const cJSON *hit, *w, *member, *value;
    if (cJSON_GetArraySize(got) != cJSON_GetArraySize(want))
        return fail(r, "search: got %d hits %s, want %d", cJSON_GetArraySize(got), json_str(r, got),
                    cJSON_GetArraySize(want));
    for (hit = got->child, w = want->child; hit != NULL && w != NULL; hit = hit->next, w = w->next) {
        if (!cJSON_IsObject(w))
            return fail(r, "expect_hits must hold objects");
        cJSON_ArrayForEach(member, w) {
            value = field(hit, member->string);
            if (strcmp(member->string, "score") == 0) {
                if (value == NULL || !cJSON_IsNumber(value) || !cJSON_IsNumber(member) ||
                    fabs(value->valuedouble - member->valuedouble) > 1e-6 * fabs(member->valuedouble))
                    return fail(r, "search: score %s, want %s", value ? json_str(r, value) : "none",
                                json_str(r, member));
            } else if (value == NULL || !json_equal(value, member)) {
                return fail(r, "search: hit field %s is %s, want %s", member->string,
                            value ? json_str(r, value) : "missing", json_str(r, member));
            }
        }
    }
    return 0;
}

static int op_search(runner *r, const cJSON *step)
{
    bytes collection, query, options;
    const cJSON *want_documents, *want_hits, *hit;
    cairn_cursor *cursor = NULL;
    cJSON *got, *documents;
    int checked;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_string(r, step, "query", 1, &query, NULL) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_array(r, step, "expect_documents", 0, cJSON_IsObject, "objects", &want_documents) < 0 ||
        get_array(r, step, "expect_hits", 0, cJSON_IsObject, "objects", &want_hits) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    got = new_array();
    if (track(r, "cairn_search",
              cairn_search(r->h, TEXT(collection), TEXT(query), TEXT(options), &cursor, &r->err)))
        read_cursor(r, cursor, got);
    else
        cairn_cursor_close(cursor);
    checked = r->why.len > 0 ? -1 : check_status(r);
    if (checked > 0 && want_documents != NULL) {
        documents = new_array();
        cJSON_ArrayForEach(hit, got) {
            const cJSON *document = field(hit, "document");
            cJSON_AddItemToArray(documents, document ? cJSON_Duplicate(document, 1) : cJSON_CreateNull());
        }
        if (compare_json(r, "search documents", documents, want_documents) < 0)
            checked = -1;
        cJSON_Delete(documents);
    }
    if (checked > 0 && want_hits != NULL && compare_hits(r, got, want_hits) < 0)
        checked = -1;
    cJSON_Delete(got);
    return checked < 0 ? -1 : 0;
}

/* The vector searches (cairn_vector_search, cairn_hybrid_search) share one
** shape: the options, with "options_raw" for malformed JSON; the documents
** as the cursor gives them. */
typedef int (*options_search_fn)(cairn_db *, const char *, size_t, const char *, size_t,
                                 cairn_cursor **, char **);

static int run_options_search(runner *r, const cJSON *step, const char *name,
                              options_search_fn search)
{
    bytes collection, options;
    const cJSON *want;
    cairn_cursor *cursor = NULL;
    int rc;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "options", "options_raw", 1, &options) < 0 ||
        get_array(r, step, "expect_documents", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    rc = search(r->h, TEXT(collection), TEXT(options), &cursor, &r->err);
    return check_cursor(r, name, rc, cursor, "documents", want);
}

static int op_vector_search(runner *r, const cJSON *step)
{
    return run_options_search(r, step, "cairn_vector_search", cairn_vector_search);
}

static int op_hybrid_search(runner *r, const cJSON *step)
{
    return run_options_search(r, step, "cairn_hybrid_search", cairn_hybrid_search);
}

/* ------------------------------------------------------------------------ */
/* Graphs                                                                    */
/* ------------------------------------------------------------------------ */

static int op_create_graph(runner *r, const cJSON *step)
{
    bytes name, declaration;
    if (get_string(r, step, "name", 1, &name, NULL) < 0 ||
        get_json(r, step, "declaration", "declaration_raw", 1, &declaration) < 0)
        return -1;
    track(r, "cairn_graph_create",
          cairn_graph_create(r->h, TEXT(name), TEXT(declaration), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_drop_graph(runner *r, const cJSON *step)
{
    bytes name;
    if (get_string(r, step, "name", 1, &name, NULL) < 0)
        return -1;
    track(r, "cairn_graph_drop", cairn_graph_drop(r->h, TEXT(name), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

/* The shape of cairn_graph_list(): [{"name", "edges", "vertices", "weight"}]. */
static cJSON_bool is_graph_list(const cJSON *v)
{
    const cJSON *graph;
    if (!cJSON_IsArray(v))
        return 0;
    cJSON_ArrayForEach(graph, v) {
        if (!cJSON_IsObject(graph) || !cJSON_IsString(field(graph, "name")) ||
            !cJSON_IsString(field(graph, "edges")) || !cJSON_IsArray(field(graph, "vertices")) ||
            !cJSON_IsString(field(graph, "weight")))
            return 0;
    }
    return 1;
}

static int op_list_graphs(runner *r, const cJSON *step)
{
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_array(r, step, "expect_graphs", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_graph_list", cairn_graph_list(r->h, &json, &len, &r->err));
    return check_returned(r, "cairn_graph_list", json, len, is_graph_list,
                          "[{\"name\", \"edges\", \"vertices\", \"weight\"}, ...]", "graphs",
                          want) < 0
               ? -1
               : 0;
}

static int op_graph_query(runner *r, const cJSON *step)
{
    bytes graph, query;
    const cJSON *want;
    cairn_cursor *cursor = NULL;
    int rc;
    if (get_string(r, step, "graph", 1, &graph, NULL) < 0 ||
        get_json(r, step, "query", "query_raw", 1, &query) < 0 ||
        get_array(r, step, "expect_documents", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    rc = cairn_graph_query(r->h, TEXT(graph), TEXT(query), &cursor, &r->err);
    return check_cursor(r, "cairn_graph_query", rc, cursor, "rows", want);
}

static int op_delete_vertex(runner *r, const cJSON *step)
{
    bytes graph, id;
    int64_t want_vertices, want_edges;
    int have_vertices, have_edges, checked;
    size_t vertices = 0, edges = 0;
    if (get_string(r, step, "graph", 1, &graph, NULL) < 0 ||
        get_json(r, step, "id", NULL, 1, &id) < 0 ||
        get_count(r, step, "expect_vertices", &want_vertices, &have_vertices) < 0 ||
        get_count(r, step, "expect_edges", &want_edges, &have_edges) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_graph_delete_vertex",
          cairn_graph_delete_vertex(r->h, TEXT(graph), TEXT(id), &vertices, &edges, &r->err));
    checked = check_status(r);
    if (checked > 0 && have_vertices && vertices != (size_t)want_vertices)
        return fail(r, "vertices deleted: got %zu, want %lld", vertices, (long long)want_vertices);
    if (checked > 0 && have_edges && edges != (size_t)want_edges)
        return fail(r, "edges deleted: got %zu, want %lld", edges, (long long)want_edges);
    return checked < 0 ? -1 : 0;
}

static int is_count(const cJSON *v)
{
    int64_t n;
    return as_int(v, &n) == 0 && n >= 0;
}

/* The shape cairn_explain() promises. */
static cJSON_bool is_plan(const cJSON *v)
{
    const cJSON *plan = field(v, "plan"), *index = field(v, "index");
    return cJSON_IsObject(v) && cJSON_IsString(plan) &&
           (strcmp(plan->valuestring, "collection_scan") == 0 ||
            strcmp(plan->valuestring, "index_scan") == 0 ||
            strcmp(plan->valuestring, "primary_key") == 0) &&
           index != NULL && is_string_or_null(index) && field(v, "bounds") != NULL &&
           cJSON_IsBool(field(v, "sort_from_index")) && is_count(field(v, "keys_examined")) &&
           is_count(field(v, "documents_examined")) && is_count(field(v, "returned"));
}

static int op_explain(runner *r, const cJSON *step)
{
    static const char *const COUNTS[] = {"keys_examined", "documents_examined", "returned"};
    bytes collection, filter, options;
    const cJSON *want_plan, *want_index;
    int64_t want[3];
    int have[3], checked;
    char *json = NULL;
    size_t len = 0, i;
    cJSON *got = NULL;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "filter", NULL, 0, &filter) < 0 ||
        get_json(r, step, "options", NULL, 0, &options) < 0 ||
        get_value(r, step, "expect_plan", cJSON_IsString, "a string", &want_plan) < 0 ||
        get_value(r, step, "expect_index", is_string_or_null, "a string or null", &want_index) <
            0 ||
        get_count(r, step, "expect_keys_examined", &want[0], &have[0]) < 0 ||
        get_count(r, step, "expect_documents_examined", &want[1], &have[1]) < 0 ||
        get_count(r, step, "expect_returned", &want[2], &have[2]) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_explain",
          cairn_explain(r->h, TEXT(collection), TEXT(filter), TEXT(options), &json, &len,
                        &r->err));
    checked = check_status(r);
    if (checked > 0) {
        got = parse_returned(r, "cairn_explain", "*json", json, len, 0);
        if (got == NULL)
            checked = -1;
        else if (!is_plan(got))
            checked = fail(r,
                           "cairn_explain returned %s, not {\"plan\": \"collection_scan\" | "
                           "\"index_scan\" | \"primary_key\", \"index\": name or null, "
                           "\"bounds\", \"sort_from_index\": bool, \"keys_examined\": n, "
                           "\"documents_examined\": n, \"returned\": n}",
                           json_str(r, got));
        else if (want_plan != NULL && compare_json(r, "plan", field(got, "plan"), want_plan) < 0)
            checked = -1;
        else if (want_index != NULL &&
                 compare_json(r, "index", field(got, "index"), want_index) < 0)
            checked = -1;
        for (i = 0; checked > 0 && i < 3; i++) {
            int64_t n = 0;
            as_int(field(got, COUNTS[i]), &n);
            if (have[i] && n != want[i])
                checked = fail(r, "%s: got %lld, want %lld in %s", COUNTS[i], (long long)n,
                               (long long)want[i], json_str(r, got));
        }
    }
    cJSON_Delete(got);
    cairn_free(json);
    return checked < 0 ? -1 : 0;
}

static int op_create_index(runner *r, const cJSON *step)
{
    bytes collection, spec, want;
    int have_want, checked;
    char *name = NULL;
    size_t name_len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_json(r, step, "spec", "spec_raw", 1, &spec) < 0 ||
        get_string(r, step, "expect_name", 0, &want, &have_want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_index_create",
          cairn_index_create(r->h, TEXT(collection), TEXT(spec), &name, &name_len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        bytes got;
        got.p = (const uint8_t *)name;
        got.len = name_len;
        if (name == NULL)
            checked = fail(r, "cairn_index_create returned CAIRN_OK and a NULL *name");
        else if (have_want && !bytes_eq(got, want)) {
            strbuf sb = {NULL, 0, 0};
            sb_printf(&sb, "index name: got ");
            sb_quoted(&sb, got);
            sb_printf(&sb, ", want ");
            sb_quoted(&sb, want);
            checked = fail(r, "%s", sb.p);
            sb_release(&sb);
        }
    }
    cairn_free(name);
    return checked < 0 ? -1 : 0;
}

static int op_drop_index(runner *r, const cJSON *step)
{
    bytes collection, name;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_string(r, step, "name", 1, &name, NULL) < 0)
        return -1;
    track(r, "cairn_index_drop", cairn_index_drop(r->h, TEXT(collection), TEXT(name), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

/* The shape of cairn_index_list(): [{"name", "keys", "unique", "sparse"}]. */
static cJSON_bool is_index_list(const cJSON *v)
{
    const cJSON *index;
    if (!cJSON_IsArray(v))
        return 0;
    cJSON_ArrayForEach(index, v) {
        if (!cJSON_IsObject(index) || !cJSON_IsString(field(index, "name")) ||
            !cJSON_IsObject(field(index, "keys")) || !cJSON_IsBool(field(index, "unique")) ||
            !cJSON_IsBool(field(index, "sparse")))
            return 0;
    }
    return 1;
}

static int op_list_indexes(runner *r, const cJSON *step)
{
    bytes collection;
    const cJSON *want;
    char *json = NULL;
    size_t len = 0;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_array(r, step, "expect_indexes", 0, cJSON_IsObject, "objects", &want) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_index_list", cairn_index_list(r->h, TEXT(collection), &json, &len, &r->err));
    return check_returned(r, "cairn_index_list", json, len, is_index_list,
                          "[{\"name\", \"keys\", \"unique\", \"sparse\"}, ...]", "indexes",
                          want) < 0
               ? -1
               : 0;
}

static int op_rename_collection(runner *r, const cJSON *step)
{
    bytes from, to;
    if (get_string(r, step, "from", 1, &from, NULL) < 0 ||
        get_string(r, step, "to", 1, &to, NULL) < 0)
        return -1;
    track(r, "cairn_collection_rename",
          cairn_collection_rename(r->h, TEXT(from), TEXT(to), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

/* The shape of cairn_collection_stats(). */
static cJSON_bool is_collection_stats(const cJSON *v)
{
    const cJSON *indexes = field(v, "indexes"), *index;
    if (!cJSON_IsObject(v) || !cJSON_IsString(field(v, "name")) ||
        !is_count(field(v, "documents")) || !cJSON_IsNumber(field(v, "bytes")) ||
        !cJSON_IsString(field(v, "primary_key")) || field(v, "schema") == NULL ||
        !cJSON_IsArray(indexes))
        return 0;
    cJSON_ArrayForEach(index, indexes) {
        if (!cJSON_IsObject(index) || !cJSON_IsString(field(index, "name")) ||
            !cJSON_IsObject(field(index, "keys")) || !cJSON_IsBool(field(index, "unique")) ||
            !cJSON_IsBool(field(index, "sparse")) || !is_count(field(index, "entries")))
            return 0;
    }
    return 1;
}

static int op_collection_stats(runner *r, const cJSON *step)
{
    bytes collection;
    const cJSON *want_names;
    int64_t want_count;
    int have_count, checked;
    char *json = NULL;
    size_t len = 0;
    cJSON *got = NULL;
    if (get_string(r, step, "collection", 1, &collection, NULL) < 0 ||
        get_count(r, step, "expect_count", &want_count, &have_count) < 0 ||
        get_array(r, step, "expect_index_names", 0, cJSON_IsString, "strings", &want_names) < 0 ||
        results_need_ok(r, step) < 0)
        return -1;
    track(r, "cairn_collection_stats",
          cairn_collection_stats(r->h, TEXT(collection), &json, &len, &r->err));
    checked = check_status(r);
    if (checked > 0) {
        got = parse_returned(r, "cairn_collection_stats", "*json", json, len, 0);
        if (got == NULL)
            checked = -1;
        else if (!is_collection_stats(got))
            checked = fail(r,
                           "cairn_collection_stats returned %s, not {\"name\", \"documents\": n, "
                           "\"bytes\": n, \"primary_key\", \"schema\", \"indexes\": [{\"name\", "
                           "\"keys\", \"unique\", \"sparse\", \"entries\"}]}",
                           json_str(r, got));
        else if (!bytes_eq(string_bytes(r, field(got, "name")->valuestring), collection))
            checked = fail(r, "name: got %s, want the collection's name",
                           json_str(r, field(got, "name")));
        else {
            int64_t documents = 0;
            as_int(field(got, "documents"), &documents);
            if (have_count && documents != want_count)
                checked = fail(r, "documents: got %lld, want %lld", (long long)documents,
                               (long long)want_count);
        }
        if (checked > 0 && want_names != NULL) {
            cJSON *names = new_array();
            const cJSON *index;
            cJSON_ArrayForEach(index, field(got, "indexes"))
                cJSON_AddItemToArray(names, cJSON_Duplicate(field(index, "name"), 0));
            if (compare_json(r, "index names", names, want_names) < 0)
                checked = -1;
            cJSON_Delete(names);
        }
    }
    cJSON_Delete(got);
    cairn_free(json);
    return checked < 0 ? -1 : 0;
}


/* ------------------------------------------------------------------------ */
/* Change feed steps                                                         */
/* ------------------------------------------------------------------------ */

static struct named_watch *find_watch(runner *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_watches; i++)
        if (strcmp(r->watches[i].name, name) == 0)
            return &r->watches[i];
    return NULL;
}

static int get_watch(runner *r, const cJSON *step, struct named_watch **out)
{
    const cJSON *v = field(step, "watch");
    *out = NULL;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return fail(r, "field \"watch\" must be a non-empty string");
    *out = find_watch(r, v->valuestring);
    if (*out == NULL)
        return fail(r, "field \"watch\": no watch \"%s\" was opened", v->valuestring);
    return 0;
}

static int op_watch_open(runner *r, const cJSON *step)
{
    static const struct {
        const char *name;
        int kind;
    } TARGETS[] = {{"all", CAIRN_WATCH_ALL},
                   {"collections", CAIRN_WATCH_COLLECTIONS},
                   {"collection", CAIRN_WATCH_COLLECTION},
                   {"key_prefix", CAIRN_WATCH_KEY_PREFIX}};
    const cJSON *name = field(step, "watch"), *target = field(step, "target");
    const cJSON *options = field(step, "options"), *resume = field(step, "resume_after");
    struct named_watch *w;
    cairn_watch *watch = NULL;
    bytes target_bytes = {NULL, 0}, text = {NULL, 0};
    size_t i;
    int kind = -1, rc;
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
        return fail(r, "field \"watch\" must be a non-empty string");
    if (!cJSON_IsString(target))
        return fail(r, "field \"target\" must be a string");
    for (i = 0; i < sizeof TARGETS / sizeof TARGETS[0]; i++)
        if (strcmp(TARGETS[i].name, target->valuestring) == 0)
            kind = TARGETS[i].kind;
    if (kind < 0)
        return fail(r, "field \"target\": unknown target \"%s\"", target->valuestring);
    if (get_string(r, step, "name", 0, &target_bytes, NULL) < 0)
        return -1;
    if (options != NULL && !cJSON_IsObject(options))
        return fail(r, "field \"options\" must be an object");
    if (resume != NULL) {
        const cJSON *from = field(resume, "watch"), *index = field(resume, "event"), *event;
        struct named_watch *source;
        cJSON *merged;
        int64_t n;
        if (!cJSON_IsObject(resume) || !cJSON_IsString(from) || as_int(index, &n) < 0)
            return fail(r, "field \"resume_after\" must be {\"watch\": name, \"event\": n}");
        source = find_watch(r, from->valuestring);
        event = source != NULL && n >= 0 && n < cJSON_GetArraySize(source->events)
                    ? cJSON_GetArrayItem(source->events, (int)n)
                    : NULL;
        if (event == NULL || field(event, "_id") == NULL)
            return fail(r, "field \"resume_after\" names no delivered event");
        merged = options != NULL ? cJSON_Duplicate(options, 1) : cJSON_CreateObject();
        cJSON_AddItemToObject(merged, "resumeAfter", cJSON_Duplicate(field(event, "_id"), 1));
        text = json_text(r, merged);
        cJSON_Delete(merged);
    } else if (options != NULL) {
        text = json_text(r, options);
    }
    rc = cairn_watch_open(r->db, kind, target_bytes.p, target_bytes.len, TEXT(text), &watch, &r->err);
    track(r, "cairn_watch_open", rc);
    if (rc != CAIRN_OK && watch != NULL) {
        fail(r, "cairn_watch_open returned CAIRN_%s but set *out_watch", status_text(rc));
        cairn_watch_close(watch);
        watch = NULL;
    }
    if (rc == CAIRN_OK) {
        w = find_watch(r, name->valuestring);
        if (w != NULL) {
            r->retired_watches = realloc(r->retired_watches,
                                         (r->n_retired_watches + 1) * sizeof *r->retired_watches);
            if (r->retired_watches == NULL) {
                fprintf(stderr, "cairn-conformance-c: out of memory\n");
                exit(2);
            }
            r->retired_watches[r->n_retired_watches++] = w->watch;
        } else {
            r->watches = realloc(r->watches, (r->n_watches + 1) * sizeof *r->watches);
            if (r->watches == NULL) {
                fprintf(stderr, "cairn-conformance-c: out of memory\n");
                exit(2);
            }
            w = &r->watches[r->n_watches++];
            w->name = xmalloc(strlen(name->valuestring) + 1);
            strcpy(w->name, name->valuestring);
            w->events = cJSON_CreateArray();
        }
        w->watch = watch;
    }
    if (r->why.len > 0)
        return -1;
    return check_status(r) < 0 ? -1 : 0;
}

/* Each event holds the fields of its expected object with equal values,
   and lacks those its "$absent" lists. */
static int compare_events(runner *r, const cJSON *got, const cJSON *want)
{
    const cJSON *event, *expected, *f, *name;
    int index = 0;
    if (cJSON_GetArraySize(got) != cJSON_GetArraySize(want))
        return fail(r, "got %d events, want %d: %s", cJSON_GetArraySize(got),
                    cJSON_GetArraySize(want), json_str(r, got));
    for (event = got->child, expected = want->child; event != NULL && expected != NULL;
         event = event->next, expected = expected->next, index++) {
        cJSON_ArrayForEach(f, expected) {
            if (strcmp(f->string, "$absent") == 0) {
                cJSON_ArrayForEach(name, f) {
                    if (cJSON_IsString(name) && field(event, name->valuestring) != NULL)
                        return fail(r, "event %d has %s: %s", index, name->valuestring,
                                    json_str(r, event));
                }
            } else if (field(event, f->string) == NULL || !json_equal(field(event, f->string), f)) {
                return fail(r, "event %d: %s is not %s in %s", index, f->string, json_str(r, f),
                            json_str(r, event));
            }
        }
    }
    return 0;
}

/* The sizes of the runs of consecutive events with the same "seq". */
static cJSON *commit_sizes(const cJSON *events)
{
    cJSON *sizes = cJSON_CreateArray(), *last_size = NULL;
    const cJSON *event, *last_seq = NULL;
    cJSON_ArrayForEach(event, events) {
        const cJSON *seq = field(event, "seq");
        if (last_size != NULL && seq != NULL && last_seq != NULL && json_equal(seq, last_seq)) {
            cJSON_SetNumberValue(last_size, last_size->valuedouble + 1);
        } else {
            last_size = cJSON_CreateNumber(1);
            cJSON_AddItemToArray(sizes, last_size);
        }
        last_seq = seq;
    }
    return sizes;
}

static int op_watch_next(runner *r, const cJSON *step)
{
    struct named_watch *w;
    const cJSON *want_events, *want_commits;
    cJSON *got = NULL, *sizes;
    int64_t timeout;
    int checked, rc;
    if (get_watch(r, step, &w) < 0 || get_int(r, step, "timeout_ms", 0, 0, &timeout, NULL) < 0 ||
        get_array(r, step, "expect_events", 0, cJSON_IsObject, "objects", &want_events) < 0 ||
        get_array(r, step, "expect_commits", 0, cJSON_IsNumber, "numbers", &want_commits) < 0)
        return -1;
    got = new_array();
    for (;;) {
        char *event = (char *)&rc; /* not NULL: shows whether the call set it */
        size_t len = 0;
        cJSON *parsed;
        rc = cairn_watch_next(w->watch, (int)timeout, &event, &len, &r->err);
        if (rc == CAIRN_DONE) {
            cairn_free(r->err);
            r->err = NULL;
            if (event != NULL)
                fail(r, "cairn_watch_next returned CAIRN_DONE but set *event_json");
            break;
        }
        if (!track(r, "cairn_watch_next", rc)) {
            if (event != NULL)
                fail(r, "cairn_watch_next returned CAIRN_%s but set *event_json", status_text(rc));
            break;
        }
        parsed = parse_returned(r, "cairn_watch_next", "event", event, len, 1);
        cairn_free(event);
        if (parsed == NULL)
            break;
        cJSON_AddItemToArray(w->events, cJSON_Duplicate(parsed, 1));
        cJSON_AddItemToArray(got, parsed);
    }
    checked = r->why.len > 0 ? -1 : check_status(r);
    if (checked > 0 && want_events != NULL && compare_events(r, got, want_events) < 0)
        checked = -1;
    if (checked > 0 && want_commits != NULL) {
        sizes = commit_sizes(got);
        if (compare_json(r, "commits", sizes, want_commits) < 0)
            checked = -1;
        cJSON_Delete(sizes);
    }
    cJSON_Delete(got);
    return checked < 0 ? -1 : 0;
}

static int op_watch_close(runner *r, const cJSON *step)
{
    struct named_watch *w;
    if (get_watch(r, step, &w) < 0)
        return -1;
    if (cairn_watch_close(w->watch) != CAIRN_OK)
        return fail(r, "cairn_watch_close did not return CAIRN_OK");
    return check_status(r) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Transaction steps                                                         */
/* ------------------------------------------------------------------------ */

static struct named_txn *find_txn(runner *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_txns; i++)
        if (strcmp(r->txns[i].name, name) == 0)
            return &r->txns[i];
    return NULL;
}

/* The transaction a step's "txn" field names; it must have been begun. */
static int get_txn(runner *r, const cJSON *step, struct named_txn **out)
{
    const cJSON *v = field(step, "txn");
    *out = NULL;
    if (v == NULL)
        return fail(r, "missing field \"txn\"");
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return fail(r, "field \"txn\" must be a non-empty string");
    *out = find_txn(r, v->valuestring);
    if (*out == NULL)
        return fail(r, "field \"txn\": no transaction \"%s\" was begun", v->valuestring);
    return 0;
}

static int op_begin(runner *r, const cJSON *step)
{
    const cJSON *name = field(step, "txn");
    struct named_txn *t;
    cairn_db *txn = NULL;
    int read_only, rc;
    if (name == NULL)
        return fail(r, "missing field \"txn\"");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
        return fail(r, "field \"txn\" must be a non-empty string");
    if (get_bool(r, step, "read_only", &read_only, NULL) < 0)
        return -1;
    rc = cairn_txn_begin(r->db, read_only ? CAIRN_TXN_READ_ONLY : 0, &txn, &r->err);
    track(r, "cairn_txn_begin", rc);
    if (rc != CAIRN_OK && txn != NULL) {
        fail(r, "cairn_txn_begin returned CAIRN_%s but set *out_txn", status_text(rc));
        cairn_txn_rollback(txn);
        txn = NULL;
    }
    t = find_txn(r, name->valuestring);
    if (t != NULL) {
        /* A name begun again: the old handle is ended at the end of the case. */
        r->retired_txns =
            realloc(r->retired_txns, (r->n_retired_txns + 1) * sizeof *r->retired_txns);
        if (r->retired_txns == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
        r->retired_txns[r->n_retired_txns++] = t->txn;
    } else {
        r->txns = realloc(r->txns, (r->n_txns + 1) * sizeof *r->txns);
        if (r->txns == NULL) {
            fprintf(stderr, "cairn-conformance-c: out of memory\n");
            exit(2);
        }
        t = &r->txns[r->n_txns++];
        t->name = xmalloc(strlen(name->valuestring) + 1);
        strcpy(t->name, name->valuestring);
    }
    t->txn = txn;
    if (r->why.len > 0)
        return -1;
    return check_status(r) < 0 ? -1 : 0;
}

static int op_commit(runner *r, const cJSON *step)
{
    struct named_txn *t;
    if (get_txn(r, step, &t) < 0)
        return -1;
    track(r, "cairn_txn_commit", cairn_txn_commit(t->txn, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_rollback(runner *r, const cJSON *step)
{
    struct named_txn *t;
    if (get_txn(r, step, &t) < 0)
        return -1;
    track(r, "cairn_txn_rollback", cairn_txn_rollback(t->txn));
    return check_status(r) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Time series                                                               */
/* ------------------------------------------------------------------------ */

/* Checks a count a time-series call returned against "expect_written". */
static int ts_expect_written(runner *r, const cJSON *step, size_t got)
{
    int64_t want;
    int have;
    if (get_int(r, step, "expect_written", 0, 0, &want, &have) < 0)
        return -1;
    if (have && (int64_t)got != want)
        return fail(r, "wrote %zu points, want %lld", got, (long long)want);
    return 0;
}

static int op_ts_write(runner *r, const cJSON *step)
{
    const cJSON *points;
    bytes text;
    size_t written = 0;
    int checked;
    if (get_array(r, step, "points", 1, NULL, "points", &points) < 0)
        return -1;
    text = json_text(r, points);
    track(r, "cairn_ts_write", cairn_ts_write(r->h, TEXT(text), &written, &r->err));
    checked = check_status(r);
    if (checked > 0 && ts_expect_written(r, step, written) < 0)
        checked = -1;
    return checked < 0 ? -1 : 0;
}

static int op_ts_import(runner *r, const cJSON *step)
{
    bytes lines, options;
    size_t written = 0;
    int checked;
    if (get_string(r, step, "lines", 1, &lines, NULL) < 0 || get_json(r, step, "options", NULL, 0, &options) < 0)
        return -1;
    track(r, "cairn_ts_import", cairn_ts_import(r->h, TEXT(lines), TEXT(options), &written, &r->err));
    checked = check_status(r);
    if (checked > 0 && ts_expect_written(r, step, written) < 0)
        checked = -1;
    return checked < 0 ? -1 : 0;
}

static int ts_kind_is(bytes kind, const char *name)
{
    return kind.len == strlen(name) && memcmp(kind.p, name, kind.len) == 0;
}

/* "kind": range, last, series or aggregate; the rows read with cairn_cursor_next. */
static int op_ts_query(runner *r, const cJSON *step)
{
    bytes kind, query;
    const cJSON *want;
    cairn_cursor *cursor = NULL;
    int rc;
    const char *call;
    if (get_string(r, step, "kind", 1, &kind, NULL) < 0 || get_json(r, step, "query", NULL, 1, &query) < 0 ||
        get_array(r, step, "expect_rows", 0, cJSON_IsObject, "objects", &want) < 0 || results_need_ok(r, step) < 0)
        return -1;
    if (ts_kind_is(kind, "range")) {
        call = "cairn_ts_range";
        rc = cairn_ts_range(r->h, TEXT(query), &cursor, &r->err);
    } else if (ts_kind_is(kind, "last")) {
        call = "cairn_ts_last";
        rc = cairn_ts_last(r->h, TEXT(query), &cursor, &r->err);
    } else if (ts_kind_is(kind, "series")) {
        call = "cairn_ts_series";
        rc = cairn_ts_series(r->h, TEXT(query), &cursor, &r->err);
    } else if (ts_kind_is(kind, "aggregate")) {
        call = "cairn_ts_aggregate";
        rc = cairn_ts_aggregate(r->h, TEXT(query), &cursor, &r->err);
    } else
        return fail(r, "ts_query: unknown kind \"%.*s\"", (int)kind.len, (const char *)kind.p);
    return check_cursor(r, call, rc, cursor, "rows", want);
}

static int op_ts_delete(runner *r, const cJSON *step)
{
    bytes query;
    if (get_json(r, step, "query", NULL, 1, &query) < 0)
        return -1;
    track(r, "cairn_ts_delete", cairn_ts_delete(r->h, TEXT(query), NULL, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_ts_create_rule(runner *r, const cJSON *step)
{
    bytes rule;
    if (get_json(r, step, "rule", NULL, 1, &rule) < 0)
        return -1;
    track(r, "cairn_ts_create_rule", cairn_ts_create_rule(r->h, TEXT(rule), &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_ts_set_retention(runner *r, const cJSON *step)
{
    bytes metric;
    int64_t keep;
    if (get_string(r, step, "metric", 1, &metric, NULL) < 0 || get_int(r, step, "keep_ms", 1, 0, &keep, NULL) < 0)
        return -1;
    track(r, "cairn_ts_set_retention", cairn_ts_set_retention(r->h, TEXT(metric), keep, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

static int op_ts_maintain(runner *r, const cJSON *step)
{
    int64_t now;
    char *report = NULL;
    if (get_int(r, step, "now_ms", 1, 0, &now, NULL) < 0)
        return -1;
    track(r, "cairn_ts_maintain", cairn_ts_maintain(r->h, now, &report, NULL, &r->err));
    cairn_free(report);
    return check_status(r) < 0 ? -1 : 0;
}

static int op_ts_compact(runner *r, const cJSON *step)
{
    (void)step;
    track(r, "cairn_ts_compact", cairn_ts_compact(r->h, NULL, &r->err));
    return check_status(r) < 0 ? -1 : 0;
}

#define MAX_FIELDS 10

/* Whether a step may carry "txn" (README, "Transaction steps"). */
enum { DB_ONLY, TXN_OK };

/*
** Every op, with the fields its steps may carry besides "op" and "expect"
** (and "txn" where TXN_OK: any key-value or document step, which then runs
** on the named transaction's handle).
*/
static const struct op_spec {
    const char *op;
    int (*run)(runner *, const cJSON *);
    int txn;
    const char *fields[MAX_FIELDS + 1];
} OPS[] = {
    {"open", op_open, DB_ONLY, {"options", "options_raw", "at", NULL}},
    {"close", op_close, DB_ONLY, {NULL}},
    {"reopen", op_reopen, DB_ONLY, {"options", NULL}},
    {"put", op_put, TXN_OK, {"key", "value", "ttl_ms", NULL}},
    {"get", op_get, TXN_OK, {"key", "expect_value", NULL}},
    {"put_if_absent", op_put_if_absent, TXN_OK, {"key", "value", "ttl_ms", "expect_stored", NULL}},
    {"get_ttl", op_get_ttl, TXN_OK, {"key", "expect_ttl_ms", "expect_ttl_min", "expect_ttl_max", NULL}},
    {"touch", op_touch, TXN_OK, {"key", "ttl_ms", NULL}},
    {"delete", op_delete, TXN_OK, {"key", NULL}},
    {"delete_range", op_delete_range, TXN_OK, {"start", "end", NULL}},
    {"get_many", op_get_many, TXN_OK, {"keys", "expect_values", NULL}},
    {"batch", op_batch, TXN_OK, {"ops", NULL}},
    {"scan", op_scan, TXN_OK,
     {"start", "end", "prefix", "reverse", "seek", "limit", "batch", "keys_only", "expect_items", NULL}},
    {"keys", op_keys, TXN_OK, {"options", "options_raw", "expect_keys", NULL}},
    {"stats", op_stats, TXN_OK, {"expect_fields", NULL}},
    {"parse_duration", op_parse_duration, DB_ONLY, {"text", "expect_ms", NULL}},
    {"sleep", op_sleep, DB_ONLY, {"ms", NULL}},
    {"flush", op_flush, TXN_OK, {NULL}},
    {"compact_range", op_compact_range, TXN_OK, {"start", "end", NULL}},
    {"create_collection", op_create_collection, TXN_OK, {"name", "options", NULL}},
    {"drop_collection", op_drop_collection, TXN_OK, {"name", NULL}},
    {"list_collections", op_list_collections, TXN_OK, {"expect_names", NULL}},
    {"insert_one", op_insert_one, TXN_OK,
     {"collection", "document", "document_raw", "ttl_ms", "expect_id", NULL}},
    {"link", op_link, TXN_OK, {"key", "collection", "id", "metadata", NULL}},
    {"unlink", op_unlink, TXN_OK, {"key", "collection", "id", "expect_removed", NULL}},
    {"unlink_all", op_unlink_all, TXN_OK, {"key", "expect_removed", NULL}},
    {"key_links", op_key_links, TXN_OK, {"key", "expect_links", NULL}},
    {"document_links", op_document_links, TXN_OK, {"collection", "id", "expect_links", NULL}},
    {"insert_many", op_insert_many, TXN_OK,
     {"collection", "documents", "options", "expect_ids", "expect_errors", NULL}},
    {"bulk_write", op_bulk_write, TXN_OK, {"collection", "operations", "options", "expect_result", NULL}},
    {"find", op_find, TXN_OK,
     {"collection", "filter", "filter_raw", "options", "batch", "expect_documents", NULL}},
    {"count", op_count, TXN_OK, {"collection", "filter", "options", "expect_count", NULL}},
    {"update_one", op_update_one, TXN_OK,
     {"collection", "filter", "update", "update_raw", "options", "expect_matched",
      "expect_modified", "expect_upserted", NULL}},
    {"update_many", op_update_many, TXN_OK,
     {"collection", "filter", "update", "update_raw", "options", "expect_matched",
      "expect_modified", "expect_upserted", NULL}},
    {"replace_one", op_replace_one, TXN_OK,
     {"collection", "filter", "replacement", "options", "expect_matched", "expect_modified",
      "expect_upserted", NULL}},
    {"delete_one", op_delete_one, TXN_OK, {"collection", "filter", "expect_deleted", NULL}},
    {"delete_many", op_delete_many, TXN_OK, {"collection", "filter", "expect_deleted", NULL}},
    {"find_one", op_find_one, TXN_OK,
     {"collection", "filter", "options", "expect_document", NULL}},
    {"find_by_id", op_find_by_id, TXN_OK, {"collection", "id", "expect_document", NULL}},
    {"distinct", op_distinct, TXN_OK,
     {"collection", "field", "filter", "expect_values", NULL}},
    {"find_one_and_update", op_find_one_and_update, TXN_OK,
     {"collection", "filter", "update", "options", "expect_document", NULL}},
    {"find_one_and_replace", op_find_one_and_replace, TXN_OK,
     {"collection", "filter", "replacement", "options", "expect_document", NULL}},
    {"find_one_and_delete", op_find_one_and_delete, TXN_OK,
     {"collection", "filter", "options", "expect_document", NULL}},
    {"aggregate", op_aggregate, TXN_OK,
     {"collection", "pipeline", "pipeline_raw", "expect_documents", NULL}},
    {"search", op_search, TXN_OK,
     {"collection", "query", "options", "expect_documents", "expect_hits", NULL}},
    {"vector_search", op_vector_search, TXN_OK,
     {"collection", "options", "options_raw", "expect_documents", NULL}},
    {"hybrid_search", op_hybrid_search, TXN_OK,
     {"collection", "options", "options_raw", "expect_documents", NULL}},
    {"create_graph", op_create_graph, TXN_OK, {"name", "declaration", "declaration_raw", NULL}},
    {"drop_graph", op_drop_graph, TXN_OK, {"name", NULL}},
    {"list_graphs", op_list_graphs, TXN_OK, {"expect_graphs", NULL}},
    {"graph_query", op_graph_query, TXN_OK,
     {"graph", "query", "query_raw", "expect_documents", NULL}},
    {"delete_vertex", op_delete_vertex, TXN_OK,
     {"graph", "id", "expect_vertices", "expect_edges", NULL}},
    {"explain", op_explain, TXN_OK,
     {"collection", "filter", "options", "expect_plan", "expect_index", "expect_keys_examined",
      "expect_documents_examined", "expect_returned", NULL}},
    {"create_index", op_create_index, TXN_OK,
     {"collection", "spec", "spec_raw", "expect_name", NULL}},
    {"drop_index", op_drop_index, TXN_OK, {"collection", "name", NULL}},
    {"list_indexes", op_list_indexes, TXN_OK, {"collection", "expect_indexes", NULL}},
    {"rename_collection", op_rename_collection, TXN_OK, {"from", "to", NULL}},
    {"collection_stats", op_collection_stats, TXN_OK,
     {"collection", "expect_count", "expect_index_names", NULL}},
    /* "txn" names the transaction itself here, not the handle to pass. */
    {"begin", op_begin, DB_ONLY, {"txn", "read_only", NULL}},
    {"commit", op_commit, DB_ONLY, {"txn", NULL}},
    {"rollback", op_rollback, DB_ONLY, {"txn", NULL}},
    {"watch_open", op_watch_open, DB_ONLY, {"watch", "target", "name", "options", "resume_after", NULL}},
    {"watch_next", op_watch_next, DB_ONLY, {"watch", "timeout_ms", "expect_events", "expect_commits", NULL}},
    {"watch_close", op_watch_close, DB_ONLY, {"watch", NULL}},
    {"ts_write", op_ts_write, DB_ONLY, {"points", "expect_written", NULL}},
    {"ts_import", op_ts_import, DB_ONLY, {"lines", "options", "expect_written", NULL}},
    {"ts_query", op_ts_query, DB_ONLY, {"kind", "query", "expect_rows", NULL}},
    {"ts_delete", op_ts_delete, DB_ONLY, {"query", NULL}},
    {"ts_create_rule", op_ts_create_rule, DB_ONLY, {"rule", NULL}},
    {"ts_set_retention", op_ts_set_retention, DB_ONLY, {"metric", "keep_ms", NULL}},
    {"ts_maintain", op_ts_maintain, DB_ONLY, {"now_ms", NULL}},
    {"ts_compact", op_ts_compact, DB_ONLY, {NULL}},
};

static int name_in(const char *name, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

/* Fails on a field not in `allowed` (NULL-terminated) and on a repeated field. */
static int check_fields(runner *r, const cJSON *obj, const char *const *allowed, const char *where)
{
    const cJSON *f, *g;
    cJSON_ArrayForEach(f, obj) {
        if (!name_in(f->string, allowed))
            return fail(r, "%sunknown field \"%s\"", where, f->string);
        for (g = obj->child; g != f; g = g->next)
            if (strcmp(g->string, f->string) == 0)
                return fail(r, "%sfield \"%s\" appears twice", where, f->string);
    }
    return 0;
}

static int run_step(runner *r, const cJSON *step, const char **op_name)
{
    const cJSON *op = field(step, "op"), *expect;
    const struct op_spec *spec = NULL;
    const char *allowed[MAX_FIELDS + 4];
    size_t i, n = 0;

    *op_name = "?";
    if (!cJSON_IsObject(step))
        return fail(r, "a step must be an object");
    if (!cJSON_IsString(op))
        return fail(r, "missing string field \"op\"");
    *op_name = op->valuestring;
    for (i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i].op, op->valuestring) == 0)
            spec = &OPS[i];
    if (spec == NULL)
        return fail(r, "unknown op \"%s\"", op->valuestring);

    allowed[n++] = "op";
    allowed[n++] = "expect";
    if (spec->txn == TXN_OK)
        allowed[n++] = "txn";
    for (i = 0; spec->fields[i] != NULL; i++)
        allowed[n++] = spec->fields[i];
    allowed[n] = NULL;
    if (check_fields(r, step, allowed, "") < 0)
        return -1;

    r->h = r->db;
    if (spec->txn == TXN_OK && field(step, "txn") != NULL) {
        struct named_txn *t;
        if (get_txn(r, step, &t) < 0)
            return -1;
        r->h = t->txn;
    }

    r->expect = CAIRN_OK;
    expect = field(step, "expect");
    if (expect != NULL) {
        int found = 0;
        if (!cJSON_IsString(expect))
            return fail(r, "field \"expect\" must be a string");
        for (i = 0; i < sizeof STATUSES / sizeof STATUSES[0]; i++)
            if (strcmp(STATUSES[i].name, expect->valuestring) == 0) {
                r->expect = STATUSES[i].code;
                found = 1;
            }
        if (!found)
            return fail(r, "field \"expect\": unknown status \"%s\"", expect->valuestring);
    }
    r->status = CAIRN_OK;
    r->call = NULL;
    sb_clear(&r->errmsg);
    return spec->run(r, step);
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */
/* ------------------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "cairn-conformance-c: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (f == NULL)
        return NULL;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap + 1);
            if (buf == NULL) {
                fprintf(stderr, "cairn-conformance-c: out of memory\n");
                exit(2);
            }
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *const CASE_FIELDS[] = {"name", "description", "steps", NULL};

/* Runs one case file. Returns 1 when it passed; prints one line when it did not. */
static int run_case(const char *dir, const char *file)
{
    runner r;
    char path[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    char *text, *json;
    size_t text_len, json_len;
    cJSON *c = NULL;
    const cJSON *steps, *step;
    const char *op = "";
    long index = -1;
    int ok = 0;

    memset(&r, 0, sizeof r);
    r.file = file;
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
        printf("FAIL %s: path too long\n", file);
        return 0;
    }
    text = read_file(path, &text_len);
    if (text == NULL) {
        printf("FAIL %s: cannot read %s: %s\n", file, path, strerror(errno));
        return 0;
    }
    if (memchr(text, '\0', text_len) != NULL) {
        printf("FAIL %s: the file holds a NUL byte\n", file);
        free(text);
        return 0;
    }
    json = protect_nuls(text, text_len, &json_len);
    free(text);
    c = cJSON_ParseWithLength(json, json_len);
    if (c == NULL) {
        const char *at = cJSON_GetErrorPtr();
        printf("FAIL %s: not valid JSON (near byte %ld)\n", file,
               at != NULL ? (long)(at - json) : -1L);
        free(json);
        return 0;
    }
    free(json);

    steps = field(c, "steps");
    if (!cJSON_IsObject(c)) {
        fail(&r, "a case must be a JSON object");
        goto report;
    }
    if (check_fields(&r, c, CASE_FIELDS, "case: ") < 0)
        goto report;
    if (!cJSON_IsString(field(c, "name"))) {
        fail(&r, "case: missing string field \"name\"");
        goto report;
    }
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        fail(&r, "case: \"steps\" must be a non-empty array");
        goto report;
    }

    snprintf(r.dir, sizeof r.dir, "%s/cairn-conformance-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(r.dir) == NULL) {
        fail(&r, "mkdtemp(%s): %s", r.dir, strerror(errno));
        r.dir[0] = '\0';
        goto report;
    }
    if (snprintf(r.db_path, sizeof r.db_path, "%s/db", r.dir) >= (int)sizeof r.db_path ||
        snprintf(r.file_path, sizeof r.file_path, "%s/regular_file", r.dir) >=
            (int)sizeof r.file_path) {
        fail(&r, "the temporary directory's path is too long: %s", r.dir);
        goto report;
    }

    index = 0;
    cJSON_ArrayForEach(step, steps) {
        int rc = run_step(&r, step, &op);
        step_free_all(&r);
        if (rc < 0 || r.why.len > 0)
            goto report;
        index++;
    }
    ok = 1;

report:
    if (!ok) {
        if (index >= 0)
            printf("FAIL %s: steps[%ld] %s: %s\n", file, index, op, r.why.p);
        else
            printf("FAIL %s: %s\n", file, r.why.p);
    }
    step_free_all(&r);
    close_all(&r);
    if (r.dir[0] != '\0')
        nftw(r.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(r.allocs);
    sb_release(&r.errmsg);
    sb_release(&r.why);
    cJSON_Delete(c);
    fflush(stdout);
    return ok;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Is `file` (x.json) selected by the names given after the directory? */
static int selected(const char *file, int argc, char **argv)
{
    int i;
    size_t stem = strlen(file) - strlen(".json");
    if (argc <= 2)
        return 1;
    for (i = 2; i < argc; i++)
        if (strcmp(argv[i], file) == 0 ||
            (strlen(argv[i]) == stem && strncmp(argv[i], file, stem) == 0))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    DIR *d;
    struct dirent *e;
    char **files = NULL;
    size_t n = 0, cap = 0, i;
    int passed = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CASES_DIR [CASE ...]\n", argv[0]);
        return 2;
    }
    if (cairn_abi_version() != CAIRN_ABI_VERSION) {
        fprintf(stderr, "cairn-conformance-c: libcairn implements ABI %d, cairn.h is ABI %d\n",
                cairn_abi_version(), CAIRN_ABI_VERSION);
        return 1;
    }
    d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "cairn-conformance-c: cannot open %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".json") ||
            !selected(e->d_name, argc, argv))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            files = realloc(files, cap * sizeof *files);
            if (files == NULL) {
                fprintf(stderr, "cairn-conformance-c: out of memory\n");
                return 2;
            }
        }
        files[n] = xmalloc(strlen(e->d_name) + 1);
        strcpy(files[n++], e->d_name);
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "cairn-conformance-c: no cases found in %s\n", argv[1]);
        return 1;
    }
    if (argc > 2 && n != (size_t)(argc - 2)) {
        fprintf(stderr, "cairn-conformance-c: %d case names given, %zu found in %s\n",
                argc - 2, n, argv[1]);
        return 1;
    }
    qsort(files, n, sizeof *files, compare_names);

    for (i = 0; i < n; i++) {
        if (run_case(argv[1], files[i]))
            passed++;
        else
            failed++;
        free(files[i]);
    }
    free(files);

    if (failed > 0) {
        printf("conformance: %d cases passed, %d failed\n", passed, failed);
        return 1;
    }
    printf("conformance: %d cases passed\n", passed);
    return 0;
}
