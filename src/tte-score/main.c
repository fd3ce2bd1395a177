/* tte-score: grades generations against their gold answers, and measures the continuous metric.
 *
 * Three modes:
 *   --grade-only       no model: every record carries an answer (the forced "final" of tte-gen, a
 *                      "pred" made elsewhere, or a "text" to extract one from) and its gold
 *                      "answer"; adds "pred" (canonical form), "extracted" and "correct"
 *   --model DIR        grading plus the continuous metric of each generation record (metric.c)
 *   --model DIR --logprobs   teacher-forced log-probabilities of any text (logprobs.c) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grade_record.h"
#include "hub.h"
#include "jsonl.h"
#include "logprobs.h"
#include "metric.h"

static const char help[] =
    "Usage: tte-score --model DIR [OPTION]... [FILE]...\n"
    "  or:  tte-score --grade-only [OPTION]... [FILE]...\n"
    "  or:  tte-score --model DIR --logprobs [OPTION]... [FILE]...\n"
    "Grade JSON-lines records (from FILEs, or stdin when none or '-') against their gold answers and\n"
    "write them to stdout with \"pred\", \"extracted\" and \"correct\" added; with a model, also the\n"
    "continuous metric: p_gold, logp_gold, p_gold_norm, entropy_nats, gold_rank, solution_set, set_size.\n"
    "\n"
    "  --model DIR|ID   the model that generated the records (folder or Hugging Face id)\n"
    "  --template FILE  the chat template tte-gen was given, if any\n"
    "  --grade-only     grade answers already in the records, without a model: \"final\" (tte-gen's\n"
    "                   forced answer), else \"pred\", else the last \\boxed{} of \"text\" (with fallbacks)\n"
    "  --logprobs       with --model: add \"logprobs\" of each token of \"text\" (or \"ids\") after\n"
    "                   \"prompt\" (or \"prompt_ids\"), by teacher forcing\n"
    "  --threads N      CPU threads (default: all cores)\n"
    "  --device D       cpu, cuda or auto (default: cuda when a GPU is present)\n"
    "  --kv-mem SIZE    KV-cache memory, e.g. 512M (default: enough for the longest record)\n"
    "  --no-cache       neither read nor write the cache ($TTE_CACHE)\n"
    "  --refresh        recompute and overwrite cached scores\n"
    "  --progress       show the progress line on stderr even when it is not a terminal\n"
    "  --help           show this help and exit\n"
    "  --version        show the version and exit\n"
    "\n"
    "Each record needs \"answer\" (the gold answer); \"answer_type\" (integer, number, latex or choice)\n"
    "is inferred from it when absent; \"choices\" lets a choice answer be given as the option's text.\n"
    "Exit status: 0 success, 1 bad input (FILE:LINE: field \"NAME\": ...), 2 usage error.\n"
    "See tte-score(1).\n";

typedef struct {
    int grade_only, logprobs;
    const char *model;
    char model_dir[4096];
    metric_options metric;
    char **files;
    int nfiles;
} options;

static options parse_options(int argc, char **argv) {
    enum {
        OPT_GRADE_ONLY = 256,
        OPT_LOGPROBS,
        OPT_MODEL,
        OPT_TEMPLATE,
        OPT_THREADS,
        OPT_DEVICE,
        OPT_KV_MEM,
        OPT_NO_CACHE,
        OPT_REFRESH,
        OPT_PROGRESS,
        OPT_HELP,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"grade-only", no_argument, NULL, OPT_GRADE_ONLY},
        {"logprobs", no_argument, NULL, OPT_LOGPROBS},
        {"model", required_argument, NULL, OPT_MODEL},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"kv-mem", required_argument, NULL, OPT_KV_MEM},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
        {"refresh", no_argument, NULL, OPT_REFRESH},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    options o = {.metric = {.device = "auto", .use_cache = 1}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_GRADE_ONLY:
            o.grade_only = 1;
            break;
        case OPT_LOGPROBS:
            o.logprobs = 1;
            break;
        case OPT_MODEL:
            o.model = optarg;
            break;
        case OPT_TEMPLATE:
            o.metric.template_path = optarg;
            break;
        case OPT_THREADS:
            o.metric.threads = (int)tte_cli_int("--threads", optarg, 1, 1024);
            break;
        case OPT_DEVICE:
            o.metric.device = tte_cli_device(optarg);
            break;
        case OPT_KV_MEM:
            o.metric.kv_mem = tte_cli_size("--kv-mem", optarg);
            break;
        case OPT_NO_CACHE:
            o.metric.use_cache = 0;
            break;
        case OPT_REFRESH:
            o.metric.refresh = 1;
            break;
        case OPT_PROGRESS:
            o.metric.progress = 1;
            break;
        case OPT_HELP:
            tte_cli_help(help);
        case OPT_VERSION:
            tte_cli_version();
        default:
            tte_cli_bad_option(c, argv);
        }
    }
    if (o.grade_only && o.model) tte_cli_usage("--grade-only grades without a model: leave out --model");
    if (!o.grade_only && !o.model)
        tte_cli_usage("give --model DIR, or --grade-only to grade without a model");
    if (o.logprobs && o.grade_only) tte_cli_usage("--logprobs needs --model, not --grade-only");
    o.files = argv + optind;
    o.nfiles = argc - optind;
    return o;
}

static int grade_only(const options *o, tte_jsonl *in) {
    tte_progress progress;
    tte_progress_init(&progress, o->metric.progress);
    long records = 0, correct = 0;
    json_t *rec;
    int r;
    while ((r = tte_jsonl_next(in, &rec)) == 1) {
        int c = grade_record(in, rec);
        if (c < 0) {
            json_decref(rec);
            break;
        }
        records++;
        correct += c;
        if (tte_jsonl_write(stdout, rec) != 0) tte_die("write error: %s", strerror(errno));
        json_decref(rec);
        tte_progress_update(&progress, "%ld records graded, %ld correct", records, correct);
    }
    if (r != 0) {
        tte_progress_done(&progress);
        fflush(stdout); /* what was graded before the bad line stays written */
        tte_warn("%s", tte_jsonl_error(in));
        return -1;
    }
    progress.last = -1; /* the final count is drawn whatever the throttle says */
    tte_progress_update(&progress, "%ld records graded, %ld correct", records, correct);
    tte_progress_done(&progress);
    if (fflush(stdout) != 0 || ferror(stdout)) tte_die("write error: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    options o = parse_options(argc, argv);
    char err[1024];
    if (o.model && tte_hub_resolve(o.model, o.model_dir, sizeof o.model_dir, err, sizeof err) != 0)
        tte_die("%s", err);
    o.metric.model_dir = o.model_dir;
    tte_jsonl *in = tte_jsonl_open_list(o.files, o.nfiles);
    if (!in) tte_die("out of memory");
    int rc = o.grade_only ? grade_only(&o, in)
             : o.logprobs ? logprobs_run(o.model_dir, o.metric.threads, o.metric.device, in)
                          : metric_run(&o.metric, in);
    tte_jsonl_close(in);
    return rc == 0 ? TTE_EXIT_OK : TTE_EXIT_FAIL;
}
