/* tokenizer: byte-level BPE read from a Hugging Face tokenizer.json, encoding exactly as the
 * `tokenizers` library does (the token ids of a prompt decide every probability tte reports).
 *
 * What is supported, and anything else is a load error naming the file and the field:
 *   normalizer     null or NFC (utf8proc)
 *   pre_tokenizer  Split (Isolated, a Regex run by PCRE2 with JIT, UTF and UCP), ByteLevel
 *                  (add_prefix_space; use_regex, GPT-2's split pattern, true when absent as in
 *                  tokenizers: GPT-2, GPT-NeoX/Pythia), or a Sequence of those
 *   model          BPE over the byte-level alphabet, merges as "a b" strings or ["a","b"] pairs,
 *                  ignore_merges, no dropout or byte_fallback
 *   added_tokens   special or not, normalized or not (no lstrip, rstrip or single_word)
 *   decoder        ByteLevel (or null)
 * The post_processor (ByteLevel, TemplateProcessing, …) is not applied: tte encodes as tokenizers does with
 * add_special_tokens=False, which is how a rendered chat template is encoded (the template writes BOS
 * itself).
 *
 * Encoding: bytes that are not UTF-8 are first replaced as utf8.h describes; added tokens are
 * matched leftmost-longest on the raw text; the text between them is normalised, split by the
 * pre-tokenizer steps in turn (patterns, ByteLevel's prefix space), and each piece merged by merge
 * rank.
 *
 * Regular expressions: tokenizers runs the Split pattern (and ByteLevel's) with Oniguruma, tte with
 * PCRE2; both take \s as Unicode White_Space and (?i) as Unicode case folding. The JavaScript
 * references the tests compare against (transformers.js, gpt-tokenizer) differ there (their \s has
 * U+FEFF but not U+0085, transformers.js rewrites (?i:'s) as '[sS]'), so strings with those
 * characters are left out of the golden corpus and tte follows tokenizers. Characters assigned after
 * Unicode 14 (PCRE2 10.42's tables) may split differently.
 *
 * Decoding gives bytes (a token may hold part of a UTF-8 character); clean_up_tokenization_spaces
 * is never applied, so decode(encode(x)) == x for every valid UTF-8 x that NFC leaves unchanged.
 *
 * Ownership and threads: the tokenizer owns everything it returns a pointer to; pointers stay valid
 * until tte_tokenizer_free. Encoding (and tte_tokenizer_token_id, which encodes) uses a word cache
 * inside the tokenizer, so one tokenizer must not encode in two threads at once; decoding and the
 * other lookups only read and may run concurrently. */
#ifndef TTE_TOKENIZER_H
#define TTE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tte_tokenizer tte_tokenizer;

/* A growable array of token ids. Zero-initialise it; the functions that fill it append and grow it;
 * the caller frees ids (tte_tokens_free). */
typedef struct {
    int32_t *ids;
    size_t n, cap;
} tte_tokens;

void tte_tokens_free(tte_tokens *t);

/* Loads DIR/tokenizer.json and, when it exists, DIR/tokenizer_config.json (BOS, EOS and the chat
 * template come from it; without it they are absent). Returns NULL with a one-line message
 * "FILE: problem" in ERR when a file cannot be read or is not one tte supports. Out of memory, here
 * and in every function below, exits (xalloc.h). */
tte_tokenizer *tte_tokenizer_load(const char *dir, char *err, size_t errlen);
/* The same from explicit paths; CONFIG_PATH may be NULL. */
tte_tokenizer *tte_tokenizer_load_files(const char *json_path, const char *config_path, char *err,
                                        size_t errlen);
/* The same from tokenizer.json's text in memory (NAME is used in messages): the fuzz target's entry. */
tte_tokenizer *tte_tokenizer_load_buffer(const char *json, size_t len, const char *name, char *err,
                                         size_t errlen);
void tte_tokenizer_free(tte_tokenizer *t);

/* Appends the ids of TEXT[0..LEN) to OUT. Returns 0, or -1 only when PCRE2 gives up on the
 * pre-tokenizer pattern (its match or depth limit, which the supported patterns do not reach); out of
 * memory exits (xalloc.h). */
int tte_tokenizer_encode(tte_tokenizer *t, const char *text, size_t len, tte_tokens *out);

/* The bytes token ID decodes to (*LEN set), as the ByteLevel decoder gives them; NULL for an id
 * that is not in the vocabulary. Borrowed from the tokenizer. */
const char *tte_tokenizer_token_bytes(const tte_tokenizer *t, int32_t id, size_t *len);

/* The bytes of IDS[0..N) one after another, NUL-terminated (*OUTLEN set), malloc'd for the caller.
 * With SKIP_SPECIAL, special added tokens are left out. Returns NULL with a message in ERR for an id
 * that is not in the vocabulary. */
char *tte_tokenizer_decode(const tte_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                           size_t *outlen, char *err, size_t errlen);

/* The same as text for a JSON string: valid UTF-8, each broken sequence (a token that holds part of
 * a character) replaced by U+FFFD as tte_utf8_lossy does. */
char *tte_tokenizer_decode_text(const tte_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                                size_t *outlen, char *err, size_t errlen);

/* The id TEXT encodes to when it encodes to exactly one token ("</think>", "}"), else -1. */
int32_t tte_tokenizer_token_id(tte_tokenizer *t, const char *text);

/* Whether ID is an added token marked special (skipped by decode with SKIP_SPECIAL). */
int tte_tokenizer_is_special(const tte_tokenizer *t, int32_t id);

/* One more than the largest id of the vocabulary and the added tokens. */
int32_t tte_tokenizer_vocab_size(const tte_tokenizer *t);

/* BOS and EOS from tokenizer_config.json (bos_token, eos_token): their id and text, -1 and NULL when
 * the config has none. */
int32_t tte_tokenizer_bos(const tte_tokenizer *t);
int32_t tte_tokenizer_eos(const tte_tokenizer *t);
const char *tte_tokenizer_bos_text(const tte_tokenizer *t);
const char *tte_tokenizer_eos_text(const tte_tokenizer *t);

/* tokenizer_config.json's chat_template (the "default" one when it is a list), NULL when absent. */
const char *tte_tokenizer_chat_template(const tte_tokenizer *t);

/* The path of tokenizer.json, for messages. */
const char *tte_tokenizer_path(const tte_tokenizer *t);

#endif
