/* budgets: see budgets.h. */
#include "budgets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char *s, const char **end, long lo, long hi, long *out) {
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (errno || e == s || v < lo || v > hi) return -1;
    *out = v;
    *end = e;
    return 0;
}

int budgets_parse(const char *s, int out[MAX_BUDGETS], char *err, int errlen) {
    const char *dots = strstr(s, ".."), *end;
    long a, b;
    int n = 0;
    if (dots) {
        if (parse_int(s, &end, 0, 30, &a) || end != dots || parse_int(dots + 2, &end, a, 30, &b) || *end) {
            snprintf(err, (size_t)errlen, "'%s' is not A..B with 0 <= A <= B <= 30 (budgets 2^A .. 2^B)", s);
            return -1;
        }
        for (long x = a; x <= b; x++) out[n++] = 1 << x;
        return n;
    }
    for (const char *p = s;; p = end + 1) {
        long v;
        if (n == MAX_BUDGETS || parse_int(p, &end, 1, 1 << 30, &v) || (*end && *end != ',')) {
            snprintf(err, (size_t)errlen, "'%s' is not A..B or a list of up to %d budgets like 100,300,1000",
                     s, MAX_BUDGETS);
            return -1;
        }
        if (n > 0 && v <= out[n - 1]) {
            snprintf(err, (size_t)errlen, "'%s': budgets must be given in increasing order", s);
            return -1;
        }
        out[n++] = (int)v;
        if (!*end) return n;
    }
}
