/* userfile: see userfile.h. Every format is first turned into rows (a JSON object and the line where
 * it starts), so one mapping from fields to item serves all three. */
#include "userfile.h"

#include <csv.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonl.h"
#include "utf8.h"
#include "xalloc.h"

typedef userfile_rows rowset;

static void rows_add(rowset *rs, json_t *row, long line) {
    json_array_append_new(rs->rows, row);
    TTE_GROW(rs->lines, rs->cap, rs->nlines + 1);
    rs->lines[rs->nlines++] = line;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* JSON-lines. With skip_bad, a line that is not a JSON object becomes a null row, so that row
 * indexes (and ids) count every record and never depend on --skip-bad. */
static int read_jsonl(const char *path, rowset *rs, int skip_bad, char *err, size_t errlen) {
    tte_jsonl *r = tte_jsonl_open(path, err, errlen);
    if (!r) return -1;
    json_t *row;
    int rc;
    while ((rc = tte_jsonl_next(r, &row)) != 0) {
        if (rc > 0) {
            rows_add(rs, row, tte_jsonl_line(r));
        } else if (skip_bad) {
            rows_add(rs, json_null(), tte_jsonl_line(r));
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
 * lines). A UTF-8 byte-order mark at the start (Excel's "CSV UTF-8") is skipped; a field with a NUL
 * byte or bytes that are not UTF-8 is an error naming the line of the bad byte and the column. */
typedef struct {
    rowset *rs;
    json_t *fields; /* the record being assembled */
    long line, record_start, field_start;
    char *err; /* the first bad field's message, once there is one */
    size_t errlen;
    const char *path;
    int failed;
} csv_state;

static void csv_field(void *data, size_t len, void *user) {
    csv_state *st = user;
    const char *s = data ? data : "";
    len = data ? len : 0;
    size_t column = json_array_size(st->fields);
    long field_start = st->field_start;
    st->field_start = st->line;
    if (st->failed) return;
    const char *nul = memchr(s, 0, len);
    size_t good = tte_utf8_valid_prefix(s, nul ? (size_t)(nul - s) : len);
    if (nul || good < len) {
        long line = field_start;
        for (size_t i = 0; i < good; i++) line += s[i] == '\n';
        const char *name = st->rs->header ? json_string_value(json_array_get(st->rs->header, column)) : NULL;
        char where[300];
        if (name)
            snprintf(where, sizeof where, "column \"%.200s\"", name);
        else
            snprintf(where, sizeof where, "%s column %zu", st->rs->header ? "unnamed" : "header,",
                     column + 1);
        if (nul && good == (size_t)(nul - s))
            snprintf(st->err, st->errlen, "%s:%ld: CSV: %s: a NUL byte", st->path, line, where);
        else
            snprintf(st->err, st->errlen,
                     "%s:%ld: CSV: %s: byte 0x%02X is not UTF-8 (save the file as UTF-8)", st->path, line,
                     where, (unsigned char)s[good]);
        st->failed = 1;
        return;
    }
    json_array_append_new(st->fields, json_stringn_nocheck(s, len));
}

static void csv_record(int c, void *user) {
    csv_state *st = user;
    if (!st->rs->header) {
        st->rs->header = st->fields;
    } else if (!st->failed) {
        json_t *row = json_object();
        size_t i;
        json_t *v;
        json_array_foreach(st->fields, i, v) {
            const char *name = json_string_value(json_array_get(st->rs->header, i));
            if (name) json_object_set(row, name, v);
        }
        json_decref(st->fields);
        rows_add(st->rs, row, st->record_start);
    } else {
        json_decref(st->fields);
    }
    st->fields = json_array();
    st->record_start = st->line + (c == '\n' || c == '\r' ? 1 : 0);
    st->field_start = st->record_start;
}

static int read_csv(const char *path, rowset *rs, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct csv_parser p;
    csv_init(&p, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI);
    csv_state st = {.rs = rs,
                    .fields = json_array(),
                    .record_start = 1,
                    .field_start = 1,
                    .err = err,
                    .errlen = errlen,
                    .path = path};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        const char *text = line;
        st.line++;
        if (st.line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) text += 3, len -= 3;
        if (csv_parse(&p, text, (size_t)len, csv_field, csv_record, &st) != (size_t)len) {
            snprintf(err, errlen, "%s:%ld: CSV: %s", path, st.line, csv_strerror(csv_error(&p)));
            rc = -1;
        }
        if (st.failed) rc = -1;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && csv_fini(&p, csv_field, csv_record, &st) != 0) {
        snprintf(err, errlen, "%s:%ld: CSV: %s", path, st.line, csv_strerror(csv_error(&p)));
        rc = -1;
    }
    if (rc == 0 && st.failed) rc = -1;
    csv_free(&p);
    free(line);
    fclose(f);
    json_decref(st.fields);
    return rc;
}

int userfile_read_rows(const char *path, int skip_bad, userfile_rows *rs, char *err, size_t errlen) {
    *rs = (userfile_rows){.rows = json_array()};
    if (ends_with(path, ".csv")) return read_csv(path, rs, err, errlen);
    if (ends_with(path, ".json")) return read_json_array(path, rs, err, errlen);
    return read_jsonl(path, rs, skip_bad, err, errlen);
}

void userfile_rows_free(userfile_rows *rs) {
    json_decref(rs->rows);
    json_decref(rs->header);
    free(rs->lines);
    *rs = (userfile_rows){0};
}

int userfile_fail(char *err, size_t errlen, const char *path, long line, size_t index, const char *fmt, ...) {
    int n = line > 0 ? snprintf(err, errlen, "%s:%ld: ", path, line)
                     : snprintf(err, errlen, "%s: item %zu: ", path, index);
    if (n > 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}
#define row_fail userfile_fail

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
    rowset rs;
    int rc = userfile_read_rows(path, skip_bad, &rs, err, errlen);
    char dataset[256];
    userfile_dataset_name(path, opt->dataset, dataset, sizeof dataset);
    size_t i;
    json_t *row;
    json_array_foreach(rs.rows, i, row) {
        if (rc != 0) break;
        if (json_is_null(row) ||
            map_row(row, rs.lines[i], i, path, opt, dataset, style, items, err, errlen) != 0) {
            if (skip_bad)
                (*skipped)++;
            else
                rc = -1;
        }
    }
    userfile_rows_free(&rs);
    return rc;
}

void userfile_dataset_name(const char *path, const char *name, char *out, size_t n) {
    if (name) {
        snprintf(out, n, "%s", name);
        return;
    }
    char *copy = tte_xstrdup(path);
    snprintf(out, n, "%s", basename(copy));
    free(copy);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = 0;
}
