/* tte-plot's own data and the contract between its files.
 *
 * records.c reads tte-fit records into the structs below; script.c writes what every gnuplot script
 * shares (terminal, palette, panels, fit functions, inline data); fig_curves.c, fig_items.c and
 * fig_passk.c each draw a family of figures from those structs. A figure writes its whole script to
 * the FILE it is given or calls tte_die with one line saying which data is missing: main.c buffers
 * the script, so a failed figure leaves stdout empty. */
#ifndef TTE_PLOT_H
#define TTE_PLOT_H

#include <jansson.h>
#include <stdio.h>

#include "stats/fit.h"

/* One budget of a curve: the metric's mean over items and samples and its bootstrap interval.
 * lo and hi are NAN when the record has none. */
typedef struct {
    double budget, mean, lo, hi;
} plot_point;

/* The fit kinds tte-fit writes, in x = log2(budget) (src/lib/stats/fit.h, man/tte-fit.1 FITS):
 *   loglinear  y = a + b x
 *   hinge      y = a + b x + c max(0, x - tau)
 *   hinge2     y = a + b x + c1 max(0, x - tau1) + c2 max(0, x - tau2)
 *   logistic   y = lo + (hi - lo) / (1 + exp(-s (x - x0)))
 * "sigmoid" with parameters lo, hi, x0, k (the name and slope letter of earlier records) is read as
 * the logistic. Kinds, names and parameter names are stats/fit.h's (tte_fit_kind). */

typedef struct {
    int present;                /* 0 when the record has no such fit, or null (tte-fit's "why") */
    double p[TTE_FIT_MAXPARAM]; /* parameters in the order of tte_fit_param_names(kind) */
} plot_fit;

/* Strings are borrowed from the JSON record the struct came from (plot_data keeps them alive).
 * model and dataset are "" when the record has none (tte-fit --by can group by other fields). */
typedef struct {
    const char *model, *dataset, *metric;
    /* tte-fit --x: "budget", "n", or a cost axis ("tokens", "flops", "bytes"), where each point's
     * budget is its cost (the point's "cost") and the fits are in log2 of it */
    const char *x_axis;
    const char *strategy; /* the record's "search" (a --by field), or NULL: budget forcing */
    plot_point *points;   /* ascending budgets; points whose mean is null are left out */
    int npoints;
    plot_fit fits[TTE_FIT_NKINDS];
    int best;                /* a tte_fit_kind, or -1 */
    double breakthroughness; /* NAN when absent or null */
    double model_params;     /* NAN when absent */
    json_t *record;          /* the record itself (borrowed), for what the figures do not draw */
} plot_curve;

typedef struct {
    const char *model, *dataset, *metric, *id;
    double *budgets, *values; /* n pairs, ascending budgets, null values left out; NULL and 0
                               * when the record has no "budgets" */
    int n;
    double breakthroughness, skew; /* NAN when absent or null */
    long rank;                     /* 0 when absent */
} plot_item;

typedef struct {
    const char *model, *dataset;
    double budget;          /* the thinking budget the samples had; NAN when absent */
    double *k, *pass, *maj; /* n values of k; pass or maj is NAN where null */
    double *bon, *weighted; /* Best-of-N and weighted voting by a PRM, or NULL (no prm_score) */
    int n;
    int has_coverage_fit; /* coverage(k) = exp(a k^b), Large Language Monkeys' form */
    double cov_a, cov_b;
    const char *x_axis;     /* tte-fit --x, or "budget" */
    const char *strategy;   /* the record's "search", or NULL: samples of budget forcing */
    double cost_per_sample; /* on a cost axis, one sample's cost: k samples cost k times it; NAN */
} plot_passk;

typedef struct {
    json_t **records; /* every fit record kept, owning the strings above */
    int nrecords, cap_records;
    plot_curve *curves;
    int ncurves, cap_curves;
    plot_item *items;
    int nitems, cap_items;
    int unplaced_items;    /* item records without "budgets" (their values cannot be drawn) */
    char unplaced_at[256]; /* "FILE:LINE" of the first */
    plot_passk *passk;
    int npassk, cap_passk;
    json_t **correlations; /* tte-fit's correlation records (borrowed from records) */
    int ncorrelations, cap_correlations;
} plot_data;

/* Reads every record of the N files in PATHS (N == 0: stdin). Unknown kinds are ignored; a bad
 * fit record is fatal with "FILE:LINE: field ...". */
void plot_read(plot_data *d, char *const *paths, int n);
void plot_data_free(plot_data *d);

enum { TERM_PNG, TERM_SVG, TERM_PDF, TERM_DUMB };

typedef struct {
    const char *figure;
    int terminal;                         /* TERM_* */
    const char *image;                    /* image file for gnuplot's "set output"; NULL: gnuplot's stdout */
    const char *title;                    /* NULL: none */
    const char *metric, *model, *dataset; /* filters; NULL: all (metric: the figure's default) */
    const char *font;     /* "Name,points"; NULL: Sans at 9 points, 8 for three panels across */
    double width, height; /* inches of the whole figure; 0: from the number of panels */
    int overlay_model;    /* curves and passk: one panel per dataset, one line per model */
    int top;              /* items: how many */
    double budget;        /* passk, sizes: only this budget; 0: passk the largest, sizes up to 4 */
    int score_skew;       /* scores: skew instead of breakthroughness */
} plot_options;

/* Whether a record of MODEL, DATASET (and METRIC, when the figure filters on it) is selected. */
int plot_selected(const plot_options *o, const char *model, const char *dataset);

/* --- script.c: the parts every figure shares --- */

/* Writes the header, terminal, palette and "set multiplot" for ROWS x COLS panels. */
void script_begin(FILE *f, const plot_options *o, const char *what, int rows, int cols);
void script_end(FILE *f);
/* The header, terminal and output alone, for a report's first page of text. */
void script_open(FILE *f, const plot_options *o, const char *what);
/* With ON, script_begin writes no terminal and output: the figures of a report after its first. */
void script_continue(int on);
/* Resets what one panel set (title, labels, ranges) before the next panel. */
void script_panel(FILE *f, const char *title);
/* Writes S as a gnuplot single-quoted string: no substitution happens inside, quotes are doubled
 * and control characters become spaces. */
void script_quote(FILE *f, const char *s);
/* A log2 x axis whose tics are the given budgets, labelled 128, 256, ..., 1k, 2k (tokens). */
void script_budget_axis(FILE *f, const double *budgets, int n, const char *label);
/* A log10 x axis over COSTS[0..n) (ascending) with gnuplot's own tics: tte-fit's cost axes. */
void script_cost_axis(FILE *f, const double *costs, int n, const char *label);
/* Only the tics of that axis, at the budgets or (AT_INDEX) at 0, 1, ... n-1. */
void script_budget_tics(FILE *f, const double *budgets, int n, int at_index);
/* The y axis label (on the dumb terminal, a label above the axis). */
void script_ylabel(FILE *f, const char *label);
/* How many leading characters all N NAMES share, up to a separator (-_/ or space), when they are
 * not all the same; 0 otherwise. Keys and titles show the rest. */
size_t plot_common_prefix(const char *const *names, int n);
/* Heads the key with the MODELS' common prefix (see plot_common_prefix) and returns its length. */
size_t script_key_prefix(FILE *f, const char *const *models, int n);
/* Writes "$NAME << EOD", then the caller's rows, then script_data_end writes "EOD". */
void script_data_begin(FILE *f, const char *name);
void script_data_end(FILE *f);
/* Defines gnuplot function NAME(t) of the budget t for FIT of KIND. */
void script_fit_function(FILE *f, const char *name, int kind, const plot_fit *fit);
/* Formats V for data: "%.10g", or "NaN" for a missing value (gnuplot skips it). */
void script_number(FILE *f, double v);

void plot_sort(double *v, int n);
/* Sorts the N values of V and drops repeats; returns how many are left. */
int plot_distinct(double *v, int n);
/* A budget as a tic label: 128, 256, 512, 1k, 2k, ... (k = 1024 tokens). */
void plot_budget_label(char *buf, size_t n, double budget);
/* The tte_metric (records.h) METRIC names, or -1. Besides tte-fit's names, -entropy is also read
 * as "neg_entropy_nats" or "-entropy_nats". */
int plot_metric_parse(const char *metric);
/* Axis label of a metric ("accuracy" for correct, ...); a name plot_metric_parse does not know is its
 * own label. */
const char *plot_metric_label(const char *metric);
/* Where the key and labels go: the corner of the plot that hides none of what is drawn (points,
 * interval bars, lines and fitted curves, sampled), judged from the key's or label's real size
 * (its characters in its font) against the panel's plot area; outside the plot when no corner is
 * free. X are positions as drawn (log2 of a budget), Y values on [ylo, yhi] (the points' own range
 * when ylo >= yhi, e.g. NAN); the axis reaches XPAD (log2 units) past the outermost points. */
typedef struct {
    double *x, *y;
    int n, cap;
    double ylo, yhi;
    double xpad;
} plot_points;
/* The padding of script_budget_axis and script_cost_axis, in log2 units. */
#define PLOT_BUDGET_PAD 0.35
#define PLOT_COST_PAD 0.678 /* log2(1.6) */
enum { PLOT_CORNERS = 4 };
void plot_points_add(plot_points *p, double x, double y);
/* Points along the line from (X0, Y0) to (X1, Y1), as drawn. */
void plot_points_segment(plot_points *p, double x0, double y0, double x1, double y1);
void plot_points_free(plot_points *p);
/* The corner (0..3) where a box of WIDTH x HEIGHT (fractions of the plot) hides the fewest points,
 * other than TAKEN (-1: none); ties go to top left, bottom right, top right, bottom left. *HIDDEN
 * (when not NULL) gets how many it hides (all of them when the box is as large as the plot). */
int plot_free_corner(const plot_points *p, double width, double height, int taken, int *hidden);
/* The free corner for a key of ENTRIES lines, the longest LONGEST characters, or -1: none. */
int plot_key_corner(const plot_points *p, int entries, int longest);
/* "set key CORNER" for a key of ENTRIES lines, the longest LONGEST characters; returns the corner,
 * or -1 when no corner is free and the key goes below the plot. */
int script_key_placed(FILE *f, const plot_points *p, int entries, int longest);
/* A label TEXT in a free corner other than TAKEN, or, when none is free, after the x label. */
void script_label_placed(FILE *f, const plot_points *p, const char *text, int taken);
/* Whether TEXT, in the panel's font, fits across its plot. */
int script_text_fits(const char *text);
/* "set xtics STEP" for an x axis over [LO, HI] whose labels fit across the plot without touching. */
void script_x_tics_fitting(FILE *f, double lo, double hi);
/* "MODEL, DATASET" as a panel title (either may be ""); the caller frees. */
char *plot_group_title(const char *model, const char *dataset);
/* The x axis label of tte-fit's --x AXIS ("thinking tokens" for budget). */
const char *plot_x_label(const char *axis);
/* Whether AXIS is a cost axis (tokens, flops, bytes). */
int plot_x_is_cost(const char *axis);
/* Whether a metric is a probability, drawn on [0, 1]. */
int plot_metric_is_probability(const char *metric);
/* The panel grid for N panels: COLS up to 3. */
void plot_layout(int n, int *rows, int *cols);

/* --- one function per figure; each writes the script to F or dies naming what is missing --- */
void figure_curves(FILE *f, const plot_data *d, const plot_options *o);
void figure_discrete_vs_continuous(FILE *f, const plot_data *d, const plot_options *o);
void figure_sizes(FILE *f, const plot_data *d, const plot_options *o);
void figure_items(FILE *f, const plot_data *d, const plot_options *o);
void figure_heatmap(FILE *f, const plot_data *d, const plot_options *o);
void figure_scores(FILE *f, const plot_data *d, const plot_options *o);
void figure_passk(FILE *f, const plot_data *d, const plot_options *o);
void figure_frontier(FILE *f, const plot_data *d, const plot_options *o);
/* fig_report.c: a PDF of tables, then every figure for every model and dataset. */
void figure_report(FILE *f, const plot_data *d, const plot_options *o);

#endif
