/* expr: a recursive-descent parser for the math of normalised answers (normalize.c's output).
 *
 * Grammar, loosest binding first:
 *   list     := relation ((',' | ';') relation)*          a bare list when there are two or more
 *   relation := union (relop union)*                      = != < <= > >= \approx \in; chains kept
 *   union    := sum ('\cup' sum)*
 *   sum      := ['+' | '-' | '\pm'] term (('+' | '-' | '\pm' | '\mp') term)*
 *   term     := unary (('*' | '/' | ':' | '\cdot' | '\times' | '\div') unary | implicit-product)*
 *   unary    := '-' unary | '+' unary | power
 *   power    := primary ('^' exponent | '!')*
 *   primary  := number | name | constant | function | \frac{}{} | \sqrt[]{} | \binom{}{} | |x| |
 *               (..) [..] (..] [..) {..} \{..\} | \begin{pmatrix}..\end{pmatrix} | \text{..}
 * LaTeX's one-token arguments are read as LaTeX does: \frac13 is 1/3, x^23 is x^2*3, \sqrt3 is
 * sqrt(3). A name followed by '(' is applied to it (f(x)), which evaluation reads as a product.
 * An integer right before a fraction of integers is a mixed number: 1\frac{4}{5} is 9/5.
 * "e" alone is Euler's number; \pi, \infty are constants; other letters, Greek letters and unknown
 * commands are variables. 204_5 is a number in base 5. \sum_{k=a}^{b} and \prod_{k=a}^{b} (either
 * limit first) take the product-level operand after them as their body, as latex2sympy does:
 * \sum_{k=1}^{n} k^2 + 1 is (\sum k^2) + 1. */
#include "grade_internal.h"
#include "xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct expr_arena {
    void **ptrs;
    size_t n, cap;
};

expr_arena *expr_arena_new(void) { return tte_xcalloc(1, sizeof(expr_arena)); }

void expr_arena_free(expr_arena *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
    free(a->ptrs);
    free(a);
}

static void *arena_alloc(expr_arena *a, size_t size) {
    TTE_GROW(a->ptrs, a->cap, a->n + 1);
    void *m = tte_xcalloc(1, size);
    a->ptrs[a->n++] = m;
    return m;
}

expr *expr_new(expr_arena *arena, expr_kind kind) {
    expr *e = arena_alloc(arena, sizeof *e);
    e->kind = kind;
    e->decimals = -1;
    return e;
}

expr **expr_items(expr_arena *arena, int n) {
    return arena_alloc(arena, (size_t)(n > 0 ? n : 1) * sizeof(expr *));
}

/* Bounds that keep recursion (here and in evaluation) shallow on any input. */
enum { MAX_DEPTH = 100, MAX_ITEMS = 256, MAX_NODES = 2000 };

typedef struct {
    const char *s;
    size_t i;
    expr_arena *arena;
    int depth;
    int nodes;
} parser;

static expr *node(parser *p, expr_kind kind, expr *a, expr *b) {
    p->nodes++;
    expr *e = arena_alloc(p->arena, sizeof *e);
    e->kind = kind;
    e->a = a;
    e->b = b;
    e->decimals = -1;
    return e;
}

static expr *number(parser *p, double v) {
    expr *e = node(p, E_NUM, NULL, NULL);
    e->num = v;
    return e;
}

static char *arena_strndup(parser *p, const char *s, size_t n) {
    char *t = arena_alloc(p->arena, n + 1);
    memcpy(t, s, n);
    return t;
}

static void skip_spaces(parser *p) {
    while (p->s[p->i] == ' ') p->i++;
}

static char peek(parser *p) {
    skip_spaces(p);
    return p->s[p->i];
}

/* Is the command \NAME at the current position (not followed by more letters)? */
static int at_command(parser *p, const char *name) {
    skip_spaces(p);
    size_t n = strlen(name);
    return p->s[p->i] == '\\' && strncmp(p->s + p->i + 1, name, n) == 0 &&
           !isalpha((unsigned char)p->s[p->i + 1 + n]);
}

static int eat_command(parser *p, const char *name) {
    if (!at_command(p, name)) return 0;
    p->i += 1 + strlen(name);
    return 1;
}

static int eat(parser *p, const char *tok) {
    skip_spaces(p);
    size_t n = strlen(tok);
    if (strncmp(p->s + p->i, tok, n) != 0) return 0;
    p->i += n;
    return 1;
}

static expr *parse_list(parser *p);
static expr *parse_relation(parser *p);
static expr *parse_sum(parser *p);
static expr *parse_unary(parser *p);
static expr *parse_power(parser *p);
static expr *parse_primary(parser *p);
static expr *parse_name(parser *p);

/* Collects items separated by ',' or ';' into a new array. */
static expr *parse_items(parser *p, int allow_empty) {
    expr *seq = node(p, E_SEQ, NULL, NULL);
    expr *items[MAX_ITEMS];
    size_t starts[MAX_ITEMS + 1];
    int n = 0;
    char c = peek(p);
    if (allow_empty && (c == ')' || c == ']' || c == '}' || (c == '\\' && p->s[p->i + 1] == '}'))) return seq;
    for (;;) {
        starts[n] = p->i;
        expr *item = parse_relation(p);
        if (!item || n == MAX_ITEMS) return NULL;
        items[n++] = item;
        skip_spaces(p);
        if (p->s[p->i] != ',' && p->s[p->i] != ';') break;
        p->i++;
    }
    seq->n = n;
    seq->items = arena_alloc(p->arena, (size_t)n * sizeof *items);
    memcpy(seq->items, items, (size_t)n * sizeof *items);
    /* "1,22": two integers with nothing but a comma between may be a decimal comma */
    if (n == 2 && items[0]->kind == E_NUM && items[1]->kind == E_NUM && items[0]->decimals < 0 &&
        items[1]->decimals < 0) {
        const char *s = p->s + starts[0];
        while (*s == ' ') s++;
        size_t k = 0;
        while (isdigit((unsigned char)s[k])) k++;
        if (k > 0 && s[k] == ',' && isdigit((unsigned char)s[k + 1])) {
            char buf[64];
            size_t m = 0;
            while (isdigit((unsigned char)s[k + 1 + m])) m++;
            if (k + m + 2 < sizeof buf) {
                memcpy(buf, s, k);
                buf[k] = '.';
                memcpy(buf + k + 1, s + k + 1, m);
                buf[k + 1 + m] = 0;
                seq->tight_pair = 1;
                seq->comma_decimal = strtod(buf, NULL);
            }
        }
    }
    return seq;
}

static expr *parse_list(parser *p) {
    expr *seq = parse_items(p, 0);
    if (!seq) return NULL;
    return seq->n == 1 ? seq->items[0] : seq;
}

static int relop(parser *p, expr_rel *op) {
    skip_spaces(p);
    static const struct {
        const char *tok;
        expr_rel op;
    } ops[] = {{"<=", R_LE}, {">=", R_GE}, {"!=", R_NE}, {"==", R_EQ}, {"=", R_EQ}, {"<", R_LT}, {">", R_GT}};
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        if (eat(p, ops[k].tok)) {
            *op = ops[k].op;
            return 1;
        }
    if (eat_command(p, "approx") || eat_command(p, "sim")) return *op = R_APPROX, 1;
    if (eat_command(p, "in")) return *op = R_IN, 1;
    return 0;
}

static expr *parse_union(parser *p) {
    expr *first = parse_sum(p);
    if (!first || !at_command(p, "cup")) return first;
    expr *u = node(p, E_UNION, NULL, NULL);
    expr *items[MAX_ITEMS];
    int n = 0;
    items[n++] = first;
    while (eat_command(p, "cup")) {
        expr *e = parse_sum(p);
        if (!e || n == MAX_ITEMS) return NULL;
        items[n++] = e;
    }
    u->n = n;
    u->items = arena_alloc(p->arena, (size_t)n * sizeof *items);
    memcpy(u->items, items, (size_t)n * sizeof *items);
    return u;
}

static expr *parse_relation(parser *p) {
    expr *first = parse_union(p);
    if (!first) return NULL;
    expr_rel op;
    if (!relop(p, &op)) return first;
    expr *r = node(p, E_REL, NULL, NULL);
    expr *parts[EXPR_MAX_CHAIN + 1];
    int n = 0;
    parts[n++] = first;
    do {
        if (n > EXPR_MAX_CHAIN) return NULL;
        r->ops[n - 1] = op;
        expr *e = parse_union(p);
        if (!e) return NULL;
        parts[n++] = e;
    } while (relop(p, &op));
    r->n = n;
    r->items = arena_alloc(p->arena, (size_t)n * sizeof *parts);
    memcpy(r->items, parts, (size_t)n * sizeof *parts);
    return r;
}

static expr *parse_term(parser *p);

static expr *parse_sum(parser *p) {
    expr *left;
    if (eat_command(p, "pm")) {
        expr *t = parse_term(p);
        if (!t) return NULL;
        left = node(p, E_PM, NULL, t);
    } else if (eat_command(p, "mp")) {
        expr *t = parse_term(p);
        if (!t) return NULL;
        left = node(p, E_PM, NULL, node(p, E_NEG, t, NULL));
    } else {
        left = parse_term(p);
    }
    while (left) {
        expr_kind k;
        int negate = 0;
        if (eat(p, "+"))
            k = E_ADD;
        else if (eat(p, "-"))
            k = E_SUB;
        else if (eat_command(p, "pm"))
            k = E_PM;
        else if (eat_command(p, "mp"))
            k = E_PM, negate = 1;
        else
            break;
        expr *t = parse_term(p);
        if (!t) return NULL;
        left = node(p, k, left, negate ? node(p, E_NEG, t, NULL) : t);
    }
    return left;
}

/* Can the next token start a factor of an implicit product, as in 2x, 3\sqrt{2}, x(x+1)? */
static int starts_factor(parser *p) {
    char c = peek(p);
    if (isalnum((unsigned char)c) || c == '.' || c == '(' || c == '{') return 1;
    if (c != '\\') return 0;
    static const char *const not_factors[] = {"cdot",  "times",  "div",    "pm",   "mp",
                                              "cup",   "in",     "approx", "sim",  "end",
                                              "right", "rfloor", "rceil",  "text", NULL};
    const char *name = p->s + p->i + 1;
    if (!isalpha((unsigned char)*name)) return 0;
    size_t n = 0;
    while (isalpha((unsigned char)name[n])) n++;
    for (const char *const *w = not_factors; *w; w++)
        if (strlen(*w) == n && strncmp(*w, name, n) == 0) return 0;
    return 1;
}

static int is_integer_literal(const expr *e) {
    return e->kind == E_NUM && e->decimals < 0 && e->num == floor(e->num);
}

/* 1\frac{4}{5} is the mixed number 9/5, not 4/5: an integer literal right before a \frac of two
 * integer literals. */
static expr *mixed_number(parser *p, expr *whole, expr *fraction) {
    int negative = whole->kind == E_NEG;
    expr *w = negative ? whole->a : whole;
    if (!is_integer_literal(w) || fraction->kind != E_DIV || !is_integer_literal(fraction->a) ||
        !is_integer_literal(fraction->b))
        return NULL;
    expr *sum = node(p, E_ADD, w, fraction);
    return negative ? node(p, E_NEG, sum, NULL) : sum;
}

/* "4 4/9", "-4 4/9": an integer, one space, and a fraction of integers written with '/' is a mixed
 * number (Math-Verify reads it so); a numerator not below the denominator, or a zero denominator,
 * makes it no number at all (it equals nothing). NULL, consuming nothing, when the text at P is not
 * one. */
static expr *spaced_mixed_number(parser *p) {
    skip_spaces(p);
    const char *s = p->s + p->i;
    int neg = *s == '-';
    const char *w = s + neg;
    if (!isdigit((unsigned char)*w)) return NULL;
    char *end;
    double whole = strtod(w, &end);
    for (const char *d = w; d < end; d++)
        if (!isdigit((unsigned char)*d)) return NULL;
    if (end[0] != ' ' || !isdigit((unsigned char)end[1])) return NULL;
    const char *f = end + 1;
    long num = strtol(f, &end, 10);
    if (*end != '/' || !isdigit((unsigned char)end[1])) return NULL;
    long den = strtol(end + 1, &end, 10);
    if (isalnum((unsigned char)*end) || *end == '.' || *end == '^' || *end == '/' || *end == '_' ||
        *end == '!')
        return NULL;
    p->i = (size_t)(end - p->s);
    if (den == 0 || num >= den) return number(p, NAN);
    expr *e =
        node(p, E_ADD, number(p, whole), node(p, E_DIV, number(p, (double)num), number(p, (double)den)));
    return neg ? node(p, E_NEG, e, NULL) : e;
}

static expr *parse_term(parser *p) {
    expr *left = spaced_mixed_number(p);
    if (!left) left = parse_unary(p);

    if (left && at_command(p, "frac")) {
        size_t at = p->i;
        expr *fraction = parse_unary(p);
        expr *mixed = fraction ? mixed_number(p, left, fraction) : NULL;
        if (mixed)
            left = mixed;
        else
            p->i = at; /* not a mixed number: read it again as a product */
    }
    while (left) {
        expr_kind k;
        if (eat(p, "*") || eat_command(p, "cdot") || eat_command(p, "times"))
            k = E_MUL;
        else if (eat(p, "/") || eat(p, ":") || eat_command(p, "div"))
            k = E_DIV;
        else if (starts_factor(p))
            k = E_MUL;
        else
            break;
        expr *r = parse_unary(p);
        if (!r) return NULL;
        left = node(p, k, left, r);
    }
    return left;
}

static expr *parse_unary(parser *p) {
    if (++p->depth > MAX_DEPTH) return NULL;
    expr *e;
    if (eat(p, "-")) {
        e = parse_unary(p);
        e = e ? node(p, E_NEG, e, NULL) : NULL;
    } else if (eat(p, "+")) {
        e = parse_unary(p);
    } else {
        e = parse_power(p);
    }
    p->depth--;
    return e;
}

/* A one-token argument, as LaTeX reads one: {group}, one digit, one letter, or a command. */
static expr *parse_arg(parser *p) {
    char c = peek(p);
    if (c == '{') {
        p->i++;
        expr *e = parse_list(p);
        if (!e || !eat(p, "}")) return NULL;
        return e;
    }
    if (isdigit((unsigned char)c)) {
        p->i++;
        return number(p, c - '0');
    }
    if (isalpha((unsigned char)c) || c == '\\') {
        if (++p->depth > MAX_DEPTH) return NULL;
        expr *e = parse_primary(p);
        p->depth--;
        return e;
    }
    return NULL;
}

static expr *parse_power(parser *p) {
    expr *base = parse_primary(p);
    while (base) {
        if (eat(p, "^")) {
            expr *exp;
            if (eat(p, "-")) { /* 10^-5: written loosely, meant as 10^{-5} */
                exp = parse_arg(p);
                exp = exp ? node(p, E_NEG, exp, NULL) : NULL;
            } else {
                exp = parse_arg(p);
            }
            if (!exp) return NULL;
            base = node(p, E_POW, base, exp);
        } else if (p->s[p->i] == '!' && p->s[p->i + 1] != '=') {
            p->i++;
            base = node(p, E_FACT, base, NULL);
        } else {
            break;
        }
    }
    return base;
}

static expr *parse_number(parser *p) {
    const char *s = p->s + p->i;
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    int decimals = -1;
    if (s[n] == '.' && isdigit((unsigned char)s[n + 1])) {
        size_t d = 0;
        while (isdigit((unsigned char)s[n + 1 + d])) d++;
        decimals = (int)d;
        n += 1 + d;
    }
    if ((s[n] == 'e' || s[n] == 'E') &&
        (isdigit((unsigned char)s[n + 1]) ||
         ((s[n + 1] == '-' || s[n + 1] == '+') && isdigit((unsigned char)s[n + 2])))) {
        n += 2;
        while (isdigit((unsigned char)s[n])) n++;
        decimals = -1; /* a rounded decimal reading makes no sense for 1.5e-3 */
    }
    char *text = arena_strndup(p, s, n);
    expr *e = number(p, strtod(text, NULL));
    e->decimals = decimals;
    p->i += n;
    /* 204_5: an integer written in base 5 */
    if (p->s[p->i] == '_' && decimals < 0 && !strchr(text, 'e') && !strchr(text, 'E')) {
        const char *b = p->s + p->i + 1;
        int braced = *b == '{';
        if (braced) b++;
        char *end;
        long base = strtol(b, &end, 10);
        if (end == b || base < 2 || base > 36 || (braced && *end != '}')) return NULL;
        double v = 0;
        for (const char *d = text; *d; d++) {
            if (*d - '0' >= base) return NULL;
            v = v * (double)base + (*d - '0');
        }
        e->num = v;
        p->i = (size_t)(end - p->s) + (braced ? 1 : 0);
    }
    return e;
}

static const struct {
    const char *name;
    expr_func func;
} functions[] = {{"sin", F_SIN},     {"cos", F_COS},   {"tan", F_TAN},     {"sec", F_SEC},
                 {"csc", F_CSC},     {"cot", F_COT},   {"arcsin", F_ASIN}, {"arccos", F_ACOS},
                 {"arctan", F_ATAN}, {"sinh", F_SINH}, {"cosh", F_COSH},   {"tanh", F_TANH},
                 {"ln", F_LN},       {"log", F_LOG},   {"exp", F_EXP},     {"sqrt", F_SQRT},
                 {"lg", F_LOG}};

static int function_named(const char *s, size_t n, expr_func *f) {
    for (size_t k = 0; k < sizeof functions / sizeof *functions; k++)
        if (strlen(functions[k].name) == n && strncmp(functions[k].name, s, n) == 0) {
            *f = functions[k].func;
            return 1;
        }
    return 0;
}

/* After a function's name: an optional power (\sin^2 x; \sin^{-1} x is arcsin), an optional base
 * (\log_2 x), then the argument: a bracket, a group, or one power-level operand. */
static expr *parse_function(parser *p, expr_func f) {
    expr *power = NULL, *base = NULL;
    if (eat(p, "^")) {
        power = parse_arg(p);
        if (!power) return NULL;
        int inverse = power->kind == E_NEG && power->a->kind == E_NUM && power->a->num == 1;
        if (inverse && f >= F_SIN && f <= F_TAN) f = (expr_func)(F_ASIN + (f - F_SIN)), power = NULL;
    }
    if (f == F_LOG && eat(p, "_")) {
        base = parse_arg(p);
        if (!base) return NULL;
    }
    expr *arg;
    if (f == F_SQRT && eat(p, "[")) {
        base = parse_list(p);
        if (!base || !eat(p, "]")) return NULL;
    }
    char c = peek(p);
    if (f == F_SQRT)
        arg = parse_arg(p);
    else if (c == '(' || c == '{' || c == '[')
        arg = parse_primary(p);
    else
        arg = parse_power(p);
    if (!arg) return NULL;
    expr *e = node(p, E_FUNC, arg, base);
    e->func = f;
    return power ? node(p, E_POW, e, power) : e;
}

/* A bracketed group: (a) is a, (a,b) a tuple or an open interval, [a,b) an interval. */
static expr *parse_bracket(parser *p, char open) {
    expr *seq = parse_items(p, 0);
    if (!seq) return NULL;
    char close = peek(p);
    if (close != ')' && close != ']') return NULL;
    p->i++;
    if (seq->n == 1) return (open == '(') == (close == ')') ? seq->items[0] : NULL;
    seq->open = open;
    seq->close = close;
    return seq;
}

static expr *parse_matrix(parser *p, const char *env, size_t envlen) {
    if (strncmp(env, "array", envlen) == 0 && peek(p) == '{') { /* column spec */
        while (p->s[p->i] && p->s[p->i] != '}') p->i++;
        if (!p->s[p->i]) return NULL;
        p->i++;
    }
    expr *cells[VAL_MAX];
    int n = 0, rows = 0, cols = 0, col = 0;
    for (;;) {
        if (at_command(p, "end")) break;
        expr *cell = parse_sum(p);
        if (!cell || n == VAL_MAX) return NULL;
        cells[n++] = cell;
        col++;
        if (eat(p, "&")) continue;
        int row_end = eat(p, "\\\\");
        if (rows == 0)
            cols = col;
        else if (col != cols)
            return NULL;
        rows++;
        col = 0;
        if (!row_end) break;
    }
    if (!eat_command(p, "end") || !eat(p, "{")) return NULL;
    if (strncmp(p->s + p->i, env, envlen) != 0 || p->s[p->i + envlen] != '}') return NULL;
    p->i += envlen + 1;
    if (rows == 0) return NULL;
    expr *m = node(p, E_MATRIX, NULL, NULL);
    m->rows = rows;
    m->cols = cols;
    m->n = n;
    m->items = arena_alloc(p->arena, (size_t)n * sizeof *cells);
    memcpy(m->items, cells, (size_t)n * sizeof *cells);
    return m;
}

/* After \sum or \prod: the limits _{k=a} and ^{b} in either order, then the body (a product-level
 * operand). NULL unless both limits are there and the lower one names the index. */
static expr *parse_bigop(parser *p, expr_kind kind) {
    expr *lo = NULL, *hi = NULL;
    const char *index = NULL;
    for (int k = 0; k < 2; k++) {
        if (!lo && eat(p, "_")) {
            if (!eat(p, "{") || !isalpha((unsigned char)peek(p))) return NULL;
            expr *name = parse_name(p);
            if (!name || name->kind != E_SYM || !eat(p, "=")) return NULL;
            index = name->name;
            lo = parse_sum(p);
            if (!lo || !eat(p, "}")) return NULL;
        } else if (!hi && eat(p, "^")) {
            hi = parse_arg(p);
            if (!hi) return NULL;
        }
    }
    if (!lo || !hi) return NULL;
    if (++p->depth > MAX_DEPTH) return NULL;
    expr *body = parse_term(p);
    p->depth--;
    if (!body) return NULL;
    expr *e = node(p, kind, body, NULL);
    e->name = (char *)index;
    e->items = expr_items(p->arena, 2);
    e->items[0] = lo;
    e->items[1] = hi;
    e->n = 2;
    return e;
}

static expr *parse_command(parser *p) {
    const char *name = p->s + p->i + 1;
    size_t n = 0;
    while (isalpha((unsigned char)name[n])) n++;
    if (n == 0) {
        if (name[0] == '{') { /* \{ ... \}: a set */
            p->i += 2;
            expr *seq = parse_items(p, 1);
            if (!seq || !eat(p, "\\}")) return NULL;
            seq->open = '{';
            seq->close = '}';
            return seq;
        }
        return NULL;
    }
    p->i += 1 + n;
#define IS(word) (n == strlen(word) && strncmp(name, word, n) == 0)
    expr_func f;
    if (function_named(name, n, &f)) return parse_function(p, f);
    if (IS("frac") || IS("binom")) {
        expr *a = parse_arg(p);
        expr *b = a ? parse_arg(p) : NULL;
        if (!b) return NULL;
        if (IS("frac")) return node(p, E_DIV, a, b);
        expr *e = node(p, E_FUNC, a, b);
        e->func = F_BINOM;
        return e;
    }
    if (IS("sum") || IS("prod")) return parse_bigop(p, IS("sum") ? E_SUM : E_PROD);
    if (IS("pi")) {
        expr *e = node(p, E_CONST, NULL, NULL);
        e->num = M_PI;
        return e;
    }
    if (IS("infty") || IS("infin")) {
        expr *e = node(p, E_CONST, NULL, NULL);
        e->num = INFINITY;
        return e;
    }
    if (IS("emptyset")) {
        expr *e = node(p, E_SEQ, NULL, NULL);
        e->open = '{';
        e->close = '}';
        return e;
    }
    if (IS("lfloor") || IS("lceil")) {
        int floor_ = IS("lfloor");
        expr *a = parse_sum(p);
        if (!a || !eat_command(p, floor_ ? "rfloor" : "rceil")) return NULL;
        expr *e = node(p, E_FUNC, a, NULL);
        e->func = floor_ ? F_FLOOR : F_CEIL;
        return e;
    }
    if (IS("text")) {
        if (!eat(p, "{")) return NULL;
        const char *t = p->s + p->i;
        size_t len = 0;
        while (t[len] && t[len] != '}') len++;
        if (!t[len]) return NULL;
        expr *e = node(p, E_TEXT, NULL, NULL);
        e->name = arena_strndup(p, t, len);
        p->i += len + 1;
        return e;
    }
    if (IS("begin")) {
        if (!eat(p, "{")) return NULL;
        const char *env = p->s + p->i;
        size_t len = 0;
        while (isalpha((unsigned char)env[len]) || env[len] == '*') len++;
        if (env[len] != '}') return NULL;
        p->i += len + 1;
        static const char *const matrices[] = {"pmatrix",     "bmatrix", "Bmatrix", "matrix",
                                               "smallmatrix", "array",   NULL};
        for (const char *const *m = matrices; *m; m++)
            if (strlen(*m) == len && strncmp(*m, env, len) == 0) return parse_matrix(p, env, len);
        return NULL;
    }
    static const char *const not_names[] = {"end", "right", "cdot", "times",  "div",    "cup",   "cap",
                                            "in",  "pm",    "mp",   "approx", "rfloor", "rceil", NULL};
    for (const char *const *w = not_names; *w; w++)
        if (IS(*w)) return NULL;
#undef IS
    /* Greek letters and commands this parser does not know are names */
    expr *e = node(p, E_SYM, NULL, NULL);
    e->name = arena_strndup(p, name - 1, n + 1);
    return e;
}

/* A name: one letter, with a subscript (x_1, x_{12}) and primes, or a function written without a
 * backslash (sin x). A name right before '(' is applied to the bracket. */
static expr *parse_name(parser *p) {
    const char *s = p->s + p->i;
    size_t letters = 0;
    while (isalpha((unsigned char)s[letters])) letters++;
    expr_func f;
    if (letters >= 2 && function_named(s, letters, &f)) {
        p->i += letters;
        return parse_function(p, f);
    }
    size_t n = 1;
    if (s[n] == '_') {
        if (s[n + 1] == '{') {
            size_t k = n + 2;
            while (s[k] && s[k] != '}' && s[k] != '{') k++;
            if (s[k] != '}') return NULL;
            n = k + 1;
        } else if (isalnum((unsigned char)s[n + 1])) {
            n += 2;
        }
    }
    while (s[n] == '\'') n++;
    expr *e;
    if (n == 1 && s[0] == 'e') {
        e = node(p, E_CONST, NULL, NULL);
        e->num = M_E;
    } else {
        /* the braces of a subscript do not change the name: x_{1} is x_1 */
        gbuf b = {0};
        for (size_t k = 0; k < n; k++)
            if (s[k] != '{' && s[k] != '}') gbuf_putc(&b, s[k]);
        char *name = gbuf_take(&b);
        e = node(p, E_SYM, NULL, NULL);
        e->name = arena_strndup(p, name, strlen(name));
        free(name);
    }
    p->i += n;
    if (p->s[p->i] == '(' && e->kind == E_SYM) {
        if (++p->depth > MAX_DEPTH) return NULL;
        p->i++;
        expr *arg = parse_bracket(p, '(');
        p->depth--;
        return arg ? node(p, E_APPLY, e, arg) : NULL;
    }
    return e;
}

static expr *parse_primary(parser *p) {
    if (++p->depth > MAX_DEPTH) return NULL;
    char c = peek(p);
    expr *e = NULL;
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p->s[p->i + 1]))) {
        e = parse_number(p);
    } else if (isalpha((unsigned char)c)) {
        e = parse_name(p);
    } else if (c == '(' || c == '[') {
        p->i++;
        e = parse_bracket(p, c);
    } else if (c == '{') {
        p->i++;
        expr *seq = parse_items(p, 1);
        if (seq && eat(p, "}")) {
            if (seq->n == 1)
                e = seq->items[0];
            else
                e = seq, seq->open = '{', seq->close = '}';
        }
    } else if (c == '|') {
        p->i++;
        expr *a = parse_sum(p);
        if (a && eat(p, "|")) {
            e = node(p, E_FUNC, a, NULL);
            e->func = F_ABS;
        }
    } else if (c == '\\') {
        e = parse_command(p);
    }
    p->depth--;
    return e;
}

expr *expr_parse(expr_arena *arena, const char *s) {
    parser p = {.s = s, .i = 0, .arena = arena, .depth = 0};
    if (peek(&p) == 0) return NULL;
    expr *e = parse_list(&p);
    if (!e || peek(&p) != 0 || p.nodes > MAX_NODES) return NULL;
    return e;
}
