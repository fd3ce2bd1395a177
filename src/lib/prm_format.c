/* prm_format: see prm_format.h. */
#include "prm_format.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "xalloc.h"

struct tte_prm {
    tte_session *ses;
    tte_prm_kind kind;
    char *prefix, *first_step, *step, *join, *step_delim;
    int32_t good_id, bad_id; /* the labels of shepherd and rlhflow */
};

static const char *const kind_names[] = {"shepherd", "rlhflow", "classifier", "value"};

const char *tte_prm_kind_name(tte_prm_kind k) { return kind_names[k]; }
tte_prm_kind tte_prm_kind_of(const tte_prm *p) { return p->kind; }
const char *tte_prm_step_delim(const tte_prm *p) { return p->step_delim; }

/* Text with every "{problem}" and "{step}" replaced (STEP may be NULL: left as is). malloc'd. */
static char *fill(const char *tpl, size_t tpl_len, const char *problem, const char *step, size_t step_len) {
    char *out = NULL;
    size_t len = 0, cap = 0;
    for (size_t i = 0; i < tpl_len;) {
        const char *piece = tpl + i;
        size_t n = 1, skip = 1;
        if (strncmp(piece, "{problem}", 9) == 0 && i + 9 <= tpl_len)
            piece = problem, n = strlen(problem), skip = 9;
        else if (step && strncmp(piece, "{step}", 6) == 0 && i + 6 <= tpl_len)
            piece = step, n = step_len, skip = 6;
        TTE_GROW(out, cap, len + n + 1);
        memcpy(out + len, piece, n);
        len += n;
        i += skip;
    }
    TTE_GROW(out, cap, len + 1);
    out[len] = 0;
    return out;
}

static void encode_append(const tte_prm *p, const char *text, tte_tokens *out) {
    int n;
    int32_t *ids = tte_session_encode(p->ses, text, strlen(text), &n);
    if (n > 0) {
        TTE_GROW(out->ids, out->cap, out->n + (size_t)n);
        memcpy(out->ids + out->n, ids, (size_t)n * sizeof *ids);
        out->n += (size_t)n;
    }
    free(ids);
}

void tte_prm_prefix(const tte_prm *p, const char *problem, tte_tokens *out) {
    char *text = fill(p->prefix, strlen(p->prefix), problem, NULL, 0);
    encode_append(p, text, out);
    free(text);
}

/* The kinds whose reference finds the steps by the read token's id anywhere in the input: a step that
 * holds that token would be two steps to them. */
static int reads_by_token_id(const tte_prm *p) { return p->kind != TTE_PRM_RLHFLOW; }

/* Step K's template: up to its score mark, after the join (*BEFORE_LEN set), and after the mark
 * (NULL without one). */
static const char *step_template(const tte_prm *p, int k, size_t *before_len, const char **after) {
    const char *tpl = k == 0 ? p->first_step : p->step, *mark = strstr(tpl, "{score}");
    *before_len = mark ? (size_t)(mark - tpl) : strlen(tpl);
    *after = mark ? mark + 7 : NULL;
    return tpl;
}

/* The token TAG ends step K; the step's own ids (IDS, or STEP's encoding) must not hold it
 * (reads_by_token_id). */
static int check_read_token(const tte_prm *p, int32_t tag, const int32_t *ids, size_t n_ids, const char *step,
                            size_t len, int k, char *err, size_t errlen) {
    if (!reads_by_token_id(p)) return 0;
    int n = 0;
    int32_t *own = ids ? NULL : tte_session_encode(p->ses, step, len, &n);
    if (!ids) ids = own, n_ids = (size_t)n;
    size_t i = 0;
    while (i < n_ids && ids[i] != tag) i++;
    free(own);
    if (i == n_ids) return 0;
    return tte_fail(err, errlen, "step %d holds the token the PRM reads its score at (id %d): the PRM would see two steps",
                    k + 1, (int)tag);
}

int tte_prm_step(const tte_prm *p, const char *problem, int k, const char *step, size_t len,
                 const int32_t *step_ids, size_t n_ids, tte_tokens *out, size_t *read, char *err, size_t errlen) {
    size_t before_len;
    const char *after, *tpl = step_template(p, k, &before_len, &after);
    const char *join = k > 0 ? p->join : "";
    size_t jl = strlen(join), start = out->n;
    char *joined = tte_xmalloc(jl + before_len + 1);
    memcpy(joined, join, jl);
    memcpy(joined + jl, tpl, before_len);
    joined[jl + before_len] = 0;
    const char *at_step = strstr(joined, "{step}");
    if (step_ids && at_step) {
        /* The pieces around the step on their own, and the step's ids as they are. */
        char *pre = fill(joined, (size_t)(at_step - joined), problem, NULL, 0);
        char *post = fill(at_step + 6, strlen(at_step + 6), problem, NULL, 0);
        encode_append(p, pre, out);
        if (n_ids) {
            TTE_GROW(out->ids, out->cap, out->n + n_ids);
            memcpy(out->ids + out->n, step_ids, n_ids * sizeof *step_ids);
            out->n += n_ids;
        }
        encode_append(p, post, out);
        free(pre), free(post);
    } else {
        char *text = fill(joined, strlen(joined), problem, step, len);
        encode_append(p, text, out);
        free(text);
    }
    free(joined);
    if (out->n == start) return tte_fail(err, errlen, "step %d encodes to no token", k + 1);
    *read = out->n - 1;
    if (check_read_token(p, out->ids[*read], step_ids, n_ids, step, len, k, err, errlen)) return -1;
    if (after) {
        char *text = fill(after, strlen(after), problem, step, len);
        encode_append(p, text, out);
        free(text);
    }
    return 0;
}

int tte_prm_encode(const tte_prm *p, const char *problem, const char *const *steps, const size_t *lens, int n,
                   tte_tokens *out, size_t *reads, char *err, size_t errlen) {
    /* One text from the prefix to the first mark, then from each mark to the next. */
    char *chunk = fill(p->prefix, strlen(p->prefix), problem, NULL, 0);
    for (int k = 0; k < n; k++) {
        size_t before_len;
        const char *after, *tpl = step_template(p, k, &before_len, &after);
        char *piece = fill(tpl, before_len, problem, steps[k], lens[k]);
        const char *join = k > 0 ? p->join : "";
        size_t cl = strlen(chunk), jl = strlen(join), pl = strlen(piece);
        chunk = tte_xrealloc(chunk, cl + jl + pl + 1);
        memcpy(chunk + cl, join, jl);
        memcpy(chunk + cl + jl, piece, pl + 1);
        free(piece);
        size_t start = out->n;
        encode_append(p, chunk, out);
        free(chunk);
        if (out->n == start) return tte_fail(err, errlen, "step %d encodes to no token", k + 1);
        reads[k] = out->n - 1;
        if (check_read_token(p, out->ids[reads[k]], NULL, 0, steps[k], lens[k], k, err, errlen)) return -1;
        chunk = after ? fill(after, strlen(after), problem, steps[k], lens[k]) : tte_xstrdup("");
    }
    free(chunk);
    return 0;
}

double tte_prm_score(const tte_prm *p, const float *row) {
    double a, b;
    switch (p->kind) {
    case TTE_PRM_VALUE:
        return 1 / (1 + exp(-(double)row[0]));
    case TTE_PRM_CLASSIFIER:
        a = row[1], b = row[0]; /* label 1 is "the step is right" */
        break;
    default:
        a = row[p->good_id], b = row[p->bad_id];
    }
    double m = a > b ? a : b;
    return exp(a - m) / (exp(a - m) + exp(b - m));
}

double tte_prm_aggregate(tte_prm_agg agg, const double *scores, int n) {
    if (agg == TTE_PRM_AGG_LAST) return scores[n - 1];
    double v = agg == TTE_PRM_AGG_PROD ? 1 : INFINITY;
    for (int i = 0; i < n; i++) v = agg == TTE_PRM_AGG_PROD ? v * scores[i] : fmin(v, scores[i]);
    return v;
}

int tte_prm_agg_parse(const char *name, tte_prm_agg *agg) {
    static const char *const names[] = {"last", "min", "prod"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) return *agg = (tte_prm_agg)i, 0;
    return -1;
}

/* The last id of TEXT's encoding: the token a label ends in. */
static int label_id(tte_prm *p, const char *path, const char *what, const char *text, int32_t *id, char *err,
                    size_t errlen) {
    int n;
    int32_t *ids = tte_session_encode(p->ses, text, strlen(text), &n);
    if (n > 0) *id = ids[n - 1];
    free(ids);
    return n > 0 ? 0 : tte_fail(err, errlen, "%s: field \"%s\": \"%s\" encodes to no token", path, what, text);
}

static char *field(json_t *spec, const char *key, const char *fallback) {
    const char *v = json_string_value(json_object_get(spec, key));
    return tte_xstrdup(v ? v : fallback);
}

/* The defaults of each kind (prm.h), before tte_prm.json's fields. SYSTEM and TAG are shepherd's. */
static void set_defaults(tte_prm *p, json_t *spec) {
    const char *bos = tte_tokenizer_bos_text(p->ses->tok);
    char buf[1024];
    switch (p->kind) {
    case TTE_PRM_SHEPHERD: {
        char *system = field(spec, "system", ""), *tag = field(spec, "tag", " \xd0\xba\xd0\xb8"); /* " ки" */
        snprintf(buf, sizeof buf, "%.500s\n{problem}\n ", system);
        p->prefix = field(spec, "prefix", buf);
        snprintf(buf, sizeof buf, "{step}%.500s", tag);
        p->step = field(spec, "step", buf);
        p->step_delim = field(spec, "step_delim", "\n\n");
        /* join stays NULL: the steps are joined by the delimiter they were cut at (tte_prm_open). */
        if (json_object_get(spec, "join")) p->join = field(spec, "join", "");
        free(system), free(tag);
        break;
    }
    case TTE_PRM_RLHFLOW:
        /* Llama-3.1's template: its dated system block, then a user and an assistant turn per step. */
        snprintf(buf, sizeof buf,
                 "%s<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                 "Today Date: 26 Jul 2024\n\n<|eot_id|>",
                 bos ? bos : "");
        p->prefix = field(spec, "prefix", buf);
        p->step = field(spec, "step",
                        "<|start_header_id|>user<|end_header_id|>\n\n{step}<|eot_id|><|start_header_id|>assistant"
                        "<|end_header_id|>\n\n{score}+<|eot_id|>");
        p->join = field(spec, "join", "");
        p->step_delim = field(spec, "step_delim", "\n\n");
        break;
    case TTE_PRM_CLASSIFIER:
        p->prefix = field(spec, "prefix",
                          "<|im_start|>system\nPlease reason step by step, and put your final answer within "
                          "\\boxed{}.<|im_end|>\n<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n");
        p->step = field(spec, "step", "{step}<extra_0>");
        p->join = field(spec, "join", "");
        p->step_delim = field(spec, "step_delim", "\n\n");
        break;
    case TTE_PRM_VALUE:
        snprintf(buf, sizeof buf, "%s{problem}\n", bos ? bos : "");
        p->prefix = field(spec, "prefix", buf);
        p->step = field(spec, "step", "{step}\n");
        p->join = field(spec, "join", "");
        p->step_delim = field(spec, "step_delim", "\n");
        break;
    }
    if (p->kind == TTE_PRM_RLHFLOW) {
        /* The first user turn is the problem and the first step: "PROBLEM STEP". */
        const char *s = strstr(p->step, "{step}");
        snprintf(buf, sizeof buf, "%.*s{problem} %s", s ? (int)(s - p->step) : 0, p->step, s ? s : p->step);
        p->first_step = field(spec, "first_step", buf);
    } else {
        p->first_step = field(spec, "first_step", p->step);
    }
}

/* The kind a model's architecture serves, and which a tte_prm.json style may ask for. */
static int pick_kind(tte_prm *p, const char *style, const char *path, char *err, size_t errlen) {
    tte_head head = p->ses->cfg->head;
    tte_prm_kind from_head = head == TTE_HEAD_CLASSIFIER ? TTE_PRM_CLASSIFIER
                             : head == TTE_HEAD_VALUE    ? TTE_PRM_VALUE
                                                         : TTE_PRM_SHEPHERD;
    p->kind = from_head;
    if (!style) return 0;
    int found = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(style, kind_names[i]) == 0) found = i;
    if (found < 0)
        return tte_fail(err, errlen,
                        "%s: field \"style\": '%.60s' is not a kind of PRM tte reads (shepherd, rlhflow, "
                        "classifier, value)",
                        path, style);
    int lm = head == TTE_HEAD_LM, wants_lm = found == TTE_PRM_SHEPHERD || found == TTE_PRM_RLHFLOW;
    if (lm != wants_lm || (!lm && (tte_prm_kind)found != from_head))
        return tte_fail(err, errlen, "%s: field \"style\": '%s' needs %s, but config.json says %s", path, style,
                        wants_lm ? "a causal LM" : found == TTE_PRM_CLASSIFIER ? "Qwen2ForProcessRewardModel"
                                                                               : "Qwen2ForPrmModel",
                        p->ses->cfg->arch_name);
    p->kind = (tte_prm_kind)found;
    return 0;
}

tte_prm *tte_prm_open(tte_session *ses, const char *step_delim, char *err, size_t errlen) {
    tte_prm *p = tte_xcalloc(1, sizeof *p);
    p->ses = ses;
    char path[4200];
    snprintf(path, sizeof path, "%s/tte_prm.json", ses->model_dir);
    json_t *spec = NULL;
    FILE *f = fopen(path, "r");
    int rc = 0;
    if (f) {
        json_error_t je;
        spec = json_loadf(f, 0, &je);
        fclose(f);
        if (!spec) rc = tte_fail(err, errlen, "%.800s:%d: %.150s", path, je.line, je.text);
        else if (!json_is_object(spec)) rc = tte_fail(err, errlen, "%.800s: not a JSON object", path);
    }
    if (rc == 0) rc = pick_kind(p, json_string_value(json_object_get(spec, "style")), path, err, errlen);
    if (rc == 0) {
        set_defaults(p, spec);
        if (step_delim) free(p->step_delim), p->step_delim = tte_xstrdup(step_delim);
        if (!*p->step_delim) rc = tte_fail(err, errlen, "the step delimiter must not be empty");
        if (!p->join) p->join = tte_xstrdup(p->step_delim);
    }
    if (rc == 0 && (p->kind == TTE_PRM_SHEPHERD || p->kind == TTE_PRM_RLHFLOW)) {
        char *good = field(spec, "good", "+"), *bad = field(spec, "bad", "-");
        rc = label_id(p, path, "good", good, &p->good_id, err, errlen) ||
                     label_id(p, path, "bad", bad, &p->bad_id, err, errlen)
                 ? -1
                 : 0;
        free(good), free(bad);
    }
    json_decref(spec);
    if (rc != 0) {
        tte_prm_free(p);
        return NULL;
    }
    return p;
}

void tte_prm_free(tte_prm *p) {
    if (!p) return;
    free(p->prefix), free(p->first_step), free(p->step), free(p->join), free(p->step_delim);
    free(p);
}
