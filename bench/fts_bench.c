/*
** fts_bench.c -- the full-text search benchmark (issue 14; not a timed test).
**
**   cairn-fts-bench [--corpus=gcide,zipf] [--num=N] [--queries=Q]
**                   [--engines=cairn,fts5] [--db=DIR] [--gcide=DIR]
**                   [--build=after,first] [--gcide-limit=N] [--stopwords]
**                   [--seed=S]
**
** Cairn's text index (cairn_index_create + cairn_search, include/cairn.h
** "Full-text search") against SQLite FTS5 (tokenize='porter unicode61',
** ranked by bm25() through ORDER BY rank), each through its own C API, on
** the same documents in one run:
**   - gcide: the entries of GNU's Collaborative International Dictionary of
**     English (Debian's dict-gcide: /usr/share/dictd/gcide.index and
**     gcide.dict.dz), one document per distinct entry, {"_id": i, "title":
**     the headwords that point at the entry joined by "; ", "body": the
**     entry's text, "bucket": 0..99};
**   - zipf: N generated documents (fixed seed): a title of 1-6 words and a
**     body of 5-75 words drawn from 200,000 pseudo-words with Zipf(1)
**     frequencies, and the same "bucket".
** Rows, per corpus and engine:
**   - build: documents only (the baseline), the text index created over the
**     stored documents ("index after"), and the documents inserted into a
**     collection that has the text index already ("index first"), in
**     batches of 1000 documents (one cairn_insert_many / one SQLite
**     transaction each), as documents per second;
**   - size: the text index alone. Cairn: the database directory after
**     cairn_flush + a full cairn_compact_range, with the text index, minus
**     the same database before the text index was created. FTS5: an
**     external-content table (content='docs'), so the index is FTS5's
**     shadow tables alone, summed from dbstat;
**   - top-10 queries, each kind Q queries drawn with a fixed seed from the
**     corpus vocabulary: one term at three document frequencies, two terms
**     OR-ed and AND-ed, a phrase of two neighbouring words, a 4-letter
**     prefix, and (Cairn only: FTS5 has none) a fuzzy word with one typo;
**     each run once untimed (warm-up, and the hits of the relevance check),
**     then once timed, one query at a time: queries per second and p50/p99
**     latency. Cairn returns {"_id": ...} per hit (projection), FTS5 the
**     rowid;
**   - the same with a selective filter {"bucket": 7} (1% of the documents,
**     served by an ordered index on bucket; FTS5: a join on docs with an
**     index on bucket), and the filter alone (every matching _id/rowid);
**   - relevance: the mean overlap of the two engines' top 10 for the same
**     queries (|A n B| / max(|A|, |B|), 1 when both are empty).
** Both analyze the same way apart from the stemmer's flavour (Snowball
** English against the original Porter): no stopwords unless --stopwords
** (FTS5 has no stopword list). Prints Markdown; asserts no speeds.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "cairn_options.h"
#include "util.h"

#include <cairn.h>
#include <sqlite3.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 1000
#define FILTER_BUCKET 7
#define TOPK 10

static void die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fts-bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void check(int rc, char *msg, const char *what)
{
    if (rc != CAIRN_OK) die("%s: %s: %s", what, cairn_status_name(rc), msg ? msg : "");
}

static void check_sql(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die("%s: %s", what, sqlite3_errmsg(db));
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) die("out of memory (%zu bytes)", n);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL) die("out of memory (%zu bytes)", n);
    return p;
}

/* -- random numbers ---------------------------------------------------------- */

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t x)
{
    return splitmix(&x);
}

/* CPU seconds of the whole process (every thread: Cairn's background
   flushes and compactions count), user + system. On a shared machine the
   wall clock also measures the neighbours; this does not. */
static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static double uniform(uint64_t *state)
{
    return (double)(splitmix(state) >> 11) / 9007199254740992.0;
}

/* -- a growable byte buffer --------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t more)
{
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + more + 1) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
}

static void buf_add(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_json_string(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n * 6 + 2);
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
}

/* -- the corpora ------------------------------------------------------------- */

typedef struct {
    const char *title, *body;
    size_t title_len, body_len;
    int bucket;
} doc_t;

typedef struct {
    const char *name;
    size_t n;
    /* gcide: the documents in memory */
    char **titles, **bodies;
    /* zipf: generated on demand */
    int zipf;
    uint64_t seed;
    double *cdf;
    char **words;
    size_t vocab;
    buf_t scratch_title, scratch_body;
} corpus_t;

static int bucket_of(size_t i)
{
    return (int)(mix((uint64_t)i ^ 0x5bd1e995ull) % 100);
}

/* Invalid UTF-8 (GCIDE holds a few Latin-1 bytes) becomes '?', so both
   engines receive the same valid text. */
static void sanitize_utf8(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            if (((unsigned char)s[i + k] >> 6) != 2) ok = 0;
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
}

static uint64_t b64(const char *s)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint64_t v = 0;
    for (; *s; s++) {
        const char *d = strchr(digits, *s);
        if (d == NULL) return UINT64_MAX;
        v = v * 64 + (uint64_t)(d - digits);
    }
    return v;
}

typedef struct {
    uint64_t offset, length;
    char *headword;
} gcide_entry;

static int entry_order(const void *a, const void *b)
{
    const gcide_entry *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : 0;
}

static void load_gcide(corpus_t *c, const char *dir, size_t limit)
{
    char path[4096], cmd[4200];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/gcide.dict.dz'", dir);
    FILE *f = popen(cmd, "r");
    if (f == NULL) die("cannot run %s", cmd);
    buf_t text = {0};
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) buf_add(&text, chunk, got);
    if (pclose(f) != 0 || text.len == 0)
        die("cannot read %s/gcide.dict.dz (install dict-gcide: scripts/install-deps.sh --bench)", dir);
    snprintf(path, sizeof path, "%s/gcide.index", dir);
    f = fopen(path, "r");
    if (f == NULL) die("cannot open %s (install dict-gcide: scripts/install-deps.sh --bench)", path);
    gcide_entry *entries = NULL;
    size_t count = 0, cap = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (tab2 == NULL) continue;
        *tab1 = *tab2 = '\0';
        tab2[strcspn(tab2 + 1, "\r\n") + 1] = '\0';
        if (strncmp(line, "00-", 3) == 0) continue; /* the database's own info */
        uint64_t off = b64(tab1 + 1), len = b64(tab2 + 1);
        if (off == UINT64_MAX || len == UINT64_MAX || off + len > text.len) continue;
        if (count == cap) entries = xrealloc(entries, (cap = cap ? cap * 2 : 1 << 16) * sizeof *entries);
        entries[count].offset = off;
        entries[count].length = len;
        entries[count].headword = strdup(line);
        count++;
    }
    fclose(f);
    qsort(entries, count, sizeof *entries, entry_order);
    c->titles = xmalloc(count * sizeof(char *));
    c->bodies = xmalloc(count * sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < count;) {
        size_t j = i;
        buf_t title = {0};
        while (j < count && entries[j].offset == entries[i].offset) {
            if (title.len) buf_str(&title, "; ");
            buf_str(&title, entries[j].headword);
            free(entries[j].headword);
            j++;
        }
        if (limit == 0 || n < limit) {
            char *body = xmalloc(entries[i].length + 1);
            memcpy(body, text.p + entries[i].offset, entries[i].length);
            body[entries[i].length] = '\0';
            sanitize_utf8(body, entries[i].length);
            sanitize_utf8(title.p, title.len);
            c->titles[n] = title.p;
            c->bodies[n] = body;
            n++;
        } else {
            free(title.p);
        }
        i = j;
    }
    free(entries);
    free(text.p);
    c->name = "gcide";
    c->n = n;
}

#define ZIPF_VOCAB 200000

/* Pseudo-words of consonant-vowel syllables, rank r the r-th in a fixed
   shuffled order, so that frequent words are not all short. */
static void init_zipf(corpus_t *c, size_t n, uint64_t seed)
{
    static const char cons[] = "bdfgklmnprtvz", vow[] = "aiou";
    c->name = "zipf";
    c->zipf = 1;
    c->n = n;
    c->seed = seed;
    c->vocab = ZIPF_VOCAB;
    c->words = xmalloc(ZIPF_VOCAB * sizeof(char *));
    uint64_t state = seed ^ 0x1234567ull;
    for (size_t r = 0; r < ZIPF_VOCAB; r++) {
        /* 2..4 syllables; the index r + 52^2 written in base 52 is unique */
        uint64_t v = r + 52 * 52;
        char w[16];
        int len = 0;
        while (v > 0 && len < 14) {
            int s = (int)(v % 52);
            w[len++] = cons[s / 4];
            w[len++] = vow[s % 4];
            v /= 52;
        }
        w[len] = '\0';
        c->words[r] = strdup(w);
    }
    for (size_t r = ZIPF_VOCAB - 1; r > 0; r--) { /* shuffle ranks */
        size_t k = (size_t)(splitmix(&state) % (r + 1));
        char *t = c->words[r];
        c->words[r] = c->words[k];
        c->words[k] = t;
    }
    c->cdf = xmalloc(ZIPF_VOCAB * sizeof(double));
    double sum = 0;
    for (size_t r = 0; r < ZIPF_VOCAB; r++) c->cdf[r] = (sum += 1.0 / (double)(r + 1));
    for (size_t r = 0; r < ZIPF_VOCAB; r++) c->cdf[r] /= sum;
}

static const char *zipf_word(const corpus_t *c, uint64_t *state)
{
    double u = uniform(state);
    size_t lo = 0, hi = c->vocab - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return c->words[lo];
}

static void get_doc(corpus_t *c, size_t i, doc_t *d)
{
    d->bucket = bucket_of(i);
    if (!c->zipf) {
        d->title = c->titles[i];
        d->title_len = strlen(d->title);
        d->body = c->bodies[i];
        d->body_len = strlen(d->body);
        return;
    }
    uint64_t state = mix(c->seed * 0x100000001b3ull + i);
    int title_words = 1 + (int)(splitmix(&state) % 6), body_words = 5 + (int)(splitmix(&state) % 71);
    c->scratch_title.len = c->scratch_body.len = 0;
    buf_reserve(&c->scratch_title, 0);
    buf_reserve(&c->scratch_body, 0);
    c->scratch_title.p[0] = c->scratch_body.p[0] = '\0';
    for (int k = 0; k < title_words; k++) {
        if (k) buf_add(&c->scratch_title, " ", 1);
        buf_str(&c->scratch_title, zipf_word(c, &state));
    }
    for (int k = 0; k < body_words; k++) {
        if (k) buf_add(&c->scratch_body, k % 12 == 11 ? ". " : " ", k % 12 == 11 ? 2 : 1);
        buf_str(&c->scratch_body, zipf_word(c, &state));
    }
    d->title = c->scratch_title.p;
    d->title_len = c->scratch_title.len;
    d->body = c->scratch_body.p;
    d->body_len = c->scratch_body.len;
}

/* -- vocabulary: document frequencies --------------------------------------- */

/* Snowball's English stopword list: never drawn as a query word, so that
   the engines agree whether or not stopwords are dropped. */
static const char *const stopwords[] = {
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
    "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself",
    "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that",
    "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
    "having", "do", "does", "did", "doing", "would", "should", "could", "ought", "a", "an", "the", "and",
    "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from",
    "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here",
    "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other",
    "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "one",
    "every", "least", "less", "many", "now", "ever", "never", "say", "says", "said", "also", "get",
    "go", "goes", "just", "made", "make", "put", "see", "seen", "whether", "like", "well", "back",
    "even", "still", "way", "take", "since", "another", "however", "two", "three", "four", "five",
    "first", "second", "new", "old", "high", "long", "can", "will", "may", "must", "might", "shall",
    "upon", "yet", "per", NULL};

typedef struct {
    char *word;
    uint32_t df;
    uint32_t last_doc; /* +1 */
} vocab_entry;

typedef struct {
    vocab_entry *slots;
    size_t cap, count;
} vocab_t;

static uint64_t hash_word(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static vocab_entry *vocab_slot(vocab_t *v, const char *s, size_t n, int add)
{
    if (add && (v->count + 1) * 2 > v->cap) {
        vocab_t bigger = {xmalloc((v->cap ? v->cap * 2 : 1 << 16) * sizeof(vocab_entry)), v->cap ? v->cap * 2 : 1 << 16, 0};
        memset(bigger.slots, 0, bigger.cap * sizeof(vocab_entry));
        for (size_t i = 0; i < v->cap; i++) {
            if (v->slots[i].word == NULL) continue;
            size_t h = (size_t)hash_word(v->slots[i].word, strlen(v->slots[i].word)) & (bigger.cap - 1);
            while (bigger.slots[h].word) h = (h + 1) & (bigger.cap - 1);
            bigger.slots[h] = v->slots[i];
            bigger.count++;
        }
        free(v->slots);
        *v = bigger;
    }
    if (v->cap == 0) return NULL;
    size_t h = (size_t)hash_word(s, n) & (v->cap - 1);
    while (v->slots[h].word) {
        if (strncmp(v->slots[h].word, s, n) == 0 && v->slots[h].word[n] == '\0') return &v->slots[h];
        h = (h + 1) & (v->cap - 1);
    }
    if (!add) return NULL;
    v->slots[h].word = strndup(s, n);
    v->count++;
    return &v->slots[h];
}

static int is_stopword(const char *s, size_t n)
{
    for (int i = 0; stopwords[i]; i++)
        if (strlen(stopwords[i]) == n && strncmp(stopwords[i], s, n) == 0) return 1;
    return 0;
}

/* Tokens as unicode61 and Cairn see ASCII text: runs of letters and
   digits (bytes >= 0x80 count as letters), lower-cased into `out`. Calls
   visit(token, len, all_letters) for each. */
typedef void (*token_visit)(void *ctx, const char *t, size_t n, int alpha);
static void tokenize(const char *s, size_t n, token_visit visit, void *ctx)
{
    char tok[64];
    size_t i = 0;
    while (i < n) {
        while (i < n && !isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80) i++;
        size_t start = i;
        int alpha = 1;
        size_t len = 0;
        while (i < n && (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)) {
            unsigned char c = (unsigned char)s[i];
            if (!isalpha(c)) alpha = 0;
            if (len < sizeof tok - 1) tok[len++] = (char)tolower(c);
            i++;
        }
        if (i > start) visit(ctx, tok, len < sizeof tok - 1 ? len : 0, alpha && len < sizeof tok - 1);
    }
}

typedef struct {
    vocab_t *v;
    uint32_t doc;
} df_ctx;

static void df_visit(void *ctx, const char *t, size_t n, int alpha)
{
    df_ctx *c = ctx;
    if (!alpha || n < 3 || n > 20) return;
    vocab_entry *e = vocab_slot(c->v, t, n, 1);
    if (e->last_doc != c->doc + 1) {
        e->last_doc = c->doc + 1;
        e->df++;
    }
}

/* -- queries ----------------------------------------------------------------- */

enum {
    Q_ONE_HIGH,
    Q_ONE_MID,
    Q_ONE_LOW,
    Q_OR,
    Q_AND,
    Q_PHRASE,
    Q_PREFIX,
    Q_FUZZY,
    Q_KINDS
};

static const char *const kind_names[Q_KINDS] = {
    "one term, frequent (1-20% of docs)", "one term, medium (0.05-0.5%)", "one term, rare (3-30 docs)",
    "two terms OR (frequent + medium)", "two terms AND (frequent + medium)", "phrase of two words",
    "prefix (4 letters)*", "fuzzy, one typo (word~1)"};

typedef struct {
    char cairn[160];
    char fts[200];
} query_t;

typedef struct {
    int q;
    query_t *kinds[Q_KINDS];
} queryset_t;

typedef struct {
    char **words;
    size_t n;
} band_t;

static const char *pick(band_t *b, uint64_t *state)
{
    if (b->n == 0) die("a frequency band of the vocabulary is empty: the corpus is too small");
    return b->words[splitmix(state) % b->n];
}

typedef struct {
    char prev[64];
    int prev_ok;
    size_t pairs;
    char (*pair)[2][64];
    size_t cap;
} phrase_ctx;

static void phrase_visit(void *ctx, const char *t, size_t n, int alpha)
{
    phrase_ctx *p = ctx;
    int ok = alpha && n >= 3 && n <= 20 && !is_stopword(t, n);
    if (ok && p->prev_ok && p->pairs < p->cap) {
        memcpy(p->pair[p->pairs][0], p->prev, sizeof p->prev);
        memcpy(p->pair[p->pairs][1], t, n);
        p->pair[p->pairs][1][n] = '\0';
        p->pairs++;
    }
    p->prev_ok = ok;
    if (ok) {
        memcpy(p->prev, t, n);
        p->prev[n] = '\0';
    }
}

static void make_queries(corpus_t *c, queryset_t *qs, int q, uint64_t seed)
{
    double t0 = bench_now();
    vocab_t v = {0};
    df_ctx ctx = {&v, 0};
    doc_t d;
    for (size_t i = 0; i < c->n; i++) {
        get_doc(c, i, &d);
        ctx.doc = (uint32_t)i;
        tokenize(d.title, d.title_len, df_visit, &ctx);
        tokenize(d.body, d.body_len, df_visit, &ctx);
    }
    band_t high = {0}, mid = {0}, low = {0}, mid5 = {0};
    size_t n = c->n;
    for (size_t i = 0; i < v.cap; i++) {
        vocab_entry *e = &v.slots[i];
        if (e->word == NULL || is_stopword(e->word, strlen(e->word))) continue;
        band_t *b = NULL;
        if (e->df >= n / 100 && e->df <= n / 5)
            b = &high;
        else if (e->df >= n / 2000 && e->df < n / 200)
            b = &mid;
        else if (e->df >= 3 && e->df <= 30)
            b = &low;
        if (b == NULL) continue;
        b->words = xrealloc(b->words, (b->n + 1) * sizeof(char *));
        b->words[b->n++] = e->word;
        if (b == &mid && strlen(e->word) >= 5) {
            mid5.words = xrealloc(mid5.words, (mid5.n + 1) * sizeof(char *));
            mid5.words[mid5.n++] = e->word;
        }
    }
    /* The bands are in the hash table's order, which depends only on the
       corpus, so a seed draws the same words in every run. */
    uint64_t state = seed;
    qs->q = q;
    for (int k = 0; k < Q_KINDS; k++) qs->kinds[k] = xmalloc((size_t)q * sizeof(query_t));
    phrase_ctx pc = {0};
    pc.cap = 4096;
    pc.pair = xmalloc(pc.cap * sizeof *pc.pair);
    for (int i = 0; i < q; i++) {
        const char *a;
        const char *b;
        query_t *x;
        a = pick(&high, &state);
        x = &qs->kinds[Q_ONE_HIGH][i];
        snprintf(x->cairn, sizeof x->cairn, "%s", a);
        snprintf(x->fts, sizeof x->fts, "\"%s\"", a);
        a = pick(&mid, &state);
        x = &qs->kinds[Q_ONE_MID][i];
        snprintf(x->cairn, sizeof x->cairn, "%s", a);
        snprintf(x->fts, sizeof x->fts, "\"%s\"", a);
        a = pick(&low, &state);
        x = &qs->kinds[Q_ONE_LOW][i];
        snprintf(x->cairn, sizeof x->cairn, "%s", a);
        snprintf(x->fts, sizeof x->fts, "\"%s\"", a);
        a = pick(&high, &state);
        b = pick(&mid, &state);
        x = &qs->kinds[Q_OR][i];
        snprintf(x->cairn, sizeof x->cairn, "%s %s", a, b);
        snprintf(x->fts, sizeof x->fts, "\"%s\" OR \"%s\"", a, b);
        x = &qs->kinds[Q_AND][i];
        snprintf(x->cairn, sizeof x->cairn, "+%s +%s", a, b);
        snprintf(x->fts, sizeof x->fts, "\"%s\" AND \"%s\"", a, b);
        /* a phrase: two neighbouring words of a random document */
        x = &qs->kinds[Q_PHRASE][i];
        for (int tries = 0;; tries++) {
            if (tries > 1000) die("no document with two neighbouring words");
            get_doc(c, (size_t)(splitmix(&state) % c->n), &d);
            pc.pairs = 0;
            pc.prev_ok = 0;
            tokenize(d.title, d.title_len, phrase_visit, &pc);
            pc.prev_ok = 0;
            tokenize(d.body, d.body_len, phrase_visit, &pc);
            if (pc.pairs == 0) continue;
            size_t k = (size_t)(splitmix(&state) % pc.pairs);
            snprintf(x->cairn, sizeof x->cairn, "\"%s %s\"", pc.pair[k][0], pc.pair[k][1]);
            snprintf(x->fts, sizeof x->fts, "\"%s %s\"", pc.pair[k][0], pc.pair[k][1]);
            break;
        }
        a = pick(&mid, &state);
        x = &qs->kinds[Q_PREFIX][i];
        snprintf(x->cairn, sizeof x->cairn, "%.4s*", a);
        snprintf(x->fts, sizeof x->fts, "\"%.4s\"*", a);
        /* a fuzzy word: a medium word of 5+ letters with one letter changed */
        a = pick(&mid5, &state);
        x = &qs->kinds[Q_FUZZY][i];
        char typo[64];
        snprintf(typo, sizeof typo, "%s", a);
        size_t len = strlen(typo), at = 1 + (size_t)(splitmix(&state) % (len - 1));
        char was = typo[at];
        do typo[at] = (char)('a' + splitmix(&state) % 26);
        while (typo[at] == was);
        snprintf(x->cairn, sizeof x->cairn, "%s~1", typo);
        x->fts[0] = '\0';
    }
    free(pc.pair);
    printf("- vocabulary (my tokenizer: letters only, 3-20 letters, no stopwords): %zu words; "
           "frequent %zu, medium %zu, rare %zu; counted in %.1f s\n",
           v.count, high.n, mid.n, low.n, bench_now() - t0);
    printf("- sample queries (Cairn syntax): `%s`, `%s`, `%s`, `%s`, `%s`, `%s`\n", qs->kinds[Q_ONE_MID][0].cairn,
           qs->kinds[Q_OR][0].cairn, qs->kinds[Q_AND][0].cairn, qs->kinds[Q_PHRASE][0].cairn,
           qs->kinds[Q_PREFIX][0].cairn, qs->kinds[Q_FUZZY][0].cairn);
    /* The bands' words point into the vocabulary table, which is kept
       (a few MB) until exit. */
}

/* -- results ----------------------------------------------------------------- */

typedef struct {
    double qps, p50_ms, p99_ms, mean_hits, cpu_qps;
    int ran;
} qresult_t;

typedef struct {
    int ran;
    double docs_only_rate, index_after_rate, index_first_rate;
    double docs_only_s, index_after_s, index_first_s;
    double docs_only_cpu, index_after_cpu, index_first_cpu; /* CPU seconds */
    uint64_t base_bytes, with_index_bytes, index_bytes;
    qresult_t plain[Q_KINDS], filtered[Q_KINDS];
    qresult_t filter_alone;
    int64_t *hits; /* [kind][q][TOPK], -1 padded: the unfiltered warm-up's */
} engine_result_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static void summarize(qresult_t *r, double *lat, int q, double total_hits)
{
    double sum = 0;
    for (int i = 0; i < q; i++) sum += lat[i];
    qsort(lat, (size_t)q, sizeof *lat, cmp_double);
    r->ran = 1;
    r->qps = sum > 0 ? q / sum : 0;
    r->p50_ms = lat[q / 2] * 1e3;
    int i99 = (int)ceil(q * 0.99) - 1;
    r->p99_ms = lat[i99 < 0 ? 0 : i99] * 1e3;
    r->mean_hits = total_hits / q;
}

/* -- Cairn ------------------------------------------------------------------ */

static const char COLL[] = "docs";
static int opt_stopwords;
/* Which builds run: "after" (documents, then the index over them) and
   "first" (the index, then the documents; the queries run on this one,
   or on "after"'s database when only it runs). */
static int build_after = 1, build_first = 1;

static void cairn_flush_compact(cairn_db *db)
{
    char *err = NULL;
    check(cairn_flush(db, &err), err, "cairn_flush");
    check(cairn_compact_range(db, NULL, 0, NULL, 0, &err), err, "cairn_compact_range");
}

static void cairn_index(cairn_db *db, const char *spec)
{
    char *err = NULL, *name = NULL;
    check(cairn_index_create(db, COLL, strlen(COLL), spec, strlen(spec), &name, NULL, &err), err, spec);
    cairn_free(name);
}

static char text_spec[256];

static double cairn_insert_all(cairn_db *db, corpus_t *c)
{
    buf_t b = {0};
    doc_t d;
    char num[64];
    double t0 = bench_now();
    for (size_t i = 0; i < c->n;) {
        b.len = 0;
        buf_str(&b, "[");
        size_t end = i + BATCH < c->n ? i + BATCH : c->n;
        for (; i < end; i++) {
            get_doc(c, i, &d);
            snprintf(num, sizeof num, "%s{\"_id\":%zu,\"title\":", b.len > 1 ? "," : "", i);
            buf_str(&b, num);
            buf_json_string(&b, d.title, d.title_len);
            buf_str(&b, ",\"body\":");
            buf_json_string(&b, d.body, d.body_len);
            snprintf(num, sizeof num, ",\"bucket\":%d}", d.bucket);
            buf_str(&b, num);
        }
        buf_str(&b, "]");
        char *err = NULL;
        check(cairn_insert_many(db, COLL, strlen(COLL), b.p, b.len, NULL, NULL, &err), err, "cairn_insert_many");
    }
    free(b.p);
    return bench_now() - t0;
}

static int64_t parse_id(const char *json)
{
    const char *p = strstr(json, "\"_id\":");
    if (p == NULL) die("a hit without _id: %s", json);
    return strtoll(p + 6, NULL, 10);
}

/* Runs one search; returns its latency, stores up to TOPK ids. */
static double cairn_query(cairn_db *db, const char *query, const char *options, int64_t *ids, int *hits)
{
    char *err = NULL;
    cairn_cursor *cur = NULL;
    double t0 = bench_now();
    check(cairn_search(db, COLL, strlen(COLL), query, strlen(query), options, strlen(options), &cur, &err), err,
          query);
    const char *json;
    int n = 0, rc;
    while ((rc = cairn_cursor_next(cur, &json, NULL, &err)) == CAIRN_OK) {
        if (ids && n < TOPK) ids[n] = parse_id(json);
        n++;
    }
    check(rc == CAIRN_DONE ? CAIRN_OK : rc, err, "cairn_cursor_next");
    cairn_cursor_close(cur);
    double t = bench_now() - t0;
    if (ids)
        for (int k = n; k < TOPK; k++) ids[k] = -1;
    *hits = n;
    return t;
}

static void cairn_queries(cairn_db *db, queryset_t *qs, engine_result_t *r)
{
    static const char plain[] = "{\"limit\":10,\"projection\":{\"_id\":1}}";
    char filtered[128];
    snprintf(filtered, sizeof filtered, "{\"limit\":10,\"projection\":{\"_id\":1},\"filter\":{\"bucket\":%d}}",
             FILTER_BUCKET);
    int q = qs->q, hits;
    double *lat = xmalloc((size_t)q * sizeof(double));
    r->hits = xmalloc((size_t)Q_KINDS * q * TOPK * sizeof(int64_t));
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < Q_KINDS; k++) {
            const char *opts = f ? filtered : plain;
            for (int i = 0; i < q; i++) /* warm-up, and the hits for the relevance check */
                cairn_query(db, qs->kinds[k][i].cairn, opts, f ? NULL : &r->hits[((size_t)k * q + i) * TOPK], &hits);
            double total = 0, cpu0 = cpu_now();
            for (int i = 0; i < q; i++) {
                lat[i] = cairn_query(db, qs->kinds[k][i].cairn, opts, NULL, &hits);
                total += hits;
            }
            double cpu = cpu_now() - cpu0;
            summarize(f ? &r->filtered[k] : &r->plain[k], lat, q, total);
            (f ? &r->filtered[k] : &r->plain[k])->cpu_qps = cpu > 0 ? q / cpu : 0;
        }
    /* the filter alone: every matching _id */
    char filter[64];
    snprintf(filter, sizeof filter, "{\"bucket\":%d}", FILTER_BUCKET);
    static const char proj[] = "{\"projection\":{\"_id\":1}}";
    int reps = q < 50 ? q : 50;
    double total = 0;
    for (int rep = -1; rep < reps; rep++) {
        char *err = NULL;
        cairn_cursor *cur = NULL;
        double t0 = bench_now();
        check(cairn_find(db, COLL, strlen(COLL), filter, strlen(filter), proj, strlen(proj), &cur, &err), err,
              "cairn_find");
        const char *json;
        int n = 0, rc;
        while ((rc = cairn_cursor_next(cur, &json, NULL, &err)) == CAIRN_OK) n++;
        check(rc == CAIRN_DONE ? CAIRN_OK : rc, err, "cairn_cursor_next");
        cairn_cursor_close(cur);
        if (rep >= 0) {
            lat[rep] = bench_now() - t0;
            total += n;
        }
    }
    summarize(&r->filter_alone, lat, reps, total);
    free(lat);
}

static void run_cairn(const char *root, corpus_t *c, queryset_t *qs, engine_result_t *r)
{
    char dir_a[4096], dir_b[4096], err[BENCH_ERRLEN];
    cairn_db *db = NULL;
    char *msg = NULL;
    static const char bucket_spec[] = "{\"keys\":{\"bucket\":1}}";
    snprintf(dir_a, sizeof dir_a, "%s/cairn-%s-after", root, c->name);
    snprintf(dir_b, sizeof dir_b, "%s/cairn-%s-first", root, c->name);
    bench_remove_tree(dir_a);
    bench_remove_tree(dir_b);

    /* A: the documents only, then the text index over them */
    if (!build_after) goto first;
    if (bench_cairn_open(dir_a, 0, &db, err) != 0) die("%s", err);
    cairn_index(db, bucket_spec);
    double cpu0 = cpu_now();
    r->docs_only_s = cairn_insert_all(db, c);
    r->docs_only_cpu = cpu_now() - cpu0;
    r->docs_only_rate = c->n / r->docs_only_s;
    cairn_flush_compact(db);
    r->base_bytes = bench_disk_usage(dir_a);
    fprintf(stderr, "cairn %s: documents only %.1f s\n", c->name, r->docs_only_s);
    double t0 = bench_now();
    cpu0 = cpu_now();
    cairn_index(db, text_spec);
    r->index_after_s = bench_now() - t0;
    r->index_after_cpu = cpu_now() - cpu0;
    r->index_after_rate = c->n / r->index_after_s;
    cairn_flush_compact(db);
    r->with_index_bytes = bench_disk_usage(dir_a);
    r->index_bytes = r->with_index_bytes > r->base_bytes ? r->with_index_bytes - r->base_bytes : 0;
    fprintf(stderr, "cairn %s: index after %.1f s\n", c->name, r->index_after_s);
    if (!build_first) {
        cairn_queries(db, qs, r);
        fprintf(stderr, "cairn %s: queries done\n", c->name);
    }
    check(cairn_close(db, &msg), msg, "cairn_close");
    bench_remove_tree(dir_a);
    if (!build_first) {
        r->ran = 1;
        return;
    }

first:
    /* B: the text index first, then the documents; the queries run here */
    if (bench_cairn_open(dir_b, 0, &db, err) != 0) die("%s", err);
    cairn_index(db, bucket_spec);
    cairn_index(db, text_spec);
    double cpu1 = cpu_now();
    r->index_first_s = cairn_insert_all(db, c);
    r->index_first_cpu = cpu_now() - cpu1;
    r->index_first_rate = c->n / r->index_first_s;
    fprintf(stderr, "cairn %s: index first %.1f s\n", c->name, r->index_first_s);
    cairn_flush_compact(db);
    if (!build_after) { /* the sizes from this database, and a copy without the text index */
        r->with_index_bytes = bench_disk_usage(dir_b);
    }
    cairn_queries(db, qs, r);
    fprintf(stderr, "cairn %s: queries done\n", c->name);
    check(cairn_close(db, &msg), msg, "cairn_close");
    bench_remove_tree(dir_b);
    r->ran = 1;
}

/* -- SQLite FTS5 ----------------------------------------------------------- */

static sqlite3 *fts_open(const char *path)
{
    sqlite3 *db = NULL;
    unlink(path);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    if (sqlite3_open(path, &db) != SQLITE_OK) die("sqlite3_open %s", path);
    check_sql(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                               "CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT, bucket INTEGER);"
                               "CREATE INDEX docs_bucket ON docs(bucket);",
                           NULL, NULL, NULL),
              db, "creating docs");
    return db;
}

static const char FTS_CREATE[] = "CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', "
                                 "content_rowid='id', tokenize='porter unicode61');";

static double fts_insert_all(sqlite3 *db, corpus_t *c, int with_fts)
{
    sqlite3_stmt *ins = NULL, *ins_fts = NULL;
    check_sql(sqlite3_prepare_v2(db, "INSERT INTO docs(id, title, body, bucket) VALUES(?1, ?2, ?3, ?4)", -1, &ins,
                                 NULL),
              db, "prepare insert");
    if (with_fts)
        check_sql(sqlite3_prepare_v2(db, "INSERT INTO fts(rowid, title, body) VALUES(?1, ?2, ?3)", -1, &ins_fts, NULL),
                  db, "prepare insert fts");
    doc_t d;
    double t0 = bench_now();
    for (size_t i = 0; i < c->n;) {
        check_sql(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "BEGIN");
        size_t end = i + BATCH < c->n ? i + BATCH : c->n;
        for (; i < end; i++) {
            get_doc(c, i, &d);
            sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
            sqlite3_bind_text(ins, 2, d.title, (int)d.title_len, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, d.body, (int)d.body_len, SQLITE_STATIC);
            sqlite3_bind_int(ins, 4, d.bucket);
            check_sql(sqlite3_step(ins), db, "insert");
            sqlite3_reset(ins);
            if (ins_fts) {
                sqlite3_bind_int64(ins_fts, 1, (sqlite3_int64)i);
                sqlite3_bind_text(ins_fts, 2, d.title, (int)d.title_len, SQLITE_STATIC);
                sqlite3_bind_text(ins_fts, 3, d.body, (int)d.body_len, SQLITE_STATIC);
                check_sql(sqlite3_step(ins_fts), db, "insert fts");
                sqlite3_reset(ins_fts);
            }
        }
        check_sql(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "COMMIT");
    }
    double t = bench_now() - t0;
    sqlite3_finalize(ins);
    sqlite3_finalize(ins_fts);
    return t;
}

static uint64_t fts_bytes(sqlite3 *db, const char *like)
{
    sqlite3_stmt *st = NULL;
    check_sql(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), db, "checkpoint");
    check_sql(sqlite3_prepare_v2(db, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?1", -1, &st, NULL),
              db, "dbstat");
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    check_sql(sqlite3_step(st), db, "dbstat");
    uint64_t v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static double fts_query(sqlite3 *db, sqlite3_stmt *st, const char *query, int64_t *ids, int *hits)
{
    double t0 = bench_now();
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (ids && n < TOPK) ids[n] = sqlite3_column_int64(st, 0);
        n++;
    }
    check_sql(rc, db, query);
    sqlite3_reset(st);
    double t = bench_now() - t0;
    if (ids)
        for (int k = n; k < TOPK; k++) ids[k] = -1;
    *hits = n;
    return t;
}

static void fts_queries(sqlite3 *db, queryset_t *qs, engine_result_t *r)
{
    sqlite3_stmt *plain = NULL, *filtered = NULL, *alone = NULL;
    check_sql(sqlite3_prepare_v2(db, "SELECT rowid FROM fts WHERE fts MATCH ?1 ORDER BY rank LIMIT 10", -1, &plain, NULL),
              db, "prepare query");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT fts.rowid FROM fts JOIN docs ON docs.id = fts.rowid WHERE fts MATCH ?1 AND docs.bucket = %d "
             "ORDER BY bm25(fts) LIMIT 10",
             FILTER_BUCKET);
    check_sql(sqlite3_prepare_v2(db, sql, -1, &filtered, NULL), db, "prepare filtered query");
    snprintf(sql, sizeof sql, "SELECT id FROM docs WHERE bucket = %d AND ?1 IS NOT NULL", FILTER_BUCKET);
    check_sql(sqlite3_prepare_v2(db, sql, -1, &alone, NULL), db, "prepare filter alone");
    int q = qs->q, hits;
    double *lat = xmalloc((size_t)q * sizeof(double));
    r->hits = xmalloc((size_t)Q_KINDS * q * TOPK * sizeof(int64_t));
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < Q_KINDS; k++) {
            if (k == Q_FUZZY) continue; /* FTS5 has no fuzzy queries */
            sqlite3_stmt *st = f ? filtered : plain;
            for (int i = 0; i < q; i++)
                fts_query(db, st, qs->kinds[k][i].fts, f ? NULL : &r->hits[((size_t)k * q + i) * TOPK], &hits);
            double total = 0, cpu0 = cpu_now();
            for (int i = 0; i < q; i++) {
                lat[i] = fts_query(db, st, qs->kinds[k][i].fts, NULL, &hits);
                total += hits;
            }
            double cpu = cpu_now() - cpu0;
            summarize(f ? &r->filtered[k] : &r->plain[k], lat, q, total);
            (f ? &r->filtered[k] : &r->plain[k])->cpu_qps = cpu > 0 ? q / cpu : 0;
        }
    int reps = q < 50 ? q : 50;
    double total = 0;
    for (int rep = -1; rep < reps; rep++) {
        double t = fts_query(db, alone, "x", NULL, &hits);
        if (rep >= 0) {
            lat[rep] = t;
            total += hits;
        }
    }
    summarize(&r->filter_alone, lat, reps, total);
    free(lat);
    sqlite3_finalize(plain);
    sqlite3_finalize(filtered);
    sqlite3_finalize(alone);
}

static void run_fts5(const char *root, corpus_t *c, queryset_t *qs, engine_result_t *r)
{
    char path_a[4096], path_b[4096];
    snprintf(path_a, sizeof path_a, "%s/fts5-%s-after.db", root, c->name);
    snprintf(path_b, sizeof path_b, "%s/fts5-%s-first.db", root, c->name);

    sqlite3 *db;
    if (!build_after) goto first;
    db = fts_open(path_a);
    double cpu0 = cpu_now();
    r->docs_only_s = fts_insert_all(db, c, 0);
    r->docs_only_cpu = cpu_now() - cpu0;
    r->docs_only_rate = c->n / r->docs_only_s;
    r->base_bytes = fts_bytes(db, "%");
    fprintf(stderr, "fts5 %s: documents only %.1f s\n", c->name, r->docs_only_s);
    double t0 = bench_now();
    cpu0 = cpu_now();
    check_sql(sqlite3_exec(db, FTS_CREATE, NULL, NULL, NULL), db, "create fts");
    check_sql(sqlite3_exec(db, "INSERT INTO fts(fts) VALUES('rebuild')", NULL, NULL, NULL), db, "rebuild");
    r->index_after_s = bench_now() - t0;
    r->index_after_cpu = cpu_now() - cpu0;
    r->index_after_rate = c->n / r->index_after_s;
    fprintf(stderr, "fts5 %s: index after %.1f s\n", c->name, r->index_after_s);
    if (!build_first) {
        check_sql(sqlite3_exec(db, "INSERT INTO fts(fts) VALUES('optimize')", NULL, NULL, NULL), db, "optimize");
        r->index_bytes = fts_bytes(db, "fts%");
        r->with_index_bytes = fts_bytes(db, "%");
        fts_queries(db, qs, r);
        fprintf(stderr, "fts5 %s: queries done\n", c->name);
    }
    sqlite3_close(db);
    unlink(path_a);
    if (!build_first) goto done;

first:
    db = fts_open(path_b);
    check_sql(sqlite3_exec(db, FTS_CREATE, NULL, NULL, NULL), db, "create fts");
    double cpu1 = cpu_now();
    r->index_first_s = fts_insert_all(db, c, 1);
    r->index_first_cpu = cpu_now() - cpu1;
    r->index_first_rate = c->n / r->index_first_s;
    fprintf(stderr, "fts5 %s: index first %.1f s\n", c->name, r->index_first_s);
    /* 'optimize' merges the index's segments into one, as Cairn's full
       compaction does for its tables */
    check_sql(sqlite3_exec(db, "INSERT INTO fts(fts) VALUES('optimize')", NULL, NULL, NULL), db, "optimize");
    r->index_bytes = fts_bytes(db, "fts%");
    r->with_index_bytes = fts_bytes(db, "%");
    fts_queries(db, qs, r);
    fprintf(stderr, "fts5 %s: queries done\n", c->name);
    sqlite3_close(db);
done:;
    char p[4200];
    unlink(path_b);
    snprintf(p, sizeof p, "%s-wal", path_b);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path_b);
    unlink(p);
    snprintf(p, sizeof p, "%s-wal", path_a);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path_a);
    unlink(p);
    r->ran = 1;
}

/* -- the report ------------------------------------------------------------ */

static const char *ratio(char *out, size_t cap, double a, double b)
{
    if (a <= 0 || b <= 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.2fx", a / b);
    return out;
}

static void print_report(corpus_t *c, queryset_t *qs, engine_result_t *ca, engine_result_t *fs)
{
    char x[64], y[64], z[32];
    printf("\n### %s: %s documents\n\n", c->name, bench_thousands(x, sizeof x, (double)c->n));
    printf("| build: documents/s by the wall clock (wall s, CPU s) | Cairn | FTS5 | Cairn/FTS5 | Cairn/FTS5 by CPU "
           "time |\n|---|---:|---:|---:|---:|\n");
    struct {
        const char *what;
        double a, b, as, bs, ac, bc;
    } builds[] = {
        {"documents only (no text index; baseline)", ca->docs_only_rate, fs->docs_only_rate, ca->docs_only_s,
         fs->docs_only_s, ca->docs_only_cpu, fs->docs_only_cpu},
        {"text index created over stored documents (index after)", ca->index_after_rate, fs->index_after_rate,
         ca->index_after_s, fs->index_after_s, ca->index_after_cpu, fs->index_after_cpu},
        {"documents inserted with the text index in place (index first)", ca->index_first_rate,
         fs->index_first_rate, ca->index_first_s, fs->index_first_s, ca->index_first_cpu, fs->index_first_cpu},
    };
    for (int i = 0; i < 3; i++) {
        char as[96] = "-", bs[96] = "-", w[32];
        if (builds[i].as > 0)
            snprintf(as, sizeof as, "%s (%.1f s, %.1f s)", bench_thousands(x, sizeof x, builds[i].a), builds[i].as,
                     builds[i].ac);
        if (builds[i].bs > 0)
            snprintf(bs, sizeof bs, "%s (%.1f s, %.1f s)", bench_thousands(y, sizeof y, builds[i].b), builds[i].bs,
                     builds[i].bc);
        printf("| %s | %s | %s | %s | %s |\n", builds[i].what, as, bs, ratio(z, sizeof z, builds[i].a, builds[i].b),
               ratio(w, sizeof w, builds[i].bc, builds[i].ac));
    }
    printf("\n| size on disk (MiB) | Cairn | FTS5 | Cairn/FTS5 |\n|---|---:|---:|---:|\n");
    printf("| text index alone | %.1f | %.1f | %s |\n", ca->index_bytes / 1048576.0, fs->index_bytes / 1048576.0,
           ratio(z, sizeof z, (double)ca->index_bytes, (double)fs->index_bytes));
    printf("| documents + bucket index, no text index | %.1f | %.1f | %s |\n", ca->base_bytes / 1048576.0,
           fs->base_bytes / 1048576.0, ratio(z, sizeof z, (double)ca->base_bytes, (double)fs->base_bytes));
    printf("| everything | %.1f | %.1f | %s |\n", ca->with_index_bytes / 1048576.0, fs->with_index_bytes / 1048576.0,
           ratio(z, sizeof z, (double)ca->with_index_bytes, (double)fs->with_index_bytes));

    for (int f = 0; f < 2; f++) {
        printf("\n| top-10 queries%s, %d each | Cairn q/s | FTS5 q/s | Cairn/FTS5 | Cairn/FTS5 by CPU time | Cairn p50 / p99 ms | FTS5 p50 / p99 ms "
               "| mean hits Cairn / FTS5 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
               f ? ", filter {bucket: 7} (1%)" : "", qs->q);
        for (int k = 0; k < Q_KINDS; k++) {
            qresult_t *a = f ? &ca->filtered[k] : &ca->plain[k], *b = f ? &fs->filtered[k] : &fs->plain[k];
            char aq[32] = "-", bq[32] = "-", al[48] = "-", bl[48] = "-";
            if (a->ran) {
                snprintf(aq, sizeof aq, "%s", bench_thousands(x, sizeof x, a->qps));
                snprintf(al, sizeof al, "%.3f / %.3f", a->p50_ms, a->p99_ms);
            }
            if (b->ran) {
                snprintf(bq, sizeof bq, "%s", bench_thousands(y, sizeof y, b->qps));
                snprintf(bl, sizeof bl, "%.3f / %.3f", b->p50_ms, b->p99_ms);
            }
            char w[32];
            printf("| %s | %s | %s | %s | %s | %s | %s | %.1f / %.1f |\n", kind_names[k], aq, bq,
                   ratio(z, sizeof z, a->qps, b->ran ? b->qps : 0), ratio(w, sizeof w, a->cpu_qps, b->ran ? b->cpu_qps : 0),
                   al, bl, a->mean_hits, b->mean_hits);
        }
        if (f) {
            qresult_t *a = &ca->filter_alone, *b = &fs->filter_alone;
            printf("| the filter alone (find {bucket: 7}, every _id; %.0f docs) | %s | %s | %s | - | %.3f / %.3f | %.3f / %.3f | "
                   "- |\n",
                   a->mean_hits, bench_thousands(x, sizeof x, a->qps), bench_thousands(y, sizeof y, b->qps),
                   ratio(z, sizeof z, a->qps, b->qps), a->p50_ms, a->p99_ms, b->p50_ms, b->p99_ms);
        }
    }

    if (ca->ran && fs->ran) {
        printf("\n| relevance: top-10 overlap with FTS5 (mean over %d queries) | overlap | queries with both "
               "empty |\n|---|---:|---:|\n",
               qs->q);
        for (int k = 0; k < Q_KINDS; k++) {
            if (k == Q_FUZZY) continue;
            double sum = 0;
            int empty = 0;
            for (int i = 0; i < qs->q; i++) {
                int64_t *a = &ca->hits[((size_t)k * qs->q + i) * TOPK], *b = &fs->hits[((size_t)k * qs->q + i) * TOPK];
                int na = 0, nb = 0, common = 0;
                for (int u = 0; u < TOPK; u++) {
                    if (a[u] >= 0) na++;
                    if (b[u] >= 0) nb++;
                }
                for (int u = 0; u < na; u++)
                    for (int v = 0; v < nb; v++)
                        if (a[u] == b[v]) common++;
                int mx = na > nb ? na : nb;
                if (mx == 0) {
                    empty++;
                    sum += 1;
                } else {
                    sum += (double)common / mx;
                }
            }
            printf("| %s | %.2f | %d |\n", kind_names[k], sum / qs->q, empty);
        }
    }
    fflush(stdout);
}

/* -- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *corpora = "gcide,zipf", *engines = "cairn,fts5", *root = "/tmp/cairn-fts-bench";
    const char *gcide_dir = "/usr/share/dictd";
    size_t num = 1000000, gcide_limit = 0;
    int q = 200;
    uint64_t seed = 14;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--corpus=", 9) == 0) corpora = a + 9;
        else if (strncmp(a, "--num=", 6) == 0) num = strtoull(a + 6, NULL, 10);
        else if (strncmp(a, "--gcide-limit=", 14) == 0) gcide_limit = strtoull(a + 14, NULL, 10);
        else if (strncmp(a, "--queries=", 10) == 0) q = atoi(a + 10);
        else if (strncmp(a, "--engines=", 10) == 0) engines = a + 10;
        else if (strncmp(a, "--db=", 5) == 0) root = a + 5;
        else if (strncmp(a, "--gcide=", 8) == 0) gcide_dir = a + 8;
        else if (strncmp(a, "--seed=", 7) == 0) seed = strtoull(a + 7, NULL, 10);
        else if (strcmp(a, "--stopwords") == 0) opt_stopwords = 1;
        else if (strncmp(a, "--build=", 8) == 0) {
            build_after = strstr(a + 8, "after") != NULL;
            build_first = strstr(a + 8, "first") != NULL;
            if (!build_after && !build_first) die("--build needs after, first or both");
        }
        else die("unknown argument %s (see the comment at the top of bench/fts_bench.c)", a);
    }
    if (q < 1 || num < 1000) die("--queries must be >= 1 and --num >= 1000");
    int do_cairn = strstr(engines, "cairn") != NULL, do_fts = strstr(engines, "fts5") != NULL;
    char rootdir[2048];
    if (strlen(root) > 1900) die("--db is too long");
    snprintf(rootdir, sizeof rootdir, "%s/run-%d", root, (int)getpid());
    if (bench_make_dirs(rootdir) != 0) die("cannot create %s", rootdir);
    snprintf(text_spec, sizeof text_spec,
             "{\"keys\":{\"title\":\"text\",\"body\":\"text\"},\"name\":\"search\","
             "\"default_language\":\"english\",\"analyzer\":{\"stemming\":true,\"stopwords\":%s}}",
             opt_stopwords ? "true" : "false");

    printf("# Full-text search bench (bench/fts_bench.c)\n\n");
    bench_print_machine(rootdir, BENCH_CFLAGS, 0, "not measured");
    printf("\n## Configuration\n\n");
    printf("- Cairn %s (ABI %d), text index `%s`, ordered index `{\"keys\":{\"bucket\":1}}`\n", cairn_version(),
           cairn_abi_version(), text_spec);
    printf("- SQLite %s: `%s` (external content: the index holds no copy of the text), WAL, synchronous=OFF, "
           "default page cache; index on docs(bucket); queries `... WHERE fts MATCH ? ORDER BY rank LIMIT 10`\n",
           sqlite3_libversion(), FTS_CREATE);
    printf("- batches of %d documents; %d queries per kind, seed %" PRIu64 "\n", BATCH, q, seed);

    const char *names[2] = {"gcide", "zipf"};
    for (int ci = 0; ci < 2; ci++) {
        if (strstr(corpora, names[ci]) == NULL) continue;
        corpus_t c;
        memset(&c, 0, sizeof c);
        double t0 = bench_now();
        if (ci == 0)
            load_gcide(&c, gcide_dir, gcide_limit);
        else
            init_zipf(&c, num, seed);
        printf("\n## Corpus %s\n\n", c.name);
        if (ci == 0)
            printf("- GCIDE (dict-gcide, %s/gcide.*): %zu distinct entries (headwords pointing at one entry are one "
                   "document), loaded in %.1f s\n",
                   gcide_dir, c.n, bench_now() - t0);
        else
            printf("- generated: %zu documents, title 1-6 and body 5-75 words from %d pseudo-words, Zipf(1)\n", c.n,
                   ZIPF_VOCAB);
        queryset_t qs;
        make_queries(&c, &qs, q, seed);
        fflush(stdout);
        engine_result_t ca, fs;
        memset(&ca, 0, sizeof ca);
        memset(&fs, 0, sizeof fs);
        if (do_cairn) run_cairn(rootdir, &c, &qs, &ca);
        if (do_fts) run_fts5(rootdir, &c, &qs, &fs);
        print_report(&c, &qs, &ca, &fs);
    }
    bench_remove_tree(rootdir);
    return 0;
}
