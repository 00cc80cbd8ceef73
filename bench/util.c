/*
** util.c -- the helpers both harnesses share; see util.h.
*/
#define _GNU_SOURCE /* nftw's FTW_PHYS/FTW_DEPTH, realpath */

#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int bench_fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, BENCH_ERRLEN, fmt, ap);
    va_end(ap);
    return -1;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Directories ---------------------------------------------------------- */

static uint64_t du_total; /* nftw has no context argument */
static int du_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path, (void)type, (void)ftw;
    du_total += (uint64_t)st->st_blocks * 512u;
    return 0;
}

uint64_t bench_disk_usage(const char *dir)
{
    du_total = 0;
    nftw(dir, du_visit, 16, FTW_PHYS);
    return du_total;
}

static int rm_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

void bench_remove_tree(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) == 0) nftw(dir, rm_visit, 16, FTW_DEPTH | FTW_PHYS);
}

int bench_make_dirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

const char *bench_thousands(char *out, size_t cap, double value)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", value);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

/* ---- Machine facts ----------------------------------------------------- */

static void read_proc_field(const char *file, const char *field, char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen(file, "r");
    if (f == NULL) return;
    char line[512];
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) != 0) continue;
        char *colon = strchr(line, ':');
        if (colon == NULL) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, cap, "%s", colon);
        break;
    }
    fclose(f);
}

/* The mount (device, type, mount point) that holds `dir`. */
static void filesystem_of(const char *dir, char *out, size_t cap)
{
    char real[PATH_MAX];
    snprintf(out, cap, "unknown");
    if (realpath(dir, real) == NULL) return;
    FILE *f = fopen("/proc/self/mounts", "r");
    if (f == NULL) return;
    char line[1024];
    size_t best = 0;
    while (fgets(line, sizeof line, f)) {
        char device[256], mount[512], type[64];
        if (sscanf(line, "%255s %511s %63s", device, mount, type) != 3) continue;
        size_t len = strlen(mount);
        int inside = strncmp(real, mount, len) == 0 && (real[len] == '/' || real[len] == '\0' || len == 1);
        if (inside && len >= best) {
            best = len;
            snprintf(out, cap, "%s on %s (%s)", type, mount, device);
        }
    }
    fclose(f);
}

void bench_print_machine(const char *dir, const char *cflags, long baseline_kb, const char *baseline_what)
{
    char cpu[256], mem[64], fs[1024], date[64];
    read_proc_field("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    read_proc_field("/proc/meminfo", "MemTotal", mem, sizeof mem);
    filesystem_of(dir, fs, sizeof fs);
    struct utsname u;
    uname(&u);
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("## Machine\n\n");
    printf("- date: %s\n", date);
    printf("- cpu: %s; %ld cores online\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("- memory: %s\n", mem);
    printf("- kernel: %s %s %s\n", u.sysname, u.release, u.machine);
    printf("- bench directory: %s, filesystem %s\n", dir, fs);
    printf("- harness: C, %s, compiled with %s\n", cflags, __VERSION__);
    printf("- peak RSS of an idle harness child (%s): %.1f MiB\n\n", baseline_what, baseline_kb / 1024.0);
}

/* ---- Forking ------------------------------------------------------------- */

int bench_run_forked(int (*child)(void *arg, void *result), void *arg, void *result, size_t size,
                     long *peak_rss_kb, char *how, size_t how_cap)
{
    int fds[2];
    *peak_rss_kb = 0;
    if (pipe(fds) != 0) {
        snprintf(how, how_cap, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(how, how_cap, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        int ok = child(arg, result) == 0;
        const char *p = result;
        size_t left = size;
        while (left > 0) {
            ssize_t n = write(fds[1], p, left);
            if (n <= 0) _exit(3);
            p += n;
            left -= (size_t)n;
        }
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    char *p = result;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fds[0], p + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    *peak_rss_kb = ru.ru_maxrss;
    if (got == size && WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (got == size && WIFEXITED(status) && WEXITSTATUS(status) == 1) return 1;
    if (WIFSIGNALED(status)) snprintf(how, how_cap, "the child died of signal %d", WTERMSIG(status));
    else
        snprintf(how, how_cap, "the child failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
}

int bench_select_names(const char *list, int *on, int count, const char *(*name_of)(int), const char *what)
{
    memset(on, 0, sizeof(int) * (size_t)count);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < count; i++)
            if (strcmp(tok, name_of(i)) == 0) on[i] = found = 1;
        if (!found) {
            fprintf(stderr, "unknown %s: %s\n", what, tok);
            return -1;
        }
    }
    return 0;
}
