/*
** docs_workload.c -- documents, query parameters and the model; see
** docs_workload.h.
*/
#include "docs_workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const DOCS_CITY_NAMES[DOCS_CITIES] = {
    "Amsterdam", "Athens",    "Bangkok",   "Barcelona", "Beijing",     "Berlin",    "Bogota",       "Boston",
    "Brussels",  "Budapest",  "Cairo",     "Chicago",   "Copenhagen",  "Delhi",     "Dubai",        "Dublin",
    "Hanoi",     "Helsinki",  "Istanbul",  "Jakarta",   "Johannesburg", "Kyiv",     "Lagos",        "Lima",
    "Lisbon",    "London",    "Madrid",    "Manila",    "Melbourne",   "Mexico City", "Milan",      "Montreal",
    "Mumbai",    "Nairobi",   "Oslo",      "Paris",     "Prague",      "Rome",      "San Francisco", "Santiago",
    "Seoul",     "Singapore", "Stockholm", "Sydney",    "Tokyo",       "Toronto",   "Vienna",       "Warsaw",
    "Zagreb",    "Zurich",
};

static const char *const TAGS[DOCS_TAGS] = {"red",  "green", "blue",  "gold",  "new",   "vip",   "beta", "pro",
                                            "free", "trial", "admin", "guest", "north", "south", "east", "west"};

/* 32 symbols, 5 bits each, none needing a JSON escape. */
static const char BIO_SYMBOLS[33] = "abcdefghijklmnopqrstuvwxyz    .,";

void docs_names_init(bench_perm *names, uint64_t n) { bench_perm_init(names, n, SEED_NAMES); }

void docs_doc_make(uint64_t number, const bench_perm *names, int with_bio, docs_doc *out)
{
    /* A stream of its own per document: the seed's stream, jumped ahead by
     * a mix of the number (splitmix64 is a counter, so nearby seeds would
     * give overlapping streams). */
    bench_rng rng;
    bench_rng_seed(&rng, number);
    bench_rng_seed(&rng, bench_rng_next(&rng) ^ ((uint64_t)SEED_DOCS << 32));
    out->number = number;
    out->name = bench_permute(names, number);
    out->age = DOCS_AGE_MIN + (int)bench_rng_below(&rng, DOCS_AGE_MAX - DOCS_AGE_MIN + 1);
    out->city = (int)bench_rng_below(&rng, DOCS_CITIES);
    out->score_cents = (int)bench_rng_below(&rng, DOCS_SCORES);
    uint64_t bits = bench_rng_next(&rng);
    out->active = (int)(bits & 1);
    out->tags[0] = (int)((bits >> 1) % DOCS_TAGS);
    out->tags[1] = (int)((bits >> 5) % DOCS_TAGS);
    out->bio[0] = '\0';
    if (!with_bio) return;
    for (int i = 0; i < DOCS_BIO_LEN; i++) {
        if (i % 12 == 0) bits = bench_rng_next(&rng); /* 12 symbols of 5 bits per draw */
        out->bio[i] = BIO_SYMBOLS[bits & 31];
        bits >>= 5;
    }
    out->bio[DOCS_BIO_LEN] = '\0';
}

size_t docs_doc_json(const docs_doc *d, char *out)
{
    int len = snprintf(out, DOCS_MAX_JSON,
                       "{\"_id\":\"%012llu\",\"name\":\"user%llu\",\"age\":%d,\"city\":\"%s\",\"score\":%d.%02d,"
                       "\"active\":%s,\"tags\":[\"%s\",\"%s\"],\"visits\":0,\"bio\":\"%s\"}",
                       (unsigned long long)d->number, (unsigned long long)d->name, d->age,
                       DOCS_CITY_NAMES[d->city], d->score_cents / 100, d->score_cents % 100,
                       d->active ? "true" : "false", TAGS[d->tags[0]], TAGS[d->tags[1]], d->bio);
    /* DOCS_MAX_JSON bounds every document: the longest fields (a 20-digit
     * name, "San Francisco", "admin"...) come to about 230 bytes. */
    if (len < 0 || len >= DOCS_MAX_JSON) abort();
    return (size_t)len;
}

const char *docs_json_member(const char *json, size_t len, const char *name)
{
    size_t name_len = strlen(name);
    const char *end = json + len, *p = json;
    while (p < end) {
        const char *quote = memchr(p, '"', (size_t)(end - p));
        if (quote == NULL || (size_t)(end - quote) < name_len + 2) return NULL;
        p = quote + 1;
        if (memcmp(p, name, name_len) != 0 || p[name_len] != '"') continue;
        const char *q = p + name_len + 1;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
        if (q >= end || *q != ':') continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
        return q < end ? q : NULL;
    }
    return NULL;
}

int docs_batch_init(docs_batch *batch)
{
    memset(batch, 0, sizeof *batch);
    batch->text = malloc((size_t)DOCS_BATCH * (DOCS_MAX_JSON + 1) + 2);
    return batch->text ? 0 : -1;
}

void docs_batch_fill(docs_batch *batch, uint64_t first, size_t n, const bench_perm *names)
{
    char *p = batch->text;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0) *p++ = ',';
        docs_doc doc;
        docs_doc_make(first + i, names, 1, &doc);
        size_t len = docs_doc_json(&doc, p);
        batch->docs[i] = p;
        batch->doc_lens[i] = len;
        batch->ids[i] = p + DOCS_ID_OFFSET;
        p += len;
    }
    *p++ = ']';
    batch->text_len = (size_t)(p - batch->text);
    batch->n = n;
}

void docs_batch_free(docs_batch *batch)
{
    free(batch->text);
    batch->text = NULL;
}

void docs_model_build(docs_model *model, uint64_t n, const bench_perm *names)
{
    memset(model, 0, sizeof *model);
    model->n = n;
    for (uint64_t i = 0; i < n; i++) {
        docs_doc doc;
        docs_doc_make(i, names, 0, &doc);
        model->age_count[doc.age]++;
        model->city_count[doc.city]++;
        model->city_age_sum[doc.city] += (uint64_t)doc.age;
        model->score_count[doc.score_cents]++;
    }
}

void docs_model_range(const docs_model *model, int lo, uint64_t *count, uint64_t *age_sum)
{
    uint64_t left = DOCS_RANGE_LIMIT, sum = 0;
    for (int age = lo; age < lo + DOCS_RANGE_WIDTH && age <= DOCS_AGE_MAX && left > 0; age++) {
        uint64_t take = model->age_count[age] < left ? model->age_count[age] : left;
        sum += take * (uint64_t)age;
        left -= take;
    }
    *count = DOCS_RANGE_LIMIT - left;
    *age_sum = sum;
}

uint64_t docs_model_scan(const docs_model *model, int lo_cents)
{
    uint64_t count = 0;
    for (int c = lo_cents + 1; c <= lo_cents + DOCS_SCAN_CENTS && c < DOCS_SCORES; c++) count += model->score_count[c];
    return count;
}

double docs_scan_low(int lo_cents) { return (lo_cents + 0.5) / 100.0; }
double docs_scan_high(int lo_cents) { return (lo_cents + DOCS_SCAN_CENTS + 0.5) / 100.0; }

void docs_update_cities(int cities[DOCS_UPDATE_CITIES])
{
    bench_rng rng;
    bench_rng_seed(&rng, SEED_UPDATE);
    for (int i = 0; i < DOCS_UPDATE_CITIES;) {
        int c = (int)bench_rng_below(&rng, DOCS_CITIES), dup = 0;
        for (int j = 0; j < i; j++) dup |= cities[j] == c;
        if (!dup) cities[i++] = c;
    }
}
