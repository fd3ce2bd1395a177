/* options: see options.h. */
#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/cpu_kernels.h"
#include "jsonl.h"
#include "shard.h"

/* Codes of the common options in the merged table: above any tool's own (short letters and 256
 * up), below nothing getopt_long returns itself. */
enum {
    CODE_THREADS = 0x10000,
    CODE_DEVICE,
    CODE_KV_MEM,
    CODE_BATCH,
    CODE_NO_CACHE,
    CODE_REFRESH,
    CODE_PROGRESS,
    CODE_SHARD,
    CODE_OUTPUT = 'o',
    CODE_HELP = 'h',
    CODE_VERSION = 'V',
};

/* Every common option: its flag (0: always taken), table entry and --help line. A line's "%d" is
 * filled with the tool's default batch. */
static const struct common {
    unsigned flag;
    struct option opt;
    const char *usage, *help;
} commons[] = {
    {TTE_OPT_THREADS,
     {"threads", required_argument, NULL, CODE_THREADS},
     "--threads N",
     "CPU threads (default: all cores)"},
    {TTE_OPT_DEVICE,
     {"device", required_argument, NULL, CODE_DEVICE},
     "--device D",
     "cpu, cuda or auto (default: auto, cuda when a GPU is present)"},
    {TTE_OPT_KV_MEM,
     {"kv-mem", required_argument, NULL, CODE_KV_MEM},
     "--kv-mem SIZE",
     "KV-cache memory, e.g. 512M or 4G (default: what the run needs)"},
    {TTE_OPT_BATCH,
     {"batch", required_argument, NULL, CODE_BATCH},
     "--batch N",
     "sequences decoded together in one forward call (default %d)"},
    {TTE_OPT_CACHE,
     {"no-cache", no_argument, NULL, CODE_NO_CACHE},
     "--no-cache",
     "neither read nor write stored results ($TTE_CACHE)"},
    {TTE_OPT_CACHE,
     {"refresh", no_argument, NULL, CODE_REFRESH},
     "--refresh",
     "recompute and overwrite stored results"},
    {TTE_OPT_PROGRESS,
     {"progress", no_argument, NULL, CODE_PROGRESS},
     "--progress",
     "show the progress line even when stderr is not a terminal"},
    {TTE_OPT_SHARD,
     {"shard", required_argument, NULL, CODE_SHARD},
     "--shard K/N",
     "only the records whose id falls in shard K of N (see tte(7))"},
    {TTE_OPT_OUTPUT,
     {"output", required_argument, NULL, CODE_OUTPUT},
     "-o, --output FILE",
     "write to FILE, replaced only when complete (default: standard output)"},
    {0, {"help", no_argument, NULL, CODE_HELP}, "-h, --help", "show this help and exit"},
    {0, {"version", no_argument, NULL, CODE_VERSION}, "-V, --version", "show the version and exit"},
};
enum { NCOMMON = sizeof commons / sizeof commons[0] };

static int takes(const tte_opts *spec, const struct common *c) {
    return c->flag == 0 || (spec->common & c->flag);
}

tte_common tte_common_defaults(void) { return (tte_common){.device = "auto", .use_cache = 1, .shard_n = 1}; }

tte_jsonl *tte_opts_input(const tte_common *com, char *const *paths, int n) {
    tte_jsonl *in = tte_jsonl_open_list(paths, n);
    tte_jsonl_set_shard(in, com->shard_k, com->shard_n);
    return in;
}

void tte_opts_help(const tte_opts *spec, FILE *f) {
    fputs(spec->help, f);
    fputs("\nCommon options:\n", f);
    for (int i = 0; i < NCOMMON; i++) {
        if (!takes(spec, &commons[i])) continue;
        fprintf(f, "  %-24s", commons[i].usage);
        fprintf(f, commons[i].help, spec->defaults.batch);
        fputc('\n', f);
    }
    if (spec->help_tail) fprintf(f, "\n%s", spec->help_tail);
}

/* The merged getopt_long tables: ":" first (so a missing value is ':', cli.h), the tool's own
 * short options, then the common ones. */
static void merge(tte_opts *spec, const tte_common *com) {
    int n = 0;
    for (const struct option *o = spec->longopts; o && o->name; o++) {
        if (n == TTE_OPTS_MAX) tte_die("more than %d options", TTE_OPTS_MAX);
        spec->merged[n++] = *o;
    }
    char *s = spec->shorts, *end = spec->shorts + sizeof spec->shorts - 8;
    *s++ = ':';
    for (const char *p = spec->shortopts; p && *p; p++) {
        if (s == end) tte_die("too many short options");
        *s++ = *p;
    }
    for (int i = 0; i < NCOMMON; i++) {
        const struct common *c = &commons[i];
        if (!takes(spec, c)) continue;
        if (n == TTE_OPTS_MAX) tte_die("more than %d options", TTE_OPTS_MAX);
        spec->merged[n++] = c->opt;
        if (c->opt.val < 256) {
            *s++ = (char)c->opt.val;
            if (c->opt.has_arg == required_argument) *s++ = ':';
        }
    }
    *s = 0;
    spec->merged[n] = (struct option){0};
    spec->defaults = *com;
    spec->ready = 1;
    optind = 0; /* glibc: start afresh, also when an earlier parse ran in this process */
    opterr = 0; /* the only message is ours */
}

/* More threads than CPUs only slow a run down (they take turns on the cores and wait for each
 * other at every step): --threads is capped at the cores, said once per process. */
static void cap_threads(tte_common *com) {
    static int said;
    int cores = tte_cli_cores();
    if (com->threads <= cores) return;
    if (!said)
        tte_warn("--threads %d: this machine gives %d CPU%s to this run; using %d threads", com->threads,
                 cores, cores == 1 ? "" : "s", cores);
    said = 1;
    com->threads = cores;
}

int tte_opts_next(tte_opts *spec, tte_common *com, int argc, char **argv) {
    if (!spec->ready) merge(spec, com);
    for (;;) {
        int c = getopt_long(argc, argv, spec->shorts, spec->merged, NULL);
        switch (c) {
        case ':':
        case '?':
            tte_cli_bad_option(c, argv);
        case CODE_THREADS:
            com->threads = (int)tte_cli_int("--threads", optarg, 1, 1024);
            break;
        case CODE_DEVICE:
            com->device = tte_cli_device(optarg);
            break;
        case CODE_KV_MEM:
            com->kv_mem = tte_cli_size("--kv-mem", optarg);
            break;
        case CODE_BATCH:
            com->batch = (int)tte_cli_int("--batch", optarg, 1, 4096);
            break;
        case CODE_NO_CACHE:
            com->use_cache = 0;
            break;
        case CODE_REFRESH:
            com->refresh = 1;
            break;
        case CODE_PROGRESS:
            com->progress = 1;
            break;
        case CODE_SHARD: {
            tte_shard sh = tte_cli_shard("--shard", optarg);
            com->shard_k = sh.k, com->shard_n = sh.n;
            break;
        }
        case CODE_OUTPUT:
            if (!*optarg) tte_cli_usage("-o: the file name is empty (use '-' for standard output)");
            com->output = optarg;
            break;
        case CODE_HELP:
            tte_opts_help(spec, stdout);
            exit(fflush(stdout) == 0 ? TTE_EXIT_OK : TTE_EXIT_FAIL);
        case CODE_VERSION:
            /* A tool that runs a model also says which CPU kernels this machine gets (TTE_CPU). */
            if (spec->common & TTE_OPT_DEVICE) {
                printf("%s %s\ncpu kernels: %s\n", tte_prog, TTE_VERSION,
                       tte_cpu_path_name(tte_cpu_path_now()));
                exit(TTE_EXIT_OK);
            }
            tte_cli_version();
        case -1:
            cap_threads(com);
            return -1;
        default:
            return c;
        }
    }
}
