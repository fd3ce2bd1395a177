/* equal: deciding whether two extracted answers mean the same, and the canonical form of an answer.
 *
 * The decision, for a LaTeX answer (integer, number and choice answers first try their own reading):
 *  1. Normalised strings equal (normalize.c), or equal once \text{} wrappers and case are ignored.
 *  2. Both parse (expr.c), and then by structure:
 *     - a relation "name = value" (x = 5, (p,q) = (3,2), f(x) = ..., A:B = 1) stands for its value;
 *       a chain "x = 5+5+1 = 11" for its last part ("\approx" after an exact value is dropped);
 *       "a <= x <= b" for the interval [a, b]; "x \in S" for S;
 *     - two equations are equal when lhs - rhs of one is a nonzero multiple of the other's (at random
 *       points), two inequalities when the multiple is positive (x < 1 is -x > -1); != likewise;
 *     - tuples and intervals: same brackets, elements pairwise; sets, bare lists and "a \pm b":
 *       every element of each has an equal in the other (order and repeats are free);
 *     - unions: parts as a set; text: case-insensitive; under Math-Verify, intervals and unions of
 *       intervals with constant endpoints as the sets of reals they are ([1,9] \cup [4,6] is [1,9]:
 *       SymPy's Union, which Math-Verify compares by);
 *     - everything else numerically: both evaluated at 6 seeded random points (each variable uniform
 *       in [0.5, 2.5]), equal within relative tolerance 1e-6; values may be matrices. A decimal with
 *       two or more digits after the point also equals a value that rounds to it (0.33 for 1/3).
 *     - a percentage (an answer ending in %, \%, "percent", "percentage" or "pct"): under
 *       Math-Verify its value is a hundredth of the number (4 4/9% is 40/900, not 40/9), while step 1
 *       still compares the number as written, as Math-Verify's fallback string does (28% against
 *       28 is equal, 0.28 against 28 is not); under Qwen2.5-Math, 28% is 28 and also 0.28;
 *     - "1,22" against a number: the comma may be a decimal comma; a bare list against one value:
 *       equal when every element is (one answer boxed in several forms). */
#include "grade.h"
#include "grade_internal.h"
#include "xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { POINTS = 6, MAX_RECURSION = 40 };

static const char *const type_names[] = {"integer", "number", "latex", "choice"};

int tte_answer_type_parse(const char *name) {
    for (int k = 0; k < 4; k++)
        if (name && strcmp(name, type_names[k]) == 0) return k;
    return -1;
}

const char *tte_answer_type_name(tte_answer_type type) {
    return (unsigned)type < 4 ? type_names[type] : "latex";
}

/* "-12", "007": an optional sign and digits only, after normalisation. */
static int read_integer(const char *norm, long long *out) {
    const char *s = norm;
    if (*s == '-' || *s == '+') s++;
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18) return 0;
    *out = strtoll(norm, NULL, 10);
    return 1;
}

static double number_value(const char *norm, int *ok) {
    expr_arena *arena = expr_arena_new();
    expr *e = expr_parse(arena, norm);
    double v = NAN;
    vars vs = {0};
    vars_collect(&vs, e);
    if (e && vs.n == 0) {
        val out;
        eval(e, &vs, &out);
        if (out.rows == 1 && out.cols == 1) v = out.v[0];
    }
    expr_arena_free(arena);
    *ok = isfinite(v);
    return v;
}

tte_answer_type tte_answer_type_infer(const char *gold, int has_choices) {
    if (!gold) return TTE_ANSWER_LATEX;
    if (has_choices && isupper((unsigned char)gold[0]) && !gold[1]) return TTE_ANSWER_CHOICE;
    char *norm = grade_normalize(gold);
    long long i;
    tte_answer_type t = TTE_ANSWER_LATEX;
    int plain = strspn(norm, "-+0123456789./") == strlen(norm);
    int ok = 0;
    if (read_integer(norm, &i))
        t = TTE_ANSWER_INTEGER;
    else if (plain && (number_value(norm, &ok), ok))
        t = TTE_ANSWER_NUMBER;
    free(norm);
    return t;
}

/* The letter of a multiple choice answer: "C", "(C)", "\text{C}", "C) 42", "C. 42", "Option C". */
static int choice_letter(const char *s) {
    while (*s == ' ' || *s == '$' || *s == '(' || *s == '*' || *s == '{') s++;
    static const char *const prefixes[] = {"\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "Option ",
                                           "option ", "Answer: ",  "Answer ",   "answer: ",  NULL};
    for (int again = 1; again;) {
        again = 0;
        for (const char *const *p = prefixes; *p; p++)
            if (strncmp(s, *p, strlen(*p)) == 0) s += strlen(*p), again = 1;
        while (*s == ' ' || *s == '(' || *s == '*' || *s == '{') s++;
    }
    if (!isalpha((unsigned char)s[0]) || isalpha((unsigned char)s[1])) return 0;
    if (islower((unsigned char)s[0]) && s[1]) return 0; /* "x = 3" is not choice x */
    return toupper((unsigned char)s[0]);
}

/* ---- comparison ---- */

typedef struct {
    uint64_t rng;
    tte_grader grader;
    expr_arena *arena; /* for the structures a comparison builds (tuples from assignments) */
} cmp;

static double next_point(cmp *c) { /* xorshift64*: a fixed stream, so grades are reproducible */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return 0.5 + 2.0 * (double)((c->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int close_tol(double x, double y, double rel) {
    if (isinf(x) || isinf(y)) return x == y;
    double d = fabs(x - y);
    return d <= 1e-9 || d <= rel * fmax(fabs(x), fabs(y));
}

static int close_enough(double x, double y) { return close_tol(x, y, 1e-6); }

/* Qwen2.5-Math's numeric_equal: math.isclose with rel_tol 1e-4. */
static int close_as(const cmp *c, double x, double y) {
    return c->grader == TTE_GRADER_QWEN ? close_tol(x, y, 1e-4) : close_enough(x, y);
}

/* A number literal, possibly negated: what Qwen2.5-Math's parse_digits reads as a float. */
static int plain_number(const expr *e) {
    if (e->kind == E_NEG) e = e->a;
    return e->kind == E_NUM;
}

/* A decimal literal written with two or more digits after the point, as a rounded value. */
static int rounded_literal(const expr *e, int *decimals, double *v) {
    int neg = e->kind == E_NEG;
    if (neg) e = e->a;
    if (e->kind != E_NUM || e->decimals < 2) return 0;
    *decimals = e->decimals;
    *v = neg ? -e->num : e->num;
    return 1;
}

static int rounds_to(double exact, double literal, int decimals) {
    double scale = pow(10, decimals);
    return close_enough(round(exact * scale) / scale, literal);
}

static int numeric_equiv(cmp *c, const expr *a, const expr *b) {
    vars vs = {0};
    vars_collect(&vs, a);
    vars_collect(&vs, b);
    if (vs.overflow) return 0;
    int valid = 0;
    for (int point = 0; point < (vs.n ? POINTS : 1); point++) {
        for (int k = 0; k < vs.n; k++) vs.values[k] = next_point(c);
        val x, y;
        eval(a, &vs, &x);
        eval(b, &vs, &y);
        if (x.rows != y.rows || x.cols != y.cols) return 0;
        for (int k = 0; k < x.rows * x.cols; k++) {
            double u = x.v[k], w = y.v[k];
            if (isnan(u) && isnan(w)) continue;
            if (isnan(u) || isnan(w)) return 0;
            int d;
            double lit;
            int ok;
            if (c->grader == TTE_GRADER_QWEN) /* include_percentage: a/100, a and 100a */
                ok = close_as(c, u, w) || (plain_number(a) && plain_number(b) &&
                                           (close_as(c, u, w * 100) || close_as(c, u * 100, w)));
            else
                ok = close_enough(u, w) ||
                     (vs.n == 0 && rounded_literal(b, &d, &lit) && rounds_to(u, lit, d)) ||
                     (vs.n == 0 && rounded_literal(a, &d, &lit) && rounds_to(w, lit, d));
            if (!ok) return 0;
            valid++;
        }
    }
    return valid > 0;
}

/* Does lhs - rhs of A equal k (lhs - rhs) of B for one k != 0 (k > 0 when POSITIVE)? */
static int proportional(cmp *c, const expr *fa, const expr *fb, int positive) {
    vars vs = {0};
    vars_collect(&vs, fa);
    vars_collect(&vs, fb);
    if (vs.overflow) return 0;
    double k = NAN;
    int zeros = 0, valid = 0;
    for (int point = 0; point < (vs.n ? POINTS : 1); point++) {
        for (int j = 0; j < vs.n; j++) vs.values[j] = next_point(c);
        val x, y;
        eval(fa, &vs, &x);
        eval(fb, &vs, &y);
        if (x.rows * x.cols != 1 || y.rows * y.cols != 1) return 0;
        double u = x.v[0], w = y.v[0];
        if (isnan(u) && isnan(w)) continue;
        if (isnan(u) || isnan(w)) return 0;
        int zu = fabs(u) < 1e-12, zw = fabs(w) < 1e-12;
        if (zu != zw) return 0;
        valid++;
        if (zu) {
            zeros++;
            continue;
        }
        double r = u / w;
        if (isnan(k))
            k = r;
        else if (!close_enough(r, k))
            return 0;
    }
    if (!valid) return 0;
    if (isnan(k)) return zeros == valid; /* identities on both sides */
    if (c->grader == TTE_GRADER_QWEN)    /* lhs - rhs equal up to sign, not up to a factor */
        return positive ? close_enough(k, 1) : close_enough(fabs(k), 1);
    return positive ? k > 0 : k != 0;
}

static int name_like(const expr *e) {
    switch (e->kind) {
    case E_SYM:
        return 1;
    case E_APPLY:
        return e->a->kind == E_SYM;
    case E_MUL:
    case E_DIV:
        return name_like(e->a) && name_like(e->b);
    case E_SEQ:
        if (e->open != '(' || e->n == 0) return 0;
        for (int k = 0; k < e->n; k++)
            if (!name_like(e->items[k])) return 0;
        return 1;
    default:
        return 0;
    }
}

/* The value a relation stands for (see the header comment), or NULL. */
static const expr *relation_value(const expr *e) {
    if (e->kind != E_REL) return NULL;
    int parts = e->n;
    for (int k = 1; k < e->n - 1; k++) /* x = 1/3 \approx 0.33: the exact value */
        if (e->ops[k] == R_APPROX) {
            parts = k + 1;
            break;
        }
    if (parts == 2 && e->ops[0] == R_IN) return name_like(e->items[0]) ? e->items[1] : NULL;
    for (int k = 0; k < parts - 1; k++)
        if (e->ops[k] != R_EQ && e->ops[k] != R_APPROX) return NULL;
    if (parts == 2) return name_like(e->items[0]) ? e->items[1] : NULL;
    return e->items[parts - 1];
}

/* "a <= x <= b" as the interval [a, b], built in STORE. */
typedef struct {
    expr seq;
    expr *items[2];
} interval_store;

static const expr *chain_interval(const expr *e, interval_store *store) {
    if (e->kind != E_REL || e->n != 3 || !name_like(e->items[1])) return NULL;
    int up = (e->ops[0] == R_LT || e->ops[0] == R_LE) && (e->ops[1] == R_LT || e->ops[1] == R_LE);
    int down = (e->ops[0] == R_GT || e->ops[0] == R_GE) && (e->ops[1] == R_GT || e->ops[1] == R_GE);
    if (!up && !down) return NULL;
    memset(store, 0, sizeof *store);
    store->seq.kind = E_SEQ;
    store->seq.n = 2;
    store->seq.items = store->items;
    store->items[0] = e->items[up ? 0 : 2];
    store->items[1] = e->items[up ? 2 : 0];
    expr_rel lo = e->ops[up ? 0 : 1], hi = e->ops[up ? 1 : 0];
    store->seq.open = (lo == R_LT || lo == R_GT) ? '(' : '[';
    store->seq.close = (hi == R_LT || hi == R_GT) ? ')' : ']';
    return &store->seq;
}

/* "x < 3" as (-oo, 3), "x >= 1" as [1, oo): one variable against a constant (Math-Verify reads an
 * inequality as its set when the other answer is a set). Built in STORE. */
static const expr *half_interval(const expr *e, interval_store *store, expr *lo_inf, expr *hi_inf) {
    if (e->kind != E_REL || e->n != 2) return NULL;
    expr_rel op = e->ops[0];
    if (op != R_LT && op != R_LE && op != R_GT && op != R_GE) return NULL;
    int name_left = name_like(e->items[0]);
    const expr *name = e->items[name_left ? 0 : 1], *bound = e->items[name_left ? 1 : 0];
    if (!name_like(name)) return NULL;
    vars vs = {0};
    vars_collect(&vs, bound);
    if (vs.n) return NULL;
    if (!name_left) op = op == R_LT ? R_GT : op == R_LE ? R_GE : op == R_GT ? R_LT : R_LE;
    memset(store, 0, sizeof *store);
    *lo_inf = (expr){.kind = E_CONST, .num = -INFINITY, .decimals = -1};
    *hi_inf = (expr){.kind = E_CONST, .num = INFINITY, .decimals = -1};
    store->seq.kind = E_SEQ;
    store->seq.n = 2;
    store->seq.items = store->items;
    int below = op == R_LT || op == R_LE;
    store->items[0] = below ? lo_inf : (expr *)bound;
    store->items[1] = below ? (expr *)bound : hi_inf;
    store->seq.open = below || op == R_GT ? '(' : '[';
    store->seq.close = !below || op == R_LT ? ')' : ']';
    return &store->seq;
}

static int is_assignment(const expr *e) {
    return e->kind == E_REL && e->n == 2 && e->ops[0] == R_EQ && e->items[0]->kind == E_SYM;
}

static int by_name(const void *x, const void *y) {
    return strcmp((*(expr *const *)x)->items[0]->name, (*(expr *const *)y)->items[0]->name);
}

/* "a=1, b=4; a=2, b=3" as the list of tuples (1,4), (2,3): a bare list of assignments whose names
 * repeat in groups; the values of a group in the order of its names ("b=4, a=1" is (1,4)). One
 * group is one tuple. NULL when E is not such a list. */
static const expr *assignment_tuples(cmp *c, const expr *e) {
    if (e->kind != E_SEQ || e->open || e->n < 2) return NULL;
    for (int k = 0; k < e->n; k++)
        if (!is_assignment(e->items[k])) return NULL;
    int group = 1;
    while (group < e->n && strcmp(e->items[group]->items[0]->name, e->items[0]->items[0]->name) != 0) group++;
    if (group < 2 || e->n % group) return NULL;
    int groups = e->n / group;
    expr **sorted = expr_items(c->arena, e->n);
    memcpy(sorted, e->items, (size_t)e->n * sizeof *sorted);
    for (int g = 0; g < groups; g++) {
        qsort(sorted + g * group, (size_t)group, sizeof *sorted, by_name);
        for (int k = 0; k < group; k++)
            if (strcmp(sorted[g * group + k]->items[0]->name, sorted[k]->items[0]->name) != 0) return NULL;
    }
    expr *list = expr_new(c->arena, E_SEQ);
    list->n = groups;
    list->items = expr_items(c->arena, groups);
    for (int g = 0; g < groups; g++) {
        expr *t = expr_new(c->arena, E_SEQ);
        t->open = '(';
        t->close = ')';
        t->n = group;
        t->items = expr_items(c->arena, group);
        for (int k = 0; k < group; k++) t->items[k] = sorted[g * group + k]->items[1];
        list->items[g] = t;
    }
    return groups == 1 ? list->items[0] : list;
}

static int equiv(cmp *c, const expr *a, const expr *b, int depth);

static int relation_equiv(cmp *c, const expr *a, const expr *b, int depth) {
    if (a->n != b->n) return 0;
    if (a->n > 2) { /* chains: part by part */
        for (int k = 0; k < a->n - 1; k++)
            if (a->ops[k] != b->ops[k]) return 0;
        for (int k = 0; k < a->n; k++)
            if (!equiv(c, a->items[k], b->items[k], depth + 1)) return 0;
        return 1;
    }
    /* one relation: compare lhs - rhs, with > and >= turned around into < and <= */
    expr_rel oa = a->ops[0], ob = b->ops[0];
    int flip_a = oa == R_GT || oa == R_GE, flip_b = ob == R_GT || ob == R_GE;
    if (flip_a) oa = oa == R_GT ? R_LT : R_LE;
    if (flip_b) ob = ob == R_GT ? R_LT : R_LE;
    if (oa == R_APPROX) oa = R_EQ;
    if (ob == R_APPROX) ob = R_EQ;
    if (oa != ob || oa == R_IN) return 0;
    expr fa = {.kind = E_SUB, .a = a->items[flip_a], .b = a->items[!flip_a]};
    expr fb = {.kind = E_SUB, .a = b->items[flip_b], .b = b->items[!flip_b]};
    return proportional(c, &fa, &fb, oa == R_LT || oa == R_LE);
}

/* "a \pm b" as the two-element list {a + b, a - b}, built in STORE. */
typedef struct {
    expr seq, plus, minus, neg;
    expr *items[2];
} pm_store;

static const expr *expand_pm(const expr *e, pm_store *s) {
    if (e->kind != E_PM) return e;
    memset(s, 0, sizeof *s);
    s->seq.kind = E_SEQ;
    s->seq.n = 2;
    s->seq.items = s->items;
    if (e->a) {
        s->plus = (expr){.kind = E_ADD, .a = e->a, .b = e->b};
        s->minus = (expr){.kind = E_SUB, .a = e->a, .b = e->b};
        s->items[0] = &s->plus;
        s->items[1] = &s->minus;
    } else {
        s->neg = (expr){.kind = E_NEG, .a = e->b};
        s->items[0] = e->b;
        s->items[1] = &s->neg;
    }
    return &s->seq;
}

/* Every element of A has an equal in B (elements "x \pm y" count as two). */
static int covered(cmp *c, const expr *a, const expr *b, int depth) {
    for (int i = 0; i < a->n; i++) {
        pm_store sa;
        const expr *ea = expand_pm(a->items[i], &sa);
        int n_a = ea->kind == E_SEQ && ea != a->items[i] ? 2 : 1;
        for (int x = 0; x < n_a; x++) {
            const expr *item = n_a == 2 ? ea->items[x] : ea;
            int found = 0;
            for (int j = 0; j < b->n && !found; j++) {
                pm_store sb;
                const expr *eb = expand_pm(b->items[j], &sb);
                if (eb != b->items[j])
                    found =
                        equiv(c, item, eb->items[0], depth + 1) || equiv(c, item, eb->items[1], depth + 1);
                else
                    found = equiv(c, item, eb, depth + 1);
            }
            if (!found) return 0;
        }
    }
    return 1;
}

/* Qwen2.5-Math's lists: brackets do not matter, elements pairwise in order. */
static int qwen_sequence_equiv(cmp *c, const expr *a, const expr *b, int depth) {
    if (a->kind != E_SEQ || b->kind != E_SEQ || a->n != b->n) return 0;
    for (int k = 0; k < a->n; k++)
        if (!equiv(c, a->items[k], b->items[k], depth + 1)) return 0;
    return 1;
}

static int sequence_equiv(cmp *c, const expr *a, const expr *b, int depth) {
    if (c->grader == TTE_GRADER_QWEN) return qwen_sequence_equiv(c, a, b, depth);
    if (a->kind != E_SEQ || b->kind != E_SEQ) {
        const expr *seq = a->kind == E_SEQ ? a : b, *other = a->kind == E_SEQ ? b : a;
        if (seq->open) return 0;
        if (seq->tight_pair) {
            expr decimal = {.kind = E_NUM, .num = seq->comma_decimal, .decimals = -1};
            if (numeric_equiv(c, &decimal, other)) return 1;
        }
        /* one value boxed in several forms, "15\frac{39}{40}, or \frac{639}{40}" */
        for (int k = 0; k < seq->n; k++)
            if (!equiv(c, seq->items[k], other, depth + 1)) return 0;
        return seq->n > 0;
    }
    int ordered = a->open && b->open && a->open != '{' && b->open != '{';
    if (a->open && b->open && (a->open == '{') != (b->open == '{')) {
        /* a set against a tuple: {4,9} is (4,9) but not (9,4); never an interval with ']' */
        const expr *tuple = a->open == '{' ? b : a;
        if (tuple->open != '(' || tuple->close != ')' || a->n != b->n) return 0;
        for (int k = 0; k < a->n; k++)
            if (!equiv(c, a->items[k], b->items[k], depth + 1)) return 0;
        return 1;
    }
    if (ordered) {
        if (a->open != b->open || a->close != b->close || a->n != b->n) return 0;
        for (int k = 0; k < a->n; k++)
            if (!equiv(c, a->items[k], b->items[k], depth + 1)) return 0;
        return 1;
    }
    return covered(c, a, b, depth) && covered(c, b, a, depth);
}

/* A set of reals as disjoint intervals, ascending: what an interval or a union of intervals with
 * constant endpoints is. */
enum { SPAN_MAX = 16 };
typedef struct {
    double lo, hi;
    int lo_closed, hi_closed;
} span;
typedef struct {
    span s[SPAN_MAX];
    int n;
} spans;

static int constant_value(const expr *e, double *v) {
    vars vs = {0};
    vars_collect(&vs, e);
    if (vs.n || vs.overflow) return 0;
    val x;
    eval(e, &vs, &x);
    if (x.rows != 1 || x.cols != 1 || isnan(x.v[0])) return 0;
    *v = x.v[0];
    return 1;
}

static int is_interval(const expr *e) {
    return e->kind == E_SEQ && e->n == 2 && (e->open == '(' || e->open == '[') &&
           (e->close == ')' || e->close == ']');
}

/* Whether span A starts before B: the lower end, a closed one first. */
static int starts_before(const span *a, const span *b) {
    return a->lo < b->lo || (a->lo == b->lo && a->lo_closed > b->lo_closed);
}

/* E as merged spans: 1, or 0 when it is not an interval or a union of intervals with constant ends. */
static int as_spans(const expr *e, spans *out) {
    const expr *const *parts = e->kind == E_UNION ? (const expr *const *)e->items : &e;
    int n = e->kind == E_UNION ? e->n : 1;
    if (n > SPAN_MAX) return 0;
    span in[SPAN_MAX];
    for (int k = 0; k < n; k++) {
        const expr *p = parts[k];
        if (!is_interval(p) || !constant_value(p->items[0], &in[k].lo) || !constant_value(p->items[1], &in[k].hi))
            return 0;
        in[k].lo_closed = p->open == '[', in[k].hi_closed = p->close == ']';
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && starts_before(&in[j], &in[j - 1]); j--) {
            span t = in[j];
            in[j] = in[j - 1], in[j - 1] = t;
        }
    /* Merged where they overlap, or touch at an end one of them holds. */
    out->n = 0;
    for (int k = 0; k < n; k++) {
        span *last = out->n ? &out->s[out->n - 1] : NULL;
        if (last && (in[k].lo < last->hi || (in[k].lo == last->hi && (in[k].lo_closed || last->hi_closed)))) {
            if (in[k].hi > last->hi)
                last->hi = in[k].hi, last->hi_closed = in[k].hi_closed;
            else if (in[k].hi == last->hi)
                last->hi_closed |= in[k].hi_closed;
            continue;
        }
        out->s[out->n++] = in[k];
    }
    return 1;
}

static int spans_equal(const spans *a, const spans *b) {
    if (a->n != b->n) return 0;
    for (int k = 0; k < a->n; k++) {
        const span *x = &a->s[k], *y = &b->s[k];
        if (!(x->lo == y->lo || close_enough(x->lo, y->lo)) || !(x->hi == y->hi || close_enough(x->hi, y->hi)) ||
            x->lo_closed != y->lo_closed || x->hi_closed != y->hi_closed)
            return 0;
    }
    return 1;
}

static int text_equiv(const char *x, const char *y) {
    for (;;) {
        while (*x == ' ') x++;
        while (*y == ' ') y++;
        if (!*x || !*y) return !*x && !*y;
        if (tolower((unsigned char)*x) != tolower((unsigned char)*y)) return 0;
        x++, y++;
    }
}

static int equiv(cmp *c, const expr *a, const expr *b, int depth) {
    if (depth > MAX_RECURSION) return 0;
    interval_store ia, ib;
    const expr *t;
    if ((t = chain_interval(a, &ia))) a = t;
    if ((t = chain_interval(b, &ib))) b = t;
    if (c->grader == TTE_GRADER_MATH_VERIFY) {
        interval_store ha, hb;
        expr inf[4];
        int set_b = (b->kind == E_SEQ && b->open && b->open != '{') || b->kind == E_UNION;
        int set_a = (a->kind == E_SEQ && a->open && a->open != '{') || a->kind == E_UNION;
        if (set_b && (t = half_interval(a, &ha, &inf[0], &inf[1]))) a = t;
        if (set_a && (t = half_interval(b, &hb, &inf[2], &inf[3]))) b = t;
        if ((t = assignment_tuples(c, a))) a = t;
        if ((t = assignment_tuples(c, b))) b = t;
        /* "1 and 7+1 = 1": a prediction that is an equation, against a gold that is none, stands for
         * its last side (Math-Verify respects the gold's form); A is the gold */
        int pred_equation = b->kind == E_REL;
        for (int k = 0; pred_equation && k < b->n - 1; k++)
            if (b->ops[k] != R_EQ) pred_equation = 0;
        if (pred_equation && a->kind != E_REL) b = b->items[b->n - 1];
    }
    const expr *va = relation_value(a), *vb = relation_value(b);
    if (a->kind == E_REL && b->kind == E_REL) {
        /* Math-Verify: x = 1 is not y = 1 (Qwen2.5-Math drops "x=" and "y=" first) */
        if (va && vb && c->grader == TTE_GRADER_MATH_VERIFY && is_assignment(a) && is_assignment(b) &&
            strcmp(a->items[0]->name, b->items[0]->name) != 0)
            return 0;
        if (va && vb) return equiv(c, va, vb, depth + 1);
        return relation_equiv(c, a, b, depth);
    }
    if (a->kind == E_REL) return va ? equiv(c, va, b, depth + 1) : 0;
    if (b->kind == E_REL) return vb ? equiv(c, a, vb, depth + 1) : 0;
    pm_store pa, pb;
    a = expand_pm(a, &pa);
    b = expand_pm(b, &pb);
    spans sa, sb;
    if (c->grader == TTE_GRADER_MATH_VERIFY && (a->kind == E_UNION || b->kind == E_UNION) && as_spans(a, &sa) &&
        as_spans(b, &sb))
        return spans_equal(&sa, &sb);
    if (a->kind == E_SEQ || b->kind == E_SEQ) return sequence_equiv(c, a, b, depth);
    if (a->kind == E_UNION || b->kind == E_UNION) {
        if (a->kind != b->kind) return 0;
        return covered(c, a, b, depth) && covered(c, b, a, depth);
    }
    if (a->kind == E_TEXT || b->kind == E_TEXT) return a->kind == b->kind && text_equiv(a->name, b->name);
    if (a->kind == E_MATRIX && b->kind == E_MATRIX) { /* cell by cell, so rounded cells count */
        if (a->rows != b->rows || a->cols != b->cols) return 0;
        for (int k = 0; k < a->n; k++)
            if (!equiv(c, a->items[k], b->items[k], depth + 1)) return 0;
        return 1;
    }
    return numeric_equiv(c, a, b);
}

/* The normalised string without \text{ } wrappers and spaces, lowercase: "\text{Odd}" is "odd". */
static char *plain_text(const char *norm) {
    gbuf b = {0};
    for (size_t i = 0; norm[i]; i++) {
        if (strncmp(norm + i, "\\text{", 6) == 0) {
            i += 5;
            continue;
        }
        if (norm[i] == ' ' || norm[i] == '}') continue;
        gbuf_putc(&b, (char)tolower((unsigned char)norm[i]));
    }
    return gbuf_take(&b);
}

static int mentions_percent(const char *s) {
    return strchr(s, '%') || strcasestr(s, "percent") || strcasestr(s, "pct");
}

/* Does the answer end with a percent sign or word (before closing $, braces, a full stop)? */
static int ends_with_percent(const char *s) {
    size_t n = strlen(s);
    while (n && (isspace((unsigned char)s[n - 1]) || strchr("$}.", s[n - 1]))) n--;
    if (n && s[n - 1] == '%') return 1;
    static const char *const words[] = {"percentage", "percent", "pct", NULL};
    for (const char *const *w = words; *w; w++) {
        size_t k = strlen(*w);
        if (n >= k && strncasecmp(s + n - k, *w, k) == 0 && (n == k || !isalpha((unsigned char)s[n - k - 1])))
            return 1;
    }
    return 0;
}

/* A percentage's value: E / 100, for an answer that has one value (not a list, set or relation). */
static expr *hundredth(expr_arena *arena, expr *e) {
    if (!e || e->kind == E_SEQ || e->kind == E_REL || e->kind == E_UNION || e->kind == E_TEXT ||
        e->kind == E_PM || e->kind == E_MATRIX)
        return e;
    expr *d = expr_new(arena, E_DIV), *h = expr_new(arena, E_NUM);
    h->num = 100;
    d->a = e;
    d->b = h;
    return d;
}

/* Qwen2.5-Math: 28% and 0.28: when either answer was written as a percentage, a value 100 times
 * the other also counts. */
static int percent_equal(const char *gold, const char *pred, const char *ng, const char *np) {
    if (!mentions_percent(gold) && !mentions_percent(pred)) return 0;
    int ok_g, ok_p;
    double g = number_value(ng, &ok_g), p = number_value(np, &ok_p);
    return ok_g && ok_p && (close_enough(g, 100 * p) || close_enough(100 * g, p));
}

static int latex_equal(const char *gold, const char *pred, tte_grader grader) {
    char *ng = grade_normalize(gold), *np = grade_normalize(pred);
    char *sg = grade_squeeze(ng), *sp = grade_squeeze(np);
    int equal = *sg && strcmp(sg, sp) == 0;
    if (!equal && *sg && (strstr(ng, "\\text{") || strstr(np, "\\text{"))) {
        char *pg = plain_text(ng), *pp = plain_text(np);
        equal = strcmp(pg, pp) == 0;
        free(pg);
        free(pp);
    }
    if (!equal) {
        expr_arena *arena = expr_arena_new();
        expr *eg = expr_parse(arena, ng), *ep = eg ? expr_parse(arena, np) : NULL;
        if (grader == TTE_GRADER_MATH_VERIFY && eg && ep) {
            int pg = ends_with_percent(gold), pp = ends_with_percent(pred);
            if (pg && !pp) eg = hundredth(arena, eg);
            if (pp && !pg) ep = hundredth(arena, ep);
        }
        cmp c = {.rng = 0x9E3779B97F4A7C15ULL, .grader = grader, .arena = arena};
        equal = eg && ep && equiv(&c, eg, ep, 0);
        expr_arena_free(arena);
    }
    if (!equal && grader == TTE_GRADER_QWEN) equal = percent_equal(gold, pred, ng, np);
    free(ng);
    free(np);
    free(sg);
    free(sp);
    return equal;
}

int tte_answer_equal(const char *gold, const char *pred, tte_answer_type type) {
    return tte_answer_equal_as(gold, pred, type, TTE_GRADER_MATH_VERIFY);
}

int tte_answer_equal_as(const char *gold, const char *pred, tte_answer_type type, tte_grader grader) {
    if (!gold || !pred) return 0;
    if (grader == TTE_GRADER_QWEN) return grade_qwen_equal(gold, pred, type);
    if (type == TTE_ANSWER_CHOICE) {
        int g = choice_letter(gold), p = choice_letter(pred);
        if (g && p) return g == p;
    }
    if (type == TTE_ANSWER_INTEGER) {
        char *ng = grade_normalize(gold), *np = grade_normalize(pred);
        long long x, y;
        int both = read_integer(ng, &x) && read_integer(np, &y);
        free(ng);
        free(np);
        if (both) return x == y;
    }
    return latex_equal(gold, pred, TTE_GRADER_MATH_VERIFY);
}

int grade_latex_equal(const char *gold, const char *pred, tte_grader grader) {
    return latex_equal(gold, pred, grader);
}

int tte_choice_match(const char *pred, const char *const *choices, int n) {
    if (!pred || choice_letter(pred)) return 0;
    for (int k = 0; k < n && k < 26; k++)
        if (choices[k] && latex_equal(choices[k], pred, TTE_GRADER_MATH_VERIFY)) return 'A' + k;
    return 0;
}

/* "x = 5" -> "5", "x_1 = 5" -> "5": the value after a one-letter name, when nothing else in the
 * answer is a relation (the rule of the decision, applied to the string). */
static const char *after_name(const char *norm) {
    const char *s = norm;
    if (!isalpha((unsigned char)*s)) return norm;
    s++;
    if (*s == '_') {
        s++;
        if (*s == '{')
            s = strchr(s, '}') ? strchr(s, '}') + 1 : s;
        else if (isalnum((unsigned char)*s))
            s++;
    }
    while (*s == ' ') s++;
    if (*s != '=') return norm;
    s++;
    if (strpbrk(s, "=<>") || strstr(s, "\\approx") || strchr(s, ',')) return norm;
    while (*s == ' ') s++;
    return *s ? s : norm;
}

char *tte_answer_canonical(const char *pred, tte_answer_type type) {
    char *norm = grade_normalize(pred);
    const char *value = type == TTE_ANSWER_CHOICE ? norm : after_name(norm);
    char buf[64];
    long long i;
    int ok = 0, letter;
    double v;
    if (type == TTE_ANSWER_CHOICE && (letter = choice_letter(pred))) {
        snprintf(buf, sizeof buf, "%c", letter);
    } else if ((type == TTE_ANSWER_INTEGER || type == TTE_ANSWER_NUMBER) && read_integer(value, &i)) {
        snprintf(buf, sizeof buf, "%lld", i);
    } else if (type == TTE_ANSWER_NUMBER && (v = number_value(value, &ok), ok)) {
        snprintf(buf, sizeof buf, "%.12g", v);
    } else {
        char *s = grade_squeeze(value);
        free(norm);
        return s;
    }
    free(norm);
    return tte_xstrdup(buf);
}
