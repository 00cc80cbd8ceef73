/*
** example.c -- Cairn from C: open a database, write keys three ways (a plain
** put, a put with a TTL, an atomic batch), read them back, walk them with an
** iterator, store two JSON documents and query them, index them and ask
** how the query runs, and print the statistics.
**
**   cairn-example-c DIR
**
** Every key it writes starts with "c:", so the Python and Go examples can
** find what C wrote when `make demo` runs them on the same directory. Its
** documents go into the collection "notes" with "author": "c".
**
** What good Cairn C code does, shown on every call below:
**   - check the status of every call; CAIRN_OK is 0;
**   - pass &err as the last argument: on failure it holds a message that the
**     caller frees with cairn_free() (on success it is NULL);
**   - free every buffer the library returns with cairn_free();
**   - copy iterator items and cursor documents before the next call: they
**     are borrowed views.
**
** Build: cc -std=c99 example.c $(pkg-config --cflags --libs cairn)
*/
#include <cairn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "c:"

/* Reports a failed call and its message, frees the message, returns 0. */
static int failed(const char *what, int status, char *err)
{
    fprintf(stderr, "cairn-example-c: %s: %s: %s\n", what,
            cairn_status_name(status), err != NULL ? err : "(no message)");
    cairn_free(err);
    return 0;
}

/* Prints bytes that may be binary: printable ASCII as is, others as \xNN. */
static void print_bytes(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            putchar(p[i]);
        else
            printf("\\x%02x", p[i]);
    }
}

/* Keys and values in this example are C strings; the ABI takes bytes. */
#define BYTES(s) (const uint8_t *)(s), strlen(s)

static int put(cairn_db *db, const char *key, const char *value, int64_t ttl_ms)
{
    char *err = NULL;
    int rc = cairn_put(db, BYTES(key), BYTES(value), ttl_ms, &err);
    if (rc != CAIRN_OK)
        return failed("put", rc, err);
    printf("  put   %-12s = \"%s\"", key, value);
    if (ttl_ms > 0)
        printf("  (expires in %lld ms)", (long long)ttl_ms);
    printf("\n");
    return 1;
}

/* Reads `key` and prints it; an absent key is an answer, not an error. */
static int get(cairn_db *db, const char *key)
{
    uint8_t *value = NULL;
    size_t value_len = 0;
    char *err = NULL;
    int rc = cairn_get(db, BYTES(key), &value, &value_len, &err);
    if (rc == CAIRN_NOT_FOUND) {
        cairn_free(err); /* "key not found": an answer, but still a message to free */
        printf("  get   %-12s -> (not found)\n", key);
        return 1;
    }
    if (rc != CAIRN_OK)
        return failed("get", rc, err);
    printf("  get   %-12s -> \"", key);
    print_bytes(value, value_len);
    printf("\"\n");
    cairn_free(value); /* a malloc()ed copy: ours to free */
    return 1;
}

/* Writes three keys and deletes a fourth in one atomic batch. */
static int write_batch(cairn_db *db)
{
    static const char *const keys[] = {PREFIX "lang:1", PREFIX "lang:2", PREFIX "lang:3"};
    static const char *const values[] = {"C", "Python", "Go"};
    cairn_batch *batch = NULL;
    char *err = NULL;
    size_t count = 0, i;
    int rc, ok = 0;

    rc = cairn_batch_new(&batch, &err);
    if (rc != CAIRN_OK)
        return failed("batch_new", rc, err);
    for (i = 0; i < 3; i++) {
        rc = cairn_batch_put(batch, BYTES(keys[i]), BYTES(values[i]), 0, &err);
        if (rc != CAIRN_OK) {
            failed("batch_put", rc, err);
            goto done;
        }
    }
    rc = cairn_batch_delete(batch, BYTES(PREFIX "draft"), &err);
    if (rc != CAIRN_OK) {
        failed("batch_delete", rc, err);
        goto done;
    }
    rc = cairn_batch_count(batch, &count);
    if (rc != CAIRN_OK) {
        failed("batch_count", rc, NULL);
        goto done;
    }
    rc = cairn_write(db, batch, &err); /* all operations or none */
    if (rc != CAIRN_OK) {
        failed("write", rc, err);
        goto done;
    }
    printf("  write batch of %zu operations: put %s, %s, %s; delete %s\n", count,
           keys[0], keys[1], keys[2], PREFIX "draft");
    ok = 1;
done:
    cairn_batch_free(batch); /* the batch is ours whether or not write succeeded */
    return ok;
}

/* Walks every key under PREFIX in order; returns the number seen, or -1. */
static long scan_prefix(cairn_db *db)
{
    cairn_iter *it = NULL;
    char *err = NULL;
    long n = 0;
    int rc = cairn_iter_open_prefix(db, BYTES(PREFIX), 0, &it, &err);
    if (rc != CAIRN_OK) {
        failed("iter_open_prefix", rc, err);
        return -1;
    }
    for (;;) {
        const uint8_t *key, *value;
        size_t key_len, value_len;
        rc = cairn_iter_next(it, &key, &key_len, &value, &value_len, &err);
        if (rc == CAIRN_DONE)
            break;
        if (rc != CAIRN_OK) {
            failed("iter_next", rc, err);
            n = -1;
            break;
        }
        /* key and value are borrowed: valid until the next call on `it`. */
        printf("  scan  ");
        print_bytes(key, key_len);
        printf(" = \"");
        print_bytes(value, value_len);
        printf("\"\n");
        n++;
    }
    cairn_iter_close(it);
    return n;
}

/* Text is a pointer plus a length, as for keys. */
#define TEXT(s) (s), strlen(s)

/* The query that notes() runs and explain_notes() explains. */
static const char open_notes[] = "{\"author\": \"c\", \"done\": false}";
static const char by_priority[] =
    "{\"sort\": {\"priority\": 1}, \"projection\": {\"_id\": 0, \"title\": 1, \"priority\": 1}}";

/*
** Documents: inserts two notes into the collection "notes" and finds them
** again with a filter and a sort (filters, updates and options are
** MongoDB's, as JSON text). The notes of an earlier run on the same
** directory are deleted first. Returns the number of notes found, or -1.
*/
static long notes(cairn_db *db)
{
    static const char mine[] = "{\"author\": \"c\"}";
    static const char two_notes[] =
        "[{\"author\": \"c\", \"title\": \"write the docs\", \"priority\": 2, \"done\": false},"
        " {\"author\": \"c\", \"title\": \"ship 0.1\", \"priority\": 1, \"done\": false}]";
    cairn_cursor *cursor = NULL;
    char *err = NULL, *ids = NULL;
    uint64_t removed = 0;
    long n = 0;
    int rc;

    rc = cairn_delete_many(db, TEXT("notes"), TEXT(mine), &removed, &err);
    if (rc != CAIRN_OK) {
        failed("delete_many", rc, err);
        return -1;
    }
    if (removed > 0)
        printf("  delete_many %s: %llu notes of an earlier run\n", mine,
               (unsigned long long)removed);

    /* All or nothing; *ids receives the generated _ids as a JSON array. */
    rc = cairn_insert_many(db, TEXT("notes"), TEXT(two_notes), &ids, NULL, &err);
    if (rc != CAIRN_OK) {
        failed("insert_many", rc, err);
        return -1;
    }
    printf("  insert_many: 2 notes, _ids %s\n", ids);
    cairn_free(ids);

    rc = cairn_find(db, TEXT("notes"), TEXT(open_notes), TEXT(by_priority), &cursor, &err);
    if (rc != CAIRN_OK) {
        failed("find", rc, err);
        return -1;
    }
    printf("  find %s sorted by priority:\n", open_notes);
    for (;;) {
        const char *json;
        size_t json_len;
        rc = cairn_cursor_next(cursor, &json, &json_len, &err);
        if (rc == CAIRN_DONE)
            break;
        if (rc != CAIRN_OK) {
            failed("cursor_next", rc, err);
            n = -1;
            break;
        }
        /* json is borrowed and NUL-terminated: valid until the next call on `cursor`. */
        printf("    %s\n", json);
        n++;
    }
    cairn_cursor_close(cursor);
    return n;
}

/*
** Copies into buf the value of the top-level field `name` of a flat JSON
** object such as cairn_explain() returns: a string without its quotes, or a
** number, true, false or null as written. Enough for this example; a real
** program would use a JSON parser. Returns buf ("?" if the field is absent).
*/
static const char *json_field(const char *json, const char *name, char *buf, size_t size)
{
    char quoted[64];
    const char *p;
    size_t n = 0;

    snprintf(quoted, sizeof quoted, "\"%s\"", name);
    p = strstr(json, quoted);
    if (p == NULL) {
        snprintf(buf, size, "?");
        return buf;
    }
    p += strlen(quoted);
    p += strspn(p, " :");
    if (*p == '"')
        p++;
    while (p[n] != '\0' && strchr("\",}", p[n]) == NULL)
        n++;
    snprintf(buf, size, "%.*s", (int)n, p);
    return buf;
}

/*
** Indexes and query plans: indexes "notes" on "priority" (not unique: notes
** may share a priority), then asks cairn_explain() how the find in notes()
** runs now. Existing notes are indexed before cairn_index_create() returns,
** and creating an index that exists with the same keys is CAIRN_OK, so a
** second run on the same directory succeeds. Returns 1, or 0 on failure.
*/
static int explain_notes(cairn_db *db)
{
    static const char spec[] = "{\"keys\": {\"priority\": 1}, \"unique\": false}";
    char *err = NULL, *name = NULL, *plan = NULL;
    char plan_name[32], index_name[64], sorted[8];
    int rc;

    rc = cairn_index_create(db, TEXT("notes"), TEXT(spec), &name, NULL, &err);
    if (rc != CAIRN_OK)
        return failed("index_create", rc, err);
    printf("  index_create %s -> %s\n", spec, name);
    cairn_free(name);

    /* Runs the query, and describes the plan as a JSON object in *plan. */
    rc = cairn_explain(db, TEXT("notes"), TEXT(open_notes), TEXT(by_priority), &plan, NULL,
                       &err);
    if (rc != CAIRN_OK)
        return failed("explain", rc, err);
    printf("  explain the find: %s via %s (sort_from_index: %s)\n",
           json_field(plan, "plan", plan_name, sizeof plan_name),
           json_field(plan, "index", index_name, sizeof index_name),
           json_field(plan, "sort_from_index", sorted, sizeof sorted));
    cairn_free(plan);
    return 1;
}

/*
** Full-text search: a text index on the notes' titles, then the best notes
** for "docs ship" by BM25, with the matched words marked. Creating the same
** index again is CAIRN_OK, so a second run succeeds. Returns 1, or 0.
*/
static int search_notes(cairn_db *db)
{
    static const char spec[] = "{\"keys\": {\"title\": \"text\"}}";
    static const char options[] = "{\"limit\": 3, \"highlight\": true, \"projection\": {\"_id\": 0, \"author\": 1}}";
    char *err = NULL, *name = NULL;
    cairn_cursor *cursor = NULL;
    const char *hit;
    int rc;

    rc = cairn_index_create(db, TEXT("notes"), TEXT(spec), &name, NULL, &err);
    if (rc != CAIRN_OK)
        return failed("index_create", rc, err);
    printf("  index_create %s -> %s\n", spec, name);
    cairn_free(name);
    rc = cairn_search(db, TEXT("notes"), TEXT("docs ship"), TEXT(options), &cursor, &err);
    if (rc != CAIRN_OK)
        return failed("search", rc, err);
    printf("  search \"docs ship\", best first:\n");
    while ((rc = cairn_cursor_next(cursor, &hit, NULL, &err)) == CAIRN_OK)
        printf("    %s\n", hit);
    cairn_cursor_close(cursor);
    if (rc != CAIRN_DONE)
        return failed("cursor_next", rc, err);
    return 1;
}

int main(int argc, char **argv)
{
    cairn_db *db = NULL;
    char *err = NULL;
    char *stats = NULL;
    int64_t hour_ms = 0;
    long scanned, found;
    int rc;
    static const char options[] = "{\"create_if_missing\": true}";

    if (argc != 2) {
        fprintf(stderr, "usage: %s DATABASE_DIRECTORY\n", argv[0]);
        return 2;
    }
    if (cairn_abi_version() != CAIRN_ABI_VERSION) {
        fprintf(stderr, "cairn-example-c: libcairn ABI %d, but compiled for ABI %d\n",
                cairn_abi_version(), CAIRN_ABI_VERSION);
        return 1;
    }
    printf("cairn %s (ABI %d), database %s\n", cairn_version(), cairn_abi_version(),
           argv[1]);

    /* The same TTL strings work in every language: "1h" is 3600000 ms. */
    rc = cairn_parse_duration("1h", 2, &hour_ms, &err);
    if (rc != CAIRN_OK) {
        failed("parse_duration", rc, err);
        return 1;
    }

    rc = cairn_open(argv[1], options, strlen(options), &db, &err);
    if (rc != CAIRN_OK) {
        failed("open", rc, err);
        return 1;
    }

    printf("writing:\n");
    if (!put(db, PREFIX "hello", "world, from C", 0) ||
        !put(db, PREFIX "session", "valid for one hour", hour_ms) ||
        !put(db, PREFIX "draft", "about to be deleted", 0) || !write_batch(db))
        goto fail;

    printf("reading:\n");
    if (!get(db, PREFIX "hello") || !get(db, PREFIX "session") ||
        !get(db, PREFIX "lang:2") || !get(db, PREFIX "draft"))
        goto fail;

    printf("iterating over \"%s\":\n", PREFIX);
    scanned = scan_prefix(db);
    if (scanned < 0)
        goto fail;

    printf("documents in \"notes\":\n");
    found = notes(db);
    if (found < 0 || !explain_notes(db) || !search_notes(db))
        goto fail;

    rc = cairn_stats(db, &stats, NULL, &err);
    if (rc != CAIRN_OK) {
        failed("stats", rc, err);
        goto fail;
    }
    printf("stats: %s\n", stats);
    cairn_free(stats);

    rc = cairn_close(db, &err); /* syncs the log, releases the lock */
    if (rc != CAIRN_OK) {
        failed("close", rc, err);
        return 1;
    }

    printf("summary: C wrote %ld keys under \"%s\" (one expires in 1h, three in one "
           "batch) and read them back\n",
           scanned, PREFIX);
    return 0;

fail:
    cairn_close(db, NULL);
    return 1;
}
