/* threadpool: a fixed set of worker threads that split loops into contiguous static ranges.
 *
 * The CPU engine runs a few hundred short parallel loops per token. Between loops, workers (and the
 * caller waiting for them) watch for the next event for at most 50 microseconds, then sleep on a
 * condition variable: a brief spin bridges the gaps inside a step without the cost of a wake-up,
 * and a bounded one keeps an idle thread off a core that another process, or the thread it waits
 * for, needs (measured here with OpenMP's unbounded default spin-wait: 2-5 s per decode step
 * instead of 0.35 s on a machine shared with other jobs). Static ranges mean a given loop index
 * always runs whole on one thread, which keeps results independent of timing.
 *
 * One thread at a time calls tte_pool_for on a pool; FN runs on the pool's threads. */
#ifndef TTE_THREADPOOL_H
#define TTE_THREADPOOL_H

typedef struct tte_pool tte_pool;

/* A pool of N threads in all (the caller counts as one; N - 1 are started). NULL on failure. */
tte_pool *tte_pool_create(int n);
void tte_pool_free(tte_pool *p);
int tte_pool_size(const tte_pool *p);

/* Calls FN(ARG, begin, end, worker) on disjoint ranges covering [0, N): worker w of the pool's size
 * gets [N*w/size, N*(w+1)/size), except that a loop of one index runs whole as worker 0. Returns
 * when all are done, with every write FN made visible to the caller. The caller runs worker 0's
 * range. */
void tte_pool_for(tte_pool *p, int n, void (*fn)(void *arg, int begin, int end, int worker), void *arg);

#endif
