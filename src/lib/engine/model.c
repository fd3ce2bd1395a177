/* model: binds a folder's config to the tensors of its safetensors files. */
#include "engine/model.h"
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

struct tte_model {
    char *dir;
    tte_config config;
    tte_st_set *st;
    tte_weights w;
    tte_key hash;
};

/* Finds NAME with shape (rows, cols), or (cols) when rows == 0, in a float dtype. */
static int bind(tte_model *m, const char *name, int rows, int cols, tte_mat *out, char *err, size_t errlen) {
    const tte_st_tensor *t = tte_st_find(m->st, name);
    if (!t) return tte_fail(err, errlen, "%s: tensor '%s' is missing", m->dir, name);
    if (t->dtype != TTE_DT_F32 && t->dtype != TTE_DT_F16 && t->dtype != TTE_DT_BF16)
        return tte_fail(err, errlen, "%s: tensor '%s' has dtype %s (need F32, F16 or BF16)", t->file, name,
                        tte_dtype_name(t->dtype));
    int ok = rows ? t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols
                  : t->ndim == 1 && t->shape[0] == cols;
    if (!ok) {
        char got[128] = "";
        for (int i = 0; i < t->ndim && strlen(got) < 100; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "",
                     (long long)t->shape[i]);
        if (rows)
            return tte_fail(err, errlen, "%s: tensor '%s' has shape [%s], expected [%d, %d]", t->file, name,
                            got, rows, cols);
        return tte_fail(err, errlen, "%s: tensor '%s' has shape [%s], expected [%d]", t->file, name, got,
                        cols);
    }
    *out = (tte_mat){t->data, t->dtype, rows ? rows : 1, cols};
    return 0;
}

static int bind_layer(tte_model *m, int l, char *err, size_t errlen) {
    const tte_config *c = &m->config;
    tte_layer_weights *L = &m->w.layers[l];
    int H = c->hidden_size, q = c->n_heads * c->head_dim, kv = c->n_kv_heads * c->head_dim,
        I = c->intermediate_size;
    char n[160];
#define BIND(field, suffix, rows, cols)                                                                      \
    do {                                                                                                     \
        snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix);                                              \
        if (bind(m, n, rows, cols, &L->field, err, errlen)) return -1;                                       \
    } while (0)
    BIND(attn_norm, "input_layernorm.weight", 0, H);
    BIND(wq, "self_attn.q_proj.weight", q, H);
    BIND(wk, "self_attn.k_proj.weight", kv, H);
    BIND(wv, "self_attn.v_proj.weight", kv, H);
    if (c->qkv_bias) {
        BIND(bq, "self_attn.q_proj.bias", 0, q);
        BIND(bk, "self_attn.k_proj.bias", 0, kv);
        BIND(bv, "self_attn.v_proj.bias", 0, kv);
    }
    if (c->qk_norm) {
        BIND(q_norm, "self_attn.q_norm.weight", 0, c->head_dim);
        BIND(k_norm, "self_attn.k_norm.weight", 0, c->head_dim);
    }
    BIND(wo, "self_attn.o_proj.weight", H, q);
    BIND(mlp_norm, "post_attention_layernorm.weight", 0, H);
    BIND(w_gate, "mlp.gate_proj.weight", I, H);
    BIND(w_up, "mlp.up_proj.weight", I, H);
    BIND(w_down, "mlp.down_proj.weight", H, I);
#undef BIND
    return 0;
}

/* transformers' GPTNeoXForCausalLM tensor names. */
static int bind_neox_layer(tte_model *m, int l, char *err, size_t errlen) {
    const tte_config *c = &m->config;
    tte_layer_weights *L = &m->w.layers[l];
    int H = c->hidden_size, I = c->intermediate_size;
    char n[160];
#define BIND(field, suffix, rows, cols)                                                                      \
    do {                                                                                                     \
        snprintf(n, sizeof n, "gpt_neox.layers.%d.%s", l, suffix);                                           \
        if (bind(m, n, rows, cols, &L->field, err, errlen)) return -1;                                       \
    } while (0)
    BIND(attn_norm, "input_layernorm.weight", 0, H);
    BIND(attn_norm_b, "input_layernorm.bias", 0, H);
    BIND(wqkv, "attention.query_key_value.weight", 3 * H, H);
    BIND(wo, "attention.dense.weight", H, H);
    if (c->qkv_bias) {
        BIND(bqkv, "attention.query_key_value.bias", 0, 3 * H);
        BIND(bo, "attention.dense.bias", 0, H);
    }
    BIND(mlp_norm, "post_attention_layernorm.weight", 0, H);
    BIND(mlp_norm_b, "post_attention_layernorm.bias", 0, H);
    BIND(w_up, "mlp.dense_h_to_4h.weight", I, H);
    BIND(b_up, "mlp.dense_h_to_4h.bias", 0, I);
    BIND(w_down, "mlp.dense_4h_to_h.weight", H, I);
    BIND(b_down, "mlp.dense_4h_to_h.bias", 0, H);
#undef BIND
    return 0;
}

/* The reward head of config.h's tte_head, bound instead of lm_head. */
static int bind_head(tte_model *m, char *err, size_t errlen) {
    const tte_config *c = &m->config;
    int H = c->hidden_size;
    tte_weights *w = &m->w;
    if (c->head == TTE_HEAD_VALUE)
        return bind(m, "v_head.summary.weight", 1, H, &w->head_out, err, errlen) ||
                       bind(m, "v_head.summary.bias", 0, 1, &w->head_out_b, err, errlen)
                   ? -1
                   : 0;
    /* The classifier's label count is its last layer's rows: configs rarely say it. */
    const tte_st_tensor *t = tte_st_find(m->st, "score.2.weight");
    int labels = t && t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= 1024 ? (int)t->shape[0] : 2;
    return bind(m, "score.0.weight", H, H, &w->head_mid, err, errlen) ||
                   bind(m, "score.0.bias", 0, H, &w->head_mid_b, err, errlen) ||
                   bind(m, "score.2.weight", labels, H, &w->head_out, err, errlen) ||
                   bind(m, "score.2.bias", 0, labels, &w->head_out_b, err, errlen)
               ? -1
               : 0;
}

static void compute_hash(tte_model *m) {
    XXH3_state_t *h = XXH3_createState();
    XXH3_128bits_reset(h);
    XXH3_128bits_update(h, &m->config.source_key, sizeof m->config.source_key);
    for (int i = 0; i < tte_st_nfiles(m->st); i++) {
        const char *path;
        size_t size, hlen;
        const void *header;
        tte_st_file_info(m->st, i, &path, &size, &header, &hlen);
        uint64_t sz = size;
        XXH3_128bits_update(h, &sz, sizeof sz);
        XXH3_128bits_update(h, header, hlen);
    }
    XXH128_hash_t d = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    m->hash = (tte_key){d.high64, d.low64};
}

/* The config's layer count against the layers the weights hold (PREFIX N. names): a config that
 * says more would read tensors that are not there (or allocate for a billion layers first), one
 * that says fewer would leave trained layers out without a word. */
static int check_layer_count(const tte_model *m, const char *prefix, char *err, size_t errlen) {
    long long most = -1;
    size_t plen = strlen(prefix);
    for (int i = 0; i < tte_st_count(m->st); i++) {
        const char *name = tte_st_at(m->st, i)->name;
        if (strncmp(name, prefix, plen) != 0) continue;
        long long l = strtoll(name + plen, NULL, 10);
        if (l > most) most = l;
    }
    if (most + 1 == m->config.n_layers) return 0;
    return tte_fail(err, errlen, "%s/config.json: field \"num_hidden_layers\": %d, but the weights hold %lld layers",
                    m->dir, m->config.n_layers, most + 1);
}

tte_model *tte_model_load(const char *dir, char *err, size_t errlen) {
    tte_model *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        tte_fail(err, errlen, "out of memory");
        tte_model_free(m);
        return NULL;
    }
    const tte_config *c = &m->config;
    int rc = tte_config_load(dir, &m->config, err, errlen);
    if (rc == 0 && !(m->st = tte_st_open_dir(dir, err, errlen))) rc = -1;
    int neox = c->arch == TTE_ARCH_GPT_NEOX;
    if (rc == 0) rc = check_layer_count(m, neox ? "gpt_neox.layers." : "model.layers.", err, errlen);
    if (rc == 0 && !(m->w.layers = calloc((size_t)c->n_layers, sizeof *m->w.layers)))
        rc = tte_fail(err, errlen, "out of memory");
    if (rc == 0)
        rc = bind(m, neox ? "gpt_neox.embed_in.weight" : "model.embed_tokens.weight", c->vocab_size,
                  c->hidden_size, &m->w.embed, err, errlen);
    for (int l = 0; rc == 0 && l < c->n_layers; l++)
        rc = neox ? bind_neox_layer(m, l, err, errlen) : bind_layer(m, l, err, errlen);
    if (rc == 0)
        rc = bind(m, neox ? "gpt_neox.final_layer_norm.weight" : "model.norm.weight", 0, c->hidden_size,
                  &m->w.final_norm, err, errlen);
    if (rc == 0 && neox)
        rc = bind(m, "gpt_neox.final_layer_norm.bias", 0, c->hidden_size, &m->w.final_norm_b, err, errlen);
    if (rc == 0 && c->head != TTE_HEAD_LM)
        rc = bind_head(m, err, errlen);
    else if (rc == 0 && c->tie_word_embeddings)
        m->w.lm_head = m->w.embed;
    else if (rc == 0)
        rc = bind(m, neox ? "embed_out.weight" : "lm_head.weight", c->vocab_size, c->hidden_size,
                  &m->w.lm_head, err, errlen);
    if (rc != 0) {
        tte_model_free(m);
        return NULL;
    }
    compute_hash(m);
    return m;
}

void tte_model_free(tte_model *m) {
    if (!m) return;
    tte_st_close(m->st);
    free(m->w.layers);
    free(m->dir);
    free(m);
}

const tte_config *tte_model_config(const tte_model *m) { return &m->config; }
int tte_model_out_width(const tte_model *m) { return m->w.head_out.data ? m->w.head_out.rows : m->config.vocab_size; }
const tte_weights *tte_model_weights(const tte_model *m) { return &m->w; }
const char *tte_model_dir(const tte_model *m) { return m->dir; }
tte_key tte_model_hash(const tte_model *m) { return m->hash; }
size_t tte_model_mapped_bytes(const tte_model *m) { return tte_st_mapped_bytes(m->st); }

static size_t mat_bytes(const tte_mat *w) {
    return w->data ? (size_t)w->rows * (size_t)w->cols * tte_dtype_size(w->dtype) : 0;
}

size_t tte_model_bytes_per_token(const tte_model *m) {
    size_t n = mat_bytes(&m->w.final_norm) + mat_bytes(&m->w.final_norm_b) + mat_bytes(&m->w.lm_head) +
               mat_bytes(&m->w.head_mid) + mat_bytes(&m->w.head_mid_b) + mat_bytes(&m->w.head_out) +
               mat_bytes(&m->w.head_out_b);
    n += (size_t)m->w.embed.cols * tte_dtype_size(m->w.embed.dtype);
    for (int l = 0; l < m->config.n_layers; l++) {
        const tte_layer_weights *L = &m->w.layers[l];
        const tte_mat *all[] = {
            &L->attn_norm,   &L->wq,         &L->wk,   &L->wv,       &L->bq,     &L->bk,   &L->bv,
            &L->q_norm,      &L->k_norm,     &L->wo,   &L->mlp_norm, &L->w_gate, &L->w_up, &L->w_down,
            &L->attn_norm_b, &L->mlp_norm_b, &L->wqkv, &L->bqkv,     &L->bo,     &L->b_up, &L->b_down};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) n += mat_bytes(all[i]);
    }
    return n;
}

static float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half to float, including subnormals, infinities and NaN. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0x1f)
        u = sign | 0x7f800000u | man << 13;
    else if (exp != 0)
        u = sign | (exp + 112) << 23 | man << 13;
    else if (man == 0)
        u = sign;
    else {
        /* Subnormal: shift the mantissa up to normal form. */
        exp = 113;
        while (!(man & 0x400)) man <<= 1, exp--;
        u = sign | exp << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float tte_mat_get(const tte_mat *w, size_t i) {
    switch (w->dtype) {
    case TTE_DT_BF16:
        return bf16_to_f32(((const uint16_t *)w->data)[i]);
    case TTE_DT_F16:
        return f16_to_f32(((const uint16_t *)w->data)[i]);
    default:
        return ((const float *)w->data)[i];
    }
}

void tte_mat_row(const tte_mat *w, int r, float *out) {
    tte_mat_floats(w, (size_t)r * (size_t)w->cols, w->cols, out);
}

void tte_mat_floats(const tte_mat *w, size_t first, int n, float *out) {
    const uint16_t *h = (const uint16_t *)w->data + first;
    switch (w->dtype) {
    case TTE_DT_BF16:
        for (int i = 0; i < n; i++) out[i] = bf16_to_f32(h[i]);
        break;
    case TTE_DT_F16:
        for (int i = 0; i < n; i++) out[i] = f16_to_f32(h[i]);
        break;
    default:
        memcpy(out, (const float *)w->data + first, (size_t)n * sizeof *out);
        break;
    }
}
