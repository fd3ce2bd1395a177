/* outfile: see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "xalloc.h"

/* ---- temporary files to remove when the process ends early ----
 * A few fixed slots, so that the signal handler reads nothing that is being freed: a slot's path is
 * written before it is marked used, and unmarked before it may be written again. */
enum { NPENDING = 4 };
static char pending_path[NPENDING][PATH_MAX];
static volatile sig_atomic_t pending_used[NPENDING];

static void remove_pending(void) {
    for (int i = 0; i < NPENDING; i++)
        if (pending_used[i]) unlink(pending_path[i]);
}

static void on_signal(int sig) {
    remove_pending();
    /* SA_RESETHAND restored the default action; the signal is blocked until this returns, then it
     * ends the process as it would have without us (the exit status says which signal). */
    raise(sig);
}

static void install_cleanup(void) {
    static int installed;
    if (installed) return;
    installed = 1;
    atexit(remove_pending);
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        /* A signal the caller ignores (nohup, a background job's SIGINT) or handles stays so. */
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static void pending_add(const char *path) {
    install_cleanup();
    if (strlen(path) >= PATH_MAX) return;
    for (int i = 0; i < NPENDING; i++)
        if (!pending_used[i]) {
            strcpy(pending_path[i], path);
            pending_used[i] = 1;
            return;
        }
}

static void pending_remove(const char *path) {
    for (int i = 0; i < NPENDING; i++)
        if (pending_used[i] && strcmp(pending_path[i], path) == 0) {
            pending_used[i] = 0;
            return;
        }
}

/* ---- what the path names ---- */

/* N when PATH is a file descriptor's own name (/dev/fd/N, /proc/self/fd/N), else -1. Those links
 * are the open file itself (a pipe, a terminal, a file open for appending), not a path to follow. */
static int fd_link(const char *path) {
    static const char *const prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], n) != 0 || !path[n]) continue;
        char *end;
        long fd = strtol(path + n, &end, 10);
        if (*end == 0 && fd >= 0 && fd <= INT_MAX && path[n] >= '0' && path[n] <= '9') return (int)fd;
    }
    return -1;
}

/* PATH with its symbolic links followed to the last one's target, which need not exist (a new
 * string); NULL with errno set on a loop or an unreadable link. *FD is set when the chain reaches a
 * file descriptor's name (fd_link), else -1. */
static char *resolve(const char *path, int *fd) {
    char *cur = tte_xstrdup(path);
    for (int hops = 0;; hops++) {
        if ((*fd = fd_link(cur)) >= 0) return cur;
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) return cur;
        if (hops == 40) {
            free(cur);
            errno = ELOOP;
            return NULL;
        }
        size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
        char *link;
        ssize_t n;
        for (;;) {
            link = tte_xmalloc(cap + 1);
            n = readlink(cur, link, cap);
            if (n < 0 || (size_t)n < cap) break;
            free(link);
            cap *= 2;
        }
        if (n < 0) {
            int e = errno;
            free(link);
            free(cur);
            errno = e;
            return NULL;
        }
        link[n] = 0;
        if (link[0] != '/') { /* relative to the link's own directory */
            const char *slash = strrchr(cur, '/');
            size_t dir = slash ? (size_t)(slash - cur) + 1 : 0;
            char *joined = tte_xmalloc(dir + (size_t)n + 1);
            memcpy(joined, cur, dir);
            memcpy(joined + dir, link, (size_t)n + 1);
            free(link);
            link = joined;
        }
        free(cur);
        cur = link;
    }
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The input (a path, or "standard input") that is the file ST, or NULL. */
static const char *input_named(const struct stat *st, char *const *inputs, int n) {
    struct stat in;
    if (!inputs) return NULL;
    if (n == 0) return fstat(STDIN_FILENO, &in) == 0 && same_file(st, &in) ? "standard input" : NULL;
    for (int i = 0; i < n; i++) {
        int is_stdin = strcmp(inputs[i], "-") == 0;
        if ((is_stdin ? fstat(STDIN_FILENO, &in) : stat(inputs[i], &in)) == 0 && same_file(st, &in))
            return is_stdin ? "standard input" : inputs[i];
    }
    return NULL;
}

static mode_t current_umask(void) {
    mode_t m = umask(0);
    umask(m);
    return m;
}

/* Writes FD directly (no temporary file); takes FD. */
static int open_direct(tte_outfile *o, const char *path, int fd, char *err, size_t errlen) {
    if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    o->path = tte_xstrdup(path);
    return 0;
}

int tte_outfile_open_for(tte_outfile *o, const char *path, char *const *inputs, int n, char *err,
                         size_t errlen) {
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    if (!*path) {
        snprintf(err, errlen, "-o: the file name is empty (use '-' for standard output)");
        return -1;
    }
    int fd_of_link;
    char *target = resolve(path, &fd_of_link);
    if (!target) {
        snprintf(err, errlen, "%s: cannot follow the link: %s", path, strerror(errno));
        return -1;
    }
    if (fd_of_link >= 0) { /* /dev/stdout and the like: write where that descriptor goes */
        free(target);
        return open_direct(o, path, fcntl(fd_of_link, F_DUPFD_CLOEXEC, 3), err, errlen);
    }
    struct stat st, via;
    const char *in;
    int exists = stat(target, &st) == 0;
    int rc = -1;
    if (!exists && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    } else if (exists && (stat(path, &via) != 0 || !same_file(&st, &via))) {
        snprintf(err, errlen, "%s: cannot tell which file the link names", path);
    } else if (exists && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
    } else if (exists && !S_ISREG(st.st_mode)) {
        /* A FIFO or a device: written as it is (opening a FIFO waits for its reader). */
        rc = open_direct(o, path, open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC), err, errlen);
    } else if (exists && (in = input_named(&st, inputs, n))) {
        if (strcmp(in, path) == 0)
            snprintf(err, errlen,
                     "-o %s: that is also an input of this run; write the output to another file", path);
        else
            snprintf(err, errlen,
                     "-o %s: that is also an input of this run (%s); write the output to another file", path,
                     in);
    } else if (exists && access(target, W_OK) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    } else {
        rc = 0;
    }
    if (rc != 0 || (exists && !S_ISREG(st.st_mode))) {
        free(target);
        return rc;
    }

    /* A regular file or none: a temporary file beside the target, renamed over it at the end. */
    size_t len = strlen(target) + 16;
    o->path = target;
    o->tmp = tte_xmalloc(len);
    snprintf(o->tmp, len, "%s.tmpXXXXXX", target);
    int fd = mkstemp(o->tmp);
    if (fd >= 0) pending_add(o->tmp);
    int ok = fd >= 0;
    if (ok && exists) {
        /* Keep the replaced file's owner (where we may) and permissions. */
        if (fchown(fd, st.st_uid, st.st_gid) != 0) errno = 0; /* not ours to give: stays ours */
        ok = fchmod(fd, st.st_mode & 07777) == 0;
    } else if (ok) {
        ok = fchmod(fd, 0666 & ~current_umask()) == 0;
    }
    if (!ok || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
        if (fd >= 0) close(fd);
        tte_outfile_abort(o);
        return -1;
    }
    return 0;
}

int tte_outfile_open(tte_outfile *o, const char *path, char *err, size_t errlen) {
    return tte_outfile_open_for(o, path, NULL, 0, err, errlen);
}

int tte_outfile_commit(tte_outfile *o, char *err, size_t errlen) {
    if (!o->path) {
        if (fflush(stdout) == 0) return 0;
        snprintf(err, errlen, "<stdout>: write error: %s", strerror(errno));
        return -1;
    }
    int e = 0;
    int ok = fflush(o->f) == 0 || (e = errno, 0);
    if (ok && o->tmp && fsync(fileno(o->f)) != 0) ok = 0, e = errno;
    if (fclose(o->f) != 0 && ok) ok = 0, e = errno;
    o->f = NULL;
    if (ok && o->tmp && rename(o->tmp, o->path) != 0) ok = 0, e = errno;
    if (ok) {
        if (o->tmp) pending_remove(o->tmp);
        free(o->tmp);
        free(o->path);
        o->tmp = o->path = NULL;
        return 0;
    }
    snprintf(err, errlen, "%s: write error: %s", o->path, strerror(e ? e : EIO));
    tte_outfile_abort(o);
    return -1;
}

void tte_outfile_abort(tte_outfile *o) {
    if (o->f == stdout) fflush(stdout);
    if (o->f && o->f != stdout) fclose(o->f);
    if (o->tmp) {
        unlink(o->tmp);
        pending_remove(o->tmp);
    }
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
