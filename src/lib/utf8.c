/* utf8: see utf8.h. */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Length of the valid UTF-8 sequence at S[0..LEN), or 0 when the bytes there are not one. When 0 is
 * returned, *BAD gets the length of the maximal subpart to replace (at least 1): the longest prefix
 * that could still begin a valid sequence (Unicode table 3-7). */
static size_t sequence_length(const unsigned char *s, size_t len, size_t *bad) {
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0; /* no overlong forms */
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90; /* no overlong forms */
        if (c == 0xF4) hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < len; i++) {
        unsigned char b = s[i];
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (b < min || b > max) break;
    }
    if (i == need) return need;
    *bad = i;
    return 0;
}

size_t tte_utf8_valid_prefix(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = sequence_length(u + i, len - i, &bad);
        if (n == 0) break;
        i += n;
    }
    return i;
}

char *tte_utf8_lossy(const char *s, size_t len, size_t *outlen) {
    /* Each invalid byte becomes at most 3 bytes. */
    char *out = tte_xmalloc(tte_xmul(len, 3) + 1);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0, bad;
    while (i < len) {
        size_t valid = tte_utf8_valid_prefix(s + i, len - i);
        memcpy(out + o, s + i, valid);
        o += valid;
        i += valid;
        if (i == len) break;
        sequence_length(u + i, len - i, &bad);
        memcpy(out + o, "\xEF\xBF\xBD", 3);
        o += 3;
        i += bad;
    }
    out[o] = 0;
    *outlen = o;
    return out;
}
