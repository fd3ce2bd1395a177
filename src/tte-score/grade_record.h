/* grade_record: the answer of a record (from "final", "pred" or "text"), graded against its gold
 * "answer". */
#ifndef TTE_SCORE_GRADE_RECORD_H
#define TTE_SCORE_GRADE_RECORD_H

#include "grade/grade.h"
#include "jsonl.h"

/* The grader grade_record follows (--grader); TTE_GRADER_MATH_VERIFY until set. */
void grade_record_set_grader(tte_grader grader);

/* The gold answer as a string: a JSON string, or a number as some harnesses write it. Returns a
 * new string, or NULL after tte_jsonl_fail. */
char *gold_answer(tte_jsonl *in, json_t *rec);

/* The optional string field FIELD: NULL when absent or null; -1 after tte_jsonl_fail when it is
 * something else. */
int optional_string(tte_jsonl *in, json_t *rec, const char *field, const char **out);

/* Grades REC in place, the gold read through tte_extract_gold (a solution text is read at its final
 * answer): adds "pred" (canonical form, or null), "extracted" and "correct". Returns 1
 * when correct, 0 when not, -1 after tte_jsonl_fail. */
int grade_record(tte_jsonl *in, json_t *rec);

#endif
