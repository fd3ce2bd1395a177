/* Fuzz target: tte-fetch's reading of a user's file (src/tte-fetch/userfile.c and item.c): CSV with
 * a header row, a JSON array, JSON lines. The first byte picks the format, the field options and
 * whether bad records are skipped; the rest is the file. Any input must give items or one
 * "FILE:LINE: ..." line, never crash, leak or abort; every item must be a record whose strings
 * serialise (valid UTF-8, no NUL). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/tte-fetch/item.c"
#include "../../src/tte-fetch/userfile.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const suffixes[] = {".csv", ".json", ".jsonl", ".csv"};
    unsigned flags = data[0];
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz-userfile-%d-XXXXXX%s", (int)getpid(), suffixes[flags & 3]);
    int fd = mkstemps(path, (int)strlen(suffixes[flags & 3]));
    if (fd < 0) return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    userfile_options opt = {
        .problem_field = flags & 4 ? "question" : "problem",
        .answer_field = "answer",
        .choices_field = flags & 8 ? "choices" : NULL,
        .id_field = flags & 16 ? "id" : NULL,
        .answer_type = flags & 32 ? "choice" : NULL,
    };
    json_t *items = json_array();
    long skipped = 0;
    char err[1024] = "";
    int rc = userfile_read(path, &opt, flags & 64 ? PROMPT_PLAIN : PROMPT_STUDY, flags & 128 ? 1 : 0, items,
                           &skipped, err, sizeof err);
    if (rc != 0) {
        /* a failure says why, on one line that names the file */
        if (!err[0] || strchr(err, '\n') || strncmp(err, path, strlen(path)) != 0) abort();
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item) {
            if (!json_is_object(item) || !json_is_string(json_object_get(item, "prompt")) ||
                !json_is_string(json_object_get(item, "id")))
                abort();
            char *s = json_dumps(item, 0);
            if (!s) abort(); /* a string that does not serialise */
            free(s);
        }
    }
    json_decref(items);
    unlink(path);
    return 0;
}
