/* xalloc: see xalloc.h. */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void *checked(void *p) {
    if (!p) tte_die("out of memory");
    return p;
}

size_t tte_xmul(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) tte_die("out of memory");
    return count * size;
}

void *tte_xmalloc(size_t n) { return checked(malloc(n ? n : 1)); }
void *tte_xcalloc(size_t count, size_t size) { return checked(calloc(count ? count : 1, size ? size : 1)); }
void *tte_xrealloc(void *p, size_t n) { return checked(realloc(p, n ? n : 1)); }
char *tte_xstrdup(const char *s) { return checked(strdup(s)); }

void tte_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 8;
    while (n < need) n = tte_xmul(n, 2);
    *p = tte_xrealloc(*p, tte_xmul(n, elem));
    *cap = n;
}
