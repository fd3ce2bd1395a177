/* userfile: items from a user's own file: JSON-lines, a JSON array of objects, or CSV with a header
 * row. The options name which fields hold the problem, the answer and (for multiple choice) the
 * options. */
#ifndef TTE_FETCH_USERFILE_H
#define TTE_FETCH_USERFILE_H

#include <jansson.h>
#include <stddef.h>

#include "item.h"

typedef struct {
    const char *problem_field; /* default "problem" */
    const char *answer_field;  /* default "answer" */
    const char *choices_field; /* NULL: not multiple choice */
    const char *id_field;      /* NULL: ids are DATASET/INDEX */
    const char *answer_type;   /* NULL: inferred per item */
    const char *dataset;       /* NULL: the file's base name without extension */
} userfile_options;

/* Reads every item of PATH into ITEMS. A bad record is an error ("FILE:LINE: field \"x\": …" in ERR,
 * return -1) unless SKIP_BAD, which counts it in *SKIPPED. */
int userfile_read(const char *path, const userfile_options *opt, prompt_style style, int skip_bad,
                  json_t *items, long *skipped, char *err, size_t errlen);

/* The rows of a user file, before any field is looked at (gpqa.c reads its file through these). */
typedef struct {
    json_t *rows; /* array of objects; with skip_bad, null for a JSON line that could not be read */
    long *lines;  /* line where each row starts; 0 when the format has no lines (a JSON array) */
    size_t nlines, cap;
    json_t *header; /* CSV: the column names, in order; NULL for the other formats */
} userfile_rows;

/* Reads PATH as JSON lines, a JSON array (.json) or CSV (.csv) into *RS (always initialised; free
 * it with userfile_rows_free). Returns 0, or -1 with "FILE:LINE: message" in ERR. */
int userfile_read_rows(const char *path, int skip_bad, userfile_rows *rs, char *err, size_t errlen);
void userfile_rows_free(userfile_rows *rs);

/* Writes "FILE:LINE: " (or "FILE: item INDEX: " when LINE is 0) and the message into ERR; returns -1. */
int userfile_fail(char *err, size_t errlen, const char *path, long line, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* NAME when given, else PATH's base name without its extension, into OUT. */
void userfile_dataset_name(const char *path, const char *name, char *out, size_t n);

#endif
