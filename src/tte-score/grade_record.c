/* grade_record: grading one record in place, shared by --grade-only and the model mode. */
#include "grade_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grade/grade.h"
#include "xalloc.h"

static tte_grader the_grader = TTE_GRADER_MATH_VERIFY;

void grade_record_set_grader(tte_grader grader) { the_grader = grader; }

/* The gold answer as a string: a JSON string, or a number as some harnesses write it. Returns a
 * new string, or NULL after tte_jsonl_fail. */
char *gold_answer(tte_jsonl *in, json_t *rec) {
    json_t *v = json_object_get(rec, "answer");
    char buf[40];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
        return strdup(buf);
    }
    const char *s;
    if (tte_jsonl_get_string(in, rec, "answer", &s) != 0) return NULL;
    return strdup(s);
}

/* The optional string field FIELD: NULL when absent or null; -1 after tte_jsonl_fail when it is
 * something else. */
int optional_string(tte_jsonl *in, json_t *rec, const char *field, const char **out) {
    json_t *v = json_object_get(rec, field);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return tte_jsonl_fail(in, "field \"%s\": must be a string", field);
    *out = json_string_value(v);
    return 0;
}

/* The "choices" texts, borrowed from REC; *N = 0 when there are none. */
static int read_choices(tte_jsonl *in, json_t *rec, const char ***out, int *n) {
    json_t *v = json_object_get(rec, "choices");
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v)) return tte_jsonl_fail(in, "field \"choices\": must be an array of strings");
    size_t count = json_array_size(v);
    const char **texts = calloc(count ? count : 1, sizeof *texts);
    if (!texts) tte_die("out of memory");
    for (size_t k = 0; k < count; k++) {
        texts[k] = json_string_value(json_array_get(v, k));
        if (!texts[k]) {
            free(texts);
            return tte_jsonl_fail(in, "field \"choices\": element %zu must be a string", k);
        }
    }
    *out = texts;
    *n = (int)count;
    return 0;
}

/* Grades one record in place. Returns 1 when correct, 0 when not, -1 after tte_jsonl_fail. */
int grade_record(tte_jsonl *in, json_t *rec) {
    const char *type_name, *final, *pred, *text, **choices;
    int nchoices;
    char *given = gold_answer(in, rec);
    if (!given) return -1;
    char *gold = tte_extract_gold(given, the_grader);
    free(given);
    if (optional_string(in, rec, "answer_type", &type_name) || optional_string(in, rec, "final", &final) ||
        optional_string(in, rec, "pred", &pred) || optional_string(in, rec, "text", &text) ||
        read_choices(in, rec, &choices, &nchoices)) {
        free(gold);
        return -1;
    }
    int type = type_name ? tte_answer_type_parse(type_name) : (int)tte_answer_type_infer(gold, nchoices > 0);
    if (type < 0) {
        free(gold);
        free(choices);
        return tte_jsonl_fail(
            in, "field \"answer_type\": must be integer, number, latex or choice, not \"%s\"", type_name);
    }
    /* A "pred" that tte-score wrote from "final" or "text" is not the user's: grading again reads the
     * source again, so the output of a second run is the output of the first. */
    const char *earlier = json_string_value(json_object_get(rec, "extracted"));
    if (earlier && strcmp(earlier, "pred") != 0) pred = NULL;
    tte_extracted how = TTE_EXTRACTED_NONE;
    char *answer = NULL;
    if (final && (answer = tte_extract_final(final)))
        how = TTE_EXTRACTED_FINAL;
    else if (pred && (answer = tte_extract_final(pred)))
        how = TTE_EXTRACTED_PRED;
    else if (text)
        answer = tte_extract_text_as(text, &how, the_grader);
    /* Qwen2.5-Math reads a choice from the whole text (choice_answer_clean) */
    if (!answer && text && type == TTE_ANSWER_CHOICE && the_grader == TTE_GRADER_QWEN) {
        answer = tte_xstrdup(text);
        how = TTE_EXTRACTED_FALLBACK;
    }
    /* a choice given as the text of an option counts as its letter */
    char letter[2] = {0};
    if (answer && type == TTE_ANSWER_CHOICE &&
        (letter[0] = (char)tte_choice_match(answer, choices, nchoices))) {
        free(answer);
        answer = strdup(letter);
    }
    int correct = answer && tte_answer_equal_as(gold, answer, (tte_answer_type)type, the_grader);
    char *canonical = answer ? tte_answer_canonical(answer, (tte_answer_type)type) : NULL;
    json_object_set_new(rec, "pred", canonical ? json_string(canonical) : json_null());
    json_object_set_new(rec, "extracted", json_string(tte_extracted_name(how)));
    json_object_set_new(rec, "correct", json_integer(correct));
    free(canonical);
    free(answer);
    free(choices);
    free(gold);
    return correct;
}
