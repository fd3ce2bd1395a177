/* cli: what every tool does the same way: --help and --version, the exit statuses, error messages,
 * and the progress line.
 *
 * Exit statuses, documented in every man page:
 *   0  success
 *   1  bad input or a failure while running (the message names the file, line and field)
 *   2  usage error (unknown option, bad option value) */
#ifndef TTE_CLI_H
#define TTE_CLI_H

#include <stddef.h>
#include <stdnoreturn.h>

enum { TTE_EXIT_OK = 0, TTE_EXIT_FAIL = 1, TTE_EXIT_USAGE = 2 };

/* The running tool's name, used as the prefix of every message. Set once by tte_cli_init, which
 * also routes jansson's allocations through xalloc.h's out-of-memory policy. */
extern const char *tte_prog;
void tte_cli_init(const char *prog);

/* Prints HELP (the tool's whole --help text) to stdout and exits 0. */
noreturn void tte_cli_help(const char *help);
/* Prints "PROG VERSION" and exits 0. */
noreturn void tte_cli_version(void);
/* "PROG: message (see PROG --help)", one line on stderr, exit 2. */
noreturn void tte_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: message" on stderr, exit 1. */
noreturn void tte_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: message" on stderr, and go on. */
void tte_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The usage error for getopt_long's return C of ':' (a value is missing) or '?' (unknown option).
 * getopt_long must run with an option string starting with ':' and opterr = 0, so that this one
 * message is the only one; options.h does both. */
noreturn void tte_cli_bad_option(int c, char *const argv[]);

/* Option value parsers: a bad value is a usage error naming OPTION. */
long long tte_cli_int(const char *option, const char *value, long long min, long long max);
double tte_cli_double(const char *option, const char *value, double min, double max);
/* A range "A..B" of integers in [MIN, MAX], A <= B, into *A and *B. An end left out ("A..", "..B")
 * keeps the value *A or *B had. Every range option of every tool is written this way. */
void tte_cli_range(const char *option, const char *value, long long min, long long max, long long *a,
                   long long *b);
/* A --device value: cpu, cuda or auto (returned as given). */
const char *tte_cli_device(const char *value);
/* A memory size: bytes with an optional K, M, G or T suffix (powers of 1024, either case), like
 * 512M, 4G or 1T, at most TTE_CLI_SIZE_MAX (1024T); a bad or larger value is a usage error that says
 * which. */
#define TTE_CLI_SIZE_MAX ((size_t)1 << 50)
size_t tte_cli_size(const char *option, const char *value);
/* The CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), else the online
 * cores; at least 1. --threads is capped at this (options.h). */
int tte_cli_cores(void);

/* Progress on stderr, one line redrawn in place: shown when stderr is a terminal or when forced
 * (--progress), never otherwise, so logs and pipes stay clean. Updates are throttled to 10/s. */
typedef struct {
    int enabled;
    double start, last; /* seconds, monotonic */
    int drawn;          /* a line is on screen and must be ended */
} tte_progress;

void tte_progress_init(tte_progress *p, int force);
void tte_progress_update(tte_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tte_progress_done(tte_progress *p);
double tte_now(void);

#endif
