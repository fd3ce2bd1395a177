/* tte-plot: tte-fit records in, a self-contained gnuplot script out.
 *
 *   tte-plot --figure curves < fits.jsonl | gnuplot > curves.png
 *
 * The script carries its data inline, so it can be kept beside a paper and rerun. --image names
 * the image gnuplot writes ("set output"); the script goes to stdout or -o FILE, and only once the
 * whole figure is written, so a figure that lacks its data leaves stdout empty and FILE as it was. */
#include "plot.h"

#include "cli.h"
#include "options.h"
#include "outfile.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: tte-plot [OPTION]... [FILE]...\n"
    "Read tte-fit records (FILEs, or stdin; '-' is stdin) and write a gnuplot script with its data\n"
    "inline on stdout:  tte-plot --figure curves < fits.jsonl | gnuplot > curves.png\n"
    "\n"
    "Figures (--figure NAME):\n"
    "  curves                   metric against thinking budget (log2 axis), bootstrap intervals,\n"
    "                           log-linear and best fit; one panel per model and dataset (default)\n"
    "  discrete-vs-continuous   accuracy, p_gold_norm and -entropy side by side per model and dataset\n"
    "  items                    the top-K emergent items, one small panel each\n"
    "  heatmap                  items x budgets coloured by the metric, most breakthrough-like on top\n"
    "  scores                   histogram and kernel density of emergence scores per model and dataset\n"
    "  passk                    pass@k and maj@k against k (log2 axis) with the coverage fit\n"
    "  sizes                    metric against model parameters (log axis), a line per budget (4 at most)\n"
    "  frontier                 accuracy against compute (tte-fit --x flops|bytes|tokens), a line per\n"
    "                           strategy: budget forcing, each search, majority / best-of-N / weighted\n"
    "  report                   -t pdf: one PDF, a page of tables (best fits and AICc weights, item\n"
    "                           consistency, breakthroughness, discrete vs continuous), then every\n"
    "                           figure for every model and dataset\n"
    "\n"
    "Options:\n"
    "  -f, --figure NAME       the figure (see above)\n"
    "  -t, --terminal TERM     png (default), svg, pdf, or dumb (ASCII art on the terminal)\n"
    "  --image FILE            the image file gnuplot writes (default: gnuplot's stdout)\n"
    "  --title TEXT            a title over the whole figure\n"
    "  -m, --metric NAME       the metric to draw (default: correct for curves and sizes,\n"
    "                          p_gold_norm for items, heatmap and scores)\n"
    "  --model NAME            only records of this model\n"
    "  --dataset NAME          only records of this dataset\n"
    "  --overlay model         curves, passk: one panel per dataset, one line per model\n"
    "  --top K                 items: how many items (default 6)\n"
    "  --budget N              passk: the records at N thinking tokens (default: the largest);\n"
    "                          sizes: only N (default: up to 4 budgets)\n"
    "  --score NAME            scores: breakthroughness (default) or skew\n"
    "  --size W,H              figure size in inches (dumb: characters); default from the panels:\n"
    "                          3.4 x 2.5 in per panel, at most 7.2 in wide\n"
    "  --font NAME,POINTS      font (default Sans,9, or Sans,8 for three panels across;\n"
    "                          PNGs are 150 dpi)\n";
static const char help_tail[] =
    "-o writes the script, not the image: tte-plot -o fig.gp --image fig.png && gnuplot fig.gp\n"
    "Exit status: 0 success, 1 bad input or the figure's data is missing, 2 usage error.\n";

static const struct {
    const char *name;
    void (*draw)(FILE *, const plot_data *, const plot_options *);
} figures[] = {
    {"curves", figure_curves}, {"discrete-vs-continuous", figure_discrete_vs_continuous},
    {"items", figure_items},   {"heatmap", figure_heatmap},
    {"scores", figure_scores}, {"passk", figure_passk},
    {"sizes", figure_sizes},   {"frontier", figure_frontier},
    {"report", figure_report},
};

static int terminal_of(const char *name) {
    static const char *const names[] = {
        [TERM_PNG] = "png", [TERM_SVG] = "svg", [TERM_PDF] = "pdf", [TERM_DUMB] = "dumb"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0) return i;
    tte_cli_usage("--terminal: '%s' is not one of png, svg, pdf, dumb", name);
}

static void parse_size(const char *value, plot_options *o) {
    const char *comma = strchr(value, ',');
    if (!comma) tte_cli_usage("--size: '%s' is not W,H", value);
    char width[64];
    snprintf(width, sizeof width, "%.*s", (int)(comma - value), value);
    o->width = tte_cli_double("--size", width, 0.5, 1000);
    o->height = tte_cli_double("--size", comma + 1, 0.5, 1000);
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    enum {
        OPT_IMAGE = 256,
        OPT_TITLE,
        OPT_MODEL,
        OPT_DATASET,
        OPT_OVERLAY,
        OPT_TOP,
        OPT_SCORE,
        OPT_SIZE,
        OPT_FONT,
        OPT_BUDGET
    };
    static const struct option longopts[] = {
        {"figure", required_argument, 0, 'f'},          {"terminal", required_argument, 0, 't'},
        {"image", required_argument, 0, OPT_IMAGE},     {"title", required_argument, 0, OPT_TITLE},
        {"metric", required_argument, 0, 'm'},          {"model", required_argument, 0, OPT_MODEL},
        {"dataset", required_argument, 0, OPT_DATASET}, {"overlay", required_argument, 0, OPT_OVERLAY},
        {"top", required_argument, 0, OPT_TOP},         {"score", required_argument, 0, OPT_SCORE},
        {"size", required_argument, 0, OPT_SIZE},       {"font", required_argument, 0, OPT_FONT},
        {"budget", required_argument, 0, OPT_BUDGET},   {0, 0, 0, 0},
    };
    plot_options o = {.figure = "curves", .terminal = TERM_PNG, .top = 6};
    tte_opts spec = {.common = TTE_OPT_OUTPUT,
                     .shortopts = "f:t:m:",
                     .longopts = longopts,
                     .help = help,
                     .help_tail = help_tail};
    tte_common com = tte_common_defaults();
    int c;
    while ((c = tte_opts_next(&spec, &com, argc, argv)) != -1) {
        switch (c) {
        case 'f':
            o.figure = optarg;
            break;
        case 't':
            o.terminal = terminal_of(optarg);
            break;
        case OPT_IMAGE:
            o.image = optarg;
            break;
        case OPT_TITLE:
            o.title = optarg;
            break;
        case 'm':
            o.metric = optarg;
            break;
        case OPT_MODEL:
            o.model = optarg;
            break;
        case OPT_DATASET:
            o.dataset = optarg;
            break;
        case OPT_OVERLAY:
            if (strcmp(optarg, "model") != 0)
                tte_cli_usage("--overlay: only 'model' is known, not '%s'", optarg);
            o.overlay_model = 1;
            break;
        case OPT_BUDGET:
            o.budget = tte_cli_double("--budget", optarg, 1, 1e12);
            break;
        case OPT_TOP:
            o.top = (int)tte_cli_int("--top", optarg, 1, 100);
            break;
        case OPT_SCORE:
            if (strcmp(optarg, "skew") != 0 && strcmp(optarg, "breakthroughness") != 0)
                tte_cli_usage("--score: '%s' is not breakthroughness or skew", optarg);
            o.score_skew = strcmp(optarg, "skew") == 0;
            break;
        case OPT_SIZE:
            parse_size(optarg, &o);
            break;
        case OPT_FONT:
            o.font = optarg;
            break;
        }
    }
    int figure = -1;
    for (int i = 0; i < (int)(sizeof figures / sizeof figures[0]); i++)
        if (strcmp(o.figure, figures[i].name) == 0) figure = i;
    if (figure < 0) tte_cli_usage("--figure: '%s' is not a figure (see --help)", o.figure);

    plot_data data;
    plot_read(&data, argv + optind, argc - optind);

    /* The script is built in memory and written at the end, so that an error leaves no half script. */
    char *script = NULL;
    size_t length = 0;
    FILE *f = open_memstream(&script, &length);
    if (!f) tte_die("out of memory");
    figures[figure].draw(f, &data, &o);
    if (fclose(f) != 0) tte_die("out of memory");
    plot_data_free(&data);
    char err[512];
    tte_outfile out;
    if (tte_outfile_open_for(&out, com.output, argv + optind, argc - optind, err, sizeof err) != 0)
        tte_die("%s", err);
    int ok = fwrite(script, 1, length, out.f) == length;
    free(script);
    if (!ok) {
        tte_outfile_abort(&out);
        tte_die("writing the script: write error");
    }
    if (tte_outfile_commit(&out, err, sizeof err) != 0) tte_die("%s", err);
    return TTE_EXIT_OK;
}
