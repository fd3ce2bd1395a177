/* shard: splitting one run over N processes (cluster array jobs, make -j) by a stable hash of each
 * record's id, and the option that says which part a process takes.
 *
 * The shard of a record is XXH3_64bits(id) mod N, the id being its "id" field's UTF-8 bytes (the
 * item id, which tte-gen and tte-score copy into every record they write). So the shard of an item
 * depends on its id alone: adding items to a dataset, or reordering it, moves no item to another
 * shard, and every record of an item (all its samples and budgets) is in the same shard as the
 * item. Each tool keeps its input order within a shard, so tte-merge(1), given the unsharded input
 * for the order, puts the N outputs back together into the bytes one process would have written.
 *
 * `--shard K/N` (0 <= K < N) is the option of tte-fetch, tte-gen and tte-score (options.h: the
 * readers it opens skip the records of other shards, jsonl.h). Pure, thread-safe. */
#ifndef TTE_SHARD_H
#define TTE_SHARD_H

#include <stddef.h>

typedef struct {
    unsigned long k, n; /* shard K of N; n <= 1: the whole input */
} tte_shard;

/* The shard, in [0, N), of the record whose id is the LEN bytes at ID. N >= 1. */
unsigned long tte_shard_of(const char *id, size_t len, unsigned long n);

/* A --shard value "K/N": 1 <= N <= 2^31, 0 <= K < N. A bad value is a usage error naming OPTION
 * (cli.h: one line, exit 2). */
tte_shard tte_cli_shard(const char *option, const char *value);

#endif
