/*
** docs_workload.h -- the documents of the document benchmark, the
** parameters of its queries, and a model that knows every query's answer
** without asking an engine.
**
** Document number i (0 <= i < N) is a function of i alone: its fields come
** from a random stream seeded with i, so any document can be rebuilt in
** any process, in any order, and every engine receives the same bytes:
**
**   {"_id":"000000012345","name":"user731","age":34,"city":"Lisbon",
**    "score":57.31,"active":true,"tags":["red","pro"],"visits":0,
**    "bio":"<60 letters, spaces, dots and commas>"}
**
** about 200 bytes. _id is i in 12 digits (so _id order is insert order);
** name is "user" and the i-th entry of a permutation of 0..N-1 (unique, but
** in no relation to _id); age is uniform in 18..80; city uniform among 50
** names; score uniform among the 10,000 values 0.00 .. 99.99 (written with
** two decimals, so it is a double); tags two of 16 words; visits 0.
*/
#ifndef BENCH_DOCS_WORKLOAD_H
#define BENCH_DOCS_WORKLOAD_H

#include "workload.h" /* bench_rng, bench_perm */

#include <stddef.h>
#include <stdint.h>

#define DOCS_BATCH 1000      /* documents per insert call / transaction */
#define DOCS_AGE_MIN 18
#define DOCS_AGE_MAX 80      /* inclusive */
#define DOCS_CITIES 50
#define DOCS_SCORES 10000    /* score = cents / 100.0, cents in 0..9999 */
#define DOCS_TAGS 16
#define DOCS_BIO_LEN 60
#define DOCS_ID_LEN 12
#define DOCS_MAX_JSON 320    /* an upper bound on one document's JSON text */

#define DOCS_RANGE_WIDTH 5   /* range rows: ages a .. a+4 */
#define DOCS_RANGE_LIMIT 20  /* range rows: the first 20 by age */
#define DOCS_SCAN_CENTS 300  /* scan rows: a band of 3.00 score points, ~3% */
#define DOCS_UPDATE_CITIES 5 /* update row: 5 of the 50 cities, ~10% */

/* Seeds, one per use. Part of the benchmark's definition. */
enum {
    SEED_DOCS = 401,
    SEED_NAMES = 402,
    SEED_LOOKUPS = 403,
    SEED_RANGES = 404,
    SEED_SCANS = 405,
    SEED_UPDATE = 406
};

extern const char *const DOCS_CITY_NAMES[DOCS_CITIES];

/* The fields of one document. */
typedef struct docs_doc {
    uint64_t number; /* the _id */
    uint64_t name;   /* the name is "user<name>" */
    int age;
    int city;        /* index into DOCS_CITY_NAMES */
    int score_cents; /* score = score_cents / 100.0 */
    int active;
    int tags[2];
    char bio[DOCS_BIO_LEN + 1]; /* filled only when asked for */
} docs_doc;

/* The permutation that gives names: entry i is document i's name number. */
void docs_names_init(bench_perm *names, uint64_t n);

/* Builds document `number`; the bio only when with_bio (the model does not
** need it). */
void docs_doc_make(uint64_t number, const bench_perm *names, int with_bio, docs_doc *out);

/* Writes the document's JSON text (no NUL) into out[0..DOCS_MAX_JSON) and
** returns its length. The _id's digits are at offset DOCS_ID_OFFSET. */
size_t docs_doc_json(const docs_doc *doc, char *out);
#define DOCS_ID_OFFSET 8 /* strlen("{\"_id\":\"") */

/* Where the value of the member `name` starts in the JSON object text
** json[0..len), or NULL when there is none. Enough for the documents and
** results of this benchmark (no member name appears inside a string value
** followed by a colon); not a general JSON parser. */
const char *docs_json_member(const char *json, size_t len, const char *name);

/* One batch of documents as both engines take it: one JSON array text for
** Cairn, and the _id and text of each document (views into that array) for
** SQLite. */
typedef struct docs_batch {
    char *text; /* "[doc,doc,...]", text_len bytes, no NUL */
    size_t text_len;
    size_t n;
    const char *docs[DOCS_BATCH];
    size_t doc_lens[DOCS_BATCH];
    const char *ids[DOCS_BATCH]; /* DOCS_ID_LEN bytes each */
} docs_batch;

int docs_batch_init(docs_batch *batch);
/* Fills the batch with documents first .. first+n-1 (n <= DOCS_BATCH). */
void docs_batch_fill(docs_batch *batch, uint64_t first, size_t n, const bench_perm *names);
void docs_batch_free(docs_batch *batch);

/*
** What every query must return, computed from the documents alone.
** Field values do not depend on the update row (it changes only "visits"),
** so the model holds before and after it.
*/
typedef struct docs_model {
    uint64_t n;
    uint64_t age_count[DOCS_AGE_MAX + 1];
    uint64_t city_count[DOCS_CITIES];
    uint64_t city_age_sum[DOCS_CITIES];
    uint64_t score_count[DOCS_SCORES];
} docs_model;

void docs_model_build(docs_model *model, uint64_t n, const bench_perm *names);

/* Range rows: how many documents {"age": {"$gte": lo, "$lt": lo+WIDTH}}
** sorted by age with limit DOCS_RANGE_LIMIT returns, and the sum of their
** ages (which does not depend on how ties are broken). */
void docs_model_range(const docs_model *model, int lo, uint64_t *count, uint64_t *age_sum);

/* Scan rows: the documents with lo_cents < score*100 < lo_cents+SCAN_CENTS+1,
** i.e. score strictly between (lo_cents + 0.5) / 100 and that + 3.00. The
** bounds sit halfway between two representable scores, so no engine's
** decimal-to-double conversion can move a document across them. */
uint64_t docs_model_scan(const docs_model *model, int lo_cents);
double docs_scan_low(int lo_cents);
double docs_scan_high(int lo_cents);

/* The update row's cities: DOCS_UPDATE_CITIES distinct indexes, from the
** seed. */
void docs_update_cities(int cities[DOCS_UPDATE_CITIES]);

#endif /* BENCH_DOCS_WORKLOAD_H */
