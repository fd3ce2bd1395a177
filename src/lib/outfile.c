/* outfile: see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "xalloc.h"

int tte_outfile_open(tte_outfile *o, const char *path, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    size_t n = strlen(path) + 16;
    o->path = tte_xstrdup(path);
    o->tmp = tte_xmalloc(n);
    snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        tte_outfile_abort(o);
        return -1;
    }
    return 0;
}

int tte_outfile_commit(tte_outfile *o, char *err, size_t errlen) {
    if (!o->path) {
        if (fflush(stdout) == 0) return 0;
        snprintf(err, errlen, "<stdout>: write error: %s", strerror(errno));
        return -1;
    }
    int ok = fflush(o->f) == 0 && fsync(fileno(o->f)) == 0;
    ok = (fclose(o->f) == 0) && ok;
    o->f = NULL;
    if (ok && rename(o->tmp, o->path) == 0) {
        free(o->tmp);
        free(o->path);
        o->tmp = o->path = NULL;
        return 0;
    }
    snprintf(err, errlen, "%s: write error: %s", o->path, strerror(errno));
    tte_outfile_abort(o);
    return -1;
}

void tte_outfile_abort(tte_outfile *o) {
    if (o->f == stdout) fflush(stdout);
    if (o->f && o->f != stdout) fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}

int tte_outfile_finish(tte_outfile *o, int ok) {
    char err[1024];
    if (!ok) {
        tte_outfile_abort(o);
        return TTE_EXIT_FAIL;
    }
    if (tte_outfile_commit(o, err, sizeof err) != 0) return tte_warn("%s", err), TTE_EXIT_FAIL;
    return TTE_EXIT_OK;
}
