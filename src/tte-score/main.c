/* tte-score: grades generations against their gold answers, and measures the continuous metric.
 *
 * Five modes:
 *   --grade-only       no model: every record carries an answer (the forced "final" of tte-gen, a
 *                      "pred" made elsewhere, or a "text" to extract one from) and its gold
 *                      "answer"; adds "pred" (canonical form), "extracted" and "correct"
 *   --model DIR        grading plus the continuous metric of each generation record (metric.c)
 *   --model DIR --logprobs   teacher-forced log-probabilities of any text (logprobs.c)
 *   --model DIR --next-dist K   next-token distributions (nextdist.c)
 *   --prm DIR          process-reward step scores (prm.c) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grade_record.h"
#include "jsonl.h"
#include "logprobs.h"
#include "metric.h"
#include "nextdist.h"
#include "options.h"
#include "outfile.h"
#include "prm.h"
#include "session.h"

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
    "  --rescore        score records that another model generated (their \"model_hash\" differs)\n"
    "  --prm DIR        instead of --model: add \"step_scores\" and \"prm_score\" from a process\n"
    "                   reward model read at a tag token (Math-Shepherd style; DIR/tte_prm.json)\n"
    "  --step-delim S   with --prm: what ends a step (default: the PRM's, else \"\\n\\n\")\n"
    "  --prm-agg A      with --prm: prm_score is the last, min or prod of the steps (default last)\n"
    "  --grade-only     grade answers already in the records, without a model: \"final\" (tte-gen's\n"
    "                   forced answer), else \"pred\", else the last \\boxed{} of \"text\" (with fallbacks)\n"
    "  --grader NAME    math-verify (the default: Math-Verify's rules) or qwen (Qwen2.5-Math's\n"
    "                   math_equal); see GRADERS in tte-score(1)\n"
    "  --logprobs       with --model: add \"logprobs\" of each token of \"text\" (or \"ids\") after\n"
    "                   \"prompt\" (or \"prompt_ids\"), by teacher forcing\n"
    "  --next-dist K|all  with --model: add \"next_dist\", the K most likely tokens after \"prompt\"\n"
    "                   (or \"prompt_ids\") with their log-probabilities, and \"entropy_nats\"; all:\n"
    "                   every record's whole distribution into --next-dist-file FILE (.npy)\n"
    "  --next-dist-file FILE  with --next-dist all: the .npy file (records x vocabulary)\n"
    "  --next-dist-dtype f32|f16  its element type (default f32)\n";
static const char help_tail[] =
    "Each record needs \"answer\" (the gold answer); \"answer_type\" (integer, number, latex or choice)\n"
    "is inferred from it when absent; \"choices\" lets a choice answer be given as the option's text.\n"
    "Exit status: 0 success, 1 bad input (FILE:LINE: field \"NAME\": ...), 2 usage error.\n"
    "See tte-score(1).\n";

typedef struct {
    int grade_only, logprobs, rescore;
    const char *prm_dir; /* --prm */
    prm_options prm;
    nextdist_options next; /* --next-dist: top_k > 0, or all (top_k 0 with a file) */
    int next_dist;
    const char *model;
    const char *template_path;
    tte_common common; /* --threads, --device, --batch, -o, ... */
    char **files;
    int nfiles;
} options;

static options parse_options(int argc, char **argv) {
    enum {
        OPT_GRADE_ONLY = 256,
        OPT_LOGPROBS,
        OPT_MODEL,
        OPT_TEMPLATE,
        OPT_GRADER,
        OPT_NEXT_DIST,
        OPT_NEXT_DIST_FILE,
        OPT_NEXT_DIST_DTYPE,
        OPT_RESCORE,
        OPT_PRM,
        OPT_STEP_DELIM,
        OPT_PRM_AGG
    };
    static const struct option longopts[] = {
        {"grade-only", no_argument, NULL, OPT_GRADE_ONLY},
        {"logprobs", no_argument, NULL, OPT_LOGPROBS},
        {"model", required_argument, NULL, OPT_MODEL},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"grader", required_argument, NULL, OPT_GRADER},
        {"next-dist", required_argument, NULL, OPT_NEXT_DIST},
        {"rescore", no_argument, NULL, OPT_RESCORE},
        {"prm", required_argument, NULL, OPT_PRM},
        {"step-delim", required_argument, NULL, OPT_STEP_DELIM},
        {"prm-agg", required_argument, NULL, OPT_PRM_AGG},
        {"next-dist-file", required_argument, NULL, OPT_NEXT_DIST_FILE},
        {"next-dist-dtype", required_argument, NULL, OPT_NEXT_DIST_DTYPE},
        {NULL, 0, NULL, 0},
    };
    options o = {.common = tte_common_defaults()};
    o.common.batch = 32;
    tte_opts spec = {.common = TTE_OPT_THREADS | TTE_OPT_DEVICE | TTE_OPT_KV_MEM | TTE_OPT_BATCH |
                               TTE_OPT_CACHE | TTE_OPT_PROGRESS | TTE_OPT_OUTPUT | TTE_OPT_SHARD,
                     .longopts = longopts,
                     .help = help,
                     .help_tail = help_tail};
    int c;
    while ((c = tte_opts_next(&spec, &o.common, argc, argv)) != -1) {
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
            o.template_path = optarg;
            break;
        case OPT_GRADER: {
            int g = tte_grader_parse(optarg);
            if (g < 0) tte_cli_usage("--grader: must be math-verify or qwen, not \"%s\"", optarg);
            grade_record_set_grader((tte_grader)g);
            break;
        }
        case OPT_NEXT_DIST:
            o.next_dist = 1;
            o.next.top_k =
                strcmp(optarg, "all") == 0 ? 0 : (int)tte_cli_int("--next-dist", optarg, 1, 1 << 24);
            break;
        case OPT_PRM:
            o.prm_dir = optarg;
            break;
        case OPT_STEP_DELIM:
            o.prm.step_delim = optarg;
            break;
        case OPT_PRM_AGG:
            if (tte_prm_agg_parse(optarg, &o.prm.agg) != 0)
                tte_cli_usage("--prm-agg: '%s' is not last, min or prod", optarg);
            break;
        case OPT_RESCORE:
            o.rescore = 1;
            break;
        case OPT_NEXT_DIST_FILE:
            o.next.file = optarg;
            break;
        case OPT_NEXT_DIST_DTYPE:
            if (strcmp(optarg, "f16") && strcmp(optarg, "f32"))
                tte_cli_usage("--next-dist-dtype: '%s' is not f32 or f16", optarg);
            o.next.f16 = strcmp(optarg, "f16") == 0;
            break;
        }
    }
    if (o.grade_only && (o.model || o.prm_dir))
        tte_cli_usage("--grade-only grades without a model: leave out --model and --prm");
    if (o.prm_dir && o.model)
        tte_cli_usage(
            "--prm scores with the PRM alone: pipe tte-score --model's output into tte-score --prm");
    if ((o.prm.step_delim || o.prm.agg) && !o.prm_dir)
        tte_cli_usage("--step-delim and --prm-agg go with --prm");
    if (!o.grade_only && !o.model && !o.prm_dir)
        tte_cli_usage("give --model DIR, --prm DIR, or --grade-only to grade without a model");
    if (o.logprobs && o.grade_only) tte_cli_usage("--logprobs needs --model, not --grade-only");
    if (o.next_dist && (o.grade_only || o.logprobs))
        tte_cli_usage("--next-dist is a mode of its own, with --model");
    if (o.next_dist && o.next.top_k == 0 && (!o.next.file || strcmp(o.next.file, "-") == 0))
        tte_cli_usage("--next-dist all writes its rows to --next-dist-file FILE (the records go to stdout)");
    if ((o.next.file || o.next.f16) && !(o.next_dist && o.next.top_k == 0))
        tte_cli_usage("--next-dist-file and --next-dist-dtype go with --next-dist all");
    o.files = argv + optind;
    o.nfiles = argc - optind;
    return o;
}

static int grade_only(const options *o, tte_jsonl *in, FILE *out) {
    tte_progress progress;
    tte_progress_init(&progress, o->common.progress);
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
        if (tte_jsonl_write(out, rec) != 0) {
            json_decref(rec);
            tte_warn("write error: %s", strerror(errno));
            return -1;
        }
        json_decref(rec);
        tte_progress_update(&progress, "%ld records graded, %ld correct", records, correct);
    }
    if (r != 0) {
        tte_progress_done(&progress);
        tte_warn("%s", tte_jsonl_error(in));
        return -1;
    }
    progress.last = -1; /* the final count is drawn whatever the throttle says */
    tte_progress_update(&progress, "%ld records graded, %ld correct", records, correct);
    tte_progress_done(&progress);
    return 0;
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    options o = parse_options(argc, argv);
    char err[1024];
    tte_session *ses = NULL;
    if (o.model || o.prm_dir) {
        tte_session_opts so = {.model = o.model ? o.model : o.prm_dir,
                               .template_path = o.template_path,
                               .chat = !o.logprobs && !o.prm_dir && (!o.next_dist || o.template_path),
                               .threads = o.common.threads,
                               .device = o.common.device,
                               .use_cache = o.common.use_cache && !o.logprobs && !o.next_dist};
        if (!(ses = tte_session_open(&so, err, sizeof err))) tte_die("%s", err);
    }
    tte_outfile out;
    if (tte_outfile_open_for(&out, o.common.output, o.files, o.nfiles, err, sizeof err) != 0)
        tte_die("%s", err);
    tte_jsonl *in = tte_opts_input(&o.common, o.files, o.nfiles);
    metric_options mo = {.batch = o.common.batch,
                         .kv_mem = o.common.kv_mem,
                         .refresh = o.common.refresh,
                         .progress = o.common.progress,
                         .rescore = o.rescore};
    o.next.use_template = o.template_path != NULL;
    o.next.batch = o.common.batch, o.next.kv_mem = o.common.kv_mem;
    o.prm.batch = o.common.batch, o.prm.kv_mem = o.common.kv_mem, o.prm.refresh = o.common.refresh;
    int rc = o.grade_only  ? grade_only(&o, in, out.f)
             : o.prm_dir   ? prm_run(ses, &o.prm, in, out.f)
             : o.logprobs  ? logprobs_run(ses, o.common.batch, o.common.kv_mem, in, out.f)
             : o.next_dist ? nextdist_run(ses, &o.next, in, out.f)
                           : metric_run(ses, &mo, in, out.f);
    tte_jsonl_close(in);
    tte_session_close(ses);
    /* A failed run keeps what it wrote to stdout (whole records), but never replaces an -o file. */
    return tte_outfile_finish(&out, rc == 0);
}
