/*
** cairn_options.h -- the options both harnesses pass to cairn_open(): the
** only place they are chosen.
**
** Cairn takes its options as JSON at cairn_open(). The harnesses' defaults
** are written in cairn_options.c; the environment variable
** CAIRN_BENCH_OPTIONS (a JSON object) adds keys or overrides them, so
** options the storage engine gains later (block_cache_mb, compression, ...)
** can be measured without editing a harness:
**
**     CAIRN_BENCH_OPTIONS='{"checkpoint_mb":256}' make bench N=100000
**
** "sync" is the one key the environment may not set: the harness decides it
** ("never" unless the row is durable, "always" when it is). An option
** cairn_open() rejects stops the benchmark with Cairn's message; it is never
** dropped silently. Every other Cairn setting is its default.
*/
#ifndef BENCH_CAIRN_OPTIONS_H
#define BENCH_CAIRN_OPTIONS_H

#include <cairn.h>

#define BENCH_CAIRN_OPTIONS_ENV "CAIRN_BENCH_OPTIONS"

/* The options JSON for one open: {"sync": "never"} (or "always" when `sync`
** is non-zero) merged with CAIRN_BENCH_OPTIONS, whose keys win. A malloc()ed
** string (free()), or NULL with a message in err (BENCH_ERRLEN bytes) when
** the environment's text is not a JSON object or names "sync". */
char *bench_cairn_options(int sync, char *err);

/* Opens the database in `dir` with bench_cairn_options(sync) after checking
** that the library's ABI is the header's. 0, or -1 with a message in err. */
int bench_cairn_open(const char *dir, int sync, cairn_db **out, char *err);

/* Puts "<what>: <status name>: <Cairn's message>" in err, frees the
** message, and returns -1. */
int bench_cairn_fail(char *err, const char *what, int status, char *msg);

#endif /* BENCH_CAIRN_OPTIONS_H */
