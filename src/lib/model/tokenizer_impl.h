/* tokenizer_impl: the tokenizer's data, shared by its three source files and by nothing else:
 *   tokenizer.c  loading tokenizer.json and tokenizer_config.json, decoding, lookups
 *   pretok.c     encoding up to the BPE words: added tokens, NFC, the pre-tokenizer pattern
 *   bpe.c        the hash tables, the merge loop and the word cache
 *
 * BPE works on raw bytes, not on the byte-level alphabet of tokenizer.json: every vocabulary entry
 * is translated back to the bytes it stands for when loaded, so a word is merged straight from the
 * text's bytes and no string is mapped through the alphabet while encoding. */
#ifndef TTE_TOKENIZER_IMPL_H
#define TTE_TOKENIZER_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "strmap.h"
#include "tokenizer.h"

/* The merges: pair of ids -> (rank, id of the merged token), open addressing on the packed pair. */
typedef struct {
    uint64_t *pair;  /* [cap] (left << 32 | right) + 1, 0 = empty */
    uint32_t *rank;  /* [cap] position in the merges list: lower merges first */
    int32_t *merged; /* [cap] */
    size_t cap, n;
} tte_merges;

typedef struct {
    char *text; /* content, NUL-terminated */
    size_t len;
    int32_t id;
    int special;    /* skipped by decode with skip_special */
    int normalized; /* matched in the normalised text rather than the raw text */
} tte_added_token;

/* Added tokens, matched leftmost-longest. Candidates are bucketed by first byte and sorted longest
 * first, so a position costs one table look-up when no token starts with its byte. */
typedef struct {
    tte_added_token **tokens; /* borrowed from the tokenizer, sorted by first byte, then longest first */
    size_t n;
    uint32_t first[257]; /* tokens[first[b] .. first[b + 1]) start with byte b */
} tte_added_matcher;

/* One pre-tokenizer step: a Split, or a ByteLevel that splits (use_regex: GPT-2's pattern) or adds a
 * prefix space. Steps apply in turn, each to every piece the step before made. */
typedef struct {
    pcre2_code *re;       /* matches and the gaps between them are all pieces; NULL: no split */
    int add_prefix_space; /* ByteLevel: a piece that does not start with ' ' gets one in front */
} tte_pretok_step;

/* GPT-2's split pattern, which a ByteLevel pre-tokenizer with use_regex applies. */
#define TTE_GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

/* A word cache entry's ids live in an arena; the cache stops growing at its capacity, as in
 * tokenizers, so memory stays bounded on long inputs. */
#define TTE_WORD_CACHE_MAX 100000

struct tte_tokenizer {
    char *path; /* tokenizer.json */

    /* Vocabulary: the bytes of every id (the ByteLevel decoder's output), and bytes -> id for the
     * tokens the byte-level alphabet can spell (the only ones BPE can produce). */
    int32_t n_ids;     /* one more than the largest id */
    uint32_t *tok_off; /* [n_ids] offset in tok_bytes, UINT32_MAX for an unused id */
    uint32_t *tok_len; /* [n_ids] */
    char *tok_bytes;
    uint8_t *special;     /* [n_ids] 1 for an added token marked special */
    tte_strmap vocab;     /* bytes -> id, model vocabulary only */
    int32_t byte_id[256]; /* the id of each single byte, -1 when the vocabulary lacks it */
    int32_t unk_id;       /* model.unk_token's id, -1 when none: then unknown bytes are dropped */
    tte_merges merges;
    int ignore_merges; /* a word that is itself in the vocabulary is one token, unmerged */

    tte_added_token *added;
    size_t n_added;
    tte_added_matcher raw_added;  /* tokens with normalized=false: matched before normalising */
    tte_added_matcher norm_added; /* normalized=true: matched in each normalised stretch */

    int nfc;                /* the normalizer is NFC */
    tte_pretok_step *steps; /* the pre-tokenizer, applied in turn (a Sequence) */
    size_t n_steps, steps_cap;
    pcre2_match_data *match;

    /* tokenizer_config.json */
    int32_t bos_id, eos_id;
    char *bos_text, *eos_text;
    char *chat_template;

    /* Encoding scratch and the word cache (why encode is not thread-safe). */
    tte_strmap cache; /* word bytes -> offset in cache_ids (count first, then the ids) */
    int32_t *cache_ids;
    size_t cache_ids_n, cache_ids_cap;
    struct bpe_symbol *symbols; /* merge loop state, grown to the longest word seen */
    uint64_t *heap;
    size_t symbols_cap, heap_cap;
};

/* pretok.c */
void tte_added_matcher_build(tte_added_matcher *m, tte_added_token *tokens, size_t n, int normalized);
void tte_added_matcher_free(tte_added_matcher *m);

/* bpe.c (out of memory exits in all of these, xalloc.h) */
void tte_merges_init(tte_merges *m, size_t expected);
void tte_merges_free(tte_merges *m);
/* Records merge number RANK of LEFT and RIGHT into MERGED; a later duplicate replaces an earlier one,
 * as in tokenizers. */
void tte_merges_put(tte_merges *m, int32_t left, int32_t right, uint32_t rank, int32_t merged);
/* Appends the ids of one pre-tokenized word (its raw bytes). */
void tte_bpe_word(tte_tokenizer *t, const char *word, size_t len, tte_tokens *out);
void tte_bpe_free_scratch(tte_tokenizer *t);
void tte_tokens_push(tte_tokens *out, int32_t id);

#endif
