/* cache: a content-addressed store for results that are expensive to compute.
 *
 * An entry is keyed by the xxh3-128 hash of its canonical inputs and holds a byte string, stored
 * zstd-compressed in DIR/xx/<32 hex digits>.zst. Writers write a temporary file in the same
 * directory and rename it over the final name, so a reader never sees a partial entry and several
 * processes may fill the same cache at once (the last rename wins; both wrote the same bytes).
 * Every entry carries a hash of its content: a damaged entry is reported as absent and removed,
 * so the caller recomputes it instead of trusting it. */
#ifndef TTE_CACHE_H
#define TTE_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t hi, lo;
} tte_key;

typedef struct tte_cache tte_cache;

/* Opens the cache in DIR, or when DIR is NULL in $TTE_CACHE, else $XDG_CACHE_HOME/tte, else
 * ~/.cache/tte; creates it if needed (a file in its place is an error). Returns NULL with a message
 * in ERR on failure; a tool then warns and goes on without the cache (every function here takes a
 * NULL cache). */
tte_cache *tte_cache_open(const char *dir, char *err, size_t errlen);
void tte_cache_close(tte_cache *c);
const char *tte_cache_dir(const tte_cache *c);

tte_key tte_key_of(const void *data, size_t len);
/* The key of a JSON value, hashed in canonical form (sorted keys, compact), so two tools that build
 * the same inputs in a different order agree on the key. */
tte_key tte_key_of_json(const json_t *v);
/* "xxh3:" + 32 hex digits; OUT must hold 38 bytes. */
void tte_key_format(tte_key k, char out[38]);

/* Returns 1 and a malloc'd copy of the entry in *data (with a NUL after the last byte, so text can
 * be used directly) and its length in *len; 0 when absent or damaged. A file is read whole only
 * after its header (magic, key, the content size its frame claims, at most 1 GiB) and its size
 * agree, so a damaged or foreign file in the cache costs no more memory than a real entry.
 * C may be NULL (no cache): always absent. */
int tte_cache_get(tte_cache *c, tte_key k, char **data, size_t *len);
/* Stores an entry. Returns 0, or -1 with a message in ERR. A write that fails in a way that may
 * pass (a folder removed meanwhile, a temporary name taken by a stale file) is tried again, twice,
 * under new temporary names; if it still fails, this entry is not stored (-1 with the message) and
 * later puts go on storing. The first write that fails for good (a full disk or quota, a folder
 * that cannot be written) returns -1 with its message and "going on without storing results in
 * the cache"; after it the cache stores nothing and every later put returns 0, so a caller that
 * prints the message prints one line per run, not one per entry. Reading goes on.
 * An entry over 1 GiB is refused (-1) every time. C may be NULL: nothing stored, 0.
 * Temporary names hold the host name, pid and a counter, so processes on several machines may
 * fill one cache folder on NFS: no lock is taken, and the last rename of an entry wins (all
 * writers of a key write the same result). A process killed while writing leaves at most a
 * DIR/xx/<hex>.zst.tmp.HOST.PID.N file, which no reader opens and which may be deleted. */
int tte_cache_put(tte_cache *c, tte_key k, const void *data, size_t len, char *err, size_t errlen);

/* JSON convenience: the entry as a JSON value (new reference), or NULL when absent or damaged. */
json_t *tte_cache_get_json(tte_cache *c, tte_key k);
int tte_cache_put_json(tte_cache *c, tte_key k, const json_t *v, char *err, size_t errlen);

#endif
