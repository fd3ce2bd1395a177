/* jsonl: JSON-lines input and output over jansson.
 *
 * A reader walks one input (a file or "-" for stdin) line by line. Every error it reports, and every
 * error a tool reports about a record it read, carries the location "FILE:LINE: ", so a user can find
 * the bad line. Ownership: tte_jsonl_next hands the caller a new reference (json_decref it);
 * tte_jsonl_write borrows the object. Records and fields a tool does not understand are kept as they
 * are, because tools edit the object they read and write it back. */
#ifndef TTE_JSONL_H
#define TTE_JSONL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tte_jsonl tte_jsonl;

/* Opens PATH for reading ("-" or NULL: stdin). Returns NULL with a message in ERR when it cannot be
 * opened. Out of memory, here and in every function below, exits (xalloc.h). */
tte_jsonl *tte_jsonl_open(const char *path, char *err, size_t errlen);
/* A reader over the N files in PATHS one after another, as a tool reads its arguments (N == 0:
 * stdin). Files are opened when reached; one that cannot be opened is an error of tte_jsonl_next.
 * Never NULL. */
tte_jsonl *tte_jsonl_open_list(char *const *paths, int n);
void tte_jsonl_close(tte_jsonl *r);
/* From now on, tte_jsonl_next returns only the records of shard K of N (shard.h: by their "id"
 * field, which each record must then have, as a string) and skips the others; N <= 1: all. */
void tte_jsonl_set_shard(tte_jsonl *r, unsigned long k, unsigned long n);

/* Reads the next record. Returns 1 and sets *out, 0 at end of input, -1 on a bad line (message from
 * tte_jsonl_error). Blank lines are skipped; a trailing CR is removed; lines may be any length.
 * A record must be a JSON object. After -1 the reader can go on with the next line. */
int tte_jsonl_next(tte_jsonl *r, json_t **out);

/* The last error, "FILE:LINE: message". */
const char *tte_jsonl_error(const tte_jsonl *r);
/* Sets the reader's error to "FILE:LINE: " + the formatted message and returns -1, so a tool that
 * rejects a field of the current record reports it with the same location. */
int tte_jsonl_fail(tte_jsonl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *tte_jsonl_name(const tte_jsonl *r);
long tte_jsonl_line(const tte_jsonl *r);

/* Field access with located errors. Each returns 0 on success, or -1 after tte_jsonl_fail naming the
 * field. The returned string is borrowed from OBJ. */
int tte_jsonl_get_string(tte_jsonl *r, json_t *obj, const char *field, const char **out);
int tte_jsonl_get_int(tte_jsonl *r, json_t *obj, const char *field, long long *out);
/* A list of token ids, each in [0, LIMIT): *IDS (malloc'd, the caller frees) and *N set. An empty
 * list is an error unless ALLOW_EMPTY. */
int tte_jsonl_get_ids(tte_jsonl *r, json_t *obj, const char *field, int32_t limit, int allow_empty,
                      int32_t **ids, int *n);

/* Token ids as a JSON array (new reference). */
json_t *tte_json_ids(const int32_t *ids, int n);

/* Writes OBJ as one compact line and flushes nothing: callers flush when a unit of work is done.
 * Returns 0, or -1 on a write error (errno set). */
int tte_jsonl_write(FILE *f, const json_t *obj);

#endif
