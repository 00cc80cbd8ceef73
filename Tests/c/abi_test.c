/*
** abi_test.c -- what include/cairn.h promises at the C level that the
** language-neutral conformance cases cannot express: NULL arguments, the
** errmsg convention, handle lifetimes (idempotent close, CAIRN_CLOSED after
** close, handles never reused, a handle of one type where another belongs),
** borrowed iterator and cursor views, size limits, versions and status
** names, the directory lock across processes, use from several threads, and
** transaction handles (ended by commit or rollback, refused where only a
** database belongs).
**
**   cairn-abi-test
**
** Prints one line per failed check, then "abi: N passed, M failed"; exits 0
** only when nothing failed. Works in a temporary directory it removes.
**
** Most checks go through STATUS(want, call), which runs `call` with a local
** `char *err` preset to a sentinel (the call passes &err) and then checks
** both the status and the errmsg convention: NULL on success, a non-empty
** message on failure, freed with cairn_free().
*/
#define _XOPEN_SOURCE 700

#include <cairn.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* A small test harness                                                      */
/* ------------------------------------------------------------------------ */

static int n_passed, n_failed;
static const char *test_name = "";
static char base_dir[PATH_MAX];

static void check_at(int ok, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok) {
        n_passed++;
        return;
    }
    n_failed++;
    printf("FAIL %s (abi_test.c:%d): ", test_name, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond) check_at((cond) != 0, __LINE__, "%s", #cond)
#define CHECK_MSG(cond, ...) check_at((cond) != 0, __LINE__, __VA_ARGS__)

/* A value no library writes into *errmsg: shows whether the call set it. */
static char unset_marker;
#define ERR_UNSET (&unset_marker)

/* A non-NULL handle value, to see whether a constructor sets *out on failure. */
static long long not_a_handle;

static void check_status_at(int line, const char *call, int got, int want, char *err,
                            int err_passed, int answer)
{
    check_at(got == want, line, "%s: got %s (%s), want %s", call, cairn_status_name(got),
             err_passed && err != NULL && err != ERR_UNSET ? err : "no errmsg",
             cairn_status_name(want));
    if (!err_passed)
        return;
    if (err == ERR_UNSET)
        check_at(0, line, "%s: *errmsg was not set", call);
    else if (got == CAIRN_OK)
        check_at(err == NULL, line, "%s: *errmsg is \"%s\" after CAIRN_OK, want NULL", call,
                 err != NULL ? err : "");
    else if (answer)
        /* A status that answers the question (DONE: no more items; NOT_FOUND
           from cairn_get: no such key) is no failure to explain, so the
           header's "when the call fails" leaves the message optional. */
        check_at(err == NULL || err[0] != '\0', line, "%s: empty errmsg", call);
    else
        check_at(err != NULL && err[0] != '\0', line, "%s: no errmsg with %s", call,
                 cairn_status_name(got));
    if (err != ERR_UNSET)
        cairn_free(err);
}

/* Runs `call`, which passes &err as its errmsg, and checks status and errmsg. */
#define STATUS(want, call)                                                   \
    do {                                                                     \
        char *err = ERR_UNSET;                                               \
        int rc_ = (call);                                                    \
        check_status_at(__LINE__, #call, rc_, (want), err, 1, 0);            \
    } while (0)

/* As STATUS, for a status that is an answer rather than a failure
   (CAIRN_DONE, or CAIRN_NOT_FOUND from cairn_get): a message is optional. */
#define ANSWER(want, call)                                                   \
    do {                                                                     \
        char *err = ERR_UNSET;                                               \
        int rc_ = (call);                                                    \
        check_status_at(__LINE__, #call, rc_, (want), err, 1, rc_ == (want)); \
    } while (0)

/* Checks only the status: for calls without an errmsg or that pass NULL. */
#define RC(want, call) check_status_at(__LINE__, #call, (call), (want), NULL, 0, 0)

/* A string literal as the (pointer, length) pair the ABI takes. */
#define K(s) (const uint8_t *)(s), (sizeof(s) - 1)

static int bytes_are(const uint8_t *p, size_t n, const char *s)
{
    return n == strlen(s) && (n == 0 || (p != NULL && memcmp(p, s, n) == 0));
}

static void db_dir(char *out, size_t size, const char *name)
{
    if (snprintf(out, size, "%s/%s", base_dir, name) >= (int)size) {
        fprintf(stderr, "cairn-abi-test: path too long\n");
        exit(2);
    }
}

/* Opens a fresh database named `name` under the test directory, or exits. */
static cairn_db *open_fresh(const char *name, const char *options)
{
    char path[PATH_MAX];
    cairn_db *db = NULL;
    char *err = NULL;
    int rc;
    db_dir(path, sizeof path, name);
    rc = cairn_open(path, options, options != NULL ? strlen(options) : 0, &db, &err);
    if (rc != CAIRN_OK) {
        printf("FAIL %s: cannot open %s: %s: %s\n", test_name, path, cairn_status_name(rc),
               err != NULL ? err : "");
        printf("abi: %d passed, %d failed\n", n_passed, n_failed + 1);
        exit(1);
    }
    return db;
}

/* Runs this program again as `mode dir` and returns its exit status (128+N for signal N). */
static int run_child(const char *mode, const char *dir)
{
    int status;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl("/proc/self/exe", "cairn-abi-test", mode, dir, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* The child side of run_child(). */
static int child_main(const char *mode, const char *dir)
{
    cairn_db *db = NULL;
    int rc;
    if (strcmp(mode, "--child-read-only") == 0) {
        /* Reads beside the parent, which holds the lock. */
        uint8_t *value = NULL;
        size_t len = 0;
        rc = cairn_open(dir, "{\"read_only\": true}", 19, &db, NULL);
        if (rc != CAIRN_OK)
            return rc;
        rc = cairn_get(db, K("ops:key"), &value, &len, NULL);
        if (rc == CAIRN_OK && !bytes_are(value, len, "seen by a reader"))
            rc = 98;
        cairn_free(value);
        if (rc == CAIRN_OK && cairn_put(db, K("ops:key"), K("x"), 0, NULL) != CAIRN_READ_ONLY)
            rc = 97;
        cairn_close(db, NULL);
        return rc;
    }
    rc = cairn_open(dir, NULL, 0, &db, NULL);
    if (strcmp(mode, "--child-open") == 0) {
        if (rc == CAIRN_OK)
            cairn_close(db, NULL);
        return rc;
    }
    if (strcmp(mode, "--child-put-and-die") == 0) {
        if (rc != CAIRN_OK)
            return rc;
        rc = cairn_put(db, K("crash:key"), K("acknowledged before the crash"), 0, NULL);
        if (rc != CAIRN_OK)
            return rc;
        raise(SIGKILL); /* no close: the lock must die with the process */
    }
    return 99;
}

/* ------------------------------------------------------------------------ */
/* Versions, status names, cairn_free                                        */
/* ------------------------------------------------------------------------ */

static void test_versions(void)
{
    const char *v = cairn_version();
    test_name = "versions";
    CHECK_MSG(v != NULL && strcmp(v, CAIRN_VERSION_STRING) == 0,
              "cairn_version() is \"%s\", cairn.h says \"%s\"", v ? v : "(null)",
              CAIRN_VERSION_STRING);
    CHECK_MSG(cairn_abi_version() == CAIRN_ABI_VERSION,
              "cairn_abi_version() is %d, cairn.h says %d", cairn_abi_version(),
              CAIRN_ABI_VERSION);
    CHECK(cairn_version() == v); /* static: the same string every time */
}

static void test_status_names(void)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {CAIRN_OK, "CAIRN_OK"},
        {CAIRN_NOT_FOUND, "CAIRN_NOT_FOUND"},
        {CAIRN_INVALID_ARGUMENT, "CAIRN_INVALID_ARGUMENT"},
        {CAIRN_IO_ERROR, "CAIRN_IO_ERROR"},
        {CAIRN_CORRUPTION, "CAIRN_CORRUPTION"},
        {CAIRN_BUSY, "CAIRN_BUSY"},
        {CAIRN_CLOSED, "CAIRN_CLOSED"},
        {CAIRN_CONFLICT, "CAIRN_CONFLICT"},
        {CAIRN_CONSTRAINT, "CAIRN_CONSTRAINT"},
        {CAIRN_SCHEMA, "CAIRN_SCHEMA"},
        {CAIRN_NO_SPACE, "CAIRN_NO_SPACE"},
        {CAIRN_INTERNAL, "CAIRN_INTERNAL"},
        {CAIRN_NO_MEMORY, "CAIRN_NO_MEMORY"},
        {CAIRN_INTERRUPTED, "CAIRN_INTERRUPTED"},
        {CAIRN_HISTORY_LOST, "CAIRN_HISTORY_LOST"},
        {CAIRN_READ_ONLY, "CAIRN_READ_ONLY"},
        {CAIRN_DONE, "CAIRN_DONE"},
    };
    static const int unknown[] = {-1, 16, 99, 101, 1000, INT_MAX, INT_MIN};
    size_t i;
    test_name = "status_names";
    /* The numbers are part of the ABI: never change. */
    CHECK(CAIRN_OK == 0 && CAIRN_NOT_FOUND == 1 && CAIRN_INVALID_ARGUMENT == 2 &&
          CAIRN_IO_ERROR == 3 && CAIRN_CORRUPTION == 4 && CAIRN_BUSY == 5 && CAIRN_CLOSED == 6 &&
          CAIRN_CONFLICT == 7 && CAIRN_CONSTRAINT == 8 && CAIRN_SCHEMA == 9 &&
          CAIRN_NO_SPACE == 10 && CAIRN_INTERNAL == 11 && CAIRN_NO_MEMORY == 12 && CAIRN_INTERRUPTED == 13 &&
          CAIRN_HISTORY_LOST == 14 && CAIRN_READ_ONLY == 15 && CAIRN_DONE == 100);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = cairn_status_name(names[i].code);
        CHECK_MSG(got != NULL && strcmp(got, names[i].name) == 0,
                  "cairn_status_name(%d) is \"%s\", want \"%s\"", names[i].code,
                  got ? got : "(null)", names[i].name);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *got = cairn_status_name(unknown[i]);
        CHECK_MSG(got != NULL && strcmp(got, "CAIRN_UNKNOWN") == 0,
                  "cairn_status_name(%d) is \"%s\", want \"CAIRN_UNKNOWN\"", unknown[i],
                  got ? got : "(null)");
    }
    cairn_free(NULL); /* does nothing */
    CHECK(1);
}

static void test_parse_duration(void)
{
    int64_t ms = -1;
    test_name = "parse_duration";
    /* Text is a pointer plus a length: what follows the length is not read. */
    STATUS(CAIRN_OK, cairn_parse_duration("30sXYZ", 3, &ms, &err));
    CHECK_MSG(ms == 30000, "\"30s\" parsed as %lld ms", (long long)ms);
    RC(CAIRN_OK, cairn_parse_duration("1h", 2, &ms, NULL));
    CHECK(ms == 3600000);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_parse_duration(NULL, 0, &ms, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_parse_duration(NULL, 3, &ms, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_parse_duration("1h", 2, NULL, &err));
    RC(CAIRN_INVALID_ARGUMENT, cairn_parse_duration("1x", 2, &ms, NULL));
}

/* ------------------------------------------------------------------------ */
/* Opening, closing, locking                                                 */
/* ------------------------------------------------------------------------ */

static void test_open_arguments(void)
{
    char path[PATH_MAX], missing[PATH_MAX];
    cairn_db *db = (cairn_db *)(void *)&not_a_handle;
    test_name = "open_arguments";
    db_dir(path, sizeof path, "open-args");
    db_dir(missing, sizeof missing, "never-created");

    STATUS(CAIRN_INVALID_ARGUMENT, cairn_open(NULL, NULL, 0, &db, &err));
    CHECK_MSG(db == NULL, "a failed cairn_open left *out_db set");
    RC(CAIRN_INVALID_ARGUMENT, cairn_open(NULL, NULL, 0, &db, NULL));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_open(path, NULL, 5, &db, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_open(path, "{\"sync\":1}", 10, &db, &err));
    /* A missing database with create_if_missing false: a failure, with a message. */
    STATUS(CAIRN_NOT_FOUND, cairn_open(missing, "{\"create_if_missing\":false}", 27, &db, &err));
    CHECK_MSG(db == NULL, "a failed cairn_open left *out_db set");
    /* A NULL out_db fails and leaves no lock behind. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_open(path, NULL, 0, NULL, &err));
    /* Options are a pointer plus a length: "{}" followed by junk is just "{}". */
    db = NULL;
    STATUS(CAIRN_OK, cairn_open(path, "{}junk", 2, &db, &err));
    CHECK(db != NULL);
    STATUS(CAIRN_OK, cairn_close(db, &err));
    db = NULL;
    RC(CAIRN_OK, cairn_open(path, NULL, 0, &db, NULL));
    RC(CAIRN_OK, cairn_close(db, NULL));
}

static void test_close(void)
{
    cairn_db *db, *again;
    uint8_t *value = NULL, *list = NULL;
    size_t len = 0, count = 0;
    char *json = NULL;
    cairn_batch *batch = NULL;
    cairn_iter *it = NULL;
    static const uint8_t packed[] = {1, 0, 0, 0, 'k'};
    test_name = "close";

    STATUS(CAIRN_OK, cairn_close(NULL, &err));
    RC(CAIRN_OK, cairn_close(NULL, NULL));

    db = open_fresh("close", NULL);
    STATUS(CAIRN_OK, cairn_put(db, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err)); /* idempotent */
    RC(CAIRN_OK, cairn_close(db, NULL));

    /* Every method of a closed database returns CAIRN_CLOSED. */
    STATUS(CAIRN_CLOSED, cairn_put(db, K("k"), K("w"), 0, &err));
    RC(CAIRN_CLOSED, cairn_put(db, K("k"), K("w"), 0, NULL));
    STATUS(CAIRN_CLOSED, cairn_get(db, K("k"), &value, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_delete(db, K("k"), &err));
    STATUS(CAIRN_CLOSED, cairn_delete_range(db, K("a"), K("z"), &err));
    STATUS(CAIRN_CLOSED, cairn_get_many(db, packed, sizeof packed, &list, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_keys(db, NULL, 0, &list, &len, &count, &err));
    STATUS(CAIRN_CLOSED, cairn_stats(db, &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_iter_open(db, NULL, 0, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_CLOSED, cairn_iter_open_prefix(db, K("k"), 0, &it, &err));
    STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
    STATUS(CAIRN_OK, cairn_batch_put(batch, K("x"), K("y"), 0, &err));
    STATUS(CAIRN_CLOSED, cairn_write(db, batch, &err));
    RC(CAIRN_OK, cairn_batch_free(batch));

    /* A handle value is never reused: the closed one stays closed. */
    again = open_fresh("close", NULL);
    CHECK_MSG(again != db, "a new handle has the value of a closed one");
    STATUS(CAIRN_CLOSED, cairn_get(db, K("k"), &value, &len, &err));
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(again, K("k"), &value, &len, &err));
    CHECK(bytes_are(value, len, "v"));
    cairn_free(value);
    STATUS(CAIRN_OK, cairn_close(again, &err));
}

static void test_locking(void)
{
    char path[PATH_MAX];
    cairn_db *db, *second = (cairn_db *)(void *)&not_a_handle;
    uint8_t *value = NULL;
    size_t len = 0;
    int code;
    test_name = "locking";
    db_dir(path, sizeof path, "lock");

    db = open_fresh("lock", NULL);
    /* A second opener, in this process or another, gets CAIRN_BUSY. */
    STATUS(CAIRN_BUSY, cairn_open(path, NULL, 0, &second, &err));
    CHECK_MSG(second == NULL, "a failed cairn_open left *out_db set");
    if (second != NULL && second != (cairn_db *)(void *)&not_a_handle)
        cairn_close(second, NULL);
    code = run_child("--child-open", path);
    CHECK_MSG(code == CAIRN_BUSY, "another process opened a locked database: exit %d, want %d",
              code, CAIRN_BUSY);
    STATUS(CAIRN_OK, cairn_close(db, &err));
    code = run_child("--child-open", path);
    CHECK_MSG(code == CAIRN_OK, "another process could not open a closed database: exit %d",
              code);

    /* A process killed while holding the database leaves no stale lock, and
       its acknowledged write survives. */
    code = run_child("--child-put-and-die", path);
    CHECK_MSG(code == 128 + SIGKILL, "the child did not write and die: exit %d", code);
    db = NULL;
    STATUS(CAIRN_OK, cairn_open(path, NULL, 0, &db, &err));
    STATUS(CAIRN_OK, cairn_get(db, K("crash:key"), &value, &len, &err));
    CHECK(bytes_are(value, len, "acknowledged before the crash"));
    cairn_free(value);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Key-value arguments and results                                           */
/* ------------------------------------------------------------------------ */

static void test_kv_arguments(void)
{
    cairn_db *db = open_fresh("kv-args", NULL);
    uint8_t *value = (uint8_t *)&not_a_handle, *list = NULL;
    size_t len = 99, count = 99;
    char *json = NULL;
    static const uint8_t one_key[] = {1, 0, 0, 0, 'k'};
    static const uint8_t short_header[] = {1, 0, 0};
    static const uint8_t overrun[] = {10, 0, 0, 0, 'a', 'b'};
    static const uint8_t absent_in_request[] = {0xff, 0xff, 0xff, 0xff};
    test_name = "kv_arguments";

    /* NULL handles and NULL data with a length. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(NULL, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(db, NULL, 1, K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(db, K("k"), NULL, 3, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(db, NULL, 0, K("v"), 0, &err));
    RC(CAIRN_INVALID_ARGUMENT, cairn_put(db, K("k"), K("v"), -1, NULL));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get(NULL, K("k"), &value, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get(db, NULL, 1, &value, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get(db, K("k"), NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get(db, K("k"), &value, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete(NULL, K("k"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete(db, NULL, 1, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_range(NULL, K("a"), K("b"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_range(db, NULL, 1, K("b"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_range(db, K("a"), NULL, 1, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_many(NULL, one_key, sizeof one_key, &list, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_many(db, NULL, 5, &list, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_many(db, one_key, sizeof one_key, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_many(db, one_key, sizeof one_key, &list, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_keys(NULL, NULL, 0, &list, &len, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_keys(db, NULL, 3, &list, &len, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_keys(db, NULL, 0, NULL, &len, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_keys(db, NULL, 0, &list, NULL, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_stats(NULL, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_stats(db, NULL, &len, &err));

    /* Malformed packed lists. */
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_get_many(db, short_header, sizeof short_header, &list, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_many(db, overrun, sizeof overrun, &list, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_get_many(db, absent_in_request, sizeof absent_in_request, &list, &len, &err));

    /* An absent key: NOT_FOUND and *value set to NULL. */
    ANSWER(CAIRN_NOT_FOUND, cairn_get(db, K("absent"), &value, &len, &err));
    CHECK_MSG(value == NULL, "cairn_get of an absent key left *value set");
    RC(CAIRN_NOT_FOUND, cairn_get(db, K("absent"), &value, &len, NULL));

    /* An empty value may come with a NULL pointer; NULL is fine with length 0. */
    STATUS(CAIRN_OK, cairn_put(db, K("empty"), NULL, 0, 0, &err));
    value = (uint8_t *)&not_a_handle;
    len = 99;
    STATUS(CAIRN_OK, cairn_get(db, K("empty"), &value, &len, &err));
    CHECK_MSG(value == NULL && len == 0, "cairn_get of an empty value: %p, %zu (want NULL, 0)",
              (void *)value, len);
    if (value != (uint8_t *)&not_a_handle)
        cairn_free(value);

    /* A returned value is a malloc()ed copy, ours to keep and free. */
    RC(CAIRN_OK, cairn_put(db, K("k"), K("value\0with NUL"), 0, NULL));
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(db, K("k"), &value, &len, &err));
    CHECK(len == sizeof("value\0with NUL") - 1 && value != NULL &&
          memcmp(value, "value\0with NUL", len) == 0);
    STATUS(CAIRN_OK, cairn_put(db, K("k"), K("overwritten"), 0, &err));
    CHECK(value != NULL && memcmp(value, "value\0with NUL", len) == 0);
    cairn_free(value);

    /* get_many: one item per key, CAIRN_ABSENT for an absent one. */
    {
        static const uint8_t two[] = {1, 0, 0, 0, 'k', 2, 0, 0, 0, 'n', 'o'};
        static const uint8_t want[] = {11, 0, 0, 0, 'o', 'v', 'e', 'r', 'w', 'r', 'i', 't', 't',
                                       'e', 'n', 0xff, 0xff, 0xff, 0xff};
        list = NULL;
        STATUS(CAIRN_OK, cairn_get_many(db, two, sizeof two, &list, &len, &err));
        CHECK(len == sizeof want && list != NULL && memcmp(list, want, len) == 0);
        cairn_free(list);
    }

    /* keys: count may be NULL; no match gives NULL and 0; options are pointer + length. */
    list = (uint8_t *)&not_a_handle;
    len = count = 99;
    STATUS(CAIRN_OK, cairn_keys(db, "{\"prefix\":\"zzz\"}", 16, &list, &len, &count, &err));
    CHECK_MSG(list == NULL && len == 0 && count == 0,
              "cairn_keys with no match: %p, %zu bytes, count %zu (want NULL, 0, 0)",
              (void *)list, len, count);
    if (list != (uint8_t *)&not_a_handle)
        cairn_free(list);
    list = NULL;
    STATUS(CAIRN_OK, cairn_keys(db, "{\"prefix\":\"em\"}garbage", 15, &list, &len, NULL, &err));
    CHECK(len == 4 + 5 && list != NULL && memcmp(list, "\5\0\0\0empty", 9) == 0);
    cairn_free(list);

    /* stats: NUL-terminated JSON object; json_len may be NULL. */
    STATUS(CAIRN_OK, cairn_stats(db, &json, &len, &err));
    CHECK(json != NULL && strlen(json) == len && json[0] == '{' && json[len - 1] == '}');
    cairn_free(json);
    json = NULL;
    RC(CAIRN_OK, cairn_stats(db, &json, NULL, NULL));
    CHECK(json != NULL && json[0] == '{');
    cairn_free(json);

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

static void test_limits(void)
{
    cairn_db *db = open_fresh("limits", "{\"sync\":\"never\"}");
    uint8_t *key = malloc(CAIRN_MAX_KEY_SIZE + 1), *value = NULL;
    size_t len = 0, value_size = (size_t)CAIRN_MAX_VALUE_SIZE + 1;
    cairn_batch *batch = NULL;
    cairn_iter *it = NULL;
    const uint8_t *k = NULL, *v = NULL;
    size_t k_len = 0, v_len = 0, count = 0;
    void *huge;
    int zero_fd;
    test_name = "limits";
    if (key == NULL) {
        CHECK(key != NULL);
        return;
    }
    memset(key, 'k', CAIRN_MAX_KEY_SIZE + 1);

    /* One byte over the key limit fails everywhere and writes nothing. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(db, key, CAIRN_MAX_KEY_SIZE + 1, K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get(db, key, CAIRN_MAX_KEY_SIZE + 1, &value, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete(db, key, CAIRN_MAX_KEY_SIZE + 1, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_delete_range(db, K("a"), key, CAIRN_MAX_KEY_SIZE + 1, &err));
    STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_batch_put(batch, key, CAIRN_MAX_KEY_SIZE + 1, K("v"), 0, &err));
    RC(CAIRN_OK, cairn_batch_count(batch, &count));
    CHECK_MSG(count == 0, "a rejected batch_put was added: count %zu", count);
    RC(CAIRN_OK, cairn_batch_free(batch));
    ANSWER(CAIRN_NOT_FOUND, cairn_get(db, key, CAIRN_MAX_KEY_SIZE, &value, &len, &err));

    /* A key of exactly CAIRN_MAX_KEY_SIZE bytes works. */
    STATUS(CAIRN_OK, cairn_put(db, key, CAIRN_MAX_KEY_SIZE, K("max"), 0, &err));
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(db, key, CAIRN_MAX_KEY_SIZE, &value, &len, &err));
    CHECK(bytes_are(value, len, "max"));
    cairn_free(value);
    STATUS(CAIRN_OK, cairn_iter_open_prefix(db, key, 10, 0, &it, &err));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK(k_len == CAIRN_MAX_KEY_SIZE && k != NULL && memcmp(k, key, k_len) == 0);
    RC(CAIRN_OK, cairn_iter_close(it));
    STATUS(CAIRN_OK, cairn_delete(db, key, CAIRN_MAX_KEY_SIZE, &err));
    ANSWER(CAIRN_NOT_FOUND, cairn_get(db, key, CAIRN_MAX_KEY_SIZE, &value, &len, &err));

    /* One byte over the value limit. The pages are never touched, so this
       costs no memory unless the library reads the value before checking. */
    zero_fd = open("/dev/zero", O_RDONLY);
    huge = zero_fd < 0 ? MAP_FAILED : mmap(NULL, value_size, PROT_READ, MAP_PRIVATE, zero_fd, 0);
    if (zero_fd >= 0)
        close(zero_fd);
    CHECK_MSG(huge != MAP_FAILED, "cannot map %zu bytes of /dev/zero", value_size);
    if (huge != MAP_FAILED) {
        STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(db, K("huge"), huge, value_size, 0, &err));
        ANSWER(CAIRN_NOT_FOUND, cairn_get(db, K("huge"), &value, &len, &err));
        STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
        STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_put(batch, K("huge"), huge, value_size, 0, &err));
        RC(CAIRN_OK, cairn_batch_free(batch));

        /* Four values of the largest size are more than CAIRN_MAX_BATCH_SIZE:
           a batch refuses the fourth and stays as it was ... */
        STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
        STATUS(CAIRN_OK, cairn_batch_put(batch, K("big1"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
        STATUS(CAIRN_OK, cairn_batch_put(batch, K("big2"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
        STATUS(CAIRN_OK, cairn_batch_put(batch, K("big3"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
        STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_put(batch, K("big4"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
        RC(CAIRN_OK, cairn_batch_count(batch, &count));
        CHECK_MSG(count == 3, "a refused batch_put was added: count %zu", count);
        RC(CAIRN_OK, cairn_batch_free(batch));
        /* ... and a transaction holding them fails at commit, writing nothing. */
        {
            cairn_db *txn = NULL;
            STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
            STATUS(CAIRN_OK, cairn_put(txn, K("big1"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
            STATUS(CAIRN_OK, cairn_put(txn, K("big2"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
            STATUS(CAIRN_OK, cairn_put(txn, K("big3"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
            STATUS(CAIRN_OK, cairn_put(txn, K("big4"), huge, CAIRN_MAX_VALUE_SIZE, 0, &err));
            STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_commit(txn, &err)); /* frees txn */
        }
        ANSWER(CAIRN_NOT_FOUND, cairn_get(db, K("big1"), &value, &len, &err));
        STATUS(CAIRN_OK, cairn_put(db, K("after"), K("ok"), 0, &err));
        munmap(huge, value_size);
    }
    free(key);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */
/* ------------------------------------------------------------------------ */

static void test_batches(void)
{
    cairn_db *db = open_fresh("batches", NULL);
    cairn_batch *batch = NULL, *freed = NULL;
    size_t count = 99;
    uint8_t *value = NULL;
    size_t len = 0;
    test_name = "batches";

    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_new(NULL, &err));
    RC(CAIRN_OK, cairn_batch_free(NULL));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_put(NULL, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_delete(NULL, K("k"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_delete_range(NULL, K("a"), K("b"), &err));
    RC(CAIRN_INVALID_ARGUMENT, cairn_batch_clear(NULL));
    RC(CAIRN_INVALID_ARGUMENT, cairn_batch_count(NULL, &count));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_write(NULL, batch, &err));

    STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
    CHECK(batch != NULL);
    RC(CAIRN_INVALID_ARGUMENT, cairn_batch_count(batch, NULL));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_write(db, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_put(batch, NULL, 1, K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_batch_put(batch, K("k"), K("v"), -1, &err));
    STATUS(CAIRN_OK, cairn_batch_put(batch, K("b:1"), K("one"), 0, &err));
    RC(CAIRN_OK, cairn_batch_put(batch, K("b:2"), K("two"), 0, NULL));
    STATUS(CAIRN_OK, cairn_batch_delete(batch, K("b:1"), &err));
    STATUS(CAIRN_OK, cairn_batch_delete_range(batch, K("x"), K("y"), &err));
    RC(CAIRN_OK, cairn_batch_count(batch, &count));
    CHECK_MSG(count == 4, "batch count is %zu, want 4", count);

    /* write leaves the batch unchanged: it can be written again. */
    STATUS(CAIRN_OK, cairn_write(db, batch, &err));
    RC(CAIRN_OK, cairn_batch_count(batch, &count));
    CHECK_MSG(count == 4, "batch count after write is %zu, want 4", count);
    RC(CAIRN_OK, cairn_write(db, batch, NULL));
    ANSWER(CAIRN_NOT_FOUND, cairn_get(db, K("b:1"), &value, &len, &err));
    STATUS(CAIRN_OK, cairn_get(db, K("b:2"), &value, &len, &err));
    CHECK(bytes_are(value, len, "two"));
    cairn_free(value);

    RC(CAIRN_OK, cairn_batch_clear(batch));
    RC(CAIRN_OK, cairn_batch_count(batch, &count));
    CHECK(count == 0);
    STATUS(CAIRN_OK, cairn_write(db, batch, &err)); /* empty: a no-op */

    freed = batch;
    RC(CAIRN_OK, cairn_batch_free(batch));
    RC(CAIRN_OK, cairn_batch_free(batch)); /* idempotent */
    STATUS(CAIRN_CLOSED, cairn_batch_put(freed, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_CLOSED, cairn_batch_delete(freed, K("k"), &err));
    STATUS(CAIRN_CLOSED, cairn_batch_delete_range(freed, K("a"), K("b"), &err));
    RC(CAIRN_CLOSED, cairn_batch_clear(freed));
    RC(CAIRN_CLOSED, cairn_batch_count(freed, &count));
    STATUS(CAIRN_CLOSED, cairn_write(db, freed, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Iterators                                                                 */
/* ------------------------------------------------------------------------ */

struct next_args {
    cairn_iter *it;
    int rc;
    char key[16];
};

static void *next_on_other_thread(void *p)
{
    struct next_args *a = p;
    const uint8_t *k = NULL;
    size_t k_len = 0;
    a->rc = cairn_iter_next(a->it, &k, &k_len, NULL, NULL, NULL);
    if (a->rc == CAIRN_OK && k_len < sizeof a->key) {
        memcpy(a->key, k, k_len);
        a->key[k_len] = '\0';
    }
    return NULL;
}

static void test_iterators(void)
{
    cairn_db *db = open_fresh("iterators", NULL), *db2;
    cairn_iter *it = NULL, *closed_it = NULL, *orphan = NULL;
    const uint8_t *k = NULL, *v = NULL;
    size_t k_len = 0, v_len = 0;
    char key_copy[16];
    pthread_t thread;
    struct next_args args;
    test_name = "iterators";

    STATUS(CAIRN_OK, cairn_put(db, K("it:a"), K("1"), 0, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("it:b"), NULL, 0, 0, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("it:c"), K("3"), 0, &err));

    /* Arguments. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open(NULL, NULL, 0, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open(db, NULL, 0, NULL, 0, 0, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open(db, NULL, 2, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open(db, NULL, 0, NULL, 0, 2, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open_prefix(NULL, K("it:"), 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open_prefix(db, NULL, 3, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open_prefix(db, K("it:"), 0, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open_prefix(db, K("it:"), ~1, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_seek(NULL, K("a"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next(NULL, &k, &k_len, &v, &v_len, &err));
    RC(CAIRN_OK, cairn_iter_close(NULL));

    /* Items are borrowed views; an iterator sees the snapshot it was opened on. */
    it = NULL;
    STATUS(CAIRN_OK, cairn_iter_open_prefix(db, K("it:"), 0, &it, &err));
    CHECK(it != NULL);
    STATUS(CAIRN_OK, cairn_put(db, K("it:0"), K("after open"), 0, &err));
    STATUS(CAIRN_OK, cairn_delete(db, K("it:c"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next(it, NULL, &k_len, &v, &v_len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next(it, &k, NULL, &v, &v_len, &err));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK_MSG(bytes_are(k, k_len, "it:a") && bytes_are(v, v_len, "1"),
              "first item is not it:a = 1 (a write after open was seen?)");
    memset(key_copy, 0, sizeof key_copy);
    if (k != NULL)
        memcpy(key_copy, k, k_len < sizeof key_copy ? k_len : sizeof key_copy);
    v = (const uint8_t *)&not_a_handle;
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK_MSG(bytes_are(k, k_len, "it:b") && v_len == 0,
              "second item is not it:b with an empty value");
    CHECK(memcmp(key_copy, "it:a", 4) == 0);
    /* value and value_len may be NULL when only keys are wanted. */
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, NULL, NULL, &err));
    CHECK_MSG(bytes_are(k, k_len, "it:c"), "a key deleted after open was not seen");
    ANSWER(CAIRN_DONE, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    RC(CAIRN_DONE, cairn_iter_next(it, &k, &k_len, &v, &v_len, NULL));

    /* seek, then reverse. */
    STATUS(CAIRN_OK, cairn_iter_seek(it, K("it:b"), &err));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK(bytes_are(k, k_len, "it:b"));
    RC(CAIRN_OK, cairn_iter_close(it));
    STATUS(CAIRN_OK, cairn_iter_open(db, K("it:0"), K("it:c"), CAIRN_ITER_REVERSE, &it, &err));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK(bytes_are(k, k_len, "it:b"));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK(bytes_are(k, k_len, "it:a"));
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));
    CHECK(bytes_are(k, k_len, "it:0") && bytes_are(v, v_len, "after open"));
    ANSWER(CAIRN_DONE, cairn_iter_next(it, &k, &k_len, &v, &v_len, &err));

    /* Calls on a closed iterator return CAIRN_CLOSED; close is idempotent. */
    closed_it = it;
    RC(CAIRN_OK, cairn_iter_close(it));
    RC(CAIRN_OK, cairn_iter_close(it));
    STATUS(CAIRN_CLOSED, cairn_iter_next(closed_it, &k, &k_len, &v, &v_len, &err));
    STATUS(CAIRN_CLOSED, cairn_iter_seek(closed_it, K("a"), &err));

    /* An iterator is not tied to the thread that opened it. */
    args.it = NULL;
    args.rc = -1;
    args.key[0] = '\0';
    STATUS(CAIRN_OK, cairn_iter_open_prefix(db, K("it:"), 0, &args.it, &err));
    if (pthread_create(&thread, NULL, next_on_other_thread, &args) == 0) {
        pthread_join(thread, NULL);
        CHECK_MSG(args.rc == CAIRN_OK && strcmp(args.key, "it:0") == 0,
                  "cairn_iter_next on another thread: %s, key \"%s\"",
                  cairn_status_name(args.rc), args.key);
    }
    RC(CAIRN_OK, cairn_iter_close(args.it));

    /* An iterator whose database was closed returns CAIRN_CLOSED. */
    db2 = open_fresh("iterators-orphan", NULL);
    STATUS(CAIRN_OK, cairn_put(db2, K("a"), K("1"), 0, &err));
    STATUS(CAIRN_OK, cairn_put(db2, K("b"), K("2"), 0, &err));
    STATUS(CAIRN_OK, cairn_iter_open(db2, NULL, 0, NULL, 0, 0, &orphan, &err));
    STATUS(CAIRN_OK, cairn_iter_next(orphan, &k, &k_len, &v, &v_len, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));
    STATUS(CAIRN_CLOSED, cairn_iter_next(orphan, &k, &k_len, &v, &v_len, &err));
    STATUS(CAIRN_CLOSED, cairn_iter_seek(orphan, K("a"), &err));
    RC(CAIRN_OK, cairn_iter_close(orphan));
    STATUS(CAIRN_CLOSED, cairn_iter_next(orphan, &k, &k_len, &v, &v_len, &err));

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */
/* ------------------------------------------------------------------------ */

/* A string literal as the (pointer, length) pair of text the document functions take. */
#define T(s) (s), (sizeof(s) - 1)

/* Inserts `doc` into `collection`, expecting CAIRN_CONSTRAINT with a message naming `id`. */
static void check_duplicate_named(int line, cairn_db *db, const char *collection, const char *doc,
                                  int many, const char *id)
{
    char *err = ERR_UNSET;
    int rc = many ? cairn_insert_many(db, collection, strlen(collection), doc, strlen(doc), NULL,
                                      NULL, &err)
                  : cairn_insert_one(db, collection, strlen(collection), doc, strlen(doc), NULL,
                                     NULL, &err);
    int have_msg = err != ERR_UNSET && err != NULL;
    check_at(rc == CAIRN_CONSTRAINT, line, "%s of %s: got %s (%s), want CAIRN_CONSTRAINT",
             many ? "cairn_insert_many" : "cairn_insert_one", doc, cairn_status_name(rc),
             have_msg ? err : "no errmsg");
    check_at(have_msg && strstr(err, id) != NULL, line,
             "the CAIRN_CONSTRAINT message does not name the duplicate _id %s: \"%s\"", id,
             have_msg ? err : "(none)");
    if (err != ERR_UNSET)
        cairn_free(err);
}

struct cursor_args {
    cairn_cursor *cursor;
    int rc;
    char doc[64];
};

static void *cursor_next_on_other_thread(void *p)
{
    struct cursor_args *a = p;
    const char *doc = NULL;
    size_t len = 0;
    a->rc = cairn_cursor_next(a->cursor, &doc, &len, NULL);
    if (a->rc == CAIRN_OK && doc != NULL && len < sizeof a->doc) {
        memcpy(a->doc, doc, len);
        a->doc[len] = '\0';
    }
    return NULL;
}

static void test_document_arguments(void)
{
    cairn_db *db = open_fresh("doc-args", NULL);
    cairn_cursor *cursor = (cairn_cursor *)(void *)&not_a_handle;
    char *json = NULL, *id = NULL;
    const char *doc = NULL;
    size_t len = 0;
    uint64_t n = 99;
    test_name = "document_arguments";

    /* A NULL database. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(NULL, T("c"), NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_drop(NULL, T("c"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_list(NULL, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(NULL, T("c"), T("{}"), &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_many(NULL, T("c"), T("[{}]"), &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find(NULL, T("c"), NULL, 0, NULL, 0, &cursor, &err));
    CHECK_MSG(cursor == NULL || cursor == (cairn_cursor *)(void *)&not_a_handle,
              "a failed cairn_find set *out_cursor to a handle");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count(NULL, T("c"), NULL, 0, &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_update_one(NULL, T("c"), T("{}"), T("{\"$set\":{\"a\":1}}"), NULL, 0, &json,
                            &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_update_many(NULL, T("c"), T("{}"), T("{\"$set\":{\"a\":1}}"), NULL, 0, &json,
                             &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_replace_one(NULL, T("c"), T("{}"), T("{\"a\":1}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_one(NULL, T("c"), T("{}"), &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_many(NULL, T("c"), T("{}"), &n, &err));

    /* A NULL collection name: with a length it is a NULL pointer, without one an empty name. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(db, NULL, 1, NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(db, NULL, 0, NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_drop(db, NULL, 1, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(db, NULL, 1, T("{}"), &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(db, NULL, 0, T("{}"), &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_many(db, NULL, 1, T("[{}]"), &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find(db, NULL, 1, NULL, 0, NULL, 0, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count(db, NULL, 1, NULL, 0, &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_update_one(db, NULL, 1, T("{}"), T("{\"$set\":{\"a\":1}}"), NULL, 0, &json,
                            &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_update_many(db, NULL, 1, T("{}"), T("{\"$set\":{\"a\":1}}"), NULL, 0, &json,
                             &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_replace_one(db, NULL, 1, T("{}"), T("{\"a\":1}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_one(db, NULL, 1, T("{}"), &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_many(db, NULL, 1, T("{}"), &n, &err));

    /* NULL JSON text with a length. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(db, T("c"), NULL, 2, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(db, T("c"), NULL, 2, &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_many(db, T("c"), NULL, 4, &id, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find(db, T("c"), NULL, 2, NULL, 0, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find(db, T("c"), NULL, 0, NULL, 2, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count(db, T("c"), NULL, 2, &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_update_one(db, T("c"), T("{}"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_many(db, T("c"), NULL, 2, &n, &err));

    /* NULL out pointers that are required. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_list(db, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find(db, T("c"), NULL, 0, NULL, 0, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count(db, T("c"), NULL, 0, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_cursor_next(NULL, &doc, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(NULL));

    /* Nothing was written by any of the calls above. */
    json = NULL;
    STATUS(CAIRN_OK, cairn_collection_list(db, &json, &len, &err));
    CHECK_MSG(json != NULL && json[0] == '[' && strchr(json, '"') == NULL,
              "collections after failed calls: %s", json != NULL ? json : "(null)");
    cairn_free(json);

    /* Optional out pointers may be NULL. */
    STATUS(CAIRN_OK, cairn_insert_one(db, T("c"), T("{\"_id\":1}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":2},{\"_id\":3}]"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_update_one(db, T("c"), T("{\"_id\":1}"), T("{\"$set\":{\"a\":1}}"),
                                      NULL, 0, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_update_many(db, T("c"), T("{}"), T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                       NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_replace_one(db, T("c"), T("{\"_id\":2}"), T("{\"r\":1}"), NULL, 0,
                                       NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_delete_one(db, T("c"), T("{\"_id\":3}"), NULL, &err));
    json = NULL;
    STATUS(CAIRN_OK, cairn_collection_list(db, &json, NULL, &err));
    CHECK_MSG(json != NULL && json[0] == '[' && strstr(json, "\"c\"") != NULL &&
                  strchr(strstr(json, "\"c\"") + 3, '"') == NULL,
              "collections: %s, want [\"c\"]", json != NULL ? json : "(null)");
    cairn_free(json);

    /* An empty filter (NULL, 0) matches every document; text is pointer plus length. */
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 2, "count with a NULL filter: %llu, want 2", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_insert_one(db, "cX", 1, "{\"_id\":4}junk", 9, NULL, NULL, &err));
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, "cXYZ", 1, "{\"_id\":4}garbage", 9, &n, &err));
    CHECK_MSG(n == 1, "count of the document inserted with trailing junk: %llu, want 1",
              (unsigned long long)n);
    n = 99;
    STATUS(CAIRN_OK, cairn_delete_many(db, T("c"), "{}{", 2, &n, &err));
    CHECK_MSG(n == 3, "delete_many with the filter {}: deleted %llu, want 3", (unsigned long long)n);

    /* A generated _id: a 24-hex-digit string; later ones sort after earlier ones. */
    {
        char *first = NULL, *second = NULL;
        size_t first_len = 0, second_len = 0, i;
        int hex = 1;
        STATUS(CAIRN_OK, cairn_insert_one(db, T("gen"), T("{\"a\":1}"), &first, &first_len, &err));
        STATUS(CAIRN_OK, cairn_insert_one(db, T("gen"), T("{\"a\":2}"), &second, &second_len, &err));
        CHECK_MSG(first != NULL && first_len == 26 && first[0] == '"' && first[25] == '"',
                  "a generated _id is %.*s, not a quoted 24-hex-digit string",
                  first != NULL ? (int)first_len : 6, first != NULL ? first : "(null)");
        for (i = 1; first != NULL && first_len == 26 && i < 25; i++)
            hex = hex && strchr("0123456789abcdefABCDEF", first[i]) != NULL && first[i] != '\0';
        CHECK_MSG(hex, "a generated _id has a digit that is not hex: %.*s",
                  first != NULL ? (int)first_len : 6, first != NULL ? first : "(null)");
        CHECK_MSG(first != NULL && second != NULL && second_len == first_len &&
                      memcmp(first, second, first_len) < 0,
                  "generated _ids do not sort by creation: %.*s then %.*s",
                  first != NULL ? (int)first_len : 6, first != NULL ? first : "(null)",
                  second != NULL ? (int)second_len : 6, second != NULL ? second : "(null)");
        cairn_free(first);
        cairn_free(second);
    }

    /* Errors that name what is wrong: the duplicate _id of CAIRN_CONSTRAINT. */
    STATUS(CAIRN_OK, cairn_insert_one(db, T("dup"), T("{\"_id\":\"dup-42\"}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("dup"), T("{\"_id\":987654}"), NULL, NULL, &err));
    check_duplicate_named(__LINE__, db, "dup", "{\"_id\":\"dup-42\",\"x\":1}", 0, "dup-42");
    check_duplicate_named(__LINE__, db, "dup", "{\"_id\":987654}", 0, "987654");
    check_duplicate_named(__LINE__, db, "dup", "[{\"_id\":\"fresh\"},{\"_id\":\"dup-42\"}]", 1,
                          "dup-42");
    check_duplicate_named(__LINE__, db, "dup", "[{\"_id\":\"twice\"},{\"_id\":\"twice\"}]", 1,
                          "twice");
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("dup"), NULL, 0, &n, &err));
    CHECK_MSG(n == 2, "a failed insert_many wrote documents: %llu in the collection, want 2",
              (unsigned long long)n);
    /* A failed call leaves *id_json alone or NULL, never a buffer to leak. */
    id = NULL;
    STATUS(CAIRN_CONSTRAINT, cairn_insert_one(db, T("dup"), T("{\"_id\":987654}"), &id, &len, &err));
    CHECK_MSG(id == NULL, "a failed cairn_insert_one returned an _id: %s", id);
    cairn_free(id);

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* A value no library writes into *result_json: shows whether the call set it. */
static char unset_result;

/*
** Calls cairn_insert_many_with_options(db, collection, documents, options)
** (options NULL: none) and checks its status, the errmsg convention and the
** result's promises: *result_json is set whatever the status, to NULL or to
** NUL-terminated JSON text of the stated length, {"inserted_ids": [...],
** "errors": [...]}, whose first error has the status returned (no error
** with CAIRN_OK), with the message that *errmsg received. Returns the
** result text (NULL or freed with cairn_free()).
*/
static char *insert_many_at(int line, int want, cairn_db *db, const char *collection,
                            size_t collection_len, const char *documents, const char *options)
{
    char *err = ERR_UNSET, *result = &unset_result, message[256] = "";
    size_t len = 12345;
    int rc = cairn_insert_many_with_options(db, collection, collection_len, documents,
                                            documents != NULL ? strlen(documents) : 0, options,
                                            options != NULL ? strlen(options) : 0, &result,
                                            &len, &err);
    if (err != ERR_UNSET && err != NULL)
        snprintf(message, sizeof message, "%s", err);
    check_status_at(line, "cairn_insert_many_with_options", rc, want, err, 1, 0);
    if (result == &unset_result) {
        check_at(0, line, "cairn_insert_many_with_options returned %s without setting *result_json",
                 cairn_status_name(rc));
        return NULL;
    }
    if (result == NULL) {
        check_at(rc != CAIRN_OK, line, "cairn_insert_many_with_options returned CAIRN_OK and a "
                                       "NULL *result_json");
        return NULL;
    }
    check_at(len == strlen(result) && strncmp(result, "{\"inserted_ids\":[", 17) == 0 &&
                 strstr(result, "],\"errors\":[") != NULL && result[len - 1] == '}',
             line, "cairn_insert_many_with_options returned %s (length %zu), not "
                   "{\"inserted_ids\":[...],\"errors\":[...]}", result, len);
    if (rc == CAIRN_OK) {
        check_at(strstr(result, "\"errors\":[]}") != NULL, line,
                 "cairn_insert_many_with_options returned CAIRN_OK with errors: %s", result);
    } else {
        const char *first = strstr(result, "\"errors\":[{");
        const char *status = first != NULL ? strstr(first, "\"status\":\"") : NULL;
        const char *name = cairn_status_name(rc);
        check_at(status != NULL && strncmp(status + 10, name, strlen(name)) == 0 &&
                     status[10 + strlen(name)] == '"',
                 line, "cairn_insert_many_with_options returned %s, but the first error of %s "
                       "is not that", name, result);
        /* Messages with nothing to escape appear verbatim in the JSON. */
        if (message[0] != '\0' && strpbrk(message, "\"\\") == NULL)
            check_at(strstr(result, message) != NULL, line,
                     "*errmsg \"%s\" is not the first error's message in %s", message, result);
    }
    return result;
}
#define INSERT_MANY(want, db, documents, options) \
    insert_many_at(__LINE__, (want), (db), T("c"), (documents), (options))

/* Checks that the result of INSERT_MANY holds `text` (and frees it). */
static void result_holds_at(int line, char *result, const char *text)
{
    check_at(result != NULL && strstr(result, text) != NULL, line,
             "cairn_insert_many_with_options returned %s, which does not hold %s",
             result != NULL ? result : "(null)", text);
    cairn_free(result);
}
#define RESULT_HOLDS(result, text) result_holds_at(__LINE__, (result), (text))

static void test_insert_many_with_options(void)
{
    cairn_db *db = open_fresh("insert-many-options", NULL), *txn = NULL, *ended;
    char *result;
    uint64_t n = 99;
    test_name = "insert_many_with_options";

    /* Arguments: no database, no collection name, NULL text with a length. */
    cairn_free(insert_many_at(__LINE__, CAIRN_INVALID_ARGUMENT, NULL, T("c"), "[{}]", NULL));
    cairn_free(insert_many_at(__LINE__, CAIRN_INVALID_ARGUMENT, db, NULL, 1, "[{}]", NULL));
    cairn_free(insert_many_at(__LINE__, CAIRN_INVALID_ARGUMENT, db, NULL, 0, "[{}]", NULL));
    cairn_free(insert_many_at(__LINE__, CAIRN_INVALID_ARGUMENT, db, T("$c"), "[{}]", NULL));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_insert_many_with_options(db, T("c"), NULL, 4, NULL, 0, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_insert_many_with_options(db, T("c"), T("[{}]"), NULL, 2, NULL, NULL, &err));

    /* Malformed options and documents that are not an array. */
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}]", "{"));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}]", "[]"));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}]", "{\"ordered\":1}"));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}]", "{\"atomic\":null}"));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}]", "{\"unordered\":true}"));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "{\"_id\":1}", NULL));
    cairn_free(INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[{\"_id\":1}", NULL));
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 0, "refused calls inserted %llu documents", (unsigned long long)n);

    /* Options may be empty; the out pointers are optional. */
    RESULT_HOLDS(INSERT_MANY(CAIRN_OK, db, "[]", NULL), "{\"inserted_ids\":[],\"errors\":[]}");
    RESULT_HOLDS(INSERT_MANY(CAIRN_OK, db, "[{\"_id\":1},{\"_id\":2}]", NULL),
                 "{\"inserted_ids\":[1,2],\"errors\":[]}");
    STATUS(CAIRN_OK, cairn_insert_many_with_options(db, T("c"), T("[{\"_id\":3}]"), NULL, 0, NULL,
                                                    NULL, &err));
    RC(CAIRN_CONSTRAINT, cairn_insert_many_with_options(db, T("c"), T("[{\"_id\":3}]"), NULL, 0,
                                                        NULL, NULL, NULL));

    /* A failing document: the status and message of the first error. */
    result = INSERT_MANY(CAIRN_CONSTRAINT, db, "[{\"_id\":4},{\"_id\":1},{\"_id\":5}]", "{}");
    RESULT_HOLDS(result, "\"inserted_ids\":[4],\"errors\":[{\"index\":1,");
    result = INSERT_MANY(CAIRN_INVALID_ARGUMENT, db, "[7,{\"_id\":6},{\"_id\":2}]",
                         "{\"ordered\":false}");
    RESULT_HOLDS(result, "\"inserted_ids\":[6],\"errors\":[{\"index\":0,");
    result = INSERT_MANY(CAIRN_CONSTRAINT, db, "[{\"_id\":8},{\"_id\":2}]", "{\"atomic\":true}");
    RESULT_HOLDS(result, "\"inserted_ids\":[],\"errors\":[{\"index\":1,");
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 5, "documents after the failed calls: %llu, want 5 (_id 1 to 6 but 5)",
              (unsigned long long)n);

    /* A transaction handle is accepted; the documents are its writes until it commits. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    result = insert_many_at(__LINE__, CAIRN_CONSTRAINT, txn, T("c"),
                            "[{\"_id\":10},{\"_id\":1},{\"_id\":11}]", "{\"ordered\":false}");
    RESULT_HOLDS(result, "\"inserted_ids\":[10,11],\"errors\":[{\"index\":1,");
    n = 99;
    STATUS(CAIRN_OK, cairn_count(txn, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 7, "documents inside the transaction: %llu, want 7", (unsigned long long)n);
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 5, "documents outside the transaction: %llu, want 5", (unsigned long long)n);
    ended = txn;
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    n = 99;
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 7, "documents after the commit: %llu, want 7", (unsigned long long)n);
    cairn_free(insert_many_at(__LINE__, CAIRN_CLOSED, ended, T("c"), "[{\"_id\":12}]", NULL));
    /* A read-only transaction refuses, as cairn_insert_one does. */
    txn = NULL;
    STATUS(CAIRN_OK, cairn_txn_begin(db, CAIRN_TXN_READ_ONLY, &txn, &err));
    cairn_free(insert_many_at(__LINE__, CAIRN_INVALID_ARGUMENT, txn, T("c"), "[{\"_id\":12}]",
                              "{\"ordered\":false}"));
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));

    /* A closed database. */
    STATUS(CAIRN_OK, cairn_close(db, &err));
    cairn_free(INSERT_MANY(CAIRN_CLOSED, db, "[{\"_id\":12}]", NULL));
    cairn_free(INSERT_MANY(CAIRN_CLOSED, db, "[{\"_id\":12}]", "{\"ordered\":false}"));
}

static void test_cursors(void)
{
    cairn_db *db = open_fresh("cursors", NULL), *db2;
    cairn_cursor *cursor = NULL, *closed = NULL, *again = NULL, *orphan = NULL;
    cairn_iter *it = NULL;
    cairn_batch *batch = NULL;
    const char *doc = NULL;
    const uint8_t *key = NULL;
    char copy[64];
    size_t len = 0, count = 0;
    uint8_t *value = NULL;
    pthread_t thread;
    struct cursor_args args;
    int rc;
    test_name = "cursors";

    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":1,\"n\":\"one\"},{\"_id\":2,"
                                                     "\"n\":\"two\"},{\"_id\":3,\"n\":\"three\"}]"),
                                       NULL, NULL, &err));

    /* A missing collection gives an empty cursor. */
    STATUS(CAIRN_OK, cairn_find(db, T("nothing"), NULL, 0, NULL, 0, &cursor, &err));
    CHECK(cursor != NULL);
    ANSWER(CAIRN_DONE, cairn_cursor_next(cursor, &doc, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cursor));

    /* Documents are borrowed views, NUL-terminated; the cursor reads one snapshot. */
    cursor = NULL;
    STATUS(CAIRN_OK, cairn_find(db, T("c"), NULL, 0, NULL, 0, &cursor, &err));
    CHECK(cursor != NULL);
    STATUS(CAIRN_OK, cairn_insert_one(db, T("c"), T("{\"_id\":4,\"n\":\"after find\"}"), NULL,
                                      NULL, &err));
    STATUS(CAIRN_OK, cairn_delete_one(db, T("c"), T("{\"_id\":3}"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_cursor_next(cursor, NULL, &len, &err));
    doc = NULL;
    STATUS(CAIRN_OK, cairn_cursor_next(cursor, &doc, &len, &err));
    CHECK_MSG(doc != NULL && len > 0 && doc[len] == '\0' && strlen(doc) == len,
              "cairn_cursor_next: the document is not NUL-terminated at its length %zu", len);
    CHECK_MSG(doc != NULL && doc[0] == '{' && doc[len - 1] == '}' && strstr(doc, "\"one\"") != NULL,
              "first document: %s", doc != NULL ? doc : "(null)");
    memset(copy, 0, sizeof copy);
    if (doc != NULL && len < sizeof copy)
        memcpy(copy, doc, len);
    STATUS(CAIRN_OK, cairn_cursor_next(cursor, &doc, &len, &err));
    CHECK_MSG(doc != NULL && strlen(doc) == len && strstr(doc, "\"two\"") != NULL,
              "second document: %s", doc != NULL ? doc : "(null)");
    CHECK(strstr(copy, "\"one\"") != NULL);
    STATUS(CAIRN_OK, cairn_cursor_next(cursor, &doc, &len, &err));
    CHECK_MSG(doc != NULL && strstr(doc, "\"three\"") != NULL,
              "a document deleted after cairn_find was not seen: %s", doc != NULL ? doc : "(null)");
    ANSWER(CAIRN_DONE, cairn_cursor_next(cursor, &doc, &len, &err));
    RC(CAIRN_DONE, cairn_cursor_next(cursor, &doc, &len, NULL));

    /* A cursor where a database, an iterator or a batch belongs, and the
       other way round: CAIRN_INVALID_ARGUMENT, and nothing is closed. */
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_put((cairn_db *)(void *)cursor, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_get((cairn_db *)(void *)cursor, K("k"), &value, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find((cairn_db *)(void *)cursor, T("c"), NULL, 0, NULL, 0, &again, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_insert_one((cairn_db *)(void *)cursor, T("c"), T("{}"), NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_iter_next((cairn_iter *)(void *)cursor, &key, &len, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_seek((cairn_iter *)(void *)cursor, K("a"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_batch_put((cairn_batch *)(void *)cursor, K("k"), K("v"), 0, &err));
    RC(CAIRN_INVALID_ARGUMENT, cairn_batch_count((cairn_batch *)(void *)cursor, &count));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_write(db, (cairn_batch *)(void *)cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_cursor_next((cairn_cursor *)(void *)db, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_iter_open(db, NULL, 0, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_cursor_next((cairn_cursor *)(void *)it, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_cursor_next((cairn_cursor *)(void *)batch, &doc, &len, &err));
    /* Destructors of another handle type leave the handle open. */
    cairn_cursor_close((cairn_cursor *)(void *)db);
    cairn_cursor_close((cairn_cursor *)(void *)it);
    cairn_cursor_close((cairn_cursor *)(void *)batch);
    cairn_close((cairn_db *)(void *)cursor, NULL);
    cairn_iter_close((cairn_iter *)(void *)cursor);
    cairn_batch_free((cairn_batch *)(void *)cursor);
    ANSWER(CAIRN_DONE, cairn_cursor_next(cursor, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("still"), K("open"), 0, &err));
    rc = cairn_iter_next(it, &key, &len, NULL, NULL, NULL);
    CHECK_MSG(rc == CAIRN_OK || rc == CAIRN_DONE,
              "an iterator given to cairn_cursor_close was closed: cairn_iter_next returned %s",
              cairn_status_name(rc));
    RC(CAIRN_OK, cairn_batch_count(batch, &count));
    RC(CAIRN_OK, cairn_iter_close(it));
    RC(CAIRN_OK, cairn_batch_free(batch));

    /* A closed cursor returns CAIRN_CLOSED; close is idempotent; values are never reused. */
    closed = cursor;
    RC(CAIRN_OK, cairn_cursor_close(cursor));
    RC(CAIRN_OK, cairn_cursor_close(cursor));
    STATUS(CAIRN_CLOSED, cairn_cursor_next(closed, &doc, &len, &err));
    RC(CAIRN_CLOSED, cairn_cursor_next(closed, &doc, &len, NULL));
    STATUS(CAIRN_OK, cairn_find(db, T("c"), T("{\"_id\":{\"$gte\":4}}"), NULL, 0, &again, &err));
    CHECK_MSG(again != closed, "a new cursor has the value of a closed one");
    STATUS(CAIRN_CLOSED, cairn_cursor_next(closed, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(again, &doc, &len, &err));
    CHECK_MSG(doc != NULL && strstr(doc, "\"after find\"") != NULL, "document: %s",
              doc != NULL ? doc : "(null)");
    RC(CAIRN_OK, cairn_cursor_close(again));

    /* A cursor is not tied to the thread that opened it. */
    args.cursor = NULL;
    args.rc = -1;
    args.doc[0] = '\0';
    STATUS(CAIRN_OK, cairn_find(db, T("c"), T("{\"_id\":2}"), NULL, 0, &args.cursor, &err));
    if (pthread_create(&thread, NULL, cursor_next_on_other_thread, &args) == 0) {
        pthread_join(thread, NULL);
        CHECK_MSG(args.rc == CAIRN_OK && strstr(args.doc, "\"two\"") != NULL,
                  "cairn_cursor_next on another thread: %s, document %s",
                  cairn_status_name(args.rc), args.doc);
    }
    RC(CAIRN_OK, cairn_cursor_close(args.cursor));

    /* A cursor whose database was closed returns CAIRN_CLOSED, with or without a sort. */
    db2 = open_fresh("cursors-orphan", NULL);
    STATUS(CAIRN_OK, cairn_insert_many(db2, T("c"), T("[{\"_id\":1},{\"_id\":2},{\"_id\":3}]"),
                                       NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_find(db2, T("c"), NULL, 0, NULL, 0, &orphan, &err));
    STATUS(CAIRN_OK, cairn_find(db2, T("c"), NULL, 0, T("{\"sort\":{\"_id\":-1}}"), &again, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(orphan, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(again, &doc, &len, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));
    STATUS(CAIRN_CLOSED, cairn_cursor_next(orphan, &doc, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_cursor_next(again, &doc, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(orphan));
    RC(CAIRN_OK, cairn_cursor_close(again));
    STATUS(CAIRN_CLOSED, cairn_cursor_next(orphan, &doc, &len, &err));

    /* Every document function of a closed database returns CAIRN_CLOSED. */
    {
        char *json = NULL;
        uint64_t n = 0;
        STATUS(CAIRN_CLOSED, cairn_collection_create(db2, T("d"), NULL, 0, &err));
        STATUS(CAIRN_CLOSED, cairn_collection_drop(db2, T("c"), &err));
        STATUS(CAIRN_CLOSED, cairn_collection_list(db2, &json, &len, &err));
        STATUS(CAIRN_CLOSED, cairn_insert_one(db2, T("c"), T("{}"), NULL, NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_insert_many(db2, T("c"), T("[{}]"), NULL, NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_find(db2, T("c"), NULL, 0, NULL, 0, &again, &err));
        STATUS(CAIRN_CLOSED, cairn_count(db2, T("c"), NULL, 0, &n, &err));
        STATUS(CAIRN_CLOSED, cairn_update_one(db2, T("c"), T("{}"), T("{\"$set\":{\"a\":1}}"),
                                              NULL, 0, NULL, NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_update_many(db2, T("c"), T("{}"), T("{\"$set\":{\"a\":1}}"),
                                               NULL, 0, NULL, NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_replace_one(db2, T("c"), T("{}"), T("{\"a\":1}"), NULL, 0,
                                               NULL, NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_delete_one(db2, T("c"), T("{}"), NULL, &err));
        STATUS(CAIRN_CLOSED, cairn_delete_many(db2, T("c"), T("{}"), NULL, &err));
    }

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Queries, indexes and collections: find_one to index_list                  */
/* ------------------------------------------------------------------------ */

/* Checks that a returned JSON buffer is set, NUL-free within its length and starts with `first`. */
static void check_json_at(int line, const char *call, const char *json, size_t len, char first)
{
    check_at(json != NULL && len > 0 && memchr(json, '\0', len) == NULL && json[0] == first, line,
             "%s returned %.*s (length %zu), want JSON starting with '%c'", call,
             json != NULL ? (int)len : 6, json != NULL ? json : "(null)", len, first);
}
#define CHECK_JSON(call, json, len, first) check_json_at(__LINE__, call, json, len, first)

static void test_query_arguments(void)
{
    cairn_db *db = open_fresh("query-args", NULL), *db2;
    cairn_cursor *cursor = (cairn_cursor *)(void *)&not_a_handle;
    char *json = NULL, *name = NULL;
    size_t len = 0;
    test_name = "query_arguments";

    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":1,\"a\":1,\"t\":[\"x\",\"y\"]},"
                                                     "{\"_id\":2,\"a\":2,\"t\":\"x\"}]"),
                                       NULL, NULL, &err));

    /* A NULL database. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one(NULL, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_by_id(NULL, T("c"), T("1"), &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(NULL, T("c"), T("a"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_update(NULL, T("c"), T("{}"), T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                     &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_aggregate(NULL, T("c"), T("[]"), &cursor, &err));
    CHECK_MSG(cursor == NULL || cursor == (cairn_cursor *)(void *)&not_a_handle,
              "a failed cairn_aggregate set *out_cursor to a handle");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_explain(NULL, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_index_create(NULL, T("c"), T("{\"keys\":{\"a\":1}}"), &name, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_drop(NULL, T("c"), T("a_1"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_list(NULL, T("c"), &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(NULL, T("c"), T("d"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_stats(NULL, T("c"), &json, &len, &err));

    /* A NULL collection name with a length, and an empty one. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one(db, NULL, 1, NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_by_id(db, NULL, 1, T("1"), &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, NULL, 1, T("a"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_update(db, NULL, 1, T("{}"), T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                     &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_aggregate(db, NULL, 1, T("[]"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_explain(db, NULL, 1, NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_index_create(db, NULL, 1, T("{\"keys\":{\"a\":1}}"), &name, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_index_create(db, NULL, 0, T("{\"keys\":{\"a\":1}}"), &name, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_drop(db, NULL, 1, T("a_1"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_list(db, NULL, 1, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(db, NULL, 1, T("d"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(db, T("c"), NULL, 1, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(db, T("c"), NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_stats(db, NULL, 1, &json, &len, &err));

    /* NULL text with a length. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one(db, T("c"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one(db, T("c"), NULL, 0, NULL, 2, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_by_id(db, T("c"), NULL, 1, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, T("c"), NULL, 1, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, T("c"), T("a"), NULL, 2, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_update(db, T("c"), T("{}"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_aggregate(db, T("c"), NULL, 2, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_explain(db, T("c"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_create(db, T("c"), NULL, 2, &name, &len, &err));
    /* An empty spec is "{}", which names no keys. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_create(db, T("c"), NULL, 0, &name, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_drop(db, T("c"), NULL, 3, &err));

    /* NULL out pointers that are required. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one(db, T("c"), NULL, 0, NULL, 0, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_by_id(db, T("c"), T("1"), NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, T("c"), T("a"), NULL, 0, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_update(db, T("c"), T("{}"), T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                     NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_aggregate(db, T("c"), T("[]"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_explain(db, T("c"), NULL, 0, NULL, 0, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_list(db, T("c"), NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_stats(db, T("c"), NULL, &len, &err));

    /* Nothing was written: no document changed, no index, no other collection. */
    json = NULL;
    STATUS(CAIRN_OK, cairn_index_list(db, T("c"), &json, &len, &err));
    CHECK_MSG(json != NULL && json[0] == '[' && strchr(json, '{') == NULL,
              "indexes after failed calls: %s", json != NULL ? json : "(null)");
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_OK, cairn_collection_list(db, &json, &len, &err));
    CHECK_MSG(json != NULL && json[0] == '[' && strstr(json, "\"c\"") != NULL &&
                  strchr(strstr(json, "\"c\"") + 3, '"') == NULL,
              "collections after failed calls: %s, want [\"c\"]", json != NULL ? json : "(null)");
    cairn_free(json);
    {
        uint64_t n = 99;
        STATUS(CAIRN_OK, cairn_count(db, T("c"), T("{\"b\":{\"$exists\":true}}"), &n, &err));
        CHECK_MSG(n == 0, "a failed find_one_and_update wrote: %llu documents have b",
                  (unsigned long long)n);
    }

    /* Results are malloc()ed JSON; optional lengths and names may be NULL. */
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one(db, T("c"), T("{\"a\":2}"), NULL, 0, &json, &len, &err));
    CHECK_JSON("cairn_find_one", json, len, '{');
    CHECK(json != NULL && strstr(json, "\"_id\"") != NULL);
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one(db, T("c"), NULL, 0, NULL, 0, &json, NULL, &err));
    CHECK(json != NULL && json[0] == '{');
    cairn_free(json);
    /* No match is an answer: *json is left NULL. */
    json = NULL;
    ANSWER(CAIRN_NOT_FOUND, cairn_find_one(db, T("c"), T("{\"a\":3}"), NULL, 0, &json, &len, &err));
    CHECK_MSG(json == NULL, "cairn_find_one with no match returned %s", json);
    ANSWER(CAIRN_NOT_FOUND, cairn_find_by_id(db, T("c"), T("3"), &json, &len, &err));
    CHECK_MSG(json == NULL, "cairn_find_by_id with no match returned %s", json);
    STATUS(CAIRN_OK, cairn_find_by_id(db, T("c"), T("1"), &json, &len, &err));
    CHECK_JSON("cairn_find_by_id", json, len, '{');
    cairn_free(json);
    json = NULL;
    /* Text is pointer plus length: what follows is not read. */
    STATUS(CAIRN_OK, cairn_find_by_id(db, T("c"), "2junk", 1, &json, &len, &err));
    CHECK(json != NULL && strstr(json, "\"a\"") != NULL);
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_by_id(db, T("c"), T("{\"_id\":"), &json, &len, &err));
    STATUS(CAIRN_OK, cairn_distinct(db, T("c"), "tX", 1, NULL, 0, &json, &len, &err));
    CHECK_MSG(json != NULL && json[0] == '[' && strstr(json, "\"x\"") != NULL &&
                  strstr(json, "\"y\"") > strstr(json, "\"x\"") &&
                  strchr(strstr(json, "\"y\"") + 3, '"') == NULL,
              "distinct t: %s, want [\"x\", \"y\"]", json != NULL ? json : "(null)");
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_OK, cairn_explain(db, T("c"), T("{\"a\":1}"), NULL, 0, &json, &len, &err));
    CHECK_JSON("cairn_explain", json, len, '{');
    CHECK(json != NULL && strstr(json, "\"plan\"") != NULL);
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_OK, cairn_collection_stats(db, T("c"), &json, NULL, &err));
    CHECK(json != NULL && json[0] == '{' && strstr(json, "\"documents\"") != NULL);
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_NOT_FOUND, cairn_collection_stats(db, T("missing"), &json, &len, &err));
    CHECK(json == NULL);
    name = NULL;
    STATUS(CAIRN_OK, cairn_index_create(db, T("c"), T("{\"keys\":{\"a\":1}}"), &name, &len, &err));
    CHECK_MSG(name != NULL && len == 3 && memcmp(name, "a_1", 3) == 0, "index name: %.*s",
              name != NULL ? (int)len : 6, name != NULL ? name : "(null)");
    cairn_free(name);
    STATUS(CAIRN_OK, cairn_index_create(db, T("c"), T("{\"keys\":{\"a\":1}}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_index_list(db, T("c"), &json, NULL, &err));
    CHECK(json != NULL && strstr(json, "\"a_1\"") != NULL);
    cairn_free(json);
    json = NULL;
    STATUS(CAIRN_NOT_FOUND, cairn_index_drop(db, T("c"), T("b_1"), &err));
    STATUS(CAIRN_OK, cairn_index_drop(db, T("c"), "a_1junk", 3, &err));
    /* An upsert with "before" returns the text null. */
    STATUS(CAIRN_OK, cairn_find_one_and_update(db, T("c"), T("{\"_id\":7}"),
                                               T("{\"$set\":{\"a\":7}}"), T("{\"upsert\":true}"),
                                               &json, &len, &err));
    CHECK_MSG(json != NULL && len == 4 && memcmp(json, "null", 4) == 0,
              "cairn_find_one_and_update after an upsert with \"before\": %s, want null",
              json != NULL ? json : "(null)");
    cairn_free(json);
    json = NULL;
    cursor = NULL;
    STATUS(CAIRN_OK, cairn_aggregate(db, T("c"), T("[{\"$count\":\"n\"}]"), &cursor, &err));
    {
        const char *doc = NULL;
        STATUS(CAIRN_OK, cairn_cursor_next(cursor, &doc, &len, &err));
        CHECK_MSG(doc != NULL && strlen(doc) == len && strstr(doc, "\"n\"") != NULL &&
                      strchr(doc, '3') != NULL,
                  "$count: %s", doc != NULL ? doc : "(null)");
        ANSWER(CAIRN_DONE, cairn_cursor_next(cursor, &doc, &len, &err));
    }
    RC(CAIRN_OK, cairn_cursor_close(cursor));
    STATUS(CAIRN_OK, cairn_collection_rename(db, T("c"), T("renamed"), &err));
    STATUS(CAIRN_NOT_FOUND, cairn_collection_rename(db, T("c"), T("again"), &err));

    /* Every one of them on a closed database returns CAIRN_CLOSED. */
    db2 = open_fresh("query-args-closed", NULL);
    STATUS(CAIRN_OK, cairn_insert_one(db2, T("c"), T("{\"_id\":1}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));
    STATUS(CAIRN_CLOSED, cairn_find_one(db2, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_find_by_id(db2, T("c"), T("1"), &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_distinct(db2, T("c"), T("a"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_CLOSED,
           cairn_find_one_and_update(db2, T("c"), T("{}"), T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                     &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_aggregate(db2, T("c"), T("[]"), &cursor, &err));
    STATUS(CAIRN_CLOSED, cairn_explain(db2, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_CLOSED,
           cairn_index_create(db2, T("c"), T("{\"keys\":{\"a\":1}}"), &name, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_index_drop(db2, T("c"), T("a_1"), &err));
    STATUS(CAIRN_CLOSED, cairn_index_list(db2, T("c"), &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_collection_rename(db2, T("c"), T("d"), &err));
    STATUS(CAIRN_CLOSED, cairn_collection_stats(db2, T("c"), &json, &len, &err));

    /* A cursor where a database belongs. */
    cursor = NULL;
    STATUS(CAIRN_OK, cairn_find(db, T("renamed"), NULL, 0, NULL, 0, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one((cairn_db *)(void *)cursor, T("renamed"), NULL,
                                                  0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_index_list((cairn_db *)(void *)cursor, T("renamed"), &json, &len, &err));
    {
        cairn_db *txn = NULL;
        const char *doc = NULL;
        STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_begin((cairn_db *)(void *)cursor, 0, &txn, &err));
        STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_commit((cairn_db *)(void *)cursor, &err));
        /* A destructor given another handle type leaves it open (its status is not checked,
           as for the other destructors). */
        cairn_txn_rollback((cairn_db *)(void *)cursor);
        STATUS(CAIRN_OK, cairn_cursor_next(cursor, &doc, &len, &err));
    }
    RC(CAIRN_OK, cairn_cursor_close(cursor));

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Find-and-modify and counting with options                                 */
/* ------------------------------------------------------------------------ */

/* Checks that `json` (length `len`) is exactly `want`, then frees it. */
static void json_is_at(int line, const char *call, char *json, size_t len, const char *want)
{
    check_at(json != NULL && len == strlen(want) && memcmp(json, want, len) == 0 &&
                 json[len] == '\0',
             line, "%s returned %.*s (length %zu), want %s", call,
             json != NULL ? (int)len : 6, json != NULL ? json : "(null)", len, want);
    cairn_free(json);
}
#define JSON_IS(call, json, len, want) json_is_at(__LINE__, call, json, len, want)

/* The number of documents of `collection` matching `filter`, or -1 after a failed check. */
static long long count_of(cairn_db *db, const char *collection, const char *filter)
{
    uint64_t n = 0;
    char *err = NULL;
    int rc = cairn_count(db, collection, strlen(collection), filter, strlen(filter), &n, &err);
    CHECK_MSG(rc == CAIRN_OK, "cairn_count(%s, %s): %s", collection, filter,
              err != NULL ? err : cairn_status_name(rc));
    cairn_free(err);
    return rc == CAIRN_OK ? (long long)n : -1;
}

static void test_find_and_modify(void)
{
    cairn_db *db = open_fresh("find-and-modify", NULL), *db2, *txn = NULL, *ro = NULL;
    cairn_cursor *cursor = NULL;
    char *json = NULL;
    size_t len = 0;
    uint64_t n = 0;
    test_name = "find_and_modify";

    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":1,\"a\":3},{\"_id\":2,\"a\":1},"
                                                     "{\"_id\":3,\"a\":2}]"),
                                       NULL, NULL, &err));

    /* A NULL database. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(NULL, T("c"), T("{}"), T("{\"b\":1}"),
                                                              NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(NULL, T("c"), T("{}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(NULL, T("c"), NULL, 0, NULL, 0, &n, &err));
    /* A NULL collection name with a length, and an empty one. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, NULL, 1, T("{}"), T("{\"b\":1}"),
                                                              NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, NULL, 0, T("{}"), T("{\"b\":1}"),
                                                              NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, NULL, 1, T("{}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, NULL, 0, T("{}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, NULL, 1, NULL, 0, NULL, 0, &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, NULL, 0, NULL, 0, NULL, 0, &n, &err));
    /* NULL text with a length. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), NULL, 2, T("{\"b\":1}"),
                                                              NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_replace(db, T("c"), T("{}"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{}"), T("{\"b\":1}"),
                                                              NULL, 2, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, T("c"), NULL, 2, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, T("c"), T("{}"), NULL, 2, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, T("c"), NULL, 2, NULL, 0, &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, T("c"), NULL, 0, NULL, 2, &n, &err));
    /* The replacement is required: NULL with length 0 stands for "{}" only in
       options and filters, and is refused here as by cairn_replace_one. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":9}"), NULL, 0,
                                                              NULL, 0, &json, &len, &err));
    CHECK(json == NULL);
    /* NULL out pointers that are required. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{}"), T("{\"b\":1}"),
                                                              NULL, 0, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, T("c"), T("{}"), NULL, 0, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, T("c"), NULL, 0, NULL, 0, NULL, &err));
    /* Malformed input: nothing is written and *json stays NULL. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":1}"),
                                                              T("{\"_id\":7,\"b\":1}"), NULL, 0,
                                                              &json, &len, &err));
    CHECK(json == NULL);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":1}"),
                                                              T("{\"$set\":{\"b\":1}}"), NULL, 0,
                                                              &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":1}"),
                                                              T("{\"b\":"), NULL, 0, &json, &len,
                                                              &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_replace(db, T("c"), T("{\"_id\":1}"), T("{\"b\":1}"),
                                      T("{\"return_document\":\"never\"}"), &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, T("c"), T("{}"), T("{\"upsert\":true}"), &json, &len, &err));
    CHECK(json == NULL);
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_find_one_and_delete(db, T("c"), T("{\"a\":{\"$nope\":1}}"), NULL, 0, &json, &len,
                                     &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, T("c"), NULL, 0, T("{\"skip\":-1}"), &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_count_with_options(db, T("c"), NULL, 0, T("{\"limit\":1.5}"), &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count_with_options(db, T("c"), NULL, 0, T("[]"), &n, &err));
    {
        /* An unknown option is named in the message. */
        char *err = NULL;
        int rc = cairn_count_with_options(db, T("c"), NULL, 0, T("{\"maxTimeMS\":5}"), &n, &err);
        CHECK_MSG(rc == CAIRN_INVALID_ARGUMENT && err != NULL && strstr(err, "maxTimeMS") != NULL,
                  "cairn_count_with_options with maxTimeMS: %s (%s)", cairn_status_name(rc),
                  err != NULL ? err : "no errmsg");
        cairn_free(err);
    }
    CHECK_MSG(count_of(db, "c", "{\"b\":{\"$exists\":true}}") == 0 && count_of(db, "c", "{}") == 3,
              "failed calls wrote");

    /* Results: malloc()ed JSON, NUL-terminated; json_len may be NULL. */
    STATUS(CAIRN_OK, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":1}"), T("{\"b\":1}"), NULL, 0,
                                                &json, &len, &err));
    JSON_IS("cairn_find_one_and_replace", json, len, "{\"_id\":1,\"a\":3}");
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one_and_replace(db, T("c"), T("{\"a\":{\"$gte\":1}}"),
                                                T("{\"a\":0}"),
                                                T("{\"sort\":{\"a\":-1},\"return_document\":\"after\"}"),
                                                &json, &len, &err));
    JSON_IS("cairn_find_one_and_replace with sort, after", json, len, "{\"_id\":3,\"a\":0}");
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":2}"), T("{\"a\":5}"),
                                                T("{\"projection\":{\"_id\":0}}"), &json, NULL, &err));
    CHECK_MSG(json != NULL && strcmp(json, "{\"a\":1}") == 0, "projected before: %s",
              json != NULL ? json : "(null)");
    cairn_free(json);
    json = NULL;
    /* An upsert with "before" returns the text null; the _id comes from the filter. */
    STATUS(CAIRN_OK, cairn_find_one_and_replace(db, T("c"), T("{\"_id\":8}"), T("{\"a\":8}"),
                                                T("{\"upsert\":true}"), &json, &len, &err));
    JSON_IS("cairn_find_one_and_replace upserting, before", json, len, "null");
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_by_id(db, T("c"), T("8"), &json, &len, &err));
    JSON_IS("cairn_find_by_id of the upserted document", json, len, "{\"_id\":8,\"a\":8}");
    json = NULL;
    /* Text is pointer plus length: what follows is not read. */
    STATUS(CAIRN_OK, cairn_find_one_and_delete(db, T("c"), "{\"_id\":8}junk", 9,
                                               "{\"projection\":{\"a\":1,\"_id\":0}}junk", 30,
                                               &json, &len, &err));
    JSON_IS("cairn_find_one_and_delete with projection", json, len, "{\"a\":8}");
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one_and_delete(db, T("c"), NULL, 0, T("{\"sort\":{\"a\":-1}}"),
                                               &json, &len, &err));
    JSON_IS("cairn_find_one_and_delete with sort", json, len, "{\"_id\":2,\"a\":5}");
    json = NULL;
    /* No match is an answer: *json is left NULL and nothing is deleted. */
    ANSWER(CAIRN_NOT_FOUND, cairn_find_one_and_delete(db, T("c"), T("{\"a\":42}"), NULL, 0, &json,
                                                      &len, &err));
    CHECK_MSG(json == NULL, "cairn_find_one_and_delete with no match returned %s", json);
    ANSWER(CAIRN_NOT_FOUND, cairn_find_one_and_delete(db, T("missing"), NULL, 0, NULL, 0, &json,
                                                      &len, &err));
    ANSWER(CAIRN_NOT_FOUND, cairn_find_one_and_replace(db, T("c"), T("{\"a\":42}"), T("{\"a\":1}"),
                                                       T("{\"return_document\":\"after\"}"), &json,
                                                       &len, &err));
    CHECK_MSG(json == NULL, "cairn_find_one_and_replace with no match returned %s", json);
    CHECK_MSG(count_of(db, "c", "{}") == 2, "documents after the deletes: %lld, want 2",
              count_of(db, "c", "{}"));
    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":4},{\"_id\":5},{\"_id\":6}]"), NULL,
                                       NULL, &err));
    /* Counting: options NULL is "{}"; skip and limit as countDocuments. */
    n = 99;
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), NULL, 0, NULL, 0, &n, &err));
    CHECK_MSG(n == 5, "count with no options: %llu, want 5", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), T("{\"_id\":{\"$gt\":1}}"), T("{\"skip\":1}"),
                                              &n, &err));
    CHECK_MSG(n == 3, "count with skip 1: %llu, want 3", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), NULL, 0, T("{\"skip\":1,\"limit\":2}"), &n,
                                              &err));
    CHECK_MSG(n == 2, "count with skip 1, limit 2: %llu, want 2", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), NULL, 0, T("{\"skip\":10}"), &n, &err));
    CHECK_MSG(n == 0, "count with skip 10: %llu, want 0", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), NULL, 0, T("{\"limit\":0}"), &n, &err));
    CHECK_MSG(n == 5, "count with limit 0: %llu, want 5", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("missing"), NULL, 0, T("{\"limit\":1}"), &n, &err));
    CHECK_MSG(n == 0, "count of a missing collection: %llu, want 0", (unsigned long long)n);

    /* Inside a transaction: its snapshot and its own writes, visible outside at commit. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_find_one_and_delete(txn, T("c"), T("{\"_id\":4}"), NULL, 0, &json, &len,
                                               &err));
    JSON_IS("cairn_find_one_and_delete in a transaction", json, len, "{\"_id\":4}");
    json = NULL;
    STATUS(CAIRN_OK, cairn_find_one_and_replace(txn, T("c"), T("{\"_id\":5}"), T("{\"t\":1}"),
                                                T("{\"return_document\":\"after\"}"), &json, &len,
                                                &err));
    JSON_IS("cairn_find_one_and_replace in a transaction", json, len, "{\"_id\":5,\"t\":1}");
    json = NULL;
    STATUS(CAIRN_OK, cairn_count_with_options(txn, T("c"), NULL, 0, T("{\"skip\":1}"), &n, &err));
    CHECK_MSG(n == 3, "count with skip 1 in the transaction: %llu, want 3", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_count_with_options(db, T("c"), NULL, 0, T("{\"skip\":1}"), &n, &err));
    CHECK_MSG(n == 4, "count with skip 1 outside the transaction: %llu, want 4",
              (unsigned long long)n);
    ANSWER(CAIRN_NOT_FOUND, cairn_find_one_and_delete(txn, T("c"), T("{\"_id\":4}"), NULL, 0, &json,
                                                      &len, &err));
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    CHECK_MSG(count_of(db, "c", "{\"_id\":4}") == 0 && count_of(db, "c", "{\"t\":1}") == 1,
              "the transaction's writes are not visible after its commit");
    /* An ended transaction. */
    STATUS(CAIRN_CLOSED, cairn_find_one_and_replace(txn, T("c"), T("{}"), T("{\"b\":1}"), NULL, 0,
                                                    &json, &len, &err));
    STATUS(CAIRN_CLOSED,
           cairn_find_one_and_delete(txn, T("c"), T("{}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_count_with_options(txn, T("c"), NULL, 0, NULL, 0, &n, &err));
    /* A rolled-back transaction writes nothing; a read-only one refuses the writes. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK,
           cairn_find_one_and_delete(txn, T("c"), T("{\"_id\":6}"), NULL, 0, &json, NULL, &err));
    cairn_free(json);
    json = NULL;
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    CHECK_MSG(count_of(db, "c", "{\"_id\":6}") == 1, "a rolled-back find_one_and_delete deleted");
    STATUS(CAIRN_OK, cairn_txn_begin(db, CAIRN_TXN_READ_ONLY, &ro, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_delete(ro, T("c"), T("{\"_id\":6}"), NULL, 0,
                                                             &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_replace(ro, T("c"), T("{\"_id\":6}"),
                                                              T("{\"b\":1}"), NULL, 0, &json, &len,
                                                              &err));
    CHECK(json == NULL);
    STATUS(CAIRN_OK, cairn_count_with_options(ro, T("c"), NULL, 0, T("{\"limit\":2}"), &n, &err));
    CHECK_MSG(n == 2, "count with limit 2 in a read-only transaction: %llu, want 2",
              (unsigned long long)n);
    RC(CAIRN_OK, cairn_txn_rollback(ro));
    CHECK_MSG(count_of(db, "c", "{}") == 4, "documents after the read-only transaction: %lld, want 4",
              count_of(db, "c", "{}"));

    /* A cursor where a database belongs. */
    STATUS(CAIRN_OK, cairn_find(db, T("c"), NULL, 0, NULL, 0, &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_find_one_and_delete((cairn_db *)(void *)cursor, T("c"), NULL,
                                                             0, NULL, 0, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_count_with_options((cairn_db *)(void *)cursor, T("c"), NULL,
                                                            0, NULL, 0, &n, &err));
    RC(CAIRN_OK, cairn_cursor_close(cursor));

    /* Every one of them on a closed database returns CAIRN_CLOSED. */
    db2 = open_fresh("find-and-modify-closed", NULL);
    STATUS(CAIRN_OK, cairn_insert_one(db2, T("c"), T("{\"_id\":1}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));
    STATUS(CAIRN_CLOSED, cairn_find_one_and_replace(db2, T("c"), T("{}"), T("{\"b\":1}"), NULL, 0,
                                                    &json, &len, &err));
    STATUS(CAIRN_CLOSED,
           cairn_find_one_and_delete(db2, T("c"), T("{}"), NULL, 0, &json, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_count_with_options(db2, T("c"), NULL, 0, NULL, 0, &n, &err));
    CHECK(json == NULL);

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */
/* ------------------------------------------------------------------------ */

static void test_transactions(void)
{
    cairn_db *db = open_fresh("txn", NULL), *txn = NULL, *ended, *other = NULL, *db2;
    cairn_db *bad = (cairn_db *)(void *)&not_a_handle;
    cairn_batch *batch = NULL;
    cairn_iter *it = NULL;
    cairn_cursor *cursor = NULL;
    uint8_t *value = NULL, *list = NULL;
    char *json = NULL, *text = NULL;
    size_t len = 0, count = 0;
    static const uint8_t one_key[] = {1, 0, 0, 0, 'k'};
    test_name = "transactions";

    /* Arguments. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_begin(NULL, 0, &bad, &err));
    CHECK_MSG(bad == NULL || bad == (cairn_db *)(void *)&not_a_handle,
              "a failed cairn_txn_begin set *out_txn to a handle");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_begin(db, 0, NULL, &err));
    bad = (cairn_db *)(void *)&not_a_handle;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_begin(db, 0x2, &bad, &err));
    CHECK_MSG(bad == NULL || bad == (cairn_db *)(void *)&not_a_handle,
              "a failed cairn_txn_begin set *out_txn to a handle");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_commit(NULL, &err));
    RC(CAIRN_INVALID_ARGUMENT, cairn_txn_commit(NULL, NULL));
    RC(CAIRN_OK, cairn_txn_rollback(NULL));

    /* A database handle where a transaction belongs: commit refuses it, rollback (a
       destructor) leaves it open. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_commit(db, &err));
    cairn_txn_rollback(db);
    STATUS(CAIRN_OK, cairn_put(db, K("k"), K("v0"), 0, &err));

    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    CHECK(txn != NULL && txn != db);
    STATUS(CAIRN_OK, cairn_put(txn, K("k"), K("v1"), 0, &err));

    /* A transaction handle where only a database belongs: refused. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_txn_begin(txn, 0, &other, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_flush(txn, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_compact_range(txn, NULL, 0, NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_stats(txn, &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_metrics(txn, &text, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_keys(txn, NULL, 0, &list, &len, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_delete_range(txn, K("a"), K("z"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open(txn, NULL, 0, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_open_prefix(txn, K("k"), 0, &it, &err));
    STATUS(CAIRN_OK, cairn_batch_new(&batch, &err));
    STATUS(CAIRN_OK, cairn_batch_put(batch, K("b"), K("batch"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_write(txn, batch, &err));
    RC(CAIRN_OK, cairn_batch_free(batch));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_drop(txn, T("c"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(txn, T("c"), T("d"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_stats(txn, T("c"), &json, &len, &err));
    /* The index functions come after cairn_explain in the header, outside the
       range of functions that take a transaction. */
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_index_create(txn, T("c"), T("{\"keys\":{\"a\":1}}"), &text, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_drop(txn, T("c"), T("a_1"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_list(txn, T("c"), &json, &len, &err));
    /* cairn_close of a transaction is refused and ends nothing. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_close(txn, &err));
    /* The transaction lives on through the refusals, and reads its own write. */
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(txn, K("k"), &value, &len, &err));
    CHECK(bytes_are(value, len, "v1"));
    cairn_free(value);
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(db, K("k"), &value, &len, &err));
    CHECK_MSG(bytes_are(value, len, "v0"), "an uncommitted write is visible outside");
    cairn_free(value);
    list = NULL;
    STATUS(CAIRN_OK, cairn_get_many(txn, one_key, sizeof one_key, &list, &len, &err));
    CHECK(len == 6 && list != NULL && memcmp(list, "\2\0\0\0v1", 6) == 0);
    cairn_free(list);
    list = NULL;
    STATUS(CAIRN_OK, cairn_insert_one(txn, T("c"), T("{\"_id\":1}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_find(txn, T("c"), NULL, 0, NULL, 0, &cursor, &err));

    /* Commit frees the handle: every later call is CLOSED, rollback is a no-op. */
    ended = txn;
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    STATUS(CAIRN_CLOSED, cairn_txn_commit(ended, &err));
    RC(CAIRN_OK, cairn_txn_rollback(ended));
    STATUS(CAIRN_CLOSED, cairn_put(ended, K("k"), K("late"), 0, &err));
    STATUS(CAIRN_CLOSED, cairn_get(ended, K("k"), &value, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_delete(ended, K("k"), &err));
    STATUS(CAIRN_CLOSED, cairn_get_many(ended, one_key, sizeof one_key, &list, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_insert_one(ended, T("c"), T("{\"_id\":2}"), NULL, NULL, &err));
    STATUS(CAIRN_CLOSED, cairn_find_one(ended, T("c"), NULL, 0, NULL, 0, &json, &len, &err));
    {
        cairn_cursor *none = NULL;
        STATUS(CAIRN_CLOSED, cairn_find(ended, T("c"), NULL, 0, NULL, 0, &none, &err));
        CHECK(none == NULL);
    }
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(db, K("k"), &value, &len, &err));
    CHECK_MSG(bytes_are(value, len, "v1"), "a committed write is not visible");
    cairn_free(value);
    /* A cursor opened in the transaction was not freed with it. */
    {
        const char *doc = NULL;
        int rc = cairn_cursor_next(cursor, &doc, &len, NULL);
        CHECK_MSG(rc == CAIRN_OK || rc == CAIRN_DONE || rc == CAIRN_CLOSED,
                  "a cursor of a committed transaction: %s", cairn_status_name(rc));
        RC(CAIRN_OK, cairn_cursor_close(cursor));
    }

    /* Rollback frees the handle too; handle values are never reused. */
    txn = NULL;
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    CHECK_MSG(txn != ended, "a new transaction has the value of an ended one");
    STATUS(CAIRN_OK, cairn_put(txn, K("k"), K("discarded"), 0, &err));
    ended = txn;
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    RC(CAIRN_OK, cairn_txn_rollback(ended));
    STATUS(CAIRN_CLOSED, cairn_put(ended, K("k"), K("late"), 0, &err));
    STATUS(CAIRN_CLOSED, cairn_txn_commit(ended, &err));
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(db, K("k"), &value, &len, &err));
    CHECK_MSG(bytes_are(value, len, "v1"), "a rolled back write is visible");
    cairn_free(value);

    /* A read-only transaction refuses writes. */
    txn = NULL;
    STATUS(CAIRN_OK, cairn_txn_begin(db, CAIRN_TXN_READ_ONLY, &txn, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put(txn, K("k"), K("ro"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(txn, T("c"), T("{}"), NULL, NULL, &err));
    value = NULL;
    STATUS(CAIRN_OK, cairn_get(txn, K("k"), &value, &len, &err));
    CHECK(bytes_are(value, len, "v1"));
    cairn_free(value);
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));

    /* The second of two writers of one key gets CAIRN_CONFLICT, with a message. */
    txn = other = NULL;
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &other, &err));
    STATUS(CAIRN_OK, cairn_put(txn, K("k"), K("first"), 0, &err));
    STATUS(CAIRN_OK, cairn_put(other, K("k"), K("second"), 0, &err));
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    STATUS(CAIRN_CONFLICT, cairn_txn_commit(other, &err));
    STATUS(CAIRN_CLOSED, cairn_txn_commit(other, &err));

    /* Closing the database ends its transactions. */
    db2 = open_fresh("txn-closed", NULL);
    txn = NULL;
    STATUS(CAIRN_OK, cairn_txn_begin(db2, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_put(txn, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));
    STATUS(CAIRN_CLOSED, cairn_put(txn, K("k"), K("w"), 0, &err));
    STATUS(CAIRN_CLOSED, cairn_get(txn, K("k"), &value, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_txn_commit(txn, &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    other = (cairn_db *)(void *)&not_a_handle;
    STATUS(CAIRN_CLOSED, cairn_txn_begin(db2, 0, &other, &err));
    CHECK_MSG(other == NULL || other == (cairn_db *)(void *)&not_a_handle,
              "a failed cairn_txn_begin set *out_txn to a handle");
    db2 = open_fresh("txn-closed", NULL);
    ANSWER(CAIRN_NOT_FOUND, cairn_get(db2, K("k"), &value, &len, &err));
    STATUS(CAIRN_OK, cairn_close(db2, &err));

    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

#define THREADS 4
#define PUTS_PER_THREAD 250

struct writer_args {
    cairn_db *db;
    int id;
    int failures;
};

static void *writer(void *p)
{
    struct writer_args *a = p;
    int i;
    for (i = 0; i < PUTS_PER_THREAD; i++) {
        char key[32], val[32];
        uint8_t *got = NULL;
        size_t got_len = 0;
        int kn = snprintf(key, sizeof key, "t%d:%04d", a->id, i);
        int vn = snprintf(val, sizeof val, "v%d", i);
        if (cairn_put(a->db, (const uint8_t *)key, (size_t)kn, (const uint8_t *)val, (size_t)vn, 0,
                      NULL) != CAIRN_OK ||
            cairn_get(a->db, (const uint8_t *)key, (size_t)kn, &got, &got_len, NULL) != CAIRN_OK ||
            !bytes_are(got, got_len, val))
            a->failures++;
        cairn_free(got);
    }
    return NULL;
}

static void test_threads(void)
{
    cairn_db *db = open_fresh("threads", "{\"sync\":\"never\"}");
    pthread_t threads[THREADS];
    struct writer_args args[THREADS];
    int i, started = 0, failures = 0;
    uint8_t *keys = NULL;
    size_t len = 0, count = 0;
    test_name = "threads";
    for (i = 0; i < THREADS; i++) {
        args[i].db = db;
        args[i].id = i;
        args[i].failures = 0;
        if (pthread_create(&threads[i], NULL, writer, &args[i]) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        failures += args[i].failures;
    }
    CHECK(started == THREADS);
    CHECK_MSG(failures == 0, "%d puts or gets failed on concurrent threads", failures);
    STATUS(CAIRN_OK, cairn_keys(db, "{\"prefix\":\"t\"}", 14, &keys, &len, &count, &err));
    CHECK_MSG(count == (size_t)THREADS * PUTS_PER_THREAD, "%zu keys after concurrent puts, want %d",
              count, THREADS * PUTS_PER_THREAD);
    cairn_free(keys);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* One meaning for every JSON text; names without NUL bytes; fork()          */
/* ------------------------------------------------------------------------ */

/* Checks that `call` (passing &err) is INVALID_ARGUMENT naming a duplicate key. */
#define DUPLICATE(call)                                                          \
    do {                                                                         \
        char *err = ERR_UNSET;                                                   \
        int rc_ = (call);                                                        \
        check_at(rc_ == CAIRN_INVALID_ARGUMENT && err != ERR_UNSET && err != NULL \
                     && strstr(err, "duplicate key") != NULL,                    \
                 __LINE__, "%s: got %s (%s), want CAIRN_INVALID_ARGUMENT naming a duplicate key", \
                 #call, cairn_status_name(rc_), err != ERR_UNSET && err ? err : "no errmsg"); \
        if (err != ERR_UNSET) cairn_free(err);                                   \
    } while (0)

static void test_duplicate_keys(void)
{
    char path[PATH_MAX];
    cairn_db *db = open_fresh("duplicates", NULL), *other = NULL, *txn = NULL;
    cairn_cursor *cursor = NULL;
    char *out = NULL;
    size_t out_len = 0;
    uint64_t n = 0;
    const char *dup = "{\"g\": 1, \"g\": 2}";
    const char *nested = "{\"a\": {\"g\": 1, \"g\": 2}}";
    size_t dl = strlen(dup), nl = strlen(nested);
    test_name = "duplicate_keys";

    /* The issue's case: a unique index would see one value, the document another. */
    STATUS(CAIRN_OK, cairn_index_create(db, T("c"), T("{\"keys\": {\"g\": 1}, \"unique\": true}"), &out, &out_len, &err));
    cairn_free(out);
    DUPLICATE(cairn_insert_one(db, T("c"), dup, dl, &out, &out_len, &err));
    DUPLICATE(cairn_insert_one(db, T("c"), nested, nl, &out, &out_len, &err));
    DUPLICATE(cairn_insert_many(db, T("c"), T("[{\"x\": 1}, {\"g\": 1, \"g\": 2}]"), &out, &out_len, &err));
    DUPLICATE(cairn_insert_many_with_options(db, T("c"), T("[{\"g\": 1, \"g\": 2}]"), T("{\"ordered\": false}"), &out, &out_len, &err));
    DUPLICATE(cairn_insert_many_with_options(db, T("c"), T("[{}]"), T("{\"ordered\": false, \"ordered\": true}"), &out, &out_len, &err));
    DUPLICATE(cairn_find(db, T("c"), dup, dl, NULL, 0, &cursor, &err));
    DUPLICATE(cairn_find(db, T("c"), NULL, 0, T("{\"limit\": 1, \"limit\": 2}"), &cursor, &err));
    DUPLICATE(cairn_count(db, T("c"), dup, dl, &n, &err));
    DUPLICATE(cairn_update_one(db, T("c"), dup, dl, T("{\"$set\": {\"a\": 1}}"), NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_update_one(db, T("c"), NULL, 0, T("{\"$set\": {\"g\": 1, \"g\": 2}}"), NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_update_many(db, T("c"), NULL, 0, T("{\"$set\": {\"a\": 1}, \"$set\": {\"b\": 1}}"), NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_replace_one(db, T("c"), NULL, 0, dup, dl, NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_replace_one(db, T("c"), NULL, 0, T("{}"), T("{\"upsert\": true, \"upsert\": false}"), &out, &out_len, &err));
    DUPLICATE(cairn_delete_one(db, T("c"), dup, dl, &n, &err));
    DUPLICATE(cairn_delete_many(db, T("c"), nested, nl, &n, &err));
    DUPLICATE(cairn_find_one(db, T("c"), dup, dl, NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_find_by_id(db, T("c"), dup, dl, &out, &out_len, &err));
    DUPLICATE(cairn_distinct(db, T("c"), T("g"), dup, dl, &out, &out_len, &err));
    DUPLICATE(cairn_find_one_and_update(db, T("c"), dup, dl, T("{\"$set\": {\"a\": 1}}"), NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_aggregate(db, T("c"), T("[{\"$match\": {\"g\": 1, \"g\": 2}}]"), &cursor, &err));
    DUPLICATE(cairn_explain(db, T("c"), dup, dl, NULL, 0, &out, &out_len, &err));
    DUPLICATE(cairn_index_create(db, T("c"), T("{\"keys\": {\"a\": 1, \"a\": -1}}"), &out, &out_len, &err));
    DUPLICATE(cairn_collection_create(db, T("d"), T("{\"schema\": {\"type\": \"object\", \"type\": \"array\"}}"), &err));
    DUPLICATE(cairn_keys(db, T("{\"limit\": 1, \"limit\": 2}"), (uint8_t **)&out, &out_len, &out_len, &err));
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    DUPLICATE(cairn_insert_one(txn, T("c"), dup, dl, &out, &out_len, &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    db_dir(path, sizeof path, "duplicates-open");
    DUPLICATE(cairn_open(path, T("{\"sync\": \"never\", \"sync\": \"always\"}"), &other, &err));
    CHECK(other == NULL);
    STATUS(CAIRN_OK, cairn_count(db, T("c"), NULL, 0, &n, &err));
    CHECK_MSG(n == 0, "nothing was written, found %llu documents", (unsigned long long)n);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/*
** cairn_interrupt: a cursor opened before the call fails with
** CAIRN_INTERRUPTED from then on; what starts afterwards runs normally;
** nothing written is lost. (Interrupting a call from another thread is
** tested through the Python and Go bindings.)
*/
static void test_interrupt(void)
{
    cairn_db *db = open_fresh("interrupt", NULL), *txn = NULL;
    cairn_cursor *before = NULL, *after = NULL;
    const char *json = NULL;
    size_t json_len = 0;
    char *out = NULL;
    size_t out_len = 0;
    uint64_t n = 0;
    test_name = "interrupt";

    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\": 1}, {\"_id\": 2}, {\"_id\": 3}]"), &out, &out_len, &err));
    cairn_free(out);
    CHECK(cairn_interrupt(NULL) == CAIRN_INVALID_ARGUMENT);
    CHECK(cairn_interrupt(db) == CAIRN_OK);  /* nothing running: harmless */
    STATUS(CAIRN_OK, cairn_find(db, T("c"), NULL, 0, NULL, 0, &before, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(before, &json, &json_len, &err));
    CHECK(cairn_interrupt(db) == CAIRN_OK);
    STATUS(CAIRN_INTERRUPTED, cairn_cursor_next(before, &json, &json_len, &err));
    STATUS(CAIRN_INTERRUPTED, cairn_cursor_next(before, &json, &json_len, &err));
    CHECK(cairn_cursor_close(before) == CAIRN_OK);
    STATUS(CAIRN_OK, cairn_find(db, T("c"), NULL, 0, NULL, 0, &after, &err));
    for (n = 0; cairn_cursor_next(after, &json, &json_len, NULL) == CAIRN_OK; n++) {
    }
    CHECK(n == 3);
    CHECK(cairn_cursor_close(after) == CAIRN_OK);
    /* A transaction handle interrupts its database. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    CHECK(cairn_interrupt(txn) == CAIRN_OK);
    STATUS(CAIRN_OK, cairn_count(txn, T("c"), NULL, 0, &n, &err));
    CHECK(n == 3);
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    CHECK(cairn_close(db, NULL) == CAIRN_OK);
    CHECK(cairn_interrupt(db) == CAIRN_CLOSED);
}

static void test_names(void)
{
    cairn_db *db = open_fresh("names", NULL);
    char *out = ERR_UNSET;
    size_t out_len = 12345;
    test_name = "names";
    /* A NUL inside a name would cut it short in every C caller's hands. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(db, "a\0b", 3, NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one(db, "a\0b", 3, T("{}"), &out, &out_len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_drop(db, T("c"), "i\0x", 3, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_create(db, T("c"), T("{\"keys\": {\"a\": 1}, \"name\": \"i\\u0000x\"}"), &out, &out_len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_distinct(db, T("c"), "a\0b", 3, NULL, 0, &out, &out_len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_rename(db, T("c"), "d\0", 2, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_collection_create(db, "\xff", 1, NULL, 0, &err));
    /* What comes back has exactly the bytes it says it has. */
    out = NULL;
    STATUS(CAIRN_OK, cairn_index_create(db, T("c"), T("{\"keys\": {\"a\": 1}, \"name\": \"by_a\"}"), &out, &out_len, &err));
    CHECK(out != NULL && out_len == 4 && strlen(out) == 4 && memcmp(out, "by_a", 4) == 0);
    cairn_free(out);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* A handle inherited through fork() fails at once in the child, touches
   nothing there (close included), and the parent loses nothing. */
static void test_fork(void)
{
    char path[PATH_MAX];
    cairn_db *db = open_fresh("fork", "{\"sync\": \"always\"}");
    int status = 0, i;
    pid_t pid;
    test_name = "fork";
    db_dir(path, sizeof path, "fork");
    STATUS(CAIRN_OK, cairn_put(db, K("before"), K("fork"), 0, &err));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char *e = NULL;
        int bad = 0;
        uint8_t *v = NULL;
        size_t vl = 0;
        if (cairn_put(db, K("child"), K("x"), 0, &e) != CAIRN_INVALID_ARGUMENT || e == NULL || strstr(e, "fork") == NULL)
            bad |= 1;
        cairn_free(e);
        if (cairn_flush(db, NULL) != CAIRN_INVALID_ARGUMENT) bad |= 2;
        if (cairn_get(db, K("before"), &v, &vl, NULL) != CAIRN_INVALID_ARGUMENT) bad |= 4;
        if (cairn_close(db, NULL) != CAIRN_OK) bad |= 8;
        if (cairn_put(db, K("child"), K("x"), 0, NULL) != CAIRN_CLOSED) bad |= 16;
        _exit(bad);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        alarm(30); /* the child must not hang */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        alarm(0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    }
    for (i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof key, "parent-%04d", i);
        RC(CAIRN_OK, cairn_put(db, (const uint8_t *)key, strlen(key), K("v"), 0, NULL));
    }
    STATUS(CAIRN_OK, cairn_close(db, &err));
    RC(CAIRN_OK, cairn_open(path, NULL, 0, &db, NULL));
    for (i = 0; i < 1000; i++) {
        char key[32];
        uint8_t *v = NULL;
        size_t vl = 0;
        snprintf(key, sizeof key, "parent-%04d", i);
        check_at(cairn_get(db, (const uint8_t *)key, strlen(key), &v, &vl, NULL) == CAIRN_OK, __LINE__,
                 "%s acknowledged in the parent after the fork is missing", key);
        cairn_free(v);
    }
    STATUS(CAIRN_OK, cairn_close(db, &err));
}


/* Change feeds: open, next with a timeout, resume, subscribe, misuse. */
struct feed_sink {
    pthread_mutex_t lock;
    int events;
    int failures;
    int destroyed;
    int ordered; /* every event's key was the one expected next */
    pthread_t thread;
    int other_thread;
};

static void feed_callback(void *user_data, int status, const char *event_json, size_t event_len)
{
    struct feed_sink *sink = user_data;
    char want[64];
    pthread_mutex_lock(&sink->lock);
    if (status == CAIRN_OK) {
        /* The key "f<n>" as base64 is not easy to predict here; check the
           event is whole and names a put, and count it. */
        snprintf(want, sizeof want, "\"operationType\":\"put\"");
        if (event_json == NULL || strlen(event_json) != event_len || strstr(event_json, want) == NULL)
            sink->ordered = 0;
        sink->events++;
    } else {
        sink->failures++;
    }
    if (pthread_equal(pthread_self(), sink->thread))
        sink->other_thread = 0;
    pthread_mutex_unlock(&sink->lock);
}

static void feed_destroy(void *user_data)
{
    struct feed_sink *sink = user_data;
    pthread_mutex_lock(&sink->lock);
    sink->destroyed++;
    pthread_mutex_unlock(&sink->lock);
}

/* Copies the "_id" object of an event (the resume token) into `out`. */
static void feed_token(const char *event, char *out, size_t size)
{
    const char *start = strstr(event, "\"_id\":");
    const char *end = start != NULL ? strchr(start, '}') : NULL;
    out[0] = '\0';
    if (start != NULL && end != NULL && (size_t)(end - start) < size)
        snprintf(out, size, "%.*s", (int)(end + 1 - (start + 6)), start + 6);
}

static void feed_sleep_ms(long ms)
{
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

static void test_change_feed(void)
{
    cairn_db *db;
    cairn_db *txn = NULL;
    cairn_watch *watch = (cairn_watch *)&not_a_handle;
    cairn_watch *resumed = NULL;
    char *event = NULL;
    size_t len = 0;
    char token[128], options[256];
    struct feed_sink sink;
    int i;
    test_name = "change_feed";

    /* Off by default: no watch. */
    db = open_fresh("feed-off", NULL);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &watch, &err));
    CHECK_MSG(watch == NULL, "a failed cairn_watch_open left *out_watch set");
    STATUS(CAIRN_OK, cairn_close(db, &err));

    db = open_fresh("feed", "{\"change_feed\": true}");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(NULL, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &watch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, 42, NULL, 0, NULL, 0, &watch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, CAIRN_WATCH_KEY_PREFIX, NULL, 0, NULL, 0, &watch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, CAIRN_WATCH_ALL, K("x"), NULL, 0, &watch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, "{\"fullDocument\": 1}", 19, &watch, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, NULL, &err));
    RC(CAIRN_OK, cairn_txn_begin(db, 0, &txn, NULL));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_open(txn, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &watch, &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));

    STATUS(CAIRN_OK, cairn_watch_open(db, CAIRN_WATCH_KEY_PREFIX, K("f"), NULL, 0, &watch, &err));
    CHECK(watch != NULL);
    /* Nothing yet: CAIRN_DONE after the timeout, no message, no event. */
    event = (char *)ERR_UNSET;
    ANSWER(CAIRN_DONE, cairn_watch_next(watch, 10, &event, &len, &err));
    CHECK_MSG(event == NULL, "cairn_watch_next left *event_json set at CAIRN_DONE");
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_next(watch, -1, &event, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_next(watch, 0, NULL, &len, &err));
    RC(CAIRN_OK, cairn_put(db, K("other"), K("v"), 0, NULL));
    for (i = 0; i < 3; i++) {
        char key[8];
        snprintf(key, sizeof key, "f%d", i);
        RC(CAIRN_OK, cairn_put(db, (const uint8_t *)key, strlen(key), K("v"), 0, NULL));
    }
    STATUS(CAIRN_OK, cairn_watch_next(watch, 1000, &event, &len, &err));
    CHECK(event != NULL && strlen(event) == len && strstr(event, "\"operationType\":\"put\"") != NULL);
    CHECK(event != NULL && strstr(event, "\"base64\":\"ZjA=\"") != NULL); /* "f0": "other" was not in the prefix */
    feed_token(event != NULL ? event : "", token, sizeof token);
    CHECK_MSG(token[0] == '{', "no _id in the event");
    cairn_free(event);
    STATUS(CAIRN_OK, cairn_watch_next(watch, 1000, &event, &len, &err));
    CHECK(event != NULL && strstr(event, "\"base64\":\"ZjE=\"") != NULL);
    cairn_free(event);

    /* Resume after the first token: f1 and f2 again, exactly. */
    snprintf(options, sizeof options, "{\"resumeAfter\": %s}", token);
    STATUS(CAIRN_OK, cairn_watch_open(db, CAIRN_WATCH_KEY_PREFIX, K("f"), options, strlen(options), &resumed, &err));
    STATUS(CAIRN_OK, cairn_watch_next(resumed, 0, &event, &len, &err));
    CHECK(event != NULL && strstr(event, "\"base64\":\"ZjE=\"") != NULL);
    cairn_free(event);
    STATUS(CAIRN_OK, cairn_watch_next(resumed, 0, &event, &len, &err));
    CHECK(event != NULL && strstr(event, "\"base64\":\"ZjI=\"") != NULL);
    cairn_free(event);
    ANSWER(CAIRN_DONE, cairn_watch_next(resumed, 0, &event, &len, &err));
    RC(CAIRN_OK, cairn_watch_close(resumed));
    RC(CAIRN_OK, cairn_watch_close(resumed)); /* idempotent */
    RC(CAIRN_OK, cairn_watch_close(NULL));
    STATUS(CAIRN_CLOSED, cairn_watch_next(resumed, 0, &event, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_next((cairn_watch *)db, 0, &event, &len, &err));

    /* A push subscription on its own thread, ended once by close. */
    memset(&sink, 0, sizeof sink);
    pthread_mutex_init(&sink.lock, NULL);
    sink.ordered = 1;
    sink.other_thread = 1;
    sink.thread = pthread_self();
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_subscribe(watch, NULL, &sink, feed_destroy, &err));
    STATUS(CAIRN_OK, cairn_watch_subscribe(watch, feed_callback, &sink, feed_destroy, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_subscribe(watch, feed_callback, &sink, feed_destroy, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_watch_next(watch, 0, &event, &len, &err));
    for (i = 3; i < 40; i++) {
        char key[8];
        snprintf(key, sizeof key, "f%d", i);
        RC(CAIRN_OK, cairn_put(db, (const uint8_t *)key, strlen(key), K("v"), 0, NULL));
    }
    for (i = 0; i < 200; i++) {
        int seen;
        pthread_mutex_lock(&sink.lock);
        seen = sink.events;
        pthread_mutex_unlock(&sink.lock);
        if (seen >= 38)
            break;
        feed_sleep_ms(10);
    }
    RC(CAIRN_OK, cairn_watch_close(watch));
    RC(CAIRN_OK, cairn_watch_close(watch));
    RC(CAIRN_OK, cairn_put(db, K("f-late"), K("v"), 0, NULL));
    feed_sleep_ms(50);
    pthread_mutex_lock(&sink.lock);
    CHECK_MSG(sink.events == 38, "the subscription delivered %d events, want 38 (f2 .. f39)", sink.events);
    CHECK_MSG(sink.destroyed == 1, "destroy ran %d times, want once", sink.destroyed);
    CHECK(sink.failures == 0 && sink.ordered && sink.other_thread);
    pthread_mutex_unlock(&sink.lock);
    pthread_mutex_destroy(&sink.lock);

    /* Closing the database ends a watch with CAIRN_CLOSED. */
    STATUS(CAIRN_OK, cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, NULL, 0, &watch, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
    STATUS(CAIRN_CLOSED, cairn_watch_next(watch, 0, &event, &len, &err));
    RC(CAIRN_OK, cairn_watch_close(watch));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* cairn_get_into, cairn_put_if_absent, cairn_get_ttl, cairn_touch. */
static void test_kv_conveniences(void)
{
    cairn_db *db = open_fresh("kv-conveniences", NULL), *txn = NULL;
    uint8_t buf[8];
    size_t len = 99;
    int stored = -1;
    int64_t ttl = -1;
    char *err;
    test_name = "kv conveniences";

    STATUS(CAIRN_OK, cairn_put(db, K("k"), K("hello"), 0, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("empty"), NULL, 0, 0, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("long"), K("0123456789"), 0, &err));

    /* get_into: the value fits; too small a buffer measures only; a miss is
       NOT_FOUND without any message. */
    memset(buf, 'x', sizeof buf);
    STATUS(CAIRN_OK, cairn_get_into(db, K("k"), buf, sizeof buf, &len, &err));
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0 && buf[5] == 'x');
    memset(buf, 'x', sizeof buf);
    STATUS(CAIRN_OK, cairn_get_into(db, K("long"), buf, sizeof buf, &len, &err));
    CHECK_MSG(len == 10 && buf[0] == 'x', "a value larger than the buffer was copied (len %zu)", len);
    STATUS(CAIRN_OK, cairn_get_into(db, K("long"), NULL, 0, &len, &err));
    CHECK(len == 10);
    STATUS(CAIRN_OK, cairn_get_into(db, K("empty"), NULL, 0, &len, &err));
    CHECK(len == 0);
    err = ERR_UNSET;
    len = 99;
    CHECK(cairn_get_into(db, K("missing"), buf, sizeof buf, &len, &err) == CAIRN_NOT_FOUND);
    CHECK_MSG(err == NULL, "cairn_get_into made a message for a miss");
    CHECK(len == 0);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_into(db, K("k"), NULL, 4, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_into(db, K("k"), buf, sizeof buf, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_into(db, NULL, 0, buf, sizeof buf, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_into(NULL, K("k"), buf, sizeof buf, &len, &err));

    /* put_if_absent. */
    STATUS(CAIRN_OK, cairn_put_if_absent(db, K("new"), K("1"), 0, &stored, &err));
    CHECK(stored == 1);
    STATUS(CAIRN_OK, cairn_put_if_absent(db, K("new"), K("2"), 0, &stored, &err));
    CHECK(stored == 0);
    STATUS(CAIRN_OK, cairn_put_if_absent(db, K("new"), K("3"), 0, NULL, &err));
    STATUS(CAIRN_OK, cairn_get_into(db, K("new"), buf, sizeof buf, &len, &err));
    CHECK(len == 1 && buf[0] == '1');
    stored = -1;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put_if_absent(db, K("new"), K("1"), -1, &stored, &err));
    CHECK(stored == 0);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put_if_absent(db, NULL, 0, K("1"), 0, &stored, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put_if_absent(NULL, K("a"), K("1"), 0, &stored, &err));

    /* get_ttl and touch. */
    STATUS(CAIRN_OK, cairn_get_ttl(db, K("k"), &ttl, &err));
    CHECK(ttl == 0);
    STATUS(CAIRN_OK, cairn_touch(db, K("k"), 60000, &err));
    STATUS(CAIRN_OK, cairn_get_ttl(db, K("k"), &ttl, &err));
    CHECK_MSG(ttl > 50000 && ttl <= 60000, "ttl %lld after touch(60000)", (long long)ttl);
    STATUS(CAIRN_OK, cairn_get_into(db, K("k"), buf, sizeof buf, &len, &err));
    CHECK(len == 5 && memcmp(buf, "hello", 5) == 0);
    STATUS(CAIRN_OK, cairn_touch(db, K("k"), 0, &err));
    STATUS(CAIRN_OK, cairn_get_ttl(db, K("k"), &ttl, &err));
    CHECK(ttl == 0);
    STATUS(CAIRN_NOT_FOUND, cairn_touch(db, K("missing"), 10, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_get_ttl(db, K("missing"), &ttl, &err));
    CHECK(ttl == 0);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_touch(db, K("k"), -5, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_ttl(db, K("k"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_get_ttl(db, NULL, 0, &ttl, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_touch(NULL, K("k"), 5, &err));

    /* In a transaction: its own writes count; a read-only one refuses writes. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_put_if_absent(txn, K("t"), K("v"), 1000, &stored, &err));
    CHECK(stored == 1);
    STATUS(CAIRN_OK, cairn_get_ttl(txn, K("t"), &ttl, &err));
    CHECK(ttl == 1000);
    STATUS(CAIRN_OK, cairn_touch(txn, K("t"), 0, &err));
    STATUS(CAIRN_OK, cairn_get_ttl(txn, K("t"), &ttl, &err));
    CHECK(ttl == 0);
    STATUS(CAIRN_OK, cairn_get_into(txn, K("t"), buf, sizeof buf, &len, &err));
    CHECK(len == 1 && buf[0] == 'v');
    ANSWER(CAIRN_NOT_FOUND, cairn_get_into(db, K("t"), buf, sizeof buf, &len, &err));
    STATUS(CAIRN_OK, cairn_txn_commit(txn, &err));
    STATUS(CAIRN_OK, cairn_get_ttl(db, K("t"), &ttl, &err));
    CHECK(ttl == 0);
    STATUS(CAIRN_OK, cairn_txn_begin(db, CAIRN_TXN_READ_ONLY, &txn, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put_if_absent(txn, K("ro"), K("v"), 0, &stored, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_put_if_absent(txn, K("k"), K("v"), 0, &stored, &err)); /* present: refused all the same */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_touch(txn, K("k"), 5, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_touch(txn, K("missing"), 5, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_bulk_write(txn, T("c"), T("[{\"insert_one\": {\"document\": {}}}]"), NULL, 0, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_get_ttl(txn, K("k"), &ttl, &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));

    STATUS(CAIRN_OK, cairn_close(db, &err));
    STATUS(CAIRN_CLOSED, cairn_get_into(db, K("k"), buf, sizeof buf, &len, &err));
    STATUS(CAIRN_CLOSED, cairn_put_if_absent(db, K("k"), K("v"), 0, &stored, &err));
    STATUS(CAIRN_CLOSED, cairn_get_ttl(db, K("k"), &ttl, &err));
    STATUS(CAIRN_CLOSED, cairn_touch(db, K("k"), 5, &err));
}

/* cairn_iter_next_batch and cairn_cursor_next_batch. */
static void test_batched_reads(void)
{
    cairn_db *db = open_fresh("batched-reads", NULL);
    cairn_iter *it = NULL;
    cairn_cursor *cur = NULL;
    const uint8_t *data = NULL, *k = NULL;
    const uint32_t *lengths = NULL;
    const char *json = NULL;
    size_t data_len = 0, count = 0, total = 0, k_len = 0, json_len = 0;
    char key[16], *err;
    int i, rc;
    test_name = "batched reads";

    for (i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "b%04d", i);
        STATUS(CAIRN_OK, cairn_put(db, (const uint8_t *)key, strlen(key), (const uint8_t *)key, (size_t)(i % 3), 0, &err));
    }
    STATUS(CAIRN_OK, cairn_iter_open(db, NULL, 0, NULL, 0, 0, &it, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(NULL, 0, 0, 0, &data, &data_len, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(it, 0, 0, 2, &data, &data_len, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(it, 0, 0, 0, NULL, &data_len, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(it, 0, 0, 0, &data, NULL, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, NULL, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, &lengths, NULL, &err));
    /* The adaptive size starts at 64; lengths add up to the data. */
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, &lengths, &count, &err));
    CHECK_MSG(count == 64, "the first adaptive batch holds %zu items", count);
    if (count == 64 && lengths != NULL && data != NULL) {
        size_t sum = 0, j;
        for (j = 0; j < 2 * count; j++)
            sum += lengths[j];
        CHECK(sum == data_len);
        CHECK(lengths[0] == 5 && memcmp(data, "b0000", 5) == 0 && lengths[1] == 0);
        CHECK(lengths[2] == 5 && memcmp(data + 5, "b0001b", 6) == 0 && lengths[3] == 1);
    }
    total = count;
    /* One item at a time by size, and mixed with cairn_iter_next. */
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, 1, 0, 0, &data, &data_len, &lengths, &count, &err));
    CHECK(count == 1 && data_len == 5 + 64 % 3 && memcmp(data, "b0064", 5) == 0);
    STATUS(CAIRN_OK, cairn_iter_next(it, &k, &k_len, NULL, NULL, &err));
    CHECK(bytes_are(k, k_len, "b0065"));
    total += 2;
    /* SIZE_MAX means no limit (the other limit then decides). */
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, SIZE_MAX, 1, 0, &data, &data_len, &lengths, &count, &err));
    CHECK(count == 1 && memcmp(data, "b0066", 5) == 0);
    total += count;
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, 1, SIZE_MAX, 0, &data, &data_len, &lengths, &count, &err));
    CHECK(count == 1 && memcmp(data, "b0067", 5) == 0);
    total += count;
    /* A byte budget stops early, but at least one item comes. */
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, 1000, 1, CAIRN_BATCH_KEYS_ONLY, &data, &data_len, &lengths, &count, &err));
    CHECK(count == 1 && data_len == 5 && lengths[0] == 5 && memcmp(data, "b0068", 5) == 0);
    total += count;
    while ((rc = cairn_iter_next_batch(it, 100, 0, CAIRN_BATCH_KEYS_ONLY, &data, &data_len, &lengths, &count, &err)) == CAIRN_OK) {
        CHECK(count > 0 && count <= 100 && data_len == 5 * count);
        total += count;
    }
    check_status_at(__LINE__, "cairn_iter_next_batch at the end", rc, CAIRN_DONE, err, 1, 1);
    CHECK_MSG(total == 300, "batches gave %zu items of 300", total);
    CHECK(data == NULL && data_len == 0 && lengths == NULL && count == 0);
    ANSWER(CAIRN_DONE, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, &lengths, &count, &err));
    /* After a seek, batches go on from there. */
    STATUS(CAIRN_OK, cairn_iter_seek(it, K("b0298"), &err));
    STATUS(CAIRN_OK, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, &lengths, &count, &err));
    CHECK(count == 2 && memcmp(data, "b0298", 5) == 0);
    RC(CAIRN_OK, cairn_iter_close(it));
    STATUS(CAIRN_CLOSED, cairn_iter_next_batch(it, 0, 0, 0, &data, &data_len, &lengths, &count, &err));

    /* Cursors: one JSON array per batch, each document's length given. */
    STATUS(CAIRN_OK, cairn_insert_many(db, T("c"), T("[{\"_id\":1,\"a\":\"x\"},{\"_id\":2},{\"_id\":3,\"b\":[1,2]}]"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_find(db, "c", 1, NULL, 0, NULL, 0, &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_cursor_next_batch(NULL, 0, 0, &json, &json_len, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_cursor_next_batch(cur, 0, 0, NULL, &json_len, &lengths, &count, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_cursor_next_batch(cur, 0, 0, &json, &json_len, &lengths, NULL, &err));
    STATUS(CAIRN_OK, cairn_cursor_next_batch(cur, 2, 0, &json, &json_len, &lengths, &count, &err));
    CHECK_MSG(count == 2 && json != NULL && strcmp(json, "[{\"_id\":1,\"a\":\"x\"},{\"_id\":2}]") == 0,
              "first batch: %s", json != NULL ? json : "NULL");
    CHECK(json_len == (json != NULL ? strlen(json) : 0));
    CHECK(lengths != NULL && lengths[0] == 17 && lengths[1] == 9);
    STATUS(CAIRN_OK, cairn_cursor_next_batch(cur, 0, 0, &json, NULL, NULL, &count, &err));
    CHECK(count == 1 && json != NULL && strcmp(json, "[{\"_id\":3,\"b\":[1,2]}]") == 0);
    ANSWER(CAIRN_DONE, cairn_cursor_next_batch(cur, 0, 0, &json, &json_len, &lengths, &count, &err));
    CHECK(json == NULL && json_len == 0 && count == 0);
    RC(CAIRN_OK, cairn_cursor_close(cur));
    STATUS(CAIRN_CLOSED, cairn_cursor_next_batch(cur, 0, 0, &json, &json_len, &lengths, &count, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

static void test_search(void)
{
    cairn_db *db = open_fresh("search", NULL);
    cairn_db *txn = NULL;
    cairn_cursor *cur = NULL;
    const char *json = NULL;
    size_t len = 0;
    char *name = NULL;
    test_name = "full-text search";

    STATUS(CAIRN_OK, cairn_insert_one(db, T("posts"), T("{\"_id\":1,\"title\":\"Crash-safe storage\",\"body\":\"The log is synced before the table\"}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("posts"), T("{\"_id\":2,\"title\":\"Fast reads\",\"body\":\"Tables are mapped; storage is cached\"}"), NULL, NULL, &err));
    /* No text index yet: NOT_FOUND, with a message. */
    STATUS(CAIRN_NOT_FOUND, cairn_search(db, T("posts"), T("storage"), NULL, 0, &cur, &err));
    CHECK(cur == NULL);
    STATUS(CAIRN_OK, cairn_index_create(db, T("posts"), T("{\"keys\":{\"title\":\"text\",\"body\":\"text\"},\"weights\":{\"title\":3}}"), &name, &len, &err));
    CHECK(name != NULL && strcmp(name, "title_text_body_text") == 0);
    cairn_free(name);

    /* The title's weight ranks document 1 first. */
    STATUS(CAIRN_OK, cairn_search(db, T("posts"), T("storage"), NULL, 0, &cur, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(cur, &json, &len, &err));
    CHECK_MSG(strstr(json, "\"_id\":1") != NULL && strstr(json, "\"score\":") != NULL, "first hit: %s", json);
    STATUS(CAIRN_OK, cairn_cursor_next(cur, &json, &len, &err));
    CHECK_MSG(strstr(json, "\"_id\":2") != NULL, "second hit: %s", json);
    ANSWER(CAIRN_DONE, cairn_cursor_next(cur, &json, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cur));

    /* Options: a filter, highlights. */
    STATUS(CAIRN_OK, cairn_search(db, T("posts"), T("+table* -fast"), T("{\"highlight\":true,\"filter\":{\"_id\":{\"$lt\":5}}}"), &cur, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(cur, &json, &len, &err));
    CHECK_MSG(strstr(json, "<em>table</em>") != NULL && strstr(json, "\"snippet\"") != NULL, "highlighted: %s", json);
    ANSWER(CAIRN_DONE, cairn_cursor_next(cur, &json, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cur));

    /* In a transaction: its own writes are searched. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_insert_one(txn, T("posts"), T("{\"_id\":3,\"title\":\"Zebra\"}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_search(txn, T("posts"), T("zebra"), NULL, 0, &cur, &err));
    STATUS(CAIRN_OK, cairn_cursor_next(cur, &json, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cur));
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    STATUS(CAIRN_OK, cairn_search(db, T("posts"), T("zebra"), NULL, 0, &cur, &err));
    ANSWER(CAIRN_DONE, cairn_cursor_next(cur, &json, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cur));

    /* Misuse and malformed input. */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(NULL, T("posts"), T("x"), NULL, 0, &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), T("x"), NULL, 0, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), NULL, 3, NULL, 0, &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), T("say \"hi"), NULL, 0, &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), T("\xff\xfe"), NULL, 0, &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), T("x"), T("{\"limit\":\"ten\"}"), &cur, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_search(db, T("posts"), T("x"), T("{\"bogus\":1}"), &cur, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_search(db, T("posts"), T("x"), T("{\"index\":\"nope\"}"), &cur, &err));
    /* A missing collection has no hits. */
    STATUS(CAIRN_OK, cairn_search(db, T("nothing"), T("x"), NULL, 0, &cur, &err));
    ANSWER(CAIRN_DONE, cairn_cursor_next(cur, &json, &len, &err));
    RC(CAIRN_OK, cairn_cursor_close(cur));
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Vector search                                                             */
/* ------------------------------------------------------------------------ */

/* The float32 binary form: 0x27, 0, then the components little-endian,
   as Extended JSON binary of subType 09. */
static void vector_json(char *out, size_t cap, const float *v, int n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[2 + 4 * 16];
    char text[128];
    size_t len = 2, i, t = 0;
    raw[0] = 0x27;
    raw[1] = 0;
    for (i = 0; i < (size_t)n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        raw[len++] = (unsigned char)(bits & 0xFF);
        raw[len++] = (unsigned char)((bits >> 8) & 0xFF);
        raw[len++] = (unsigned char)((bits >> 16) & 0xFF);
        raw[len++] = (unsigned char)(bits >> 24);
    }
    for (i = 0; i < len; i += 3) {
        uint32_t chunk = (uint32_t)raw[i] << 16 | (i + 1 < len ? (uint32_t)raw[i + 1] << 8 : 0) |
                         (i + 2 < len ? raw[i + 2] : 0);
        text[t++] = b64[(chunk >> 18) & 63];
        text[t++] = b64[(chunk >> 12) & 63];
        text[t++] = i + 1 < len ? b64[(chunk >> 6) & 63] : '=';
        text[t++] = i + 2 < len ? b64[chunk & 63] : '=';
    }
    text[t] = '\0';
    snprintf(out, cap, "{\"$binary\":{\"base64\":\"%s\",\"subType\":\"09\"}}", text);
}

static void test_vector_search(void)
{
    cairn_db *db = open_fresh("vectors", NULL);
    cairn_cursor *cursor = NULL;
    const char *doc = NULL;
    char *name = NULL, query[512], docs[8192], vec[256];
    size_t len = 0, used = 0;
    int i, seen = 0;
    test_name = "vector_search";

    STATUS(CAIRN_OK, cairn_index_create(db, T("pts"), T("{\"keys\":{\"v\":\"vector\"},\"dimensions\":3,"
                                                        "\"metric\":\"l2\",\"filter_fields\":[\"odd\"]}"),
                                        &name, &len, &err));
    CHECK(name != NULL && strcmp(name, "v_vector") == 0);
    cairn_free(name);
    used = (size_t)snprintf(docs, sizeof docs, "[");
    for (i = 0; i < 20; i++) {
        float v[3] = {(float)i, 0.5f, -1.0f};
        vector_json(vec, sizeof vec, v, 3);
        used += (size_t)snprintf(docs + used, sizeof docs - used, "%s{\"_id\":%d,\"odd\":%s,\"v\":%s}",
                                 i == 0 ? "" : ",", i, i % 2 ? "true" : "false", vec);
    }
    snprintf(docs + used, sizeof docs - used, "]");
    STATUS(CAIRN_OK, cairn_insert_many(db, T("pts"), docs, strlen(docs), NULL, NULL, &err));

    /* Nearest first, with scores; the binary form as the query too. */
    {
        float q[3] = {7.2f, 0.5f, -1.0f};
        vector_json(vec, sizeof vec, q, 3);
    }
    snprintf(query, sizeof query, "{\"vector\":%s,\"k\":3,\"include_scores\":true}", vec);
    STATUS(CAIRN_OK, cairn_vector_search(db, T("pts"), query, strlen(query), &cursor, &err));
    while (cursor != NULL && cairn_cursor_next(cursor, &doc, &len, NULL) == CAIRN_OK) {
        static const char *const want[] = {"{\"_id\":7,", "{\"_id\":8,", "{\"_id\":6,"};
        CHECK_MSG(seen < 3 && strncmp(doc, want[seen], strlen(want[seen])) == 0 && strstr(doc, "\"_score\":") != NULL,
                  "result %d: %s", seen, doc);
        seen++;
    }
    CHECK(seen == 3);
    RC(CAIRN_OK, cairn_cursor_close(cursor));

    /* A filter on a filter field, exact mode. */
    cursor = NULL;
    seen = 0;
    STATUS(CAIRN_OK, cairn_vector_search(db, T("pts"), T("{\"vector\":[7.2,0.5,-1],\"k\":2,\"filter\":{\"odd\":false},\"exact\":true}"),
                                         &cursor, &err));
    while (cursor != NULL && cairn_cursor_next(cursor, &doc, &len, NULL) == CAIRN_OK) {
        CHECK_MSG(strncmp(doc, seen == 0 ? "{\"_id\":8," : "{\"_id\":6,", 8) == 0, "filtered result %d: %s", seen, doc);
        seen++;
    }
    CHECK(seen == 2);
    RC(CAIRN_OK, cairn_cursor_close(cursor));

    /* Errors: a wrong dimension, NaN, k = 0, a huge k, NULL arguments. */
    cursor = NULL;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_vector_search(db, T("pts"), T("{\"vector\":[1,2],\"k\":1}"), &cursor, &err));
    CHECK(cursor == NULL);
    STATUS(CAIRN_INVALID_ARGUMENT,
           cairn_vector_search(db, T("pts"), T("{\"vector\":[1,2,{\"$numberDouble\":\"NaN\"}]}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_vector_search(db, T("pts"), T("{\"vector\":[1,2,3],\"k\":0}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_vector_search(db, T("pts"), T("{\"vector\":[1,2,3],\"k\":1e12}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_vector_search(db, T("pts"), T("{\"vector\":[1,2,3]}"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_vector_search(NULL, T("pts"), T("{\"vector\":[1,2,3]}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_hybrid_search(db, T("pts"), T("{\"vector\":[1,2,3]}"), &cursor, &err));
    CHECK(cursor == NULL);
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Graphs                                                                    */
/* ------------------------------------------------------------------------ */

/* Runs a graph query and returns its rows joined by '\n' in `out`. */
static int graph_rows(cairn_db *db, const char *query, char *out, size_t cap, char **errmsg)
{
    cairn_cursor *cursor = NULL;
    const char *row;
    size_t len, used = 0;
    int rc = cairn_graph_query(db, T("g"), query, strlen(query), &cursor, errmsg);
    out[0] = '\0';
    if (rc != CAIRN_OK)
        return rc;
    while (cairn_cursor_next(cursor, &row, &len, NULL) == CAIRN_OK) {
        if (used + len + 2 < cap) {
            memcpy(out + used, row, len);
            used += len;
            out[used++] = '\n';
            out[used] = '\0';
        }
    }
    cairn_cursor_close(cursor);
    return CAIRN_OK;
}

typedef struct {
    cairn_db *db;
    int status;
} graph_walk;

static void *graph_walk_thread(void *arg)
{
    graph_walk *walk = arg;
    char rows[64];
    /* Every simple path of a complete graph: far too many to finish. */
    walk->status = graph_rows(walk->db,
                              "{\"op\":\"all_paths\",\"start\":0,\"target\":1,\"max_length\":13,"
                              "\"limit\":2000000000,\"memory_limit\":1099511627776}",
                              rows, sizeof rows, NULL);
    return NULL;
}

static void test_graph(void)
{
    cairn_db *db = open_fresh("graph", NULL), *txn = NULL;
    cairn_cursor *cursor = NULL;
    char rows[4096], docs[16384], *json = NULL, *message = NULL;
    size_t len = 0, vertices = 99, edges = 99, used;
    int i, j;
    pthread_t thread;
    graph_walk walk;
    test_name = "graph";

    STATUS(CAIRN_OK, cairn_graph_create(db, T("g"), T("{\"edges\":\"e\",\"vertices\":[\"v\"]}"), &err));
    STATUS(CAIRN_OK, cairn_graph_list(db, &json, &len, &err));
    CHECK_MSG(json != NULL && strcmp(json, "[{\"name\":\"g\",\"edges\":\"e\",\"vertices\":[\"v\"],\"weight\":\"weight\"}]") == 0,
              "list: %s", json ? json : "(null)");
    CHECK(json == NULL || strlen(json) == len);
    cairn_free(json);
    STATUS(CAIRN_OK, cairn_insert_many(db, T("v"), T("[{\"_id\":\"a\"},{\"_id\":\"b\"},{\"_id\":\"c\"}]"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_many(db, T("e"), T("[{\"_id\":1,\"_from\":\"a\",\"_to\":\"b\"},{\"_id\":2,\"_from\":\"b\",\"_to\":\"c\"},"
                                                     "{\"_id\":3,\"_from\":\"c\",\"_to\":\"a\"}]"), NULL, NULL, &err));
    STATUS(CAIRN_OK, graph_rows(db, "{\"op\":\"traverse\",\"start\":\"a\",\"vertices\":false}", rows, sizeof rows, &err));
    CHECK_MSG(strcmp(rows, "{\"id\":\"b\",\"depth\":1}\n{\"id\":\"c\",\"depth\":2}\n") == 0, "traverse: %s", rows);
    STATUS(CAIRN_OK, graph_rows(db, "{\"op\":\"shortest_path\",\"start\":\"a\",\"target\":\"c\"}", rows, sizeof rows, &err));
    CHECK_MSG(strcmp(rows, "{\"vertices\":[\"a\",\"b\",\"c\"],\"edges\":[1,2],\"length\":2}\n") == 0, "shortest: %s", rows);
    STATUS(CAIRN_OK, graph_rows(db, "{\"op\":\"has_cycle\"}", rows, sizeof rows, &err));
    CHECK_MSG(strcmp(rows, "{\"has_cycle\":true,\"cycle\":[\"a\",\"b\",\"c\"]}\n") == 0, "cycle: %s", rows);

    /* In a transaction: its own writes, then deleting a vertex with its edges. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_OK, cairn_graph_delete_vertex(txn, T("g"), T("\"b\""), &vertices, &edges, &err));
    CHECK(vertices == 1 && edges == 2);
    STATUS(CAIRN_OK, cairn_graph_query(txn, T("g"), T("{\"op\":\"components\"}"), &cursor, &err));
    RC(CAIRN_OK, cairn_cursor_close(cursor));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_create(txn, T("h"), T("{\"edges\":\"x\"}"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_drop(txn, T("g"), &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    STATUS(CAIRN_OK, graph_rows(db, "{\"op\":\"degree\",\"vertex\":\"b\"}", rows, sizeof rows, &err));
    CHECK_MSG(strcmp(rows, "{\"id\":\"b\",\"out\":1,\"in\":1,\"degree\":2}\n") == 0, "degree: %s", rows);
    STATUS(CAIRN_OK, cairn_graph_delete_vertex(db, T("g"), T("\"zz\""), NULL, NULL, &err));

    /* Errors: bad arguments, bad queries, missing graphs, negative weights, the budget. */
    cursor = (cairn_cursor *)1;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_query(db, T("g"), T("{\"op\":\"traverse\"}"), &cursor, &err));
    CHECK(cursor == NULL);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_query(db, T("g"), T("{\"op\":"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_query(db, T("g"), T("{\"op\":\"components\"}"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_query(NULL, T("g"), T("{\"op\":\"components\"}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_query(db, "g\0", 2, T("{\"op\":\"components\"}"), &cursor, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_graph_query(db, T("nope"), T("{\"op\":\"components\"}"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_create(db, T("g"), T("{\"edges\":\"other\"}"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_create(db, T("x"), T("{}"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_create(db, T("x"), NULL, 5, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_list(db, NULL, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_graph_delete_vertex(db, T("g"), T("{"), NULL, NULL, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_graph_delete_vertex(db, T("nope"), T("1"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("e"), T("{\"_id\":4,\"_from\":\"a\",\"_to\":\"c\",\"weight\":-1}"), NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, graph_rows(db, "{\"op\":\"shortest_path\",\"start\":\"a\",\"target\":\"c\",\"weighted\":true}",
                                              rows, sizeof rows, &err));
    message = NULL;
    RC(CAIRN_INVALID_ARGUMENT, graph_rows(db, "{\"op\":\"shortest_path\",\"start\":\"a\",\"target\":\"c\",\"weighted\":true}",
                                          rows, sizeof rows, &message));
    CHECK_MSG(message != NULL && strstr(message, "negative") != NULL, "negative weight: %s", message ? message : "(null)");
    cairn_free(message);
    message = NULL;
    RC(CAIRN_INVALID_ARGUMENT, graph_rows(db, "{\"op\":\"components\",\"memory_limit\":10}", rows, sizeof rows, &message));
    CHECK_MSG(message != NULL && strstr(message, "memory") != NULL, "budget: %s", message ? message : "(null)");
    cairn_free(message);
    STATUS(CAIRN_OK, cairn_graph_drop(db, T("g"), &err));
    STATUS(CAIRN_NOT_FOUND, cairn_graph_drop(db, T("g"), &err));

    /* cairn_interrupt() stops a query that would run for ages. */
    STATUS(CAIRN_OK, cairn_graph_create(db, T("g"), T("{\"edges\":\"k\"}"), &err));
    used = (size_t)snprintf(docs, sizeof docs, "[");
    for (i = 0; i < 13; i++)
        for (j = 0; j < 13; j++)
            if (i != j)
                used += (size_t)snprintf(docs + used, sizeof docs - used, "%s{\"_from\":%d,\"_to\":%d}",
                                         used == 1 ? "" : ",", i, j);
    snprintf(docs + used, sizeof docs - used, "]");
    STATUS(CAIRN_OK, cairn_insert_many(db, T("k"), docs, strlen(docs), NULL, NULL, &err));
    walk.db = db;
    walk.status = -1;
    if (pthread_create(&thread, NULL, graph_walk_thread, &walk) == 0) {
        feed_sleep_ms(200);
        RC(CAIRN_OK, cairn_interrupt(db));
        pthread_join(thread, NULL);
        CHECK_MSG(walk.status == CAIRN_INTERRUPTED, "interrupted walk: %d", walk.status);
    }
    STATUS(CAIRN_OK, graph_rows(db, "{\"op\":\"has_cycle\"}", rows, sizeof rows, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
}

/* ------------------------------------------------------------------------ */
/* Time series                                                               */
/* ------------------------------------------------------------------------ */

#define J(s) (s), (sizeof(s) - 1)

/* Reads a cursor to its end; returns the rows' text joined by '\n'. */
static void ts_rows(cairn_cursor *cursor, char *out, size_t cap)
{
    const char *row;
    size_t len, used = 0;
    out[0] = '\0';
    while (cairn_cursor_next(cursor, &row, &len, NULL) == CAIRN_OK) {
        if (used + len + 2 < cap) {
            memcpy(out + used, row, len);
            used += len;
            out[used++] = '\n';
            out[used] = '\0';
        }
    }
    cairn_cursor_close(cursor);
}

static void test_time_series(void)
{
    cairn_db *db = open_fresh("time-series", NULL), *txn = NULL;
    cairn_cursor *cursor = NULL;
    uint64_t id = 0, int_id = 0, ids[3];
    int64_t times[3] = {4102444800000, 4102444800000 + 1000, 4102444800000 + 500};
    double values[3] = {1.5, 0.0, -2.25};
    int64_t ints[3] = {INT64_MIN, INT64_MAX, 0};
    size_t n = 99;
    char rows[2048];
    char *text = NULL;
    test_name = "time series";
    values[1] = values[1] / values[1]; /* NaN */

    STATUS(CAIRN_OK, cairn_ts_series_id(db, J("{\"metric\":\"cpu\",\"tags\":{\"host\":\"a\"}}"), &id, &err));
    CHECK(id != 0 && (id & 1) == 0);
    STATUS(CAIRN_OK, cairn_ts_series_id(db, J("{\"metric\":\"cpu\",\"tags\":{\"host\":\"a\"}}"), &ids[0], &err));
    CHECK(ids[0] == id);
    STATUS(CAIRN_OK, cairn_ts_series_id(db, J("{\"metric\":\"n\",\"type\":\"int\"}"), &int_id, &err));
    CHECK((int_id & 1) == 1);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_series_id(db, J("{\"metric\":\"n\",\"type\":\"float\"}"), &ids[0], &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_series_id(db, J("{\"metric\":\"\"}"), &ids[0], &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_series_id(db, J("{\"metric\":\"m\",\"tags\":{\"__name__\":\"x\"}}"), &ids[0], &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_series_id(db, J("{\"metric\":\"m\"}"), NULL, &err));

    /* Columns: any order, NaN as a value; an int series refuses floats; an
       unknown id is NOT_FOUND; out-of-range times and NULL columns are
       INVALID_ARGUMENT; nothing of a refused call is written. */
    ids[0] = ids[1] = ids[2] = id;
    STATUS(CAIRN_OK, cairn_ts_write_float(db, ids, times, values, 3, &err));
    STATUS(CAIRN_OK, cairn_ts_write_float(db, NULL, NULL, NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_write_float(db, NULL, times, values, 3, &err));
    ids[2] = int_id;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_write_float(db, ids, times, values, 3, &err));
    ids[2] = 4242;
    STATUS(CAIRN_NOT_FOUND, cairn_ts_write_float(db, ids, times, values, 3, &err));
    ids[0] = ids[1] = ids[2] = int_id;
    STATUS(CAIRN_OK, cairn_ts_write_int(db, ids, times, ints, 3, &err));
    times[0] = INT64_MAX;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_write_int(db, ids, times, ints, 3, &err));
    times[0] = 4102444800000;

    STATUS(CAIRN_OK, cairn_ts_range(db, J("{\"metric\":\"cpu\",\"tags\":{\"host\":\"a\"}}"), &cursor, &err));
    ts_rows(cursor, rows, sizeof rows);
    CHECK_MSG(strcmp(rows, "{\"t\":4102444800000,\"v\":1.5}\n{\"t\":4102444800500,\"v\":-2.25}\n{\"t\":4102444801000,\"v\":\"NaN\"}\n") == 0,
              "rows %s", rows);
    STATUS(CAIRN_OK, cairn_ts_range(db, J("{\"metric\":\"n\",\"tags\":{}}"), &cursor, &err));
    ts_rows(cursor, rows, sizeof rows);
    CHECK_MSG(strcmp(rows, "{\"t\":4102444800000,\"v\":-9223372036854775808}\n{\"t\":4102444800500,\"v\":0}\n"
                           "{\"t\":4102444801000,\"v\":9223372036854775807}\n") == 0, "rows %s", rows);

    /* Queries: a bad query or aggregate is INVALID_ARGUMENT with no cursor. */
    cursor = (cairn_cursor *)1;
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_aggregate(db, J("{\"metric\":\"cpu\",\"every\":10,\"aggregates\":[\"p0\"]}"), &cursor, &err));
    CHECK(cursor == NULL);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_range(db, J("[1]"), &cursor, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_range(db, J("{\"metric\":\"cpu\"}"), NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_write(db, J("[{\"metric\":\"cpu\",\"t\":\"x\",\"v\":1}]"), &n, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_import(db, J("cpu v=1\ncpu,=x v=1\n"), NULL, 0, &n, &err));
    STATUS(CAIRN_OK, cairn_ts_series(db, NULL, 0, &cursor, &err));
    ts_rows(cursor, rows, sizeof rows);
    CHECK_MSG(strstr(rows, "\"metric\":\"cpu\"") != NULL && strstr(rows, "\"type\":\"int\"") != NULL, "series %s", rows);

    /* Maintenance with the clock, settings, compaction. */
    STATUS(CAIRN_OK, cairn_ts_set_retention(db, J("cpu"), 3600000, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_set_retention(db, J("cpu"), -1, &err));
    STATUS(CAIRN_OK, cairn_ts_maintain(db, CAIRN_TS_NOW, &text, &n, &err));
    CHECK(text != NULL && strstr(text, "rolled_up") != NULL);
    cairn_free(text);
    STATUS(CAIRN_OK, cairn_ts_settings(db, &text, NULL, &err));
    CHECK(text != NULL && strstr(text, "\"cpu\":3600000") != NULL);
    cairn_free(text);
    STATUS(CAIRN_NOT_FOUND, cairn_ts_drop_rule(db, J("none"), &err));
    STATUS(CAIRN_OK, cairn_ts_set_maintenance_interval(db, 0, &err));
    STATUS(CAIRN_OK, cairn_ts_compact(db, &n, &err));
    CHECK(n == 2);

    /* A transaction handle is refused; a closed database is CLOSED. */
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_ts_write_float(txn, ids, times, values, 0, &err));
    RC(CAIRN_OK, cairn_txn_rollback(txn));
    STATUS(CAIRN_OK, cairn_ts_range(db, J("{\"id\":2}"), &cursor, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
    {
        const char *row;
        size_t len;
        STATUS(CAIRN_CLOSED, cairn_cursor_next(cursor, &row, &len, &err));
    }
    cairn_cursor_close(cursor);
    STATUS(CAIRN_CLOSED, cairn_ts_write_float(db, ids, times, values, 1, &err));
}

static void test_expiry_and_links(void)
{
    cairn_db *db = open_fresh("expiry-links", "{\"sync\":\"never\"}");
    cairn_db *txn = NULL;
    char *json = NULL, *id = NULL;
    size_t len = 0, removed_all = 9;
    int removed = 9;
    uint64_t count = 0;
    test_name = "documents that expire, links";

    /* A TTL index: 2001 is long past, 2100 is not; a string never expires. */
    STATUS(CAIRN_OK, cairn_index_create(db, T("events"), T("{\"keys\":{\"at\":1},\"expireAfterSeconds\":0}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("events"), T("{\"_id\":1,\"at\":{\"$date\":\"2001-01-01T00:00:00Z\"}}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("events"), T("{\"_id\":2,\"at\":{\"$date\":\"2100-01-01T00:00:00Z\"}}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("events"), T("{\"_id\":3,\"at\":\"soon\"}"), NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_count(db, T("events"), T("{}"), &count, &err));
    CHECK_MSG(count == 2, "count %llu", (unsigned long long)count);
    STATUS(CAIRN_NOT_FOUND, cairn_find_by_id(db, T("events"), T("1"), &json, &len, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_create(db, T("events"), T("{\"keys\":{\"b\":1},\"expireAfterSeconds\":-5}"), NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_index_create(db, T("events"), T("{\"keys\":{\"b\":1,\"c\":1},\"expireAfterSeconds\":5}"), NULL, NULL, &err));

    /* Inserts with a TTL. */
    STATUS(CAIRN_OK, cairn_insert_one_with_ttl(db, T("sessions"), T("{\"_id\":\"s1\"}"), 3600000, &id, &len, &err));
    CHECK(id != NULL && strcmp(id, "\"s1\"") == 0);
    cairn_free(id);
    STATUS(CAIRN_OK, cairn_find_by_id(db, T("sessions"), T("\"s1\""), &json, &len, &err));
    CHECK_MSG(strstr(json, "\"_expiresAt\":{\"$date\":") != NULL, "stamped: %s", json);
    cairn_free(json);
    STATUS(CAIRN_OK, cairn_insert_one_with_ttl(db, T("sessions"), T("{\"_id\":\"s2\"}"), 1, NULL, NULL, &err));
    feed_sleep_ms(20);
    STATUS(CAIRN_NOT_FOUND, cairn_find_by_id(db, T("sessions"), T("\"s2\""), &json, &len, &err));
    STATUS(CAIRN_OK, cairn_insert_one(db, T("sessions"), T("{\"_id\":\"s2\"}"), NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one_with_ttl(db, T("sessions"), T("{}"), 0, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one_with_ttl(db, T("sessions"), T("{}"), -1, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one_with_ttl(db, T("sessions"), T("{}"), INT64_MAX, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one_with_ttl(NULL, T("sessions"), T("{}"), 1000, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_txn_begin(db, 0, &txn, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_insert_one_with_ttl(txn, T("fresh"), T("{}"), 1000, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_insert_one_with_ttl(txn, T("sessions"), T("{\"_id\":\"s9\"}"), 1000, NULL, NULL, &err));
    RC(CAIRN_OK, cairn_txn_commit(txn, NULL));

    /* Links. */
    STATUS(CAIRN_OK, cairn_put(db, K("user:1"), K("v"), 0, &err));
    STATUS(CAIRN_OK, cairn_link(db, K("user:1"), T("sessions"), T("\"s1\""), T("{\"role\":\"owner\"}"), &err));
    STATUS(CAIRN_OK, cairn_link(db, K("user:1"), T("events"), T("2"), NULL, 0, &err));
    STATUS(CAIRN_OK, cairn_key_links(db, K("user:1"), &json, &len, &err));
    CHECK_MSG(strcmp(json, "[{\"collection\":\"events\",\"id\":2,\"metadata\":null},"
                           "{\"collection\":\"sessions\",\"id\":\"s1\",\"metadata\":{\"role\":\"owner\"}}]") == 0, "links: %s", json);
    CHECK(len == strlen(json));
    cairn_free(json);
    STATUS(CAIRN_OK, cairn_document_links(db, T("sessions"), T("\"s1\""), &json, &len, &err));
    CHECK_MSG(strcmp(json, "[{\"key\":\"user:1\",\"key_base64\":\"dXNlcjox\",\"metadata\":{\"role\":\"owner\"}}]") == 0, "keys: %s", json);
    cairn_free(json);
    STATUS(CAIRN_NOT_FOUND, cairn_link(db, K("nobody"), T("events"), T("2"), NULL, 0, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_link(db, K("user:1"), T("events"), T("1"), NULL, 0, &err)); /* expired */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_link(db, K("user:1"), T("events"), T("2"), T("[1]"), &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_link(db, K("user:1"), T("events"), T("{bad"), NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_link(db, NULL, 0, T("events"), T("2"), NULL, 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_key_links(db, K("user:1"), NULL, &len, &err));
    STATUS(CAIRN_OK, cairn_unlink(db, K("user:1"), T("events"), T("2"), &removed, &err));
    CHECK(removed == 1);
    STATUS(CAIRN_OK, cairn_unlink(db, K("user:1"), T("events"), T("2"), &removed, &err));
    CHECK(removed == 0);
    /* Deleting the document removes its links. */
    STATUS(CAIRN_OK, cairn_delete_one(db, T("sessions"), T("{\"_id\":\"s1\"}"), NULL, &err));
    STATUS(CAIRN_OK, cairn_key_links(db, K("user:1"), &json, &len, &err));
    CHECK_MSG(strcmp(json, "[]") == 0, "after the delete: %s", json);
    cairn_free(json);
    STATUS(CAIRN_OK, cairn_link(db, K("user:1"), T("events"), T("2"), NULL, 0, &err));
    STATUS(CAIRN_OK, cairn_unlink_all(db, K("user:1"), &removed_all, &err));
    CHECK(removed_all == 1);
    STATUS(CAIRN_OK, cairn_close(db, &err));
    STATUS(CAIRN_CLOSED, cairn_key_links(db, K("user:1"), &json, &len, &err));
}

/* ------------------------------------------------------------------------ */
/* Operations: checkpoints, verification, secondaries, backups               */
/* ------------------------------------------------------------------------ */

static void test_operations(void)
{
    char path[PATH_MAX], copy[PATH_MAX], backups[PATH_MAX], restored[PATH_MAX];
    cairn_db *db, *reader = NULL, *secondary = NULL;
    char *report = NULL, *busy = NULL;
    size_t report_len = 0;
    uint64_t sequence = 0;
    uint8_t *value = NULL;
    size_t len = 0;
    int code;
    test_name = "operations";
    db_dir(path, sizeof path, "ops");
    db_dir(copy, sizeof copy, "ops-copy");
    db_dir(backups, sizeof backups, "ops-backups");
    db_dir(restored, sizeof restored, "ops-restored");

    db = open_fresh("ops", "{\"sync\": \"never\"}");
    STATUS(CAIRN_OK, cairn_put(db, K("ops:key"), K("seen by a reader"), 0, &err));

    /* A checkpoint: a report, a copy that opens and verifies. */
    STATUS(CAIRN_OK, cairn_checkpoint(db, copy, &report, &report_len, &err));
    CHECK(report != NULL && strstr(report, "\"sequence\":1") != NULL && report_len == strlen(report));
    cairn_free(report);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_checkpoint(db, copy, NULL, NULL, &err)); /* not empty */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_checkpoint(db, NULL, NULL, NULL, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_checkpoint(NULL, copy, NULL, NULL, &err));
    report = NULL;
    STATUS(CAIRN_OK, cairn_verify(copy, NULL, 0, &report, &report_len, &err));
    CHECK(report != NULL && strstr(report, "\"ok\":true") != NULL);
    cairn_free(report);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_verify(copy, NULL, 0, NULL, NULL, &err)); /* report required */
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_verify(copy, "{\"x\": 1}", 8, &report, NULL, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_verify("/nonexistent/cairn", NULL, 0, &report, NULL, &err));
    report = NULL;
    STATUS(CAIRN_OK, cairn_verify_live(db, &report, NULL, &err));
    CHECK(report != NULL && strstr(report, "\"ok\":true") != NULL);
    cairn_free(report);

    /* A second writer is BUSY and says it is this process; readers open. */
    RC(CAIRN_BUSY, cairn_open(path, "{\"lock_timeout_ms\": 30}", 23, &reader, &busy));
    STATUS(CAIRN_OK, cairn_open(path, "{\"read_only\": true}", 19, &reader, &err));
    STATUS(CAIRN_OK, cairn_get(reader, K("ops:key"), &value, &len, &err));
    CHECK(bytes_are(value, len, "seen by a reader"));
    cairn_free(value);
    STATUS(CAIRN_READ_ONLY, cairn_put(reader, K("k"), K("v"), 0, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_catch_up(reader, &sequence, &err));
    STATUS(CAIRN_OK, cairn_close(reader, &err));
    code = run_child("--child-read-only", path);
    CHECK_MSG(code == CAIRN_OK, "a read-only open in another process: exit %d", code);
    STATUS(CAIRN_OK, cairn_open(path, "{\"secondary\": true}", 19, &secondary, &err));
    STATUS(CAIRN_OK, cairn_put(db, K("ops:later"), K("2"), 0, &err));
    ANSWER(CAIRN_NOT_FOUND, cairn_get(secondary, K("ops:later"), &value, &len, &err));
    STATUS(CAIRN_OK, cairn_catch_up(secondary, &sequence, &err));
    CHECK(sequence == 2);
    STATUS(CAIRN_OK, cairn_get(secondary, K("ops:later"), &value, &len, &err));
    cairn_free(value);
    STATUS(CAIRN_OK, cairn_catch_up(secondary, NULL, &err));
    STATUS(CAIRN_OK, cairn_close(secondary, &err));

    /* Backups. */
    report = NULL;
    STATUS(CAIRN_OK, cairn_backup_create(db, backups, &report, &report_len, &err));
    CHECK(report != NULL && strstr(report, "\"id\":1") != NULL);
    cairn_free(report);
    STATUS(CAIRN_OK, cairn_put(db, K("ops:third"), K("3"), 0, &err));
    STATUS(CAIRN_OK, cairn_backup_create(db, backups, NULL, NULL, &err));
    report = NULL;
    STATUS(CAIRN_OK, cairn_backup_list(backups, &report, &report_len, &err));
    CHECK(report != NULL && report[0] == '[' && strstr(report, "\"id\":2") != NULL);
    cairn_free(report);
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_backup_list(backups, NULL, NULL, &err));
    report = NULL;
    STATUS(CAIRN_OK, cairn_backup_verify(backups, 2, &report, NULL, &err));
    CHECK(report != NULL && strstr(report, "\"ok\":true") != NULL);
    cairn_free(report);
    STATUS(CAIRN_NOT_FOUND, cairn_backup_verify(backups, 9, &report, NULL, &err));
    STATUS(CAIRN_OK, cairn_backup_restore(backups, 1, restored, &err));
    STATUS(CAIRN_INVALID_ARGUMENT, cairn_backup_restore(backups, 1, restored, &err));
    STATUS(CAIRN_OK, cairn_open(restored, NULL, 0, &reader, &err));
    STATUS(CAIRN_OK, cairn_get(reader, K("ops:later"), &value, &len, &err));
    cairn_free(value);
    ANSWER(CAIRN_NOT_FOUND, cairn_get(reader, K("ops:third"), &value, &len, &err));
    STATUS(CAIRN_OK, cairn_close(reader, &err));
    report = NULL;
    STATUS(CAIRN_OK, cairn_backup_purge(backups, 1, &report, NULL, &err));
    CHECK(report != NULL && strstr(report, "\"deleted\":[1]") != NULL);
    cairn_free(report);
    STATUS(CAIRN_OK, cairn_backup_purge(backups, UINT32_MAX, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_backup_delete(backups, 2, NULL, NULL, &err));
    STATUS(CAIRN_NOT_FOUND, cairn_backup_delete(backups, 2, NULL, NULL, &err));
    STATUS(CAIRN_OK, cairn_close(db, &err));
    /* A closed handle. */
    STATUS(CAIRN_CLOSED, cairn_checkpoint(db, copy, NULL, NULL, &err));
    STATUS(CAIRN_CLOSED, cairn_catch_up(db, NULL, &err));
    CHECK(busy != NULL && strstr(busy, "this process") != NULL);
    cairn_free(busy);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    if (argc == 3 && strncmp(argv[1], "--child-", 8) == 0)
        return child_main(argv[1], argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    snprintf(base_dir, sizeof base_dir, "%s/cairn-abi-test-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(base_dir) == NULL) {
        fprintf(stderr, "cairn-abi-test: mkdtemp(%s): %s\n", base_dir, strerror(errno));
        return 2;
    }

    test_versions();
    test_status_names();
    test_parse_duration();
    test_open_arguments();
    test_close();
    test_locking();
    test_kv_arguments();
    test_limits();
    test_batches();
    test_iterators();
    test_kv_conveniences();
    test_batched_reads();
    test_document_arguments();
    test_insert_many_with_options();
    test_cursors();
    test_query_arguments();
    test_find_and_modify();
    test_transactions();
    test_threads();
    test_duplicate_keys();
    test_interrupt();
    test_names();
    test_fork();
    test_change_feed();
    test_search();
    test_vector_search();
    test_graph();
    test_time_series();
    test_expiry_and_links();
    test_operations();

    nftw(base_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("abi: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
