/* strmap: the one string -> int map of libtte: byte strings (any bytes, with a length) to int32
 * values, open addressing with linear probing on xxh3 hashes, load under 1/2. Keys are copied into
 * the map's own arena. Used for the tokenizer's vocabulary and word cache, and tte-fit's groups and
 * items, so that a lookup costs the same however many keys there are.
 *
 * Not thread-safe for writes; concurrent tte_strmap_get calls on a map no one writes are safe.
 * Out of memory exits (xalloc.h). */
#ifndef TTE_STRMAP_H
#define TTE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *hash; /* [cap], 0 = empty slot */
    uint32_t *off;  /* [cap] key offset in arena */
    uint32_t *len;  /* [cap] key length */
    int32_t *val;   /* [cap] */
    size_t cap, n;  /* cap is a power of two */
    char *arena;
    size_t arena_len, arena_cap;
} tte_strmap;

/* An empty map sized for EXPECTED keys (it grows past them); out of memory exits. A
 * zero-initialised tte_strmap is also empty and valid. */
void tte_strmap_init(tte_strmap *m, size_t expected);
void tte_strmap_free(tte_strmap *m);
/* Inserts or replaces KEY's value. Out of memory exits; so does a key arena past 4 GiB, which the
 * 32-bit offsets cannot address. */
void tte_strmap_put(tte_strmap *m, const char *key, size_t len, int32_t val);
/* KEY's value, or -1 when absent. */
int32_t tte_strmap_get(const tte_strmap *m, const char *key, size_t len);

#endif
