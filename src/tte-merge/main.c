/* tte-merge: puts the outputs of a run split with --shard K/N back together, in the order one
 * process would have written them (man/tte-merge.1).
 *
 * The order comes from the unsharded input (--order FILE): its records' ids, in order. Each shard
 * keeps that order among its own records, and every record of an id is in the shard of that id
 * (shard.h), so walking the order and copying, for each id, the run of records with that id at the
 * head of its shard's output gives the one-process output. Lines are copied as they are, byte for
 * byte. Everything that would make the result differ is an error instead: a shard file holding an
 * id of another shard (the files in the wrong order, or N wrong), an id that comes back in the
 * order after others (its records could not be told apart), records left over in a shard. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonl.h"
#include "options.h"
#include "outfile.h"
#include "shard.h"
#include "strmap.h"
#include "xalloc.h"

static const char HELP[] =
    "Usage: tte-merge --order FILE [OPTION]... SHARD_0 SHARD_1 ... SHARD_N-1\n"
    "Join the outputs of a run split with --shard K/N (tte-gen, tte-score, tte-fetch): SHARD_K is\n"
    "the output of --shard K/N, N the number of SHARD files. Writes the records in the order one\n"
    "process would have written them, byte for byte.\n"
    "\n"
    "  --order FILE     the unsharded input of the run (the items, or the generations for\n"
    "                   tte-score), which gives the order of the ids; '-' is standard input\n";
static const char HELP_TAIL[] =
    "Exit status: 0 success, 1 bad input (FILE:LINE: ...), 2 usage error. See tte-merge(1).\n";

/* One shard's output, read a line ahead: the line and the id of its record. */
typedef struct {
    const char *path;
    unsigned long k;
    FILE *f;
    long line;
    char *buf;
    size_t cap;
    ssize_t len; /* of buf's line, newline included; -1 at the end */
    json_t *rec; /* the record of buf (for its id) */
    const char *id;
    size_t id_len;
} shard;

static void advance(shard *s, unsigned long n) {
    json_decref(s->rec);
    s->rec = NULL;
    s->id = NULL;
    for (;;) {
        errno = 0;
        s->len = getline(&s->buf, &s->cap, s->f);
        if (s->len < 0) {
            if (errno == ENOMEM) tte_die("out of memory");
            if (ferror(s->f)) tte_die("%s: read error: %s", s->path, strerror(errno ? errno : EIO));
            return;
        }
        s->line++;
        size_t start = 0, end = (size_t)s->len;
        while (end > 0 && (s->buf[end - 1] == '\n' || s->buf[end - 1] == '\r')) end--;
        while (start < end && (s->buf[start] == ' ' || s->buf[start] == '\t')) start++;
        if (start == end) continue; /* blank lines are no records, as for every tool */
        json_error_t je;
        s->rec = json_loadb(s->buf + start, end - start, 0, &je);
        if (!s->rec) tte_die("%s:%ld: invalid JSON at column %d: %s", s->path, s->line, je.column, je.text);
        json_t *id = json_object_get(s->rec, "id");
        if (!json_is_string(id))
            tte_die("%s:%ld: field \"id\": %s", s->path, s->line, id ? "must be a string" : "missing");
        s->id = json_string_value(id);
        s->id_len = json_string_length(id);
        unsigned long got = tte_shard_of(s->id, s->id_len, n);
        if (got != s->k)
            tte_die("%s:%ld: id \"%s\" is in shard %lu/%lu, but this is file %lu of %lu (give the files in "
                    "shard order 0..N-1, all N of them)",
                    s->path, s->line, s->id, got, n, s->k, n);
        return;
    }
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    enum { OPT_ORDER = 256 };
    static const struct option own[] = {{"order", required_argument, NULL, OPT_ORDER}, {NULL, 0, NULL, 0}};
    tte_opts spec = {.common = TTE_OPT_OUTPUT, .longopts = own, .help = HELP, .help_tail = HELP_TAIL};
    tte_common com = tte_common_defaults();
    const char *order = NULL;
    for (int c; (c = tte_opts_next(&spec, &com, argc, argv)) != -1;)
        if (c == OPT_ORDER) order = optarg;
    if (!order) tte_cli_usage("--order FILE is required: the unsharded input, for the order of the ids");
    int n = argc - optind;
    if (n < 1) tte_cli_usage("give the shard files, SHARD_0 to SHARD_N-1");
    for (int i = 0; i < n; i++)
        if (strcmp(argv[optind + i], "-") == 0) tte_cli_usage("a shard file cannot be standard input");

    char err[1024];
    tte_outfile out;
    /* Inputs: the shard files and the order file (none of them may be the output). */
    char **inputs = tte_xmalloc((size_t)(n + 1) * sizeof *inputs);
    for (int i = 0; i < n; i++) inputs[i] = argv[optind + i];
    inputs[n] = (char *)order;
    if (tte_outfile_open_for(&out, com.output, inputs, n + 1, err, sizeof err) != 0) tte_die("%s", err);
    free(inputs);

    shard *sh = tte_xcalloc((size_t)n, sizeof *sh);
    for (int i = 0; i < n; i++) {
        sh[i].path = argv[optind + i];
        sh[i].k = (unsigned long)i;
        if (!(sh[i].f = fopen(sh[i].path, "rb"))) tte_die("%s: %s", sh[i].path, strerror(errno));
        advance(&sh[i], (unsigned long)n);
    }
    tte_jsonl *in = tte_jsonl_open(order, err, sizeof err);
    if (!in) tte_die("%s", err);
    tte_strmap seen;
    tte_strmap_init(&seen, 1024);
    char *prev = NULL;
    size_t prev_len = 0;
    json_t *rec;
    int rc, ok = 1;
    while ((rc = tte_jsonl_next(in, &rec)) == 1) {
        const char *id;
        if (tte_jsonl_get_string(in, rec, "id", &id) != 0) {
            json_decref(rec);
            rc = -1;
            break;
        }
        size_t len = json_string_length(json_object_get(rec, "id"));
        /* The records of one item come one after another (a generations file as the order). */
        if (prev && len == prev_len && memcmp(id, prev, len) == 0) {
            json_decref(rec);
            continue;
        }
        if (tte_strmap_get(&seen, id, len) >= 0) {
            tte_jsonl_fail(in, "id \"%s\" again, after other ids: the merge cannot tell its records apart",
                           id);
            json_decref(rec);
            rc = -1;
            break;
        }
        tte_strmap_put(&seen, id, len, 1);
        free(prev);
        prev = tte_xmalloc(len + 1);
        memcpy(prev, id, len + 1);
        prev_len = len;
        json_decref(rec);
        shard *s = &sh[tte_shard_of(prev, prev_len, (unsigned long)n)];
        while (s->id && s->id_len == prev_len && memcmp(s->id, prev, prev_len) == 0) {
            if (fwrite(s->buf, 1, (size_t)s->len, out.f) != (size_t)s->len ||
                (s->buf[s->len - 1] != '\n' && fputc('\n', out.f) == EOF))
                tte_die("write error: %s", strerror(errno));
            advance(s, (unsigned long)n);
        }
    }
    if (rc < 0) {
        tte_warn("%s", tte_jsonl_error(in));
        ok = 0;
    }
    for (int i = 0; ok && i < n; i++)
        if (sh[i].id) {
            tte_warn("%s:%ld: id \"%s\" is not in %s where this shard's records are (a shard of another "
                     "input, or of another order?)",
                     sh[i].path, sh[i].line, sh[i].id, order);
            ok = 0;
        }
    for (int i = 0; i < n; i++) {
        json_decref(sh[i].rec);
        free(sh[i].buf);
        fclose(sh[i].f);
    }
    free(sh);
    free(prev);
    tte_strmap_free(&seen);
    tte_jsonl_close(in);
    return tte_outfile_finish(&out, ok);
}
