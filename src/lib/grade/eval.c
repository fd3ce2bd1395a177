/* eval: the value of a parsed expression at one point (one value per variable). Values are real
 * scalars or small matrices; anything undefined (a domain error, a shape mismatch, a structure such
 * as a tuple that has no single value) is NaN, which the comparison treats as "cannot say". */
#include "grade_internal.h"

#include <math.h>
#include <string.h>

static void add_name(vars *vs, const char *name) {
    for (int k = 0; k < vs->n; k++)
        if (strcmp(vs->names[k], name) == 0) return;
    if (vs->n == VARS_MAX) {
        vs->overflow = 1;
        return;
    }
    vs->names[vs->n++] = name;
}

void vars_collect(vars *vs, const expr *e) {
    if (!e) return;
    if (e->kind == E_SYM) add_name(vs, e->name);
    if (e->kind == E_SUM || e->kind == E_PROD) { /* the index is bound: not a variable */
        vars body = {0};
        vars_collect(&body, e->a);
        for (int k = 0; k < body.n; k++)
            if (strcmp(body.names[k], e->name) != 0) add_name(vs, body.names[k]);
        if (body.overflow) vs->overflow = 1;
        for (int k = 0; k < e->n; k++) vars_collect(vs, e->items[k]);
        return;
    }
    vars_collect(vs, e->a);
    vars_collect(vs, e->b);
    for (int k = 0; k < e->n; k++) vars_collect(vs, e->items[k]);
}

static void scalar(val *out, double x) {
    out->rows = out->cols = 1;
    out->v[0] = x;
}

static int is_scalar(const val *v) { return v->rows == 1 && v->cols == 1; }

static double factorial(double x) {
    if (x < 0 || x != floor(x) || x > 170) return NAN;
    return tgamma(x + 1);
}

static double apply(expr_func f, double x, double b, int has_b) {
    switch (f) {
    case F_SIN:
        return sin(x);
    case F_COS:
        return cos(x);
    case F_TAN:
        return tan(x);
    case F_SEC:
        return 1 / cos(x);
    case F_CSC:
        return 1 / sin(x);
    case F_COT:
        return 1 / tan(x);
    case F_ASIN:
        return asin(x);
    case F_ACOS:
        return acos(x);
    case F_ATAN:
        return atan(x);
    case F_SINH:
        return sinh(x);
    case F_COSH:
        return cosh(x);
    case F_TANH:
        return tanh(x);
    case F_LN:
        return x > 0 ? log(x) : NAN;
    case F_LOG:
        return x > 0 ? (has_b ? log(x) / log(b) : log(x)) : NAN;
    case F_EXP:
        return exp(x);
    case F_SQRT:
        if (!has_b || b == 2) return x >= 0 ? sqrt(x) : NAN;
        /* an odd root of a negative number is real */
        if (x < 0 && b == floor(b) && fmod(b, 2) == 1) return -pow(-x, 1 / b);
        return x >= 0 ? pow(x, 1 / b) : NAN;
    case F_ABS:
        return fabs(x);
    case F_FLOOR:
        return floor(x);
    case F_CEIL:
        return ceil(x);
    case F_BINOM:
        return factorial(x) / (factorial(b) * factorial(x - b));
    }
    return NAN;
}

/* Elementwise a OP b for same-shaped values; a scalar times a matrix; a matrix product. */
static void combine(expr_kind op, const val *a, const val *b, val *out) {
    if (op == E_MUL || op == E_APPLY) {
        if (is_scalar(a) || is_scalar(b)) {
            const val *s = is_scalar(a) ? a : b, *m = is_scalar(a) ? b : a;
            *out = *m;
            for (int k = 0; k < m->rows * m->cols; k++) out->v[k] = s->v[0] * m->v[k];
            return;
        }
        if (a->cols != b->rows || a->rows * b->cols > VAL_MAX) return scalar(out, NAN);
        out->rows = a->rows;
        out->cols = b->cols;
        for (int r = 0; r < a->rows; r++)
            for (int c = 0; c < b->cols; c++) {
                double sum = 0;
                for (int k = 0; k < a->cols; k++) sum += a->v[r * a->cols + k] * b->v[k * b->cols + c];
                out->v[r * out->cols + c] = sum;
            }
        return;
    }
    if (op == E_DIV || op == E_POW) {
        if (!is_scalar(b)) return scalar(out, NAN);
        if (op == E_POW && !is_scalar(a)) return scalar(out, NAN);
        *out = *a;
        for (int k = 0; k < a->rows * a->cols; k++) {
            double x = a->v[k], y = b->v[0];
            if (op == E_DIV) out->v[k] = y == 0 ? NAN : x / y;
            /* a negative base with a fractional exponent has no real value */
            else
                out->v[k] = (x < 0 && y != floor(y)) ? NAN : pow(x, y);
        }
        return;
    }
    if (a->rows != b->rows || a->cols != b->cols) return scalar(out, NAN);
    *out = *a;
    for (int k = 0; k < a->rows * a->cols; k++)
        out->v[k] = op == E_ADD ? a->v[k] + b->v[k] : a->v[k] - b->v[k];
}

/* Work of the sums being evaluated: the product of their term counts, so that nested sums stay
 * bounded (past the budget, or past a nesting depth, a sum is read by its samples below). */
enum { SUM_WORK_MAX = 100000, SUM_DEPTH_MAX = 6 };

/* Nodes of E, counted up to LIMIT: the cost of one evaluation. */
static long nodes_of(const expr *e, long limit) {
    if (!e || limit <= 0) return 0;
    long n = 1 + nodes_of(e->a, limit - 1);
    n += nodes_of(e->b, limit - n);
    for (int k = 0; k < e->n && n < limit; k++) n += nodes_of(e->items[k], limit - n);
    return n;
}
static _Thread_local long sum_work = 1;
static _Thread_local int sum_depth;

/* The body of sum E at index value AT, the other variables as in VS. */
static double body_at(const expr *e, const vars *vs, double at) {
    vars inner = *vs;
    int k = 0;
    while (k < inner.n && strcmp(inner.names[k], e->name) != 0) k++;
    if (k == inner.n) {
        if (inner.n == VARS_MAX) return NAN;
        inner.names[inner.n++] = e->name;
    }
    inner.values[k] = at;
    val v;
    eval(e->a, &inner, &v);
    return v.rows == 1 && v.cols == 1 ? v.v[0] : NAN;
}

/* \sum or \prod: term by term when the limits are integers a few apart (an empty range is 0 or
 * 1); otherwise (n - 1 at a random point) a fixed mix of the limits and of the body at fixed index
 * values, so that two sums with equal limits and equal bodies are equal, and little else is. */
static double eval_bigop(const expr *e, const vars *vs) {
    val lo, hi;
    eval(e->items[0], vs, &lo);
    eval(e->items[1], vs, &hi);
    if (lo.rows * lo.cols != 1 || hi.rows * hi.cols != 1 || sum_depth >= SUM_DEPTH_MAX) return NAN;
    double a = lo.v[0], b = hi.v[0], r = e->kind == E_SUM ? 0 : 1;
    if (isnan(a) || isnan(b)) return NAN;
    sum_depth++;
    /* the work of the terms: their count times the body's size, times that of the sums around */
    double terms = b - a + 1, cost = (double)nodes_of(e->a, SUM_WORK_MAX);
    if (a == floor(a) && b == floor(b) && terms * cost <= (double)(SUM_WORK_MAX / sum_work)) {
        long saved = sum_work;
        sum_work *= terms > 1 ? (long)terms : 1;
        for (double k = a; k <= b && !isnan(r); k++)
            r = e->kind == E_SUM ? r + body_at(e, vs, k) : r * body_at(e, vs, k);
        sum_work = saved;
    } else {
        static const double at[] = {0.6180339887, 1.4142135624, 2.7182818285};
        r = 0.5772156649 * a + 1.2020569032 * b + (e->kind == E_SUM ? 0.9159655942 : 1.6180339887);
        for (size_t k = 0; k < sizeof at / sizeof *at; k++) r += (1.1 + 0.3 * k) * body_at(e, vs, at[k]);
    }
    sum_depth--;
    return r;
}

void eval(const expr *e, const vars *vs, val *out) {
    val a, b;
    switch (e->kind) {
    case E_NUM:
    case E_CONST:
        return scalar(out, e->num);
    case E_SYM:
        for (int k = 0; k < vs->n; k++)
            if (strcmp(vs->names[k], e->name) == 0) return scalar(out, vs->values[k]);
        return scalar(out, NAN);
    case E_NEG:
        eval(e->a, vs, out);
        for (int k = 0; k < out->rows * out->cols; k++) out->v[k] = -out->v[k];
        return;
    case E_ADD:
    case E_SUB:
    case E_MUL:
    case E_APPLY:
    case E_DIV:
    case E_POW:
        eval(e->a, vs, &a);
        eval(e->b, vs, &b);
        return combine(e->kind, &a, &b, out);
    case E_FUNC:
        eval(e->a, vs, &a);
        if (!is_scalar(&a)) return scalar(out, NAN);
        if (e->b) {
            eval(e->b, vs, &b);
            if (!is_scalar(&b)) return scalar(out, NAN);
        }
        return scalar(out, apply(e->func, a.v[0], e->b ? b.v[0] : 0, e->b != NULL));
    case E_FACT:
        eval(e->a, vs, &a);
        return scalar(out, is_scalar(&a) ? factorial(a.v[0]) : NAN);
    case E_MATRIX:
        out->rows = e->rows;
        out->cols = e->cols;
        for (int k = 0; k < e->n; k++) {
            eval(e->items[k], vs, &a);
            out->v[k] = is_scalar(&a) ? a.v[0] : NAN;
        }
        return;
    case E_SUM:
    case E_PROD:
        return scalar(out, eval_bigop(e, vs));
    case E_PM:
    case E_SEQ:
    case E_REL:
    case E_UNION:
    case E_TEXT:
        return scalar(out, NAN);
    }
    scalar(out, NAN);
}
