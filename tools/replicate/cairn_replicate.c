/*
** cairn-replicate -- publishes a Cairn database's change feed to a NATS
** JetStream stream, for read replicas (cairn-follow) and other consumers.
**
**   cairn-replicate DB_PATH [--url nats://127.0.0.1:4222] [--stream CAIRN]
**                   [--idle-exit MS] [--progress]
**
** Every event of the feed (include/cairn.h, "Change feeds") becomes one
** message on the subject "<stream>.events", its body the event's JSON, in
** commit order. The stream itself records how far the replicator got: at
** start it reads the last message of the stream and resumes the feed right
** after that event's resume token ("_id"), so a restart, also after a
** kill -9, publishes neither a gap nor a duplicate. Each message also
** carries the token as its Nats-Msg-Id ("seq-pos"), so a publish retried
** after a lost acknowledgement is dropped by JetStream's de-duplication.
**
** The database is opened with {"change_feed": true}: like every Cairn
** program it must be the only process with the database open, so it runs
** where the primary's writer runs, or between its runs. A primary whose
** history no longer holds the events after the stream's last one (trimmed
** by retention, or written with the feed off) cannot be replicated from
** there: the program says so and exits 2 (the replica must be rebuilt).
**
** --idle-exit MS ends the program, with status 0, once no event came for
** that long; without it it runs until killed. --progress prints
** "published SEQ POS" after each acknowledged publish. The library stays
** free of NATS: this program links libnats and libcairn.
*/
#define _POSIX_C_SOURCE 200809L

#include <cairn.h>
#include <nats/nats.h>

#include "replicate_args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The resume token at the start of an event: {"_id":{"seq":S,"pos":P},...}. */
static int event_token(const char *json, size_t len, uint64_t *seq, uint32_t *pos)
{
    char buf[96];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, json, n);
    buf[n] = '\0';
    return sscanf(buf, "{\"_id\":{\"seq\":%" SCNu64 ",\"pos\":%" SCNu32 "}", seq, pos) == 2 ? 0 : -1;
}

static void die_nats(const char *what, natsStatus s, jsErrCode code)
{
    fprintf(stderr, "cairn-replicate: %s: %s (JetStream error %d)\n", what, natsStatus_GetText(s), (int)code);
    exit(1);
}

int main(int argc, char **argv)
{
    int rc;
    char subject[256], options[256], msg_id[64];
    char *err = NULL;
    cairn_db *db = NULL;
    cairn_watch *watch = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    natsMsg *last = NULL;
    int64_t idle_since;
    uint64_t published = 0;

    replicate_args args;
    if (replicate_parse_args(argc, argv, "cairn-replicate", "DB_PATH", &args) != 0) return 64;
    const char *path = args.path, *url = args.url, *stream = args.stream;
    int64_t idle_exit = args.idle_exit;
    int progress = args.progress;
    snprintf(subject, sizeof subject, "%s.events", stream);

    {
        static const char open_options[] = "{\"change_feed\": true, \"create_if_missing\": false}";
        rc = cairn_open(path, open_options, sizeof open_options - 1, &db, &err);
    }
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn-replicate: cannot open %s: %s: %s\n", path, cairn_status_name(rc), err ? err : "");
        return 1;
    }
    if ((s = natsConnection_ConnectTo(&nc, url)) != NATS_OK)
        die_nats("connect", s, 0);
    if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
        die_nats("JetStream context", s, 0);

    /* The stream, made on first use: file storage, the default de-duplication window. */
    s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig cfg;
        const char *subjects[1];
        subjects[0] = subject;
        jsStreamConfig_Init(&cfg);
        cfg.Name = stream;
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        jerr = 0;
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    }
    if (s != NATS_OK)
        die_nats("stream", s, jerr);
    jsStreamInfo_Destroy(si);

    /* Resume after the last event the stream holds, or from the feed's start. */
    jerr = 0;
    s = js_GetLastMsg(&last, js, stream, subject, NULL, &jerr);
    if (s == NATS_OK) {
        uint64_t seq;
        uint32_t pos;
        if (event_token(natsMsg_GetData(last), (size_t)natsMsg_GetDataLength(last), &seq, &pos) != 0) {
            fprintf(stderr, "cairn-replicate: the last message of stream %s is not a Cairn event\n", stream);
            return 1;
        }
        snprintf(options, sizeof options, "{\"resumeAfter\": {\"seq\": %" PRIu64 ", \"pos\": %" PRIu32 "}}", seq, pos);
        natsMsg_Destroy(last);
    } else if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
        snprintf(options, sizeof options, "{\"startAtOperationTime\": 1}");
    } else {
        die_nats("last message", s, jerr);
    }
    rc = cairn_watch_open(db, CAIRN_WATCH_ALL, NULL, 0, options, strlen(options), &watch, &err);
    if (rc == CAIRN_HISTORY_LOST) {
        fprintf(stderr, "cairn-replicate: %s: %s; the replica must be rebuilt from a copy of the primary\n",
                cairn_status_name(rc), err ? err : "");
        return 2;
    }
    if (rc != CAIRN_OK) {
        fprintf(stderr, "cairn-replicate: cannot watch %s: %s: %s\n", path, cairn_status_name(rc), err ? err : "");
        return 1;
    }
    printf("resuming with %s\n", options);
    fflush(stdout);

    idle_since = now_ms();
    for (;;) {
        char *event = NULL;
        size_t len = 0;
        uint64_t seq;
        uint32_t pos;
        jsPubOptions pub;
        rc = cairn_watch_next(watch, 100, &event, &len, &err);
        if (rc == CAIRN_DONE) {
            if (idle_exit >= 0 && now_ms() - idle_since >= idle_exit)
                break;
            continue;
        }
        if (rc != CAIRN_OK) {
            fprintf(stderr, "cairn-replicate: %s: %s\n", cairn_status_name(rc), err ? err : "");
            return rc == CAIRN_HISTORY_LOST ? 2 : 1;
        }
        if (event_token(event, len, &seq, &pos) != 0) {
            fprintf(stderr, "cairn-replicate: an event without a resume token\n");
            return 1;
        }
        snprintf(msg_id, sizeof msg_id, "%" PRIu64 "-%" PRIu32, seq, pos);
        jsPubOptions_Init(&pub);
        pub.MsgId = msg_id;
        jerr = 0;
        s = js_Publish(NULL, js, subject, event, (int)len, &pub, &jerr);
        cairn_free(event);
        if (s != NATS_OK)
            die_nats("publish", s, jerr);
        published++;
        if (progress) {
            printf("published %" PRIu64 " %" PRIu32 "\n", seq, pos);
            fflush(stdout);
        }
        idle_since = now_ms();
    }
    printf("replicated %" PRIu64 " events\n", published);
    cairn_watch_close(watch);
    cairn_close(db, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
