/* cli: see cli.h. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

const char *tte_prog = "tte";

void tte_cli_init(const char *prog) {
    const char *slash = strrchr(prog, '/');
    tte_prog = slash ? slash + 1 : prog;
    /* jansson's own allocations follow the one out-of-memory policy too (xalloc.h): a record that
     * could not be built is never written half-built. */
    json_set_alloc_funcs(tte_xmalloc, free);
}

noreturn void tte_cli_help(const char *help) {
    fputs(help, stdout);
    exit(TTE_EXIT_OK);
}

noreturn void tte_cli_version(void) {
    printf("%s %s\n", tte_prog, TTE_VERSION);
    exit(TTE_EXIT_OK);
}

static void vmessage(const char *fmt, va_list ap) {
    fprintf(stderr, "%s: ", tte_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

noreturn void tte_cli_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", tte_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", tte_prog);
    exit(TTE_EXIT_USAGE);
}

noreturn void tte_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    exit(TTE_EXIT_FAIL);
}

void tte_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

noreturn void tte_cli_bad_option(int c, char *const argv[]) {
    /* A bad short option may sit inside a cluster (-xvf), which argv[optind - 1] need not be;
     * optopt names it. A bad long option has optopt 0 or its code, and argv[optind - 1] is it. */
    const char *arg = argv[optind - 1];
    int is_long = strncmp(arg, "--", 2) == 0;
    if (c == ':') {
        if (is_long) tte_cli_usage("option '%s' needs a value", arg);
        tte_cli_usage("option '-%c' needs a value", optopt);
    }
    if (is_long && optopt && strchr(arg, '='))
        tte_cli_usage("option '%.*s' takes no value", (int)(strchr(arg, '=') - arg), arg);
    if (is_long || !optopt) tte_cli_usage("unknown option '%s'", arg);
    tte_cli_usage("unknown option '-%c'", optopt);
}

long long tte_cli_int(const char *option, const char *value, long long min, long long max) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max)
        tte_cli_usage("%s: '%s' is not an integer in [%lld, %lld]", option, value, min, max);
    return v;
}

void tte_cli_range(const char *option, const char *value, long long min, long long max, long long *a,
                   long long *b) {
    const char *dots = strstr(value, "..");
    if (!dots) tte_cli_usage("%s: '%s' is not a range A..B", option, value);
    char start[64];
    if ((size_t)(dots - value) >= sizeof start) tte_cli_usage("%s: '%s' is not a range A..B", option, value);
    snprintf(start, sizeof start, "%.*s", (int)(dots - value), value);
    if (*start) *a = tte_cli_int(option, start, min, max);
    if (dots[2]) *b = tte_cli_int(option, dots + 2, min, max);
    if (*a > *b) tte_cli_usage("%s: start %lld is after end %lld", option, *a, *b);
}

const char *tte_cli_device(const char *value) {
    if (strcmp(value, "cpu") && strcmp(value, "cuda") && strcmp(value, "auto"))
        tte_cli_usage("--device: '%s' is not cpu, cuda or auto", value);
    return value;
}

size_t tte_cli_size(const char *option, const char *value) {
    char *end;
    double v = strtod(value, &end);
    double unit = 1.0;
    switch (*end) {
    case 'K':
    case 'k':
        unit = 1024.0;
        break;
    case 'M':
    case 'm':
        unit = 1048576.0;
        break;
    case 'G':
    case 'g':
        unit = 1073741824.0;
        break;
    case 'T':
    case 't':
        unit = 1099511627776.0;
        break;
    }
    if (unit > 1) end++;
    if (end == value || *end || !(v > 0) || isspace((unsigned char)*value))
        tte_cli_usage("%s: '%s' is not a size like 512M, 4G or 1T", option, value);
    if (!(v * unit <= (double)TTE_CLI_SIZE_MAX))
        tte_cli_usage("%s: '%s' is more than the largest size, %lluT", option, value,
                      (unsigned long long)(TTE_CLI_SIZE_MAX >> 40));
    return (size_t)(v * unit);
}

int tte_cli_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1 << 20 ? (int)n : 1;
}

double tte_cli_double(const char *option, const char *value, double min, double max) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < min || v > max)
        tte_cli_usage("%s: '%s' is not a number in [%g, %g]", option, value, min, max);
    return v;
}

double tte_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tte_progress_init(tte_progress *p, int force) {
    p->enabled = force || isatty(STDERR_FILENO);
    p->start = tte_now();
    p->last = 0;
    p->drawn = 0;
}

void tte_progress_update(tte_progress *p, const char *fmt, ...) {
    if (!p->enabled) return;
    double now = tte_now();
    if (p->drawn && now - p->last < 0.1) return;
    p->last = now;
    p->drawn = 1;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K%s: ", tte_prog); /* \033[K clears what a longer line left behind */
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void tte_progress_done(tte_progress *p) {
    if (p->enabled && p->drawn) fputc('\n', stderr);
    p->drawn = 0;
}
