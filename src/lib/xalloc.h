/* xalloc: the one out-of-memory policy. Every allocation in tte goes through these (or checks its
 * result itself): on failure they print "PROG: out of memory" (cli.h's tte_die) and exit 1, so no
 * caller handles a NULL that the program could not recover from anyway, and none forgets to.
 *
 * Sizes of 0 are allowed and give a valid pointer (never NULL), so callers need no special case. */
#ifndef TTE_XALLOC_H
#define TTE_XALLOC_H

#include <stddef.h>

void *tte_xmalloc(size_t n);
void *tte_xcalloc(size_t count, size_t size);
void *tte_xrealloc(void *p, size_t n);
char *tte_xstrdup(const char *s);
/* COUNT * SIZE, exiting with the out-of-memory message when the product overflows. */
size_t tte_xmul(size_t count, size_t size);

/* Grows the array *P of elements of ELEM bytes, with capacity *CAP elements, to hold at least NEED:
 * the capacity at least doubles, so appending one element at a time costs amortised O(1). */
void tte_grow(void **p, size_t *cap, size_t need, size_t elem);

/* tte_grow for an array ARR and an int or size_t capacity CAP, both lvalues. */
#define TTE_GROW(arr, cap, need)                                                                             \
    do {                                                                                                     \
        if ((size_t)(need) > (size_t)(cap)) {                                                                \
            size_t cap_ = (size_t)(cap);                                                                     \
            void *arr_ = (arr);                                                                              \
            tte_grow(&arr_, &cap_, (size_t)(need), sizeof *(arr));                                           \
            (arr) = arr_;                                                                                    \
            (cap) = cap_;                                                                                    \
        }                                                                                                    \
    } while (0)

#endif
