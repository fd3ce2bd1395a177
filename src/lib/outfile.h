/* outfile: output files written atomically. The data goes to a temporary file beside the target,
 * which replaces the target only when everything was written; a failed or interrupted run leaves
 * the previous file as it was. "-" (or NULL) is stdout, written directly. */
#ifndef TTE_OUTFILE_H
#define TTE_OUTFILE_H

#include <stdio.h>

typedef struct {
    FILE *f;    /* write here */
    char *path; /* the target, NULL for stdout */
    char *tmp;  /* the temporary file */
} tte_outfile;

/* Returns 0, or -1 with a message in ERR when the temporary file cannot be created (out of memory
 * exits, xalloc.h). */
int tte_outfile_open(tte_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, syncs and renames into place. Returns 0, or -1 with a message in ERR (the target is
 * then untouched). */
int tte_outfile_commit(tte_outfile *o, char *err, size_t errlen);
/* Drops the temporary file; the target is untouched. On stdout, flushes what was written: a failed
 * run's earlier records stay, since a pipe cannot take them back. */
void tte_outfile_abort(tte_outfile *o);

/* The end of a tool's run: commits when OK (a failed commit is the error line), else aborts.
 * Returns the exit status, TTE_EXIT_OK or TTE_EXIT_FAIL (cli.h). */
int tte_outfile_finish(tte_outfile *o, int ok);

#endif
