/* jsonl: see jsonl.h. */
#include "jsonl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shard.h"
#include "xalloc.h"

struct tte_jsonl {
    char *const *paths; /* files still to read after this one (open_list) */
    int npaths;
    FILE *f;    /* NULL between files */
    char *name; /* shown in errors: the path, or "<stdin>" */
    long line;  /* number of the line last read, 1-based */
    char *buf;  /* getline's buffer, grown as needed: a trace can be 100 kB */
    size_t cap;
    unsigned long shard_k, shard_n; /* tte_jsonl_set_shard; shard_n <= 1: every record */
    char err[512];
};

static int is_stdin_path(const char *path) { return path == NULL || strcmp(path, "-") == 0; }

/* Switches the reader to PATH; returns -1 with the error set when it cannot be opened. */
static int open_path(tte_jsonl *r, const char *path) {
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->name);
    r->name = tte_xstrdup(is_stdin_path(path) ? "<stdin>" : path);
    r->line = 0;
    r->f = is_stdin_path(path) ? stdin : fopen(path, "rb");
    if (r->f) return 0;
    snprintf(r->err, sizeof r->err, "%s: %s", path, strerror(errno));
    return -1;
}

tte_jsonl *tte_jsonl_open_list(char *const *paths, int n) {
    tte_jsonl *r = tte_xcalloc(1, sizeof *r);
    r->paths = paths;
    r->npaths = n;
    if (n == 0) r->f = stdin, r->name = tte_xstrdup("<stdin>");
    return r;
}

tte_jsonl *tte_jsonl_open(const char *path, char *err, size_t errlen) {
    tte_jsonl *r = tte_xcalloc(1, sizeof *r);
    if (open_path(r, path) != 0) {
        snprintf(err, errlen, "%s", r->err);
        tte_jsonl_close(r);
        return NULL;
    }
    return r;
}

void tte_jsonl_close(tte_jsonl *r) {
    if (!r) return;
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->name);
    free(r->buf);
    free(r);
}

void tte_jsonl_set_shard(tte_jsonl *r, unsigned long k, unsigned long n) {
    r->shard_k = k;
    r->shard_n = n;
}

/* Whether record V is in the reader's shard: 1, 0 (skip it), or -1 after tte_jsonl_fail. */
static int in_shard(tte_jsonl *r, const json_t *v) {
    if (r->shard_n <= 1) return 1;
    const json_t *id = json_object_get(v, "id");
    if (!json_is_string(id))
        return tte_jsonl_fail(r, "field \"id\": %s (--shard splits records by their id)",
                              id ? "must be a string" : "missing");
    return tte_shard_of(json_string_value(id), json_string_length(id), r->shard_n) == r->shard_k;
}

const char *tte_jsonl_error(const tte_jsonl *r) { return r->err; }
const char *tte_jsonl_name(const tte_jsonl *r) { return r->name; }
long tte_jsonl_line(const tte_jsonl *r) { return r->line; }

int tte_jsonl_fail(tte_jsonl *r, const char *fmt, ...) {
    int n = snprintf(r->err, sizeof r->err, "%s:%ld: ", r->name, r->line);
    if (n < 0 || (size_t)n >= sizeof r->err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* The located message of a line jansson rejected. Columns count from the line's start (jansson's
 * from the first character it was given, after the leading blanks skipped here, ASCII). Messages
 * that would name a jansson flag say what is wrong instead. */
static int bad_json(tte_jsonl *r, const json_error_t *je, size_t skipped) {
    int column = je->column + (int)skipped;
    switch (json_error_code(je)) {
    case json_error_null_character:
        return tte_jsonl_fail(r,
                              "invalid JSON at column %d: a string holds \\u0000 (a NUL character), which a "
                              "record may not contain",
                              column);
    case json_error_end_of_input_expected:
        return tte_jsonl_fail(r, "invalid JSON at column %d: text after the record (one record per line)",
                              column);
    default:
        return tte_jsonl_fail(r, "invalid JSON at column %d: %s", column, je->text);
    }
}

int tte_jsonl_next(tte_jsonl *r, json_t **out) {
    for (;;) {
        if (!r->f) {
            if (r->npaths == 0) return 0;
            r->npaths--;
            if (open_path(r, *r->paths++) != 0) return -1;
        }
        errno = 0;
        ssize_t len = getline(&r->buf, &r->cap, r->f);
        if (len < 0) {
            if (errno == ENOMEM) tte_die("out of memory"); /* getline says so with errno alone */
            if (ferror(r->f)) {
                r->line++;
                return tte_jsonl_fail(r, "read error: %s", strerror(errno ? errno : EIO));
            }
            if (r->f != stdin) fclose(r->f);
            r->f = NULL;
            continue;
        }
        r->line++;
        while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r')) len--;
        size_t start = 0;
        while (start < (size_t)len && (r->buf[start] == ' ' || r->buf[start] == '\t')) start++;
        if (start == (size_t)len) continue; /* blank line */
        json_error_t je;
        /* JSON_DECODE_ANY: a line that is valid JSON but no object gets the message below. */
        json_t *v =
            json_loadb(r->buf + start, (size_t)len - start, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!v && json_error_code(&je) == json_error_out_of_memory) tte_die("out of memory");
        if (!v) return bad_json(r, &je, start);
        if (!json_is_object(v)) {
            json_decref(v);
            return tte_jsonl_fail(r, "a record must be a JSON object");
        }
        int mine = in_shard(r, v);
        if (mine != 1) {
            json_decref(v);
            if (mine < 0) return -1;
            continue;
        }
        *out = v;
        return 1;
    }
}

int tte_jsonl_get_string(tte_jsonl *r, json_t *obj, const char *field, const char **out) {
    json_t *v = json_object_get(obj, field);
    if (!v) return tte_jsonl_fail(r, "field \"%s\": missing", field);
    if (!json_is_string(v)) return tte_jsonl_fail(r, "field \"%s\": must be a string", field);
    *out = json_string_value(v);
    return 0;
}

int tte_jsonl_get_int(tte_jsonl *r, json_t *obj, const char *field, long long *out) {
    json_t *v = json_object_get(obj, field);
    if (!v) return tte_jsonl_fail(r, "field \"%s\": missing", field);
    if (!json_is_integer(v)) return tte_jsonl_fail(r, "field \"%s\": must be an integer", field);
    *out = json_integer_value(v);
    return 0;
}

int tte_jsonl_get_ids(tte_jsonl *r, json_t *obj, const char *field, int32_t limit, int allow_empty,
                      int32_t **ids, int *n) {
    json_t *a = json_object_get(obj, field), *v;
    if (!a) return tte_jsonl_fail(r, "field \"%s\": missing", field);
    if (!json_is_array(a)) return tte_jsonl_fail(r, "field \"%s\": must be a list of token ids", field);
    if (!allow_empty && json_array_size(a) == 0)
        return tte_jsonl_fail(r, "field \"%s\": must not be empty", field);
    int32_t *out = tte_xmalloc(tte_xmul(json_array_size(a) + 1, sizeof *out));
    size_t i;
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= limit) {
            free(out);
            return tte_jsonl_fail(r, "field \"%s\": entry %zu is not a token id below %ld", field, i,
                                  (long)limit);
        }
        out[i] = (int32_t)json_integer_value(v);
    }
    *ids = out;
    *n = (int)json_array_size(a);
    return 0;
}

json_t *tte_json_ids(const int32_t *ids, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(ids[i]));
    return a;
}

int tte_jsonl_write(FILE *f, const json_t *obj) {
    /* JSON_ENSURE_ASCII is off: UTF-8 stays readable. Key order is the object's insertion order, so
     * fields a tool added appear after the ones it read. */
    if (json_dumpf(obj, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) return -1;
    if (fputc('\n', f) == EOF) return -1;
    return 0;
}
