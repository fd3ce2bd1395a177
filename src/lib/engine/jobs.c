/* jobs: see jobs.h. */
#include "engine/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

typedef struct {
    json_t *rec; /* NULL once written */
    tte_tokens feed;
    int flags, pages, done;
    long line;
} job;

typedef struct {
    tte_jsonl *in;
    FILE *out;
    int batch;
    const tte_jobs_client *c;
    void *ctx;
    job *jobs; /* every record read, in input order */
    size_t n_jobs, cap_jobs;
    size_t next_start, next_write;
    int *lane_job; /* by lane id */
    size_t cap_lanes;
    int in_flight;
    int read_all;     /* the input is exhausted, or stopped at a bad record */
    char *bad_record; /* that record's located error, reported once the records before it are out */
    int write_failed;
} runner;

static void write_ready(runner *r) {
    while (r->next_write < r->n_jobs && r->jobs[r->next_write].done) {
        job *j = &r->jobs[r->next_write];
        r->c->finish(r->ctx, (int)r->next_write++, j->rec);
        if (tte_jsonl_write(r->out, j->rec) != 0 || fflush(r->out) != 0) r->write_failed = 1;
        json_decref(j->rec);
        j->rec = NULL;
    }
}

/* Reads the next record into a new job; 0 at the end of the input or at a bad record. */
static int read_next(runner *r) {
    json_t *rec;
    int got = tte_jsonl_next(r->in, &rec);
    if (got == 0) return r->read_all = 1, 0;
    TTE_GROW(r->jobs, r->cap_jobs, r->n_jobs + 1);
    job *j = &r->jobs[r->n_jobs];
    memset(j, 0, sizeof *j);
    if (got < 0 || r->c->prepare(r->ctx, r->in, rec, (int)r->n_jobs, &j->feed, &j->flags, &j->pages) != 0) {
        if (got > 0) json_decref(rec);
        tte_tokens_free(&j->feed);
        r->read_all = 1;
        r->bad_record = tte_xstrdup(tte_jsonl_error(r->in));
        return 0;
    }
    j->rec = rec;
    j->line = tte_jsonl_line(r->in);
    r->n_jobs++;
    return 1;
}

static int admit(void *ctx, tte_sched *s, char *err, size_t errlen) {
    runner *r = ctx;
    while (r->in_flight < r->batch) {
        if (r->next_start == r->n_jobs && (r->read_all || !read_next(r))) break;
        job *j = &r->jobs[r->next_start];
        if (j->feed.n == 0) { /* nothing to compute */
            tte_tokens_free(&j->feed);
            r->next_start++;
            j->done = 1;
            write_ready(r);
            continue;
        }
        if (tte_sched_reserve(s, j->pages) != 0) {
            if (r->in_flight > 0) break; /* room comes back as they finish */
            snprintf(err, errlen, "%s:%ld: %d KV pages needed, the cache holds %d: raise --kv-mem",
                     tte_jsonl_name(r->in), j->line, j->pages, tte_sched_pages_total(s));
            return -1;
        }
        int lane = tte_sched_lane_new(s);
        TTE_GROW(r->lane_job, r->cap_lanes, (size_t)tte_sched_lane_limit(s));
        r->lane_job[lane] = (int)r->next_start++;
        tte_sched_feed(s, lane, j->feed.ids, (int)j->feed.n, j->flags);
        tte_tokens_free(&j->feed);
        r->in_flight++;
    }
    return r->read_all && r->next_start == r->n_jobs && r->in_flight == 0 ? TTE_SCHED_NO_MORE : 0;
}

static int on_logits(void *ctx, tte_sched *s, int lane, const float *logits, int first, int rows, int fed_all,
                     char *err, size_t errlen) {
    runner *r = ctx;
    int k = r->lane_job[lane];
    int rc = r->c->logits(r->ctx, s, lane, k, logits, first, rows, fed_all, err, errlen);
    if (rc <= 0) return rc;
    tte_sched_lane_end(s, lane);
    tte_sched_release(s, r->jobs[k].pages);
    r->in_flight--;
    r->jobs[k].done = 1;
    write_ready(r);
    return 0;
}

int tte_jobs_run(tte_sched *s, tte_jsonl *in, FILE *out, int batch, const tte_jobs_client *c, void *ctx) {
    runner r = {.in = in, .out = out, .batch = batch, .c = c, .ctx = ctx};
    char err[1024];
    int rc = tte_sched_run(s, &(tte_sched_client){admit, on_logits}, &r, err, sizeof err);
    if (rc != 0)
        tte_warn("%s", err);
    else if (r.bad_record)
        rc = -1, tte_warn("%s", r.bad_record);
    else if (r.write_failed)
        rc = -1, tte_warn("write error");
    for (size_t i = r.next_write; i < r.n_jobs; i++)
        json_decref(r.jobs[i].rec), tte_tokens_free(&r.jobs[i].feed);
    free(r.jobs), free(r.lane_job), free(r.bad_record);
    return rc;
}
