/* threadpool: start / finish handshakes that spin briefly, then sleep.
 *
 * A decode step runs a few hundred loops back to back, a few hundred microseconds apart at most.
 * Waking a sleeping thread costs tens of microseconds (more in a virtual machine, where an idle
 * vCPU has halted), twice per loop: the caller wakes the workers, the last worker wakes the caller.
 * So each side first watches an atomic counter for SPIN_NS, long enough to bridge the gaps inside
 * a step, and only then sleeps on a condition variable, so that between steps, or on a machine busy
 * with other jobs, no thread holds a core it does not use for longer than that. */
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { SPIN_NS = 50 * 1000 };

struct tte_pool {
    int size;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    atomic_ulong generation;  /* bumped for each loop; workers run when it changes */
    atomic_int pending;       /* workers still running the current loop */
    atomic_int sleepers;      /* workers asleep on start (changed under mu) */
    atomic_int caller_asleep; /* the caller is asleep on done (changed under mu) */
    atomic_int quit;
    /* The current loop, written before generation is bumped. */
    int n;
    void (*fn)(void *arg, int begin, int end, int worker);
    void *arg;
};

typedef struct {
    tte_pool *p;
    int worker;
} worker_arg;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cpu_relax(void) {
#if defined(__x86_64__)
    _mm_pause();
#endif
}

/* Spins until DONE(p, v) holds or SPIN_NS pass; returns whether it holds. */
static int spin_until(tte_pool *p, unsigned long v, int (*done)(tte_pool *p, unsigned long v)) {
    long long until = now_ns() + SPIN_NS;
    for (int k = 0;; k++) {
        if (done(p, v)) return 1;
        if ((k & 63) == 63 && now_ns() > until) return 0;
        cpu_relax();
    }
}

static int new_loop(tte_pool *p, unsigned long seen) {
    return atomic_load(&p->generation) != seen || atomic_load(&p->quit);
}

static int all_done(tte_pool *p, unsigned long unused) {
    (void)unused;
    return atomic_load(&p->pending) == 0;
}

static void run_range(tte_pool *p, int w) {
    int begin = (int)((long long)p->n * w / p->size), end = (int)((long long)p->n * (w + 1) / p->size);
    if (begin < end) p->fn(p->arg, begin, end, w);
}

static void *worker_main(void *v) {
    worker_arg a = *(worker_arg *)v;
    free(v);
    tte_pool *p = a.p;
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(p, seen, new_loop)) {
            /* sleepers is raised before generation is read again, and the caller bumps generation
             * before it reads sleepers (both sequentially consistent): one of the two sees the other,
             * so a loop is never missed. */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (!new_loop(p, seen)) pthread_cond_wait(&p->start, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) break;
        seen = atomic_load(&p->generation);
        run_range(p, a.worker);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_asleep)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

tte_pool *tte_pool_create(int n) {
    tte_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->size = n > 0 ? n : 1;
    p->threads = calloc((size_t)p->size, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    if (!p->threads) {
        tte_pool_free(p);
        return NULL;
    }
    for (int w = 1; w < p->size; w++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) {
            p->size = w; /* the ones started so far are stopped by free */
            tte_pool_free(p);
            return NULL;
        }
        *a = (worker_arg){p, w};
        if (pthread_create(&p->threads[w], NULL, worker_main, a) != 0) {
            free(a);
            p->size = w;
            tte_pool_free(p);
            return NULL;
        }
    }
    return p;
}

void tte_pool_free(tte_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int w = 1; p->threads && w < p->size; w++) pthread_join(p->threads[w], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int tte_pool_size(const tte_pool *p) { return p->size; }

void tte_pool_for(tte_pool *p, int n, void (*fn)(void *arg, int begin, int end, int worker), void *arg) {
    if (p->size == 1 || n <= 1) {
        if (n > 0) fn(arg, 0, n, 0);
        return;
    }
    p->n = n;
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->size - 1);
    atomic_fetch_add(&p->generation, 1); /* publishes the loop: workers read it after seeing this */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->start);
        pthread_mutex_unlock(&p->mu);
    }
    run_range(p, 0);
    if (!spin_until(p, 0, all_done)) {
        /* The same pairing as the workers': caller_asleep is raised before pending is read again. */
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_asleep, 1);
        while (!all_done(p, 0)) pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->caller_asleep, 0);
        pthread_mutex_unlock(&p->mu);
    }
}
