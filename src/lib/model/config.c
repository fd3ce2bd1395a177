/* config: config.json and generation_config.json of a Hugging Face model folder. */
#include "model/config.h"
#include "cli.h"
#include "errmsg.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* A positive integer KEY of O into OUT; DEF < 0 means the key is required. */
static int get_int(json_t *o, const char *name, const char *key, int def, int *out, char *err,
                   size_t errlen) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (def < 0) return tte_fail(err, errlen, "%s: missing key '%s'", name, key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return tte_fail(err, errlen, "%s: '%s' must be a positive integer", name, key);
    if (json_integer_value(v) > (1 << 30))
        return tte_fail(err, errlen, "%s: '%s' is %lld, more than tte takes (2^30)", name, key,
                        (long long)json_integer_value(v));
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_num(json_t *o, const char *name, const char *key, double def, double *out, char *err,
                   size_t errlen) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
        return tte_fail(err, errlen, "%s: '%s' must be a non-negative number", name, key);
    *out = json_number_value(v);
    return 0;
}

static int get_bool(json_t *o, const char *name, const char *key, int def, int *out, char *err,
                    size_t errlen) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        *out = def;
    else if (json_is_boolean(v))
        *out = json_is_true(v);
    else
        return tte_fail(err, errlen, "%s: '%s' must be true or false", name, key);
    return 0;
}

/* eos_token_id is an integer or a list of integers. */
static int get_eos(json_t *o, const char *name, tte_config *c, char *err, size_t errlen) {
    json_t *v = json_object_get(o, "eos_token_id");
    if (!v || json_is_null(v)) return 0;
    json_t *one = json_is_integer(v) ? v : NULL;
    size_t n = one ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (n == 0 || n > TTE_MAX_EOS)
        return tte_fail(err, errlen, "%s: 'eos_token_id' must be an id or a list of 1 to %d ids", name,
                        TTE_MAX_EOS);
    for (size_t i = 0; i < n; i++) {
        json_t *e = one ? one : json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) >= c->vocab_size)
            return tte_fail(err, errlen, "%s: 'eos_token_id' entries must be token ids below vocab_size %d",
                            name, c->vocab_size);
        c->eos[i] = (int)json_integer_value(e);
    }
    c->n_eos = (int)n;
    return 0;
}

static int parse_rope_scaling(json_t *o, const char *name, tte_config *c, char *err, size_t errlen) {
    json_t *rs = json_object_get(o, "rope_scaling");
    if (!rs || json_is_null(rs)) return 0;
    if (!json_is_object(rs))
        return tte_fail(err, errlen, "%s: 'rope_scaling' must be an object or null", name);
    json_t *t = json_object_get(rs, "rope_type");
    if (!t) t = json_object_get(rs, "type");
    const char *type = json_string_value(t);
    if (!type) return tte_fail(err, errlen, "%s: 'rope_scaling' has no 'rope_type'", name);
    if (strcmp(type, "default") == 0) return 0;
    if (strcmp(type, "llama3") != 0)
        return tte_fail(err, errlen, "%s: rope_scaling type '%s' is not supported (only llama3)", name, type);
    c->rope_llama3 = 1;
    const char *need[] = {"factor", "low_freq_factor", "high_freq_factor",
                          "original_max_position_embeddings"};
    for (int i = 0; i < 4; i++)
        if (!json_is_number(json_object_get(rs, need[i])))
            return tte_fail(err, errlen, "%s: rope_scaling: missing number '%s'", name, need[i]);
    if (get_num(rs, name, "factor", 1, &c->rope_factor, err, errlen) ||
        get_num(rs, name, "low_freq_factor", 1, &c->rope_low_freq_factor, err, errlen) ||
        get_num(rs, name, "high_freq_factor", 4, &c->rope_high_freq_factor, err, errlen) ||
        get_int(rs, name, "original_max_position_embeddings", -1, &c->rope_original_max_pos, err, errlen))
        return -1;
    if (c->rope_factor <= 0 || c->rope_high_freq_factor <= c->rope_low_freq_factor ||
        c->rope_low_freq_factor <= 0)
        return tte_fail(err, errlen,
                        "%s: rope_scaling: need factor > 0 and high_freq_factor > low_freq_factor > 0", name);
    return 0;
}

/* A number that must be present: KEY of O, or of the object SUB of O (NULL: none) when O lacks it. */
static int need_num(json_t *o, const char *name, const char *key, json_t *sub, const char *sub_key,
                    double *out, char *err, size_t errlen) {
    json_t *v = json_object_get(o, key);
    if ((!v || json_is_null(v)) && json_is_object(sub) && json_object_get(sub, sub_key))
        return get_num(sub, name, sub_key, 0, out, err, errlen);
    if (!v || json_is_null(v)) return tte_fail(err, errlen, "%s: missing key '%s'", name, key);
    return get_num(o, name, key, 0, out, err, errlen);
}

/* GPTNeoXForCausalLM (configuration_gpt_neox.py). The keys that change the arithmetic are required
 * (layer_norm_eps, rotary_pct, use_parallel_residual), as every Pythia config states them; newer
 * transformers write rotary_pct and rotary_emb_base as rope_parameters' partial_rotary_factor and
 * rope_theta, which are read when the old keys are absent. */
static int parse_gpt_neox(json_t *o, const char *name, tte_config *c, char *err, size_t errlen) {
    if (get_int(o, name, "vocab_size", -1, &c->vocab_size, err, errlen) ||
        get_int(o, name, "hidden_size", -1, &c->hidden_size, err, errlen) ||
        get_int(o, name, "intermediate_size", -1, &c->intermediate_size, err, errlen) ||
        get_int(o, name, "num_hidden_layers", -1, &c->n_layers, err, errlen) ||
        get_int(o, name, "num_attention_heads", -1, &c->n_heads, err, errlen) ||
        get_int(o, name, "max_position_embeddings", -1, &c->max_position_embeddings, err, errlen))
        return -1;
    if (c->hidden_size % c->n_heads != 0)
        return tte_fail(err, errlen, "%s: hidden_size %d is not a multiple of num_attention_heads %d", name,
                        c->hidden_size, c->n_heads);
    c->n_kv_heads = c->n_heads;
    c->head_dim = c->hidden_size / c->n_heads;
    if (c->head_dim % 2 != 0)
        return tte_fail(err, errlen, "%s: the head size %d (hidden_size / num_attention_heads) must be even",
                        name, c->head_dim);
    json_t *rp = json_object_get(o, "rope_parameters");
    double pct = 0;
    if (need_num(o, name, "layer_norm_eps", NULL, NULL, &c->layer_norm_eps, err, errlen) ||
        need_num(o, name, "rotary_pct", rp, "partial_rotary_factor", &pct, err, errlen))
        return -1;
    if (pct > 1) return tte_fail(err, errlen, "%s: 'rotary_pct' must be in [0, 1]", name);
    c->rotary_dim = (int)(c->head_dim * pct); /* transformers: int(head_size * rotary_pct) */
    if (c->rotary_dim % 2 != 0)
        return tte_fail(err, errlen,
                        "%s: 'rotary_pct' %g gives %d rotary dims of the head size %d: must be even", name,
                        pct, c->rotary_dim, c->head_dim);
    json_t *base = json_object_get(o, "rotary_emb_base");
    if (base && !json_is_null(base)) {
        if (get_num(o, name, "rotary_emb_base", 10000.0, &c->rope_theta, err, errlen)) return -1;
    } else if (json_is_object(rp) && json_object_get(rp, "rope_theta")) {
        if (get_num(rp, name, "rope_theta", 10000.0, &c->rope_theta, err, errlen)) return -1;
    } else
        c->rope_theta = 10000.0;
    if (c->rope_theta <= 0) return tte_fail(err, errlen, "%s: 'rotary_emb_base' must be positive", name);
    json_t *par = json_object_get(o, "use_parallel_residual");
    if (!par || json_is_null(par))
        return tte_fail(err, errlen, "%s: missing key 'use_parallel_residual'", name);
    if (get_bool(o, name, "use_parallel_residual", 1, &c->parallel_residual, err, errlen) ||
        get_bool(o, name, "attention_bias", 1, &c->qkv_bias, err, errlen) ||
        get_bool(o, name, "tie_word_embeddings", 0, &c->tie_word_embeddings, err, errlen))
        return -1;
    json_t *act = json_object_get(o, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "gelu") != 0))
        return tte_fail(err, errlen, "%s: hidden_act must be 'gelu' (the exact erf GELU)", name);
    json_t *rs = json_object_get(o, "rope_scaling");
    const char *rs_type = json_string_value(json_object_get(rs, "rope_type"));
    if (!rs_type) rs_type = json_string_value(json_object_get(rs, "type"));
    if (rs && !json_is_null(rs) && !(rs_type && strcmp(rs_type, "default") == 0))
        return tte_fail(err, errlen, "%s: rope_scaling is not supported for GPTNeoXForCausalLM", name);
    rs_type = json_string_value(json_object_get(rp, "rope_type"));
    if (rs_type && strcmp(rs_type, "default") != 0)
        return tte_fail(err, errlen, "%s: rope_parameters type '%s' is not supported (only default)", name,
                        rs_type);
    return 0;
}

static int parse_obj(json_t *o, const char *name, tte_config *c, char *err, size_t errlen) {
    json_t *archs = json_object_get(o, "architectures");
    const char *arch = json_string_value(json_array_get(archs, 0));
    if (!arch) return tte_fail(err, errlen, "%s: missing key 'architectures'", name);
    static const struct {
        const char *name;
        tte_arch arch;
        tte_head head;
    } known[] = {{"Qwen2ForCausalLM", TTE_ARCH_QWEN2, TTE_HEAD_LM},
                 {"Qwen3ForCausalLM", TTE_ARCH_QWEN3, TTE_HEAD_LM},
                 {"LlamaForCausalLM", TTE_ARCH_LLAMA, TTE_HEAD_LM},
                 {"GPTNeoXForCausalLM", TTE_ARCH_GPT_NEOX, TTE_HEAD_LM},
                 {"Qwen2ForProcessRewardModel", TTE_ARCH_QWEN2, TTE_HEAD_CLASSIFIER},
                 {"Qwen2ForPrmModel", TTE_ARCH_QWEN2, TTE_HEAD_VALUE}};
    c->arch_name = NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(arch, known[i].name) == 0) {
            c->arch = known[i].arch;
            c->head = known[i].head;
            c->arch_name = known[i].name;
        }
    if (!c->arch_name)
        return tte_fail(err, errlen,
                        "%s: architecture '%s' is not supported (Qwen2, Qwen3, Llama, GPTNeoX causal LMs; "
                        "Qwen2ForProcessRewardModel, Qwen2ForPrmModel reward models)",
                        name, arch);
    c->n_eos = 0;
    c->bos = -1;
    c->do_sample = 1;
    c->temperature = 1.0;
    c->top_p = 1.0;
    c->top_k = 0;
    if (c->arch == TTE_ARCH_GPT_NEOX)
        return parse_gpt_neox(o, name, c, err, errlen) ? -1 : get_eos(o, name, c, err, errlen);

    if (get_int(o, name, "vocab_size", -1, &c->vocab_size, err, errlen) ||
        get_int(o, name, "hidden_size", -1, &c->hidden_size, err, errlen) ||
        get_int(o, name, "intermediate_size", -1, &c->intermediate_size, err, errlen) ||
        get_int(o, name, "num_hidden_layers", -1, &c->n_layers, err, errlen) ||
        get_int(o, name, "num_attention_heads", -1, &c->n_heads, err, errlen) ||
        get_int(o, name, "num_key_value_heads", c->n_heads, &c->n_kv_heads, err, errlen) ||
        get_int(o, name, "max_position_embeddings", -1, &c->max_position_embeddings, err, errlen))
        return -1;
    /* Qwen3 always states head_dim; transformers derives it for the others when absent. */
    int derived = c->hidden_size / c->n_heads;
    if (get_int(o, name, "head_dim", c->arch == TTE_ARCH_QWEN3 ? -1 : derived, &c->head_dim, err, errlen))
        return -1;
    if (!json_object_get(o, "rms_norm_eps"))
        return tte_fail(err, errlen, "%s: missing key 'rms_norm_eps'", name);
    if (get_num(o, name, "rms_norm_eps", 1e-6, &c->rms_norm_eps, err, errlen) ||
        get_num(o, name, "rope_theta", 10000.0, &c->rope_theta, err, errlen) ||
        get_bool(o, name, "tie_word_embeddings", 0, &c->tie_word_embeddings, err, errlen))
        return -1;
    if (c->rope_theta <= 0) return tte_fail(err, errlen, "%s: 'rope_theta' must be positive", name);
    if (c->n_heads % c->n_kv_heads != 0)
        return tte_fail(err, errlen, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                        name, c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2 != 0)
        return tte_fail(err, errlen, "%s: head_dim %d must be even for RoPE", name, c->head_dim);
    if (c->arch != TTE_ARCH_QWEN3 && !json_object_get(o, "head_dim") && c->hidden_size % c->n_heads != 0)
        return tte_fail(err, errlen, "%s: hidden_size %d is not a multiple of num_attention_heads %d", name,
                        c->hidden_size, c->n_heads);

    json_t *act = json_object_get(o, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "silu") != 0))
        return tte_fail(err, errlen, "%s: hidden_act must be 'silu'", name);
    int flag = 0;
    if (get_bool(o, name, "use_sliding_window", 0, &flag, err, errlen)) return -1;
    if (flag) return tte_fail(err, errlen, "%s: use_sliding_window is not supported", name);
    if (get_bool(o, name, "attention_bias", 0, &flag, err, errlen)) return -1;
    if (flag && c->arch != TTE_ARCH_QWEN2)
        return tte_fail(err, errlen, "%s: attention_bias is not supported", name);
    if (get_bool(o, name, "mlp_bias", 0, &flag, err, errlen)) return -1;
    if (flag) return tte_fail(err, errlen, "%s: mlp_bias is not supported", name);
    c->qkv_bias = c->arch == TTE_ARCH_QWEN2;
    c->qk_norm = c->arch == TTE_ARCH_QWEN3;
    c->rope_llama3 = 0;
    if (parse_rope_scaling(o, name, c, err, errlen)) return -1;
    c->rotary_dim = c->head_dim;
    c->parallel_residual = 0;
    return get_eos(o, name, c, err, errlen);
}

/* A JSON text that did not parse: out of memory exits, anything else is the file's error. */
static int json_fail(const char *name, const json_error_t *je, char *err, size_t errlen) {
    if (json_error_code(je) == json_error_out_of_memory) tte_die("out of memory");
    return tte_fail(err, errlen, "%s:%d: %s", name, je->line, je->text);
}

int tte_config_parse(const char *text, size_t len, const char *name, tte_config *c, char *err,
                     size_t errlen) {
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return json_fail(name, &je, err, errlen);
    memset(c, 0, sizeof *c);
    int rc = json_is_object(o) ? parse_obj(o, name, c, err, errlen)
                               : tte_fail(err, errlen, "%s: not an object", name);
    json_decref(o);
    return rc;
}

int tte_config_parse_generation(const char *text, size_t len, const char *name, tte_config *c, char *err,
                                size_t errlen) {
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return json_fail(name, &je, err, errlen);
    int rc = -1;
    json_t *bos = json_object_get(o, "bos_token_id"), *top_k = json_object_get(o, "top_k");
    if (!json_is_object(o))
        tte_fail(err, errlen, "%s: not an object", name);
    else if (get_eos(o, name, c, err, errlen) ||
             get_bool(o, name, "do_sample", c->do_sample, &c->do_sample, err, errlen) ||
             get_num(o, name, "temperature", c->temperature, &c->temperature, err, errlen) ||
             get_num(o, name, "top_p", c->top_p, &c->top_p, err, errlen))
        ;
    else if (c->top_p > 1)
        tte_fail(err, errlen, "%s: 'top_p' must be in [0, 1]", name);
    else if (top_k && !json_is_null(top_k) &&
             (!json_is_integer(top_k) || json_integer_value(top_k) < 0 ||
              json_integer_value(top_k) > (1 << 30)))
        tte_fail(err, errlen, "%s: 'top_k' must be a non-negative integer", name);
    else
        rc = 0;
    if (rc == 0 && json_is_integer(top_k)) c->top_k = (int)json_integer_value(top_k);
    if (rc == 0 && json_is_integer(bos)) c->bos = (int)json_integer_value(bos);
    json_decref(o);
    return rc;
}

int tte_config_is_eos(const tte_config *c, int token) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos[i] == token) return 1;
    return 0;
}

/* Reads PATH whole; NULL with a message when it cannot. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        tte_fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 0, n = 0, r;
    char *buf = NULL;
    do {
        TTE_GROW(buf, cap, n + 4096);
        n += r = fread(buf + n, 1, cap - n, f);
    } while (r > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        tte_fail(err, errlen, "%s: read error", path);
        return NULL;
    }
    *len = n;
    return buf;
}

int tte_config_load(const char *dir, tte_config *c, char *err, size_t errlen) {
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = slurp(path, &len, err, errlen);
    if (!text) return -1;
    int rc = tte_config_parse(text, len, path, c, err, errlen);
    XXH3_state_t *h = XXH3_createState();
    if (!h) tte_die("out of memory");
    XXH3_128bits_reset(h);
    XXH3_128bits_update(h, text, len);
    free(text);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (rc == 0 && access(path, F_OK) == 0) {
        if (!(text = slurp(path, &len, err, errlen)))
            rc = -1;
        else {
            rc = tte_config_parse_generation(text, len, path, c, err, errlen);
            XXH3_128bits_update(h, "\0", 1); /* separates the two texts */
            XXH3_128bits_update(h, text, len);
            free(text);
        }
    }
    XXH128_hash_t d = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    c->source_key = (tte_key){d.high64, d.low64};
    return rc;
}
