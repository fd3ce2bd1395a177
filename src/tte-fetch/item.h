/* item: building item records (man/tte.7) and the study's prompts for them. */
#ifndef TTE_FETCH_ITEM_H
#define TTE_FETCH_ITEM_H

#include <jansson.h>

typedef enum { PROMPT_STUDY, PROMPT_PLAIN } prompt_style;

/* What a dataset adapter or a user file yields for one item, before the prompt is added. */
typedef struct {
    const char *id;
    const char *dataset;
    const char *problem;
    const char *answer;      /* as a string: "204", "\\frac{14}{3}", "C" */
    const char *answer_type; /* "integer", "number", "latex" or "choice" */
    json_t *choices;         /* borrowed array of strings, or NULL */
    json_t *meta;            /* borrowed object of source fields worth keeping, or NULL */
    int aime;                /* add the study's three-digit AIME instruction */
    int math_suffix;         /* multiple choice, study style: the maths instruction after the options
                                (the study's GPQA prompt: it appended it to every dataset's text) */
} item_fields;

/* A new item record with the prompt in STYLE; fields are copied. */
json_t *item_new(const item_fields *f, prompt_style style);

/* "integer" when S is an optionally signed run of digits, "number" when it parses as a number,
 * else "latex": how answers of user files are typed when --answer-type is not given. */
const char *item_infer_answer_type(const char *s);

/* Letter of choice index I: A, B, … */
char item_choice_letter(size_t i);

#endif
