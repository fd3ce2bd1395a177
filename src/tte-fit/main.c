/* tte-fit: scaling fits, emergence scores and repeated-sampling metrics from scored records.
 *
 * Reads every scored record (tte-score's output), groups them (default: model x dataset), and writes
 * curve, item, passk, correlation and sizes records; see tte-fit(1). Records that already carry a
 * "kind" (the output of an earlier tte-fit) pass through unchanged. */
#include "cli.h"
#include "data.h"
#include "jsonl.h"
#include "options.h"
#include "outfile.h"
#include "predict.h"
#include "report.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: tte-fit [OPTION]... [FILE]...\n"
    "Fit scaling curves and score emergence from scored records (tte-score's output) in FILEs\n"
    "(or standard input; '-' is standard input). Writes JSON lines; see tte-fit(1).\n"
    "\n"
    "  --by FIELD,...          group records by these fields (default: model,dataset)\n"
    "  --x AXIS                the curves' x: budget (default), n (a search's solutions), or the\n"
    "                          records' cost: tokens, flops, bytes (tte-gen's cost fields, a PRM's\n"
    "                          added): one compute axis for every strategy\n"
    "  --metric M,...          correct, p_gold_norm, p_gold, neg_entropy (default: all four)\n"
    "  --bootstrap N           percentile-bootstrap resamples over items per budget (default 1000;\n"
    "                          0: none)\n"
    "  --seed S                seed of the bootstrap (default 1)\n"
    "  --level L               coverage of the bootstrap band (default 0.95)\n"
    "  --legacy                the study's legacy scores: median-squared breakthroughness,\n"
    "                          unweighted skew\n"
    "  --top K                 item records: only the K most emergent per group and metric\n"
    "                          (default: all)\n"
    "  --predict-largest       from tte-score --next-dist records of a family of models: predict\n"
    "                          the largest model's top token from the smaller ones (prediction\n"
    "                          records, one per strategy; --bootstrap, --seed, --level apply)\n";
static const char help_tail[] =
    "Exit status: 0 success, 1 bad input (FILE:LINE: message) or failure, 2 usage error.\n";

/* Splits a comma-separated list into a new array of new strings. */
static char **split_list(const char *option, const char *text, int *n) {
    char *copy = tte_xstrdup(text), *save = NULL;
    char **out = tte_xcalloc(strlen(text) + 1, sizeof(char *));
    *n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        out[(*n)++] = tte_xstrdup(tok);
    free(copy);
    if (*n == 0) tte_cli_usage("%s: empty list", option);
    return out;
}

static void free_list(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    fit_options o = {.bootstrap = 1000, .seed = 1, .level = 0.95};
    for (int m = 0; m < TTE_METRIC_N; m++) o.metric[m] = 1;
    fitdata d = {0};
    d.by = split_list("--by", "model,dataset", &d.nby);

    enum { OPT_BY = 256, OPT_METRIC, OPT_BOOTSTRAP, OPT_SEED, OPT_LEVEL, OPT_LEGACY, OPT_TOP, OPT_PREDICT, OPT_X };
    int predict = 0;
    static const struct option options[] = {
        {"by", required_argument, NULL, OPT_BY},
        {"x", required_argument, NULL, OPT_X},
        {"metric", required_argument, NULL, OPT_METRIC},
        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
        {"seed", required_argument, NULL, OPT_SEED},
        {"level", required_argument, NULL, OPT_LEVEL},
        {"legacy", no_argument, NULL, OPT_LEGACY},
        {"top", required_argument, NULL, OPT_TOP},
        {"predict-largest", no_argument, NULL, OPT_PREDICT},
        {NULL, 0, NULL, 0},
    };
    tte_opts spec = {.common = TTE_OPT_OUTPUT, .longopts = options, .help = help, .help_tail = help_tail};
    tte_common com = tte_common_defaults();
    int c;
    while ((c = tte_opts_next(&spec, &com, argc, argv)) != -1) {
        switch (c) {
        case OPT_BY:
            free_list(d.by, d.nby);
            d.by = split_list("--by", optarg, &d.nby);
            break;
        case OPT_METRIC: {
            int n;
            char **names = split_list("--metric", optarg, &n);
            for (int m = 0; m < TTE_METRIC_N; m++) o.metric[m] = 0;
            for (int i = 0; i < n; i++) {
                int m = tte_metric_parse(names[i]);
                if (m < 0) tte_cli_usage("--metric: unknown metric '%s'", names[i]);
                o.metric[m] = 1;
            }
            free_list(names, n);
            break;
        }
        case OPT_BOOTSTRAP:
            o.bootstrap = (int)tte_cli_int("--bootstrap", optarg, 0, 1000000);
            break;
        case OPT_SEED:
            o.seed = (uint64_t)tte_cli_int("--seed", optarg, 0, INT64_MAX);
            break;
        case OPT_LEVEL:
            o.level = tte_cli_double("--level", optarg, 0, 1);
            break;
        case OPT_LEGACY:
            o.legacy = 1;
            break;
        case OPT_TOP:
            o.top = (int)tte_cli_int("--top", optarg, 0, 1000000000);
            break;
        case OPT_PREDICT:
            predict = 1;
            break;
        case OPT_X: {
            int found = -1;
            for (int a = X_BUDGET; a <= X_BYTES; a++)
                if (strcmp(optarg, x_axis_name((x_axis)a)) == 0) found = a;
            if (found < 0) tte_cli_usage("--x: '%s' is not budget, n, tokens, flops or bytes", optarg);
            d.x = (x_axis)found;
            break;
        }
        }
    }

    char err[512];
    tte_outfile out;
    if (tte_outfile_open_for(&out, com.output, argv + optind, argc - optind, err, sizeof err) != 0)
        tte_die("%s", err);
    tte_jsonl *r = tte_jsonl_open_list(argv + optind, argc - optind);
    if (predict) {
        predict_options po = {.bootstrap = o.bootstrap, .seed = o.seed, .level = o.level};
        int ok = predict_run(r, out.f, &po) == 0;
        tte_jsonl_close(r);
        free_list(d.by, d.nby);
        return tte_outfile_finish(&out, ok);
    }

    /* Read everything first: a fit needs every budget of a group. */
    json_t *rec;
    int rc;
    long long passed = 0;
    while ((rc = tte_jsonl_next(r, &rec)) == 1) {
        if (json_object_get(rec, TTE_FIELD_KIND)) {
            rc = tte_jsonl_write(out.f, rec) == 0 ? 0 : -2;
            passed++;
        } else {
            rc = fitdata_add(&d, r, rec);
        }
        json_decref(rec);
        if (rc != 0) break;
    }
    if (rc == -1) {
        tte_outfile_abort(&out);
        tte_die("%s", tte_jsonl_error(r));
    }
    tte_jsonl_close(r);
    /* No scored value at all is an error, not an empty result (which -o would put in place of a good
     * file); input that is only earlier output passes through. */
    if ((d.arrivals > 0 || passed == 0) && fitdata_usable(&d, o.metric, err, sizeof err) != 0) {
        tte_outfile_abort(&out);
        fitdata_free(&d);
        free_list(d.by, d.nby);
        tte_die("%s", err);
    }
    fitdata_finish(&d);

    group_summary *sums = tte_xcalloc((size_t)d.ngroups + 1, sizeof(group_summary));
    int wrc = rc == -2 ? -1 : 0;
    for (int g = 0; g < d.ngroups && wrc == 0; g++) wrc = report_group(out.f, &d, g, &o, &sums[g]);
    if (wrc == 0) wrc = report_correlations(out.f, &d, sums, &o);
    if (wrc == 0) wrc = report_sizes(out.f, &d, sums, &o);
    int saved = errno;
    for (int g = 0; g < d.ngroups; g++) summary_free(&sums[g]);
    free(sums);
    fitdata_free(&d);
    free_list(d.by, d.nby);
    if (wrc != 0) {
        tte_outfile_abort(&out);
        tte_die("writing output: %s", strerror(saved));
    }
    if (tte_outfile_commit(&out, err, sizeof err) != 0) tte_die("%s", err);
    return TTE_EXIT_OK;
}
