/* tte-gen: generation with budget forcing (see DESIGN.md). This file holds the options and the mode
 * dispatch; each mode lives in its own file:
 *   sweep     (the default) budget forcing over items: forcing.c drives sweep.c
 *   --max-tokens N   plain continuation of {"prompt"} / {"prompt_ids"} records: complete.c
 *   --encode  {"text": …} records get "ids": […], the token ids of text (after the chat template
 *             with --chat)
 *   --decode  {"ids": […]} records get "text": …, the decoded text (invalid UTF-8, from a token
 *             that holds part of a character, becomes U+FFFD) */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budgets.h"
#include "cli.h"
#include "complete.h"
#include "forcing.h"
#include "hub.h"
#include "jsonl.h"
#include "model/chat.h"
#include "model/tokenizer.h"
#include "utf8.h"

static const char HELP[] =
    "Usage: tte-gen --model DIR --budgets A..B [OPTION]... [FILE]...\n"
    "  or:  tte-gen --model DIR --max-tokens N [OPTION]... [FILE]...\n"
    "  or:  tte-gen --model DIR --encode|--decode [OPTION]... [FILE]...\n"
    "Read JSON-lines records from FILEs (or standard input, also '-') and write records to standard\n"
    "output.\n"
    "\n"
    "Budget forcing (the default mode): item records in, one generation record per item, sample and\n"
    "budget out, in input order.\n"
    "  --budgets A..B|LIST  thinking budgets: 2^A .. 2^B, or a list like 100,300,1000 (required)\n"
    "  -n, --samples N      samples per item (default 1)\n"
    "  --seed N             random seed (default 0)\n"
    "  --temperature T, --top-p P, --top-k K\n"
    "                       sampling (default: the model's generation_config.json)\n"
    "  --greedy             always take the most probable token\n"
    "  --continue-phrase S  inserted when the model ends its thinking early\n"
    "                       (default \" Hmm, but let me keep thinking...\")\n"
    "  --end-thinking S     appended at the budget (default \"</think>FINAL ANSWER: \\boxed{\")\n"
    "  --answer-tokens N    most tokens of final answer, which stops at '}' (default 10)\n"
    "  --allow-early-stop   accept the model's own end of thinking\n"
    "  --max-continues N    accept the model's end after N continuation phrases (default: never)\n"
    "  --independent        sample every budget from scratch instead of one pass to the largest\n"
    "  --compat study       the original study's loop: chunks, overwritten chunk ends, the\n"
    "                       repetition guard, every budget from scratch (see tte-gen(1))\n"
    "  --chunk-frac F       with --compat study: chunks of budget x F tokens (default 0.25)\n"
    "  --batch N            sequences decoded together (default 32)\n"
    "  --kv-mem SIZE        KV-cache memory, e.g. 512M or 4G (default: enough for the batch)\n"
    "  --no-cache           neither read nor write the cache ($TTE_CACHE)\n"
    "  --refresh            recompute and overwrite cached results\n"
    "  --progress           show the progress line even when stderr is not a terminal\n"
    "  --template FILE      the chat template text, with {{prompt}} (default: the model's)\n"
    "\n"
    "Other modes:\n"
    "  --max-tokens N       continue each {\"prompt\"} or {\"prompt_ids\"} record by at most N tokens:\n"
    "                       adds \"ids\" and \"text\" (sampling options and --seed apply)\n"
    "  --encode             add \"ids\", the token ids of the record's \"text\"\n"
    "  --decode             add \"text\", the text of the record's \"ids\"\n"
    "  --chat               with --encode: render the chat template around \"text\" first\n"
    "  --skip-special       with --decode: leave special tokens out of the text\n"
    "\n"
    "Common options:\n"
    "  --model DIR|ID       a model folder, or a Hugging Face id found in the local HF cache\n"
    "  --threads N          CPU threads (default: all cores)\n"
    "  --device D           cpu, cuda or auto (default: cuda when a GPU is present)\n"
    "  --help               show this help and exit\n"
    "  --version            show the version and exit\n"
    "\n"
    "Exit status: 0 success, 1 bad input or failure, 2 usage error. See tte-gen(1).\n";

enum mode { MODE_SWEEP, MODE_COMPLETE, MODE_ENCODE, MODE_DECODE };

struct options {
    enum mode mode;
    int mode_set;
    const char *model;         /* --model DIR */
    char model_dir[4096];      /* the folder it resolves to */
    int chat;                  /* --chat */
    const char *template_path; /* --template FILE */
    int skip_special;          /* --skip-special */
    const char *budgets;       /* --budgets */
    forcing_options forcing;
    complete_options complete;
    char **inputs; /* FILE arguments */
    int ninputs;
};

static void set_mode(struct options *o, enum mode mode, const char *name) {
    if (o->mode_set && o->mode != mode) tte_cli_usage("%s: only one mode at a time", name);
    o->mode = mode;
    o->mode_set = 1;
}

static struct options parse_options(int argc, char **argv) {
    enum {
        OPT_ENCODE = 256,
        OPT_DECODE,
        OPT_MAX_TOKENS,
        OPT_MODEL,
        OPT_CHAT,
        OPT_TEMPLATE,
        OPT_SKIP_SPECIAL,
        OPT_BUDGETS,
        OPT_SEED,
        OPT_TEMPERATURE,
        OPT_TOP_P,
        OPT_TOP_K,
        OPT_GREEDY,
        OPT_CONTINUE_PHRASE,
        OPT_END_THINKING,
        OPT_ANSWER_TOKENS,
        OPT_ALLOW_EARLY_STOP,
        OPT_MAX_CONTINUES,
        OPT_INDEPENDENT,
        OPT_COMPAT,
        OPT_CHUNK_FRAC,
        OPT_BATCH,
        OPT_KV_MEM,
        OPT_NO_CACHE,
        OPT_REFRESH,
        OPT_PROGRESS,
        OPT_THREADS,
        OPT_DEVICE,
        OPT_HELP,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"encode", no_argument, NULL, OPT_ENCODE},
        {"decode", no_argument, NULL, OPT_DECODE},
        {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS},
        {"model", required_argument, NULL, OPT_MODEL},
        {"chat", no_argument, NULL, OPT_CHAT},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"skip-special", no_argument, NULL, OPT_SKIP_SPECIAL},
        {"budgets", required_argument, NULL, OPT_BUDGETS},
        {"samples", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"temperature", required_argument, NULL, OPT_TEMPERATURE},
        {"top-p", required_argument, NULL, OPT_TOP_P},
        {"top-k", required_argument, NULL, OPT_TOP_K},
        {"greedy", no_argument, NULL, OPT_GREEDY},
        {"continue-phrase", required_argument, NULL, OPT_CONTINUE_PHRASE},
        {"end-thinking", required_argument, NULL, OPT_END_THINKING},
        {"answer-tokens", required_argument, NULL, OPT_ANSWER_TOKENS},
        {"allow-early-stop", no_argument, NULL, OPT_ALLOW_EARLY_STOP},
        {"max-continues", required_argument, NULL, OPT_MAX_CONTINUES},
        {"independent", no_argument, NULL, OPT_INDEPENDENT},
        {"compat", required_argument, NULL, OPT_COMPAT},
        {"chunk-frac", required_argument, NULL, OPT_CHUNK_FRAC},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"kv-mem", required_argument, NULL, OPT_KV_MEM},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
        {"refresh", no_argument, NULL, OPT_REFRESH},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    struct options o = {.mode = MODE_SWEEP};
    forcing_options *f = &o.forcing;
    *f = (forcing_options){.samples = 1,
                           .sampling = {.temperature = -1, .top_p = -1, .top_k = -1},
                           .continue_phrase = " Hmm, but let me keep thinking...",
                           .end_thinking = "</think>FINAL ANSWER: \\boxed{",
                           .answer_tokens = 10,
                           .max_continues = -1,
                           .batch = 32,
                           .use_cache = 1,
                           .chunk_frac = 0.25,
                           .device = "auto"};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ENCODE:
            set_mode(&o, MODE_ENCODE, "--encode");
            break;
        case OPT_DECODE:
            set_mode(&o, MODE_DECODE, "--decode");
            break;
        case OPT_MAX_TOKENS:
            set_mode(&o, MODE_COMPLETE, "--max-tokens");
            o.complete.max_tokens = (int)tte_cli_int("--max-tokens", optarg, 1, 1 << 24);
            break;
        case OPT_MODEL:
            o.model = optarg;
            break;
        case OPT_CHAT:
            o.chat = 1;
            break;
        case OPT_TEMPLATE:
            o.template_path = optarg;
            break;
        case OPT_SKIP_SPECIAL:
            o.skip_special = 1;
            break;
        case OPT_BUDGETS:
            o.budgets = optarg;
            break;
        case 'n':
            f->samples = (int)tte_cli_int("-n", optarg, 1, 1 << 20);
            break;
        case OPT_SEED:
            f->seed = (uint64_t)tte_cli_int("--seed", optarg, 0, INT64_MAX);
            break;
        case OPT_TEMPERATURE:
            f->sampling.temperature = tte_cli_double("--temperature", optarg, 0, 100);
            break;
        case OPT_TOP_P:
            f->sampling.top_p = tte_cli_double("--top-p", optarg, 0, 1);
            break;
        case OPT_TOP_K:
            f->sampling.top_k = (int)tte_cli_int("--top-k", optarg, 0, 1 << 30);
            break;
        case OPT_GREEDY:
            f->sampling.greedy = 1;
            break;
        case OPT_CONTINUE_PHRASE:
            f->continue_phrase = optarg;
            break;
        case OPT_END_THINKING:
            f->end_thinking = optarg;
            break;
        case OPT_ANSWER_TOKENS:
            f->answer_tokens = (int)tte_cli_int("--answer-tokens", optarg, 1, 1 << 16);
            break;
        case OPT_ALLOW_EARLY_STOP:
            f->allow_early_stop = 1;
            break;
        case OPT_MAX_CONTINUES:
            f->max_continues = (int)tte_cli_int("--max-continues", optarg, 0, 1 << 30);
            break;
        case OPT_INDEPENDENT:
            f->independent = 1;
            break;
        case OPT_COMPAT:
            if (strcmp(optarg, "study") != 0)
                tte_cli_usage("--compat: the only value is 'study', not '%s'", optarg);
            f->compat_study = f->independent = 1;
            break;
        case OPT_CHUNK_FRAC:
            f->chunk_frac = tte_cli_double("--chunk-frac", optarg, 1e-3, 1);
            break;
        case OPT_BATCH:
            f->batch = (int)tte_cli_int("--batch", optarg, 1, 4096);
            break;
        case OPT_KV_MEM:
            f->kv_mem = tte_cli_size("--kv-mem", optarg);
            break;
        case OPT_NO_CACHE:
            f->use_cache = 0;
            break;
        case OPT_REFRESH:
            f->refresh = 1;
            break;
        case OPT_PROGRESS:
            f->progress = 1;
            break;
        case OPT_THREADS:
            f->threads = (int)tte_cli_int("--threads", optarg, 1, 1024);
            break;
        case OPT_DEVICE:
            f->device = tte_cli_device(optarg);
            break;
        case OPT_HELP:
            tte_cli_help(HELP);
        case OPT_VERSION:
            tte_cli_version();
        default:
            tte_cli_bad_option(c, argv);
        }
    }
    if (!o.model) tte_cli_usage("--model DIR is required");
    if (o.chat && o.mode != MODE_ENCODE) tte_cli_usage("--chat goes with --encode");
    if (o.template_path && !o.chat && o.mode != MODE_SWEEP)
        tte_cli_usage("--template goes with --chat or a sweep");
    if (o.skip_special && o.mode != MODE_DECODE) tte_cli_usage("--skip-special goes with --decode");
    if (o.mode == MODE_SWEEP) {
        char err[256];
        if (!o.budgets) tte_cli_usage("give --budgets A..B (or a mode: --max-tokens, --encode, --decode)");
        f->n_budgets = budgets_parse(o.budgets, f->budgets, err, sizeof err);
        if (f->n_budgets < 0) tte_cli_usage("--budgets: %s", err);
    } else if (o.budgets) {
        tte_cli_usage("--budgets goes with a sweep, not with another mode");
    }
    o.complete.threads = f->threads;
    o.complete.device = f->device;
    o.complete.seed = f->seed;
    o.inputs = argv + optind;
    o.ninputs = argc - optind;
    return o;
}

/* Reads every record and hands it to EACH, which edits it in place (returning -1 after
 * tte_jsonl_fail to stop with that message); writes each record as soon as it is done, so what was
 * written before a bad line stays written. */
typedef int (*record_fn)(tte_jsonl *in, json_t *rec, void *ctx);

static void for_each_record(const struct options *o, record_fn each, void *ctx) {
    tte_jsonl *in = tte_jsonl_open_list(o->inputs, o->ninputs);
    if (!in) tte_die("out of memory");
    json_t *rec;
    int rc;
    while ((rc = tte_jsonl_next(in, &rec)) == 1) {
        if (each(in, rec, ctx) != 0) {
            json_decref(rec);
            break;
        }
        if (tte_jsonl_write(stdout, rec) != 0) tte_die("<stdout>: write error");
        json_decref(rec);
    }
    if (rc != 0) {
        fflush(stdout);
        tte_die("%s", tte_jsonl_error(in));
    }
    tte_jsonl_close(in);
    if (fflush(stdout) != 0) tte_die("<stdout>: write error");
}

struct tokenize_ctx {
    tte_tokenizer *tok;
    tte_chat *chat; /* NULL without --chat */
    int skip_special;
};

static int encode_record(tte_jsonl *in, json_t *rec, void *arg) {
    struct tokenize_ctx *ctx = arg;
    json_t *field = json_object_get(rec, "text");
    if (!json_is_string(field))
        return tte_jsonl_fail(in, "field \"text\": %s", field ? "must be a string" : "missing");
    const char *text = json_string_value(field);
    size_t len = json_string_length(field);
    char *rendered = NULL;
    if (ctx->chat) {
        if (strlen(text) != len) return tte_jsonl_fail(in, "field \"text\": contains a NUL character");
        rendered = tte_chat_render(ctx->chat, text, &len);
        if (!rendered) tte_die("out of memory");
        text = rendered;
    }
    tte_tokens toks = {0};
    if (tte_tokenizer_encode(ctx->tok, text, len, &toks) != 0) tte_die("out of memory while encoding");
    free(rendered);
    json_t *ids = json_array();
    for (size_t i = 0; i < toks.n; i++) json_array_append_new(ids, json_integer(toks.ids[i]));
    tte_tokens_free(&toks);
    json_object_set_new(rec, "ids", ids);
    return 0;
}

static int decode_record(tte_jsonl *in, json_t *rec, void *arg) {
    struct tokenize_ctx *ctx = arg;
    json_t *field = json_object_get(rec, "ids"), *v;
    if (!json_is_array(field))
        return tte_jsonl_fail(in, "field \"ids\": %s", field ? "must be an array" : "missing");
    size_t n = json_array_size(field), i;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) tte_die("out of memory");
    json_array_foreach(field, i, v) {
        size_t len;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX ||
            !tte_tokenizer_token_bytes(ctx->tok, (int32_t)json_integer_value(v), &len)) {
            free(ids);
            return tte_jsonl_fail(in, "field \"ids\": item %zu is not a token id of %s", i,
                                  tte_tokenizer_path(ctx->tok));
        }
        ids[i] = (int32_t)json_integer_value(v);
    }
    char err[512];
    size_t len, fixed_len;
    char *bytes = tte_tokenizer_decode(ctx->tok, ids, n, ctx->skip_special, &len, err, sizeof err);
    free(ids);
    if (!bytes) tte_die("%s", err);
    char *text = tte_utf8_lossy(bytes, len, &fixed_len);
    free(bytes);
    if (!text) tte_die("out of memory");
    json_object_set_new(rec, "text", json_stringn(text, fixed_len));
    free(text);
    return 0;
}

static void run_tokenizer_mode(const struct options *o) {
    char err[1024];
    struct tokenize_ctx ctx = {.skip_special = o->skip_special};
    ctx.tok = tte_tokenizer_load(o->model_dir, err, sizeof err);
    if (!ctx.tok) tte_die("%s", err);
    if (o->chat) {
        ctx.chat = o->template_path ? tte_chat_from_file(o->template_path, err, sizeof err)
                                    : tte_chat_from_tokenizer(ctx.tok, err, sizeof err);
        if (!ctx.chat) tte_die("%s", err);
    }
    for_each_record(o, o->mode == MODE_ENCODE ? encode_record : decode_record, &ctx);
    tte_chat_free(ctx.chat);
    tte_tokenizer_free(ctx.tok);
}

/* The records' model name: the last part of the folder or Hugging Face id the user gave. */
static const char *model_name(const char *model) {
    size_t len = strlen(model);
    while (len > 1 && model[len - 1] == '/') len--;
    static char name[256];
    const char *start = model + len;
    while (start > model && start[-1] != '/') start--;
    snprintf(name, sizeof name, "%.*s", (int)(model + len - start), start);
    return name;
}

static void run_model_mode(struct options *o) {
    char err[1024];
    tte_tokenizer *tok = tte_tokenizer_load(o->model_dir, err, sizeof err);
    if (!tok) tte_die("%s", err);
    tte_jsonl *in = tte_jsonl_open_list(o->inputs, o->ninputs);
    if (!in) tte_die("out of memory");
    int rc;
    if (o->mode == MODE_COMPLETE) {
        o->complete.sampling = o->forcing.sampling;
        rc = complete_run(o->model_dir, tok, &o->complete, in);
    } else {
        tte_chat *chat = o->template_path ? tte_chat_from_file(o->template_path, err, sizeof err)
                                          : tte_chat_from_tokenizer(tok, err, sizeof err);
        if (!chat) tte_die("%s", err);
        rc = forcing_run(o->model_dir, model_name(o->model), tok, chat, &o->forcing, in);
        tte_chat_free(chat);
    }
    tte_jsonl_close(in);
    tte_tokenizer_free(tok);
    if (rc != 0) exit(TTE_EXIT_FAIL);
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    struct options o = parse_options(argc, argv);
    char err[1024];
    if (tte_hub_resolve(o.model, o.model_dir, sizeof o.model_dir, err, sizeof err) != 0) tte_die("%s", err);
    if (o.mode == MODE_ENCODE || o.mode == MODE_DECODE)
        run_tokenizer_mode(&o);
    else
        run_model_mode(&o);
    return TTE_EXIT_OK;
}
