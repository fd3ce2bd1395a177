/* pretok: encoding, from the input bytes to the words BPE merges (see tokenizer_impl.h).
 *
 * The order is that of tokenizers' TokenizerImpl::encode_single_sequence:
 *   1. invalid UTF-8 is replaced (utf8.h);
 *   2. added tokens with normalized=false are matched leftmost-longest in the raw text;
 *   3. each stretch between them is normalised (NFC), then added tokens with normalized=true are
 *      matched in it;
 *   4. what remains goes through each pre-tokenizer step in turn: a pattern (a Split, behaviour
 *      Isolated, or ByteLevel's use_regex: the matches and the text between them are all pieces),
 *      and ByteLevel's add_prefix_space; every final piece is one BPE word.
 * Each stretch is its own regex subject, so a lookahead such as \s+(?!\S) sees the end of the
 * stretch at an added token, as in tokenizers. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cli.h"
#include "tokenizer_impl.h"
#include "utf8.h"
#include "xalloc.h"

/* ---- added tokens ---- */

static int compare_added(const void *a, const void *b) {
    const tte_added_token *x = *(tte_added_token *const *)a, *y = *(tte_added_token *const *)b;
    unsigned char fx = (unsigned char)x->text[0], fy = (unsigned char)y->text[0];
    if (fx != fy) return fx < fy ? -1 : 1;
    if (x->len != y->len) return x->len > y->len ? -1 : 1; /* longest first */
    return x->id < y->id ? -1 : x->id > y->id;
}

void tte_added_matcher_build(tte_added_matcher *m, tte_added_token *tokens, size_t n, int normalized) {
    memset(m, 0, sizeof *m);
    m->tokens = tte_xmalloc(tte_xmul(n, sizeof *m->tokens));
    for (size_t i = 0; i < n; i++)
        if (tokens[i].len > 0 && tokens[i].normalized == normalized) m->tokens[m->n++] = &tokens[i];
    qsort(m->tokens, m->n, sizeof *m->tokens, compare_added);
    size_t k = 0;
    for (int b = 0; b <= 256; b++) {
        while (k < m->n && (unsigned char)m->tokens[k]->text[0] < b) k++;
        m->first[b] = (uint32_t)k;
    }
}

void tte_added_matcher_free(tte_added_matcher *m) {
    free(m->tokens);
    m->tokens = NULL;
    m->n = 0;
}

/* The longest added token that starts at S[AT], or NULL. */
static const tte_added_token *added_at(const tte_added_matcher *m, const char *s, size_t len, size_t at) {
    unsigned char b = (unsigned char)s[at];
    for (uint32_t k = m->first[b]; k < m->first[b + 1]; k++) {
        const tte_added_token *tok = m->tokens[k];
        if (tok->len <= len - at && memcmp(s + at, tok->text, tok->len) == 0) return tok;
    }
    return NULL;
}

typedef int (*stretch_fn)(tte_tokenizer *t, const char *s, size_t len, tte_tokens *out);

/* Emits the added tokens M finds in S[0..LEN) and hands the stretches between them to ENCODE. */
static int split_added(tte_tokenizer *t, const tte_added_matcher *m, const char *s, size_t len,
                       stretch_fn encode, tte_tokens *out) {
    size_t start = 0;
    for (size_t at = 0; m->n && at < len; at++) {
        const tte_added_token *tok = added_at(m, s, len, at);
        if (!tok) continue;
        if (encode(t, s + start, at - start, out) != 0) return -1;
        tte_tokens_push(out, tok->id);
        at += tok->len - 1;
        start = at + 1;
    }
    return encode(t, s + start, len - start, out);
}

/* ---- pre-tokenizer patterns ---- */

static int split_pieces(tte_tokenizer *t, size_t level, const char *s, size_t len, tte_tokens *out);

/* Splits S[0..LEN) by the pattern of step LEVEL into matches and the gaps between them; each piece
 * goes to the next step. Empty matches make no piece. */
static int split_step(tte_tokenizer *t, size_t level, const char *s, size_t len, tte_tokens *out) {
    pcre2_code *re = t->steps[level].re;
    if (!re) return split_pieces(t, level + 1, s, len, out);
    PCRE2_SIZE at = 0, gap = 0;
    while (at < len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, at, PCRE2_NO_UTF_CHECK, t->match, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc == PCRE2_ERROR_NOMEMORY) tte_die("out of memory");
        if (rc < 0) return -1; /* a match or depth limit */
        /* The match data is shared by every step: the next step, run on the pieces below, overwrites
         * it, so this step's match is copied out first. */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->match), from = ov[0], to = ov[1];
        if (to == from) { /* skip one character */
            at = from + 1;
            while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80) at++;
            continue;
        }
        if (split_pieces(t, level + 1, s + gap, from - gap, out) != 0) return -1;
        if (split_pieces(t, level + 1, s + from, to - from, out) != 0) return -1;
        at = gap = to;
    }
    return split_pieces(t, level + 1, s + gap, len - gap, out);
}

/* Hands piece S[0..LEN) to step LEVEL, after the last step to BPE. A step with add_prefix_space (a
 * ByteLevel) first puts a space in front of a piece that does not start with one, as tokenizers
 * does for each piece it is given: an empty piece stays empty. */
static int split_pieces(tte_tokenizer *t, size_t level, const char *s, size_t len, tte_tokens *out) {
    if (len == 0) return 0;
    if (level == t->n_steps) {
        tte_bpe_word(t, s, len, out);
        return 0;
    }
    if (!t->steps[level].add_prefix_space || s[0] == ' ') return split_step(t, level, s, len, out);
    char small[256], *buf = len < sizeof small ? small : tte_xmalloc(len + 1);
    buf[0] = ' ';
    memcpy(buf + 1, s, len);
    int rc = split_step(t, level, buf, len + 1, out);
    if (buf != small) free(buf);
    return rc;
}

static int encode_normalized(tte_tokenizer *t, const char *s, size_t len, tte_tokens *out) {
    return split_pieces(t, 0, s, len, out);
}

/* Text where every code point is below U+0300 is already NFC: nothing there decomposes, and only
 * combining marks (U+0300 and up) compose with what precedes them. Those need a lead byte >= 0xCC. */
static int may_change_under_nfc(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0xCC) return 1;
    return 0;
}

/* A stretch of raw text between two raw-matched added tokens. */
static int encode_stretch(tte_tokenizer *t, const char *s, size_t len, tte_tokens *out) {
    if (len == 0) return 0;
    if (!t->nfc || !may_change_under_nfc(s, len))
        return split_added(t, &t->norm_added, s, len, encode_normalized, out);
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &nfc,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) tte_die("out of memory"); /* the only failure left: the input is valid UTF-8 */
    int rc = split_added(t, &t->norm_added, (const char *)nfc, (size_t)n, encode_normalized, out);
    free(nfc);
    return rc;
}

int tte_tokenizer_encode(tte_tokenizer *t, const char *text, size_t len, tte_tokens *out) {
    if (tte_utf8_valid_prefix(text, len) == len)
        return split_added(t, &t->raw_added, text, len, encode_stretch, out);
    size_t fixed_len;
    char *fixed = tte_utf8_lossy(text, len, &fixed_len);
    int rc = split_added(t, &t->raw_added, fixed, fixed_len, encode_stretch, out);
    free(fixed);
    return rc;
}
