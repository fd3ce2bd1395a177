/* outfile: output files written atomically. The data goes to a temporary file beside the target,
 * which replaces the target only when everything was written; a failed or interrupted run leaves
 * the previous file as it was. "-" (or NULL) is stdout, written directly.
 *
 * What is at the path decides how it is written:
 *   - a symbolic link is followed (to its final target, also through several links): the target is
 *     replaced and the link stays a link;
 *   - a regular file is replaced atomically and keeps its permission bits (and, where allowed, its
 *     owner); one the user may not write is refused;
 *   - nothing: a new file, created with the permissions the umask allows (0666 & ~umask);
 *   - a FIFO, a character or block device or any other non-regular file is opened and written
 *     directly, never replaced (a failed run cannot take back what it wrote there);
 *   - a directory or an empty name is refused with a message.
 *
 * The temporary file ("TARGET.tmpXXXXXX") is removed by tte_outfile_abort, at exit() (also after
 * tte_die), and on SIGINT, SIGTERM and SIGHUP (handlers installed here when those signals have
 * their default action; the signal is then raised again, so the exit status still says it). A
 * process killed by SIGKILL (kill -9) or a machine that stops cannot clean up: such a run leaves its
 * TARGET.tmpXXXXXX behind (the target itself is intact), and it may be deleted. */
#ifndef TTE_OUTFILE_H
#define TTE_OUTFILE_H

#include <stdio.h>

typedef struct {
    FILE *f;    /* write here */
    char *path; /* the target (symbolic links resolved), NULL for stdout */
    char *tmp;  /* the temporary file; NULL when the target is written directly */
} tte_outfile;

/* Returns 0, or -1 with a message in ERR when the target cannot be written (out of memory exits,
 * xalloc.h). Same as tte_outfile_open_for with no inputs. */
int tte_outfile_open(tte_outfile *o, const char *path, char *err, size_t errlen);
/* As tte_outfile_open, and refuses (-1, a message naming the file) a PATH that is, after symbolic
 * links, the same regular file as one of the tool's inputs: the N paths in INPUTS, as a tool passes
 * its FILE operands to tte_jsonl_open_list ("-" and N == 0 mean standard input, compared by what is
 * open there). INPUTS NULL: the tool reads no file (N is ignored). */
int tte_outfile_open_for(tte_outfile *o, const char *path, char *const *inputs, int n, char *err,
                         size_t errlen);
/* Flushes, syncs and renames into place (or closes a target written directly). Returns 0, or -1
 * with a message in ERR (a replaced target is then untouched). */
int tte_outfile_commit(tte_outfile *o, char *err, size_t errlen);
/* Drops the temporary file; the target is untouched. On stdout, flushes what was written: a failed
 * run's earlier records stay, since a pipe cannot take them back (so for a target written
 * directly). */
void tte_outfile_abort(tte_outfile *o);

/* The end of a tool's run: commits when OK (a failed commit is the error line), else aborts.
 * Returns the exit status, TTE_EXIT_OK or TTE_EXIT_FAIL (cli.h). */
int tte_outfile_finish(tte_outfile *o, int ok);

#endif
