/* tokenizer: loading tokenizer.json and tokenizer_config.json, decoding and lookups (see
 * tokenizer.h; encoding is in pretok.c and bpe.c). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "tokenizer_impl.h"
#include "utf8.h"
#include "xalloc.h"

/* ---- the byte-level alphabet ----
 * GPT-2's bytes_to_unicode: the printable bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF stand for
 * themselves; the other 68 bytes are given the code points 256, 257, ... in byte order, so that every
 * vocabulary entry is printable text. */
#define ALPHABET_LIMIT (256 + 68)

static void build_alphabet(int16_t char_to_byte[ALPHABET_LIMIT]) {
    int next = 256;
    for (int c = 0; c < ALPHABET_LIMIT; c++) char_to_byte[c] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        char_to_byte[printable ? b : next++] = (int16_t)b;
    }
}

/* Decodes the UTF-8 code point at S (valid UTF-8, as jansson guarantees) and advances *I. */
static uint32_t next_code_point(const unsigned char *s, size_t *i) {
    uint32_t c = s[*i];
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    c &= extra == 0 ? 0x7F : (0x3F >> extra);
    (*i)++;
    while (extra--) c = c << 6 | (s[(*i)++] & 0x3F);
    return c;
}

/* Translates token text TEXT[0..LEN) of the byte-level alphabet into the bytes it stands for, in
 * OUT (at least LEN bytes). Returns the byte count, or -1 when a character is outside the alphabet
 * (the ByteLevel decoder then gives the text's own UTF-8 bytes). */
static long alphabet_to_bytes(const int16_t *char_to_byte, const char *text, size_t len, char *out) {
    size_t i = 0, n = 0;
    while (i < len) {
        uint32_t c = next_code_point((const unsigned char *)text, &i);
        if (c >= ALPHABET_LIMIT || char_to_byte[c] < 0) return -1;
        out[n++] = (char)char_to_byte[c];
    }
    return (long)n;
}

/* ---- errors ---- */

/* Messages quote the file's text (a token, a JSON error's context); control characters there would
 * break the one-line rule, so they become spaces. */
static void one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
} load_ctx;

static int fail(load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(load_ctx *c, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
    one_line(c->err);
    return -1;
}

/* A JSON field that must be absent, null, false, 0 or the empty string: a feature tte lacks. */
static int require_unset(load_ctx *c, json_t *obj, const char *field, const char *where) {
    json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v) || json_is_false(v) || (json_is_string(v) && !*json_string_value(v)) ||
        (json_is_number(v) && json_number_value(v) == 0))
        return 0;
    return fail(c, "%s.%s is set: not supported", where, field);
}

static const char *type_of(json_t *obj) {
    json_t *v = json_object_get(obj, "type");
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- vocabulary ---- */

/* Ids index arrays; real vocabularies stay below 2^18, so 2^24 only guards against absurd ids. */
#define MAX_IDS (1 << 24)

static void set_token_bytes(tte_tokenizer *t, size_t *arena_len, int32_t id, const char *bytes, size_t len) {
    t->tok_off[id] = (uint32_t)*arena_len;
    t->tok_len[id] = (uint32_t)len;
    memcpy(t->tok_bytes + *arena_len, bytes, len);
    *arena_len += len;
}

static int load_id(load_ctx *c, json_t *v, const char *what, int32_t *id) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= MAX_IDS)
        return fail(c, "%s: the id is not an integer in [0, %d)", what, MAX_IDS);
    *id = (int32_t)json_integer_value(v);
    return 0;
}

/* Reads model.vocab and added_tokens into the id -> bytes table and the bytes -> id map. */
static int load_vocab(load_ctx *c, tte_tokenizer *t, json_t *vocab, json_t *added, const int16_t *alphabet) {
    size_t arena_cap = 0;
    int32_t max_id = -1, id;
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        if (load_id(c, v, "model.vocab", &id) != 0) return -1;
        if (id > max_id) max_id = id;
        arena_cap += strlen(key);
    }
    t->n_added = json_array_size(added);
    t->added = tte_xcalloc(t->n_added, sizeof *t->added);
    for (size_t i = 0; i < t->n_added; i++) {
        json_t *a = json_array_get(added, i), *content = json_object_get(a, "content");
        if (!json_is_object(a) || !json_is_string(content))
            return fail(c, "added_tokens[%zu]: not an object with a string \"content\"", i);
        char where[64];
        snprintf(where, sizeof where, "added_tokens[%zu]", i);
        if (load_id(c, json_object_get(a, "id"), where, &id) != 0) return -1;
        if (require_unset(c, a, "lstrip", where) || require_unset(c, a, "rstrip", where) ||
            require_unset(c, a, "single_word", where))
            return -1;
        tte_added_token *tok = &t->added[i];
        tok->len = json_string_length(content);
        tok->text = tte_xmalloc(tok->len + 1);
        memcpy(tok->text, json_string_value(content), tok->len + 1);
        tok->id = id;
        tok->special = json_is_true(json_object_get(a, "special"));
        tok->normalized = json_is_true(json_object_get(a, "normalized"));
        if (id > max_id) max_id = id;
        arena_cap += tok->len;
    }
    if (max_id < 0) return fail(c, "model.vocab is empty");
    t->n_ids = max_id + 1;
    t->tok_off = tte_xmalloc((size_t)t->n_ids * sizeof *t->tok_off);
    t->tok_len = tte_xcalloc((size_t)t->n_ids, sizeof *t->tok_len);
    t->special = tte_xcalloc((size_t)t->n_ids, 1);
    t->tok_bytes = tte_xmalloc(arena_cap + 1);
    tte_strmap_init(&t->vocab, json_object_size(vocab));
    memset(t->tok_off, 0xff, (size_t)t->n_ids * sizeof *t->tok_off);

    size_t arena_len = 0;
    char *buf = tte_xmalloc(arena_cap + 1);
    json_object_foreach(vocab, key, v) {
        size_t len = strlen(key);
        long n = alphabet_to_bytes(alphabet, key, len, buf);
        id = (int32_t)json_integer_value(v);
        if (n < 0) { /* not spelled in the alphabet: unreachable by BPE, decodes to its own text */
            set_token_bytes(t, &arena_len, id, key, len);
        } else {
            set_token_bytes(t, &arena_len, id, buf, (size_t)n);
            tte_strmap_put(&t->vocab, buf, (size_t)n, id);
        }
    }
    /* An added token's id decodes to its content, through the alphabet when it is spelled in it. */
    for (size_t i = 0; i < t->n_added; i++) {
        tte_added_token *tok = &t->added[i];
        long n = alphabet_to_bytes(alphabet, tok->text, tok->len, buf);
        if (n < 0)
            set_token_bytes(t, &arena_len, tok->id, tok->text, tok->len);
        else
            set_token_bytes(t, &arena_len, tok->id, buf, (size_t)n);
        t->special[tok->id] = (uint8_t)tok->special;
    }
    free(buf);
    for (int b = 0; b < 256; b++) {
        char byte = (char)b;
        t->byte_id[b] = tte_strmap_get(&t->vocab, &byte, 1);
    }
    tte_added_matcher_build(&t->raw_added, t->added, t->n_added, 0);
    tte_added_matcher_build(&t->norm_added, t->added, t->n_added, 1);
    return 0;
}

/* The bytes -> id look-up of merge part TEXT, or -1 with the error set. *SKIP is set for a part
 * outside the alphabet: such a merge can never apply to byte-level input. */
static int32_t merge_part(load_ctx *c, tte_tokenizer *t, const int16_t *alphabet, const char *text,
                          size_t len, char *buf, long *n, size_t rank, int *skip) {
    *n = alphabet_to_bytes(alphabet, text, len, buf);
    if (*n < 0) {
        *skip = 1;
        return 0;
    }
    int32_t id = tte_strmap_get(&t->vocab, buf, (size_t)*n);
    if (id < 0) fail(c, "model.merges[%zu]: \"%.*s\" is not in the vocabulary", rank, (int)len, text);
    return id;
}

static int load_merges(load_ctx *c, tte_tokenizer *t, json_t *merges, const int16_t *alphabet) {
    if (!json_is_array(merges)) return fail(c, "model.merges is not an array");
    tte_merges_init(&t->merges, json_array_size(merges));
    char *buf = NULL;
    size_t bufcap = 0;
    for (size_t rank = 0; rank < json_array_size(merges); rank++) {
        json_t *m = json_array_get(merges, rank);
        const char *left, *right;
        size_t left_len, right_len;
        if (json_is_string(m)) { /* "a b": tokens never hold a space (it is Ġ in the alphabet) */
            left = json_string_value(m);
            const char *space = strchr(left, ' ');
            if (!space || strchr(space + 1, ' '))
                return free(buf), fail(c, "model.merges[%zu]: not two tokens separated by a space", rank);
            left_len = (size_t)(space - left);
            right = space + 1;
            right_len = strlen(right);
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            left = json_string_value(json_array_get(m, 0)),
            left_len = json_string_length(json_array_get(m, 0));
            right = json_string_value(json_array_get(m, 1)),
            right_len = json_string_length(json_array_get(m, 1));
        } else {
            return free(buf), fail(c, "model.merges[%zu]: neither \"a b\" nor [\"a\", \"b\"]", rank);
        }
        TTE_GROW(buf, bufcap, left_len + right_len + 1);
        long ln, rn;
        int skip = 0;
        int32_t l = merge_part(c, t, alphabet, left, left_len, buf, &ln, rank, &skip);
        if (l < 0) return free(buf), -1;
        int32_t r = merge_part(c, t, alphabet, right, right_len, buf + (ln > 0 ? ln : 0), &rn, rank, &skip);
        if (r < 0) return free(buf), -1;
        if (skip) continue;
        int32_t merged = tte_strmap_get(&t->vocab, buf, (size_t)(ln + rn));
        if (merged < 0)
            return free(buf),
                   fail(c, "model.merges[%zu]: the merged token \"%.*s%.*s\" is not in the vocabulary", rank,
                        (int)left_len, left, (int)right_len, right);
        tte_merges_put(&t->merges, l, r, (uint32_t)rank, merged);
    }
    free(buf);
    return 0;
}

static int load_model(load_ctx *c, tte_tokenizer *t, json_t *root, const int16_t *alphabet) {
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) return fail(c, "no \"model\" object");
    const char *type = type_of(model);
    if (type && strcmp(type, "BPE") != 0)
        return fail(c, "model.type \"%s\" is not supported (only BPE)", type);
    json_t *vocab = json_object_get(model, "vocab"), *added = json_object_get(root, "added_tokens");
    if (!json_is_object(vocab)) return fail(c, "model.vocab is not an object");
    if (added && !json_is_array(added) && !json_is_null(added))
        return fail(c, "added_tokens is not an array");
    if (require_unset(c, model, "dropout", "model") || require_unset(c, model, "byte_fallback", "model") ||
        require_unset(c, model, "continuing_subword_prefix", "model") ||
        require_unset(c, model, "end_of_word_suffix", "model"))
        return -1;
    if (load_vocab(c, t, vocab, added, alphabet) != 0) return -1;
    if (load_merges(c, t, json_object_get(model, "merges"), alphabet) != 0) return -1;
    t->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    t->unk_id = -1;
    json_t *unk = json_object_get(model, "unk_token");
    if (json_is_string(unk)) {
        char *buf = tte_xmalloc(json_string_length(unk) + 1);
        long n = alphabet_to_bytes(alphabet, json_string_value(unk), json_string_length(unk), buf);
        t->unk_id = n > 0 ? tte_strmap_get(&t->vocab, buf, (size_t)n) : -1;
        free(buf);
        if (t->unk_id < 0)
            return fail(c, "model.unk_token \"%s\" is not in the vocabulary", json_string_value(unk));
    }
    return 0;
}

/* ---- normalizer, pre-tokenizer, decoder ---- */

static int load_normalizer(load_ctx *c, tte_tokenizer *t, json_t *n) {
    if (!n || json_is_null(n)) return 0;
    const char *type = type_of(n);
    if (type && strcmp(type, "NFC") == 0) {
        t->nfc = 1;
        return 0;
    }
    if (type && strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(n, "normalizers"), *item;
        size_t i;
        json_array_foreach(list, i, item) if (load_normalizer(c, t, item) != 0) return -1;
        return 0;
    }
    return fail(c, "normalizer \"%s\" is not supported (only NFC)", type ? type : "?");
}

/* Compiles a pre-tokenizer pattern (LITERAL: a String pattern) into a new step. */
static int add_step(load_ctx *c, tte_tokenizer *t, const char *where, const char *pattern, size_t len,
                    int literal, int add_prefix_space) {
    pcre2_code *code = NULL;
    if (pattern) {
        int errcode;
        PCRE2_SIZE erroffset;
        uint32_t options = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
        code = pcre2_compile((PCRE2_SPTR)pattern, len, options, &errcode, &erroffset, NULL);
        if (!code) {
            if (errcode == PCRE2_ERROR_HEAP_FAILED) tte_die("out of memory");
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(errcode, msg, sizeof msg);
            return fail(c, "%s: pattern does not compile at offset %zu: %s", where, (size_t)erroffset,
                        (char *)msg);
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* without JIT (not built in), pcre2_match interprets */
    }
    TTE_GROW(t->steps, t->steps_cap, t->n_steps + 1);
    t->steps[t->n_steps++] = (tte_pretok_step){code, add_prefix_space};
    return 0;
}

static int add_split(load_ctx *c, tte_tokenizer *t, json_t *split) {
    json_t *pattern = json_object_get(split, "pattern"), *behavior = json_object_get(split, "behavior");
    json_t *regex = json_object_get(pattern, "Regex"), *literal = json_object_get(pattern, "String");
    if (!json_is_string(regex) && !json_is_string(literal))
        return fail(c, "pre_tokenizer Split: pattern is neither {\"Regex\": …} nor {\"String\": …}");
    if (!json_is_string(behavior) || strcmp(json_string_value(behavior), "Isolated") != 0)
        return fail(c, "pre_tokenizer Split: behavior \"%s\" is not supported (only Isolated)",
                    json_is_string(behavior) ? json_string_value(behavior) : "?");
    if (require_unset(c, split, "invert", "pre_tokenizer Split")) return -1;
    json_t *text = regex ? regex : literal;
    return add_step(c, t, "pre_tokenizer Split", json_string_value(text), json_string_length(text), !regex,
                    0);
}

/* A boolean field of ByteLevel: absent is DEFAULT, as in tokenizers. */
static int byte_level_flag(load_ctx *c, json_t *p, const char *field, int def, int *out) {
    json_t *v = json_object_get(p, field);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) return fail(c, "pre_tokenizer ByteLevel: %s is not true or false", field);
    *out = json_is_true(v);
    return 0;
}

/* ByteLevel: with add_prefix_space a piece that does not start with a space gets one; with use_regex
 * (tokenizers' default when the field is absent, as in GPT-2's and Pythia's files) every piece is
 * split by GPT-2's pattern. The byte-to-alphabet mapping itself is built into the vocabulary. */
static int add_byte_level(load_ctx *c, tte_tokenizer *t, json_t *p) {
    int prefix = 0, regex = 1;
    if (byte_level_flag(c, p, "add_prefix_space", 0, &prefix) != 0 ||
        byte_level_flag(c, p, "use_regex", 1, &regex) != 0)
        return -1;
    if (!prefix && !regex) return 0;
    const char *pattern = regex ? TTE_GPT2_PATTERN : NULL;
    return add_step(c, t, "pre_tokenizer ByteLevel", pattern, pattern ? strlen(pattern) : 0, 0, prefix);
}

static int load_pre_tokenizer(load_ctx *c, tte_tokenizer *t, json_t *p, int *byte_level) {
    const char *type = type_of(p);
    if (!type) return fail(c, "pre_tokenizer has no type");
    if (strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(p, "pretokenizers"), *item;
        size_t i;
        if (!json_is_array(list)) return fail(c, "pre_tokenizer Sequence: pretokenizers is not an array");
        json_array_foreach(list, i, item) if (load_pre_tokenizer(c, t, item, byte_level) != 0) return -1;
        return 0;
    }
    if (strcmp(type, "Split") == 0) return add_split(c, t, p);
    if (strcmp(type, "ByteLevel") == 0) {
        *byte_level = 1;
        return add_byte_level(c, t, p);
    }
    return fail(c, "pre_tokenizer \"%s\" is not supported (only Split, ByteLevel, Sequence)", type);
}

static int load_pipeline(load_ctx *c, tte_tokenizer *t, json_t *root) {
    if (load_normalizer(c, t, json_object_get(root, "normalizer")) != 0) return -1;
    json_t *pre = json_object_get(root, "pre_tokenizer");
    int byte_level = 0;
    if (pre && !json_is_null(pre) && load_pre_tokenizer(c, t, pre, &byte_level) != 0) return -1;
    if (!byte_level) return fail(c, "pre_tokenizer has no ByteLevel step: only byte-level BPE is supported");
    json_t *dec = json_object_get(root, "decoder");
    const char *type = type_of(dec);
    if (dec && !json_is_null(dec) && (!type || strcmp(type, "ByteLevel") != 0))
        return fail(c, "decoder \"%s\" is not supported (only ByteLevel)", type ? type : "?");
    if (!(t->match = pcre2_match_data_create(1, NULL))) tte_die("out of memory");
    return 0;
}

/* ---- tokenizer_config.json ---- */

/* A special token field: a string, an {"content": …} AddedToken object, or null. */
static int config_token(load_ctx *c, tte_tokenizer *t, json_t *config, const char *field, char **text,
                        int32_t *id) {
    json_t *v = json_object_get(config, field);
    *id = -1;
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return fail(c, "%s is neither a string, an AddedToken nor null", field);
    *text = tte_xstrdup(json_string_value(v));
    *id = tte_tokenizer_token_id(t, *text);
    if (*id < 0) return fail(c, "%s \"%s\" is not a single token", field, *text);
    return 0;
}

static int load_config(load_ctx *c, tte_tokenizer *t, json_t *config) {
    if (!json_is_object(config)) return fail(c, "not a JSON object");
    if (config_token(c, t, config, "bos_token", &t->bos_text, &t->bos_id) != 0 ||
        config_token(c, t, config, "eos_token", &t->eos_text, &t->eos_id) != 0)
        return -1;
    json_t *tmpl = json_object_get(config, "chat_template");
    if (json_is_array(tmpl)) { /* [{"name": "default", "template": …}, …] */
        json_t *item, *found = NULL;
        size_t i;
        json_array_foreach(tmpl, i, item) {
            json_t *name = json_object_get(item, "name");
            if (json_is_string(name) && strcmp(json_string_value(name), "default") == 0)
                found = json_object_get(item, "template");
        }
        tmpl = found;
    }
    if (tmpl && !json_is_null(tmpl)) {
        if (!json_is_string(tmpl)) return fail(c, "chat_template is not a string");
        t->chat_template = tte_xstrdup(json_string_value(tmpl));
    }
    return 0;
}

/* ---- public ---- */

static tte_tokenizer *load_root(json_t *root, const char *name, char *err, size_t errlen) {
    load_ctx c = {name, err, errlen};
    tte_tokenizer *t = tte_xcalloc(1, sizeof *t);
    t->path = tte_xstrdup(name);
    t->bos_id = t->eos_id = -1;
    int16_t alphabet[ALPHABET_LIMIT];
    build_alphabet(alphabet);
    int rc = json_is_object(root) ? 0 : fail(&c, "not a JSON object");
    if (rc == 0) rc = load_model(&c, t, root, alphabet);
    if (rc == 0) rc = load_pipeline(&c, t, root);
    if (rc == 0) tte_strmap_init(&t->cache, 1024);
    if (rc != 0) {
        tte_tokenizer_free(t);
        return NULL;
    }
    return t;
}

static void json_fail(const char *name, const json_error_t *je, char *err, size_t errlen) {
    if (json_error_code(je) == json_error_out_of_memory) tte_die("out of memory");
    if (je->line > 0)
        snprintf(err, errlen, "%s:%d:%d: %s", name, je->line, je->column, je->text);
    else
        snprintf(err, errlen, "%s: %s", name, je->text);
    one_line(err);
}

tte_tokenizer *tte_tokenizer_load_buffer(const char *json, size_t len, const char *name, char *err,
                                         size_t errlen) {
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root) {
        json_fail(name, &je, err, errlen);
        return NULL;
    }
    tte_tokenizer *t = load_root(root, name, err, errlen);
    json_decref(root);
    return t;
}

/* FLAGS: tokenizer_config.json needs JSON_DECODE_INT_AS_REAL (model_max_length can be 1e30). */
static json_t *load_file(const char *path, size_t flags, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadf(f, flags, &je);
    fclose(f);
    if (!root) json_fail(path, &je, err, errlen);
    return root;
}

tte_tokenizer *tte_tokenizer_load_files(const char *json_path, const char *config_path, char *err,
                                        size_t errlen) {
    json_t *root = load_file(json_path, 0, err, errlen);
    if (!root) return NULL;
    tte_tokenizer *t = load_root(root, json_path, err, errlen);
    json_decref(root);
    if (!t || !config_path) return t;
    json_t *config = load_file(config_path, JSON_DECODE_INT_AS_REAL, err, errlen);
    load_ctx c = {config_path, err, errlen};
    if (!config || load_config(&c, t, config) != 0) {
        json_decref(config);
        tte_tokenizer_free(t);
        return NULL;
    }
    json_decref(config);
    return t;
}

tte_tokenizer *tte_tokenizer_load(const char *dir, char *err, size_t errlen) {
    size_t n = strlen(dir) + sizeof "/tokenizer_config.json";
    char *json_path = tte_xmalloc(n), *config_path = tte_xmalloc(n);
    snprintf(json_path, n, "%s/tokenizer.json", dir);
    snprintf(config_path, n, "%s/tokenizer_config.json", dir);
    struct stat st;
    tte_tokenizer *t =
        tte_tokenizer_load_files(json_path, stat(config_path, &st) == 0 ? config_path : NULL, err, errlen);
    free(json_path);
    free(config_path);
    return t;
}

void tte_tokenizer_free(tte_tokenizer *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].text);
    free(t->added);
    tte_added_matcher_free(&t->raw_added);
    tte_added_matcher_free(&t->norm_added);
    free(t->tok_off);
    free(t->tok_len);
    free(t->tok_bytes);
    free(t->special);
    tte_strmap_free(&t->vocab);
    tte_merges_free(&t->merges);
    for (size_t i = 0; i < t->n_steps; i++) pcre2_code_free(t->steps[i].re);
    free(t->steps);
    pcre2_match_data_free(t->match);
    tte_bpe_free_scratch(t);
    free(t->bos_text);
    free(t->eos_text);
    free(t->chat_template);
    free(t->path);
    free(t);
}

const char *tte_tokenizer_token_bytes(const tte_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_ids || t->tok_off[id] == UINT32_MAX) return NULL;
    *len = t->tok_len[id];
    return t->tok_bytes + t->tok_off[id];
}

char *tte_tokenizer_decode(const tte_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                           size_t *outlen, char *err, size_t errlen) {
    size_t total = 0, len;
    for (size_t i = 0; i < n; i++) {
        if (!tte_tokenizer_token_bytes(t, ids[i], &len)) {
            snprintf(err, errlen, "token id %ld is not in the vocabulary of %s", (long)ids[i], t->path);
            return NULL;
        }
        if (!(skip_special && t->special[ids[i]])) total += len;
    }
    char *out = tte_xmalloc(total + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip_special && t->special[ids[i]]) continue;
        const char *bytes = tte_tokenizer_token_bytes(t, ids[i], &len);
        memcpy(out + o, bytes, len);
        o += len;
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

char *tte_tokenizer_decode_text(const tte_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                                size_t *outlen, char *err, size_t errlen) {
    size_t len;
    char *bytes = tte_tokenizer_decode(t, ids, n, skip_special, &len, err, errlen);
    if (!bytes) return NULL;
    char *text = tte_utf8_lossy(bytes, len, outlen);
    free(bytes);
    return text;
}

int32_t tte_tokenizer_token_id(tte_tokenizer *t, const char *text) {
    tte_tokens toks = {0};
    int32_t id = -1;
    if (tte_tokenizer_encode(t, text, strlen(text), &toks) == 0 && toks.n == 1) id = toks.ids[0];
    tte_tokens_free(&toks);
    return id;
}

int tte_tokenizer_is_special(const tte_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_ids && t->special[id];
}
int32_t tte_tokenizer_vocab_size(const tte_tokenizer *t) { return t->n_ids; }
int32_t tte_tokenizer_bos(const tte_tokenizer *t) { return t->bos_id; }
int32_t tte_tokenizer_eos(const tte_tokenizer *t) { return t->eos_id; }
const char *tte_tokenizer_bos_text(const tte_tokenizer *t) { return t->bos_text; }
const char *tte_tokenizer_eos_text(const tte_tokenizer *t) { return t->eos_text; }
const char *tte_tokenizer_chat_template(const tte_tokenizer *t) { return t->chat_template; }
const char *tte_tokenizer_path(const tte_tokenizer *t) { return t->path; }
