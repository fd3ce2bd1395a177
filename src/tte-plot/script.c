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
/* PNG pixels per inch. The cairo terminals take a font's points at 96 per inch (pango's), a line
 * width of 1 as half a point in a PDF (one pixel in a PNG) and a point size of 1 as the same in
 * points or pixels; the terminal options below undo that, so that a figure's PNG, PDF and SVG have
 * their text at its size in points, their lines and points alike: one layout. */
static const double PNG_DPI = 150;
/* The glyphs of a sans-serif font (DejaVu Sans, which cairo picks for "Sans"), in ems: gnuplot's
 * own estimate of a character's width and a line's height (its h_char and v_char on the cairo
 * terminals). Used to size keys and labels before gnuplot draws them. */
static const double CHAR_EM = 0.64, LINE_EM = 1.17;

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
/* Set by script_begin: one panel's size and the fonts, in points (on the dumb terminal, in
 * characters, each font a character), for placing keys and labels where they fit. */
static double panel_w, panel_h, font_pt, small_pt;
/* Set by script_continue: figures after the first of a report share its terminal and output. */
static int continuing;

void script_continue(int on) { continuing = on; }

/* The x label as last set, which a label that finds no room joins. */
static char xlabel[256];

static void set_xlabel(FILE *f, const char *label) {
    size_t n = strlen(label) < sizeof xlabel ? strlen(label) : sizeof xlabel - 1;
    memcpy(xlabel, label, n);
    xlabel[n] = 0;
    fputs("set xlabel ", f);
    script_quote(f, label);
    fputc('\n', f);
}

static void terminal(FILE *f, const plot_options *o, int rows, int cols) {
    double w = o->width, h = o->height;
    if (o->terminal == TERM_DUMB) {
        /* Characters: a panel as wide as a terminal when alone, narrower side by side. */
        if (w <= 0) w = cols == 1 ? 79 : 60 * cols;
        if (h <= 0) h = 24 * rows;
        if (!continuing) fprintf(f, "set terminal dumb size %d,%d noenhanced\n", (int)w, (int)h);
        panel_w = w / cols, panel_h = h / rows, font_pt = small_pt = 1;
    } else {
        if (w <= 0) w = cols * PANEL_WIDTH_IN > TEXT_WIDTH_IN ? TEXT_WIDTH_IN : cols * PANEL_WIDTH_IN;
        if (h <= 0) h = rows * PANEL_HEIGHT_IN * (cols >= 3 ? 0.9 : 1.0);
        /* A report's later figures keep the terminal (setting it again would end the file). */
        FILE *term = continuing ? NULL : f;
        if (term) fputs("set terminal ", term);
        if (!term) {
        } else if (o->terminal == TERM_PNG) {
            fprintf(term, "pngcairo size %d,%d fontscale %.4g linewidth %.4g pointscale %.4g",
                    (int)lround(w * PNG_DPI), (int)lround(h * PNG_DPI), PNG_DPI / 96, PNG_DPI / 144,
                    PNG_DPI / 72);
        } else if (o->terminal == TERM_SVG) {
            /* SVG's user unit is the point here (72 per inch); a line width of 1 is one unit. */
            fprintf(term, "svg size %d,%d dynamic linewidth 0.5", (int)lround(w * 72), (int)lround(h * 72));
        } else {
            fprintf(term, "pdfcairo size %.4gin,%.4gin fontscale 0.75", w, h);
        }
        /* Three panels across the text width get a point less, so their labels do not collide. */
        const char *font = o->font ? o->font : cols >= 3 ? "Sans,8" : "Sans,9";
        if (term) {
            fputs(" font ", term);
            script_quote(term, font);
            fputs(" noenhanced\n", term);
        }
        /* Titles and keys a point smaller than the tics and labels: they are the longest texts. */
        font_pt = font_points(font), small_pt = font_pt - 1;
        fprintf(f, "set title font ',%g'\nset key font ',%g'\n", small_pt, small_pt);
        panel_w = w * 72 / cols, panel_h = h * 72 / rows;
    }
    if (o->image && !continuing) {
        fputs("set output ", f);
        script_quote(f, o->image);
        fputc('\n', f);
    }
}

/* One panel's plot area (inside the axes), estimated from the panel's size less the margins
 * gnuplot gives the title, tic labels and axis labels: in points, or characters on the dumb
 * terminal. Erring small, so that what is placed by it fits. */
static double plot_width(void) {
    return dumb_terminal ? panel_w - 12 : panel_w - (1.3 + 4 * CHAR_EM + 1.6) * font_pt - 1.5 * font_pt;
}
static double plot_height(void) {
    return dumb_terminal ? panel_h - 6 : panel_h - (1.2 * LINE_EM * small_pt + 0.8 * font_pt) - 3.3 * LINE_EM * font_pt;
}

/* The width and height of N characters and LINES lines of text in FONT points, as fractions of
 * the plot area. */
static double text_width(double n, double font) {
    double w = plot_width();
    return w > 0 ? n * (dumb_terminal ? 1 : CHAR_EM * font) / w : INFINITY;
}
static double text_height(double lines, double font) {
    double h = plot_height();
    return h > 0 ? lines * (dumb_terminal ? 1 : LINE_EM * font) / h : INFINITY;
}

/* The header comment of a script: the tool, the figure and WHAT it shows. */
static void header(FILE *f, const plot_options *o, const char *what) {
    fprintf(f, "# %s %s: figure %s", tte_prog, TTE_VERSION, o->figure);
    /* WHAT may hold names from the data: a newline in it must not end the comment. */
    if (what) {
        fputs(", ", f);
        for (const char *c = what; *c; c++) fputc((unsigned char)*c < 0x20 ? ' ' : *c, f);
    }
    fputs("\n# Self-contained: the data is inline. Run it with gnuplot (5.4 or later).\n", f);
}

void script_open(FILE *f, const plot_options *o, const char *what) {
    dumb_terminal = o->terminal == TERM_DUMB;
    header(f, o, what);
    terminal(f, o, 1, 1);
    fputs("set encoding utf8\n", f);
}

void script_begin(FILE *f, const plot_options *o, const char *what, int rows, int cols) {
    dumb_terminal = o->terminal == TERM_DUMB;
    panel_columns = cols;
    header(f, o, what);
    terminal(f, o, rows, cols);
    fputs("set encoding utf8\n", f);
    /* The svg terminal draws a point of size 1 a fifth larger than the cairo ones. */
    double ps = o->terminal == TERM_SVG ? 0.7 / 1.2 : 0.7;
    for (int i = 0; i < PALETTE_SIZE; i++)
        fprintf(f, "set linetype %d lc rgb '%s' lw 1.5 pt %d ps %.3g dt %s\n", i + 1, palette[i].colour,
                palette[i].point, ps, palette[i].dash);
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
    xlabel[0] = 0;
    fputs("set key inside top left Left reverse samplen 1.5 spacing 1 height 0 nobox notitle\n", f);
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
    set_xlabel(f, label);
}

void script_cost_axis(FILE *f, const double *costs, int n, const char *label) {
    /* Costs span decades and fall anywhere: tics at the decades, written 1e8 and so on; an axis of
     * two decades or less also at 2 and 5 times them, when their labels fit. */
    fputs("set logscale x 10\nset xtics autofreq\nset mxtics default\nset format x '%.0te%T'\n", f);
    if (n > 0) {
        double lo = costs[0] / 1.6, hi = costs[n - 1] * 1.6;
        fprintf(f, "set xrange [%.10g:%.10g]\n", lo, hi);
        if (log10(hi / lo) <= 2) {
            static const double steps[][3] = {{1, 2, 5}, {1, 3, 0}, {1, 0, 0}};
            for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
                char tics[1024] = "set xtics (";
                size_t used = strlen(tics);
                int count = 0, chars = 0;
                for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)); e++)
                    for (int m = 0; m < 3 && steps[s][m] > 0; m++) {
                        double at = steps[s][m] * pow(10, e);
                        if (at < lo || at > hi) continue;
                        char text[32];
                        snprintf(text, sizeof text, "%ge%d", steps[s][m], e);
                        chars = (int)strlen(text) > chars ? (int)strlen(text) : chars;
                        used += (size_t)snprintf(tics + used, sizeof tics - used, "%s'%s' %.10g", count ? ", " : "",
                                                 text, at);
                        count++;
                    }
                if (used >= sizeof tics - 2 || count < 2) continue;
                if (text_width(count * (chars + 2.0), font_pt) > 1 && steps[s][1] > 0) continue;
                fprintf(f, "%s)\n", tics);
                break;
            }
        }
    }
    set_xlabel(f, label);
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

int script_text_fits(const char *text) { return text_width((double)strlen(text) + 1, font_pt) <= 1; }

int plot_free_corner(const plot_points *p, double width, double height, int taken, int *hidden) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = p->ylo, yhi = p->yhi;
    int own_range = !(ylo < yhi);
    if (own_range) ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < p->n; i++) {
        if (!isfinite(p->x[i]) || !isfinite(p->y[i])) continue;
        xlo = fmin(xlo, p->x[i]), xhi = fmax(xhi, p->x[i]);
        if (own_range) ylo = fmin(ylo, p->y[i]), yhi = fmax(yhi, p->y[i]);
    }
    /* The axis reaches past the outermost points by XPAD (log2 units) on each side. */
    xlo -= p->xpad, xhi += p->xpad;
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
    if (hidden) *hidden = width >= 1 || height >= 1 ? p->n : fewest;
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

void plot_points_segment(plot_points *p, double x0, double y0, double x1, double y1) {
    enum { PIECES = 12 };
    for (int i = 0; i <= PIECES; i++)
        plot_points_add(p, x0 + (x1 - x0) * i / PIECES, y0 + (y1 - y0) * i / PIECES);
}

void plot_points_free(plot_points *p) {
    free(p->x);
    free(p->y);
}

int plot_key_corner(const plot_points *p, int entries, int longest) {
    /* gnuplot's key: the sample (samplen 1.5 characters) and a gap before the longest title, a
     * line per entry, a little room around; with a character's margin from the axes. */
    double width = text_width(longest + 4.5, small_pt) + 0.02, height = text_height(entries + 0.6, small_pt) + 0.02;
    int hidden, corner = plot_free_corner(p, width, height, -1, &hidden);
    return hidden > 0 ? -1 : corner;
}

int script_key_placed(FILE *f, const plot_points *p, int entries, int longest) {
    int corner = plot_key_corner(p, entries, longest);
    if (corner < 0) {
        /* No corner is free: under the plot, where it hides nothing (height: a line between it and
         * the x label, which gnuplot's estimate of a key in a smaller font leaves out). */
        fputs("set key below height 1\n", f);
        return -1;
    }
    fprintf(f, "set key %s\n", corners[corner].key);
    return corner;
}

void script_label_placed(FILE *f, const plot_points *p, const char *text, int taken) {
    /* Placed 3% of the width in from the side and centred 8% of the height in from the edge. */
    double width = text_width((double)strlen(text) + 1, font_pt) + 0.04;
    double height = 0.08 + text_height(0.6, font_pt) + 0.01;
    int hidden, c = plot_free_corner(p, width, height, taken, &hidden);
    if (hidden > 0) {
        /* No room in the plot: the label joins the x label, under the axis. */
        char joined[sizeof xlabel + 128];
        snprintf(joined, sizeof joined, "%s%s%s", xlabel, *xlabel ? ";  " : "", text);
        set_xlabel(f, joined);
        return;
    }
    fputs("set label ", f);
    script_quote(f, text);
    fprintf(f, " at graph %s, graph %s %s\n", corners[c].right ? "0.97" : "0.03",
            corners[c].top ? "0.92" : "0.08", corners[c].right ? "right" : "left");
}

void script_x_tics_fitting(FILE *f, double lo, double hi) {
    /* The smallest step of 1, 2 or 5 times a power of ten whose labels (at most as long as the
     * longest of the range's ends, a gap of two characters between) fit across the plot. */
    if (!(hi > lo)) return;
    double step = pow(10, floor(log10(hi - lo)) - 2);
    for (int tries = 0; tries < 40; tries++) {
        /* The labels drawn: the multiples of the step on the axis. */
        double first = ceil(lo / step - 1e-9) * step, last = floor(hi / step + 1e-9) * step;
        char a[32], b[32], c[32];
        snprintf(a, sizeof a, "%g", first);
        snprintf(b, sizeof b, "%g", last);
        snprintf(c, sizeof c, "%g", first + step);
        size_t chars = strlen(a) > strlen(b) ? strlen(a) : strlen(b);
        if (strlen(c) > chars) chars = strlen(c);
        double labels = floor((last - first) / step + 0.5) + 1;
        if (text_width(labels * (chars + (dumb_terminal ? 1.0 : 2.0)), font_pt) <= 1) break;
        double mantissa = step / pow(10, floor(log10(step) + 1e-9));
        step *= mantissa < 1.5 ? 2 : mantissa < 3 ? 2.5 : 2;
    }
    fprintf(f, "set xtics %.10g\n", step);
}

char *plot_group_title(const char *model, const char *dataset) {
    char *t;
    if (asprintf(&t, "%s%s%s", model, *model && *dataset ? ", " : "", dataset) < 0) tte_die("out of memory");
    return t;
}

int plot_selected(const plot_options *o, const char *model, const char *dataset) {
    return (!o->model || strcmp(o->model, model) == 0) && (!o->dataset || strcmp(o->dataset, dataset) == 0);
}
