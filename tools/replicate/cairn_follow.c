/*
** cairn-follow -- keeps a Cairn database a read replica of another, by
** applying the change feed that cairn-replicate publishes to a NATS
** JetStream stream.
**
**   cairn-follow REPLICA_PATH [--url nats://127.0.0.1:4222] [--stream CAIRN]
**                [--idle-exit MS] [--progress]
**
** Reads the stream's messages in order (by stream sequence) and applies
** each commit of the primary, whole, to the replica: the same key-value
** entries, documents, collections and indexes. The replica records how far
** it got (the stream sequence, and the commit's sequence) in the document
** {"_id": "position"} of its collection "__cairn_replica", written in the
** same transaction as the commit's changes, so a kill -9 at any moment
** neither loses a commit nor applies one twice. The few changes a
** transaction cannot hold (collection drop and rename, index create and
** drop, a key-value batch with a range deletion, applied as one batch) are
** applied first and the position after them; they are idempotent, so a
** kill between the two repeats them harmlessly. The replica reports the
** primary's sequence it reflects (`seq` of the position) and its lag.
**
** Updates are applied from their updateDescription ($set of updatedFields,
** $unset of removedFields), inserts and replacements as upserts of the
** full document, TTLs as what remains of them (a key already expired is
** deleted). --progress prints "applied SEQ EVENTS STREAM_SEQ" after each
** commit; "lag: ..." lines report how far the replica is behind the
** stream and the primary's clock, every second and at the end.
** --idle-exit MS ends the program once no message came for that long.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <cairn.h>
#include <cjson/cJSON.h>
#include <nats/nats.h>

#include "replicate_args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POSITION_COLLECTION "__cairn_replica"

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "cairn-follow: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

/* {"$date": "2026-12-06T09:00:00.123Z"} as ms since the epoch; 0 if malformed. */
static int64_t date_ms(const cJSON *date)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(date, "$date");
    struct tm tm;
    int ms = 0;
    memset(&tm, 0, sizeof tm);
    if (!cJSON_IsString(text) ||
        sscanf(text->valuestring, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* The bytes of {"$binary": {"base64": "...", ...}}, malloc()ed; NULL if malformed. */
static unsigned char *binary_bytes(const cJSON *value, size_t *len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(value, "$binary"), "base64");
    const char *p;
    unsigned char *out;
    unsigned bits = 0;
    int nbits = 0;
    if (!cJSON_IsString(b64))
        return NULL;
    out = malloc(strlen(b64->valuestring) + 1);
    *len = 0;
    for (p = b64->valuestring; *p != '\0' && *p != '='; p++) {
        const char *at = strchr(alphabet, *p);
        if (at == NULL) {
            free(out);
            return NULL;
        }
        bits = (bits << 6) | (unsigned)(at - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[(*len)++] = (unsigned char)(bits >> nbits);
        }
    }
    return out;
}

typedef struct {
    cairn_db *db;
    cairn_db *h; /* where the commit's changes go: a transaction, or the database */
} target;

/* Fails the program unless rc is OK or one of the statuses a repeated
   idempotent change may give (`tolerated`, 0 for none). */
static void check(const char *what, int rc, char *err, int tolerated)
{
    if (rc != CAIRN_OK && rc != tolerated) {
        fprintf(stderr, "cairn-follow: %s: %s: %s\n", what, cairn_status_name(rc), err ? err : "");
        exit(1);
    }
    cairn_free(err);
}

static const char *text_of(const cJSON *v, char **owned)
{
    *owned = cJSON_PrintUnformatted(v);
    return *owned;
}

/* Applies one document or collection event. */
static void apply_document_event(target *t, const char *op, const cJSON *event)
{
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(event, "ns");
    const char *coll = cJSON_GetObjectItemCaseSensitive(ns, "coll")->valuestring;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(event, "documentKey");
    char *err = NULL, *a = NULL, *b = NULL, *c = NULL;
    size_t n = strlen(coll);
    if (strcmp(op, "insert") == 0 || strcmp(op, "replace") == 0) {
        const char *filter = text_of(key, &a), *doc = text_of(cJSON_GetObjectItemCaseSensitive(event, "fullDocument"), &b);
        static const char upsert[] = "{\"upsert\": true}";
        check(op, cairn_replace_one(t->h, coll, n, filter, strlen(filter), doc, strlen(doc), upsert, sizeof upsert - 1,
                                    NULL, NULL, &err), err, 0);
    } else if (strcmp(op, "update") == 0) {
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(event, "updateDescription");
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(desc, "updatedFields");
        const cJSON *removed = cJSON_GetObjectItemCaseSensitive(desc, "removedFields"), *field;
        cJSON *update = cJSON_CreateObject(), *unset = cJSON_CreateObject();
        const char *filter = text_of(key, &a), *text;
        if (cJSON_GetArraySize(set) > 0)
            cJSON_AddItemToObject(update, "$set", cJSON_Duplicate(set, 1));
        cJSON_ArrayForEach(field, removed) cJSON_AddStringToObject(unset, field->valuestring, "");
        if (cJSON_GetArraySize(unset) > 0)
            cJSON_AddItemToObject(update, "$unset", unset);
        else
            cJSON_Delete(unset);
        if (cJSON_GetArraySize(update) > 0) {
            text = text_of(update, &b);
            check(op, cairn_update_one(t->h, coll, n, filter, strlen(filter), text, strlen(text), NULL, 0, NULL, NULL, &err),
                  err, 0);
        }
        cJSON_Delete(update);
    } else if (strcmp(op, "delete") == 0) {
        const char *filter = text_of(key, &a);
        check(op, cairn_delete_one(t->h, coll, n, filter, strlen(filter), NULL, &err), err, 0);
    } else if (strcmp(op, "create") == 0) {
        const cJSON *options = cJSON_GetObjectItemCaseSensitive(event, "operationDescription");
        const char *text = options != NULL ? text_of(options, &a) : NULL;
        int rc = cairn_collection_create(t->h, coll, n, text, text ? strlen(text) : 0, &err);
        /* A repeated create (after a kill) finds the collection there. */
        check(op, rc, err, rc == CAIRN_INVALID_ARGUMENT && err && strstr(err, "already exists") ? rc : 0);
    } else if (strcmp(op, "drop") == 0) {
        check(op, cairn_collection_drop(t->db, coll, n, &err), err, 0);
    } else if (strcmp(op, "rename") == 0) {
        const char *to = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "to"), "coll")->valuestring;
        check(op, cairn_collection_rename(t->db, coll, n, to, strlen(to), &err), err, CAIRN_NOT_FOUND);
    } else if (strcmp(op, "createIndexes") == 0) {
        const char *spec = text_of(cJSON_GetObjectItemCaseSensitive(event, "index"), &a);
        check(op, cairn_index_create(t->db, coll, n, spec, strlen(spec), NULL, NULL, &err), err, 0);
    } else if (strcmp(op, "dropIndexes") == 0) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "index"), "name");
        check(op, cairn_index_drop(t->db, coll, n, name->valuestring, strlen(name->valuestring), &err), err, CAIRN_NOT_FOUND);
    } else {
        die("unknown document event %s%s", op, "");
    }
    cJSON_free(a);
    cJSON_free(b);
    cJSON_free(c);
}

/* Applies one key-value event, to a batch when there is one. */
static void apply_kv_event(target *t, cairn_batch *batch, const char *op, const cJSON *event)
{
    char *err = NULL;
    size_t klen = 0, vlen = 0, elen = 0;
    if (strcmp(op, "deleteRange") == 0) {
        unsigned char *start = binary_bytes(cJSON_GetObjectItemCaseSensitive(event, "start"), &klen);
        unsigned char *end = binary_bytes(cJSON_GetObjectItemCaseSensitive(event, "end"), &elen);
        if (batch != NULL)
            check(op, cairn_batch_delete_range(batch, start, klen, end, elen, &err), err, 0);
        else
            check(op, cairn_delete_range(t->db, start, klen, end, elen, &err), err, 0);
        free(start);
        free(end);
        return;
    }
    unsigned char *key = binary_bytes(cJSON_GetObjectItemCaseSensitive(event, "key"), &klen);
    if (strcmp(op, "put") == 0) {
        unsigned char *value = binary_bytes(cJSON_GetObjectItemCaseSensitive(event, "value"), &vlen);
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(event, "ttlMillis");
        int64_t remaining = 0;
        int expired = 0;
        if (cJSON_IsNumber(ttl)) {
            /* What remains of the TTL, counted from the primary's commit. */
            remaining = date_ms(cJSON_GetObjectItemCaseSensitive(event, "wallTime")) + (int64_t)ttl->valuedouble - wall_ms();
            expired = remaining <= 0;
        }
        if (expired && batch != NULL)
            check(op, cairn_batch_delete(batch, key, klen, &err), err, 0);
        else if (expired)
            check(op, cairn_delete(t->h, key, klen, &err), err, 0);
        else if (batch != NULL)
            check(op, cairn_batch_put(batch, key, klen, value, vlen, remaining, &err), err, 0);
        else
            check(op, cairn_put(t->h, key, klen, value, vlen, remaining, &err), err, 0);
        free(value);
    } else if (strcmp(op, "delete") == 0) {
        if (batch != NULL)
            check(op, cairn_batch_delete(batch, key, klen, &err), err, 0);
        else
            check(op, cairn_delete(t->h, key, klen, &err), err, 0);
    } else {
        die("unknown key-value event %s%s", op, "");
    }
    free(key);
}

static const char *op_of(const cJSON *event)
{
    return cJSON_GetObjectItemCaseSensitive(event, "operationType")->valuestring;
}

static int is_kv(const cJSON *event)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "ns"), "kv"));
}

/* The changes a transaction cannot hold. */
static int database_only(const cJSON *event)
{
    const char *op = op_of(event);
    return strcmp(op, "drop") == 0 || strcmp(op, "rename") == 0 || strcmp(op, "createIndexes") == 0 ||
           strcmp(op, "dropIndexes") == 0 || strcmp(op, "deleteRange") == 0;
}

/* Writes the position: in `h` (the commit's transaction, or the database). */
static void save_position(cairn_db *h, uint64_t stream_seq, uint64_t seq, int64_t wall)
{
    char doc[256], *err = NULL;
    static const char filter[] = "{\"_id\": \"position\"}", upsert[] = "{\"upsert\": true}";
    snprintf(doc, sizeof doc, "{\"_id\": \"position\", \"stream_seq\": %" PRIu64 ", \"seq\": %" PRIu64 ", \"wall_ms\": %" PRId64 "}",
             stream_seq, seq, wall);
    check("position", cairn_replace_one(h, POSITION_COLLECTION, strlen(POSITION_COLLECTION), filter, sizeof filter - 1, doc,
                                        strlen(doc), upsert, sizeof upsert - 1, NULL, NULL, &err), err, 0);
}

/* Applies the events of one commit, then the position, as one unit where
   the changes allow (see the header comment). */
static void apply_commit(cairn_db *db, cJSON **events, int count, uint64_t stream_seq)
{
    target t = {db, db};
    char *err = NULL;
    int i, needs_database = 0, all_kv = 1;
    const cJSON *last = events[count - 1];
    uint64_t seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(last, "seq")->valuedouble;
    int64_t wall = date_ms(cJSON_GetObjectItemCaseSensitive(last, "wallTime"));
    for (i = 0; i < count; i++) {
        needs_database |= database_only(events[i]);
        all_kv &= is_kv(events[i]);
    }
    if (needs_database && all_kv) {
        /* A key-value batch with a range deletion: one batch, as on the primary. */
        cairn_batch *batch = NULL;
        check("batch", cairn_batch_new(&batch, &err), err, 0);
        for (i = 0; i < count; i++)
            apply_kv_event(&t, batch, op_of(events[i]), events[i]);
        err = NULL;
        check("write", cairn_write(db, batch, &err), err, 0);
        cairn_batch_free(batch);
        save_position(db, stream_seq, seq, wall);
        return;
    }
    if (needs_database) {
        for (i = 0; i < count; i++)
            apply_document_event(&t, op_of(events[i]), events[i]);
        save_position(db, stream_seq, seq, wall);
        return;
    }
    check("begin", cairn_txn_begin(db, 0, &t.h, &err), err, 0);
    for (i = 0; i < count; i++) {
        if (is_kv(events[i]))
            apply_kv_event(&t, NULL, op_of(events[i]), events[i]);
        else
            apply_document_event(&t, op_of(events[i]), events[i]);
    }
    save_position(t.h, stream_seq, seq, wall);
    err = NULL;
    check("commit", cairn_txn_commit(t.h, &err), err, 0);
}

/* Where the replica stands: the last stream sequence applied (0: none). */
static uint64_t load_position(cairn_db *db, int64_t *wall)
{
    static const char id[] = "\"position\"";
    char *json = NULL, *err = NULL;
    size_t len = 0;
    uint64_t stream_seq = 0;
    int rc = cairn_find_by_id(db, POSITION_COLLECTION, strlen(POSITION_COLLECTION), id, sizeof id - 1, &json, &len, &err);
    if (rc == CAIRN_NOT_FOUND) {
        cairn_free(err);
        return 0;
    }
    check("position", rc, err, 0);
    if (json != NULL) {
        cJSON *doc = cJSON_Parse(json);
        stream_seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(doc, "stream_seq")->valuedouble;
        *wall = (int64_t)cJSON_GetObjectItemCaseSensitive(doc, "wall_ms")->valuedouble;
        cJSON_Delete(doc);
    }
    cairn_free(json);
    return stream_seq;
}

/* How far the replica is behind: in events (the stream's last sequence
   less the last applied) and in the primary's time (the commit time of the
   stream's last event less that of the last applied one; 0 when caught up). */
static void report_lag(jsCtx *js, const char *stream, uint64_t applied, int64_t applied_wall)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsMsg *last = NULL;
    int64_t last_wall = applied_wall;
    char subject[256];
    if (js_GetStreamInfo(&si, js, stream, NULL, &jerr) != NATS_OK)
        return;
    snprintf(subject, sizeof subject, "%s.events", stream);
    if (si->State.LastSeq > applied && js_GetLastMsg(&last, js, stream, subject, NULL, &jerr) == NATS_OK) {
        cJSON *event = cJSON_ParseWithLength(natsMsg_GetData(last), (size_t)natsMsg_GetDataLength(last));
        if (event != NULL)
            last_wall = date_ms(cJSON_GetObjectItemCaseSensitive(event, "wallTime"));
        cJSON_Delete(event);
        natsMsg_Destroy(last);
    }
    printf("lag: events_behind=%" PRIu64 " ms_behind_primary=%" PRId64 " stream_last=%" PRIu64 " applied=%" PRIu64 "\n",
           si->State.LastSeq > applied ? si->State.LastSeq - applied : 0,
           last_wall > applied_wall ? last_wall - applied_wall : 0, si->State.LastSeq, applied);
    fflush(stdout);
    jsStreamInfo_Destroy(si);
}

int main(int argc, char **argv)
{
    int64_t idle_since, last_report, applied_wall = 0;
    int i, rc, count = 0, capacity = 64;
    cJSON **pending = malloc((size_t)capacity * sizeof *pending);
    char *err = NULL;
    cairn_db *db = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus s;
    uint64_t applied, next;

    replicate_args args;
    if (replicate_parse_args(argc, argv, "cairn-follow", "REPLICA_PATH", &args) != 0) return 64;
    const char *path = args.path, *url = args.url, *stream = args.stream;
    int64_t idle_exit = args.idle_exit;
    int progress = args.progress;
    rc = cairn_open(path, NULL, 0, &db, &err);
    if (rc != CAIRN_OK)
        die("cannot open the replica: %s: %s", cairn_status_name(rc), err ? err : "");
    if ((s = natsConnection_ConnectTo(&nc, url)) != NATS_OK)
        die("connect: %s%s", natsStatus_GetText(s), "");
    if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
        die("JetStream: %s%s", natsStatus_GetText(s), "");

    applied = load_position(db, &applied_wall);
    next = applied + 1;
    printf("following from stream sequence %" PRIu64 "\n", next);
    fflush(stdout);
    idle_since = last_report = monotonic_ms();
    for (;;) {
        natsMsg *msg = NULL;
        jsErrCode jerr = 0;
        cJSON *event;
        int pos, of;
        s = js_GetMsg(&msg, js, stream, next, NULL, &jerr);
        if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr || jerr == JSStreamNotFoundErr) {
            if (idle_exit >= 0 && monotonic_ms() - idle_since >= idle_exit)
                break;
            if (monotonic_ms() - last_report >= 1000) {
                report_lag(js, stream, applied, applied_wall);
                last_report = monotonic_ms();
            }
            usleep(10000);
            continue;
        }
        if (s != NATS_OK)
            die("get message: %s%s", natsStatus_GetText(s), "");
        event = cJSON_ParseWithLength(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
        natsMsg_Destroy(msg);
        if (event == NULL)
            die("stream message %s is not JSON%s", "", "");
        pos = (int)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(event, "_id"), "pos")->valuedouble;
        of = (int)cJSON_GetObjectItemCaseSensitive(event, "txnEvents")->valuedouble;
        if (pos != count)
            die("the stream broke a commit apart (an event out of place)%s%s", "", "");
        if (count == capacity) {
            capacity *= 2;
            pending = realloc(pending, (size_t)capacity * sizeof *pending);
        }
        pending[count++] = event;
        if (count == of) {
            apply_commit(db, pending, count, next);
            applied = next;
            applied_wall = date_ms(cJSON_GetObjectItemCaseSensitive(pending[count - 1], "wallTime"));
            if (progress) {
                printf("applied %" PRIu64 " %d %" PRIu64 "\n",
                       (uint64_t)cJSON_GetObjectItemCaseSensitive(pending[0], "seq")->valuedouble, count, next);
                fflush(stdout);
            }
            for (i = 0; i < count; i++)
                cJSON_Delete(pending[i]);
            count = 0;
        }
        next++;
        idle_since = monotonic_ms();
    }
    report_lag(js, stream, applied, applied_wall);
    for (i = 0; i < count; i++)
        cJSON_Delete(pending[i]);
    free(pending);
    cairn_close(db, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
