/* extract: finding the answer in what a model wrote (see grade.h for the order of preference). */
#include "grade.h"
#include "grade_internal.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *tte_extracted_name(tte_extracted how) {
    static const char *const names[] = {"none", "final", "boxed", "pred", "fallback"};
    return (unsigned)how < sizeof names / sizeof *names ? names[how] : "none";
}

static char *dup_trimmed(const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0) return NULL;
    char *t = tte_xmalloc(n + 1);
    memcpy(t, s, n);
    t[n] = 0;
    return t;
}

/* The index of the '}' that closes the group whose content starts at S[I], or of the end of S when
 * it never closes. Escaped braces (\{ \}) are not grouping. */
static size_t group_end(const char *s, size_t i) {
    int depth = 0;
    for (; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1]) {
            i++;
            continue;
        }
        if (s[i] == '{') depth++;
        if (s[i] == '}' && depth-- == 0) return i;
    }
    return i;
}

char *tte_extract_final(const char *final) {
    if (!final) return NULL;
    return dup_trimmed(final, group_end(final, 0));
}

/* A piece of the text: [begin, end) is the answer inside, [outer_begin, outer_end) with its
 * delimiters. */
typedef struct {
    size_t begin, end, outer_begin, outer_end;
} span;

typedef struct {
    span *v;
    size_t n, cap;
} spans;

static void spans_push(spans *s, span x) {
    TTE_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = x;
}

/* Every \boxed{...} and \fbox{...}, and "\boxed 5". */
static void find_boxes(const char *t, spans *out) {
    for (size_t i = 0; t[i]; i++) {
        if (t[i] != '\\') continue;
        size_t name = strncmp(t + i + 1, "boxed", 5) == 0 ? 5 : strncmp(t + i + 1, "fbox", 4) == 0 ? 4 : 0;
        if (!name || isalpha((unsigned char)t[i + 1 + name])) continue;
        size_t j = i + 1 + name;
        while (t[j] == ' ') j++;
        span s = {.outer_begin = i};
        if (t[j] == '{') {
            s.begin = j + 1;
            s.end = group_end(t, j + 1);
            s.outer_end = t[s.end] ? s.end + 1 : s.end;
        } else if (j > i + 1 + name) { /* "\boxed 5": one token */
            s.begin = j;
            s.end = j;
            while (t[s.end] && !isspace((unsigned char)t[s.end]) && t[s.end] != '$') s.end++;
            s.outer_end = s.end;
        } else {
            continue;
        }
        if (s.end > s.begin) spans_push(out, s);
        i = s.outer_end ? s.outer_end - 1 : i;
    }
}

/* Math segments: $$..$$, $..$ (on one line), \(..\), \[..\]. An unclosed one ends the scan. A
 * $..$ pair across lines is not a segment, but its inside goes to MASKED: numbers there are not
 * read either. */
static void find_math(const char *t, spans *out, spans *masked) {
    for (size_t i = 0; t[i]; i++) {
        const char *close = NULL;
        size_t open_len = 0;
        if (t[i] == '\\' && (t[i + 1] == '(' || t[i + 1] == '[')) {
            close = t[i + 1] == '(' ? "\\)" : "\\]";
            open_len = 2;
        } else if (t[i] == '\\' && t[i + 1]) {
            i++; /* \$ is a dollar sign, \\ a row break */
            continue;
        } else if (t[i] == '$') {
            close = t[i + 1] == '$' ? "$$" : "$";
            open_len = strlen(close);
        } else {
            continue;
        }
        const char *end = strstr(t + i + open_len, close);
        while (end && close[0] == '$' && end[-1] == '\\') /* \$ inside math is a dollar sign */
            end = strstr(end + 1, close);
        if (!end) return;
        size_t e = (size_t)(end - t);
        int inline_math = open_len == 1 || close[1] == ')';
        if (inline_math && memchr(t + i + 1, '\n', e - i - 1)) { /* $ and \( do not span lines */
            spans_push(masked, (span){.begin = i, .end = e + 1, .outer_begin = i, .outer_end = e + 1});
            i = e;
            continue;
        }
        span s = {.begin = i + open_len, .end = e, .outer_begin = i, .outer_end = e + strlen(close)};
        int blank = 1;
        for (size_t k = s.begin; k < s.end; k++)
            if (!isspace((unsigned char)t[k])) blank = 0;
        if (!blank) spans_push(out, s);
        i = s.outer_end - 1;
    }
}

static int is_word_at(const char *s, size_t i, size_t n, const char *word) {
    size_t w = strlen(word);
    if (i + w > n || strncasecmp(s + i, word, w) != 0) return 0;
    if (i > 0 && isalpha((unsigned char)s[i - 1])) return 0;
    return !isalpha((unsigned char)s[i + w]) || i + w == n;
}

/* Does the text between two answers only separate them: spacing, commas, delimiters, or a short
 * phrase with "and"/"or" ("\quad \text{and} \quad", " papers and ")? */
static int joins_answers(const char *s, size_t n) {
    size_t letters = 0, other = 0;
    int conj = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_word_at(s, i, n, "and") || is_word_at(s, i, n, "or")) conj = 1;
        if (s[i] == '\\') { /* a command or a delimiter: not content */
            i++;
            while (i < n && isalpha((unsigned char)s[i])) i++;
            i--;
            continue;
        }
        if (isalpha((unsigned char)s[i]))
            letters++;
        else if (!isspace((unsigned char)s[i]) && !strchr(",;$.{}", s[i]))
            other++;
    }
    if (letters == 0 && other == 0) return 1;
    return conj && n <= 40;
}

/* The contents of the last span and of the spans right before it that joins_answers links to it,
 * as one comma-separated list. */
static char *join_last_run(const char *t, const spans *s) {
    size_t first = s->n - 1;
    while (first > 0 &&
           joins_answers(t + s->v[first - 1].outer_end, s->v[first].outer_begin - s->v[first - 1].outer_end))
        first--;
    gbuf b = {0};
    for (size_t k = first; k < s->n; k++) {
        if (k > first) gbuf_puts(&b, " , ");
        gbuf_putn(&b, t + s->v[k].begin, s->v[k].end - s->v[k].begin);
    }
    char *joined = gbuf_take(&b);
    char *r = dup_trimmed(joined, strlen(joined));
    free(joined);
    return r;
}

static int inside(const spans *s, size_t i) {
    for (size_t k = 0; k < s->n; k++)
        if (i >= s->v[k].outer_begin && i < s->v[k].outer_end) return 1;
    return 0;
}

/* The last number of T[from, to) outside math segments (and MASKED): -1,234.5, 2/3, 45%. A number
 * glued to letters ("AZYUK2A", "x2") is not one. Returns 1 and its span, or 0. */
static int last_number(const char *t, size_t from, size_t to, const spans *math, const spans *masked,
                       span *out) {
    int found = 0;
    for (size_t i = from; i < to;) {
        if (!isdigit((unsigned char)t[i]) || inside(math, i) || (masked && inside(masked, i)) ||
            (i > from && (isalpha((unsigned char)t[i - 1]) || t[i - 1] == '_'))) {
            i++;
            continue;
        }
        size_t b = i, e = i;
        if (b > from && t[b - 1] == '.') b--; /* .4 */
        if (b > from && t[b - 1] == '-') b--;
        while (e < to && (isdigit((unsigned char)t[e]) || ((t[e] == ',' || t[e] == '.' || t[e] == '/') &&
                                                           e + 1 < to && isdigit((unsigned char)t[e + 1]))))
            e++;
        if (e < to && t[e] == '%') e++;
        size_t w = e; /* a unit glued to the number ("1,000.99m²", "5cm") keeps it a number */
        while (w < to && isalpha((unsigned char)t[w])) w++;
        int unit = w > e && grade_is_unit_word(t + e, w - e) &&
                   !(w < to && (isdigit((unsigned char)t[w]) || t[w] == '_'));
        if (unit || !(e < to && (isalpha((unsigned char)t[e]) || t[e] == '_'))) {
            out->begin = out->outer_begin = b;
            out->end = out->outer_end = e;
            found = 1;
        }
        i = e;
    }
    return found;
}

/* Words of three or more letters outside commands: prose, not math. */
static int has_prose(const char *s) {
    static const char *const math_words[] = {"sin",  "cos",  "tan",  "sec",    "csc",    "cot",
                                             "log",  "exp",  "sqrt", "arcsin", "arccos", "arctan",
                                             "sinh", "cosh", "tanh", NULL};
    for (size_t i = 0; s[i];) {
        if (s[i] == '\\') {
            i++;
            while (isalpha((unsigned char)s[i])) i++;
            continue;
        }
        size_t n = 0;
        while (isalpha((unsigned char)s[i + n])) n++;
        if (n >= 3) {
            int known = 0;
            for (const char *const *w = math_words; *w; w++)
                if (strlen(*w) == n && strncmp(*w, s + i, n) == 0) known = 1;
            if (!known) return 1;
        }
        i += n ? n : 1;
    }
    return 0;
}

/* Does S read as math on its own (no prose, and the parser takes it)? */
static int reads_as_math(const char *s, size_t n) {
    char *t = dup_trimmed(s, n);
    if (!t) return 0;
    char *norm = grade_normalize(t);
    expr_arena *arena = expr_arena_new();
    int ok = !has_prose(norm) && expr_parse(arena, norm) != NULL;
    expr_arena_free(arena);
    free(norm);
    free(t);
    return ok;
}

/* Plain text (no LaTeX) of expression characters in which two numbers stand side by side across a
 * line break, "11\n5/6". Math-Verify reads such text as one Python expression with the line breaks
 * as spaces, which does not parse (operands side by side are no product there, and a mixed number
 * is one only on one line), and then takes the last number in it that starts it or follows
 * whitespace, as a number: digits and a decimal part, no '/'. Returns that number, or NULL when T
 * is not such text. */
static char *unparsed_expression_number(const char *t, size_t n) {
    int across = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)t[i]) && !isspace((unsigned char)t[i]) && !strchr(".+-*/^()", t[i]))
            return NULL;
        if (isdigit((unsigned char)t[i])) {
            size_t j = i + 1, line = 0;
            while (j < n && isspace((unsigned char)t[j])) line |= t[j++] == '\n';
            if (line && j < n && isdigit((unsigned char)t[j])) across = 1;
        }
    }
    if (!across) return NULL;
    size_t best = n, best_end = n;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)t[i])) continue;
        size_t b = i, e = i;
        if (i > 0 && t[i - 1] == '-' && (i == 1 || isspace((unsigned char)t[i - 2])))
            b = i - 1; /* "-5" after whitespace */
        else if (i > 0 && !isspace((unsigned char)t[i - 1]))
            continue;
        while (e < n && isdigit((unsigned char)t[e])) e++;
        if (e + 1 < n && (t[e] == '.' || t[e] == ',') && isdigit((unsigned char)t[e + 1]))
            for (e++; e < n && isdigit((unsigned char)t[e]);) e++;
        best = b, best_end = e;
        i = e;
    }
    return best < n ? dup_trimmed(t + best, best_end - best) : NULL;
}

/* The end of the sentence that starts at I: ". " or "." at the end, a line break, or "<|". Math
 * segments do not end sentences. */
static size_t sentence_end(const char *t, size_t i, const spans *math) {
    for (; t[i]; i++) {
        if (inside(math, i)) continue;
        if (t[i] == '\n' || (t[i] == '<' && t[i + 1] == '|')) return i;
        if (t[i] == '.' && (t[i + 1] == 0 || isspace((unsigned char)t[i + 1]))) return i;
    }
    return i;
}

/* The answer after a phrase ("final answer", "answer is") that ends at I. */
static char *after_phrase(const char *t, size_t i, const spans *math) {
    while (t[i] == ' ' || t[i] == ':') i++;
    size_t end = sentence_end(t, i, math);
    for (size_t k = i; k < end; k++) /* "The volume of $V$ is 120": what follows "is" */
        if (!inside(math, k) && is_word_at(t, k, end, "is")) {
            i = k + 2;
            break;
        }
    while (t[i] == ' ' || t[i] == ':') i++;
    for (size_t k = 0; k < math->n; k++)
        if (math->v[k].outer_begin == i)
            return dup_trimmed(t + math->v[k].begin, math->v[k].end - math->v[k].begin);
    if (end > i && reads_as_math(t + i, end - i)) return dup_trimmed(t + i, end - i);
    span num;
    if (last_number(t, i, end, math, NULL, &num)) return dup_trimmed(t + num.begin, num.end - num.begin);
    for (size_t k = math->n; k-- > 0;)
        if (math->v[k].outer_begin >= i && math->v[k].outer_end <= end)
            return dup_trimmed(t + math->v[k].begin, math->v[k].end - math->v[k].begin);
    return NULL;
}

/* The index just after the last case-insensitive occurrence of PHRASE, or 0. */
static size_t after_last(const char *t, const char *phrase) {
    size_t n = strlen(phrase), found = 0;
    for (size_t i = 0; t[i]; i++)
        if (strncasecmp(t + i, phrase, n) == 0) found = i + n;
    return found;
}

char *tte_extract_text(const char *text, tte_extracted *how) {
    tte_extracted dummy;
    if (!how) how = &dummy;
    *how = TTE_EXTRACTED_NONE;
    if (!text) return NULL;
    spans boxes = {0}, math = {0}, masked = {0};
    char *answer = NULL;
    find_boxes(text, &boxes);
    if (boxes.n) {
        answer = join_last_run(text, &boxes);
        if (answer) *how = TTE_EXTRACTED_BOXED;
        goto done;
    }
    find_math(text, &math, &masked);
    *how = TTE_EXTRACTED_FALLBACK;
    size_t at = after_last(text, "final answer");
    if (at && (answer = after_phrase(text, at, &math))) goto done;
    size_t len = strlen(text);
    if (math.n == 0 && len <= 200 && reads_as_math(text, len)) {
        answer = unparsed_expression_number(text, len);
        if (!answer) answer = dup_trimmed(text, len);
        goto done;
    }
    at = after_last(text, "answer is");
    if (!at) at = after_last(text, "answer:");
    if (at && (answer = after_phrase(text, at, &math))) goto done;
    span num;
    int has_num = last_number(text, 0, len, &math, &masked, &num);
    if (math.n && (!has_num || math.v[math.n - 1].outer_end > num.end)) {
        answer = join_last_run(text, &math);
    } else if (has_num) {
        answer = dup_trimmed(text + num.begin, num.end - num.begin);
    }
done:
    if (!answer) *how = TTE_EXTRACTED_NONE;
    free(boxes.v);
    free(math.v);
    free(masked.v);
    return answer;
}
