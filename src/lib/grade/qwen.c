/* qwen: the grader selection, and Qwen2.5-Math's extraction and equivalence where they differ from
 * Math-Verify's (learnt from QwenLM/Qwen2.5-Math evaluation/parser.py and grader.py; see grade.h).
 *
 * Qwen2.5-Math reads an answer in three steps, each of which this file follows:
 *  - extract_answer: the text after the last "boxed" (balanced braces), else after the last
 *    "he answer is" or "final answer is", else the last number of the text with commas dropped;
 *  - strip_string: "x=", "y=", "z=", "x\in"... go, a short name before a single "=" goes, spaces go
 *    (so digit groups join: "12 345" is 12345), commas in a plain number go (parse_digits);
 *  - math_equal: equal lowercase strings; a choice letter A-E found as a word in the prediction;
 *    two plain numbers equal within relative tolerance 1e-4, also at 100 times or a hundredth of
 *    the gold; then lists, equations and expressions (equal.c under TTE_GRADER_QWEN). */
#include "grade.h"
#include "grade_internal.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int tte_grader_parse(const char *name) {
    if (!name) return -1;
    if (strcmp(name, "math-verify") == 0) return TTE_GRADER_MATH_VERIFY;
    if (strcmp(name, "qwen") == 0) return TTE_GRADER_QWEN;
    return -1;
}

const char *tte_grader_name(tte_grader grader) { return grader == TTE_GRADER_QWEN ? "qwen" : "math-verify"; }

static const char *last_occurrence(const char *s, const char *needle) {
    const char *found = NULL;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) found = p;
    return found;
}

/* Newlines with the spaces after them go; a leading ':' and a trailing '.' or '/' go. */
static char *tidy(const char *s, size_t n) {
    gbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            while (i + 1 < n && isspace((unsigned char)s[i + 1])) i++;
            continue;
        }
        gbuf_putc(&b, s[i]);
    }
    char *t = gbuf_take(&b);
    size_t len = strlen(t), start = 0;
    while (len > start && isspace((unsigned char)t[len - 1])) len--;
    while (start < len && isspace((unsigned char)t[start])) start++;
    if (start < len && t[start] == ':') start++;
    if (len > start && (t[len - 1] == '.' || t[len - 1] == '/')) len--;
    memmove(t, t + start, len - start);
    t[len - start] = 0;
    return t;
}

/* The last number of S (commas dropped first), as Qwen2.5-Math's pattern -?\d*\.?\d+ finds it. */
static char *last_number(const char *s) {
    gbuf b = {0};
    for (const char *p = s; *p; p++)
        if (*p != ',') gbuf_putc(&b, *p);
    char *t = gbuf_take(&b);
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; t[i];) {
        size_t j = i;
        if (t[j] == '-') j++;
        size_t d = j;
        while (isdigit((unsigned char)t[d])) d++;
        size_t e = d;
        if (t[e] == '.' && isdigit((unsigned char)t[e + 1])) {
            e++;
            while (isdigit((unsigned char)t[e])) e++;
        }
        if (e > j && isdigit((unsigned char)t[e - 1])) {
            best = t + i;
            best_n = e - i;
            i = e;
        } else {
            i++;
        }
    }
    char *r = best ? tidy(best, best_n) : NULL;
    free(t);
    return r;
}

static char *qwen_extract(const char *text, tte_extracted *how) {
    const char *at;
    *how = TTE_EXTRACTED_FALLBACK;
    if ((at = strstr(text, "final answer is $")) && strstr(at, "$. I hope")) { /* Minerva's format */
        at += strlen("final answer is $");
        return tidy(at, (size_t)(strstr(at, "$. I hope") - at));
    }
    if ((at = last_occurrence(text, "boxed"))) {
        *how = TTE_EXTRACTED_BOXED;
        at += 5;
        if (*at == '{') {
            int depth = 1;
            const char *e = at + 1;
            for (; *e; e++) {
                if (*e == '{') depth++;
                if (*e == '}' && --depth == 0) break;
            }
            return tidy(at + 1, (size_t)(e - at - 1));
        }
        const char *e = strchr(at, '$');
        return tidy(at, e ? (size_t)(e - at) : strlen(at));
    }
    if ((at = last_occurrence(text, "he answer is"))) return tidy(at + 12, strlen(at + 12));
    if ((at = last_occurrence(text, "final answer is"))) return tidy(at + 15, strlen(at + 15));
    return last_number(text);
}

char *tte_extract_text_as(const char *text, tte_extracted *how, tte_grader grader) {
    tte_extracted dummy;
    if (!how) how = &dummy;
    if (grader != TTE_GRADER_QWEN) return tte_extract_text(text, how);
    *how = TTE_EXTRACTED_NONE;
    if (!text) return NULL;
    char *a = qwen_extract(text, how);
    if (a && !*a) {
        free(a);
        a = NULL;
    }
    if (!a) *how = TTE_EXTRACTED_NONE;
    return a;
}

/* Is GOLD a whole solution rather than an answer? */
static int is_solution_text(const char *gold) {
    if (strstr(gold, "\\boxed") || strstr(gold, "\\fbox")) return 1;
    return strcasestr(gold, "final answer") || strcasestr(gold, "answer is");
}

char *tte_extract_gold(const char *gold, tte_grader grader) {
    if (!gold) return tte_xstrdup("");
    if (is_solution_text(gold)) {
        char *a = tte_extract_text_as(gold, NULL, grader);
        if (a) return a;
    }
    return tte_xstrdup(gold);
}

/* strip_string's rules that the shared normalisation does not already apply (see the top). */
static char *qwen_strip(const char *s) {
    gbuf b = {0};
    static const char *const dropped[] = {"x=", "y=", "z=", "x\\in", "y\\in", "z\\in", NULL};
    for (size_t i = 0; s[i];) {
        size_t k;
        for (k = 0; dropped[k]; k++)
            if (strncmp(s + i, dropped[k], strlen(dropped[k])) == 0) break;
        if (dropped[k]) {
            i += strlen(dropped[k]);
            continue;
        }
        /* spaces go: between digits that joins them */
        if (s[i] == ' ' && b.n && isdigit((unsigned char)b.s[b.n - 1])) {
            size_t j = i;
            while (s[j] == ' ') j++;
            if (isdigit((unsigned char)s[j])) {
                i = j;
                continue;
            }
        }
        gbuf_putc(&b, s[i++]);
    }
    char *t = gbuf_take(&b);
    /* "k = 5": a name of at most two characters before the only "=" */
    char *eq = strchr(t, '=');
    if (eq && !strchr(eq + 1, '=') && eq - t <= 2 && eq > t) memmove(t, eq + 1, strlen(eq + 1) + 1);
    /* parse_digits: a number written with commas is read without them */
    size_t n = strlen(t), digits = 0, commas = 0, other = 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)t[i]))
            digits++;
        else if (t[i] == ',')
            commas++;
        else if (!strchr(" .-+%\\$", t[i]))
            other++;
    }
    if (digits && commas && !other) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i] != ',') t[w++] = t[i];
        t[w] = 0;
    }
    return t;
}

/* choice_answer_clean: the last of the letters A-E that stand as words in PRED, uppercased. */
static int qwen_choice(const char *pred) {
    int letter = 0;
    for (size_t i = 0; pred[i]; i++) {
        int c = toupper((unsigned char)pred[i]);
        if (c < 'A' || c > 'E') continue;
        if (i > 0 && (isalnum((unsigned char)pred[i - 1]) || pred[i - 1] == '_')) continue;
        if (isalnum((unsigned char)pred[i + 1]) || pred[i + 1] == '_') continue;
        letter = c;
    }
    return letter;
}

static int same_lowercase(const char *x, const char *y) {
    while (isspace((unsigned char)*x)) x++;
    while (isspace((unsigned char)*y)) y++;
    size_t nx = strlen(x), ny = strlen(y);
    while (nx && isspace((unsigned char)x[nx - 1])) nx--;
    while (ny && isspace((unsigned char)y[ny - 1])) ny--;
    return nx == ny && strncasecmp(x, y, nx) == 0;
}

int grade_qwen_equal(const char *gold, const char *pred, tte_answer_type type) {
    char *g = qwen_strip(gold), *p = qwen_strip(pred);
    int equal = *g && same_lowercase(g, p);
    if (!equal && strlen(g) == 1 && *g >= 'A' && *g <= 'E') equal = qwen_choice(p) == *g;
    if (!equal && !(type == TTE_ANSWER_CHOICE && strlen(g) == 1))
        equal = grade_latex_equal(g, p, TTE_GRADER_QWEN);
    free(g);
    free(p);
    return equal;
}
