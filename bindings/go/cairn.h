/*
** cairn.h -- the C interface of Cairn, an embeddable multi-model database.
**
** This header is the source of truth for the library's ABI. The Swift core
** implements every function declared here with `@c @implementation`, so the
** compiler rejects any implementation whose signature drifts from this file.
** The Python binding's ctypes declarations are checked against it by a test,
** and the Go binding #includes it.
**
** ABI PROMISE
**   Within one CAIRN_ABI_VERSION, functions are only ever added, never changed
**   or removed, and status codes keep their numbers forever. A new behaviour
**   gets a new function name. Bindings call cairn_abi_version() at load time
**   and refuse a library whose ABI version differs from the one they were
**   written for.
**
** CONVENTIONS (they hold for every function unless its comment says otherwise)
**   1. Handles (cairn_db, cairn_batch, cairn_iter) are opaque. Closing a handle
**      is idempotent, and any call on a closed handle returns CAIRN_CLOSED:
**      never undefined behaviour. A handle value is never reused after close.
**   2. Fallible functions return an int status from the cairn_status enum
**      (CAIRN_OK is 0). Their last parameter is `char **errmsg`: when it is
**      not NULL and the call fails, *errmsg receives a NUL-terminated message
**      naming the problem, which the caller frees with cairn_free(). On
**      success *errmsg is set to NULL. CAIRN_DONE is not a failure and sets
**      no message. There is no thread-local "last error".
**   3. Binary data crosses as a pointer plus a length (`const uint8_t *key,
**      size_t key_len`). Keys and values are binary-safe. A pointer may be
**      NULL only when its length is 0.
**   4. Structured input (options, filters) crosses as JSON text, again as a
**      pointer plus a length; a NULL pointer with length 0 means "{}".
**   5. Every buffer the library hands to the caller is allocated with
**      malloc() and freed with cairn_free(), unless the function says it
**      returns a borrowed view. A borrowed view points into memory owned by
**      a handle and stays valid only until the next call on that handle.
**   6. Booleans are int: 0 is false, anything else true.
**   7. Every function copies what it needs from its input buffers before it
**      returns, so the caller may reuse or free them at once (a batch
**      copies each key and value as it is added; an iterator its bounds).
**
** LIMITS
**   Keys are 1 to CAIRN_MAX_KEY_SIZE bytes. Values are 0 to
**   CAIRN_MAX_VALUE_SIZE bytes. Larger input fails with
**   CAIRN_INVALID_ARGUMENT and writes nothing. One commit (a batch, a
**   transaction, or a single call's own write) holds at most
**   CAIRN_MAX_BATCH_SIZE bytes of keys and values, counting a few bytes
**   per operation. A batch refuses the operation that would take it past
**   that with CAIRN_INVALID_ARGUMENT, and stays as it was; a transaction
**   or call over it fails at commit with CAIRN_INVALID_ARGUMENT and
**   writes nothing.
**
** MEMORY
**   Allocations whose size the input decides are checked first and fail
**   with CAIRN_NO_MEMORY, writing nothing, when memory (an address-space
**   limit, a container's cap) runs out: key-value puts and batches, document
**   inserts and replacements given as JSON, every committed write, log
**   segments and manifests read at open, blocks read from tables, and every
**   buffer returned to the caller. A function that returns JSON reserves
**   256 bytes for it before it does anything, so a result of up to 255
**   bytes (an id, the counts of an update) never fails once a write has
**   committed; a longer one that cannot be allocated after its write
**   committed returns CAIRN_NO_MEMORY with *json NULL, and the message says
**   that the write stands. The many small allocations of ordinary
**   work are not checked: the Swift runtime aborts the process when one of
**   those fails, as most C libraries' callers do on a NULL from malloc().
**   Blocking query stages (an unindexed sort, $group, $sort) stop at 256 MiB
**   with CAIRN_INVALID_ARGUMENT.
**
** PACKED LISTS
**   Functions that take or return many keys or values use one buffer holding
**   a packed list: for each item, a 4-byte little-endian unsigned length
**   followed by that many bytes. In a result, the length 0xFFFFFFFF
**   (CAIRN_ABSENT) marks an item that does not exist and has no bytes.
**
** THREADING
**   A cairn_db may be used from any number of threads at once. A cairn_batch
**   or cairn_iter is used by one caller at a time, but is not tied to the OS
**   thread that created it (Go may move a goroutine between threads).
**
** DURABILITY
**   With the default sync mode "always", a write that returned CAIRN_OK is on
**   stable storage and survives a crash or power loss. A write batch is
**   applied entirely or not at all, also across a crash.
**
**   A full disk fails writes with CAIRN_NO_SPACE while reads go on; once
**   space is freed, writes resume without a reopen (the engine retries the
**   background work that failed, at most once a second). A database also
**   opens on a full disk: the writes its log holds are served from memory
**   until there is room to flush them.
**
** One handle owns a database directory at a time, through an OS file lock
** that the kernel releases when the process dies; a second opener, in
** another process or in the same one, receives CAIRN_BUSY. No stale lock
** ever blocks a reopen. Readers open beside the owner with "read_only" or
** "secondary" (see cairn_open()), which take no lock.
**
** FORK
**   A handle does not cross fork(). In the child, every call on a handle the
**   parent opened (database, transaction, iterator, cursor) fails at once
**   with CAIRN_INVALID_ARGUMENT ("... used after fork(); open the database
**   again in the child") and touches no file, lock or thread; closing it in
**   the child only forgets it. The parent is not affected. SQLite states the
**   same rule. A child that needs the database opens it anew once the parent
**   has closed it (the directory lock allows one owner).
**
** INTEGRITY
**   Open never deletes a file it cannot prove obsolete and never opens damage
**   as an empty or smaller database: a missing or stale MANIFEST, a missing
**   or emptied log segment, and a table that is not the one the manifest
**   recorded (exchanged, truncated, from another database) are
**   CAIRN_CORRUPTION naming the file. cairn_repair() rebuilds what it can.
**   Each database has a random id that its manifest, tables and log
**   segments carry (docs/format/sstable.md).
*/
#ifndef CAIRN_H
#define CAIRN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0
#define CAIRN_VERSION_STRING "0.1.0"

/* The ABI version this header describes. See the ABI PROMISE above. */
#define CAIRN_ABI_VERSION 1

/*
** Returns the library's version as a static string such as "0.1.0".
**
** Not a method of a handle. Never fails; thread-safe. The string is owned
** by the library and never freed.
*/
const char *cairn_version(void);

/*
** Returns the ABI version the loaded library implements. A program compiled
** against this header should check that it equals CAIRN_ABI_VERSION.
**
** Not a method of a handle. Never fails; thread-safe.
*/
int cairn_abi_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/*
** Every fallible function returns one of these. The numbers are stable and
** never reused; new codes may be added in later versions, so treat an
** unknown code as a generic failure. On a handle opened with "read_only" or
** "secondary" (cairn_open()), every function that writes returns
** CAIRN_READ_ONLY, though its own Returns line does not repeat it.
*/
enum cairn_status {
    CAIRN_OK = 0,               /* success */
    CAIRN_NOT_FOUND = 1,        /* the key, document or object does not exist */
    CAIRN_INVALID_ARGUMENT = 2, /* bad input: NULL, bad JSON, unknown option, size limit */
    CAIRN_IO_ERROR = 3,         /* the operating system reported an I/O failure */
    CAIRN_CORRUPTION = 4,       /* a file's contents failed a checksum or format check */
    CAIRN_BUSY = 5,             /* the database is locked by another process */
    CAIRN_CLOSED = 6,           /* the handle (or its database) was closed */
    CAIRN_CONFLICT = 7,         /* a concurrent transaction wrote the same data */
    CAIRN_CONSTRAINT = 8,       /* a unique constraint would be violated */
    CAIRN_SCHEMA = 9,           /* a document does not satisfy its collection's schema */
    CAIRN_NO_SPACE = 10,        /* the disk or file system is full */
    CAIRN_INTERNAL = 11,        /* a bug in Cairn: please report it */
    CAIRN_NO_MEMORY = 12,       /* an allocation the input asked for failed; nothing was written */
    CAIRN_INTERRUPTED = 13,     /* cairn_interrupt() stopped the operation; nothing was damaged */
    CAIRN_HISTORY_LOST = 14,    /* a watch's start point is older than the change feed's history */
    CAIRN_READ_ONLY = 15,       /* a write on a handle opened "read_only" or "secondary" */
    CAIRN_DONE = 100            /* not an error: an iterator has no more items */
};

/*
** Returns the symbolic name of a status code ("CAIRN_NOT_FOUND"), or
** "CAIRN_UNKNOWN" for a number this version does not know.
**
** Not a method of a handle. Never fails and never returns NULL; the string
** is static and never freed.
*/
const char *cairn_status_name(int status);

/*
** Frees a buffer that the library returned (an errmsg, a value, a list).
**
** Destructor of every malloc()ed buffer the library hands to the caller
** (CONVENTIONS 5), never of a borrowed view. cairn_free(NULL) does nothing.
** Never pass a handle here: handles have their own close functions.
*/
void cairn_free(void *ptr);

/*
** Parses a duration such as "500ms", "30s", "5m", "1h", "2d" or "1w" (a
** positive whole number and one unit; a bare number means milliseconds)
** into milliseconds, so that every binding accepts the same TTL strings.
**
** Not a method of a handle.
**
** Parameters:
**   text     in: the text (text_len bytes, no NUL needed); NULL only with
**            text_len 0, which is empty text.
**   ms       out: the milliseconds, set on CAIRN_OK. Must not be NULL.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK, or CAIRN_INVALID_ARGUMENT naming the problem (empty
** text, unknown unit, zero, negative, overflow, a NULL ms).
*/
int cairn_parse_duration(const char *text, size_t text_len, int64_t *ms,
                         char **errmsg);

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

#define CAIRN_MAX_KEY_SIZE 65536
#define CAIRN_MAX_VALUE_SIZE (256u * 1024u * 1024u)
#define CAIRN_MAX_BATCH_SIZE (1023u * 1024u * 1024u)
#define CAIRN_ABSENT 0xFFFFFFFFu

/* ------------------------------------------------------------------------ */
/* Opening and closing a database                                            */
/* ------------------------------------------------------------------------ */

/* An open database directory. Safe to use from any number of threads. */
typedef struct cairn_db cairn_db;

/*
** Opens (and by default creates) the database in directory `path`.
**
** Constructor of cairn_db; pair with cairn_close().
**
** Parameters:
**   path          in: NUL-terminated directory path. Must not be NULL.
**   options_json  in: a JSON object of options, or NULL with length 0 for
**                 the defaults. Unknown keys fail with
**                 CAIRN_INVALID_ARGUMENT naming the key. The options are:
**     "create_if_missing": bool, default true. Create the directory and
**                          database when absent; when false, a missing
**                          database fails with CAIRN_NOT_FOUND.
**     "error_if_exists":   bool, default false. Fail with
**                          CAIRN_INVALID_ARGUMENT if a database exists.
**     "sync":              "always" (default) fsyncs the write-ahead log
**                          before a write returns, so an acknowledged write
**                          survives power loss (concurrent writers share one
**                          fsync: group commit); "interval" fsyncs at most
**                          every "sync_interval_ms" (a power loss loses at
**                          most that much); "never" leaves flushing to the
**                          OS (a process crash loses nothing, a power loss
**                          may lose recent writes).
**     "sync_interval_ms":  integer 1..3600000, default 100.
**     "memtable_size_mb":  integer 1..4096, default 16. A memtable this
**                          large is frozen and flushed to a table in the
**                          background while writes go on in a new one.
**                          Time-series chunks count at a quarter of
**                          their bytes (a flush merges the chunks each
**                          series wrote while the memtable filled), so a
**                          memtable of them alone grows to four times
**                          this size before its flush.
**     "block_size":        integer 256..1048576, default 4096: uncompressed
**                          bytes per table data block.
**     "compression":       "lz4" (default), "zstd" or "none", per block,
**                          for levels 2 and below, where most of the data
**                          settles. zstd makes them about a fifth smaller
**                          and a read that misses the block cache several
**                          times slower (it decompresses a block).
**     "upper_level_compression": the same choices for levels 0 and 1, which
**                          are rewritten often and read most; default "lz4"
**                          when "compression" is "zstd", else the same as
**                          "compression".
**     "bloom_bits_per_key": integer 0..64, default 10 (about 1% false
**                          positives); 0 turns bloom filters off.
**     "block_cache_mb":    integer, default 8: the shared cache of
**                          uncompressed blocks; 0 turns it off.
**     "graph_cache_mb":    integer, default 64: the graph layer's cache
**                          of adjacency lists (a vertex's edges as an
**                          adjacency index holds them), filled by graph
**                          queries; a commit that changes a list removes
**                          it, and a query never reads a list newer or
**                          older than its snapshot. 0 turns it off; it is
**                          always off on a "read_only" or "secondary"
**                          handle, which does not see the writer's commits
**                          as they happen.
**     "level_size_ratio":  integer 2..100, default 10: each level holds
**                          this many times the bytes of the one above.
**     "max_open_tables":   integer 16..1000000, default 1000: the most
**                          tables with open files (descriptors) at once;
**                          the least recently read are closed beyond it.
**     "paranoid_recovery": bool, default false. At open, a last log record
**                          that fails its checksum (damage, or a write the
**                          OS lost part of in a power loss) is cut off and
**                          reported in cairn_stats()'s "recovery_notes";
**                          with true it is CAIRN_CORRUPTION instead (as
**                          RocksDB's kAbsoluteConsistency). A write cut
**                          short by a crash is cut off either way.
**     "mmap_reads":        bool, default true: tables are read through
**                          read-only memory maps, as LevelDB and LMDB read
**                          (no system call or copy per block; the pages
**                          are the OS page cache's, shared, and count in
**                          the process's RSS only as file pages). The
**                          price is theirs too: a disk that fails to read
**                          a mapped page, or a table file truncated behind
**                          the database's back, raises SIGBUS instead of
**                          CAIRN_IO_ERROR. false reads with pread. Either
**                          way every block is checked against its CRC.
**     "change_feed":       false (default), true, or {"retention_seconds":
**                          integer >= 0, default 86400; "retention_bytes":
**                          integer >= 0, default 268435456} (0 turns one
**                          limit off; not both). On, every change records
**                          its event for cairn_watch_open() in the same
**                          atomic write as the change; see "Change feeds".
**                          A database that is watched is opened with it
**                          every time: changes made by an open without it
**                          have no events, and resuming across them fails
**                          with CAIRN_HISTORY_LOST.
**     "ttl_purge_interval_ms": integer 0 to 86400000, default 60000: how
**                          often expired documents are deleted in the
**                          background (0: never; reads skip them either
**                          way); see "Documents that expire".
**     "read_only":         bool, default false. Opens without the directory
**                          lock, beside a writer in another process (or
**                          none), seeing the database as of open: the
**                          manifest's tables and the log replayed into
**                          memory. Creates, changes and deletes no file,
**                          so it also opens read-only files and file
**                          systems. Writes (and cairn_flush(),
**                          cairn_compact_range(), index builds) fail with
**                          CAIRN_READ_ONLY. A missing database is
**                          CAIRN_NOT_FOUND whatever "create_if_missing"
**                          says. Change feeds are off on such a handle.
**                          Every table it reads stays open (a file
**                          descriptor and a map each) until it closes, so
**                          that the writer deleting one after a compaction
**                          takes nothing from under it: a database of more
**                          tables than the process's descriptor limit
**                          ("ulimit -n") fails to open this way.
**     "secondary":         bool, default false. As "read_only", and
**                          cairn_catch_up() brings the handle up to the
**                          writer's last write (RocksDB's secondary
**                          instances): worker processes read what a
**                          service writes. Tables the writer deletes
**                          after a compaction stay readable to it (it
**                          keeps them open). Not with "read_only".
**     "lock_timeout_ms":   integer 0..86400000, default 0: how long to wait
**                          for the directory lock another handle holds
**                          before failing with CAIRN_BUSY (0: fail at once).
**                          The BUSY message says whether the holder is
**                          this process or another, and its PID (written
**                          into the LOCK file by the holder).
**   out_db        out: the new handle; set to NULL on failure.
**   errmsg        out, optional: see CONVENTIONS.
**
** A database is created only in a new or empty directory: a directory that
** holds other files but no MANIFEST is CAIRN_INVALID_ARGUMENT, and one that
** holds tables or log segments but no MANIFEST is CAIRN_CORRUPTION; neither
** is touched.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL path, bad options, path is
** not a directory, a non-empty directory without a database);
** CAIRN_NOT_FOUND; CAIRN_BUSY (another process has it open);
** CAIRN_CORRUPTION (a file failed its checks, or one the manifest needs is
** missing; the message names it, and nothing was changed); CAIRN_IO_ERROR;
** CAIRN_NO_SPACE.
*/
int cairn_open(const char *path, const char *options_json, size_t options_len,
               cairn_db **out_db, char **errmsg);

/*
** Closes the database: stops background work, syncs the write-ahead log,
** releases the directory lock and every resource. Memtables need no flush
** (the log holds them; the next open replays it). Iterators still open on
** it return CAIRN_CLOSED afterwards.
**
** Destructor of cairn_db. Idempotent: closing NULL or an already closed
** handle returns CAIRN_OK. Must not race with another call that closes the
** same handle; other calls racing with close either finish normally or
** return CAIRN_CLOSED.
**
** Returns CAIRN_OK, or CAIRN_IO_ERROR / CAIRN_NO_SPACE if the final sync
** failed (the handle is closed all the same).
** Scope: database only (a transaction ends with cairn_txn_commit() or
** cairn_txn_rollback()).
*/
int cairn_close(cairn_db *db, char **errmsg);

/*
** Rebuilds the manifest of a damaged database from the tables and log
** segments its directory still holds, as LevelDB's RepairDB does, then
** compacts it. Use it when cairn_open() reports CAIRN_CORRUPTION and the
** data matters more than an exact copy: it never runs by itself.
**
** Every table is read whole. One that fails to read, belongs to another
** database, or that a readable manifest had dropped as obsolete is moved to
** the subdirectory "lost" (never deleted). The log segments are replayed up
** to any damage. What cannot come back: writes in a missing or damaged part
** of the log, set-aside tables, and, when the manifest itself is lost, range
** deletions (only the manifest holds them).
**
** Not a method of a handle: the database must not be open (CAIRN_BUSY).
**
** Parameters:
**   path          in: NUL-terminated directory path. Must not be NULL.
**   options_json  in: the options of cairn_open() (compression and so on),
**                 or NULL with length 0 for the defaults.
**   report        out, optional: a NUL-terminated JSON object freed with
**                 cairn_free(): "tables", "entries", "log_segments",
**                 "log_records", "set_aside" (a list of {"file", "reason"}),
**                 "old_manifest" ("readable", "missing" or "unreadable:
**                 ..."), "range_deletions_lost" (bool) and "notes".
**   report_len    out, optional: the length of *report.
**   errmsg        out, optional: see CONVENTIONS.
** On failure *report is NULL.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL path, bad options);
** CAIRN_NOT_FOUND (no such directory); CAIRN_BUSY; CAIRN_IO_ERROR;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
*/
int cairn_repair(const char *path, const char *options_json, size_t options_len,
                 char **report, size_t *report_len, char **errmsg);

/*
** Returns statistics as a NUL-terminated JSON object. The object holds
** counters ("puts", "gets", "writes", "bytes_written", "flushes",
** "compactions", "block_cache_hits", "bloom_useful", "stalls",
** "graph_cache_hits", "graph_cache_misses", ...), sizes
** ("live_keys", "wal_bytes", "table_bytes", "graph_cache_bytes", "level<N>_tables",
** "level<N>_bytes", "write_amplification", ...) and latency percentiles
** ("write_p50_micros", "get_p99_micros", "flush_p90_micros",
** "compaction_p99_micros", ...) as numbers, and a few settings and states
** ("sync", "compression", "upper_level_compression", "stall_reason") as
** strings, the counts "transaction_commits", "transaction_rollbacks"
** and "transaction_conflicts", and "recovery_notes": a list of what the
** last open found and did (a file deleted as provably obsolete, a damaged
** last log record cut off; "damaged_tails_recovered" counts the latter).
** "live_keys" counts key-value entries only (see cairn_collection_stats()
** for documents) by a scan, so it costs time in proportion to the keys.
** New fields may be added; existing ones keep their meaning.
**
** Method of cairn_db.
**
** Parameters:
**   db        in: the database.
**   json      out: the object, malloc()ed and freed with cairn_free(). Must
**             not be NULL; set to NULL first, so it is NULL on failure.
**   json_len  out, optional: the length of *json.
**   errmsg    out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL json, NULL db or not a
** database handle); CAIRN_CLOSED; CAIRN_IO_ERROR, CAIRN_CORRUPTION and
** CAIRN_NO_MEMORY (reading the tables for "live_keys").
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_stats(cairn_db *db, char **json, size_t *json_len, char **errmsg);

/*
** Returns the statistics of cairn_stats() (except "live_keys" and the
** string fields) as Prometheus text exposition format, one metric per
** figure named cairn_<name>, counters suffixed _total.
**
** Method of cairn_db.
**
** Parameters:
**   db        in: the database.
**   text      out: the NUL-terminated text, malloc()ed and freed with
**             cairn_free(). Must not be NULL; set to NULL first, so it is
**             NULL on failure.
**   text_len  out, optional: the length of *text.
**   errmsg    out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL text, NULL db or not a
** database handle); CAIRN_CLOSED.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_metrics(cairn_db *db, char **text, size_t *text_len, char **errmsg);

/*
** Stops every operation running on `db` now, as sqlite3_interrupt() does:
** queries and the cursors open on it (cairn_find, cairn_aggregate,
** cairn_count, cairn_distinct, ...), key-value iterators and listings, an
** index build that a cairn_index_create() call waits for (the index is
** then removed), and manual compactions (between two compactions, each
** installed whole). Each returns CAIRN_INTERRUPTED from its next check,
** having written nothing half-way; a cursor or iterator that was
** interrupted returns CAIRN_INTERRUPTED from every later call until it is
** closed. Operations that start after this call are not affected, and
** single writes are too short to be stopped. Safe to call from any
** thread, including while other calls run on the handle (that is its
** purpose), and from a signal handler's thread. Writes nothing.
**
** Method of cairn_db. Returns CAIRN_OK, CAIRN_CLOSED,
** CAIRN_INVALID_ARGUMENT (not a database handle).
** Scope: database or transaction (a transaction handle interrupts its
** database).
*/
int cairn_interrupt(cairn_db *db);

/*
** Freezes the memtable and waits until it is written to a level-0 table,
** so that recovery needs no log replay. Writes may go on meanwhile.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or not a database
** handle); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_flush(cairn_db *db, char **errmsg);

/*
** Flushes, then compacts every table whose keys overlap [start, end] down
** to the deepest level holding data, dropping overwritten, deleted and
** expired entries that no open iterator can see. Background compaction
** does this on its own; call it to reclaim space at once.
**
** Method of cairn_db.
**
** Parameters:
**   db            in: the database.
**   start, end    in: the bounds (engine keys, any bytes). A zero start_len
**                 means from the first key, a zero end_len to the last; the
**                 pointers may then be NULL.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or not a database
** handle, a NULL bound with a length); CAIRN_CLOSED; CAIRN_INTERRUPTED
** (cairn_interrupt(); the compactions finished before it stay installed);
** CAIRN_IO_ERROR; CAIRN_NO_SPACE; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_compact_range(cairn_db *db, const uint8_t *start, size_t start_len,
                        const uint8_t *end, size_t end_len, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Key-value                                                                 */
/* ------------------------------------------------------------------------ */

/*
** Stores `value` under `key`, replacing any previous value.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database, or a transaction (the put is then one of
**            its writes).
**   key      in: 1 to CAIRN_MAX_KEY_SIZE bytes.
**   value    in: 0 to CAIRN_MAX_VALUE_SIZE bytes; NULL only with
**            value_len 0.
**   ttl_ms   in: 0 for no expiry, or a positive number of milliseconds
**            after which the key reads as absent (and is eventually
**            purged). Negative values fail with CAIRN_INVALID_ARGUMENT.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or key, empty or
** oversize key or value, negative TTL, a read-only transaction); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_put(cairn_db *db, const uint8_t *key, size_t key_len,
              const uint8_t *value, size_t value_len, int64_t ttl_ms,
              char **errmsg);

/*
** Reads the value stored under `key`.
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database, or a transaction (which sees its own
**               writes).
**   key         in: the key; NULL only with key_len 0, which is
**               CAIRN_INVALID_ARGUMENT.
**   value       out: on CAIRN_OK a malloc()ed copy of the value, freed with
**               cairn_free() (NULL for an empty value). Must not be NULL;
**               set to NULL first, so it is NULL on failure.
**   value_len   out: the length of *value (0 on failure). Must not be NULL.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND for an absent or expired key (with the
** message "key not found"); CAIRN_INVALID_ARGUMENT (NULL db, key, value or
** value_len; an empty or oversize key); CAIRN_CLOSED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_get(cairn_db *db, const uint8_t *key, size_t key_len,
              uint8_t **value, size_t *value_len, char **errmsg);

/*
** Reads the value stored under `key` into a buffer the caller owns and
** reuses, as RocksDB's get into a pinnable slice does: the value is copied
** once, from the engine straight into `buf`, and nothing is allocated,
** not even a message for a missing key.
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database, or a transaction (which sees its own
**               writes).
**   key         in: the key; NULL only with key_len 0, which is
**               CAIRN_INVALID_ARGUMENT.
**   buf         out: receives the value when it fits (its length is at
**               most buf_cap). May be NULL only when buf_cap is 0.
**   buf_cap     in: the size of buf in bytes.
**   value_len   out: on CAIRN_OK the value's length, whether or not it fit;
**               0 otherwise. Must not be NULL.
**   errmsg      out, optional: see CONVENTIONS.
** When *value_len > buf_cap the value was not copied: call again with a
** buffer of at least *value_len bytes (the value may have changed in
** between, so check again).
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND for an absent or expired key, WITHOUT
** a message (*errmsg stays NULL): a miss is an answer, as CAIRN_DONE is;
** CAIRN_INVALID_ARGUMENT (NULL db, key or value_len; NULL buf with a
** capacity; an empty or oversize key); CAIRN_CLOSED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_get_into(cairn_db *db, const uint8_t *key, size_t key_len,
                   uint8_t *buf, size_t buf_cap, size_t *value_len,
                   char **errmsg);

/*
** Deletes `key`. Deleting an absent key is not an error (CAIRN_OK).
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database, or a transaction.
**   key      in: 1 to CAIRN_MAX_KEY_SIZE bytes.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or key, an empty or
** oversize key, a read-only transaction); CAIRN_CLOSED; CAIRN_IO_ERROR;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_delete(cairn_db *db, const uint8_t *key, size_t key_len,
                 char **errmsg);

/*
** Deletes every key k with start <= k < end, atomically. An empty range
** (start >= end) deletes nothing and returns CAIRN_OK.
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   start, end   in: the bounds, both required keys (1 to
**                CAIRN_MAX_KEY_SIZE bytes).
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, an empty, NULL or
** oversize bound); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_delete_range(cairn_db *db, const uint8_t *start, size_t start_len,
                       const uint8_t *end, size_t end_len, char **errmsg);

/*
** Reads many keys at one consistent point in time.
**
** Method of cairn_db.
**
** Parameters:
**   db               in: the database, or a transaction.
**   keys, keys_len   in: a packed list of keys (see PACKED LISTS); it must
**                    hold at least one key.
**   values           out: a malloc()ed packed list with one item per key,
**                    in request order; absent or expired keys have the
**                    length CAIRN_ABSENT. Freed with cairn_free(). Must not
**                    be NULL; set to NULL first, so it is NULL on failure.
**   values_len       out: the byte length of *values (0 on failure). Must
**                    not be NULL.
**   errmsg           out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK (even when some keys are absent); CAIRN_INVALID_ARGUMENT
** (malformed list, bad key, NULL db, values or values_len); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_get_many(cairn_db *db, const uint8_t *keys, size_t keys_len,
                   uint8_t **values, size_t *values_len, char **errmsg);

/*
** Lists keys in ascending order, filtered and paged.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database.
**   options_json   in: JSON object, every field optional:
**                  "prefix", "suffix", "contains": strings the key must
**                  start with, end with, contain (compared as UTF-8 bytes;
**                  for a binary prefix that is not UTF-8, iterate with
**                  cairn_iter_open_prefix() instead);
**                  "offset": keys to skip after filtering (default 0);
**                  "limit": most keys to return (default: no limit).
**   keys           out: malloc()ed packed list of keys, freed with
**                  cairn_free(); NULL when no key matched, and on failure.
**                  Must not be NULL.
**   keys_len       out: byte length of *keys (0 on failure). Must not be
**                  NULL.
**   count          out, optional: number of keys in the list.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (bad options, NULL db, keys or
** keys_len); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_keys(cairn_db *db, const char *options_json, size_t options_len,
               uint8_t **keys, size_t *keys_len, size_t *count,
               char **errmsg);

/* ------------------------------------------------------------------------ */
/* Key-value: put if absent, reading and changing a TTL                      */
/* ------------------------------------------------------------------------ */

/*
** Each of these reads a key and then writes it, atomically: on a database
** handle the call is a short transaction of its own, and a concurrent
** write of the same key between its read and its write makes it run again
** on a fresh snapshot (so of two callers putting the same absent key,
** exactly one stores it). On a transaction handle the call joins the
** transaction, whose commit checks for conflicts as usual.
*/

/*
** Stores `value` under `key` only when the key is absent or expired.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database, or a transaction.
**   key, value, ttl_ms   in: as cairn_put().
**   stored   out, optional: 1 when the value was stored, 0 when the key
**            was present (and nothing was written); 0 on failure.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK whether or not it stored; CAIRN_INVALID_ARGUMENT (NULL
** db or key, empty or oversize key or value, negative TTL, a read-only
** transaction); CAIRN_CLOSED; CAIRN_CONFLICT (in a transaction, at its
** commit); CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_put_if_absent(cairn_db *db, const uint8_t *key, size_t key_len,
                        const uint8_t *value, size_t value_len, int64_t ttl_ms,
                        int *stored, char **errmsg);

/*
** Reads how long `key` has left before it expires.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database, or a transaction.
**   key      in: the key.
**   ttl_ms   out: the milliseconds left (at least 1) for a key with a
**            TTL; 0 for a key that never expires (the meaning 0 has in
**            cairn_put()); 0 on failure. Must not be NULL. In a
**            transaction, a key it wrote with a TTL reports that whole TTL,
**            which counts from the commit.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND for an absent or expired key;
** CAIRN_INVALID_ARGUMENT (NULL db, key or ttl_ms; an empty or oversize
** key); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_get_ttl(cairn_db *db, const uint8_t *key, size_t key_len,
                  int64_t *ttl_ms, char **errmsg);

/*
** Gives `key` a new TTL, counted from now (in a transaction, from its
** commit), without the caller sending its value again: sliding sessions
** call this on every request. ttl_ms 0 removes the expiry. Inside the
** engine the entry is written anew with the value it holds (an entry
** carries its expiry), so a touch costs about what a put of the value does.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database, or a transaction.
**   key      in: the key.
**   ttl_ms   in: 0 or a positive number of milliseconds; negative is
**            CAIRN_INVALID_ARGUMENT.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND for an absent or expired key (nothing
** is written); CAIRN_INVALID_ARGUMENT (NULL db or key, an empty or
** oversize key, negative TTL, a read-only transaction); CAIRN_CLOSED;
** CAIRN_CONFLICT (in a transaction, at its commit); CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_touch(cairn_db *db, const uint8_t *key, size_t key_len,
                int64_t ttl_ms, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Write batches                                                             */
/* ------------------------------------------------------------------------ */

/*
** A write batch collects puts, deletes and range deletes that cairn_write()
** applies atomically: after it returns, and after any crash, either every
** operation in the batch is applied or none is. Operations apply in the
** order they were added. Used by one caller at a time.
*/
typedef struct cairn_batch cairn_batch;

/*
** Creates an empty write batch.
**
** Constructor of cairn_batch; pair with cairn_batch_free().
**
** Parameters:
**   out_batch   out: the new handle; set to NULL on failure. Must not be
**               NULL.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK, or CAIRN_INVALID_ARGUMENT (NULL out_batch).
*/
int cairn_batch_new(cairn_batch **out_batch, char **errmsg);

/*
** Frees a batch and every operation in it.
**
** Destructor of cairn_batch. Idempotent: NULL or an already freed batch is
** allowed. Always returns CAIRN_OK.
*/
int cairn_batch_free(cairn_batch *batch);

/*
** Adds a put; arguments and limits as cairn_put(). A TTL counts from the
** moment the batch is written by cairn_write(), not from this call; a
** batch written twice gives each write its own expiry. The key and value
** are copied.
**
** Method of cairn_batch.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL batch or not a batch
** handle, NULL key, empty or oversize key or value, negative TTL, or the
** batch would grow past CAIRN_MAX_BATCH_SIZE: it is left as it was);
** CAIRN_CLOSED (a freed batch); CAIRN_NO_MEMORY (the batch would not fit in
** memory; it is left as it was).
*/
int cairn_batch_put(cairn_batch *batch, const uint8_t *key, size_t key_len,
                    const uint8_t *value, size_t value_len, int64_t ttl_ms,
                    char **errmsg);

/*
** Adds a delete; arguments as cairn_delete(). The key is copied.
**
** Method of cairn_batch.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL batch or not a batch
** handle, NULL, empty or oversize key, or the batch would grow past
** CAIRN_MAX_BATCH_SIZE); CAIRN_CLOSED (a freed batch).
*/
int cairn_batch_delete(cairn_batch *batch, const uint8_t *key, size_t key_len,
                       char **errmsg);

/*
** Adds a range delete; arguments as cairn_delete_range(). The bounds are
** copied.
**
** Method of cairn_batch.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL batch or not a batch
** handle, NULL, empty or oversize bound, or the batch would grow past
** CAIRN_MAX_BATCH_SIZE); CAIRN_CLOSED (a freed batch).
*/
int cairn_batch_delete_range(cairn_batch *batch, const uint8_t *start,
                             size_t start_len, const uint8_t *end,
                             size_t end_len, char **errmsg);

/*
** Removes every operation, so the batch can be reused.
**
** Method of cairn_batch. Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL
** batch or not a batch handle); CAIRN_CLOSED (a freed batch). No errmsg.
*/
int cairn_batch_clear(cairn_batch *batch);

/*
** Stores in *count (out, must not be NULL) the number of operations in the
** batch.
**
** Method of cairn_batch. Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL
** batch or count, not a batch handle); CAIRN_CLOSED (a freed batch). No
** errmsg.
*/
int cairn_batch_count(cairn_batch *batch, size_t *count);

/*
** Applies `batch` to `db` atomically and durably (per the sync option).
** The batch is left unchanged and may be written again or freed. An empty
** batch is a no-op returning CAIRN_OK.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   batch    in: the batch; it is not consumed.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or batch, a handle of
** another kind); CAIRN_CLOSED (the database, or a freed batch);
** CAIRN_IO_ERROR; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_write(cairn_db *db, cairn_batch *batch, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Iterators                                                                 */
/* ------------------------------------------------------------------------ */

/*
** An iterator walks keys in order over a consistent snapshot: writes made
** after it was opened are not seen. Expired and deleted keys are skipped.
** Used by one caller at a time. Close it with cairn_iter_close(); it holds
** its snapshot (memory) until then.
*/
typedef struct cairn_iter cairn_iter;

/* Flags for cairn_iter_open() and cairn_iter_open_prefix(). */
#define CAIRN_ITER_REVERSE 1 /* walk from the largest key to the smallest */

/*
** Opens an iterator over the keys k with start <= k < end, at a snapshot
** taken now.
**
** Constructor of cairn_iter; pair with cairn_iter_close().
**
** Parameters:
**   db           in: the database.
**   start, end   in: the bounds, copied. A zero start_len means no lower
**                bound, a zero end_len no upper bound (the pointer may then
**                be NULL).
**   flags        in: 0 or CAIRN_ITER_REVERSE; other bits fail with
**                CAIRN_INVALID_ARGUMENT.
**   out_iter     out: the new handle; set to NULL on failure. Must not be
**                NULL.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_iter, unknown
** flags, a NULL bound with a length); CAIRN_CLOSED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_iter_open(cairn_db *db, const uint8_t *start, size_t start_len,
                    const uint8_t *end, size_t end_len, int flags,
                    cairn_iter **out_iter, char **errmsg);

/*
** Opens an iterator over the keys that begin with `prefix` (all keys when
** prefix_len is 0). Otherwise as cairn_iter_open(): constructor of
** cairn_iter, paired with cairn_iter_close(); the same flags, out_iter and
** status codes.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_iter_open_prefix(cairn_db *db, const uint8_t *prefix,
                           size_t prefix_len, int flags,
                           cairn_iter **out_iter, char **errmsg);

/*
** Repositions the iterator. Going forward, the next item is the first key
** >= `key`; in reverse, the last key <= `key`. Bounds still apply. An
** empty key is allowed: forward it seeks to the first key, in reverse past
** the end (no key is <= the empty key). The views of the last
** cairn_iter_next() become invalid.
**
** Method of cairn_iter.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL iter or not an iterator
** handle, a NULL key with a length); CAIRN_CLOSED (the iterator or its
** database was closed).
*/
int cairn_iter_seek(cairn_iter *iter, const uint8_t *key, size_t key_len,
                    char **errmsg);

/*
** Advances to the next item.
**
** Method of cairn_iter.
**
** Parameters:
**   iter               in: the iterator.
**   key, key_len       out: the key, a BORROWED view; must not be NULL.
**                      Set to NULL and 0 at CAIRN_DONE.
**   value, value_len   out, optional: the value, a BORROWED view (NULL
**                      when the value is empty). NULL when only keys are
**                      wanted.
**   errmsg             out, optional: see CONVENTIONS.
** The views stay valid only until the next call on this iterator; copy
** them to keep them.
**
** Returns CAIRN_OK with the item; CAIRN_DONE when there are no more items;
** CAIRN_INVALID_ARGUMENT (NULL iter, key or key_len, not an iterator
** handle); CAIRN_CLOSED when the iterator or its database was closed;
** CAIRN_INTERRUPTED (then on every later call); CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
*/
int cairn_iter_next(cairn_iter *iter, const uint8_t **key, size_t *key_len,
                    const uint8_t **value, size_t *value_len, char **errmsg);

/* Flag for cairn_iter_next_batch(). */
#define CAIRN_BATCH_KEYS_ONLY 1 /* keys only: values are neither read out nor copied */

/*
** Advances past many items at once and hands them over in one borrowed
** buffer, so that a binding crosses into the library once per batch
** instead of once per item (as MongoDB's cursors fetch batches).
**
** Method of cairn_iter.
**
** Parameters:
**   iter        in: the iterator.
**   max_items   in: the most items to take (SIZE_MAX: no limit but the
**               bytes); 0 lets the library choose: 64 on the first call,
**               then twice as many on each call up to 4096, so a caller
**               that stops early has not paid for a large read-ahead.
**   max_bytes   in: stop adding items once the data holds this many bytes
**               (0: 1 MiB; at most 1 GiB is used). At least one item is
**               always returned, however large.
**   flags       in: 0 or CAIRN_BATCH_KEYS_ONLY; other bits fail with
**               CAIRN_INVALID_ARGUMENT.
**   data        out: the items' bytes back to back, key then value for
**               each item (keys only with CAIRN_BATCH_KEYS_ONLY): a
**               BORROWED view. Must not be NULL.
**   data_len    out: the length of *data. Must not be NULL.
**   lengths     out: the length of each piece of *data, in order: 2 *
**               *count entries (key, value, key, value, ...), or *count
**               with CAIRN_BATCH_KEYS_ONLY; a BORROWED view of native-endian
**               uint32_t. Must not be NULL.
**   count       out: the number of items. Must not be NULL.
**   errmsg      out, optional: see CONVENTIONS.
** The views stay valid until the next call on this iterator. All outputs
** are NULL and 0 at CAIRN_DONE and on failure. The iterator may go on with
** cairn_iter_next() and cairn_iter_seek() afterwards.
**
** Returns CAIRN_OK with at least one item; CAIRN_DONE when there are no
** more items; CAIRN_INVALID_ARGUMENT (NULL iter or out-parameter, not an
** iterator handle, unknown flags); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION. A failure part way through a batch
** loses the items already taken into it.
*/
int cairn_iter_next_batch(cairn_iter *iter, size_t max_items, size_t max_bytes,
                          int flags, const uint8_t **data, size_t *data_len,
                          const uint32_t **lengths, size_t *count,
                          char **errmsg);

/*
** Closes an iterator and releases its snapshot.
**
** Destructor of cairn_iter. Idempotent; NULL is allowed. Always returns
** CAIRN_OK.
*/
int cairn_iter_close(cairn_iter *iter);

/* ------------------------------------------------------------------------ */
/* Documents: collections of JSON documents (MongoDB's query language)       */
/* ------------------------------------------------------------------------ */

/*
** Documents are JSON objects stored in named collections. Filters, updates
** and options use MongoDB's language and cross as JSON text (pointer plus
** length; an empty filter matches every document). Extended JSON
** {"$date": "2026-11-21T16:17:05.123Z"} and {"$binary": {"base64": "...",
** "subType": "00"}} stand for dates and bytes, in and out. Integers stay
** 64-bit integers and doubles stay doubles. An integer written without a
** fraction or exponent that does not fit in 64 bits is
** CAIRN_INVALID_ARGUMENT wherever JSON enters (documents, filters, updates,
** pipelines, options), never rounded to a double (which would make
** 2^63 + 1 equal 2^63); write 9.3e18 for a double. Integers that fit in
** 32 bits are "int" to $type, the others "long" (as a driver would encode
** the same JSON). Expression arithmetic that leaves the int64 range ($add,
** $subtract, $multiply, $abs) gives a double, as MongoDB does; $inc and
** $mul that would leave it are CAIRN_INVALID_ARGUMENT naming the operator
** (MongoDB refuses them too); date arithmetic that leaves the range of
** dates is CAIRN_INVALID_ARGUMENT naming the operator. A JSON object with a
** duplicate key is CAIRN_INVALID_ARGUMENT naming the key and the byte
** offset.
**
** Names: a collection name is 1 to 255 bytes of UTF-8, without NUL and not
** starting with '$'; field names are 1 to 1024 bytes without NUL, and a
** top-level field name may not start with '$'. A document is at most
** 16 MiB and nested at most 100 deep. Breaking any of these is
** CAIRN_INVALID_ARGUMENT naming the problem, and nothing is written.
**
** Filter operators: $eq $ne $gt $gte $lt $lte $in $nin $and $or $nor $not
** $exists $type (every BSON alias and number; types JSON cannot hold match
** nothing) $size $all (of values, or of $elemMatch items) $elemMatch (with
** operators, or a filter over element documents, $and $or $nor included)
** $mod $regex (PCRE2, with $options i, m, s, x; a pattern that backtracks
** past a fixed limit fails with CAIRN_INVALID_ARGUMENT instead of running
** on) $expr (an aggregation expression, see cairn_aggregate()) $jsonSchema
** (the schema subset of cairn_collection_create()) $comment, implicit
** equality, dotted paths into objects and arrays.
** Paths follow MongoDB: "items.sku" looks at the sku of every document
** element of items; "tags.0" is the element at index 0, compared as it is
** (a nested array there is not looked into). {path: null} matches where
** the path is missing, also in a document element of an array that lacks
** it, but not because of scalar elements or an index past the end; $ne,
** $in and $nin with null follow the same rule, and $exists only asks
** whether a value is there.
** Update operators: $set $unset $inc $mul $min $max $rename (refused
** through array elements) $currentDate $push (with $each $slice $sort
** $position) $pull $pullAll $addToSet (with $each) $pop $setOnInsert (only
** when an upsert inserts) $bit (and, or, xor), or a replacement document.
** In update paths, "$" is the array element the filter matched (the
** filter needs a condition on that array), "$[]" every element, and
** "$[id]" the elements that the array filter for id matches (options
** "array_filters", for example [{"x.grade": {"$gte": 85}}] for
** "grades.$[x].score"); any other component that starts with '$' is
** CAIRN_INVALID_ARGUMENT, never a field name. An update may also be an
** aggregation pipeline, a JSON array of $set (or $addFields), $unset,
** $project, $replaceRoot and $replaceWith stages with the expressions of
** cairn_aggregate() (cairn_update_one, cairn_update_many,
** cairn_find_one_and_update; _id stays as it was). An unknown operator or a
** malformed part is CAIRN_INVALID_ARGUMENT naming its path (for example
** "filter.age.$gtx").
**
** Every write is atomic and durable per the database's sync mode: an
** insert of many documents, or an update of many, is applied entirely or
** not at all, together with every index entry it changes. Each call that
** is not inside a transaction (see "Transactions" below) is a transaction
** of its own.
*/

/*
** A cursor over the results of cairn_find() or cairn_aggregate(). Used by
** one caller at a time.
*/
typedef struct cairn_cursor cairn_cursor;

/*
** Creates an empty collection. Inserting into a missing collection creates
** it with no options, so this call is needed only for options.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   name           in: the collection name (see "Names" above).
**   options_json   in (may be empty): a JSON object holding
**     "schema":      a JSON Schema every document must satisfy, in the
**                    subset: type (one name or an array of names among
**                    "object" "array" "string" "number" "integer" "boolean"
**                    "null"), properties, required, additionalProperties
**                    (a boolean), enum, minimum, maximum, minLength,
**                    maxLength, pattern, items, minItems, maxItems. An insert
**                    or update that breaks it fails with CAIRN_SCHEMA, naming
**                    the path of the first failing field, and writes nothing.
**     "primary_key": the field that identifies a document, "_id" by default.
**                    With another field, documents are keyed by its value,
**                    which every document must carry, which never changes,
**                    and which cairn_find_by_id() looks up; no _id is
**                    generated.
**     "changeStreamPreAndPostImages": {"enabled": true} records, in the
**                    change feed, each update's document before and
**                    after, and each replaced or deleted document before
**                    (see "Change feeds": fullDocument,
**                    fullDocumentBeforeChange). Default off.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, bad name, unknown
** option, a malformed schema, the collection exists, a read-only
** transaction); CAIRN_CLOSED; CAIRN_CONFLICT (see "Transactions");
** CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database or transaction.
*/
int cairn_collection_create(cairn_db *db, const char *name, size_t name_len,
                            const char *options_json, size_t options_len,
                            char **errmsg);

/*
** Drops a collection, every document in it and its indexes. Dropping a
** missing collection returns CAIRN_OK. Waits for running document writes
** to finish, and holds off new ones until done.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   name     in: the collection name.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, bad name);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_collection_drop(cairn_db *db, const char *name, size_t name_len,
                          char **errmsg);

/*
** Lists the collections as a JSON array of names, sorted.
**
** Method of cairn_db.
**
** Parameters:
**   db         in: the database, or a transaction (which sees the
**              collections it created).
**   json       out: the NUL-terminated array, malloc()ed and freed with
**              cairn_free(). Must not be NULL; set to NULL first, so it is
**              NULL on failure.
**   json_len   out, optional: the length of *json.
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_collection_list(cairn_db *db, char **json, size_t *json_len,
                          char **errmsg);

/*
** Inserts one document (a JSON object). A document without "_id" gets a
** generated one: a 24-hex-digit string that sorts by creation time. The
** collection is created when missing.
**
** Method of cairn_db.
**
** Parameters:
**   db              in: the database, or a transaction.
**   collection      in: the collection name.
**   document_json   in: the document.
**   id_json         out, optional: on CAIRN_OK the _id (or primary key) as
**                   JSON text, malloc()ed and freed with cairn_free(); NULL
**                   on failure.
**   id_len          out, optional: the length of *id_json.
**   errmsg          out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_CONSTRAINT (a document with the same _id exists,
** or a unique index would be broken); CAIRN_SCHEMA; CAIRN_INVALID_ARGUMENT
** (NULL db, malformed JSON with the byte offset, a bad name, a limit
** broken, a read-only transaction); CAIRN_CLOSED; CAIRN_CONFLICT (see
** "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_insert_one(cairn_db *db, const char *collection, size_t collection_len,
                     const char *document_json, size_t document_len,
                     char **id_json, size_t *id_len, char **errmsg);

/*
** Inserts the documents of a JSON array, all or nothing. The all-or-nothing
** form of cairn_insert_many_with_options(), kept under its first name: the
** same as that call with options {"atomic": true}, except that
**   - on CAIRN_OK, *ids_json (optional, malloc()ed, freed with
**     cairn_free()) receives only the JSON array of the _ids, in order; on
**     failure it is NULL, and no per-document report is made: the first
**     failure is the call's status and message;
**   - an empty array is CAIRN_INVALID_ARGUMENT;
**   - every document is parsed and checked (an object, its size, its field
**     names) before any is inserted, so a malformed document is the error
**     even when an earlier one is a duplicate; and the collection name is
**     checked after that;
**   - some messages about the only document of a one-element array name
**     it "document" rather than "document 0".
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_CONSTRAINT; CAIRN_SCHEMA; CAIRN_INVALID_ARGUMENT
** (NULL db, malformed JSON, an empty or non-array documents_json, a bad
** name, a read-only transaction); CAIRN_CLOSED; CAIRN_CONFLICT (see
** "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY. Nothing is inserted unless it returns CAIRN_OK.
** Scope: database or transaction.
*/
int cairn_insert_many(cairn_db *db, const char *collection, size_t collection_len,
                      const char *documents_json, size_t documents_len,
                      char **ids_json, size_t *ids_len, char **errmsg);

/*
** Inserts the documents of a JSON array the way MongoDB's insertMany does.
** The one insert of many documents: cairn_insert_many() is its
** all-or-nothing form.
**
** Method of cairn_db.
**
** Parameters:
**   db               in: the database, or a transaction.
**   collection       in: the collection name; created when missing.
**   documents_json   in: a JSON array of documents (may be empty).
**   options_json     in (may be empty):
**     "ordered": bool, default true: insert in order and stop at the first
**                document that fails (a duplicate _id, a unique index, the
**                schema, a malformed document); the documents before it stay
**                inserted. false: insert every document that can be and skip
**                the ones that fail.
**     "atomic":  bool, default false: true makes it all or nothing (ordered,
**                and on any failure "inserted_ids" is empty and nothing is
**                written).
**     "ttl":     a duration ("1h") or a positive number of milliseconds:
**                every document expires that long after the insert, as with
**                cairn_insert_one_with_ttl() (see "Documents that expire").
**   result_json      out, optional: once the documents were tried,
**                    {"inserted_ids": [...], "errors": [{"index": n, "code":
**                    8, "status": "CAIRN_CONSTRAINT", "message": "..."},
**                    ...]}, malloc()ed and freed with cairn_free(), also when
**                    the status is a document's failure. NULL when the call
**                    is refused as a whole.
**   result_len       out, optional: the length of *result_json.
**   errmsg           out, optional: see CONVENTIONS.
** The documents that are inserted are written in one atomic write.
**
** Returns CAIRN_OK when every document was inserted, else the status of the
** first document's error (CAIRN_CONSTRAINT, CAIRN_SCHEMA,
** CAIRN_INVALID_ARGUMENT, ...; its message in *errmsg, the report in
** *result_json). A call refused as a whole leaves *result_json NULL:
** CAIRN_INVALID_ARGUMENT for NULL db, malformed options, a documents_json
** that is not an array, a bad name or a read-only transaction;
** CAIRN_CLOSED; CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_insert_many_with_options(cairn_db *db, const char *collection, size_t collection_len,
                                   const char *documents_json, size_t documents_len,
                                   const char *options_json, size_t options_len,
                                   char **result_json, size_t *result_len, char **errmsg);

/*
** Runs many writes on one collection in one call, the way MongoDB's
** bulkWrite does: inserts, updates, replacements and deletes, in order.
** Each operation is atomic by itself, exactly as the function of its name
** would be (on a database handle, a transaction of its own; on a
** transaction handle, an operation of that transaction); the list as a
** whole is not: operations applied before a failure stay applied.
**
** Method of cairn_db.
**
** Parameters:
**   db                in: the database, or a transaction.
**   collection        in: the collection name; created by the first insert.
**   operations_json   in: a JSON array, each element an object with one
**                     member naming the operation:
**     {"insert_one":  {"document": {...}}}
**     {"update_one":  {"filter": {...}, "update": {...} or [stages],
**                      "upsert": bool, "array_filters": [...]}}
**     {"update_many": the same}
**     {"replace_one": {"filter": {...}, "replacement": {...}, "upsert": bool}}
**     {"delete_one":  {"filter": {...}}}
**     {"delete_many": {"filter": {...}}}
**                     "upsert" and "array_filters" are optional. The shape of
**                     every operation is checked before any runs.
**   options_json      in (may be empty): {"ordered": bool}, default true:
**                     stop at the first operation that fails. false: try
**                     every operation and report each failure.
**   result_json       out, optional: once the operations were tried,
**                     {"inserted_count": n, "matched_count": n,
**                     "modified_count": n, "deleted_count": n,
**                     "upserted_count": n, "inserted_ids": {"0": id, ...},
**                     "upserted_ids": {"3": id, ...}, "errors": [{"index": n,
**                     "code": 8, "status": "CAIRN_CONSTRAINT", "message":
**                     "..."}, ...]}, the ids keyed by the index of their
**                     operation; malloc()ed and freed with cairn_free(), also
**                     when the status is an operation's failure. NULL when
**                     the call is refused or stopped as a whole.
**   result_len        out, optional: the length of *result_json.
**   errmsg            out, optional: see CONVENTIONS.
** An operation's own failure (CAIRN_CONSTRAINT, CAIRN_SCHEMA,
** CAIRN_INVALID_ARGUMENT for its malformed filter or update) is reported in
** "errors"; a failure of the database itself (CAIRN_CLOSED,
** CAIRN_CONFLICT in a transaction, CAIRN_IO_ERROR, CAIRN_NO_SPACE, ...)
** stops the call with that status and no result, the operations before it
** staying applied.
**
** Returns CAIRN_OK when every operation succeeded, else the status of the
** first operation's failure (its message in *errmsg, the report in
** *result_json). Refused as a whole, with *result_json NULL:
** CAIRN_INVALID_ARGUMENT for NULL db, a bad name, malformed options, a
** read-only transaction, an operations_json that is not an array, or an
** operation of unknown name or with an unknown or missing field (the
** message names it: operations[2].update_one lacks "update"); and the
** statuses above.
** Scope: database or transaction.
*/
int cairn_bulk_write(cairn_db *db, const char *collection, size_t collection_len,
                     const char *operations_json, size_t operations_len,
                     const char *options_json, size_t options_len,
                     char **result_json, size_t *result_len, char **errmsg);

/*
** Opens a cursor over the documents of `collection` that match
** `filter_json`, read at one snapshot.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db             in: the database, or a transaction (the cursor then
**                  reads its snapshot and the writes it had made).
**   collection     in: the collection name.
**   filter_json    in: the filter; empty matches every document.
**   options_json   in (may be empty):
**     "sort":       {"field": 1 or -1, ...}; dotted paths allowed
**     "skip":       documents to skip
**     "limit":      most documents to return (0: no limit)
**     "projection": {"field": 1, ...} to keep fields (and _id unless
**                   "_id": 0), or {"field": 0, ...} to drop them; a dotted
**                   path reaches into each document of an array
**                   ({"items.sku": 1}), and {"items": {"sku": 1}} is the
**                   same; {"tags": {"$slice": n or [skip, limit]}} keeps
**                   part of an array and {"items": {"$elemMatch": filter}}
**                   its first matching element. Fields keep the document's
**                   order.
**   out_cursor     out: the new handle; set to NULL on failure. Must not
**                  be NULL.
**   errmsg         out, optional: see CONVENTIONS.
**
** The planner reads the candidates through the best index for the
** filter's top-level equalities, $in and ranges (or the primary key), and
** every candidate is then checked against the whole filter; cairn_explain()
** shows the plan. Documents stream as the cursor advances. Without a sort
** they come in primary key order from a collection scan, in index order from
** an index: ask for a sort when order matters. A sort that an index gives
** costs nothing and stops at the limit; any other sort collects the matches
** first (in this call), and fails with CAIRN_INVALID_ARGUMENT when they
** would take more than 256 MiB (as MongoDB limits a stage's memory). A
** missing collection gives an empty cursor.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_cursor, a bad
** name, filter or option, the sort's memory limit); CAIRN_CLOSED;
** CAIRN_INTERRUPTED; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_find(cairn_db *db, const char *collection, size_t collection_len,
               const char *filter_json, size_t filter_len,
               const char *options_json, size_t options_len,
               cairn_cursor **out_cursor, char **errmsg);

/*
** Advances to the next document.
**
** Method of cairn_cursor.
**
** Parameters:
**   cursor     in: the cursor.
**   json       out: the document as JSON text, a BORROWED view,
**              NUL-terminated, valid until the next call on this cursor;
**              NULL at CAIRN_DONE. Must not be NULL.
**   json_len   out, optional: its length (0 at CAIRN_DONE).
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK with a document; CAIRN_DONE at the end;
** CAIRN_INVALID_ARGUMENT (NULL cursor or json, not a cursor handle, a
** pipeline stage's memory limit); CAIRN_CLOSED (the cursor or its database
** was closed); CAIRN_INTERRUPTED (then on every later call);
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
*/
int cairn_cursor_next(cairn_cursor *cursor, const char **json, size_t *json_len,
                      char **errmsg);

/*
** Advances past many documents at once and hands them over as one JSON
** array, so that a binding crosses into the library, and calls its JSON
** parser, once per batch instead of once per document.
**
** Method of cairn_cursor.
**
** Parameters:
**   cursor      in: the cursor.
**   max_items   in: the most documents to take; 0 lets the library
**               choose (64, then doubling on each call up to 4096).
**   max_bytes   in: stop adding documents once the text holds this many
**               bytes (0: 1 MiB; at most 1 GiB is used). At least one
**               document is always returned.
**   json        out: "[doc,doc,...]", NUL-terminated, a BORROWED view.
**               Must not be NULL.
**   json_len    out, optional: its length, without the NUL.
**   lengths     out, optional: each document's length in bytes, a
**               BORROWED view of *count native-endian uint32_t. Document
**               0 starts at offset 1 and each document is followed by one
**               byte (',' or the closing ']'), so document i+1 starts
**               lengths[i] + 1 bytes after document i.
**   count       out: the number of documents. Must not be NULL.
**   errmsg      out, optional: see CONVENTIONS.
** The views stay valid until the next call on this cursor. All outputs are
** NULL and 0 at CAIRN_DONE and on failure. cairn_cursor_next() may be
** mixed with it.
**
** Returns CAIRN_OK with at least one document; CAIRN_DONE at the end;
** CAIRN_INVALID_ARGUMENT (NULL cursor, json or count, not a cursor handle,
** a pipeline stage's memory limit); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
*/
int cairn_cursor_next_batch(cairn_cursor *cursor, size_t max_items,
                            size_t max_bytes, const char **json,
                            size_t *json_len, const uint32_t **lengths,
                            size_t *count, char **errmsg);

/*
** Closes a cursor and releases its snapshot.
**
** Destructor of cairn_cursor. Idempotent; NULL is allowed. Always returns
** CAIRN_OK.
*/
int cairn_cursor_close(cairn_cursor *cursor);

/*
** Stores in *count (out, must not be NULL) the number of documents matching
** `filter_json` (empty: every document) in `collection`; a missing
** collection counts 0. cairn_count_with_options() adds skip and limit.
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or count, a bad name or
** filter); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_count(cairn_db *db, const char *collection, size_t collection_len,
                const char *filter_json, size_t filter_len, uint64_t *count,
                char **errmsg);

/*
** Updates documents matching `filter_json` with `update_json`:
** cairn_update_one changes the first match (in the plan's order, see
** cairn_find()), cairn_update_many every match, cairn_replace_one replaces
** the first match with a document (its _id is kept; a different _id is
** CAIRN_INVALID_ARGUMENT). A failure on any document (for example $inc on a
** string) changes nothing.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   collection     in: the collection name.
**   filter_json    in: the filter; empty matches every document.
**   update_json    in: update operators (see "Update operators" above).
**   options_json   in (may be empty): {"upsert": true}: with no match, a
**                  document is inserted, built from the filter's equality
**                  fields and the update; "array_filters": the array
**                  filters of "$[id]" paths.
**   result_json    out, optional: on CAIRN_OK {"matched": n, "modified": n,
**                  "upserted_id": <_id or null>}, malloc()ed and freed with
**                  cairn_free(); NULL on failure.
**   result_len     out, optional: the length of *result_json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK (also when nothing matched); CAIRN_INVALID_ARGUMENT (NULL
** db, a bad name, filter, update or option, a read-only transaction);
** CAIRN_CONSTRAINT; CAIRN_SCHEMA; CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_update_one(cairn_db *db, const char *collection, size_t collection_len,
                     const char *filter_json, size_t filter_len,
                     const char *update_json, size_t update_len,
                     const char *options_json, size_t options_len,
                     char **result_json, size_t *result_len, char **errmsg);

/*
** As cairn_update_one(), for every matching document (operators only):
** the same parameters, result, lifetime and status codes.
**
** Method of cairn_db.
** Scope: database or transaction.
*/
int cairn_update_many(cairn_db *db, const char *collection, size_t collection_len,
                      const char *filter_json, size_t filter_len,
                      const char *update_json, size_t update_len,
                      const char *options_json, size_t options_len,
                      char **result_json, size_t *result_len, char **errmsg);

/*
** As cairn_update_one(), with a replacement document (no operators) in
** `replacement_json`: the same parameters, result, lifetime and status
** codes.
**
** Method of cairn_db.
** Scope: database or transaction.
*/
int cairn_replace_one(cairn_db *db, const char *collection, size_t collection_len,
                      const char *filter_json, size_t filter_len,
                      const char *replacement_json, size_t replacement_len,
                      const char *options_json, size_t options_len,
                      char **result_json, size_t *result_len, char **errmsg);

/*
** Deletes the first (cairn_delete_one, in the plan's order) or every
** (cairn_delete_many) document matching `filter_json`; *deleted
** (optional) receives how many.
**
** Method of cairn_db.
**
** Returns CAIRN_OK (also when nothing matched); CAIRN_INVALID_ARGUMENT
** (NULL db, a bad name or filter, a read-only transaction); CAIRN_CLOSED;
** CAIRN_INTERRUPTED; CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_delete_one(cairn_db *db, const char *collection, size_t collection_len,
                     const char *filter_json, size_t filter_len,
                     uint64_t *deleted, char **errmsg);

/*
** As cairn_delete_one(), for every matching document: the same parameters
** and status codes.
**
** Method of cairn_db.
** Scope: database or transaction.
*/
int cairn_delete_many(cairn_db *db, const char *collection, size_t collection_len,
                      const char *filter_json, size_t filter_len,
                      uint64_t *deleted, char **errmsg);

/*
** Renames a collection; its documents and indexes follow. Waits for running
** document writes to finish, and holds off new ones until done.
**
** Method of cairn_db.
**
** Parameters:
**   db         in: the database.
**   from, to   in: the old and the new name.
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when `from` does not exist;
** CAIRN_INVALID_ARGUMENT (NULL db, `to` a bad name or already existing);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_collection_rename(cairn_db *db, const char *from, size_t from_len,
                            const char *to, size_t to_len, char **errmsg);

/*
** Describes a collection as a JSON object: {"name", "documents": count,
** "bytes": total stored bytes of the documents, "primary_key", "schema":
** the schema or null, "indexes": [{"name", "keys", "unique", "sparse",
** "entries"}]}. Counting reads the whole collection.
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   collection   in: the collection name.
**   json         out: the NUL-terminated object, malloc()ed and freed with
**                cairn_free(). Must not be NULL; set to NULL first, so it
**                is NULL on failure.
**   json_len     out, optional: the length of *json.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND for a missing collection;
** CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_collection_stats(cairn_db *db, const char *collection, size_t collection_len,
                           char **json, size_t *json_len, char **errmsg);

/*
** Returns in *json the first document that cairn_find() with the same
** filter and options would return.
**
** Method of cairn_db.
**
** Parameters:
**   db, collection, filter_json, options_json   in: as cairn_find().
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when no document matches (also for a
** missing collection); CAIRN_INVALID_ARGUMENT (NULL db or json, a bad
** name, filter or option); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_find_one(cairn_db *db, const char *collection, size_t collection_len,
                   const char *filter_json, size_t filter_len,
                   const char *options_json, size_t options_len,
                   char **json, size_t *json_len, char **errmsg);

/*
** Returns in *json the document whose primary key (normally _id) equals
** the JSON value `id_json` (for example "42" or "\"ann\""). One point
** read.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   collection     in: the collection name.
**   id_json        in: the primary key as JSON; must not be empty.
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when there is no such document (also
** for a missing collection); CAIRN_INVALID_ARGUMENT (NULL db or json, a
** bad name, an empty or malformed id_json); CAIRN_CLOSED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_find_by_id(cairn_db *db, const char *collection, size_t collection_len,
                     const char *id_json, size_t id_len,
                     char **json, size_t *json_len, char **errmsg);

/*
** Returns in *json a JSON array of the distinct values of `field` (a
** dotted path) among the documents matching `filter_json`, in MongoDB's
** sort order. An array field contributes each of its elements; documents
** without the field contribute nothing. A missing collection gives "[]".
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   collection     in: the collection name.
**   field          in: the dotted path.
**   filter_json    in: the filter; empty matches every document.
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name,
** field or filter); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_distinct(cairn_db *db, const char *collection, size_t collection_len,
                   const char *field, size_t field_len,
                   const char *filter_json, size_t filter_len,
                   char **json, size_t *json_len, char **errmsg);

/*
** Atomically finds the first document matching `filter_json` (in the order
** of options "sort", else the primary key's), applies the update operators
** of `update_json` and returns a document in *json.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   collection     in: the collection name.
**   filter_json    in: the filter.
**   update_json    in: update operators, as cairn_update_one().
**   options_json   in (may be empty):
**     "sort":            as cairn_find()
**     "projection":      as cairn_find(), applied to the returned document
**     "upsert":          bool: with no match, insert as cairn_update_one()
**     "return_document": "before" (default) or "after" the update
**     "array_filters":   as cairn_update_one()
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
** After an upsert with "before", *json is "null".
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when no document matched and none was
** upserted (nothing is written); CAIRN_INVALID_ARGUMENT (NULL db or json, a
** bad name, filter, update or option, a read-only transaction);
** CAIRN_CONSTRAINT; CAIRN_SCHEMA; CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_find_one_and_update(cairn_db *db, const char *collection, size_t collection_len,
                              const char *filter_json, size_t filter_len,
                              const char *update_json, size_t update_len,
                              const char *options_json, size_t options_len,
                              char **json, size_t *json_len, char **errmsg);

/*
** As cairn_find_one_and_update(), with a replacement document (no
** operators) in `replacement_json`: the first match (in the order of
** options "sort") is replaced, keeping its primary key; a replacement
** naming a different _id is CAIRN_INVALID_ARGUMENT. The same options:
** "sort", "projection", "upsert" (with no match, inserts the replacement,
** taking its _id from the filter's _id equality when it has none) and
** "return_document".
**
** Method of cairn_db. The same parameters, *json (malloc()ed, freed with
** cairn_free(), NULL on failure) and status codes as
** cairn_find_one_and_update(): CAIRN_NOT_FOUND when nothing matched and
** nothing was upserted.
** Scope: database or transaction.
*/
int cairn_find_one_and_replace(cairn_db *db, const char *collection, size_t collection_len,
                               const char *filter_json, size_t filter_len,
                               const char *replacement_json, size_t replacement_len,
                               const char *options_json, size_t options_len,
                               char **json, size_t *json_len, char **errmsg);

/*
** Atomically finds the first document matching `filter_json` (in the order
** of options "sort", else the primary key's), deletes it and returns it in
** *json, through options "projection" when given.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database, or a transaction.
**   collection     in: the collection name.
**   filter_json    in: the filter.
**   options_json   in (may be empty): only "sort" and "projection", as
**                  cairn_find().
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when no document matched (nothing is
** deleted); CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name, filter or
** option, a read-only transaction); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_find_one_and_delete(cairn_db *db, const char *collection, size_t collection_len,
                              const char *filter_json, size_t filter_len,
                              const char *options_json, size_t options_len,
                              char **json, size_t *json_len, char **errmsg);

/*
** Stores in *count (out, must not be NULL) the number of documents matching
** `filter_json`, as MongoDB's countDocuments does with its options:
** options_json (may be empty) holds "skip" (matches passed over first) and
** "limit" (the most counted; 0 means no limit), both non-negative
** integers. Any other option is CAIRN_INVALID_ARGUMENT naming it.
**
** Method of cairn_db. Otherwise as cairn_count(), with the same status
** codes.
** Scope: database or transaction.
*/
int cairn_count_with_options(cairn_db *db, const char *collection, size_t collection_len,
                             const char *filter_json, size_t filter_len,
                             const char *options_json, size_t options_len,
                             uint64_t *count, char **errmsg);

/*
** Runs an aggregation pipeline (a JSON array of stages) over `collection`
** and opens a cursor over its results, read with cairn_cursor_next().
** Stages: $match (with {"$expr": expression} too) $project $addFields $set
** $unset $group $sort $skip $limit $unwind (a path, or {"path",
** "preserveNullAndEmptyArrays", "includeArrayIndex"}) $count $sortByCount
** $replaceRoot ({"newRoot"}) $replaceWith (a result that is not an object is
** CAIRN_INVALID_ARGUMENT) $lookup ({"from", "localField", "foreignField",
** "as"}, or {"from", "let", "pipeline", "as"} with optional
** localField/foreignField; the pipeline sees the let values as $$name)
** $unionWith (a collection name, or {"coll", "pipeline"}) $facet (named
** sub-pipelines over the same input; no $facet inside) $bucket
** ({"groupBy", "boundaries" sorted and of one type, "default", "output"};
** a value outside the boundaries without a default is
** CAIRN_INVALID_ARGUMENT) $bucketAuto ({"groupBy", "buckets", "output"})
** $sample ({"size"}, uniformly random) $setWindowFields ({"partitionBy",
** "sortBy", "output": {field: {<function>: argument, "window":
** {"documents": [lo, hi]} or {"range": [lo, hi], "unit"}}}}, bounds
** "unbounded", "current" or numbers; functions: the accumulators below,
** $rank $denseRank $documentNumber $shift {"output", "by", "default"}).
** Accumulators ($group, $bucket, $bucketAuto, windows): $sum $avg $min
** $max $count $first $last $push $addToSet; $first, $last and $push keep
** input order; $group's _id is a field path, an expression object or null.
** Expressions: "$field.path" references, literals, {"$literal": v},
** variables $$ROOT $$CURRENT $$REMOVE (missing: the field is left out)
** $$NOW (one date per run) and $$name / $$name.path bound by $let $map
** $filter $reduce ($$value, $$this) and a $lookup's let (an unknown
** variable is CAIRN_INVALID_ARGUMENT before any document is read), and
** the operators:
**   arithmetic  $add $subtract $multiply $divide $mod $abs $floor $ceil $trunc
**               $sum $avg $min $max (over one array, or over the arguments)
**               $round (half to even, [n, place]) $sqrt $pow $exp $ln $log $log10
**   comparison  $eq $ne $gt $gte $lt $lte $cmp $and $or $not $cond (array or
**               {"if","then","else"}) $ifNull $switch {"branches", "default"}
**               (no branch matching and no default is CAIRN_INVALID_ARGUMENT)
**   strings     $concat $toLower $toUpper $strLenCP $substrCP $indexOfCP $split
**               $trim $ltrim $rtrim ({"input", "chars"}) $replaceOne $replaceAll
**               ({"input", "find", "replacement"}) $strcasecmp $regexMatch $regexFind
**               $regexFindAll ({"input", "regex", "options"}; PCRE2 with the
**               limits of the $regex filter)
**   arrays      $size $arrayElemAt $first $last $in $isArray $reverseArray
**               $concatArrays $slice $indexOfArray $range (at most 1,000,000
**               elements) $map $filter ({"input", "as", "cond", "limit"})
**               $reduce
**   sets        $setUnion $setIntersection $setDifference $setEquals
**               $setIsSubset $anyElementTrue $allElementsTrue
**   objects     $mergeObjects $objectToArray $arrayToObject ([[k, v]] or
**               [{k, v}]) $let
**   types       $type $isNumber $convert ({"input", "to", "onError", "onNull"}; to is
**               double, string, bool, date, int or long) $toString $toInt
**               $toLong $toDouble $toBool $toDate; a value that does not fit
**               (1e30 to an int) fails, or gives onError
**   dates       $year $month $dayOfMonth $hour $minute $second $millisecond
**               $dayOfWeek $dayOfYear $week $isoWeek $isoWeekYear
**               $isoDayOfWeek (each a date or {"date", "timezone"})
**               $dateToString ({"date", "format", "timezone", "onNull"};
**               %Y %m %d %H %M %S %L %j %w %u %U %V %G %z %Z %%, by default
**               "%Y-%m-%dT%H:%M:%S.%LZ") $dateFromString ({"dateString",
**               "format", "timezone", "onError", "onNull"}; ISO 8601 without
**               a format) $dateTrunc ({"date", "unit", "binSize",
**               "timezone", "startOfWeek"}) $dateAdd $dateSubtract ({"startDate",
**               "unit", "amount", "timezone"}) $dateDiff ({"startDate",
**               "endDate", "unit", "timezone", "startOfWeek"}) $dateFromParts
**               ({"year", "month", "day", "hour", "minute", "second",
**               "millisecond", "timezone"} or {"isoWeekYear", "isoWeek",
**               "isoDayOfWeek", ...}; parts carry over) $dateToParts ({"date",
**               "timezone", "iso8601"}); units year
**               quarter month week day hour minute second millisecond.
** Time zones are fixed offsets: "UTC", "GMT", "Z", "+hh", "+hhmm" or
** "+hh:mm" (or "-"); named zones such as "Europe/Paris" are
** CAIRN_INVALID_ARGUMENT naming the zone. Any arithmetic that leaves the
** int64 range or the range of dates is CAIRN_INVALID_ARGUMENT naming the
** operator (or a double, where MongoDB gives one), never a crash, and
** so is an expression that would build more than 64 MiB of values for one
** document (a $reduce that doubles an array, a $map of $ranges).
** A leading $match (and a $sort right after it) is planned like
** cairn_find() and uses indexes, and so is a $lookup pipeline's. Stages
** that stream ($match $project $addFields $unset $replaceRoot $skip $limit
** $unwind $lookup $unionWith) hold one document at a time; $group $sort
** $facet $bucket $bucketAuto $sample and $setWindowFields hold their
** inputs or groups, up to 256 MiB each (beyond it the cursor fails with
** CAIRN_INVALID_ARGUMENT), and sliding windows stop at 50 million
** accumulator steps. A document a stage builds ($lookup, $facet) is at
** most 16 MiB.
** Constructor of cairn_cursor; pair with cairn_cursor_close().
** Scope: database or transaction.
*/
int cairn_aggregate(cairn_db *db, const char *collection, size_t collection_len,
                    const char *pipeline_json, size_t pipeline_len,
                    cairn_cursor **out_cursor, char **errmsg);

/*
** Runs the query cairn_find() would run and describes in *json how:
** {"plan": "collection_scan" | "index_scan" | "primary_key", "index": name
** or null, "bounds": the key ranges scanned, "sort_from_index": bool,
** "keys_examined": n, "documents_examined": n, "returned": n}.
**
** Method of cairn_db.
**
** Parameters:
**   db, collection, filter_json, options_json   in: as cairn_find().
**   json           out: the NUL-terminated JSON text, malloc()ed and freed
**                  with cairn_free(). Must not be NULL; set to NULL first,
**                  so it is NULL on failure.
**   json_len       out, optional: the length of *json.
**   errmsg         out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name,
** filter or option, the sort's memory limit); CAIRN_CLOSED;
** CAIRN_INTERRUPTED; CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_explain(cairn_db *db, const char *collection, size_t collection_len,
                  const char *filter_json, size_t filter_len,
                  const char *options_json, size_t options_len,
                  char **json, size_t *json_len, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Secondary indexes                                                         */
/* ------------------------------------------------------------------------ */

/*
** Index entries are key-value entries whose keys encode the indexed values
** in MongoDB's sort order, so that equality, ranges, $in, prefixes of a
** compound index and sorts become byte-range scans. Indexes are updated in
** the same atomic write as their documents, so they always agree with
** them, also across a crash.
*/

/*
** Creates an index on `collection` (created when missing).
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   collection   in: the collection name.
**   spec_json    in: the index:
**     "keys":   {"field": 1 or -1, ...}, one or more dotted paths, in order
**     "name":   optional; default the fields and directions joined by "_"
**               ("age_1_name_-1")
**     "unique": bool, default false: no two documents may have the same
**               values for the keys (a missing field counts as null); a
**               write that would break it fails with CAIRN_CONSTRAINT naming
**               the index and the duplicate value ({"email": "a@x.org"}) and
**               changes nothing
**     "sparse": bool, default false: documents missing every key field get
**               no entry
**     "expireAfterSeconds": 0 to 2147483647: a TTL index, on one field
**               ({"keys": {"expiresAt": 1}, "expireAfterSeconds": 0} or
**               {"keys": {"createdAt": 1}, "expireAfterSeconds": 3600}), as
**               MongoDB defines them: a document expires once the earliest
**               date in that field (a date, or an array of dates) plus the
**               bound is past; a field without a date never expires. See
**               "Documents that expire" below.
**               A text index takes "text" for each key and its own options;
**               see "Full-text search" below.
**   name         out, optional: on CAIRN_OK the index name, malloc()ed and
**                freed with cairn_free(); NULL on failure.
**   name_len     out, optional: the length of *name.
**   errmsg       out, optional: see CONVENTIONS.
**
** A document whose field holds an array gets one entry per element
** (multikey); two array fields in one compound index are
** CAIRN_INVALID_ARGUMENT. Existing documents are indexed before the call
** returns (CAIRN_CONSTRAINT if they break "unique"); readers continue
** meanwhile, and writers wait. An index with the same name and keys is
** CAIRN_OK; the same name with other keys is CAIRN_INVALID_ARGUMENT.
**
** While it is built, the index is "building" (cairn_index_list()) and
** invisible to every read path (find, count, distinct, sorts, aggregation,
** find-and-modify, explain). A build that a crash or cairn_close() stops
** stays "building" and is finished by the next cairn_open() in the
** background; queries use other plans until it is "ready". A unique index
** is enforced on every write from its creation: while its build runs,
** writers wait (explicit transactions that raced it fail with
** CAIRN_CONFLICT); while an interrupted build waits to be resumed, each
** write is checked against every document (slowly, in that window only).
** Documents that already break it make the build fail and the index go
** away. A build that fails (a full disk, a duplicate, cairn_interrupt())
** removes the index, or leaves it "building" when even that fails: never
** "ready" with entries missing.
**
** Returns CAIRN_OK; CAIRN_CONSTRAINT (existing documents break "unique");
** CAIRN_INVALID_ARGUMENT (NULL db, a bad name or spec, the name taken by
** other keys); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_index_create(cairn_db *db, const char *collection, size_t collection_len,
                       const char *spec_json, size_t spec_len,
                       char **name, size_t *name_len, char **errmsg);

/*
** Drops an index by name, with its entries.
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   collection   in: the collection name.
**   name         in: the index name.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when there is no such index (or
** collection); CAIRN_INVALID_ARGUMENT (NULL db, a bad name); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_index_drop(cairn_db *db, const char *collection, size_t collection_len,
                     const char *name, size_t name_len, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Documents that expire                                                     */
/* ------------------------------------------------------------------------ */

/*
** A document expires by a TTL index (cairn_index_create() with
** "expireAfterSeconds"), or by an insert with a TTL (cairn_insert_one_with_ttl(),
** or the "ttl" option of cairn_insert_many_with_options()), which stores the
** instant it expires as a date in the reserved field "_expiresAt", governed
** by the TTL index {"_expiresAt": 1} with bound 0 (named "_expiresAt_ttl";
** created by the first such insert on the database). A document may extend
** its life by an update of that field.
**
** No read returns an expired document: find, count, distinct, aggregation,
** full-text and vector search, reads by primary key, links and change-feed
** lookups all skip it from the instant it expires. A background purge
** deletes expired documents in batches of 1000, each batch one atomic write
** with its index entries and links, every "ttl_purge_interval_ms" (an
** option of cairn_open(); default 60000, 0 turns it off); the change feed
** records each as a delete. Until then an expired document takes space and
** counts in text-index statistics, and a write that reuses its primary key
** or one of its unique values deletes it first, in its own transaction.
*/

/*
** Inserts one document that expires `ttl_ms` milliseconds from now: the
** document is stored with "_expiresAt" set to that instant (replacing any
** value it had). Otherwise as cairn_insert_one().
**
** Method of cairn_db.
**
** Parameters:
**   db              in: the database, or a transaction. In a transaction
**                   the collection must already have the TTL index on
**                   "_expiresAt" (a transaction cannot build an index):
**                   CAIRN_INVALID_ARGUMENT says how to create it.
**   collection      in: the collection name; created when missing.
**   document_json   in: the document.
**   ttl_ms          in: a positive number of milliseconds
**                   (cairn_parse_duration() reads "1h" and the like).
**   id_json         out, optional: as for cairn_insert_one().
**   id_len          out, optional: the length of *id_json.
**   errmsg          out, optional: see CONVENTIONS.
**
** Returns as cairn_insert_one(), and CAIRN_INVALID_ARGUMENT for a TTL that
** is not positive or too large.
** Scope: database or transaction.
*/
int cairn_insert_one_with_ttl(cairn_db *db, const char *collection, size_t collection_len,
                              const char *document_json, size_t document_len, int64_t ttl_ms,
                              char **id_json, size_t *id_len, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Links between keys and documents                                          */
/* ------------------------------------------------------------------------ */

/*
** A key-value key may link to any number of documents, each link with
** optional metadata (a JSON object), and each document knows the keys that
** link to it. Both directions live in the engine and change in one atomic
** write. Deleting a document, by any path (a delete, the TTL purge, dropping
** its collection), removes its links in the same transaction. Deleting a key
** keeps its links, so that a key-value delete stays a single write: links of
** a key that is absent (deleted or expired) are not listed, and
** cairn_unlink_all() in the same transaction as the delete removes them with
** it. Renaming a collection keeps its links.
*/

/*
** Links `key` to the document of `collection` whose primary key is
** `id_json`, keeping `metadata_json` on the link. Linking a pair again
** replaces its metadata.
**
** Method of cairn_db.
**
** Parameters:
**   db              in: the database, or a transaction.
**   key             in: the key (it must exist).
**   collection      in: the collection name.
**   id_json         in: the document's primary key as JSON ("\"a1\"", 42,
**                   {"$oid": ...} and so on; the document must exist).
**   metadata_json   in, optional: a JSON object; NULL with length 0 for none.
**   errmsg          out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND (the key, the collection or the
** document does not exist, or the document has expired; the message says
** which); CAIRN_INVALID_ARGUMENT (NULL db, a bad key, name or JSON,
** metadata that is not an object, a read-only transaction); CAIRN_CLOSED;
** CAIRN_CONFLICT (see "Transactions"); CAIRN_IO_ERROR; CAIRN_CORRUPTION;
** CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_link(cairn_db *db, const uint8_t *key, size_t key_len,
               const char *collection, size_t collection_len,
               const char *id_json, size_t id_len,
               const char *metadata_json, size_t metadata_len, char **errmsg);

/*
** Removes the link between `key` and a document.
**
** Method of cairn_db.
**
** Parameters:
**   db              in: the database, or a transaction.
**   key             in: the key.
**   collection      in: the collection name.
**   id_json         in: the document's primary key as JSON.
**   removed         out, optional: 1 when the link existed, else 0.
**   errmsg          out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK (also when there was no such link); CAIRN_INVALID_ARGUMENT
** (NULL db, a bad key, name or JSON, a read-only transaction); CAIRN_CLOSED;
** CAIRN_CONFLICT; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE;
** CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_unlink(cairn_db *db, const uint8_t *key, size_t key_len,
                 const char *collection, size_t collection_len,
                 const char *id_json, size_t id_len, int *removed, char **errmsg);

/*
** Removes every link of `key`, as a key's delete may want in the same
** transaction.
**
** Method of cairn_db.
**
** Parameters:
**   db        in: the database, or a transaction.
**   key       in: the key (present or not).
**   removed   out, optional: how many links it removed.
**   errmsg    out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, a bad key, a read-only
** transaction); CAIRN_CLOSED; CAIRN_CONFLICT; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_unlink_all(cairn_db *db, const uint8_t *key, size_t key_len,
                     size_t *removed, char **errmsg);

/*
** Lists the documents `key` links to, as a JSON array of {"collection",
** "id", "metadata"} (metadata null when none), ordered by collection (in
** creation order) then primary key. A key without links gives [].
**
** Method of cairn_db.
**
** Parameters:
**   db         in: the database, or a transaction.
**   key        in: the key.
**   json       out: the array, NUL-terminated, freed with cairn_free().
**   json_len   out, optional: the length of *json.
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json, a bad key);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_key_links(cairn_db *db, const uint8_t *key, size_t key_len,
                    char **json, size_t *json_len, char **errmsg);

/*
** Lists the keys linked to a document, as a JSON array of {"key" (the key
** as a string, or null when it is not UTF-8), "key_base64" (the key's
** bytes), "metadata"}, in key order. Keys that no longer exist are left
** out.
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database, or a transaction.
**   collection   in: the collection name (a missing one gives []).
**   id_json      in: the document's primary key as JSON.
**   json         out: the array, NUL-terminated, freed with cairn_free().
**   json_len     out, optional: the length of *json.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name or
** JSON); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_document_links(cairn_db *db, const char *collection, size_t collection_len,
                         const char *id_json, size_t id_len,
                         char **json, size_t *json_len, char **errmsg);

/*
** Lists the indexes of a collection as a JSON array: [{"name", "keys":
** {"field": 1, ...}, "unique", "sparse", "state"}], where "state" is
** "building" (with "documents_indexed" while a build runs) or "ready". A
** missing collection gives "[]".
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   collection   in: the collection name.
**   json         out: the NUL-terminated array, malloc()ed and freed with
**                cairn_free(). Must not be NULL; set to NULL first, so it
**                is NULL on failure.
**   json_len     out, optional: the length of *json.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json, a bad name);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_index_list(cairn_db *db, const char *collection, size_t collection_len,
                     char **json, size_t *json_len, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Full-text search                                                          */
/* ------------------------------------------------------------------------ */

/*
** A text index is created with cairn_index_create(), as MongoDB declares
** one, with "text" for each field:
**
**     {"keys": {"title": "text", "body": "text"}, "name": "search",
**      "weights": {"title": 3},            per field, default 1
**      "default_language": "english",      a Snowball language, an ISO code
**                                          ("en"), or "none"
**      "analyzer": {"stemming": true, "stopwords": true or false or
**                   ["custom", "words"], "min_token_length": 1},
**      "k1": 1.2, "b": 0.75}               BM25's parameters
**
** Its default name is the fields joined as "title_text_body_text". A
** collection may have several, each with its name. Text is split into
** words of letters, digits and combining marks of any script, folded to
** lower case, stripped of the language's Snowball stopwords and stemmed
** with Snowball (libstemmer); queries are analyzed the same way. Strings in
** arrays are indexed one after the other, 100 positions apart (a phrase
** never spans two). Documents without a word in any indexed field are left
** out. Postings, positions and statistics are written in the same atomic
** write as their document, so a search never returns a deleted document
** nor misses a committed one, also after a crash; cairn_index_list() shows
** the options, cairn_index_drop() drops the index.
**
** Scoring is Lucene's BM25 (Lucene 8 and later), per field, weighted:
**
**     score = sum over the query's words w and the fields f it is searched
**             in of  weight_f * idf * tf
**     idf   = ln(1 + (N - n + 0.5) / (n + 0.5))
**     tf    = freq / (freq + k1 * (1 - b + b * dl / avgdl))
**
** with N the number of documents with words in f, n those holding w in f,
** freq the count of w in the document's f, dl the length of f in words and
** avgdl its mean. dl is exact (Lucene rounds it to one byte). A phrase
** scores as Lucene's PhraseQuery: the sum of its words' idf times tf of
** the phrase's count. A prefix or fuzzy word scores as the best word it
** expands to (at most 50); a fuzzy match at distance d scores at most
** (1 - d / (max_edits + 1)) times the lowest score of an exact match of the
** same word in the whole index, so it never outranks one; a filter or a
** required word changes which documents match, never their scores.
**
** The query syntax:
**     word             documents with the word; words are OR-ed
**     +word  -word     must match; must not match
**     "a phrase"       the words next to each other, in order
**     pre*             words starting so, or starting as the prefix stems
**     word~  word~1    words within 2 (or 0, 1, 2) edits: Levenshtein over
**                      Unicode characters, a swap of neighbours one edit
**     title:word       a word, phrase or prefix in that field only
** An unbalanced quote, a '+', '-' or "field:" with nothing after it, a lone
** or inner '*', or a bad '~' is CAIRN_INVALID_ARGUMENT naming the position
** (in characters from 0). A query whose words are all stopwords matches
** nothing.
**
** The same index answers MongoDB's {"$text": {"$search": "...",
** "$caseSensitive": bool}} in filters (find, count, $match as the first
** stage), {"$meta": "textScore"} in projections and sorts, and the
** "$search" aggregation stage (Atlas Search's "text" operator):
**     {"$search": {"index": "name", "text": {"query": "...", "path": "title"
**      or ["title", "body"], "fuzzy": {"maxEdits": 1}}, "highlight": {"path": ...}}}
** with {"$meta": "searchScore"} and {"$meta": "searchHighlights"}.
*/

/*
** Searches a collection's text index and opens a cursor over the hits,
** best first. Each hit is a JSON document:
**     {"document": {...}, "score": 1.234,
**      "highlights": {"title": "the <em>word</em>"}, "snippet": "..."}
** (the last two with "highlight").
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database or a transaction.
**   collection     in: the collection name.
**   query          in: the query text (syntax above), UTF-8.
**   options_json   in, optional (NULL or empty: none): a JSON object:
**     "index":      the text index's name; default the collection's only one
**     "fields":     ["title", ...]: search these fields only
**     "weights":    {"title": 5}: weights for this search
**     "filter":     a MongoDB filter the documents must also match. It runs
**                   first when an index serves it and it matches fewer
**                   documents than the words' postings hold (then only the
**                   postings of its documents are read); otherwise the hits
**                   are checked against it in score order
**     "limit":      most hits (default 10, at most 100000)
**     "skip":       hits to skip
**     "min_score":  leave out hits scoring less
**     "highlight":  true, or {"pre": "<em>", "post": "</em>",
**                   "snippet_words": 24}: add "highlights" (the matched
**                   fields with the matched words marked) and "snippet"
**                   (the window of words with the most matches)
**     "projection": as cairn_find()'s, applied to "document"
**   out_cursor     out: the new handle; set to NULL on failure. Must not
**                  be NULL.
**   errmsg         out, optional: see CONVENTIONS.
**
** Hits with equal scores come in a fixed order (of internal document
** numbers, which derive from the primary keys).
** A missing collection gives an empty cursor.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND (the collection has no text index, or
** none of that name); CAIRN_INVALID_ARGUMENT (NULL db or out_cursor, a bad
** name, query or option, several text indexes and no "index", an index
** still being built); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_search(cairn_db *db, const char *collection, size_t collection_len,
                 const char *query, size_t query_len,
                 const char *options_json, size_t options_len,
                 cairn_cursor **out_cursor, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */
/* ------------------------------------------------------------------------ */

/*
** A transaction reads one snapshot of the whole database (documents of
** every collection and key-value entries) and sees its own writes; its
** writes become visible to others all at once when it commits, in one
** write-ahead log record, so a crash keeps all or none of them.
**
** Isolation is snapshot isolation: if another writer committed a change to
** a key or document this transaction also writes (or changed a
** collection's definition this transaction used) after this transaction
** began, cairn_txn_commit() fails with CAIRN_CONFLICT and nothing is
** written; run the transaction again. Single operations outside a
** transaction are transactions of their own and retry internally; a
** document write that loses to concurrent writers 1000 times in a row
** returns CAIRN_CONFLICT.
**
** A transaction handle has the type cairn_db *. Pass it as the `db` of a
** function whose comment says "Scope: database or transaction": the call
** then runs inside the transaction. A function whose scope is the
** database only returns CAIRN_INVALID_ARGUMENT for a transaction handle.
** Cursors opened in a transaction keep reading its snapshot and the writes
** it had made when they were opened.
**
** A transaction is used by one caller at a time. Its handle is freed by
** cairn_txn_commit() or cairn_txn_rollback(), whatever they return; later
** calls with it return CAIRN_CLOSED. Closing the database ends (rolls
** back) its open transactions.
*/

/* Flags of cairn_txn_begin(). */
#define CAIRN_TXN_READ_ONLY 0x1  /* writes fail with CAIRN_INVALID_ARGUMENT */

/*
** Begins a transaction on `db` at a snapshot taken now.
**
** Constructor of a transaction handle; pair with cairn_txn_commit() or
** cairn_txn_rollback().
**
** Parameters:
**   db        in: the database.
**   flags     in: 0 or CAIRN_TXN_READ_ONLY; other bits are
**             CAIRN_INVALID_ARGUMENT.
**   out_txn   out: the transaction handle (a cairn_db *); set to NULL on
**             failure. Must not be NULL.
**   errmsg    out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_txn, unknown
** flags); CAIRN_CLOSED.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_txn_begin(cairn_db *db, int flags, cairn_db **out_txn, char **errmsg);

/*
** Commits the transaction's writes atomically and durably (per the
** database's sync mode). A read-only transaction, or one that wrote
** nothing, commits at once.
**
** Destructor of a transaction handle: the handle is freed in every case,
** whatever the status.
**
** Parameters:
**   txn      in: the transaction handle from cairn_txn_begin().
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_CONFLICT (nothing was written; retry the whole
** transaction); CAIRN_INVALID_ARGUMENT (NULL txn, a handle that is not a
** transaction, or writes over CAIRN_MAX_BATCH_SIZE: nothing was written);
** CAIRN_CLOSED (already ended, or its database closed);
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
*/
int cairn_txn_commit(cairn_db *txn, char **errmsg);

/*
** Discards the transaction's writes and frees its handle.
**
** Destructor of a transaction handle. Idempotent: NULL or an ended
** transaction returns CAIRN_OK; always returns CAIRN_OK. No errmsg.
*/
int cairn_txn_rollback(cairn_db *txn);

/* ------------------------------------------------------------------------ */
/* Change feeds: watch committed changes, resumable                          */
/* ------------------------------------------------------------------------ */

/*
** A database opened with the "change_feed" option (see cairn_open()) keeps
** a history of every committed change, written in the same atomic write as
** the change itself: after a crash, a change and its event are both there
** or both gone. A watch follows that history from a start point on: the
** events of each commit together and in their order inside the commit,
** commits in commit order (also with concurrent writers sharing a group
** commit). A watch that falls behind reads further back in the history and
** catches up; it never holds up writers. Watches cost writers almost
** nothing: a commit signals one dispatcher thread, which wakes only the
** watches whose target, and whose filter's top-level "operationType",
** "ns.coll" or "ns.kv" equalities, the new events may concern.
**
** An event is a JSON object, in MongoDB's change-event shape:
**   "_id"            {"seq": S, "pos": P}: the resume token (the commit's
**                    sequence and the event's position inside the commit)
**   "operationType"  documents: "insert" "update" "replace" "delete"
**                    "create" "drop" "rename" "createIndexes" "dropIndexes";
**                    key-value: "put" "delete" "deleteRange"
**   "seq"            the commit's sequence number (grows with every commit)
**   "txnId"          the transaction: equal to "seq", shared by every event
**                    of one commit (one call on the database, or one
**                    committed transaction)
**   "txnEvents"      how many events the commit holds
**   "wallTime"       {"$date": ...}: when the commit was written
**   "ns"             {"coll": name} for documents and collections,
**                    {"kv": true} for key-value changes
**   documents:       "documentKey" {<primary key field>: value};
**                    "updateDescription" {"updatedFields": {path: value},
**                    "removedFields": [path]} (update); "fullDocument" (insert
**                    and replace always; update per the fullDocument option);
**                    "fullDocumentBeforeChange" (per that option); "to"
**                    {"coll": new name} (rename); "index" (index events:
**                    {"name", "keys", "unique", "sparse"}, as
**                    cairn_index_create() takes it); "operationDescription"
**                    (create, when the collection has options other than
**                    the defaults: "primary_key", "schema",
**                    "changeStreamPreAndPostImages")
**   key-value:       "key" (put, delete) or "start" and "end" (deleteRange)
**                    as {"$binary": ...}; "value" and, with a TTL,
**                    "ttlMillis" (put)
** A key-value delete is an event even when the key was absent (the layer
** does not read before it writes). TTL expiry is not an event: keys expire
** lazily (reads skip them, compaction drops them), so no moment exists to
** report; a consumer that mirrors values takes "ttlMillis" from the put.
** Index builds report "createIndexes" once the index is ready.
**
** Resuming: the history keeps every event for the configured retention
** (time and/or bytes, trimmed in the background, whole commits at a time).
** A watch started from a point whose following events are no longer all
** in the history (trimmed, or written while the database was opened
** without the feed) fails with CAIRN_HISTORY_LOST, at open or at a later
** cairn_watch_next() when a slow watch is overtaken; it never skips events.
** Resuming after the token of the last event processed delivers exactly the
** events after it, across a close and reopen and across a crash.
*/
typedef struct cairn_watch cairn_watch;

/* Targets of cairn_watch_open(). */
#define CAIRN_WATCH_ALL 0          /* every change: documents, collections, key-value */
#define CAIRN_WATCH_COLLECTIONS 1  /* the changes of every collection */
#define CAIRN_WATCH_COLLECTION 2   /* one collection, named by `target` (also a rename to it) */
#define CAIRN_WATCH_KEY_PREFIX 3   /* key-value changes of keys starting with `target` */

/*
** Opens a watch of `db`'s change feed.
**
** Constructor of cairn_watch; pair with cairn_watch_close().
**
** Parameters:
**   db            in: the database.
**   target_kind   in: one of the CAIRN_WATCH_* targets.
**   target        in: the collection name (CAIRN_WATCH_COLLECTION) or the
**                 key prefix, non-empty (CAIRN_WATCH_KEY_PREFIX); copied.
**                 Empty (NULL with length 0) for the other targets.
**   options_json  in (may be empty): a JSON object:
**     "filter":    a filter in MongoDB's language over the event (see
**                  "Documents"), as $match on a change stream:
**                  {"operationType": {"$in": ["insert", "update"]},
**                   "fullDocument.status": "active"}.
**     "fullDocument": "default" (or "off"): updates carry no document;
**                  "updateLookup": updates carry the document as it is
**                  when the event is read (null if gone); "whenAvailable":
**                  updates carry their post-image when the collection
**                  records images (else null); "required": as
**                  whenAvailable, and an update without one fails
**                  cairn_watch_next() with CAIRN_NOT_FOUND.
**     "fullDocumentBeforeChange": "off" (default), "whenAvailable",
**                  "required": the pre-image of updates, replacements and
**                  deletes, for collections created with
**                  "changeStreamPreAndPostImages".
**     "resumeAfter" (or "startAfter"): an event's "_id": start after it.
**     "startAtOperationTime": a sequence (integer >= 1): start with the
**                  first commit at that sequence or later; or {"$date": ...}:
**                  with the first commit at that time or later.
**                  Without a start point the watch starts now: with the
**                  first commit after this call.
**   out_watch     out: the new handle; set to NULL on failure. Must not
**                 be NULL.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_watch, the
** database was opened without "change_feed", an unknown target kind, a bad
** name, prefix, filter or option); CAIRN_HISTORY_LOST (the start point is
** older than the history); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_watch_open(cairn_db *db, int target_kind, const uint8_t *target,
                     size_t target_len, const char *options_json,
                     size_t options_len, cairn_watch **out_watch,
                     char **errmsg);

/*
** Returns the watch's next event, waiting up to `timeout_ms` for one.
**
** Method of cairn_watch.
**
** Parameters:
**   watch        in: the watch.
**   timeout_ms   in: the most milliseconds to wait; 0 takes only what is
**                there already. Negative is CAIRN_INVALID_ARGUMENT.
**   event_json   out: the event (a NUL-terminated JSON object, see above),
**                malloc()ed and freed with cairn_free(). Must not be NULL;
**                set to NULL first, so it is NULL unless CAIRN_OK.
**   event_len    out, optional: the length of *event_json.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK with an event; CAIRN_DONE when no event came within
** the timeout (not an error: call again); CAIRN_HISTORY_LOST when the
** watch fell so far behind that the history it needs was trimmed (then on
** every later call); CAIRN_NOT_FOUND (a "required" image is missing; the
** same on every later call); CAIRN_INVALID_ARGUMENT (NULL watch or
** event_json, a negative timeout, a watch handed to
** cairn_watch_subscribe()); CAIRN_CLOSED (the watch, or its database, was
** closed; a close from another thread ends a waiting call at once);
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Used by one caller at a time; cairn_watch_close() may come from any
** thread.
*/
int cairn_watch_next(cairn_watch *watch, int timeout_ms, char **event_json,
                     size_t *event_len, char **errmsg);

/*
** The callback of cairn_watch_subscribe(): with status CAIRN_OK and an
** event (event_json: a NUL-terminated JSON object of event_len bytes,
** BORROWED for the call only); or, once and last, with the status that
** ended the watch (CAIRN_HISTORY_LOST, CAIRN_CLOSED when the database was
** closed, ...) and its message in event_json.
*/
typedef void (*cairn_watch_callback)(void *user_data, int status,
                                     const char *event_json, size_t event_len);

/* Frees the user_data of a subscription. */
typedef void (*cairn_destroy_callback)(void *user_data);

/*
** Turns a watch into a push subscription: a thread that Cairn starts for
** this watch calls `callback` with each event, in order, one call at a
** time (never two at once, never from the caller's thread). The watch then
** no longer serves cairn_watch_next().
**
** Method of cairn_watch.
**
** Parameters:
**   watch      in: the watch, not yet subscribed.
**   callback   in: called on the subscription's thread; must not be NULL.
**              It may call any function, cairn_watch_close() of this very
**              watch included (which then returns at once; no call
**              follows the current one).
**   user_data  in: passed to callback and destroy as they are.
**   destroy    in, optional: called once with user_data after the last
**              callback: by cairn_watch_close(), or, when the callback
**              itself closed the watch, on the subscription's thread
**              once the callback returns. Not called when this function
**              fails (the caller keeps user_data).
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL watch or callback, a
** watch already subscribed); CAIRN_CLOSED; CAIRN_IO_ERROR (no thread could
** be started).
*/
int cairn_watch_subscribe(cairn_watch *watch, cairn_watch_callback callback,
                          void *user_data, cairn_destroy_callback destroy,
                          char **errmsg);

/*
** Closes a watch: a cairn_watch_next() waiting in another thread returns
** CAIRN_CLOSED at once; for a subscription, waits for a running callback
** to return (unless called from that callback) and then calls destroy.
**
** Destructor of cairn_watch. Idempotent; NULL is allowed. Always returns
** CAIRN_OK. Close watches before their database (closing the database
** first makes them fail with CAIRN_CLOSED; they must still be closed).
*/
int cairn_watch_close(cairn_watch *watch);

/* ------------------------------------------------------------------------ */
/* Vector search                                                             */
/* ------------------------------------------------------------------------ */

/*
** A vector index is declared with cairn_index_create() on one field:
**
**   {"keys": {"embedding": "vector"}, "dimensions": 384,
**    "metric": "cosine", "M": 16, "ef_construction": 200, "ef": 64,
**    "filter_fields": ["category"], "on_invalid": "skip"}
**
** "dimensions" (1 to 4096) is required; "metric" is "cosine" (default),
** "l2" or "dot"; "M" (2 to 128, default 16) links per node (2*M at the
** bottom level); "ef_construction" (default 200) and "ef" (default 64)
** the breadth of the searches that build and query the graph;
** "filter_fields" the fields a search may filter on; "on_invalid" what a
** document whose field is not a vector of "dimensions" finite numbers
** does: "skip" (default) leaves it out, "reject" fails its write with
** CAIRN_INVALID_ARGUMENT naming the field and the expected dimension. A
** document without the field is left out.
**
** A vector is an array of numbers, stored as float32, or in compact form
** a binary value of subtype 9 in BSON's vector layout: the byte 0x27
** (float32), the byte 0, then the components as float32 little-endian,
** in Extended JSON {"$binary": {"base64": "...", "subType": "09"}}; use it
** to move many vectors without decimal text.
**
** The index is an HNSW graph kept with the vectors in the database itself
** and changed in the same atomic write as each document: an insert, an
** update or a delete of a document changes the index with it, a delete
** truly removes the vector and repairs the links to it, reopening does
** not rebuild it, and it has no capacity.
*/

/*
** Opens a cursor over the documents of `collection` nearest to a vector,
** nearest first.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db             in: the database, or a transaction (the search then
**                  reads its snapshot and the writes it had made).
**   collection     in: the collection name.
**   options_json   in:
**     "vector":         the query: an array of numbers or a float32
**                       binary vector (see above); required
**     "k":              how many documents, 1 to 10000 (default 10)
**     "ef":             the walk's breadth (default the index's "ef";
**                       at least k is used); larger is slower and finds
**                       more of the true nearest
**     "filter":         a filter (cairn_find()'s language) on the
**                       index's filter_fields, applied during the walk;
**                       when it is too selective for the walk, the search
**                       becomes an exact scan of the matching documents
**     "exact":          true compares the query with every vector
**     "include_scores": true adds "_distance" (l2: squared Euclidean
**                       distance; cosine: 1 - cosine; dot: -dot) and
**                       "_score" (Atlas's: 1/(1+sqrt(l2)), (1+cos)/2,
**                       (1+dot)/2) to each document
**     "index":          the vector index's name, when there are several
**     "projection":     the fields each document keeps (cairn_find()'s
**                       projections); "_distance" and "_score" are added
**                       after it. {"_id": 1} returns ids only, without
**                       the stored vectors, and reads no document: the
**                       ids come from the index's node records (written
**                       in the same atomic write as each document, read
**                       at the same snapshot; the same text as reading
**                       the documents would give), when the collection's
**                       primary key is "_id" and it has no TTL index
**   out_cursor     out: the new handle; set to NULL on failure. Must not
**                  be NULL.
**   errmsg         out, optional: see CONVENTIONS.
**
** Results are ordered by distance, ties by primary key. A missing
** collection gives an empty cursor. In cairn_aggregate(), the first stage
** {"$vectorSearch": {"index", "path", "queryVector", "numCandidates",
** "limit", "filter", "exact"}} (Atlas Vector Search's shape) runs the same
** search, and {"$meta": "vectorSearchScore"} gives each row's score; when
** the next stage is a $project that keeps only "_id" and fields computed
** from "_id" and the score, it reads no document either.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_cursor, a bad
** name or option, a query vector of the wrong dimension or with NaN or
** infinite components, k out of range, a filter on a field that is not a
** filter field); CAIRN_NOT_FOUND (the collection has no such vector
** index); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION (a damaged vector or neighbour list, naming the index).
** Scope: database or transaction.
*/
int cairn_vector_search(cairn_db *db, const char *collection, size_t collection_len,
                        const char *options_json, size_t options_len,
                        cairn_cursor **out_cursor, char **errmsg);

/*
** Opens a cursor over the fused results of a text search (cairn_search())
** and a vector search (cairn_vector_search()) of `collection`, best first.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db             in: the database, or a transaction (both searches read
**                  its snapshot).
**   collection     in: the collection name; it needs a text index and a
**                  vector index.
**   options_json   in:
**     "text":           {"query": "...", and cairn_search()'s options but
**                       limit, skip, projection and highlight}; required
**     "vector":         the query vector (see above); required
**     "vector_options": cairn_vector_search()'s options but vector, k,
**                       include_scores and projection (ef, filter, exact,
**                       index)
**     "limit":          results, 1 to 10000 (default 10)
**     "candidates":     hits taken from each search (default
**                       max(limit, 50))
**     "fusion":         "rrf" (default): Reciprocal Rank Fusion, the sum
**                       over the two rankings of weight / (rrf_k + rank),
**                       rank from 1; or "weighted": the sum of weight times
**                       each ranking's score scaled to [0, 1] by its min
**                       and max (a document missing from a ranking adds 0)
**     "rrf_k":          RRF's constant (default 60)
**     "weights":        {"text": w, "vector": w} (default 1 and 1)
**   out_cursor     out: the new handle; set to NULL on failure. Must not
**                  be NULL.
**   errmsg         out, optional: see CONVENTIONS.
**
** Each result is {"document": {...}, "score": the fused score,
** "text_score": the BM25 score or null, "vector_score": the vector score
** (Atlas's, as "_score" above) or null}; ties by primary key. A missing
** collection gives an empty cursor.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_cursor, a bad
** name or option, as for either search); CAIRN_NOT_FOUND (no text index
** or no vector index); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_hybrid_search(cairn_db *db, const char *collection, size_t collection_len,
                        const char *options_json, size_t options_len,
                        cairn_cursor **out_cursor, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Time series                                                               */
/* ------------------------------------------------------------------------ */

/*
** A SERIES is a metric name plus a set of tags (cpu.usage{host="a"}); a
** POINT is a timestamp and a value. Timestamps are int64 MILLISECONDS since
** the Unix epoch, in [-2^62, 2^62); others are CAIRN_INVALID_ARGUMENT.
** A series holds float64 values (NaN and infinities included) or int64
** values, fixed when it is created. Each series has a uint64 id, assigned
** once when the series is created (by its first write or by
** cairn_ts_series_id()) and never reused; the id's lowest bit is 1 for a
** series of int64 values. Metric names, tag names and tag values are
** non-empty UTF-8 without NUL bytes; the tag name "__name__" is reserved.
**
** Points are stored per series in Gorilla-compressed chunks of two-hour
** buckets (docs/format/timeseries.md). Points may arrive in any order, and
** late; a point at the timestamp of an earlier one replaces it (last write
** wins; within one call, the later point of the call). Each write call is
** one atomic, durable write, across any number of series. Chunks written by
** separate calls are merged on read and packed together in the background.
** There is no out-of-order window: a point of any time is accepted at any
** time. The cost of a late point is a chunk of its own in its two-hour
** bucket, merged on every read of that bucket until the background packs
** it (queued at once) or cairn_ts_compact() runs. A series holds one value
** per point; InfluxDB's fields become one series each (cairn_ts_import()).
**
** Queries are JSON objects. Every query selects series with these members:
**   "id":     a series id;
**   "metric": a metric name;
**   "tags":   {"name": "value", ...}: with "metric", exactly that series;
**   "where":  a tag query over the inverted tag index: {"name": "value"}
**             (equal), {"name": {"$eq": v}}, {"$ne": v} (different or
**             absent), {"$regex": "pattern"} (PCRE2, unanchored), {"$in":
**             [v, ...]}; several names or operators mean AND, as does
**             {"$and": [query, ...]}. "metric" inside "where" is the metric.
** Without any of them a query selects every series. Time bounds "start"
** (inclusive) and "end" (exclusive) default to unbounded.
**
** Results stream through a cairn_cursor (cairn_cursor_next(),
** cairn_cursor_next_batch(), cairn_cursor_close()) as JSON rows read at one
** snapshot; no call holds all points in memory. Float values are JSON
** numbers, or the strings "NaN", "Infinity", "-Infinity".
**
** Scope: every cairn_ts_ function takes a database handle only (a
** transaction handle is CAIRN_INVALID_ARGUMENT); time-series writes are not
** recorded in the change feed.
*/

/* cairn_ts_maintain(): use the database's clock. */
#define CAIRN_TS_NOW INT64_MIN

/*
** Returns the id of a series, creating the series when it does not exist.
**
** Method of cairn_db.
**
** Parameters:
**   db            in: the database.
**   series_json   in: {"metric": "cpu.usage", "tags": {"host": "a"},
**                 "type": "float" or "int"}; "type" (default "float")
**                 applies when the series is created.
**   id            out: the series id. Must not be NULL.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a bad name or tag, an existing
** series of the other "type"); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_series_id(cairn_db *db, const char *series_json,
                       size_t series_len, uint64_t *id, char **errmsg);

/*
** Writes points given as JSON, creating missing series, as one atomic
** write.
**
** Method of cairn_db.
**
** Parameters:
**   db            in: the database.
**   points_json   in: an array of {"metric": m, "tags": {...}, "t": ms,
**                 "v": value, "type": "float" or "int"} ("id" may replace
**                 metric and tags; "type" applies when the write creates
**                 the series; "v" may be "NaN", "Infinity", "-Infinity").
**                 An integer written to a float series is converted.
**   written       out, optional: the number of points written.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (malformed JSON, a bad
** timestamp, name or value, a float for an int series: the message names
** the point's position) and nothing is written; CAIRN_NOT_FOUND (an "id"
** that names no series); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_write(cairn_db *db, const char *points_json, size_t points_len,
                   size_t *written, char **errmsg);

/*
** Writes `count` float64 points given as columns: point i is series
** ids[i] at times[i] (ms) with values[i]. The fast path for batches: one
** atomic write, no JSON, no name lookups.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   ids      in: series ids from cairn_ts_series_id(); NULL only when
**            count is 0. Likewise times and values.
**   times    in: timestamps in milliseconds.
**   values   in: values; NaN and infinities are accepted.
**   count    in: the number of points.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a timestamp out of range, a
** series of int64 values: the message names the point) and nothing is
** written; CAIRN_NOT_FOUND (an id that names no series); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_write_float(cairn_db *db, const uint64_t *ids,
                         const int64_t *times, const double *values,
                         size_t count, char **errmsg);

/*
** As cairn_ts_write_float() with int64 values; a float64 series stores them
** converted to float64.
**
** Method of cairn_db.
**
** Returns as cairn_ts_write_float().
** Scope: database only.
*/
int cairn_ts_write_int(cairn_db *db, const uint64_t *ids,
                       const int64_t *times, const int64_t *values,
                       size_t count, char **errmsg);

/*
** Imports InfluxDB line protocol: `measurement[,tag=v...] field=v[,...]
** [timestamp]`, one point per line and field. Each field is the series
** `measurement.field` with the line's tags. Values: 1.5 (float64), 1i
** (int64), 1u (int64 when it fits), t/true/f/false (int64 1 and 0); string
** fields are refused. A missing timestamp means now.
**
** Method of cairn_db.
**
** Parameters:
**   db             in: the database.
**   lines          in: the text; lines end with \n (or \r\n); empty lines
**                  and lines starting with # are skipped.
**   options_json   in (may be empty): {"precision": "ns" (default), "us",
**                  "ms" or "s"}: the unit of the timestamps, floored to ms.
**   written        out, optional: the number of points written.
**   errmsg         out, optional: see CONVENTIONS.
**
** The whole text is checked before anything is written, then the points
** are written in atomic batches of up to 65,536 (a crash during the call
** keeps a prefix of the batches).
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a malformed line: the message
** names its line number, e.g. "line protocol, line 3: ..."); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_import(cairn_db *db, const char *lines, size_t lines_len,
                    const char *options_json, size_t options_len,
                    size_t *written, char **errmsg);

/*
** Deletes the points in ["start", "end") of every series the query
** selects, as one atomic write (the series stay).
**
** Method of cairn_db.
**
** Parameters:
**   db           in: the database.
**   query_json   in: series selection and "start", "end" (see above).
**   series       out, optional: the number of series it selected.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a bad query); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_delete(cairn_db *db, const char *query_json, size_t query_len,
                    size_t *series, char **errmsg);

/*
** Opens a cursor over the points of the selected series in ["start",
** "end"), oldest first, series by series in order of their ids. Rows are
** {"t": ms, "v": value}, preceded by "metric" and "tags" unless the query
** names one series ("id", or "metric" with "tags").
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db           in: the database.
**   query_json   in: series selection and "start", "end" (see above).
**   out_cursor   out: the new cursor; NULL on failure. Must not be NULL.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a bad query, an unknown
** member); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_CORRUPTION (a damaged
** chunk, named in the message, also later from the cursor).
** Scope: database only.
*/
int cairn_ts_range(cairn_db *db, const char *query_json, size_t query_len,
                   cairn_cursor **out_cursor, char **errmsg);

/*
** Opens a cursor over the newest point at or before "as_of" (default: the
** latest point) of each selected series: the latest value, or the value as
** of a time. Rows: {"id", "metric", "tags", "t", "v"}; series without such
** a point are left out.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters and returns as cairn_ts_range(), with "as_of" instead of
** "start" and "end".
** Scope: database only.
*/
int cairn_ts_last(cairn_db *db, const char *query_json, size_t query_len,
                  cairn_cursor **out_cursor, char **errmsg);

/*
** Opens a cursor over the selected series: rows {"id", "metric", "tags",
** "type"} in order of their ids.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters and returns as cairn_ts_range() (the query has only the
** selection).
** Scope: database only.
*/
int cairn_ts_series(cairn_db *db, const char *query_json, size_t query_len,
                    cairn_cursor **out_cursor, char **errmsg);

/*
** Opens a cursor over windowed aggregates of the selected series in
** ["start", "end"): tumbling windows of "every" (ms, or a duration such as
** "5m") aligned to the epoch, one row per group and window:
** {"group": {tag: value or null} (only with "group_by"), "t": window start,
** <aggregate>: value, ...}, groups in order of their tag values.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db           in: the database.
**   query_json   in: series selection, "start", "end", and
**     "every":      the window width (required);
**     "aggregates": names among count, sum, min, max, avg, first, last,
**                   stddev (population), median, pNN (exact percentile,
**                   0 < NN <= 100, linear between closest ranks), increase
**                   and rate (per second; per series, summed over the
**                   group; a drop counts as a counter reset);
**     "group_by":   tag names ("metric" for the metric);
**     "fill":       "none" (default: empty windows have no row),
**                   "previous" or "linear" (empty windows get a row; a
**                   value that cannot be filled is null); needs bounded
**                   "start" and "end" and at most 10,000,000 windows.
**   out_cursor   out: the new cursor; NULL on failure. Must not be NULL.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (an unknown aggregate, a bad
** query); CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION.
** Scope: database only.
*/
int cairn_ts_aggregate(cairn_db *db, const char *query_json,
                       size_t query_len, cairn_cursor **out_cursor,
                       char **errmsg);

/*
** Keeps the points of `metric` for `keep_ms` milliseconds (0: forever).
** Maintenance drops, with range deletions, each two-hour bucket that ended
** before now - keep_ms (so up to two hours more may remain).
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a bad name, a negative
** keep_ms); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_set_retention(cairn_db *db, const char *metric,
                           size_t metric_len, int64_t keep_ms,
                           char **errmsg);

/*
** Creates or replaces a continuous downsampling rule: maintenance rolls
** the metric up into the float64 series "<metric>:<name>:<aggregate>" with
** the source series' tags, one point per window that ended at least
** "delay" ago, each window once.
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database.
**   rule_json   in: {"name": "1m", "metric": "cpu.usage", "every": "1m",
**               "aggregates": ["avg", "max"], "delay": "0" (optional),
**               "retention": "30d" (optional: of the rollup series)}.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (a bad rule, an unknown
** aggregate); CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_ts_create_rule(cairn_db *db, const char *rule_json,
                         size_t rule_len, char **errmsg);

/*
** Drops a downsampling rule; its rollup series stay.
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND (no such rule); CAIRN_CLOSED;
** CAIRN_IO_ERROR.
** Scope: database only.
*/
int cairn_ts_drop_rule(cairn_db *db, const char *name, size_t name_len,
                       char **errmsg);

/*
** Returns the rules and retentions as {"rules": [...], "retention":
** {metric: ms}} in *json (malloc()ed, freed with cairn_free(); must not be
** NULL), its length in *json_len (optional).
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT; CAIRN_CLOSED.
** Scope: database only.
*/
int cairn_ts_settings(cairn_db *db, char **json, size_t *json_len,
                      char **errmsg);

/*
** Sets how often background maintenance (rules and retention, with the
** database's clock) runs: every `interval_ms` milliseconds (default
** 60,000); 0 turns it off. Packing chunks in the background goes on.
** Not persistent.
**
** Method of cairn_db.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (negative); CAIRN_CLOSED.
** Scope: database only.
*/
int cairn_ts_set_maintenance_interval(cairn_db *db, int64_t interval_ms,
                                      char **errmsg);

/*
** Runs the downsampling rules and retention now, as of `now_ms`
** (CAIRN_TS_NOW: the database's clock).
**
** Method of cairn_db.
**
** Parameters:
**   db            in: the database.
**   now_ms        in: the time maintenance takes as now.
**   report_json   out, optional: {"rolled_up": points written,
**                 "series_trimmed": n}, malloc()ed, freed with
**                 cairn_free().
**   report_len    out, optional: its length.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (now_ms out of range);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE; CAIRN_CORRUPTION.
** Scope: database only.
*/
int cairn_ts_maintain(cairn_db *db, int64_t now_ms, char **report_json,
                      size_t *report_len, char **errmsg);

/*
** Packs every bucket's chunks into one (merging late points, dropping
** replaced and deleted ones) and compacts the time-series key range, so
** disk space reflects the live points.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   packed   out, optional: the number of buckets packed.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_NO_SPACE; CAIRN_CORRUPTION.
** Scope: database only.
*/
int cairn_ts_compact(cairn_db *db, size_t *packed, char **errmsg);

/* ------------------------------------------------------------------------ */
/* Graphs                                                                    */
/* ------------------------------------------------------------------------ */

/*
** A GRAPH is declared over an EDGE COLLECTION and zero or more VERTEX
** COLLECTIONS, all ordinary document collections. Vertices are documents;
** an edge is a document with "_from" and "_to" (the primary keys of its
** endpoints, any JSON value), an optional "label" and an optional numeric
** weight field ("weight" unless the declaration names another), and any
** other fields. An edge may name a vertex that has no document.
**
** Declaring a graph creates two ordinary indexes on the edge collection:
** "_graph_out" on {_from, label, _to} and "_graph_in" on {_to, label,
** _from}. Their entries are written in the same atomic write as each edge,
** so every graph query is a set of index prefix scans that sees exactly
** the edges of its snapshot; schemas, transactions and the change feed
** treat edges as the documents they are.
**
** Queries are JSON objects with an "op" and its options; rows stream
** through a cairn_cursor (cairn_cursor_next(), cairn_cursor_next_batch(),
** cairn_cursor_close()). Vertex and edge ids in rows are the primary keys
** as JSON values (an integral number comes back as an integer). Options
** every op takes:
**   "labels":       a label or an array of labels; only edges with one
**                   of them are followed (default: every edge)
**   "edge_filter":  a filter (cairn_find()'s language) edges must match
**   "memory_limit": bytes the query may hold (default: the query memory
**                   limit of cairn_open()); beyond it the query fails with
**                   CAIRN_INVALID_ARGUMENT naming the operation
**   "limit":        the most rows (default: all)
** and the per-vertex ops "direction": "out" (default), "in" or "any"
** (out-edges then in-edges; a self-loop once). Neighbours are visited in
** index order: by label, then vertex key, then edge key (MongoDB's order
** of the values).
**
**   "traverse"      {"start": id, "order": "bfs" (default) or "dfs"
**                   (pre-order), "min_depth": 1, "max_depth": unbounded,
**                   "uniqueness": "vertex" (default: each vertex once) or
**                   "edge" (each edge once per path; vertices may repeat),
**                   "vertex_filter": a filter (a vertex failing it is
**                   neither output nor expanded; the start is not
**                   filtered), "vertices": true, "edges": false, "paths":
**                   false, "count_only": false}
**                   Rows {"id", "depth", "vertex": the document or null,
**                   "edge": the edge that reached it (with "edges"),
**                   "path": {"vertices": [ids], "edges": [edge ids]} (with
**                   "paths")}, in visiting order; with "count_only" one
**                   row {"count": n}.
**   "shortest_path" {"start", "target", "weighted": false, "weight": field
**                   (implies weighted; default the graph's), "k": 1}
**                   Unweighted: bidirectional breadth-first search.
**                   Weighted: Dijkstra; a missing weight counts 1, a
**                   negative, infinite or non-numeric one reached is
**                   CAIRN_INVALID_ARGUMENT. k > 1: Yen's k shortest
**                   loopless paths, by weight, then length. Rows
**                   {"vertices", "edges", "length": edges, "weight" (when
**                   weighted)}, none when the target is unreachable.
**   "all_paths"     {"start", "target", "max_length": n (required)}: every
**                   simple path of at most n edges, depth-first; rows as
**                   "shortest_path".
**   "components"    {"mode": "weak" (default) or "strong"}: rows
**                   {"component": number, "size", "vertices": [ids]}, ids
**                   in key order, components by their first vertex.
**   "has_cycle"     {}: one row {"has_cycle": bool, "cycle": [ids] or
**                   null}: a depth-first search from each vertex with
**                   out-edges in key order, stopping at the first directed
**                   cycle (it starts at the vertex the search met twice).
**   "cycles"        {"max_length": n (required)}: every simple directed
**                   cycle of at most n edges, once, from its smallest
**                   vertex: rows {"vertices": [ids], "length"}.
**   "degree"        {"vertex": id}: one row {"id", "out", "in", "degree"}.
**   "neighbors"     {"vertex": id, "vertices": true}: the distinct
**                   neighbours, rows {"id", "vertex"}.
** "components" and "cycles" read the whole graph (the vertex collections'
** documents and every edge) into memory under the budget; the others read
** only what they reach. Every query checks
** cairn_interrupt() as it goes, and every walk ends on cyclic graphs: by
** uniqueness, path length limits and the memory budget.
*/

/*
** Declares graph `name` over an edge collection and creates the edge
** collection's adjacency indexes (building them over its documents, as
** cairn_index_create() does; the edge collection is created if missing).
**
** Method of cairn_db.
**
** Parameters:
**   db                in: the database.
**   name              in: the graph name, 1 to 255 bytes of UTF-8
**                     without NUL.
**   declaration_json  in: {"edges": "follows", "vertices": ["people"] (or
**                     one name; default none), "weight": "weight"}.
**   errmsg            out, optional: see CONVENTIONS.
**
** Declaring the same graph again is CAIRN_OK; another declaration under an
** existing name is CAIRN_INVALID_ARGUMENT.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, a bad name or
** declaration, an index named "_graph_out" or "_graph_in" with other keys);
** CAIRN_CONSTRAINT; CAIRN_CLOSED; CAIRN_INTERRUPTED; CAIRN_IO_ERROR;
** CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_graph_create(cairn_db *db, const char *name, size_t name_len,
                       const char *declaration_json, size_t declaration_len,
                       char **errmsg);

/*
** Removes graph `name`'s declaration, and the adjacency indexes when no
** other graph uses its edge collection. Vertex and edge documents stay.
**
** Method of cairn_db.
**
** Parameters:
**   db       in: the database.
**   name     in: the graph name.
**   errmsg   out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_NOT_FOUND when there is no such graph;
** CAIRN_INVALID_ARGUMENT (NULL db, a bad name); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_graph_drop(cairn_db *db, const char *name, size_t name_len,
                     char **errmsg);

/*
** Lists the declared graphs as a JSON array, by name: [{"name", "edges",
** "vertices", "weight"}].
**
** Method of cairn_db.
**
** Parameters:
**   db         in: the database, or a transaction.
**   json       out: the NUL-terminated array, malloc()ed and freed with
**              cairn_free(). Must not be NULL; set to NULL first, so it is
**              NULL on failure.
**   json_len   out, optional: the length of *json.
**   errmsg     out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or json); CAIRN_CLOSED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_graph_list(cairn_db *db, char **json, size_t *json_len,
                     char **errmsg);

/*
** Runs a graph query (see above) at one snapshot and opens a cursor over
** its rows. A "traverse" walks as the cursor moves, holding its queue or
** stack and the vertices seen but never its output, so its errors (the
** memory budget, CAIRN_INTERRUPTED) may come from cairn_cursor_next();
** the other operations run to completion inside this call, under their
** memory budget, and the cursor then hands out the rows.
**
** Constructor of cairn_cursor; pair with cairn_cursor_close().
**
** Parameters:
**   db           in: the database, or a transaction (the query reads its
**                snapshot and its own writes).
**   graph        in: the graph name.
**   query_json   in: {"op": ..., options}.
**   out_cursor   out: the new handle; set to NULL on failure. Must not be
**                NULL.
**   errmsg       out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or out_cursor, a bad
** name, op or option, a required option missing, min_depth over
** max_depth, a negative or non-numeric weight in a weighted query, the
** memory budget exceeded); CAIRN_NOT_FOUND (no such graph, or its
** adjacency indexes were dropped); CAIRN_CLOSED; CAIRN_INTERRUPTED;
** CAIRN_IO_ERROR; CAIRN_CORRUPTION.
** Scope: database or transaction.
*/
int cairn_graph_query(cairn_db *db, const char *graph, size_t graph_len,
                      const char *query_json, size_t query_len,
                      cairn_cursor **out_cursor, char **errmsg);

/*
** Deletes a vertex and every edge from or to it, in one transaction: the
** document whose primary key is `id_json` in each vertex collection, and
** the edges whose "_from" or "_to" equals it.
**
** Method of cairn_db.
**
** Parameters:
**   db                 in: the database, or a transaction.
**   graph              in: the graph name.
**   id_json            in: the vertex's primary key as JSON ("\"ann\"", 7).
**   vertices_deleted   out, optional: the vertex documents deleted.
**   edges_deleted      out, optional: the edges deleted.
**   errmsg             out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK (also when nothing matched); CAIRN_NOT_FOUND (no such
** graph); CAIRN_INVALID_ARGUMENT (NULL db, a bad name or id, a read-only
** transaction); CAIRN_CLOSED; CAIRN_CONFLICT (see "Transactions");
** CAIRN_IO_ERROR; CAIRN_CORRUPTION; CAIRN_NO_SPACE; CAIRN_NO_MEMORY.
** Scope: database or transaction.
*/
int cairn_graph_delete_vertex(cairn_db *db, const char *graph, size_t graph_len,
                              const char *id_json, size_t id_len,
                              size_t *vertices_deleted, size_t *edges_deleted,
                              char **errmsg);

/* ------------------------------------------------------------------------ */
/* Operations: checkpoints, verification, secondaries, backups               */
/* ------------------------------------------------------------------------ */

/*
** Writes a consistent copy of the open database into directory `dir` while
** writes go on, as RocksDB's Checkpoint does: the live tables are
** hard-linked (copied when `dir` is on another file system), and the
** manifest and the live part of the write-ahead log are copied up to one
** sequence. The copy opens with cairn_open() as an ordinary database and
** holds exactly the writes acknowledged before that sequence.
**
** Writers are held only while three numbers are read under the log lock
** (no flush, fsync or copy happens there); flushes and compactions wait
** while the live log segments are opened. The copy is built in a hidden
** sibling directory (".<name>.cairn-checkpoint-tmp"), synced, and renamed
** onto `dir` once its manifest is written, so a crash never leaves a copy
** that looks complete.
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database (opened for writing).
**   dir         in: NUL-terminated path of the copy: must not exist, or be
**               an empty directory; its parent must exist. Must not be NULL.
**   report      out, optional: a NUL-terminated JSON object freed with
**               cairn_free(): "directory", "sequence" (the copy holds every
**               write up to it), "linked_tables", "copied_tables",
**               "table_bytes", "log_segments", "log_bytes", "micros".
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
** On failure *report is NULL and nothing is left at `dir`.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or dir, not a database
** handle, `dir` not empty or not a directory, a "read_only" or "secondary"
** handle); CAIRN_NOT_FOUND (the parent of `dir` does not exist);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only (a transaction handle is CAIRN_INVALID_ARGUMENT).
*/
int cairn_checkpoint(cairn_db *db, const char *dir, char **report,
                     size_t *report_len, char **errmsg);

/*
** Verifies the database in directory `path`: reads the manifest, every
** block of every table it lists (checksum, decompression, entry count
** against the footer) and every record of the live log segments, and
** reports damage by file. Changes nothing and takes no lock; for a
** database a process is writing, use cairn_verify_live() on its handle.
**
** Not a method of a handle.
**
** Parameters:
**   path          in: NUL-terminated directory path. Must not be NULL.
**   options_json  in: reserved: NULL with length 0, or "{}".
**   report        out: a NUL-terminated JSON object freed with
**                 cairn_free(): "ok" (bool: every file verified),
**                 "directory", "files_checked", "files_damaged",
**                 "bytes_checked", "files" (a list of {"file", "kind"
**                 ("manifest", "table", "log"), "bytes", "blocks" or
**                 "records", "ok", "error" when damaged, "note" (a torn
**                 last log record, which a crash leaves)}) and "notes".
**                 Must not be NULL.
**   report_len    out, optional: the length of *report.
**   errmsg        out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK when the report was made, damage or not (read "ok");
** CAIRN_INVALID_ARGUMENT (NULL path or report, options not empty);
** CAIRN_NOT_FOUND (no database there); CAIRN_IO_ERROR; CAIRN_NO_MEMORY.
*/
int cairn_verify(const char *path, const char *options_json, size_t options_len,
                 char **report, size_t *report_len, char **errmsg);

/*
** Verifies an open database's live files as cairn_verify() verifies a
** directory: the tables and log segments are pinned at one sequence (as
** cairn_checkpoint() pins them) and read while writes go on. The report
** has cairn_verify()'s fields and "sequence".
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database (opened for writing).
**   report      out: the JSON report, freed with cairn_free(). Must not be
**               NULL.
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK when the report was made (read "ok");
** CAIRN_INVALID_ARGUMENT (NULL db or report, not a database handle, a
** "read_only" or "secondary" handle); CAIRN_CLOSED; CAIRN_IO_ERROR.
** Scope: database only.
*/
int cairn_verify_live(cairn_db *db, char **report, size_t *report_len, char **errmsg);

/*
** Brings a handle opened with "secondary" up to date with the writer that
** owns its directory (RocksDB's TryCatchUpWithPrimary): reads the writer's
** current manifest and replays its log. Reads and iterators already open
** keep their snapshot; later ones see the new state. Costs a replay of the
** writer's unflushed log (a few memtables at most), not of the database.
**
** Method of cairn_db.
**
** Parameters:
**   db        in: the database, opened with "secondary".
**   sequence  out, optional: the last sequence now visible.
**   errmsg    out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db, not a database
** handle, or not opened with "secondary"); CAIRN_CLOSED; CAIRN_CORRUPTION
** (the writer's files stayed inconsistent over 20 attempts); CAIRN_IO_ERROR.
** Scope: database only.
*/
int cairn_catch_up(cairn_db *db, uint64_t *sequence, char **errmsg);

/*
** Backs up the open database into the backup directory `backup_dir`
** (created when absent), as RocksDB's BackupEngine does: the backup is a
** consistent copy at one sequence, taken while writes go on, and tables
** already stored by an earlier backup are not copied again (shared/ holds
** each table once). Layout and crash safety: docs/format/backup.md; a
** backup exists only once its meta file is written, so a crash never
** leaves one listed that is incomplete.
**
** Method of cairn_db.
**
** Parameters:
**   db          in: the database (opened for writing).
**   backup_dir  in: NUL-terminated path of the backup directory. Must not
**               be NULL.
**   report      out, optional: the new backup as a JSON object freed with
**               cairn_free(): "id", "timestamp_ms", "sequence", "size",
**               "files", "database_id", "copied_bytes", "reused_bytes".
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL db or backup_dir, not a
** database handle, a "read_only" or "secondary" handle, backup_dir is a
** file); CAIRN_BUSY (another process holds the backup directory's lock);
** CAIRN_CLOSED; CAIRN_IO_ERROR; CAIRN_NO_SPACE.
** Scope: database only.
*/
int cairn_backup_create(cairn_db *db, const char *backup_dir, char **report,
                        size_t *report_len, char **errmsg);

/*
** Lists the complete backups of a backup directory, oldest first, as a
** JSON array of the objects cairn_backup_create() reports.
**
** Not a method of a handle.
**
** Parameters:
**   backup_dir  in: NUL-terminated path. Must not be NULL.
**   list        out: the array, freed with cairn_free(). Must not be NULL.
**   list_len    out, optional: the length of *list.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL argument); CAIRN_NOT_FOUND
** (no such directory); CAIRN_CORRUPTION (a damaged meta file, named);
** CAIRN_IO_ERROR.
*/
int cairn_backup_list(const char *backup_dir, char **list, size_t *list_len,
                      char **errmsg);

/*
** Verifies backup `backup_id`: reads every one of its files and checks the
** size and CRC-32C recorded when it was taken.
**
** Not a method of a handle.
**
** Parameters:
**   backup_dir  in: NUL-terminated path. Must not be NULL.
**   backup_id   in: the backup's id.
**   report      out: a JSON object freed with cairn_free(), with the fields
**               of cairn_verify()'s report ("kind" is "shared" or
**               "private") and "sequence". Must not be NULL.
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK when the report was made (read "ok");
** CAIRN_INVALID_ARGUMENT; CAIRN_NOT_FOUND (no such directory or backup);
** CAIRN_BUSY; CAIRN_CORRUPTION (a damaged meta file); CAIRN_IO_ERROR.
*/
int cairn_backup_verify(const char *backup_dir, uint64_t backup_id, char **report,
                        size_t *report_len, char **errmsg);

/*
** Restores backup `backup_id` into directory `target_dir`, checking every
** file's checksum as it is copied. The result opens with cairn_open() and
** holds exactly the writes up to the backup's sequence. Built in a hidden
** sibling directory and renamed into place: on failure nothing is left at
** `target_dir`.
**
** Not a method of a handle.
**
** Parameters:
**   backup_dir  in: NUL-terminated path. Must not be NULL.
**   backup_id   in: the backup's id.
**   target_dir  in: NUL-terminated path: must not exist, or be an empty
**               directory. Must not be NULL.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT (NULL argument, target not
** empty); CAIRN_NOT_FOUND (no such backup, or the target's parent is
** missing); CAIRN_BUSY; CAIRN_CORRUPTION (a file of the backup fails its
** checksum; nothing was restored); CAIRN_IO_ERROR; CAIRN_NO_SPACE.
*/
int cairn_backup_restore(const char *backup_dir, uint64_t backup_id,
                         const char *target_dir, char **errmsg);

/*
** Keeps the newest `keep` backups and deletes the others, then removes
** every file no remaining backup uses, including what a crash during a
** backup left (keep = UINT32_MAX deletes no backup: garbage collection
** only). A backup is gone once its meta file is: a crash during a purge
** never leaves a listed backup incomplete.
**
** Not a method of a handle.
**
** Parameters:
**   backup_dir  in: NUL-terminated path. Must not be NULL.
**   keep        in: how many of the newest backups to keep.
**   report      out, optional: a JSON object freed with cairn_free():
**               "deleted" (the ids), "removed_files", "freed_bytes".
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT; CAIRN_NOT_FOUND; CAIRN_BUSY;
** CAIRN_CORRUPTION (a damaged meta file); CAIRN_IO_ERROR.
*/
int cairn_backup_purge(const char *backup_dir, uint32_t keep, char **report,
                       size_t *report_len, char **errmsg);

/*
** Deletes backup `backup_id` and every file only it used; the report is
** cairn_backup_purge()'s.
**
** Not a method of a handle.
**
** Parameters:
**   backup_dir  in: NUL-terminated path. Must not be NULL.
**   backup_id   in: the backup's id.
**   report      out, optional: see cairn_backup_purge().
**   report_len  out, optional: the length of *report.
**   errmsg      out, optional: see CONVENTIONS.
**
** Returns CAIRN_OK; CAIRN_INVALID_ARGUMENT; CAIRN_NOT_FOUND (no such
** directory or backup); CAIRN_BUSY; CAIRN_CORRUPTION; CAIRN_IO_ERROR.
*/
int cairn_backup_delete(const char *backup_dir, uint64_t backup_id, char **report,
                        size_t *report_len, char **errmsg);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_H */
