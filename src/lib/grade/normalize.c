/* normalize: LaTeX and text normalisation of an extracted answer, before parsing and comparing.
 *
 * The rules, in the order applied (each pass reads the previous pass's output):
 *  1. Double-escaped LaTeX ("\\frac" where "\frac" was meant, from JSON escaped twice) is read as
 *     single-escaped, for known command names only: "\\x" in a matrix stays a row break.
 *  2. Digit groups: "14{,}916", "14{, }916" and "11,\! 111" are thousands separators.
 *  3. Commands: \left \right \big... \displaystyle and spacing (\! \, \; \: \quad \qquad "\ ") go;
 *     \dfrac \tfrac \cfrac become \frac; \le \ge \lt \gt \neq become <= >= < > !=; \% \$ \circ
 *     \degree and "^\circ" go (50% is 50, 90 degrees is 90); \boxed and \fbox leave their argument;
 *     \text{} \mbox{} \mathrm{} \textbf{} and kin: "and"/"or" become a list comma, unit words
 *     (cm, miles, yuan, ...) and "percent" go, "(C)" becomes "C", one letter or number stays bare,
 *     other words stay as \text{words}.
 *     The arguments of \frac, \binom and \sqrt get braces: \frac12 is \frac{1}{2}.
 *  4. Characters: '$' and '%' go; Unicode minus, times, degree, <= >= != approx and pi become LaTeX;
 *     the words "and"/"or" become a comma; "percent", "pct", "percentage" and unit words after a
 *     number go.
 *  5. Outside brackets, "7,425,000" and "1 000" (groups of three digits) are one number.
 *  6. Runs of spaces become one; leading and trailing spaces, periods, commas go. */
#include "grade_internal.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void gbuf_putn(gbuf *b, const char *s, size_t n) {
    TTE_GROW(b->s, b->cap, b->n + n + 1);
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
void gbuf_puts(gbuf *b, const char *s) { gbuf_putn(b, s, strlen(s)); }
void gbuf_putc(gbuf *b, char c) { gbuf_putn(b, &c, 1); }
char *gbuf_take(gbuf *b) {
    if (!b->s) gbuf_putn(b, "", 0);
    char *s = b->s;
    b->s = NULL;
    b->n = b->cap = 0;
    return s;
}

static int in_list(const char *word, size_t n, const char *const *list) {
    for (; *list; list++)
        if (strlen(*list) == n && strncmp(*list, word, n) == 0) return 1;
    return 0;
}

static int in_list_nocase(const char *word, size_t n, const char *const *list) {
    for (; *list; list++)
        if (strlen(*list) == n && strncasecmp(*list, word, n) == 0) return 1;
    return 0;
}

/* Units that follow numbers in answers of the benchmarks (MATH, GSM8K, OlympiadBench, Minerva). */
static const char *const unit_words[] = {
    "cm",    "mm",   "km",     "m",       "meter",  "meters",   "metre",   "metres",  "kg",     "g",
    "mg",    "gram", "grams",  "lb",      "lbs",    "pound",    "pounds",  "oz",      "ounce",  "ounces",
    "s",     "sec",  "second", "seconds", "min",    "minute",   "minutes", "hr",      "hrs",    "hour",
    "hours", "day",  "days",   "week",    "weeks",  "month",    "months",  "year",    "years",  "mile",
    "miles", "mph",  "ft",     "feet",    "foot",   "inch",     "inches",  "yard",    "yards",  "unit",
    "units", "sq",   "square", "cubic",   "degree", "degrees",  "dollar",  "dollars", "cent",   "cents",
    "yuan",  "euro", "euros",  "liter",   "liters", "litre",    "litres",  "ml",      "mL",     "L",
    "cm^2",  "m^2",  "cm^3",   "m^3",     "people", "students", "times",   "ways",    "points", "N",
    "J",     "W",    "Hz",     "kHz",     "MHz",    "eV",       "K",       "Pa",      "km/h",   "m/s",
    NULL};

int grade_is_unit_word(const char *s, size_t n) { return in_list(s, n, unit_words); }

static const char *const known_commands[] = {
    "frac", "dfrac",  "tfrac",      "cfrac",  "sqrt",   "left",   "right",    "boxed",      "fbox",
    "text", "textbf", "textnormal", "mathrm", "mathbf", "mbox",   "cdot",     "times",      "div",
    "pi",   "infty",  "in",         "cup",    "cap",    "le",     "leq",      "ge",         "geq",
    "lt",   "gt",     "ne",         "neq",    "pm",     "mp",     "approx",   "circ",       "begin",
    "end",  "sin",    "cos",        "tan",    "sec",    "csc",    "cot",      "log",        "ln",
    "exp",  "quad",   "qquad",      "alpha",  "beta",   "gamma",  "delta",    "theta",      "lambda",
    "mu",   "sigma",  "omega",      "phi",    "binom",  "dbinom", "emptyset", "varnothing", NULL};

/* Pass 1: "\\frac" -> "\frac" for known commands. */
static char *undouble_escapes(const char *s) {
    gbuf b = {0};
    for (size_t i = 0; s[i];) {
        if (s[i] == '\\' && s[i + 1] == '\\' && isalpha((unsigned char)s[i + 2])) {
            size_t n = 0;
            while (isalpha((unsigned char)s[i + 2 + n])) n++;
            if (in_list(s + i + 2, n, known_commands)) {
                gbuf_putc(&b, '\\');
                gbuf_putn(&b, s + i + 2, n);
                i += 2 + n;
                continue;
            }
        }
        if (s[i] == '\\' && s[i + 1] == '\\') { /* a row break: keep both, skip both */
            gbuf_putn(&b, s + i, 2);
            i += 2;
            continue;
        }
        gbuf_putc(&b, s[i++]);
    }
    return gbuf_take(&b);
}

/* Pass 2: digit-group separators written with LaTeX. */
static char *join_latex_groups(const char *s) {
    gbuf b = {0};
    for (size_t i = 0; s[i];) {
        size_t j = i;
        if (s[i] == '{' && s[i + 1] == ',') { /* {,} or {, } */
            j = i + 2;
            while (s[j] == ' ') j++;
            if (s[j] == '}') {
                i = j + 1;
                continue;
            }
        }
        if (s[i] == ',' && s[i + 1] == '\\' && s[i + 2] == '!') { /* ,\! then three digits */
            j = i + 3;
            while (s[j] == ' ') j++;
            if (isdigit((unsigned char)s[j]) && isdigit((unsigned char)s[j + 1]) &&
                isdigit((unsigned char)s[j + 2]) && !isdigit((unsigned char)s[j + 3])) {
                i = j;
                continue;
            }
        }
        gbuf_putc(&b, s[i++]);
    }
    return gbuf_take(&b);
}

/* The argument of a command at S (after optional spaces): "{...}" with balanced braces. Sets
 * *BEGIN and *END around its content and returns the index after it, or 0 when there is none. */
static size_t braced_arg(const char *s, size_t i, size_t *begin, size_t *end) {
    while (s[i] == ' ') i++;
    if (s[i] != '{') return 0;
    int depth = 0;
    for (size_t j = i; s[j]; j++) {
        if (s[j] == '\\' && s[j + 1]) {
            j++;
            continue;
        }
        if (s[j] == '{') depth++;
        if (s[j] == '}' && --depth == 0) {
            *begin = i + 1;
            *end = j;
            return j + 1;
        }
    }
    return 0;
}

static int all_unit_words(const char *s, size_t n) {
    size_t i = 0, words = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\\' || s[i] == ',')) i++;
        size_t j = i;
        while (j < n && s[j] != ' ') j++;
        if (j > i) {
            if (!grade_is_unit_word(s + i, j - i) &&
                !in_list_nocase(s + i, j - i, (const char *const[]){"of", "per", NULL}))
                return 0;
            words++;
        }
        i = j;
    }
    return words > 0;
}

/* The index after a power that follows a dropped unit ("^2", "^{3}", "²"), or I when none does. */
static size_t skip_unit_power(const char *s, size_t i) {
    size_t j = i;
    while (s[j] == ' ') j++;
    if (s[j] == '^' && (s[j + 1] == '2' || s[j + 1] == '3')) return j + 2;
    if (s[j] == '^' && s[j + 1] == '{' && (s[j + 2] == '2' || s[j + 2] == '3') && s[j + 3] == '}')
        return j + 4;
    if ((unsigned char)s[j] == 0xc2 && ((unsigned char)s[j + 1] == 0xb2 || (unsigned char)s[j + 1] == 0xb3))
        return j + 2;
    return i;
}

/* The content of \text{...}: what it means in an answer. Returns 1 when it was a unit (dropped). */
static int put_text(gbuf *b, const char *c, size_t n, int bare_single) {
    while (n && *c == ' ') c++, n--;
    while (n && c[n - 1] == ' ') n--;
    static const char *const conj[] = {"and", "or", ",", NULL};
    static const char *const percent[] = {"percent", "percentage", "pct", "\\%", "%", NULL};
    if (n == 0 || in_list_nocase(c, n, percent)) return 0;
    if (all_unit_words(c, n)) return 1;
    if (in_list_nocase(c, n, conj)) {
        gbuf_puts(b, " , ");
        return 0;
    }
    if (n == 3 && c[0] == '(' && isupper((unsigned char)c[1]) && c[2] == ')') c++, n = 1;
    int simple = 1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)c[i]) && c[i] != '.') simple = 0;
    if (simple && (bare_single || n == 1)) {
        gbuf_putc(b, ' ');
        gbuf_putn(b, c, n);
        gbuf_putc(b, ' ');
        return 0;
    }
    gbuf_puts(b, "\\text{");
    gbuf_putn(b, c, n);
    gbuf_puts(b, "}");
    return 0;
}

/* Pass 3: commands. */
static char *rewrite_commands(const char *s) {
    static const char *const dropped[] = {
        "left", "right",  "big",     "Big",          "bigl",      "bigr",   "Bigl", "Bigr",   "bigg",
        "Bigg", "biggl",  "biggr",   "displaystyle", "textstyle", "limits", "circ", "degree", "boxed",
        "fbox", "mathbb", "mathcal", "hfill",        "nonumber",  "notag",  NULL};
    static const char *const text_like[] = {"text",   "textnormal", "textrm", "mbox",
                                            "textit", "textsf",     "texttt", NULL};
    static const char *const bold_like[] = {"mathrm",     "textbf",       "mathbf", "mathit",
                                            "boldsymbol", "operatorname", NULL};
    static const struct {
        const char *from, *to;
    } renamed[] = {{"dfrac", "\\frac"},
                   {"tfrac", "\\frac"},
                   {"cfrac", "\\frac"},
                   {"dbinom", "\\binom"},
                   {"tbinom", "\\binom"},
                   {"le", "<="},
                   {"leq", "<="},
                   {"leqslant", "<="},
                   {"ge", ">="},
                   {"geq", ">="},
                   {"geqslant", ">="},
                   {"lt", "<"},
                   {"gt", ">"},
                   {"ne", "!="},
                   {"neq", "!="},
                   {"colon", ":"},
                   {"varnothing", "\\emptyset"},
                   {"dots", ""},
                   {"ldots", ""},
                   {"cdots", ""},
                   {"%", ""},
                   {"$", ""},
                   {"!", ""},
                   {",", " "},
                   {";", " "},
                   {":", " "},
                   {" ", " "},
                   {">", " "}};
    gbuf b = {0};
    for (size_t i = 0; s[i];) {
        /* ^\circ and ^{\circ}: a degree sign */
        if (s[i] == '^' && (strncmp(s + i + 1, "\\circ", 5) == 0 || strncmp(s + i + 1, "{\\circ}", 7) == 0)) {
            i += s[i + 1] == '{' ? 8 : 6;
            continue;
        }
        if (s[i] != '\\') {
            gbuf_putc(&b, s[i++]);
            continue;
        }
        size_t n = 0;
        while (isalpha((unsigned char)s[i + 1 + n])) n++;
        if (n == 0) { /* a one-character command: \, \! \% \{ ... or a row break \\ */
            if (!s[i + 1]) break;
            const char *to = NULL;
            for (size_t k = 0; k < sizeof renamed / sizeof *renamed; k++)
                if (renamed[k].from[0] == s[i + 1] && !renamed[k].from[1]) to = renamed[k].to;
            if (to)
                gbuf_puts(&b, to);
            else
                gbuf_putn(&b, s + i, 2);
            i += 2;
            continue;
        }
        const char *name = s + i + 1;
        size_t after = i + 1 + n;
        if (n >= 4 && strncmp(name, "quad", 4) == 0) { /* \quad, and \quadx from squeezed text */
            gbuf_putc(&b, ' ');
            i += 5;
            gbuf_putn(&b, s + i, n - 4);
            i += n - 4;
            continue;
        }
        if (n >= 5 && strncmp(name, "qquad", 5) == 0) {
            gbuf_putc(&b, ' ');
            gbuf_putn(&b, s + i + 6, n - 5);
            i += 1 + n;
            continue;
        }
        if (in_list(name, n, dropped)) {
            i = after;
            if ((n == 4 && strncmp(name, "left", 4) == 0) || (n == 5 && strncmp(name, "right", 5) == 0))
                if (s[i] == '.') i++; /* \left. is an invisible bracket */
            continue;
        }
        int text = in_list(name, n, text_like), bold = in_list(name, n, bold_like);
        if (text || bold) {
            size_t begin, end, next = braced_arg(s, after, &begin, &end);
            if (next) {
                i = put_text(&b, s + begin, end - begin, bold) ? skip_unit_power(s, next) : next;
                continue;
            }
            i = after;
            continue;
        }
        const char *to = NULL;
        for (size_t k = 0; k < sizeof renamed / sizeof *renamed; k++)
            if (strlen(renamed[k].from) == n && strncmp(renamed[k].from, name, n) == 0) to = renamed[k].to;
        if (to) {
            gbuf_putc(&b, ' ');
            gbuf_puts(&b, to);
            gbuf_putc(&b, ' ');
            i = after;
            continue;
        }
        gbuf_putn(&b, s + i, after - i);
        i = after;
    }
    return gbuf_take(&b);
}

/* One LaTeX argument at S[I] copied into B with braces: "{..}" as it is, one character or one
 * command name wrapped ("3" -> "{3}", "\pi" -> "{\pi}"). Returns the index after it. */
static size_t put_braced_arg(gbuf *b, const char *s, size_t i) {
    while (s[i] == ' ') i++;
    size_t begin, end, next = braced_arg(s, i, &begin, &end);
    if (next) {
        gbuf_putn(b, s + i, next - i);
        return next;
    }
    if (!s[i] || s[i] == '}') return i;
    size_t n = 1;
    if (s[i] == '\\')
        while (isalpha((unsigned char)s[i + n])) n++;
    gbuf_putc(b, '{');
    gbuf_putn(b, s + i, n);
    gbuf_putc(b, '}');
    return i + n;
}

/* Pass 3b: the arguments of \frac, \binom and \sqrt in braces (\frac12 -> \frac{1}{2}), so one
 * value has one spelling. */
static char *brace_arguments(const char *s) {
    gbuf b = {0};
    for (size_t i = 0; s[i];) {
        int args = 0;
        size_t n = 0;
        if (strncmp(s + i, "\\frac", 5) == 0 || strncmp(s + i, "\\binom", 6) == 0) {
            n = s[i + 1] == 'f' ? 5 : 6;
            args = 2;
        } else if (strncmp(s + i, "\\sqrt", 5) == 0) {
            n = 5;
            args = 1;
        }
        if (!args || isalpha((unsigned char)s[i + n])) {
            gbuf_putc(&b, s[i++]);
            continue;
        }
        gbuf_putn(&b, s + i, n);
        i += n;
        if (args == 1 && s[i] == '[') { /* \sqrt[3]{x} */
            while (s[i] && s[i] != ']') gbuf_putc(&b, s[i++]);
            if (s[i]) gbuf_putc(&b, s[i++]);
        }
        for (int k = 0; k < args; k++) i = put_braced_arg(&b, s, i);
    }
    return gbuf_take(&b);
}

static int is_word_char(char c) { return isalpha((unsigned char)c); }

/* Pass 4: characters and words. */
static char *rewrite_words(const char *s) {
    static const struct {
        const char *from, *to;
    } utf8[] = {{"\xe2\x88\x92", "-"},         {"\xc3\x97", "\\times "}, {"\xc2\xb0", ""},
                {"\xe2\x89\xa4", "<="},        {"\xe2\x89\xa5", ">="},   {"\xe2\x89\xa0", "!="},
                {"\xe2\x89\x88", "\\approx "}, {"\xcf\x80", "\\pi "},    {"\xe2\x88\x9e", "\\infty "},
                {"\xc3\xb7", "\\div "},        {"\xc2\xb7", "\\cdot "}};
    static const char *const percent[] = {"percent", "percentage", "pct", NULL};
    gbuf b = {0};
    for (size_t i = 0; s[i];) {
        if (s[i] == '$' || s[i] == '%') {
            i++;
            continue;
        }
        if ((unsigned char)s[i] >= 0x80) {
            size_t k;
            for (k = 0; k < sizeof utf8 / sizeof *utf8; k++)
                if (strncmp(s + i, utf8[k].from, strlen(utf8[k].from)) == 0) break;
            if (k < sizeof utf8 / sizeof *utf8) {
                gbuf_puts(&b, utf8[k].to);
                i += strlen(utf8[k].from);
                continue;
            }
        }
        if (s[i] == '\\') { /* a command name is not a word */
            size_t j = i + 1;
            while (is_word_char(s[j])) j++;
            if (j == i + 1 && s[j]) j++;
            gbuf_putn(&b, s + i, j - i);
            i = j;
            continue;
        }
        if (is_word_char(s[i]) && (i == 0 || !is_word_char(s[i - 1]))) {
            size_t j = i;
            while (is_word_char(s[j])) j++;
            size_t n = j - i;
            /* "and" / "or": glued words count too ("(11,7)or(7,11)") unless a lowercase letter
             * continues them */
            static const char *const conj[] = {"and", "or", NULL};
            for (size_t m = 2; m <= 3 && m <= n; m++)
                if (in_list(s + i, m, conj) && !islower((unsigned char)s[i + m])) {
                    gbuf_puts(&b, " , ");
                    i += m;
                    goto next;
                }
            if (in_list_nocase(s + i, n, percent)) {
                i = j;
                continue;
            }
            /* a unit after a number: "35 cm" */
            size_t k = b.n;
            while (k > 0 && b.s[k - 1] == ' ') k--;
            if (k > 0 && isdigit((unsigned char)b.s[k - 1]) && grade_is_unit_word(s + i, n) &&
                !(n == 1 && (isalnum((unsigned char)s[j]) || s[j] == '(' || s[j] == '^' || s[j] == '_'))) {
                i = skip_unit_power(s, j);
                continue;
            }
            gbuf_putn(&b, s + i, n);
            i = j;
            continue;
        }
        gbuf_putc(&b, s[i++]);
    next:;
    }
    return gbuf_take(&b);
}

static int digits_at(const char *s, size_t i) {
    int n = 0;
    while (isdigit((unsigned char)s[i + n])) n++;
    return n;
}

/* Pass 5: "7,425,000" and "1 000" outside brackets are one number. */
static char *join_thousands(const char *s) {
    gbuf b = {0};
    int depth = 0;
    for (size_t i = 0; s[i];) {
        char c = s[i];
        if (c == '(' || c == '[' || c == '{') depth++;
        if ((c == ')' || c == ']' || c == '}') && depth > 0) depth--;
        /* Each run of digits is looked at once, from its first digit: linear in the text, however
         * long a number it holds. */
        if (!isdigit((unsigned char)c) || (i > 0 && isdigit((unsigned char)s[i - 1]))) {
            gbuf_putc(&b, s[i++]);
            continue;
        }
        int lead = digits_at(s, i);
        /* a leading group "0" is no thousands group: "0,111" has a decimal comma */
        if (depth == 0 && lead <= 3 && !(lead == 1 && c == '0') && (i == 0 || s[i - 1] != '.')) {
            char sep = s[i + lead];
            if ((sep == ',' || sep == ' ') && digits_at(s, i + lead + 1) == 3) {
                size_t j = i + lead;
                while (s[j] == sep && digits_at(s, j + 1) == 3) j += 4;
                if (s[j] != sep || !isdigit((unsigned char)s[j + 1])) { /* every group was three digits */
                    for (size_t k = i; k < j; k++)
                        if (s[k] != sep) gbuf_putc(&b, s[k]);
                    i = j;
                    continue;
                }
            }
        }
        for (int k = 0; k < lead; k++) gbuf_putc(&b, s[i++]);
    }
    return gbuf_take(&b);
}

/* Pass 6: spaces, and punctuation at the ends. */
static char *trim_spaces(const char *s) {
    gbuf b = {0};
    for (size_t i = 0; s[i]; i++) {
        char c = isspace((unsigned char)s[i]) || s[i] == '~' ? ' ' : s[i];
        if (c == ' ' && (b.n == 0 || b.s[b.n - 1] == ' ')) continue;
        gbuf_putc(&b, c);
    }
    char *t = gbuf_take(&b);
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '.' || t[n - 1] == ',' || t[n - 1] == ';')) {
        if (t[n - 1] == '.' && n >= 2 && t[n - 2] == '\\') break;
        /* "1, 2, 3, ...": an ellipsis written with dots is part of the answer, not its full stop
         * (Math-Verify leaves it, and the list no longer equals 1, 2, 3); \ldots is gone already */
        if (t[n - 1] == '.' && n >= 3 && t[n - 2] == '.' && t[n - 3] == '.') break;
        t[--n] = 0;
    }
    size_t lead = 0;
    while (t[lead] == ' ' || t[lead] == ',' || t[lead] == ';') lead++;
    memmove(t, t + lead, n - lead + 1);
    return t;
}

char *grade_normalize(const char *answer) {
    char *(*const passes[])(const char *) = {undouble_escapes, join_latex_groups, rewrite_commands,
                                             brace_arguments,  rewrite_words,     trim_spaces,
                                             join_thousands,   trim_spaces};
    char *s = tte_xstrdup(answer ? answer : "");
    for (size_t k = 0; k < sizeof passes / sizeof *passes; k++) {
        char *t = passes[k](s);
        free(s);
        s = t;
    }
    return s;
}

char *grade_squeeze(const char *s) {
    gbuf b = {0};
    int in_text = 0; /* inside \text{...}, where spaces separate words */
    for (size_t i = 0; s[i]; i++) {
        if (strncmp(s + i, "\\text{", 6) == 0) in_text = 1;
        if (in_text && s[i] == '}') in_text = 0;
        if (s[i] != ' ' || in_text) {
            gbuf_putc(&b, s[i]);
            continue;
        }
        /* keep a space only where dropping it would join a command name to a letter */
        size_t k = b.n;
        while (k > 0 && isalpha((unsigned char)b.s[k - 1])) k--;
        int after_command = k < b.n && k > 0 && b.s[k - 1] == '\\';
        if (after_command && isalpha((unsigned char)s[i + 1])) gbuf_putc(&b, ' ');
    }
    return gbuf_take(&b);
}
