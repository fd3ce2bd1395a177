/* sampler: xoshiro256** streams, temperature / top-k / top-p sampling, log-probabilities. */
#include "engine/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

void tte_rng_seed(tte_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = tte_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tte_rng_next(tte_rng *r) {
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double tte_rng_uniform(tte_rng *r) { return (double)(tte_rng_next(r) >> 11) * 0x1.0p-53; }

int tte_argmax(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

double tte_logsumexp(const float *logits, int n) {
    double max = logits[tte_argmax(logits, n)], sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - max);
    return max + log(sum);
}

double tte_logprob(const float *logits, int n, int token) {
    return (double)logits[token] - tte_logsumexp(logits, n);
}

/* Candidates sorted by descending value, ties by ascending id; qsort needs a context, so the
 * values travel with the ids. */
typedef struct {
    float v;
    int id;
} cand;

static int by_value_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

size_t tte_sample_scratch_bytes(int n) { return (size_t)n * sizeof(cand); }

/* Keeps in C the entries with value >= threshold; returns their count. */
static int keep_above(cand *c, const float *logits, int n, float threshold) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] >= threshold) c[m++] = (cand){logits[i], i};
    return m;
}

int tte_sample(const float *logits, int n, const tte_sampling *p, tte_rng *r, void *scratch) {
    if (p->temperature <= 0) return tte_argmax(logits, n);
    cand *c = scratch;
    double inv_t = 1.0 / p->temperature, max = logits[tte_argmax(logits, n)];
    /* Probabilities relative to the maximum: w_i = exp((l_i - max) / T). Tokens with tiny weight
     * cannot be in a top-p nucleus once the kept mass reaches top_p, so the sort only needs the
     * tokens above a cut-off that is lowered until the mass above it suffices (exactly the same
     * nucleus as sorting everything). */
    double total = 0;
    for (int i = 0; i < n; i++) total += exp(((double)logits[i] - max) * inv_t);
    int use_p = p->top_p > 0 && p->top_p<1, use_k = p->top_k> 0 && p->top_k < n;
    int m = n;
    if (use_p || use_k) {
        for (double gap = 8;; gap *= 2) {
            /* tokens within GAP temperature-scaled nats of the max */
            float cut = (float)(max - gap * p->temperature);
            m = keep_above(c, logits, n, cut);
            double mass = 0;
            for (int i = 0; i < m; i++) mass += exp(((double)c[i].v - max) * inv_t);
            int enough_k = !use_k || m >= p->top_k, enough_p = !use_p || mass >= p->top_p * total;
            if ((enough_k && enough_p) || m == n) break;
        }
    } else {
        for (int i = 0; i < n; i++) c[i] = (cand){logits[i], i};
    }
    if (use_p || use_k) qsort(c, (size_t)m, sizeof *c, by_value_desc);
    if (use_k && m > p->top_k) m = p->top_k;
    /* Weights of the kept tokens; top-p over the top-k survivors, renormalised as transformers does. */
    double kept = 0;
    for (int i = 0; i < m; i++) kept += exp(((double)c[i].v - max) * inv_t);
    if (use_p) {
        /* transformers applies top-p to the distribution left after top-k */
        double reference = use_k ? kept : total, acc = 0;
        int keep = 0;
        while (keep < m) {
            acc += exp(((double)c[keep].v - max) * inv_t);
            keep++;
            if (acc >= p->top_p * reference) break;
        }
        m = keep;
        kept = acc;
    }
    double u = tte_rng_uniform(r) * kept, acc = 0;
    for (int i = 0; i < m; i++) {
        acc += exp(((double)c[i].v - max) * inv_t);
        if (u < acc) return c[i].id;
    }
    return c[m - 1].id;
}

int tte_top_logprobs(const float *logits, int n, int k, int *ids, double *logprobs) {
    if (k > n) k = n;
    if (k <= 0) return 0;
    double lse = tte_logsumexp(logits, n);
    /* Insertion into a sorted list of K: fine for the small K of log-prob queries. */
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m == k && logits[i] <= logits[ids[m - 1]]) continue;
        int j = m < k ? m++ : k - 1;
        while (j > 0 && logits[ids[j - 1]] < logits[i]) ids[j] = ids[j - 1], j--;
        ids[j] = i;
    }
    for (int i = 0; i < m; i++) logprobs[i] = (double)logits[ids[i]] - lse;
    return m;
}
