/*
** util.h -- what both harnesses share: the key-value bench (harness.c) and
** the document bench (docs_harness.c). Error messages, the clock, the
** database directories, number formatting, the machine facts of the report
** and the forked child that runs one row.
*/
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_ERRLEN 512

/* Formats a message into err (BENCH_ERRLEN bytes) and returns -1. */
int bench_fail(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Bytes allocated under `dir`, as du(1) counts them (sparse files count
** only what is written). Not thread-safe. */
uint64_t bench_disk_usage(const char *dir);

/* Deletes `dir` and everything under it; nothing when it does not exist. */
void bench_remove_tree(const char *dir);

/* mkdir -p. Returns 0, or -1 with errno set. */
int bench_make_dirs(const char *path);

/* "1234567" -> "1,234,567": `value` rounded to a whole number, into
** out[0..cap). Returns out. */
const char *bench_thousands(char *out, size_t cap, double value);

/* Prints the report's "## Machine" section: date, CPU, memory, kernel, the
** file system holding `dir`, the compiler and `cflags`, and the peak RSS of
** an idle harness child (`baseline_kb`), described as `baseline_what`. */
void bench_print_machine(const char *dir, const char *cflags, long baseline_kb, const char *baseline_what);

/*
** Runs child(arg, result) in a forked process. The child fills `result`
** (`size` bytes, plain data) and returns 0 on success or -1 on failure; the
** whole struct comes back to the parent through a pipe in either case.
** Returns 0 when the child succeeded, 1 when it reported a failure (its
** message is in `result`, wherever the caller keeps it), and -1 when it
** died or sent a short result, with a description of how it ended in
** how[0..how_cap). *peak_rss_kb receives the child's ru_maxrss in every
** case: the peak resident memory of that process alone.
*/
int bench_run_forked(int (*child)(void *arg, void *result), void *arg, void *result, size_t size,
                     long *peak_rss_kb, char *how, size_t how_cap);

/*
** Turns a comma-separated list of names ("cairn,sqlite") into flags: on[i]
** is set for every i whose name_of(i) is in the list. Returns 0, or -1
** after printing "unknown <what>: <name>" for a name that matches none.
*/
int bench_select_names(const char *list, int *on, int count, const char *(*name_of)(int), const char *what);

#endif /* BENCH_UTIL_H */
