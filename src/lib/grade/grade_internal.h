/* grade_internal: what the files of src/lib/grade share and nothing else uses: a growing string,
 * LaTeX normalisation (normalize.c), the math expression parser and evaluator (expr.c, eval.c). */
#ifndef TTE_GRADE_INTERNAL_H
#define TTE_GRADE_INTERNAL_H

#include <stddef.h>

#include "grade.h"

/* A growing NUL-terminated string. Allocation failure aborts: answers are small, and a grader that
 * silently grades wrong on out-of-memory would be worse. */
typedef struct {
    char *s;
    size_t n, cap;
} gbuf;
void gbuf_putn(gbuf *b, const char *s, size_t n);
void gbuf_puts(gbuf *b, const char *s);
void gbuf_putc(gbuf *b, char c);
/* Hands over the string (never NULL) and resets B. */
char *gbuf_take(gbuf *b);

/* Normalises an extracted answer for parsing and comparison (see normalize.c for the rules).
 * Returns a new string. */
char *grade_normalize(const char *answer);
/* The normalised form without spaces that are not needed, the canonical LaTeX string. */
char *grade_squeeze(const char *normalized);
/* Is S, from S to S+N, one of the unit words dropped after numbers ("cm", "miles", "yuan"...)? */
int grade_is_unit_word(const char *s, size_t n);

/* The LaTeX comparison of equal.c (normalise, parse, compare by structure and value) under GRADER's
 * rules. */
int grade_latex_equal(const char *gold, const char *pred, tte_grader grader);
/* Qwen2.5-Math's math_equal on strip_string'd answers (qwen.c). */
int grade_qwen_equal(const char *gold, const char *pred, tte_answer_type type);

/* ---- expressions (expr.c) ---- */

typedef enum {
    E_NUM,    /* num; decimals = digits written after the point (-1: none) */
    E_SYM,    /* a variable: name ("x", "x_1", "\alpha") */
    E_CONST,  /* num: pi, e, infinity */
    E_NEG,    /* -a */
    E_ADD,    /* a + b */
    E_SUB,    /* a - b */
    E_PM,     /* a +- b (a may be NULL for a leading \pm) */
    E_MUL,    /* a * b */
    E_APPLY,  /* a(b): a name applied to a bracket, f(x); evaluated as a product */
    E_DIV,    /* a / b, also the ratio a:b */
    E_POW,    /* a ^ b */
    E_FUNC,   /* func(a); b: the root index of \sqrt[b]{a}, the base of \log_b a */
    E_FACT,   /* a! */
    E_SEQ,    /* items: tuple, interval, set or bare list, told apart by open/close */
    E_MATRIX, /* items: rows x cols, row-major */
    E_REL,    /* items[0] ops[0] items[1] ops[1] ...: a relation or a chain of them */
    E_UNION,  /* items: sets joined by \cup */
    E_TEXT,   /* text: words in \text{} */
    E_SUM,    /* \sum_{name=items[0]}^{items[1]} a: index name, bounds, body */
    E_PROD,   /* \prod, likewise */
} expr_kind;

typedef enum {
    F_SIN,
    F_COS,
    F_TAN,
    F_SEC,
    F_CSC,
    F_COT,
    F_ASIN,
    F_ACOS,
    F_ATAN,
    F_SINH,
    F_COSH,
    F_TANH,
    F_LN,
    F_LOG,
    F_EXP,
    F_SQRT,
    F_ABS,
    F_FLOOR,
    F_CEIL,
    F_BINOM
} expr_func;

typedef enum { R_EQ, R_NE, R_LT, R_LE, R_GT, R_GE, R_APPROX, R_IN } expr_rel;

enum { EXPR_MAX_CHAIN = 8 };

typedef struct expr expr;
struct expr {
    expr_kind kind;
    double num;
    int decimals;
    expr_func func;
    char *name; /* E_SYM, E_TEXT */
    expr *a, *b;
    expr **items;
    int n;
    int rows, cols;
    char open, close; /* E_SEQ: '(' '[' '{' or 0 for a bare list; ')' ']' '}' or 0 */
    int tight_pair;   /* E_SEQ: "12,34" written without spaces: may be a decimal comma */
    double comma_decimal;
    expr_rel ops[EXPR_MAX_CHAIN];
};

/* Every node of one parse, freed together. */
typedef struct expr_arena expr_arena;
expr_arena *expr_arena_new(void);
void expr_arena_free(expr_arena *arena);

/* A new zeroed node of KIND owned by ARENA, and an array of N item pointers owned by ARENA. */
expr *expr_new(expr_arena *arena, expr_kind kind);
expr **expr_items(expr_arena *arena, int n);

/* Parses a normalised answer. Returns the root (owned by ARENA), or NULL when S is not math this
 * parser reads. */
expr *expr_parse(expr_arena *arena, const char *s);

/* ---- evaluation (eval.c) ---- */

/* A value: a scalar is 1x1. NaN marks undefined (a domain error, a shape mismatch). */
enum { VAL_MAX = 36 };
typedef struct {
    int rows, cols;
    double v[VAL_MAX];
} val;

/* Variables of a comparison: names and their values at the current point. */
enum { VARS_MAX = 16 };
typedef struct {
    const char *names[VARS_MAX];
    double values[VARS_MAX];
    int n;
    int overflow; /* more than VARS_MAX names: the expressions cannot be compared by evaluation */
} vars;

void vars_collect(vars *vs, const expr *e);
void eval(const expr *e, const vars *vs, val *out);

#endif
