/*
** replicate_args.h -- the command line both replication tools share:
**
**     TOOL PATH [--url URL] [--stream NAME] [--idle-exit MS] [--progress]
**
** PATH is the database (cairn-replicate) or the replica (cairn-follow).
** --idle-exit MS ends the tool once nothing happened for MS milliseconds
** (the end-to-end test's way to stop it); without it the tool runs until
** killed. Header-only: each tool is one C file.
*/
#ifndef CAIRN_REPLICATE_ARGS_H
#define CAIRN_REPLICATE_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct replicate_args {
    const char *path;
    const char *url;    /* default nats://127.0.0.1:4222 */
    const char *stream; /* default CAIRN */
    int64_t idle_exit;  /* -1: never */
    int progress;
} replicate_args;

/* Parses argv into *args; on a bad command line prints the usage of `tool`
 * (naming its PATH as `path_name`) and returns 64 (EX_USAGE), else 0. */
static int replicate_parse_args(int argc, char **argv, const char *tool, const char *path_name,
                                replicate_args *args)
{
    args->path = NULL;
    args->url = "nats://127.0.0.1:4222";
    args->stream = "CAIRN";
    args->idle_exit = -1;
    args->progress = 0;
    int ok = 1;
    for (int i = 1; i < argc && ok; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            args->url = argv[++i];
        else if (strcmp(argv[i], "--stream") == 0 && i + 1 < argc)
            args->stream = argv[++i];
        else if (strcmp(argv[i], "--idle-exit") == 0 && i + 1 < argc)
            args->idle_exit = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--progress") == 0)
            args->progress = 1;
        else if (argv[i][0] != '-' && args->path == NULL)
            args->path = argv[i];
        else
            ok = 0;
    }
    if (!ok || args->path == NULL) {
        fprintf(stderr, "usage: %s %s [--url URL] [--stream NAME] [--idle-exit MS] [--progress]\n", tool, path_name);
        return 64;
    }
    return 0;
}

#endif
