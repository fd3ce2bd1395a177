/* threadpool: every index of every loop runs exactly once, on the worker its static range names,
 * whether the workers are spinning (loops back to back) or asleep (loops far apart), and the
 * caller sees all of a loop's writes when tte_pool_for returns. */
#include "engine/threadpool.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

enum { N_MAX = 1000 };

typedef struct {
    int n, size;
    int hits[N_MAX]; /* plain writes: tte_pool_for must publish them to the caller */
    atomic_int bad_worker;
} loop_state;

static void count(void *arg, int begin, int end, int worker) {
    loop_state *s = arg;
    int whole = s->n <= 1; /* the caller runs a loop of one index itself */
    if (whole ? begin != 0 || end != s->n || worker != 0
              : begin != s->n * worker / s->size || end != s->n * (worker + 1) / s->size)
        atomic_store(&s->bad_worker, 1);
    for (int i = begin; i < end; i++) s->hits[i]++;
}

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* LOOPS loops of varied sizes on a pool of SIZE threads, GAP_US microseconds apart. */
static void check_pool(int size, int loops, long gap_us) {
    tte_pool *p = tte_pool_create(size);
    cr_assert(p);
    cr_assert_eq(tte_pool_size(p), size);
    loop_state s;
    for (int l = 0; l < loops; l++) {
        memset(&s, 0, sizeof s);
        s.n = 1 + (l * 37) % N_MAX, s.size = size;
        tte_pool_for(p, s.n, count, &s);
        for (int i = 0; i < s.n; i++)
            cr_assert_eq(s.hits[i], 1, "pool of %d, loop %d of %d indices: index %d ran %d times", size, l,
                         s.n, i, s.hits[i]);
        cr_assert_eq(atomic_load(&s.bad_worker), 0, "pool of %d, loop %d: an index ran outside its range",
                     size, l);
        if (gap_us) pause_us(gap_us);
    }
    tte_pool_free(p);
}

Test(threadpool, back_to_back_loops) {
    check_pool(2, 20000, 0);
    check_pool(3, 5000, 0);
}

/* Gaps past the spin: every handshake goes through the condition variables. */
Test(threadpool, loops_after_sleeping) {
    check_pool(2, 100, 200);
    check_pool(4, 50, 300);
}

/* Gaps near the spin's length: wake-ups race with falling asleep. */
Test(threadpool, loops_at_the_spin_boundary) { check_pool(3, 300, 45); }

Test(threadpool, one_thread_and_empty_loops) {
    check_pool(1, 100, 0);
    tte_pool *p = tte_pool_create(2);
    loop_state s = {.n = 1, .size = 2};
    tte_pool_for(p, 0, count, &s);
    cr_assert_eq(s.hits[0], 0);
    tte_pool_free(p);
}
