/* options: the options several tools share, declared, parsed and described in one place.
 *
 * A tool names the common options it takes (TTE_OPT_* bits) and gives its own getopt_long table.
 * tte_opts_next merges the two tables, stores the common options in a tte_common, answers -h/--help
 * (the tool's text with the common options' lines from here) and -V/--version, and turns every bad
 * option into one usage line and exit 2 (cli.h). It returns the tool's own option codes, like
 * getopt_long, and -1 at the end; the operands are then argv[optind..argc-1].
 *
 *   static const struct option own[] = {{"budgets", required_argument, NULL, OPT_BUDGETS},
 *                                       {"samples", required_argument, NULL, 'n'},
 *                                       {NULL, 0, NULL, 0}};
 *   tte_opts spec = {.common = TTE_OPT_THREADS | TTE_OPT_DEVICE | TTE_OPT_BATCH | TTE_OPT_CACHE,
 *                    .shortopts = "n:", .longopts = own, .help = HELP, .help_tail = HELP_TAIL};
 *   tte_common com = tte_common_defaults();
 *   com.batch = 32;                               (the tool's default, which --help shows)
 *   for (int c; (c = tte_opts_next(&spec, &com, argc, argv)) != -1;)
 *       switch (c) {
 *       case OPT_BUDGETS: budgets = optarg; break;
 *       case 'n': samples = (int)tte_cli_int("-n", optarg, 1, 1 << 20); break;
 *       }
 *   then com.threads, com.device, com.batch, com.use_cache, com.refresh are the user's choices.
 *
 * -h/--help and -V/--version are always taken. Values are checked here (tte_cli_int and friends):
 * --threads 1..1024 (more than the CPUs this run may use is capped at them, with one line on
 * stderr: tte_cli_cores), --batch 1..4096, --device cpu|cuda|auto, --kv-mem a size like 512M or 1T.
 * The cap is applied when tte_opts_next returns -1, so the last --threads given counts.
 * Not thread-safe (getopt_long's globals); call from main. */
#ifndef TTE_OPTIONS_H
#define TTE_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "jsonl.h"

enum {
    TTE_OPT_THREADS = 1 << 0,  /* --threads N */
    TTE_OPT_DEVICE = 1 << 1,   /* --device D */
    TTE_OPT_KV_MEM = 1 << 2,   /* --kv-mem SIZE */
    TTE_OPT_BATCH = 1 << 3,    /* --batch N */
    TTE_OPT_CACHE = 1 << 4,    /* --no-cache and --refresh */
    TTE_OPT_PROGRESS = 1 << 5, /* --progress */
    TTE_OPT_OUTPUT = 1 << 6,   /* -o, --output FILE (write it with outfile.h) */
    TTE_OPT_SHARD = 1 << 7,    /* --shard K/N (shard.h; open the input with tte_opts_input) */
};

/* The common options' values. Strings point into argv or are literals. */
typedef struct {
    int threads;                    /* --threads; 0: all cores */
    const char *device;             /* --device: "cpu", "cuda" or "auto" */
    size_t kv_mem;                  /* --kv-mem in bytes; 0: the tool sizes it */
    int batch;                      /* --batch; a tool that takes it sets its default here first */
    int use_cache;                  /* 0 with --no-cache */
    int refresh;                    /* --refresh */
    int progress;                   /* --progress: force the progress line (cli.h) */
    const char *output;             /* -o; NULL: standard output */
    unsigned long shard_k, shard_n; /* --shard K/N; shard_n 1: the whole input */
} tte_common;

/* threads 0, device "auto", use_cache 1, shard 0/1, everything else 0 or NULL. */
tte_common tte_common_defaults(void);

/* The most long options a tool may have, its own and the common ones together. */
#define TTE_OPTS_MAX 96

typedef struct {
    /* Set by the tool: */
    unsigned common;               /* TTE_OPT_* bits */
    const char *shortopts;         /* the tool's own short options ("n:"), or NULL; not o, h, V */
    const struct option *longopts; /* the tool's own, ending with a zero entry, or NULL; their
                                      codes are short option letters or values from 256 up */
    const char *help;              /* --help text up to the common options ("Usage: ...") */
    const char *help_tail;         /* after them ("Exit status: ..."), or NULL */
    /* Private: built on the first call. */
    int ready;
    tte_common defaults; /* the values before the first option, which --help shows */
    struct option merged[TTE_OPTS_MAX + 1];
    char shorts[64];
} tte_opts;

/* The next of the tool's own options (optarg holds its value), or -1 at the end. Common options
 * are stored in *COM; --help and --version print and exit 0; a bad option is a usage error (exit
 * 2). The first call resets getopt (optind) and remembers *COM as the defaults. */
int tte_opts_next(tte_opts *spec, tte_common *com, int argc, char **argv);

/* The reader over the N files in PATHS (tte_jsonl_open_list) that returns only the records of
 * COM's --shard. */
tte_jsonl *tte_opts_input(const tte_common *com, char *const *paths, int n);

/* Prints the --help text of SPEC to F: help, "Common options:" with a line for each, help_tail. */
void tte_opts_help(const tte_opts *spec, FILE *f);

#endif
