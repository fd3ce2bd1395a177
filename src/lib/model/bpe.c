/* bpe: the hash tables, the merge loop and the word cache of the tokenizer (see tokenizer_impl.h).
 *
 * A word is merged as tokenizers' BPE::merge_word does: start from one symbol per byte, and
 * repeatedly merge the adjacent pair with the lowest merge rank, the leftmost first among equal
 * ranks. A binary heap of candidate pairs keyed by (rank, position) gives each merge in O(log n);
 * a candidate whose symbols changed since it was pushed is recognised when popped and dropped. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tokenizer_impl.h"
#include "xalloc.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- growable id arrays ---- */

void tte_tokens_push(tte_tokens *out, int32_t id) {
    TTE_GROW(out->ids, out->cap, out->n + 1);
    out->ids[out->n++] = id;
}

void tte_tokens_free(tte_tokens *t) {
    free(t->ids);
    t->ids = NULL;
    t->n = t->cap = 0;
}

/* ---- merges: (left, right) -> (rank, merged) ---- */

static size_t pow2_at_least(size_t n) {
    size_t cap = 16;
    while (cap < n) cap *= 2;
    return cap;
}

static uint64_t pack_pair(int32_t left, int32_t right) {
    return ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
}

static size_t pair_hash(uint64_t key) { return (size_t)XXH3_64bits(&key, sizeof key); }

void tte_merges_init(tte_merges *m, size_t expected) {
    m->cap = pow2_at_least(tte_xmul(expected, 2));
    m->n = 0;
    m->pair = tte_xcalloc(m->cap, sizeof *m->pair);
    m->rank = tte_xmalloc(tte_xmul(m->cap, sizeof *m->rank));
    m->merged = tte_xmalloc(tte_xmul(m->cap, sizeof *m->merged));
}

void tte_merges_free(tte_merges *m) {
    free(m->pair);
    free(m->rank);
    free(m->merged);
    memset(m, 0, sizeof *m);
}

static size_t merges_slot(const tte_merges *m, uint64_t key) {
    size_t mask = m->cap - 1, i = pair_hash(key) & mask;
    while (m->pair[i] && m->pair[i] != key) i = (i + 1) & mask;
    return i;
}

void tte_merges_put(tte_merges *m, int32_t left, int32_t right, uint32_t rank, int32_t merged) {
    if ((m->n + 1) * 2 > m->cap) {
        tte_merges old = *m;
        tte_merges_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.pair[i]) continue;
            size_t j = merges_slot(m, old.pair[i]);
            m->pair[j] = old.pair[i], m->rank[j] = old.rank[i], m->merged[j] = old.merged[i];
        }
        m->n = old.n;
        tte_merges_free(&old);
    }
    uint64_t key = pack_pair(left, right);
    size_t i = merges_slot(m, key);
    if (!m->pair[i]) m->n++;
    m->pair[i] = key, m->rank[i] = rank, m->merged[i] = merged;
}

/* The slot of the merge of LEFT and RIGHT, or -1 when they do not merge. */
static long merges_find(const tte_merges *m, int32_t left, int32_t right) {
    size_t i = merges_slot(m, pack_pair(left, right));
    return m->pair[i] ? (long)i : -1;
}

/* ---- the merge loop ---- */

struct bpe_symbol {
    int32_t id;         /* -1 once merged into its left neighbour */
    int32_t prev, next; /* neighbours' positions, -1 at the ends */
};

/* Min-heap of (rank << 32 | position): lowest rank first, then leftmost. */
static void heap_push(uint64_t *heap, size_t *n, uint64_t key) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent] <= key) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = key;
}

static uint64_t heap_pop(uint64_t *heap, size_t *n) {
    uint64_t top = heap[0], last = heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n) break;
        if (child + 1 < *n && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n) heap[i] = last;
    return top;
}

/* Pushes the merge of the symbol at POS with its right neighbour, if those two merge. */
static void push_candidate(const tte_tokenizer *t, const struct bpe_symbol *sym, int32_t pos, uint64_t *heap,
                           size_t *n) {
    if (pos < 0 || sym[pos].next < 0) return;
    long slot = merges_find(&t->merges, sym[pos].id, sym[sym[pos].next].id);
    if (slot >= 0) heap_push(heap, n, (uint64_t)t->merges.rank[slot] << 32 | (uint32_t)pos);
}

static void ensure_scratch(tte_tokenizer *t, size_t len) {
    TTE_GROW(t->symbols, t->symbols_cap, len);
    /* The initial pairs, then at most two new candidates per merge. */
    TTE_GROW(t->heap, t->heap_cap, tte_xmul(len, 3));
}

void tte_bpe_free_scratch(tte_tokenizer *t) {
    free(t->symbols);
    free(t->heap);
    free(t->cache_ids);
    tte_strmap_free(&t->cache);
}

/* Remembers WORD's ids OUT->ids[first..], unless the cache is full. */
static void cache_word(tte_tokenizer *t, const char *word, size_t len, const tte_tokens *out, size_t first) {
    if (t->cache.n >= TTE_WORD_CACHE_MAX || len > UINT32_MAX) return;
    size_t count = out->n - first, at = t->cache_ids_n;
    if (at > INT32_MAX) return;
    TTE_GROW(t->cache_ids, t->cache_ids_cap, at + count + 1);
    t->cache_ids[at] = (int32_t)count;
    if (count) /* a word may encode to no id (out->ids still NULL): memcpy from NULL is undefined */
        memcpy(t->cache_ids + at + 1, out->ids + first, count * sizeof *out->ids);
    t->cache_ids_n += count + 1;
    tte_strmap_put(&t->cache, word, len, (int32_t)at);
}

void tte_bpe_word(tte_tokenizer *t, const char *word, size_t len, tte_tokens *out) {
    if (len == 0) return;
    int32_t cached = tte_strmap_get(&t->cache, word, len);
    if (cached >= 0) {
        for (int32_t i = 0; i < t->cache_ids[cached]; i++) tte_tokens_push(out, t->cache_ids[cached + 1 + i]);
        return;
    }
    if (t->ignore_merges) {
        int32_t id = tte_strmap_get(&t->vocab, word, len);
        if (id >= 0) {
            tte_tokens_push(out, id);
            return;
        }
    }
    if (len > INT32_MAX) tte_die("out of memory"); /* symbol positions are 32-bit */
    ensure_scratch(t, len);

    /* One symbol per byte; a byte the vocabulary lacks becomes unk, or is dropped without one. */
    struct bpe_symbol *sym = t->symbols;
    int32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t id = t->byte_id[(unsigned char)word[i]];
        if (id < 0) id = t->unk_id;
        if (id < 0) continue;
        sym[n] = (struct bpe_symbol){id, n - 1, -1};
        if (n > 0) sym[n - 1].next = n;
        n++;
    }
    size_t nheap = 0;
    for (int32_t i = 0; i + 1 < n; i++) push_candidate(t, sym, i, t->heap, &nheap);

    while (nheap) {
        uint64_t top = heap_pop(t->heap, &nheap);
        int32_t pos = (int32_t)(top & 0xffffffffu);
        uint32_t rank = (uint32_t)(top >> 32);
        struct bpe_symbol *left = &sym[pos];
        if (left->id < 0 || left->next < 0) continue;
        long slot = merges_find(&t->merges, left->id, sym[left->next].id);
        if (slot < 0 || t->merges.rank[slot] != rank) continue; /* a neighbour changed since the push */
        struct bpe_symbol *right = &sym[left->next];
        left->id = t->merges.merged[slot];
        right->id = -1;
        left->next = right->next;
        if (left->next >= 0) sym[left->next].prev = pos;
        push_candidate(t, sym, left->prev, t->heap, &nheap);
        push_candidate(t, sym, pos, t->heap, &nheap);
    }

    size_t first = out->n;
    for (int32_t i = n ? 0 : -1; i >= 0; i = sym[i].next) tte_tokens_push(out, sym[i].id);
    cache_word(t, word, len, out, first);
}
