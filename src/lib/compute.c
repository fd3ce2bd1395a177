/* compute: see compute.h. */
#include "compute.h"

#include <stdio.h>

static double mat_params(const tte_mat *w) { return w->data && w->rows > 1 ? (double)w->rows * w->cols : 0; }

void tte_cost_model_of(tte_cost_model *cm, const tte_model *m) {
    const tte_config *c = tte_model_config(m);
    const tte_weights *w = tte_model_weights(m);
    double p = mat_params(&w->lm_head) + mat_params(&w->head_mid) +
               (w->head_out.data ? (double)w->head_out.rows * w->head_out.cols : 0);
    for (int l = 0; l < c->n_layers; l++) {
        const tte_layer_weights *L = &w->layers[l];
        const tte_mat *all[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down, &L->wqkv};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) p += mat_params(all[i]);
    }
    cm->matrix_params = p;
    cm->weight_bytes = (double)tte_model_bytes_per_token(m);
    cm->attn_flops_per_key = 4.0 * c->n_layers * c->n_heads * c->head_dim;
    cm->kv_bytes_per_key = 2.0 * c->n_layers * c->n_kv_heads * c->head_dim * 2;
}

void tte_cost_step(tte_cost *c, const tte_cost_model *cm, long first, long n, int generated, double share) {
    if (n <= 0) return;
    /* Keys attended over the step: (first + 1) + ... + (first + n). */
    double keys = (double)n * (double)first + (double)n * (double)(n + 1) / 2;
    c->tokens_fed += (double)n;
    if (generated) c->tokens_generated += (double)n;
    c->flops += 2 * cm->matrix_params * (double)n + cm->attn_flops_per_key * keys;
    c->bytes += cm->weight_bytes / (share > 1 ? share : 1) + cm->kv_bytes_per_key * keys;
}

void tte_cost_decode(tte_cost *c, const tte_cost_model *cm, long first, long n, double share) {
    if (n <= 0) return;
    /* Each token its own step; summed in closed form, as tte_cost_step would one by one. */
    double keys = (double)n * (double)first + (double)n * (double)(n + 1) / 2;
    c->tokens_fed += (double)n;
    c->tokens_generated += (double)n;
    c->flops += 2 * cm->matrix_params * (double)n + cm->attn_flops_per_key * keys;
    c->bytes += (double)n * cm->weight_bytes / (share > 1 ? share : 1) + cm->kv_bytes_per_key * keys;
}

void tte_cost_set(json_t *rec, const char *prefix, const tte_cost *c) {
    char key[64];
    if (!*prefix) {
        json_object_set_new(rec, "tokens_generated", json_integer((json_int_t)c->tokens_generated));
    }
    snprintf(key, sizeof key, "%stokens_fed", prefix);
    json_object_set_new(rec, key, json_integer((json_int_t)c->tokens_fed));
    snprintf(key, sizeof key, "%sflops", prefix);
    json_object_set_new(rec, key, json_real(c->flops));
    snprintf(key, sizeof key, "%sbytes", prefix);
    json_object_set_new(rec, key, json_real(c->bytes));
}
