/* The scheduler: greedy decoding through it reproduces the float64 reference of
 * tools/make_tiny_models.py; sampled decoding with forks and teacher forcing give the same bits for
 * every batch size, call size and thread count; admission waits under a tight KV budget; every page
 * comes back; a reservation that can never fit is an error, not a hang. */
#include "engine/engine.h"
#include "engine/sampler.h"
#include "engine/sched.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MODEL "tests/fixtures/models/qwen2-f32"

enum { N_JOBS = 4, DECODE = 24, FORK_AT = 8, MAX_PROMPT = 64, MAX_LANES = 64 };

/* One job: a prompt decoded DECODE tokens; at FORK_AT tokens the lane forks, and the fork decodes
 * the rest with a seed of its own. Teacher forcing: the prompt's log-probability under the model. */
typedef struct {
    int32_t prompt[MAX_PROMPT];
    int n_prompt;
    int32_t out[2][DECODE]; /* [0]: the main lane, [1]: the fork */
    int n_out[2];
    double prompt_logprob;
    int lanes_left, pages, started;
} job;

typedef struct {
    job jobs[N_JOBS];
    int n_jobs, next;
    enum { SAMPLED, GREEDY, TEACHER } mode;
    int lane_job[MAX_LANES], lane_branch[MAX_LANES];
    tte_rng rng[N_JOBS][2];
    void *scratch;
    int vocab;
} client_state;

static void load_prompts(client_state *c) {
    json_error_t je;
    json_t *ref = json_load_file(MODEL "/reference.json", 0, &je);
    cr_assert(ref, "%s", je.text);
    json_t *prompts = json_object_get(ref, "prompts");
    c->n_jobs = (int)json_array_size(prompts) < N_JOBS ? (int)json_array_size(prompts) : N_JOBS;
    for (int i = 0; i < c->n_jobs; i++) {
        json_t *ids = json_object_get(json_array_get(prompts, (size_t)i), "ids");
        job *j = &c->jobs[i];
        j->n_prompt = (int)json_array_size(ids);
        cr_assert(j->n_prompt <= MAX_PROMPT);
        for (int t = 0; t < j->n_prompt; t++)
            j->prompt[t] = (int32_t)json_integer_value(json_array_get(ids, (size_t)t));
    }
    json_decref(ref);
}

static int job_pages(const job *j) {
    /* the main lane to its end, and the fork's copied page and its own tokens */
    return tte_sched_pages_for(j->n_prompt + DECODE) + 1 + tte_sched_pages_for(DECODE - FORK_AT);
}

static void set_lane(client_state *c, tte_sched *s, int lane, int job_i, int branch) {
    cr_assert(tte_sched_lane_limit(s) <= MAX_LANES);
    c->lane_job[lane] = job_i, c->lane_branch[lane] = branch;
}

static int admit(void *ctx, tte_sched *s, char *err, size_t errlen) {
    client_state *c = ctx;
    while (c->next < c->n_jobs) {
        job *j = &c->jobs[c->next];
        j->pages = job_pages(j);
        if (tte_sched_reserve(s, j->pages) != 0) return 0;
        int lane = tte_sched_lane_new(s);
        set_lane(c, s, lane, c->next, 0);
        tte_rng_seed(&c->rng[c->next][0], 1000 + (uint64_t)c->next);
        tte_rng_seed(&c->rng[c->next][1], 2000 + (uint64_t)c->next);
        j->lanes_left = 1, j->started = 1;
        if (c->mode == TEACHER)
            tte_sched_feed(s, lane, j->prompt, j->n_prompt, TTE_LOGITS_ALL);
        else
            tte_sched_feed(s, lane, j->prompt, j->n_prompt, TTE_LOGITS_LAST);
        c->next++;
    }
    return TTE_SCHED_NO_MORE;
}

static void lane_done(client_state *c, tte_sched *s, int lane) {
    job *j = &c->jobs[c->lane_job[lane]];
    tte_sched_lane_end(s, lane);
    if (--j->lanes_left == 0) tte_sched_release(s, j->pages);
}

static int on_logits(void *ctx, tte_sched *s, int lane, const float *logits, int first, int rows, int fed_all,
                     char *err, size_t errlen) {
    client_state *c = ctx;
    int ji = c->lane_job[lane], b = c->lane_branch[lane];
    job *j = &c->jobs[ji];
    if (c->mode == TEACHER) {
        /* row i is after token first + i: it scores token first + i + 1 */
        for (int i = 0; i < rows; i++)
            if (first + i + 1 < j->n_prompt)
                j->prompt_logprob +=
                    tte_logprob(logits + (size_t)i * (size_t)c->vocab, c->vocab, j->prompt[first + i + 1]);
        if (fed_all) lane_done(c, s, lane);
        return 0;
    }
    cr_assert_eq(rows, 1);
    tte_sampling greedy = {.temperature = 0}, warm = {.temperature = 1.0, .top_k = 20, .top_p = 0.9};
    int32_t tok =
        tte_sample(logits, c->vocab, c->mode == GREEDY ? &greedy : &warm, &c->rng[ji][b], c->scratch);
    j->out[b][j->n_out[b]++] = tok;
    if (j->n_out[b] == DECODE) {
        lane_done(c, s, lane);
        return 0;
    }
    if (b == 0 && j->n_out[0] == FORK_AT && c->mode != GREEDY) {
        int child = tte_sched_lane_fork(s, lane);
        set_lane(c, s, child, ji, 1);
        j->lanes_left++;
        memcpy(j->out[1], j->out[0], sizeof(int32_t) * FORK_AT);
        j->n_out[1] = FORK_AT;
        tte_rng_seed(&c->rng[ji][1], 5000 + (uint64_t)ji);
        tte_sched_feed(s, child, &tok, 1, TTE_LOGITS_LAST);
    }
    tte_sched_feed(s, lane, &tok, 1, TTE_LOGITS_LAST);
    return 0;
}

/* Runs the jobs in MODE with the given engine and scheduler settings into C; returns the run's
 * return code, ERR set. */
static int run_jobs(client_state *c, int mode, const tte_model *m, int threads, size_t kv_bytes, int batch,
                    int call_tokens, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    load_prompts(c);
    c->mode = mode;
    c->vocab = tte_model_config(m)->vocab_size;
    c->scratch = malloc(tte_sample_scratch_bytes(c->vocab));
    tte_engine_opts eo = {.threads = threads, .kv_bytes = kv_bytes, .backend = "cpu"};
    tte_engine *e = tte_engine_create(m, &eo, err, errlen);
    cr_assert(e, "%s", err);
    tte_sched *s = tte_sched_create(e, &(tte_sched_opts){.batch = batch, .call_tokens = call_tokens});
    tte_sched_client cl = {admit, on_logits};
    int rc = tte_sched_run(s, &cl, c, err, errlen);
    tte_sched_free(s);
    tte_engine_free(e);
    free(c->scratch);
    return rc;
}

static tte_model *model(void) {
    char err[512];
    tte_model *m = tte_model_load(MODEL, err, sizeof err);
    cr_assert(m, "%s", err);
    return m;
}

static size_t page_bytes(const tte_model *m) { return TTE_PAGE_TOKENS * tte_model_kv_bytes_per_token(m); }

/* The results two runs must share bit for bit. */
static void assert_same(const client_state *a, const client_state *b, const char *what) {
    cr_assert_eq(a->n_jobs, b->n_jobs);
    for (int i = 0; i < a->n_jobs; i++) {
        for (int br = 0; br < 2; br++) {
            cr_assert_eq(a->jobs[i].n_out[br], b->jobs[i].n_out[br], "%s: job %d", what, i);
            cr_assert_arr_eq(a->jobs[i].out[br], b->jobs[i].out[br],
                             sizeof(int32_t) * (size_t)a->jobs[i].n_out[br], "%s: job %d branch %d", what, i,
                             br);
        }
        cr_assert(memcmp(&a->jobs[i].prompt_logprob, &b->jobs[i].prompt_logprob, sizeof(double)) == 0,
                  "%s: job %d: %.17g against %.17g", what, i, a->jobs[i].prompt_logprob,
                  b->jobs[i].prompt_logprob);
    }
}

Test(sched, greedy_matches_float64_reference) {
    tte_model *m = model();
    json_error_t je;
    json_t *ref = json_load_file(MODEL "/reference.json", 0, &je);
    cr_assert(ref, "%s", je.text);
    json_t *prompts = json_object_get(ref, "prompts");
    static client_state c;
    char err[512];
    const int batches[] = {1, 4}, calls[] = {5, 0};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(run_jobs(&c, GREEDY, m, 2, 0, batches[k], calls[k], err, sizeof err), 0, "%s", err);
        for (int i = 0; i < c.n_jobs; i++) {
            json_t *want = json_object_get(json_array_get(prompts, (size_t)i), "greedy");
            for (int t = 0; t < DECODE; t++)
                cr_assert_eq(c.jobs[i].out[0][t],
                             (int32_t)json_integer_value(json_array_get(want, (size_t)t)),
                             "prompt %d token %d at batch %d", i, t, batches[k]);
        }
    }
    json_decref(ref);
    tte_model_free(m);
}

Test(sched, same_bits_for_every_batch_call_size_and_thread_count) {
    tte_model *m = model();
    static client_state want, got;
    char err[512], what[64];
    for (int mode = SAMPLED; mode <= TEACHER; mode += TEACHER - SAMPLED) {
        cr_assert_eq(run_jobs(&want, mode, m, 1, 0, 1, 1, err, sizeof err), 0, "%s", err);
        const int batches[] = {2, 3, 32}, calls[] = {7, 512, 3}, threads[] = {2, 1, 2};
        for (int k = 0; k < 3; k++) {
            cr_assert_eq(run_jobs(&got, mode, m, threads[k], 0, batches[k], calls[k], err, sizeof err), 0,
                         "%s", err);
            snprintf(what, sizeof what, "mode %d batch %d call %d threads %d", mode, batches[k], calls[k],
                     threads[k]);
            assert_same(&want, &got, what);
        }
    }
    /* the teacher-forced log-probability is the engine's own, fed in one call */
    char e2[512];
    tte_engine *e = tte_engine_create(m, &(tte_engine_opts){.threads = 1, .backend = "cpu"}, e2, sizeof e2);
    cr_assert(e, "%s", e2);
    int vocab = tte_model_config(m)->vocab_size;
    for (int i = 0; i < want.n_jobs; i++) {
        const job *j = &want.jobs[i];
        float *logits = malloc((size_t)j->n_prompt * (size_t)vocab * sizeof *logits);
        int seq = tte_seq_new(e);
        tte_span span = {seq, j->prompt, j->n_prompt};
        cr_assert_eq(tte_engine_forward(e, &span, 1, TTE_LOGITS_ALL, logits, e2, sizeof e2), 0, "%s", e2);
        double lp = 0;
        for (int t = 0; t + 1 < j->n_prompt; t++)
            lp += tte_logprob(logits + (size_t)t * (size_t)vocab, vocab, j->prompt[t + 1]);
        cr_assert(lp == j->prompt_logprob, "job %d: %.17g against %.17g", i, lp, j->prompt_logprob);
        cr_assert(lp < 0);
        tte_seq_free(e, seq);
        free(logits);
    }
    tte_engine_free(e);
    tte_model_free(m);
}

Test(sched, admission_waits_under_a_tight_kv_budget) {
    tte_model *m = model();
    static client_state want, got;
    char err[512];
    cr_assert_eq(run_jobs(&want, SAMPLED, m, 1, 0, 32, 0, err, sizeof err), 0, "%s", err);
    /* room for the largest job alone: the jobs run one after another, with the same results */
    int most = 0;
    for (int i = 0; i < want.n_jobs; i++)
        most = job_pages(&want.jobs[i]) > most ? job_pages(&want.jobs[i]) : most;
    cr_assert_eq(run_jobs(&got, SAMPLED, m, 1, (size_t)most * page_bytes(m), 32, 0, err, sizeof err), 0, "%s",
                 err);
    assert_same(&want, &got, "one job at a time");
    for (int i = 0; i < got.n_jobs; i++) cr_assert_eq(got.jobs[i].n_out[1], DECODE);
    tte_model_free(m);
}

Test(sched, work_larger_than_the_cache_is_an_error) {
    tte_model *m = model();
    static client_state c;
    char err[512] = "";
    cr_assert_eq(run_jobs(&c, SAMPLED, m, 1, 2 * page_bytes(m), 32, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "raise --kv-mem"), "%s", err);
    tte_model_free(m);
}
