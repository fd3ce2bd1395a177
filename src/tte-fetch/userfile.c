/* userfile: see userfile.h. Every format is first turned into rows (a JSON object and the line where
 * it starts), so one mapping from fields to item serves all three. */
#include "userfile.h"

#include <csv.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonl.h"
#include "xalloc.h"

typedef struct {
    json_t *rows; /* array of objects */
    long *lines;  /* line where each row starts; 0 when the format has no lines (a JSON array) */
    size_t nlines, cap;
} rowset;

static void rows_add(rowset *rs, json_t *row, long line) {
    json_array_append_new(rs->rows, row);
    TTE_GROW(rs->lines, rs->cap, rs->nlines + 1);
    rs->lines[rs->nlines++] = line;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* JSON-lines, with skip_bad applied to lines that are not JSON objects. */
static int read_jsonl(const char *path, rowset *rs, int skip_bad, long *skipped, char *err, size_t errlen) {
    tte_jsonl *r = tte_jsonl_open(path, err, errlen);
    if (!r) return -1;
    json_t *row;
    int rc;
    while ((rc = tte_jsonl_next(r, &row)) != 0) {
        if (rc > 0) {
            rows_add(rs, row, tte_jsonl_line(r));
        } else if (skip_bad) {
            (*skipped)++;
        } else {
            snprintf(err, errlen, "%s", tte_jsonl_error(r));
            tte_jsonl_close(r);
            return -1;
        }
    }
    tte_jsonl_close(r);
    return 0;
}

static int read_json_array(const char *path, rowset *rs, char *err, size_t errlen) {
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc && json_error_code(&je) == json_error_out_of_memory) tte_die("out of memory");
    if (!doc) {
        snprintf(err, errlen, "%s:%d: invalid JSON: %s", path, je.line, je.text);
        return -1;
    }
    if (!json_is_array(doc)) {
        json_decref(doc);
        snprintf(err, errlen, "%s: must hold a JSON array of objects", path);
        return -1;
    }
    size_t i;
    json_t *row;
    json_array_foreach(doc, i, row) {
        if (!json_is_object(row)) {
            json_decref(doc);
            snprintf(err, errlen, "%s: item %zu: must be a JSON object", path, i);
            return -1;
        }
        rows_add(rs, json_incref(row), 0);
    }
    json_decref(doc);
    return 0;
}

/* CSV through libcsv: the first record is the header, each later record becomes an object of strings.
 * The file is fed line by line so each row knows the line it starts on (quoted fields may span
 * lines). */
typedef struct {
    rowset *rs;
    json_t *header; /* array of column names, once read */
    json_t *fields; /* the record being assembled */
    long line, record_start;
    int error;
} csv_state;

static void csv_field(void *data, size_t len, void *user) {
    csv_state *st = user;
    json_array_append_new(st->fields, json_stringn_nocheck(data ? data : "", data ? len : 0));
}

static void csv_record(int c, void *user) {
    csv_state *st = user;
    if (!st->header) {
        st->header = st->fields;
    } else {
        json_t *row = json_object();
        size_t i;
        json_t *v;
        json_array_foreach(st->fields, i, v) {
            const char *name = json_string_value(json_array_get(st->header, i));
            if (name) json_object_set(row, name, v);
        }
        json_decref(st->fields);
        rows_add(st->rs, row, st->record_start);
    }
    st->fields = json_array();
    st->record_start = st->line + (c == '\n' || c == '\r' ? 1 : 0);
}

static int read_csv(const char *path, rowset *rs, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI);
    csv_state st = {.rs = rs, .fields = json_array(), .record_start = 1};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        st.line++;
        if (csv_parse(&p, line, (size_t)len, csv_field, csv_record, &st) != (size_t)len) {
            snprintf(err, errlen, "%s:%ld: CSV: %s", path, st.line, csv_strerror(csv_error(&p)));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && csv_fini(&p, csv_field, csv_record, &st) != 0) {
        snprintf(err, errlen, "%s:%ld: CSV: %s", path, st.line, csv_strerror(csv_error(&p)));
        rc = -1;
    }
    csv_free(&p);
    free(line);
    fclose(f);
    json_decref(st.fields);
    json_decref(st.header);
    return rc;
}

/* Writes "FILE:LINE: " (or "FILE: item N: ") + message into ERR; returns -1. */
static int row_fail(char *err, size_t errlen, const char *path, long line, size_t index, const char *fmt,
                    const char *field) {
    int n = line > 0 ? snprintf(err, errlen, "%s:%ld: ", path, line)
                     : snprintf(err, errlen, "%s: item %zu: ", path, index);
    if (n > 0 && (size_t)n < errlen) snprintf(err + n, errlen - (size_t)n, fmt, field);
    return -1;
}

/* A field as text: strings as they are, numbers printed. NULL when absent or of another type. */
static const char *field_text(json_t *row, const char *field, char *buf, size_t n) {
    json_t *v = json_object_get(row, field);
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) return snprintf(buf, n, "%lld", (long long)json_integer_value(v)), buf;
    if (json_is_real(v)) return snprintf(buf, n, "%.15g", json_real_value(v)), buf;
    return NULL;
}

/* The options of a multiple-choice row: a JSON list, or a string holding a JSON list or "a|b|c". */
static json_t *parse_choices(json_t *v) {
    if (json_is_array(v)) return json_incref(v);
    const char *s = json_string_value(v);
    if (!s) return NULL;
    json_t *list = json_loads(s, 0, NULL);
    if (json_is_array(list)) return list;
    json_decref(list);
    list = json_array();
    for (const char *p = s;;) {
        const char *bar = strchr(p, '|');
        json_array_append_new(list, json_stringn(p, bar ? (size_t)(bar - p) : strlen(p)));
        if (!bar) break;
        p = bar + 1;
    }
    return list;
}

/* A choice answer as its letter: "C", "(C)", "c", an index "2", or the text of an option. */
static int choice_letter(const char *answer, json_t *choices, char *out) {
    size_t n = json_array_size(choices), i;
    json_t *c;
    const char *a = answer + (answer[0] == '(');
    char letter = (char)(a[0] >= 'a' && a[0] <= 'z' ? a[0] - 'a' + 'A' : a[0]);
    if (letter >= 'A' && (size_t)(letter - 'A') < n && (a[1] == 0 || a[1] == ')')) {
        out[0] = letter, out[1] = 0;
        return 0;
    }
    char *end;
    long index = strtol(answer, &end, 10);
    if (end != answer && *end == 0 && index >= 0 && (size_t)index < n) {
        out[0] = item_choice_letter((size_t)index), out[1] = 0;
        return 0;
    }
    json_array_foreach(choices, i, c) {
        if (json_is_string(c) && strcmp(json_string_value(c), answer) == 0) {
            out[0] = item_choice_letter(i), out[1] = 0;
            return 0;
        }
    }
    return -1;
}

static int map_row(json_t *row, long line, size_t index, const char *path, const userfile_options *opt,
                   const char *dataset, prompt_style style, json_t *items, char *err, size_t errlen) {
    char abuf[64], idbuf[256], ibuf[64], letter[2];
    const char *problem = field_text(row, opt->problem_field, ibuf, sizeof ibuf);
    if (!problem || !*problem)
        return row_fail(err, errlen, path, line, index, "field \"%s\": missing or not a string",
                        opt->problem_field);
    const char *answer = field_text(row, opt->answer_field, abuf, sizeof abuf);
    if (!answer || !*answer)
        return row_fail(err, errlen, path, line, index, "field \"%s\": missing or empty", opt->answer_field);
    item_fields f = {.dataset = dataset, .problem = problem, .answer = answer};
    json_t *choices = NULL;
    if (opt->choices_field) {
        choices = parse_choices(json_object_get(row, opt->choices_field));
        size_t n = json_array_size(choices), i;
        json_t *c;
        int ok = choices && n >= 2 && n <= 26;
        json_array_foreach(choices, i, c) ok = ok && json_is_string(c);
        if (!ok) {
            json_decref(choices);
            return row_fail(err, errlen, path, line, index, "field \"%s\": needs a list of 2 to 26 strings",
                            opt->choices_field);
        }
        if (choice_letter(answer, choices, letter) != 0) {
            json_decref(choices);
            return row_fail(err, errlen, path, line, index,
                            "field \"%s\": not a letter, index or text of one of the choices",
                            opt->answer_field);
        }
        f.answer = letter;
        f.choices = choices;
    }
    f.answer_type = choices ? "choice" : opt->answer_type ? opt->answer_type : item_infer_answer_type(answer);
    const char *id = opt->id_field ? field_text(row, opt->id_field, idbuf, sizeof idbuf) : NULL;
    if (opt->id_field && !id) {
        json_decref(choices);
        return row_fail(err, errlen, path, line, index, "field \"%s\": missing", opt->id_field);
    }
    char idgen[300];
    if (!id) snprintf(idgen, sizeof idgen, "%s/%zu", dataset, index), id = idgen;
    f.id = id;
    json_array_append_new(items, item_new(&f, style));
    json_decref(choices);
    return 0;
}

int userfile_read(const char *path, const userfile_options *opt, prompt_style style, int skip_bad,
                  json_t *items, long *skipped, char *err, size_t errlen) {
    rowset rs = {.rows = json_array()};
    int rc;
    if (ends_with(path, ".csv"))
        rc = read_csv(path, &rs, err, errlen);
    else if (ends_with(path, ".json"))
        rc = read_json_array(path, &rs, err, errlen);
    else
        rc = read_jsonl(path, &rs, skip_bad, skipped, err, errlen);

    char dataset[256];
    if (opt->dataset) {
        snprintf(dataset, sizeof dataset, "%s", opt->dataset);
    } else {
        char *copy = tte_xstrdup(path);
        snprintf(dataset, sizeof dataset, "%s", basename(copy));
        free(copy);
        char *dot = strrchr(dataset, '.');
        if (dot && dot != dataset) *dot = 0;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rs.rows, i, row) {
        if (rc != 0) break;
        if (map_row(row, rs.lines[i], i, path, opt, dataset, style, items, err, errlen) != 0) {
            if (skip_bad)
                (*skipped)++;
            else
                rc = -1;
        }
    }
    json_decref(rs.rows);
    free(rs.lines);
    return rc;
}
