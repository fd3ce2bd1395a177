/* engine: sequences, the paged KV cache's bookkeeping (page tables, reference counts, copy-on-write)
 * and batch validation; the arithmetic is the backend's. */
#include "engine/engine.h"
#include "engine/cpu_kernels.h"
#include "errmsg.h"

#include "engine/backend.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int live;
    int len; /* tokens in the cache */
    int npages, cap;
    int32_t *pages; /* page ids; the first ceil(len / TTE_PAGE_TOKENS) hold tokens, the rest are spare */
} seq_t;

struct tte_engine {
    const tte_model *model;
    const tte_backend *be;
    tte_backend_state *bs;
    int n_pages;
    int32_t *refs;      /* per page: how many sequences list it */
    int32_t *free_list; /* stack of free page ids */
    int n_free;
    seq_t *seqs;
    int n_seqs;
    size_t kv_per_token;
};

/* The CUDA plug-in (libtte-cuda.so, see the Makefile): $TTE_CUDA_LIB, else next to the running
 * program (the build tree), else in ../lib/tte/ beside it (an installed tree). Loaded once, on first
 * use; NULL with the reason in LOAD_ERROR when it cannot be. */
static const tte_backend *cuda_plugin;
static int (*cuda_device_count)(void);
static char load_error[512];

static void load_cuda_plugin(void) {
    static int tried;
    if (tried++) return;
    char exe[4096], path[4200];
    const char *env = getenv("TTE_CUDA_LIB");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    const char *tries[3] = {env, path, NULL};
    snprintf(path, sizeof path, "%s/libtte-cuda.so", exe);
    void *h = NULL;
    for (int i = 0; !h && i < 3; i++) {
        if (i == 2) snprintf(path, sizeof path, "%s/../lib/tte/libtte-cuda.so", exe), tries[2] = path;
        if (tries[i] && access(tries[i], F_OK) == 0 && !(h = dlopen(tries[i], RTLD_NOW | RTLD_LOCAL)))
            snprintf(load_error, sizeof load_error, "cannot load the CUDA engine %.200s: %.250s", tries[i],
                     dlerror());
        if (env && !h && !load_error[0])
            snprintf(load_error, sizeof load_error, "TTE_CUDA_LIB: %.400s does not exist", env);
        if (env) break; /* an explicit path is the only one tried */
    }
    if (!h) {
        if (!load_error[0])
            snprintf(load_error, sizeof load_error,
                     "this build of tte has no CUDA engine (libtte-cuda.so is built "
                     "where nvcc is found)");
        return;
    }
    cuda_plugin = dlsym(h, "tte_backend_cuda");
    *(void **)&cuda_device_count = dlsym(h, "tte_cuda_device_count");
    if (!cuda_plugin || !cuda_device_count) {
        snprintf(load_error, sizeof load_error, "the CUDA engine %.400s lacks its entry points", path);
        cuda_plugin = NULL;
    }
}

int tte_gpu_present(void) {
    /* The device node first: without it, loading the CUDA runtime only costs time. */
    if (access("/dev/nvidiactl", F_OK) != 0) return 0;
    load_cuda_plugin();
    return cuda_plugin && cuda_device_count() > 0;
}

const char *tte_device_resolve(const char *device) {
    if (device && strcmp(device, "cuda") == 0) return "cuda";
    if (device && strcmp(device, "auto") == 0 && tte_gpu_present()) return "cuda";
    return "cpu";
}

const char *tte_engine_numerics(const char *device) {
    static char name[64];
    if (strcmp(tte_device_resolve(device), "cuda") == 0)
        snprintf(name, sizeof name, "cuda/n%d", TTE_NUMERICS_VERSION);
    else
        snprintf(name, sizeof name, "cpu/%s/n%d", tte_cpu_path_name(tte_cpu_path_now()),
                 TTE_NUMERICS_VERSION);
    return name;
}

/* The backend for a --device name: cpu, cuda or auto (NULL: cpu). */
static const tte_backend *tte_backend_named(const char *name, char *err, size_t errlen) {
    if (!name || strcmp(name, "cpu") == 0) return &tte_backend_cpu;
    if (strcmp(name, "auto") == 0) return tte_gpu_present() ? cuda_plugin : &tte_backend_cpu;
    if (strcmp(name, "cuda") == 0) {
        load_cuda_plugin();
        if (!cuda_plugin) tte_fail(err, errlen, "%s", load_error);
        return cuda_plugin;
    }
    tte_fail(err, errlen, "unknown device '%s' (cpu, cuda or auto)", name);
    return NULL;
}

tte_engine *tte_engine_create(const tte_model *m, const tte_engine_opts *opts, char *err, size_t errlen) {
    tte_engine_opts o = opts ? *opts : (tte_engine_opts){0};
    const tte_backend *be = tte_backend_named(o.backend, err, errlen);
    if (!be) return NULL;
    /* The CUDA plug-in computes lm_head only; a reward head runs on the CPU for now. */
    if (be != &tte_backend_cpu && tte_model_weights(m)->head_out.data) {
        tte_fail(err, errlen, "%s: the CUDA engine does not run %s's reward head yet (use --device cpu)",
                 tte_model_dir(m), tte_model_config(m)->arch_name);
        return NULL;
    }
    tte_engine *e = calloc(1, sizeof *e);
    if (!e) {
        tte_fail(err, errlen, "out of memory");
        return NULL;
    }
    e->model = m;
    e->be = be;
    e->kv_per_token = tte_model_kv_bytes_per_token(m);
    size_t bytes = o.kv_bytes ? o.kv_bytes : 4096 * e->kv_per_token;
    size_t pages = bytes / (e->kv_per_token * TTE_PAGE_TOKENS);
    if (pages < 1 || pages > INT32_MAX / 2) {
        tte_fail(err, errlen, "KV cache of %zu bytes holds no page (%zu bytes per %d tokens)", bytes,
                 e->kv_per_token * TTE_PAGE_TOKENS, TTE_PAGE_TOKENS);
        free(e);
        return NULL;
    }
    e->n_pages = (int)pages;
    e->refs = calloc(pages, sizeof *e->refs);
    e->free_list = malloc(pages * sizeof *e->free_list);
    if (!e->refs || !e->free_list) {
        tte_fail(err, errlen, "out of memory");
        tte_engine_free(e);
        return NULL;
    }
    /* Pop order 0, 1, 2, ...: low pages first. */
    for (int i = 0; i < e->n_pages; i++) e->free_list[i] = e->n_pages - 1 - i;
    e->n_free = e->n_pages;
    if (!(e->bs = e->be->create(m, o.threads, e->n_pages, TTE_PAGE_TOKENS, err, errlen))) {
        tte_engine_free(e);
        return NULL;
    }
    return e;
}

void tte_engine_free(tte_engine *e) {
    if (!e) return;
    if (e->bs) e->be->destroy(e->bs);
    for (int i = 0; i < e->n_seqs; i++) free(e->seqs[i].pages);
    free(e->seqs);
    free(e->refs);
    free(e->free_list);
    free(e);
}

const tte_model *tte_engine_model(const tte_engine *e) { return e->model; }
size_t tte_engine_kv_bytes_per_token(const tte_engine *e) { return e->kv_per_token; }

size_t tte_model_kv_bytes_per_token(const tte_model *m) {
    const tte_config *c = tte_model_config(m);
    return (size_t)c->n_layers * 2 * (size_t)c->n_kv_heads * (size_t)c->head_dim * sizeof(float);
}
int tte_engine_pages_free(const tte_engine *e) { return e->n_free; }

static seq_t *live_seq(const tte_engine *e, int id) {
    return id >= 0 && id < e->n_seqs && e->seqs[id].live ? &e->seqs[id] : NULL;
}

int tte_seq_new(tte_engine *e) {
    int id = 0;
    while (id < e->n_seqs && e->seqs[id].live) id++;
    if (id == e->n_seqs) {
        seq_t *n = realloc(e->seqs, (size_t)(e->n_seqs + 1) * sizeof *n);
        if (!n) return -1;
        e->seqs = n;
        memset(&e->seqs[e->n_seqs++], 0, sizeof *n);
    }
    e->seqs[id].live = 1;
    e->seqs[id].len = 0;
    e->seqs[id].npages = 0;
    return id;
}

static int ensure_cap(seq_t *s, int npages) {
    if (npages <= s->cap) return 0;
    int cap = s->cap ? s->cap : 8;
    while (cap < npages) cap *= 2;
    int32_t *p = realloc(s->pages, (size_t)cap * sizeof *p);
    if (!p) return -1;
    s->pages = p;
    s->cap = cap;
    return 0;
}

static int pages_for(int tokens) { return (tokens + TTE_PAGE_TOKENS - 1) / TTE_PAGE_TOKENS; }

int tte_seq_fork(tte_engine *e, int seq) {
    if (!live_seq(e, seq)) return -1;
    int id = tte_seq_new(e); /* may move e->seqs */
    if (id < 0) return -1;
    seq_t *p = &e->seqs[seq], *c = &e->seqs[id];
    int used = pages_for(p->len);
    if (ensure_cap(c, used) != 0) {
        c->live = 0;
        return -1;
    }
    memcpy(c->pages, p->pages, (size_t)used * sizeof *c->pages);
    for (int i = 0; i < used; i++) e->refs[c->pages[i]]++;
    c->npages = used;
    c->len = p->len;
    return id;
}

static void unref(tte_engine *e, int32_t page) {
    if (--e->refs[page] == 0) e->free_list[e->n_free++] = page;
}

void tte_seq_free(tte_engine *e, int seq) {
    seq_t *s = live_seq(e, seq);
    if (!s) return;
    for (int i = 0; i < s->npages; i++) unref(e, s->pages[i]);
    s->live = 0;
    s->npages = s->len = 0;
}

int tte_seq_len(const tte_engine *e, int seq) {
    const seq_t *s = live_seq(e, seq);
    return s ? s->len : -1;
}

/* The last page is written in place only when this sequence is its sole user. */
static int needs_cow(const tte_engine *e, const seq_t *s) {
    return s->len % TTE_PAGE_TOKENS != 0 && e->refs[s->pages[s->len / TTE_PAGE_TOKENS]] > 1;
}

int tte_engine_pages_needed(const tte_engine *e, int seq, int n_new) {
    const seq_t *s = live_seq(e, seq);
    if (!s || n_new < 0) return 0;
    int more = pages_for(s->len + n_new) - s->npages;
    return (more > 0 ? more : 0) + needs_cow(e, s);
}

/* Makes S's pages writable for N_NEW more tokens (caller checked the free count). */
static int prepare(tte_engine *e, seq_t *s, int n_new) {
    if (ensure_cap(s, pages_for(s->len + n_new)) != 0) return -1;
    if (needs_cow(e, s)) {
        int i = s->len / TTE_PAGE_TOKENS;
        int32_t copy = e->free_list[--e->n_free];
        e->refs[copy] = 1;
        e->be->copy_page(e->bs, copy, s->pages[i]);
        unref(e, s->pages[i]);
        s->pages[i] = copy;
    }
    while (s->npages < pages_for(s->len + n_new)) {
        int32_t p = e->free_list[--e->n_free];
        e->refs[p] = 1;
        s->pages[s->npages++] = p;
    }
    return 0;
}

int tte_engine_forward(tte_engine *e, const tte_span *spans, int n, int flags, float *logits, char *err,
                       size_t errlen) {
    const tte_config *c = tte_model_config(e->model);
    if (n <= 0) return tte_fail(err, errlen, "empty batch");
    int need = 0;
    for (int i = 0; i < n; i++) {
        const seq_t *s = live_seq(e, spans[i].seq);
        if (!s) return tte_fail(err, errlen, "batch entry %d: sequence %d is not live", i, spans[i].seq);
        if (spans[i].n_tokens < 1) return tte_fail(err, errlen, "batch entry %d: no tokens", i);
        for (int j = 0; j < i; j++)
            if (spans[j].seq == spans[i].seq)
                return tte_fail(err, errlen, "batch entries %d and %d use the same sequence %d", j, i,
                                spans[i].seq);
        for (int t = 0; t < spans[i].n_tokens; t++)
            if (spans[i].tokens[t] < 0 || spans[i].tokens[t] >= c->vocab_size)
                return tte_fail(err, errlen, "batch entry %d: token %d is %d, outside the vocabulary (%d)", i,
                                t, (int)spans[i].tokens[t], c->vocab_size);
        if ((long long)s->len + spans[i].n_tokens > c->max_position_embeddings)
            return tte_fail(err, errlen, "batch entry %d: %d tokens exceed max_position_embeddings %d", i,
                            s->len + spans[i].n_tokens, c->max_position_embeddings);
        need += tte_engine_pages_needed(e, spans[i].seq, spans[i].n_tokens);
    }
    if (need > e->n_free)
        return tte_fail(err, errlen, "KV cache full: the batch needs %d pages, %d are free", need, e->n_free);
    tte_fwd_seq *fs = malloc((size_t)n * sizeof *fs);
    if (!fs) return tte_fail(err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        seq_t *s = &e->seqs[spans[i].seq];
        if (prepare(e, s, spans[i].n_tokens) != 0) {
            free(fs);
            return tte_fail(err, errlen, "out of memory");
        }
        fs[i] = (tte_fwd_seq){s->len, spans[i].n_tokens, spans[i].tokens, s->pages};
    }
    int rc = e->be->forward(e->bs, fs, n, flags & TTE_LOGITS_ALL, logits, err, errlen);
    free(fs);
    if (rc != 0) return -1; /* lengths unchanged: the tokens are not in the cache */
    for (int i = 0; i < n; i++) e->seqs[spans[i].seq].len += spans[i].n_tokens;
    return 0;
}
