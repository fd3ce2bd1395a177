/* shard: see shard.h. */
#include "shard.h"

#include <string.h>

#include "cli.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

unsigned long tte_shard_of(const char *id, size_t len, unsigned long n) {
    return n <= 1 ? 0 : (unsigned long)(XXH3_64bits(id, len) % n);
}

tte_shard tte_cli_shard(const char *option, const char *value) {
    const char *slash = strchr(value, '/');
    if (!slash) tte_cli_usage("%s: '%s' is not K/N", option, value);
    char k[32];
    size_t klen = (size_t)(slash - value);
    if (klen >= sizeof k) tte_cli_usage("%s: '%s' is not K/N", option, value);
    memcpy(k, value, klen);
    k[klen] = 0;
    tte_shard s;
    s.n = (unsigned long)tte_cli_int(option, slash + 1, 1, 1L << 31);
    s.k = (unsigned long)tte_cli_int(option, k, 0, (long long)s.n - 1);
    return s;
}
