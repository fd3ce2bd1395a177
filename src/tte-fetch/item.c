/* item: see item.h. The prompt strings are the original study's, byte for byte (man/tte-fetch.1
 * quotes them); their odd spacing and the "}\n." order are the study's own. */
#include "item.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char MATH_PROMPT[] =
    "\n\n Please reason step by step, and put your final answer within \\boxed{}\n.";
static const char AIME_ANSWER_PROMPT[] =
    "\n\n The answer is an integer between 0 and 999 inclusive. Give all answers as 3 digit numbers. "
    "For example, if the answer is 7 your final answer should be 007. If the answer is 45 your final "
    "answer should be 045. If the answer is 123 your final answer should be 123.";
/* The study's MCQ_FORMAT says "four options" and "A, B, C, or D"; sets with another number of options
 * get the same sentence with their own count and letters. */
static const char *const COUNT_WORDS[] = {"zero", "one",   "two",   "three", "four", "five",
                                          "six",  "seven", "eight", "nine",  "ten"};
static const char PLAIN_PROMPT[] =
    "\n\nPlease reason step by step, and put your final answer within \\boxed{}.";

char item_choice_letter(size_t i) { return (char)('A' + i); }

/* A growing string; the prompts are short, so simplicity wins over cleverness. */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n) {
    TTE_GROW(b->s, b->cap, b->len + n + 1);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}
static void sb_puts(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* "A, B, C, or D": the letter list of the study's MCQ_FORMAT, for any number of options. */
static void add_letter_list(strbuf *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char letter[2] = {item_choice_letter(i), 0};
        if (i > 0) sb_puts(b, n > 2 ? ", " : " ");
        if (i > 0 && i == n - 1) sb_puts(b, "or ");
        sb_puts(b, letter);
    }
}

static void add_options(strbuf *b, json_t *choices) {
    size_t i;
    json_t *c;
    json_array_foreach(choices, i, c) {
        char head[4] = {'\n', item_choice_letter(i), ')', 0};
        sb_puts(b, i == 0 ? head + 1 : head);
        sb_puts(b, " ");
        sb_puts(b, json_string_value(c));
    }
}

static char *build_prompt(const item_fields *f, prompt_style style) {
    strbuf b = {0};
    sb_puts(&b, f->problem);
    if (f->choices) {
        size_t n = json_array_size(f->choices);
        if (style == PROMPT_STUDY) {
            sb_puts(&b, "\n\n");
            sb_puts(&b, "Choose from one of the ");
            sb_puts(&b, n < sizeof COUNT_WORDS / sizeof *COUNT_WORDS ? COUNT_WORDS[n] : "following");
            sb_puts(&b, " options below. Give your answer as a single letter: ");
            add_letter_list(&b, n);
            sb_puts(&b, ". The only answer you can submit is one of ");
            add_letter_list(&b, n);
            sb_puts(&b, ". Do not submit anything else. ");
        }
        sb_puts(&b, "\n\n");
        add_options(&b, f->choices);
        if (style == PROMPT_PLAIN) sb_puts(&b, PLAIN_PROMPT);
        if (style == PROMPT_STUDY && f->math_suffix) sb_puts(&b, MATH_PROMPT);
    } else if (style == PROMPT_STUDY) {
        if (f->aime) {
            sb_puts(&b, "\n");
            sb_puts(&b, AIME_ANSWER_PROMPT);
        }
        sb_puts(&b, MATH_PROMPT);
    } else {
        sb_puts(&b, PLAIN_PROMPT);
    }
    return b.s;
}

json_t *item_new(const item_fields *f, prompt_style style) {
    char *prompt = build_prompt(f, style);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(f->id));
    json_object_set_new(o, "dataset", json_string(f->dataset));
    json_object_set_new(o, "problem", json_string(f->problem));
    json_object_set_new(o, "answer", json_string(f->answer));
    json_object_set_new(o, "answer_type", json_string(f->answer_type));
    json_object_set_new(o, "choices", f->choices ? json_deep_copy(f->choices) : json_null());
    json_object_set_new(o, "prompt", json_string(prompt));
    json_object_set_new(o, "meta", f->meta ? json_deep_copy(f->meta) : json_object());
    free(prompt);
    return o;
}

const char *item_infer_answer_type(const char *s) {
    const char *p = s + (*s == '-' || *s == '+');
    if (*p && strspn(p, "0123456789") == strlen(p)) return "integer";
    char *end;
    strtod(s, &end);
    if (end != s && *end == 0 && !isspace((unsigned char)*s)) return "number";
    return "latex";
}
