/* Fuzz target: tte-gen's --budgets (src/tte-gen/budgets.c), "A..B" or "100,300,1000". Any text must
 * give ascending distinct budgets in 1..2^30, at most MAX_BUDGETS of them, or a one-line message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/tte-gen/budgets.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    int out[MAX_BUDGETS];
    char err[512] = "";
    int n = budgets_parse(s, out, err, sizeof err);
    if (n < 0) {
        if (n != -1 || !err[0]) abort();
    } else {
        if (n < 1 || n > MAX_BUDGETS) abort();
        for (int i = 0; i < n; i++)
            if (out[i] < 1 || out[i] > (1 << 30) || (i > 0 && out[i] <= out[i - 1])) abort();
    }
    free(s);
    return 0;
}
