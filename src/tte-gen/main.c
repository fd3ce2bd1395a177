/* tte-gen: generation with budget forcing (man/tte-gen.1). This file holds the options and the mode
 * dispatch; the model is opened by the library's session (session.h) and every mode that runs it is
 * a client of the library's scheduler (engine/sched.h):
 *   sweep     (the default) budget forcing over items: forcing.c drives sweep.c
 *   --max-tokens N   plain continuation of {"prompt"} / {"prompt_ids"} records: complete.c (jobs.h)
 *   --search beam|dvts --prm DIR   search guided by a process reward model: search.c
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
#include "jsonl.h"
#include "model/chat.h"
#include "model/tokenizer.h"
#include "options.h"
#include "outfile.h"
#include "records.h"
#include "search.h"
#include "session.h"
#include "utf8.h"

static const char HELP[] =
    "Usage: tte-gen --model DIR --budgets A..B [OPTION]... [FILE]...\n"
    "  or:  tte-gen --model DIR --max-tokens N [OPTION]... [FILE]...\n"
    "  or:  tte-gen --model DIR --search beam|dvts --prm DIR [OPTION]... [FILE]...\n"
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
    "  --template FILE      the chat template text, with {{prompt}} (default: the model's)\n"
    "\n"
    "Search guided by a process reward model (search-and-learn's; item records in, -n records\n"
    "per item out):\n"
    "  --search beam|dvts|revise\n"
    "                       beam search, diverse verifier tree search, or -n sequential revisions\n"
    "  --prm DIR            the process reward model that scores each step\n"
    "  -n N                 solutions per item (default 4); --beam-width M (default 4) divides it\n"
    "  --max-steps K        iterations, one step each (default 40)\n"
    "  --step-tokens T      most tokens of one step (default 2048)\n"
    "  --step-delim S       what ends a step (default: the PRM's, else \"\\n\\n\")\n"
    "  --prm-agg A          a solution's score from its steps': last, min or prod (default last)\n"
    "  --revise-prompt S    revise: fed after each attempt (default: see tte-gen(1))\n"
    "\n"
    "Other modes:\n"
    "  --max-tokens N       continue each {\"prompt\"} or {\"prompt_ids\"} record by at most N tokens:\n"
    "                       adds \"ids\" and \"text\" (sampling options and --seed apply)\n"
    "  --encode             add \"ids\", the token ids of the record's \"text\"\n"
    "  --decode             add \"text\", the text of the record's \"ids\"\n"
    "  --chat               with --encode: render the chat template around \"text\" first\n"
    "  --skip-special       with --decode: leave special tokens out of the text\n"
    "\n"
    "  --model DIR|ID       a model folder, or a Hugging Face id found in the local HF cache\n";
static const char HELP_TAIL[] =
    "Exit status: 0 success, 1 bad input or failure, 2 usage error. See tte-gen(1).\n";

enum mode { MODE_SWEEP, MODE_COMPLETE, MODE_ENCODE, MODE_DECODE, MODE_SEARCH };

struct options {
    enum mode mode;
    int mode_set;
    const char *model;         /* --model DIR */
    int chat;                  /* --chat */
    const char *template_path; /* --template FILE */
    int skip_special;          /* --skip-special */
    const char *budgets;       /* --budgets */
    forcing_options forcing;
    complete_options complete;
    search_options search;
    const char *prm; /* --prm DIR */
    tte_common common; /* --threads, --device, --batch, -o, ... */
    char **inputs;     /* FILE arguments */
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
        OPT_SEARCH,
        OPT_PRM,
        OPT_BEAM_WIDTH,
        OPT_MAX_STEPS,
        OPT_STEP_TOKENS,
        OPT_STEP_DELIM,
        OPT_PRM_AGG,
        OPT_REVISE_PROMPT
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
        {"search", required_argument, NULL, OPT_SEARCH},
        {"prm", required_argument, NULL, OPT_PRM},
        {"beam-width", required_argument, NULL, OPT_BEAM_WIDTH},
        {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
        {"step-tokens", required_argument, NULL, OPT_STEP_TOKENS},
        {"step-delim", required_argument, NULL, OPT_STEP_DELIM},
        {"prm-agg", required_argument, NULL, OPT_PRM_AGG},
        {"revise-prompt", required_argument, NULL, OPT_REVISE_PROMPT},
        {"compat", required_argument, NULL, OPT_COMPAT},
        {"chunk-frac", required_argument, NULL, OPT_CHUNK_FRAC},
        {NULL, 0, NULL, 0},
    };
    struct options o = {.mode = MODE_SWEEP, .search = {.beam_width = 4, .max_steps = 40, .step_tokens = 2048}};
    int samples_given = 0;
    forcing_options *f = &o.forcing;
    *f = (forcing_options){.samples = 1,
                           .sampling = {.temperature = -1, .top_p = -1, .top_k = -1},
                           .continue_phrase = TTE_CONTINUE_PHRASE_DEFAULT,
                           .end_thinking = TTE_END_THINKING_DEFAULT,
                           .answer_tokens = 10,
                           .max_continues = -1,
                           .chunk_frac = 0.25};
    o.common = tte_common_defaults();
    o.common.batch = 32;
    tte_opts spec = {.common = TTE_OPT_THREADS | TTE_OPT_DEVICE | TTE_OPT_KV_MEM | TTE_OPT_BATCH |
                               TTE_OPT_CACHE | TTE_OPT_PROGRESS | TTE_OPT_OUTPUT | TTE_OPT_SHARD,
                     .shortopts = "n:",
                     .longopts = longopts,
                     .help = HELP,
                     .help_tail = HELP_TAIL};
    int c;
    while ((c = tte_opts_next(&spec, &o.common, argc, argv)) != -1) {
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
            samples_given = 1;
            break;
        case OPT_SEED:
            f->seed = (uint64_t)tte_cli_int("--seed", optarg, 0, INT64_MAX);
            break;
        case OPT_TEMPERATURE:
            f->sampling.temperature = tte_cli_double("--temperature", optarg, 0, 100);
            break;
        case OPT_TOP_P:
            /* 0 would keep no token at all: greedy decoding is --greedy (or --temperature 0). */
            f->sampling.top_p = tte_cli_double("--top-p", optarg, 0, 1);
            if (f->sampling.top_p == 0)
                tte_cli_usage("--top-p: 0 keeps no token; for greedy decoding give --greedy");
            break;
        case OPT_TOP_K:
            f->sampling.top_k = (int)tte_cli_int("--top-k", optarg, 0, 1 << 30);
            break;
        case OPT_GREEDY:
            f->sampling.greedy = 1;
            break;
        case OPT_CONTINUE_PHRASE:
            if (!*optarg) tte_cli_usage("--continue-phrase: must not be empty");
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
        case OPT_SEARCH:
            set_mode(&o, MODE_SEARCH, "--search");
            if (strcmp(optarg, "beam") == 0)
                o.search.kind = SEARCH_BEAM;
            else if (strcmp(optarg, "dvts") == 0)
                o.search.kind = SEARCH_DVTS;
            else if (strcmp(optarg, "revise") == 0)
                o.search.kind = SEARCH_REVISE;
            else
                tte_cli_usage("--search: '%s' is not beam, dvts or revise", optarg);
            break;
        case OPT_PRM:
            o.prm = optarg;
            break;
        case OPT_BEAM_WIDTH:
            o.search.beam_width = (int)tte_cli_int("--beam-width", optarg, 1, 1 << 16);
            break;
        case OPT_MAX_STEPS:
            o.search.max_steps = (int)tte_cli_int("--max-steps", optarg, 1, 1 << 20);
            break;
        case OPT_STEP_TOKENS:
            o.search.step_tokens = (int)tte_cli_int("--step-tokens", optarg, 1, 1 << 24);
            break;
        case OPT_STEP_DELIM:
            if (!*optarg) tte_cli_usage("--step-delim: must not be empty");
            o.search.step_delim = optarg;
            break;
        case OPT_REVISE_PROMPT:
            o.search.revise_prompt = optarg;
            break;
        case OPT_PRM_AGG:
            if (tte_prm_agg_parse(optarg, &o.search.agg) != 0)
                tte_cli_usage("--prm-agg: '%s' is not last, min or prod", optarg);
            break;
        case OPT_CHUNK_FRAC:
            f->chunk_frac = tte_cli_double("--chunk-frac", optarg, 1e-3, 1);
            break;
        }
    }
    f->batch = o.common.batch;
    f->kv_mem = o.common.kv_mem;
    f->refresh = o.common.refresh;
    f->progress = o.common.progress;
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
    if ((o.prm || o.search.step_delim || o.search.agg) && o.mode != MODE_SEARCH)
        tte_cli_usage("--prm, --step-delim and --prm-agg go with --search");
    if (o.mode == MODE_SEARCH) {
        search_options *s = &o.search;
        if (!o.prm) tte_cli_usage("--search needs --prm DIR, the reward model that scores the steps");
        s->n = samples_given ? f->samples : 4;
        if (s->kind == SEARCH_REVISE) s->beam_width = 1;
        if (!s->revise_prompt) s->revise_prompt = SEARCH_REVISE_PROMPT;
        if (s->n % s->beam_width != 0)
            tte_cli_usage("-n %d is not a multiple of --beam-width %d", s->n, s->beam_width);
        s->sampling = f->sampling, s->seed = f->seed, s->kv_mem = o.common.kv_mem, s->batch = o.common.batch;
    }
    o.complete.seed = f->seed;
    o.complete.batch = o.common.batch;
    o.inputs = argv + optind;
    o.ninputs = argc - optind;
    return o;
}

/* Reads every record and hands it to EACH, which edits it in place (returning -1 after
 * tte_jsonl_fail to stop with that message); writes each record to OUT as soon as it is done, so
 * what was written before a bad line stays written. Returns 0, or -1 after the error line. */
typedef int (*record_fn)(tte_jsonl *in, json_t *rec, void *ctx);

static int for_each_record(const struct options *o, record_fn each, void *ctx, FILE *out) {
    tte_jsonl *in = tte_opts_input(&o->common, o->inputs, o->ninputs);
    json_t *rec;
    int rc;
    while ((rc = tte_jsonl_next(in, &rec)) == 1) {
        if (each(in, rec, ctx) != 0) {
            json_decref(rec);
            break;
        }
        if (tte_jsonl_write(out, rec) != 0) tte_die("write error");
        json_decref(rec);
    }
    if (rc != 0) tte_warn("%s", tte_jsonl_error(in));
    tte_jsonl_close(in);
    return rc != 0 ? -1 : 0;
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
        text = rendered;
    }
    tte_tokens toks = {0};
    int split = tte_tokenizer_encode(ctx->tok, text, len, &toks);
    free(rendered);
    if (split != 0)
        return tte_jsonl_fail(
            in, "field \"text\": the tokenizer's pre-tokenizer pattern hit PCRE2's match limit");
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
    json_object_set_new(rec, "text", json_stringn(text, fixed_len));
    free(text);
    return 0;
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    struct options o = parse_options(argc, argv);
    char err[1024];
    int tokenizer_only = o.mode == MODE_ENCODE || o.mode == MODE_DECODE;
    tte_session_opts so = {.model = o.model,
                           .template_path = o.template_path,
                           .tokenizer_only = tokenizer_only,
                           .chat = o.chat || o.mode == MODE_SWEEP || o.mode == MODE_SEARCH,
                           .threads = o.common.threads,
                           .device = o.common.device,
                           .use_cache = o.common.use_cache && o.mode == MODE_SWEEP};
    tte_session *ses = tte_session_open(&so, err, sizeof err);
    if (!ses) tte_die("%s", err);
    tte_outfile out;
    if (tte_outfile_open_for(&out, o.common.output, o.inputs, o.ninputs, err, sizeof err) != 0)
        tte_die("%s", err);
    int rc = 0;
    if (tokenizer_only) {
        struct tokenize_ctx ctx = {.tok = ses->tok, .chat = ses->chat, .skip_special = o.skip_special};
        rc = for_each_record(&o, o.mode == MODE_ENCODE ? encode_record : decode_record, &ctx, out.f);
    } else {
        tte_jsonl *in = tte_opts_input(&o.common, o.inputs, o.ninputs);
        if (o.mode == MODE_COMPLETE) {
            o.complete.sampling = o.forcing.sampling;
            rc = complete_run(ses, &o.complete, in, out.f);
        } else if (o.mode == MODE_SEARCH) {
            tte_session_opts ro = so;
            ro.model = o.prm, ro.chat = 0, ro.use_cache = 0;
            tte_session *rm = tte_session_open(&ro, err, sizeof err);
            if (!rm) tte_die("%s", err);
            rc = search_run(ses, rm, &o.search, in, out.f);
            tte_session_close(rm);
        } else {
            rc = forcing_run(ses, &o.forcing, in, out.f);
        }
        tte_jsonl_close(in);
    }
    tte_session_close(ses);
    /* A failed run keeps what it wrote to stdout (whole records), but never replaces an -o file. */
    return tte_outfile_finish(&out, rc == 0);
}
