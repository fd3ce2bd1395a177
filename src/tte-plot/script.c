/* script: what every tte-plot script shares: the terminal at paper size, a palette that survives
 * grey printing and colour blindness, the panel grid, the budget axis, inline data and the fit
 * functions. */
#include "plot.h"

#include "cli.h"
#include "records.h"
#include "xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Okabe & Ito's colour-blind safe palette, ordered so neighbours differ most in lightness too; each
 * line type also has its own point and dash type, so a grey print keeps the series apart. Yellow
 * comes last: it is faint on white. */
static const struct {
    const char *colour;
    int point;
    const char *dash;
} palette[] = {
    {"#0072B2", 7, "1"},         /* blue, filled circle, solid */
    {"#D55E00", 5, "2"},         /* vermillion, filled square, dashed */
    {"#009E73", 9, "3"},         /* bluish green, filled triangle, dotted */
    {"#CC79A7", 13, "4"},        /* reddish purple, filled diamond, dash-dot */
    {"#E69F00", 6, "5"},         /* orange, open circle, dash-dot-dot */
    {"#56B4E9", 4, "(8,3,2,3)"}, /* sky blue, open square */
    {"#000000", 8, "(2,2)"},     /* black, open triangle */
    {"#F0E442", 12, "(12,4)"},   /* yellow, open diamond */
};
enum { PALETTE_SIZE = sizeof palette / sizeof palette[0] };

/* Paper sizes: a panel fits one column (3.4 in); three panels share the text width (7.2 in). */
static const double PANEL_WIDTH_IN = 3.4, PANEL_HEIGHT_IN = 2.5, TEXT_WIDTH_IN = 7.2;
/* PNG pixels per inch; cairo reads font sizes at 72 per inch, so fonts and lines scale by dpi/72. */
static const double PNG_DPI = 150;

void plot_layout(int n, int *rows, int *cols) {
    *cols = n <= 3 ? n : n == 4 ? 2 : 3;
    if (*cols < 1) *cols = 1;
    *rows = (n + *cols - 1) / *cols;
    if (*rows < 1) *rows = 1;
}

void script_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'')
            fputs("''", f);
        else
            fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
    }
    fputc('\'', f);
}

void script_number(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.10g", v);
    else
        fputs("NaN", f);
}

/* The font's size in points, from "Name,points" (9 when it does not say). */
static double font_points(const char *font) {
    const char *comma = strrchr(font, ',');
    double points = comma ? atof(comma + 1) : 0;
    return points > 0 ? points : 9;
}

/* Set by script_begin and script_panel: ASCII art cannot turn a y label on its side, so on the
 * dumb terminal the label joins the panel's title. */
static int dumb_terminal;
static char panel_title[512];
/* Set by script_begin: narrower panels fit fewer tic labels. */
static int panel_columns;

static void terminal(FILE *f, const plot_options *o, int rows, int cols) {
    double w = o->width, h = o->height;
    if (o->terminal == TERM_DUMB) {
        /* Characters: a panel as wide as a terminal when alone, narrower side by side. */
        if (w <= 0) w = cols == 1 ? 79 : 60 * cols;
        if (h <= 0) h = 24 * rows;
        fprintf(f, "set terminal dumb size %d,%d noenhanced\n", (int)w, (int)h);
    } else {
        if (w <= 0) w = cols * PANEL_WIDTH_IN > TEXT_WIDTH_IN ? TEXT_WIDTH_IN : cols * PANEL_WIDTH_IN;
        if (h <= 0) h = rows * PANEL_HEIGHT_IN * (cols >= 3 ? 0.9 : 1.0);
        fputs("set terminal ", f);
        if (o->terminal == TERM_PNG) {
            double scale = PNG_DPI / 72;
            fprintf(f, "pngcairo size %d,%d fontscale %.4g linewidth %.4g pointscale %.4g",
                    (int)lround(w * PNG_DPI), (int)lround(h * PNG_DPI), scale, scale, scale);
        } else if (o->terminal == TERM_SVG) {
            fprintf(f, "svg size %d,%d dynamic", (int)lround(w * 72), (int)lround(h * 72));
        } else {
            fprintf(f, "pdfcairo size %.4gin,%.4gin", w, h);
        }
        /* Three panels across the text width get a point less, so their labels do not collide. */
        const char *font = o->font ? o->font : cols >= 3 ? "Sans,8" : "Sans,9";
        fputs(" font ", f);
        script_quote(f, font);
        fputs(" noenhanced\n", f);
        /* Titles and keys a point smaller than the tics and labels: they are the longest texts. */
        double small = font_points(font) - 1;
        fprintf(f, "set title font ',%g'\nset key font ',%g'\n", small, small);
    }
    if (o->image) {
        fputs("set output ", f);
        script_quote(f, o->image);
        fputc('\n', f);
    }
}

void script_begin(FILE *f, const plot_options *o, const char *what, int rows, int cols) {
    dumb_terminal = o->terminal == TERM_DUMB;
    panel_columns = cols;
    fprintf(f, "# %s %s: figure %s", tte_prog, TTE_VERSION, o->figure);
    /* WHAT may hold names from the data: a newline in it must not end the comment. */
    if (what) {
        fputs(", ", f);
        for (const char *c = what; *c; c++) fputc((unsigned char)*c < 0x20 ? ' ' : *c, f);
    }
    fputs("\n# Self-contained: the data is inline. Run it with gnuplot (5.4 or later).\n", f);
    terminal(f, o, rows, cols);
    fputs("set encoding utf8\n", f);
    for (int i = 0; i < PALETTE_SIZE; i++)
        fprintf(f, "set linetype %d lc rgb '%s' lw 1.5 pt %d ps 0.7 dt %s\n", i + 1, palette[i].colour,
                palette[i].point, palette[i].dash);
    fprintf(f, "set linetype cycle %d\n", PALETTE_SIZE);
    fputs("set border 3 lw 1\n", f);
    fputs("set samples 300\n", f);
    fputs("# x = log2(budget): the fits of tte-fit are written in it.\n", f);
    fputs("lx(t) = log(t) / log(2)\nrelu(t) = t > 0 ? t : 0\n", f);
    fprintf(f, "set multiplot layout %d,%d", rows, cols);
    if (o->title) {
        fputs(" title ", f);
        script_quote(f, o->title);
    }
    fputc('\n', f);
}

void script_ylabel(FILE *f, const char *label) {
    if (!dumb_terminal) {
        fputs("set ylabel ", f);
        script_quote(f, label);
        fputc('\n', f);
        return;
    }
    char title[sizeof panel_title + 64];
    snprintf(title, sizeof title, "%s%sy: %s", panel_title, *panel_title ? "  " : "", label);
    fputs("set title ", f);
    script_quote(f, title);
    fputc('\n', f);
}

size_t plot_common_prefix(const char *const *names, int n) {
    size_t common = SIZE_MAX;
    int distinct = 0;
    for (int i = 1; i < n; i++) {
        size_t k = 0;
        while (names[0][k] && names[0][k] == names[i][k]) k++;
        distinct |= names[0][k] != names[i][k];
        if (k < common) common = k;
    }
    if (!distinct) return 0;
    /* Cut after a separator, so "Qwen-1.5B" and "Qwen-7B" become "1.5B" and "7B", not ".5B" and "B". */
    while (common > 0 && !strchr("-_/ ", names[0][common - 1])) common--;
    return common;
}

size_t script_key_prefix(FILE *f, const char *const *models, int n) {
    size_t prefix = plot_common_prefix(models, n);
    if (prefix > 0) {
        /* The shared part, less its trailing separator, heads the key. */
        char *head = tte_xmalloc(prefix);
        memcpy(head, models[0], prefix - 1);
        head[prefix - 1] = 0;
        fputs("set key title ", f);
        script_quote(f, head);
        fputc('\n', f);
        free(head);
    }
    return prefix;
}

void script_end(FILE *f) { fputs("unset multiplot\n", f); }

void script_panel(FILE *f, const char *title) {
    /* Every panel starts from the same settings, whatever the one before it changed. */
    fputs("\n# --- panel\n", f);
    fputs("unset label\nunset logscale\nset autoscale\nset cbrange [*:*]\nset offsets 0, 0, 0, 0\nunset "
          "colorbox\n",
          f);
    fputs("set xtics autofreq nomirror out scale 0.6 font ''\nset ytics autofreq nomirror out scale 0.6 font "
          "''\n",
          f);
    fputs("set format x '% h'\nset format y '% h'\nunset xlabel\nunset ylabel\n", f);
    fputs("set key top left Left reverse samplen 1.5 spacing 1 nobox notitle\n", f);
    /* A faint grid helps read values off a printed figure; in ASCII it is only clutter. */
    fputs(dumb_terminal ? "unset grid\n" : "set grid xtics ytics lc rgb '#dddddd' lw 0.5\n", f);
    fputs("set title ", f);
    snprintf(panel_title, sizeof panel_title, "%s", title ? title : "");
    script_quote(f, panel_title);
    fputc('\n', f);
}

void plot_budget_label(char *buf, size_t n, double budget) {
    if (budget >= 1e6) /* a cost (tte-fit --x flops): two digits say enough */
        snprintf(buf, n, "%.2g", budget);
    else if (budget >= 1024 && fmod(budget, 1024) == 0)
        snprintf(buf, n, "%gk", budget / 1024);
    else
        snprintf(buf, n, "%g", budget);
}

void script_budget_tics(FILE *f, const double *budgets, int n, int at_index) {
    /* Past 6 budgets (4 with three panels across) the labels collide at column width: label every
     * other one (the largest always), the rest are minor tics. */
    int every = n > (panel_columns >= 3 ? 4 : 6) ? 2 : 1;
    fputs("set xtics (", f);
    for (int i = 0; i < n; i++) {
        char text[32];
        plot_budget_label(text, sizeof text, budgets[i]);
        int labelled = (n - 1 - i) % every == 0;
        fprintf(f, "%s'%s' %.10g%s", i ? ", " : "", labelled ? text : "", at_index ? i : budgets[i],
                labelled ? "" : " 1");
    }
    fputs(")\n", f);
}

void script_budget_axis(FILE *f, const double *budgets, int n, const char *label) {
    fputs("set logscale x 2\n", f);
    if (n > 0)
        fprintf(f, "set xrange [%.10g:%.10g]\n", budgets[0] / pow(2, 0.35), budgets[n - 1] * pow(2, 0.35));
    script_budget_tics(f, budgets, n, 0);
    fputs("set xlabel ", f);
    script_quote(f, label);
    fputc('\n', f);
}

void script_cost_axis(FILE *f, const double *costs, int n, const char *label) {
    /* Costs span decades and fall anywhere: gnuplot's own log10 tics, not one per value. */
    fputs("set logscale x 10\nset xtics autofreq\nset mxtics default\nset format x '%.0e'\n", f);
    if (n > 0) fprintf(f, "set xrange [%.10g:%.10g]\n", costs[0] / 1.6, costs[n - 1] * 1.6);
    fputs("set xlabel ", f);
    script_quote(f, label);
    fputc('\n', f);
}

void script_data_begin(FILE *f, const char *name) { fprintf(f, "$%s << EOD\n", name); }

void script_data_end(FILE *f) { fputs("EOD\n", f); }

void script_fit_function(FILE *f, const char *name, int kind, const plot_fit *fit) {
    const double *p = fit->p; /* in the order of tte_fit_param_names */
    fprintf(f, "%s(t) = ", name);
    switch (kind) {
    case TTE_FIT_LOGLINEAR:
        fprintf(f, "%.10g + %.10g*lx(t)", p[0], p[1]);
        break;
    case TTE_FIT_HINGE:
        fprintf(f, "%.10g + %.10g*lx(t) + %.10g*relu(lx(t) - %.10g)", p[0], p[1], p[2], p[3]);
        break;
    case TTE_FIT_HINGE2:
        fprintf(f, "%.10g + %.10g*lx(t) + %.10g*relu(lx(t) - %.10g) + %.10g*relu(lx(t) - %.10g)", p[0], p[1],
                p[2], p[3], p[4], p[5]);
        break;
    case TTE_FIT_LOGISTIC:
        fprintf(f, "%.10g + (%.10g - %.10g) / (1 + exp(-(%.10g)*(lx(t) - %.10g)))", p[0], p[1], p[0], p[3],
                p[2]);
        break;
    }
    fprintf(f, "   # %s fit\n", tte_fit_name(kind));
}

static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void plot_sort(double *v, int n) { qsort(v, n, sizeof *v, ascending); }

int plot_distinct(double *v, int n) {
    plot_sort(v, n);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1]) v[m++] = v[i];
    return m;
}

int plot_metric_parse(const char *metric) {
    int m = tte_metric_parse(metric);
    if (m < 0 && (strcmp(metric, "neg_entropy_nats") == 0 || strcmp(metric, "-entropy_nats") == 0))
        m = TTE_METRIC_NEG_ENTROPY;
    return m;
}

const char *plot_metric_label(const char *metric) {
    static const char *const labels[TTE_METRIC_N] = {
        [TTE_METRIC_CORRECT] = "accuracy",
        [TTE_METRIC_P_GOLD_NORM] = "p(gold), normalised",
        [TTE_METRIC_P_GOLD] = "p(gold)",
        [TTE_METRIC_NEG_ENTROPY] = "-entropy (nats)",
    };
    int m = plot_metric_parse(metric);
    return m >= 0 ? labels[m] : metric;
}

int plot_metric_is_probability(const char *metric) {
    int m = plot_metric_parse(metric);
    return m >= 0 && tte_metric_is_probability(m);
}

/* The corners, in the order they are tried: a rising curve leaves the top left free. */
static const struct {
    const char *key;
    int right, top;
} corners[PLOT_CORNERS] = {
    {"top left", 0, 1}, {"bottom right", 1, 0}, {"top right", 1, 1}, {"bottom left", 0, 0}};

int plot_free_corner(const plot_points *p, double width, double height, int taken) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = p->ylo, yhi = p->yhi;
    int own_range = !(ylo < yhi);
    if (own_range) ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < p->n; i++) {
        if (!isfinite(p->x[i]) || !isfinite(p->y[i])) continue;
        xlo = fmin(xlo, p->x[i]), xhi = fmax(xhi, p->x[i]);
        if (own_range) ylo = fmin(ylo, p->y[i]), yhi = fmax(yhi, p->y[i]);
    }
    int best = -1, fewest = 0;
    for (int c = 0; c < PLOT_CORNERS; c++) {
        if (c == taken) continue;
        int inside = 0;
        for (int i = 0; i < p->n; i++) {
            if (!isfinite(p->x[i]) || !isfinite(p->y[i])) continue;
            double u = xhi > xlo ? (p->x[i] - xlo) / (xhi - xlo) : 0.5;
            double v = yhi > ylo ? (p->y[i] - ylo) / (yhi - ylo) : 0.5;
            inside += (corners[c].right ? u > 1 - width : u < width) &&
                      (corners[c].top ? v > 1 - height : v < height);
        }
        if (best < 0 || inside < fewest) best = c, fewest = inside;
    }
    return best;
}

void plot_points_add(plot_points *p, double x, double y) {
    if (p->n == p->cap) { /* x and y grow alike: both from the same capacity to the same need */
        size_t cap = p->cap;
        TTE_GROW(p->x, cap, p->n + 1);
        TTE_GROW(p->y, p->cap, p->n + 1);
    }
    p->x[p->n] = x;
    p->y[p->n++] = y;
}

void plot_points_free(plot_points *p) {
    free(p->x);
    free(p->y);
}

int script_key_placed(FILE *f, const plot_points *p, int entries) {
    int corner = plot_free_corner(p, 0.45, 0.05 + 0.13 * entries, -1);
    fprintf(f, "set key %s\n", corners[corner].key);
    return corner;
}

void script_label_placed(FILE *f, const plot_points *p, const char *text, int taken) {
    int c = plot_free_corner(p, 0.3, 0.15, taken);
    fputs("set label ", f);
    script_quote(f, text);
    fprintf(f, " at graph %s, graph %s %s\n", corners[c].right ? "0.97" : "0.03",
            corners[c].top ? "0.92" : "0.08", corners[c].right ? "right" : "left");
}

char *plot_group_title(const char *model, const char *dataset) {
    char *t;
    if (asprintf(&t, "%s%s%s", model, *model && *dataset ? ", " : "", dataset) < 0) tte_die("out of memory");
    return t;
}

int plot_selected(const plot_options *o, const char *model, const char *dataset) {
    return (!o->model || strcmp(o->model, model) == 0) && (!o->dataset || strcmp(o->dataset, dataset) == 0);
}
