/* The JSON-lines reader: long lines, bad UTF-8, truncated files, CRLF, located errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"

/* Writes LEN bytes to a fresh temporary file and returns its path (malloc'd). */
static char *temp_file(const void *data, size_t len) {
    char *path = strdup("/tmp/tte-test-jsonl-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static tte_jsonl *open_text(const char *text, char **path) {
    *path = temp_file(text, strlen(text));
    char err[256];
    tte_jsonl *r = tte_jsonl_open(*path, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    return r;
}

static void done(tte_jsonl *r, char *path) {
    tte_jsonl_close(r);
    unlink(path);
    free(path);
}

Test(jsonl, reads_records_skipping_blank_lines_and_crlf) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":1}\r\n\n   \r\n{\"b\":\"x\"}\r\n", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_eq(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_str_eq(json_string_value(json_object_get(v, "b")), "x");
    cr_assert_eq(tte_jsonl_line(r), 4);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), 0);
    done(r, path);
}

Test(jsonl, reads_a_line_of_a_megabyte) {
    size_t n = 1 << 20;
    char *text = malloc(n + 32);
    strcpy(text, "{\"t\":\"");
    memset(text + 6, 'x', n);
    strcpy(text + 6 + n, "\"}\n");
    char *path;
    tte_jsonl *r = open_text(text, &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_eq(strlen(json_string_value(json_object_get(v, "t"))), n);
    json_decref(v);
    free(text);
    done(r, path);
}

Test(jsonl, last_line_without_newline_is_read) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":1}\n{\"a\":2}", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_eq(json_integer_value(json_object_get(v, "a")), 2);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), 0);
    done(r, path);
}

Test(jsonl, truncated_record_is_a_located_error_and_reading_goes_on) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":1}\n{\"a\":\n{\"a\":3}\n{\"a\":\"tru", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    char want[512];
    snprintf(want, sizeof want, "%s:2: invalid JSON", path);
    cr_assert(strncmp(tte_jsonl_error(r), want, strlen(want)) == 0, "got: %s", tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_eq(json_integer_value(json_object_get(v, "a")), 3);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_assert_eq(tte_jsonl_line(r), 4);
    cr_assert_eq(tte_jsonl_next(r, &v), 0);
    done(r, path);
}

Test(jsonl, invalid_utf8_is_rejected_with_its_line) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":\"ok\"}\n{\"a\":\"\xff\xfe\"}\n", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), ":2: "), "got: %s", tte_jsonl_error(r));
    done(r, path);
}

Test(jsonl, non_objects_and_duplicate_keys_are_rejected) {
    char *path;
    tte_jsonl *r = open_text("[1,2]\n{\"a\":1,\"a\":2}\n", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), ":1: a record must be a JSON object"));
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), ":2: "));
    done(r, path);
}

Test(jsonl, field_errors_name_the_field) {
    char *path;
    tte_jsonl *r = open_text("{\"n\":\"x\"}\n", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    const char *s;
    long long n;
    cr_assert_eq(tte_jsonl_get_string(r, v, "problem", &s), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), ":1: field \"problem\": missing"), "%s",
                       tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_get_int(r, v, "n", &n), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), "field \"n\": must be an integer"));
    json_decref(v);
    done(r, path);
}

Test(jsonl, list_reads_files_in_order_and_reports_a_missing_one) {
    char *a = temp_file("{\"i\":1}\n", 8), *b = temp_file("{\"i\":2}\n", 8);
    char *paths[] = {a, "/nonexistent/x.jsonl", b};
    tte_jsonl *r = tte_jsonl_open_list(paths, 3);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_assert_not_null(strstr(tte_jsonl_error(r), "/nonexistent/x.jsonl: No such file"));
    cr_assert_eq(tte_jsonl_next(r, &v), 1);
    cr_assert_eq(json_integer_value(json_object_get(v, "i")), 2);
    cr_assert_str_eq(tte_jsonl_name(r), b);
    json_decref(v);
    cr_assert_eq(tte_jsonl_next(r, &v), 0);
    tte_jsonl_close(r);
    unlink(a), unlink(b);
    free(a), free(b);
}

Test(jsonl, write_is_compact_one_line_and_keeps_order_and_unknown_fields) {
    json_t *v = json_loads("{\"z\":1,\"a\":{\"k\":[1,2]},\"t\":\"é\\n\"}", 0, NULL);
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(tte_jsonl_write(f, v), 0);
    fclose(f);
    cr_assert_str_eq(buf, "{\"z\":1,\"a\":{\"k\":[1,2]},\"t\":\"é\\n\"}\n");
    free(buf);
    json_decref(v);
}

Test(jsonl, token_id_lists_are_checked_entry_by_entry) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":[0,5,9],\"b\":[1,10],\"c\":[],\"d\":\"x\",\"e\":[1.5]}\n", &path);
    json_t *rec;
    cr_assert_eq(tte_jsonl_next(r, &rec), 1);
    int32_t *ids;
    int n;
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "a", 10, 0, &ids, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert(ids[0] == 0 && ids[1] == 5 && ids[2] == 9);
    json_t *back = tte_json_ids(ids, n);
    cr_assert(json_equal(back, json_object_get(rec, "a")));
    json_decref(back);
    free(ids);
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "b", 10, 0, &ids, &n), -1);
    cr_assert_str_eq(tte_jsonl_error(r) + strlen(path),
                     ":1: field \"b\": entry 1 is not a token id below 10");
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "c", 10, 0, &ids, &n), -1);
    cr_assert(strstr(tte_jsonl_error(r), "field \"c\": must not be empty"));
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "c", 10, 1, &ids, &n), 0);
    cr_assert_eq(n, 0);
    free(ids);
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "d", 10, 1, &ids, &n), -1);
    cr_assert(strstr(tte_jsonl_error(r), "field \"d\": must be a list of token ids"));
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "e", 10, 1, &ids, &n), -1);
    cr_assert_eq(tte_jsonl_get_ids(r, rec, "missing", 10, 1, &ids, &n), -1);
    cr_assert(strstr(tte_jsonl_error(r), "field \"missing\": missing"));
    json_decref(rec);
    done(r, path);
}

/* Messages say what is wrong in the user's words, not jansson's flag names, and columns count from
 * the start of the line, leading blanks included (issue 21, 15). */
Test(jsonl, messages_are_plain_and_columns_count_leading_blanks) {
    char *path;
    tte_jsonl *r = open_text("{\"a\":\"x\\u0000y\"}\n   {\"a\":1,}\n5\n{\"a\":1} {\"b\":2}\n", &path);
    json_t *v;
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_expect_null(strstr(tte_jsonl_error(r), "JSON_"), "got: %s", tte_jsonl_error(r));
    cr_expect_not_null(
        strstr(tte_jsonl_error(r), ":1: invalid JSON at column 15: a string holds \\u0000 (a NUL character)"),
        "got: %s", tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_expect_not_null(strstr(tte_jsonl_error(r), ":2: invalid JSON at column 11: "), "got: %s",
                       tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_expect_not_null(strstr(tte_jsonl_error(r), ":3: a record must be a JSON object"), "got: %s",
                       tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_next(r, &v), -1);
    cr_expect_not_null(strstr(tte_jsonl_error(r), ":4: invalid JSON at column 9: text after the record"),
                       "got: %s", tte_jsonl_error(r));
    cr_assert_eq(tte_jsonl_next(r, &v), 0);
    done(r, path);
}
