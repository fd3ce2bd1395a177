/* gpqa: see gpqa.h. The construction follows the study's DatasetSetup.format_sample for
 * "Idavidrein/gpqa" (config gpqa_diamond, split train):
 *     choices = [answer, incorrect_answer_1, incorrect_answer_2, incorrect_answer_3]
 *     self.rng.shuffle(choices)               # self.rng = np.random.RandomState(42), one per run
 *     mcq_answer = choice_letters[choices.index(answer)]
 *     f"{question}\n\n{GPQA_MCQ_FORMAT}\n\nA) {choices[0]}\nB) ...\nD) {choices[3]}"
 * and its prepare_batch_inputs then appends MATH_PROMPT to every text, GPQA's too. */
#include "gpqa.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mt19937.h"
#include "userfile.h"

static const char *const PRE_REVISION[5] = {
    "Pre-Revision Question", "Pre-Revision Correct Answer", "Pre-Revision Incorrect Answer 1",
    "Pre-Revision Incorrect Answer 2", "Pre-Revision Incorrect Answer 3"};
static const char *const REVISED[5] = {"Question", "Correct Answer", "Incorrect Answer 1",
                                       "Incorrect Answer 2", "Incorrect Answer 3"};
/* Source columns kept under meta when present (the rest would only repeat the answers). */
static const char *const KEPT[] = {"Record ID", "High-level domain", "Subdomain"};

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int blank(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    return *s == 0;
}

static int has_column(json_t *header, const char *name) {
    size_t i;
    json_t *v;
    json_array_foreach(header, i, v) {
        if (strcmp(json_string_value(v), name) == 0) return 1;
    }
    return 0;
}

/* The hint after a missing column: the other set of columns, when the file has that one. */
static const char *column_hint(const gpqa_options *opt, int other_present) {
    if (other_present)
        return opt->revised ? " (without --revised, the pre-revision columns are read)"
                            : " (the file has \"Question\": --revised reads the revised columns)";
    return " (is this gpqa_diamond.csv from the Hugging Face dataset Idavidrein/gpqa?)";
}

/* The five texts of ROW into T, or -1 with the message in ERR. */
static int row_texts(json_t *row, long line, size_t index, const char *path, const gpqa_options *opt,
                     const char *t[5], char *err, size_t errlen) {
    const char *const *cols = opt->revised ? REVISED : PRE_REVISION;
    for (int k = 0; k < 5; k++) {
        json_t *v = json_object_get(row, cols[k]);
        if (!v) {
            const char *other = (opt->revised ? PRE_REVISION : REVISED)[k];
            return userfile_fail(err, errlen, path, line, index, "no column \"%s\"%s", cols[k],
                                 column_hint(opt, json_object_get(row, other) != NULL));
        }
        if (!json_is_string(v) && !json_is_null(v))
            return userfile_fail(err, errlen, path, line, index, "column \"%s\": must be a string", cols[k]);
        t[k] = json_is_string(v) ? json_string_value(v) : "";
        if (blank(t[k]))
            return userfile_fail(err, errlen, path, line, index, "column \"%s\": empty (%s)", cols[k],
                                 k == 0 ? "no question" : "every option needs a text");
    }
    return 0;
}

static json_t *meta_of(json_t *row, const gpqa_options *opt, const char *correct) {
    json_t *meta = json_object();
    for (size_t i = 0; i < sizeof KEPT / sizeof *KEPT; i++) {
        json_t *v = json_object_get(row, KEPT[i]);
        if (json_is_string(v) && *json_string_value(v)) json_object_set(meta, KEPT[i], v);
    }
    json_object_set_new(meta, "columns", json_string(opt->revised ? "revised" : "pre-revision"));
    json_object_set_new(meta, "shuffle_seed", json_integer(opt->seed));
    json_object_set_new(meta, "answer_text", json_string(correct));
    return meta;
}

int gpqa_read(const char *path, const gpqa_options *opt, prompt_style style, int skip_bad, json_t *items,
              long *skipped, char *err, size_t errlen) {
    if (ends_with(path, ".parquet")) {
        snprintf(
            err, errlen,
            "%s: parquet is not read; use the CSV of the download (gpqa_diamond.csv) or write the rows as "
            "CSV or JSON lines",
            path);
        return -1;
    }
    userfile_rows rs;
    int rc = userfile_read_rows(path, skip_bad, &rs, err, errlen);
    if (rc == 0 && rs.header) { /* CSV: a missing column is one error about the header */
        const char *const *cols = opt->revised ? REVISED : PRE_REVISION;
        for (int k = 0; k < 5 && rc == 0; k++)
            if (!has_column(rs.header, cols[k]))
                rc = userfile_fail(
                    err, errlen, path, 1, 0, "no column \"%s\"%s", cols[k],
                    column_hint(opt, has_column(rs.header, (opt->revised ? PRE_REVISION : REVISED)[k])));
    }
    if (rc == 0 && json_array_size(rs.rows) == 0) {
        snprintf(err, errlen, "%s: no rows", path);
        rc = -1;
    }
    mt19937 mt;
    mt19937_seed(&mt, opt->seed);
    const char *dataset = opt->dataset ? opt->dataset : "gpqa";
    size_t i;
    json_t *row;
    json_array_foreach(rs.rows, i, row) {
        if (rc != 0) break;
        const char *t[5] = {"", "", "", "", ""};
        int ok = !json_is_null(row) && row_texts(row, rs.lines[i], i, path, opt, t, err, errlen) == 0;
        /* Every row takes its shuffle, bad ones too: row i's order depends only on the rows before it. */
        const void *choice[4] = {t[1], t[2], t[3], t[4]};
        mt19937_shuffle(&mt, choice, 4);
        if (!ok) {
            if (skip_bad)
                (*skipped)++;
            else
                rc = -1;
            continue;
        }
        /* choices.index(answer): the first option with the correct answer's text. */
        size_t gold = 0;
        while (strcmp(choice[gold], t[1]) != 0) gold++;
        json_t *choices = json_array();
        for (int k = 0; k < 4; k++) json_array_append_new(choices, json_string(choice[k]));
        char id[300], letter[2] = {item_choice_letter(gold), 0};
        snprintf(id, sizeof id, "%s/%zu", dataset, i);
        item_fields f = {.id = id,
                         .dataset = dataset,
                         .problem = t[0],
                         .answer = letter,
                         .answer_type = "choice",
                         .choices = choices,
                         .math_suffix = 1};
        f.meta = meta_of(row, opt, t[1]);
        json_array_append_new(items, item_new(&f, style));
        json_decref(f.meta);
        json_decref(choices);
    }
    userfile_rows_free(&rs);
    return rc;
}
