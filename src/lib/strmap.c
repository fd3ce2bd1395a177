/* strmap: see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = XXH3_64bits(s, len);
    return h ? h : 1; /* 0 marks an empty slot */
}

static size_t pow2_at_least(size_t n) {
    size_t cap = 16;
    while (cap < n) cap *= 2;
    return cap;
}

static void strmap_alloc(tte_strmap *m, size_t cap) {
    m->hash = tte_xcalloc(cap, sizeof *m->hash);
    m->off = tte_xmalloc(tte_xmul(cap, sizeof *m->off));
    m->len = tte_xmalloc(tte_xmul(cap, sizeof *m->len));
    m->val = tte_xmalloc(tte_xmul(cap, sizeof *m->val));
    m->cap = cap;
}

void tte_strmap_init(tte_strmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    strmap_alloc(m, pow2_at_least(tte_xmul(expected, 2)));
}

void tte_strmap_free(tte_strmap *m) {
    free(m->hash);
    free(m->off);
    free(m->len);
    free(m->val);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

/* The slot holding KEY, or the empty slot where it would go. */
static size_t strmap_slot(const tte_strmap *m, uint64_t h, const char *key, size_t len) {
    size_t mask = m->cap - 1, i = h & mask;
    while (m->hash[i]) {
        if (m->hash[i] == h && m->len[i] == len && memcmp(m->arena + m->off[i], key, len) == 0) return i;
        i = (i + 1) & mask;
    }
    return i;
}

static void strmap_grow(tte_strmap *m) {
    tte_strmap old = *m;
    strmap_alloc(m, old.cap ? tte_xmul(old.cap, 2) : 16);
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.hash[i]) continue;
        size_t j = old.hash[i] & (m->cap - 1);
        while (m->hash[j]) j = (j + 1) & (m->cap - 1);
        m->hash[j] = old.hash[i], m->off[j] = old.off[i], m->len[j] = old.len[i], m->val[j] = old.val[i];
    }
    m->n = old.n;
    free(old.hash), free(old.off), free(old.len), free(old.val);
}

void tte_strmap_put(tte_strmap *m, const char *key, size_t len, int32_t val) {
    if ((m->n + 1) * 2 > m->cap) strmap_grow(m);
    uint64_t h = hash_bytes(key, len);
    size_t i = strmap_slot(m, h, key, len);
    if (m->hash[i]) {
        m->val[i] = val;
        return;
    }
    if (m->arena_len + len > UINT32_MAX) tte_die("out of memory"); /* offsets are 32-bit */
    TTE_GROW(m->arena, m->arena_cap, m->arena_len + len);
    if (len) memcpy(m->arena + m->arena_len, key, len);
    m->hash[i] = h, m->off[i] = (uint32_t)m->arena_len, m->len[i] = (uint32_t)len, m->val[i] = val;
    m->arena_len += len;
    m->n++;
}

int32_t tte_strmap_get(const tte_strmap *m, const char *key, size_t len) {
    if (m->cap == 0) return -1;
    size_t i = strmap_slot(m, hash_bytes(key, len), key, len);
    return m->hash[i] ? m->val[i] : -1;
}
