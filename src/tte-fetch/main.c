/* tte-fetch: emit benchmark items as JSON lines (the "item" records of man/tte.7). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "arith.h"
#include "cli.h"
#include "datasets.h"
#include "gpqa.h"
#include "jsonl.h"
#include "options.h"
#include "outfile.h"
#include "rng.h"
#include "shard.h"
#include "userfile.h"

static const char HELP[] =
    "Usage: tte-fetch [OPTION]... NAME|FILE\n"
    "  or:  tte-fetch [OPTION]... gpqa FILE\n"
    "Emit benchmark items as JSON lines: a built-in dataset by NAME, or a user's FILE\n"
    "(.jsonl, .json holding an array, .csv with a header row; '-' reads JSON lines from stdin).\n"
    "\n"
    "  --list                  list the built-in datasets and exit\n"
    "  --prompt-style STYLE    'study' (default: the original study's wording) or 'plain'\n"
    "  --limit N               at most N items (after the options below)\n"
    "  --range A..B            items A to B-1 (either end may be left out)\n"
    "  --shard K/N             the items whose id falls in shard K of N (0 <= K < N; tte(7))\n"
    "  --shuffle SEED          shuffle the items first, reproducibly\n"
    "  --skip-bad              skip bad records (counted on stderr) instead of stopping\n"
    "The synthetic 'arith' set (sums of K numbers, for the embedded tiny model; only arith takes these):\n"
    "  --seed N                seed of the generator (default 0)\n"
    "  --count N               number of items (default 200)\n"
    "  --terms A..B            K is drawn from A..B (default 2..12)\n"
    "  --max-value N           numbers are drawn from 1..N (default 9)\n"
    "GPQA from your own download (gpqa_diamond.csv of Idavidrein/gpqa; not shipped):\n"
    "  --revised               read the revised columns (default: the pre-revision ones, as the study)\n"
    "  --shuffle-seed N        seed of the choice order, numpy RandomState(N) (default 42, the study's)\n"
    "User files:\n"
    "  --problem-field F       field with the problem (default: problem)\n"
    "  --answer-field F        field with the answer (default: answer)\n"
    "  --choices-field F       field with the options: makes items multiple choice\n"
    "  --id-field F            field with the item id (default: DATASET/INDEX)\n"
    "  --answer-type T         integer, number or latex (default: inferred from each answer)\n"
    "  --dataset NAME          dataset name (default: the file's base name; gpqa: gpqa)\n";
static const char HELP_TAIL[] =
    "Selection happens in this order: --shuffle, --range, --shard, --limit.\n"
    "Exit status: 0 ok, 1 bad input, 2 usage error. See tte-fetch(1) and tte(7).\n";

/* Fisher–Yates driven by splitmix64, so --shuffle SEED gives the same order everywhere. */
static void shuffle(json_t *items, uint64_t seed) {
    size_t n = json_array_size(items);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tte_rng_below(&seed, i);
        json_t *a = json_incref(json_array_get(items, i - 1)), *b = json_incref(json_array_get(items, j));
        json_array_set_new(items, i - 1, b);
        json_array_set_new(items, j, a);
    }
}

/* "--NAME" of the option with code C in OPTIONS (a string that lives as long as the program). */
static const char *option_name(const struct option *options, int c) {
    static char names[32][32];
    for (int i = 0; options[i].name && i < 32; i++)
        if (options[i].val == c)
            return snprintf(names[i], sizeof names[i], "--%s", options[i].name), names[i];
    return "an option";
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    enum {
        OPT_LIST = 256,
        OPT_STYLE,
        OPT_LIMIT,
        OPT_RANGE,
        OPT_SHARD,
        OPT_SHUFFLE,
        OPT_SKIP,
        OPT_PROBLEM,
        OPT_ANSWER,
        OPT_CHOICES,
        OPT_ID,
        OPT_TYPE,
        OPT_DATASET,
        OPT_SEED,
        OPT_COUNT,
        OPT_TERMS,
        OPT_MAXVAL,
        OPT_REVISED,
        OPT_SHUFFLE_SEED
    };
    static const struct option options[] = {{"list", no_argument, 0, OPT_LIST},
                                            {"prompt-style", required_argument, 0, OPT_STYLE},
                                            {"limit", required_argument, 0, OPT_LIMIT},
                                            {"range", required_argument, 0, OPT_RANGE},
                                            {"shard", required_argument, 0, OPT_SHARD},
                                            {"shuffle", required_argument, 0, OPT_SHUFFLE},
                                            {"skip-bad", no_argument, 0, OPT_SKIP},
                                            {"problem-field", required_argument, 0, OPT_PROBLEM},
                                            {"answer-field", required_argument, 0, OPT_ANSWER},
                                            {"choices-field", required_argument, 0, OPT_CHOICES},
                                            {"id-field", required_argument, 0, OPT_ID},
                                            {"answer-type", required_argument, 0, OPT_TYPE},
                                            {"dataset", required_argument, 0, OPT_DATASET},
                                            {"seed", required_argument, 0, OPT_SEED},
                                            {"count", required_argument, 0, OPT_COUNT},
                                            {"terms", required_argument, 0, OPT_TERMS},
                                            {"max-value", required_argument, 0, OPT_MAXVAL},
                                            {"revised", no_argument, 0, OPT_REVISED},
                                            {"shuffle-seed", required_argument, 0, OPT_SHUFFLE_SEED},
                                            {0, 0, 0, 0}};
    tte_opts spec = {.common = TTE_OPT_OUTPUT, .longopts = options, .help = HELP, .help_tail = HELP_TAIL};
    tte_common com = tte_common_defaults();
    prompt_style style = PROMPT_STUDY;
    long long from = 0, to = LLONG_MAX;
    long limit = -1;
    tte_shard shard = {0, 1};
    int skip_bad = 0, shuffled = 0;
    uint64_t seed = 0;
    arith_options aopt = {.seed = 0, .count = 200, .min_terms = 2, .max_terms = 12, .max_value = 9};
    userfile_options uopt = {.problem_field = "problem", .answer_field = "answer"};
    gpqa_options gopt = {.seed = GPQA_STUDY_SEED};
    /* The first option given that only one kind of source takes, so that another kind refuses it
     * instead of ignoring it (aime24 --count 5 gave 30 items). */
    const char *arith_only = NULL, *user_only = NULL, *gpqa_only = NULL;
    int c;
    while ((c = tte_opts_next(&spec, &com, argc, argv)) != -1) {
        const char *name = option_name(options, c);
        if (c == OPT_SEED || c == OPT_COUNT || c == OPT_TERMS || c == OPT_MAXVAL)
            arith_only = arith_only ? arith_only : name;
        if (c == OPT_PROBLEM || c == OPT_ANSWER || c == OPT_CHOICES || c == OPT_ID || c == OPT_TYPE)
            user_only = user_only ? user_only : name;
        if (c == OPT_REVISED || c == OPT_SHUFFLE_SEED) gpqa_only = gpqa_only ? gpqa_only : name;
        switch (c) {
        case OPT_LIST:
            dataset_list(stdout);
            return TTE_EXIT_OK;
        case OPT_STYLE:
            if (strcmp(optarg, "study") == 0)
                style = PROMPT_STUDY;
            else if (strcmp(optarg, "plain") == 0)
                style = PROMPT_PLAIN;
            else
                tte_cli_usage("--prompt-style: '%s' is not 'study' or 'plain'", optarg);
            break;
        case OPT_LIMIT:
            limit = (long)tte_cli_int("--limit", optarg, 0, LONG_MAX);
            break;
        case OPT_RANGE:
            tte_cli_range("--range", optarg, 0, LLONG_MAX, &from, &to);
            break;
        case OPT_SHARD:
            shard = tte_cli_shard("--shard", optarg);
            break;
        case OPT_SHUFFLE:
            seed = (uint64_t)tte_cli_int("--shuffle", optarg, 0, LLONG_MAX), shuffled = 1;
            break;
        case OPT_SKIP:
            skip_bad = 1;
            break;
        case OPT_PROBLEM:
            uopt.problem_field = optarg;
            break;
        case OPT_ANSWER:
            uopt.answer_field = optarg;
            break;
        case OPT_CHOICES:
            uopt.choices_field = optarg;
            break;
        case OPT_ID:
            uopt.id_field = optarg;
            break;
        case OPT_TYPE:
            if (strcmp(optarg, "integer") && strcmp(optarg, "number") && strcmp(optarg, "latex"))
                tte_cli_usage("--answer-type: '%s' is not integer, number or latex", optarg);
            uopt.answer_type = optarg;
            break;
        case OPT_DATASET:
            uopt.dataset = optarg;
            break;
        case OPT_SEED:
            aopt.seed = (uint64_t)tte_cli_int("--seed", optarg, 0, LLONG_MAX);
            break;
        case OPT_COUNT:
            aopt.count = (long)tte_cli_int("--count", optarg, 0, 100000000);
            break;
        case OPT_TERMS: {
            long long lo = aopt.min_terms, hi = aopt.max_terms;
            tte_cli_range("--terms", optarg, 1, ARITH_MAX_TERMS, &lo, &hi);
            aopt.min_terms = (int)lo, aopt.max_terms = (int)hi;
            break;
        }
        case OPT_MAXVAL:
            aopt.max_value = (int)tte_cli_int("--max-value", optarg, 1, 1000000);
            break;
        case OPT_REVISED:
            gopt.revised = 1;
            break;
        case OPT_SHUFFLE_SEED:
            gopt.seed = (uint32_t)tte_cli_int("--shuffle-seed", optarg, 0, UINT32_MAX);
            break;
        }
    }
    int gpqa = optind < argc && strcmp(argv[optind], "gpqa") == 0;
    if (gpqa && optind + 1 >= argc)
        tte_cli_usage("gpqa needs the FILE you downloaded: gpqa_diamond.csv of the Hugging Face dataset "
                      "Idavidrein/gpqa (gated, so tte does not ship it)");
    if (optind != argc - 1 - gpqa)
        tte_cli_usage(optind == argc ? "a dataset NAME or a FILE is needed" : "one NAME or FILE only");
    const char *source = argv[optind + gpqa];

    json_t *items = json_array();
    long skipped = 0;
    char err[1024];
    const dataset *d = dataset_find(source);
    int is_file = strchr(source, '/') || strchr(source, '.') || strcmp(source, "-") == 0;
    int arith = !gpqa && strcmp(source, "arith") == 0, user = !gpqa && !arith && !d && is_file;
    if (arith_only && !arith)
        tte_cli_usage("%s is for the arith set%s", arith_only,
                      strcmp(arith_only, "--count") == 0 ? " (the first N items of another: --limit N)" : "");
    if (user_only && !user) tte_cli_usage("%s is for user files", user_only);
    if (gpqa_only && !gpqa) tte_cli_usage("%s is for gpqa FILE", gpqa_only);
    if (uopt.dataset && !user && !gpqa) tte_cli_usage("--dataset is for user files and gpqa FILE");
    int rc;
    if (gpqa) {
        gopt.dataset = uopt.dataset;
        rc = gpqa_read(source, &gopt, style, skip_bad, items, &skipped, err, sizeof err);
    } else if (arith)
        arith_generate(&aopt, style, items), rc = 0;
    else if (d)
        rc = dataset_read(d, style, skip_bad, items, &skipped, err, sizeof err);
    else if (is_file)
        rc = userfile_read(source, &uopt, style, skip_bad, items, &skipped, err, sizeof err);
    else {
        json_decref(items);
        tte_die("unknown dataset '%s' (tte-fetch --list shows the built-in ones; a file needs a path or an "
                "extension)",
                source);
    }
    if (rc != 0) {
        json_decref(items);
        tte_die("%s", err);
    }
    if (skipped) tte_warn("skipped %ld bad record%s", skipped, skipped == 1 ? "" : "s");

    tte_outfile out;
    /* The input is a file when it is neither arith nor a built-in dataset. */
    if (tte_outfile_open_for(&out, com.output, !d && is_file ? (char *const *)&source : NULL, 1, err,
                             sizeof err) != 0)
        tte_die("%s", err);
    if (shuffled) shuffle(items, seed);
    long long n = (long long)json_array_size(items);
    long written = 0;
    int wrc = 0;
    for (long long i = from; i < n && i < to && (limit < 0 || written < limit) && wrc == 0; i++) {
        /* By the id's hash, as tte-gen's and tte-score's --shard: adding items moves none. */
        json_t *item = json_array_get(items, (size_t)i), *id = json_object_get(item, "id");
        if (shard.n > 1 && tte_shard_of(json_string_value(id), json_string_length(id), shard.n) != shard.k)
            continue;
        wrc = tte_jsonl_write(out.f, item);
        written++;
    }
    json_decref(items);
    if (wrc != 0) {
        tte_outfile_abort(&out);
        tte_die("%s: write error: %s", com.output ? com.output : "<stdout>", strerror(errno));
    }
    if (tte_outfile_commit(&out, err, sizeof err) != 0) tte_die("%s", err);
    return TTE_EXIT_OK;
}
