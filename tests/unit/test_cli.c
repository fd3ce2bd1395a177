/* options: the common option set (options.h) and the option value parsers (cli.h). Each test parses
 * a made-up argv as a tool would; bad values must end the process with exit status 2. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "outfile.h"

enum { OPT_BUDGETS = 256 };
static const struct option own[] = {
    {"budgets", required_argument, NULL, OPT_BUDGETS},
    {"samples", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

/* The tool of these tests: --budgets and -n of its own, and every common option. */
static tte_opts spec_all(void) {
    return (tte_opts){.common = TTE_OPT_THREADS | TTE_OPT_DEVICE | TTE_OPT_KV_MEM | TTE_OPT_BATCH |
                                TTE_OPT_CACHE | TTE_OPT_PROGRESS | TTE_OPT_OUTPUT,
                      .shortopts = "n:",
                      .longopts = own,
                      .help = "Usage: tool [OPTION]... [FILE]...\n  --budgets A..B          budgets\n",
                      .help_tail = "Exit status: 0, 1, 2.\n"};
}

typedef struct {
    const char *budgets;
    int samples, operand;
} own_values;

/* Parses ARGV (NULL-terminated) like a tool's main: returns the tool's own values and the common
 * ones in *COM. */
static own_values parse(tte_opts *spec, tte_common *com, char **argv) {
    int argc = 0;
    while (argv[argc]) argc++;
    own_values v = {0};
    for (int c; (c = tte_opts_next(spec, com, argc, argv)) != -1;) {
        if (c == OPT_BUDGETS)
            v.budgets = optarg;
        else if (c == 'n')
            v.samples = (int)tte_cli_int("-n", optarg, 1, 100);
        else
            cr_assert_fail("unexpected code %d", c);
    }
    v.operand = optind;
    return v;
}

static void init(void) { tte_cli_init("tool"); }

Test(options, defaults_without_options, .init = init) {
    tte_opts spec = spec_all();
    tte_common com = tte_common_defaults();
    char *argv[] = {"tool", NULL};
    own_values v = parse(&spec, &com, argv);
    cr_expect_eq(com.threads, 0);
    cr_expect_str_eq(com.device, "auto");
    cr_expect_eq(com.kv_mem, 0);
    cr_expect_eq(com.use_cache, 1);
    cr_expect_eq(com.refresh, 0);
    cr_expect_eq(com.progress, 0);
    cr_expect_null(com.output);
    cr_expect_null(v.budgets);
    cr_expect_eq(v.operand, 1);
}

Test(options, common_and_own_options_together, .init = init) {
    tte_opts spec = spec_all();
    tte_common com = tte_common_defaults();
    com.batch = 32;
    char *argv[] = {"tool",        "--threads", "3",          "--device",   "cpu",      "--kv-mem",
                    "512M",        "--batch=8", "--no-cache", "--refresh",  "-n",       "4",
                    "-oout.jsonl", "--budgets", "3..9",       "--progress", "in.jsonl", NULL};
    own_values v = parse(&spec, &com, argv);
    cr_expect_eq(com.threads, tte_cli_cores() < 3 ? tte_cli_cores() : 3); /* capped at the CPUs */
    cr_expect_str_eq(com.device, "cpu");
    cr_expect_eq(com.kv_mem, (size_t)512 << 20);
    cr_expect_eq(com.batch, 8);
    cr_expect_eq(com.use_cache, 0);
    cr_expect_eq(com.refresh, 1);
    cr_expect_eq(com.progress, 1);
    cr_expect_str_eq(com.output, "out.jsonl");
    cr_expect_str_eq(v.budgets, "3..9");
    cr_expect_eq(v.samples, 4);
    cr_expect_str_eq(argv[v.operand], "in.jsonl");
}

Test(options, a_second_parse_starts_afresh, .init = init) {
    char *first[] = {"tool", "-n", "2", "a", NULL};
    char *second[] = {"tool", "--output", "x", NULL};
    tte_opts spec = spec_all();
    tte_common com = tte_common_defaults();
    cr_expect_eq(parse(&spec, &com, first).samples, 2);
    tte_opts again = spec_all();
    tte_common com2 = tte_common_defaults();
    own_values v = parse(&again, &com2, second);
    cr_expect_str_eq(com2.output, "x");
    cr_expect_eq(v.operand, 3);
}

Test(options, help_has_the_common_lines_the_tool_takes, .init = init) {
    tte_opts spec = {.shortopts = "n:",
                     .longopts = own,
                     .common = TTE_OPT_BATCH | TTE_OPT_OUTPUT,
                     .help = "Usage: tool\n",
                     .help_tail = "Exit status.\n"};
    tte_common com = tte_common_defaults();
    com.batch = 32;
    char *argv[] = {"tool", NULL};
    parse(&spec, &com, argv); /* remembers the defaults */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tte_opts_help(&spec, f);
    fclose(f);
    cr_expect(strncmp(text, "Usage: tool\n", 12) == 0, "%s", text);
    cr_expect(strstr(text, "--batch N") && strstr(text, "(default 32)"), "%s", text);
    cr_expect(strstr(text, "-o, --output FILE"), "%s", text);
    cr_expect(strstr(text, "-h, --help") && strstr(text, "-V, --version"), "%s", text);
    cr_expect(!strstr(text, "--threads") && !strstr(text, "--kv-mem"), "not taken: %s", text);
    cr_expect(strstr(text, "\nExit status.\n"), "%s", text);
    free(text);
}

/* A tool that does not take an option gets "unknown option" for it. */
Test(options, a_common_option_not_taken_is_unknown, .init = init, .exit_code = TTE_EXIT_USAGE) {
    tte_opts spec = {.help = "Usage: tool\n"};
    tte_common com = tte_common_defaults();
    char *argv[] = {"tool", "--threads", "2", NULL};
    parse(&spec, &com, argv);
}

#define USAGE_ERROR(name, ...)                                                                               \
    Test(options, name, .init = init, .exit_code = TTE_EXIT_USAGE) {                                         \
        tte_opts spec = spec_all();                                                                          \
        tte_common com = tte_common_defaults();                                                              \
        char *argv[] = {"tool", __VA_ARGS__, NULL};                                                          \
        parse(&spec, &com, argv);                                                                            \
        cr_assert_fail("parsed");                                                                            \
    }
USAGE_ERROR(unknown_long_option, "--bogus")
USAGE_ERROR(unknown_short_option, "-x")
USAGE_ERROR(missing_value, "--threads")
USAGE_ERROR(missing_short_value, "-o")
USAGE_ERROR(threads_zero, "--threads", "0")
USAGE_ERROR(threads_not_a_number, "--threads", "3x")
USAGE_ERROR(batch_too_large, "--batch", "100000")
USAGE_ERROR(bad_device, "--device", "tpu")
USAGE_ERROR(bad_size, "--kv-mem", "lots")
USAGE_ERROR(own_bad_value, "-n", "0")
USAGE_ERROR(value_to_a_flag, "--no-cache=1")

static void redirect(void) {
    init();
    cr_redirect_stdout();
    cr_redirect_stderr();
}

Test(options, help_exits_0, .init = redirect, .exit_code = TTE_EXIT_OK) {
    tte_opts spec = spec_all();
    tte_common com = tte_common_defaults();
    char *argv[] = {"tool", "-h", NULL};
    parse(&spec, &com, argv);
    cr_assert_fail("-h returned");
}

Test(options, version_exits_0, .init = redirect, .exit_code = TTE_EXIT_OK) {
    tte_opts spec = spec_all();
    tte_common com = tte_common_defaults();
    char *argv[] = {"tool", "--version", NULL};
    parse(&spec, &com, argv);
    cr_assert_fail("--version returned");
}

/* Parses ARGV in a child process; returns its exit status, with the first line of its stderr in TEXT
 * (and fails if the tool wrote another: under the sanitizers, LeakSanitizer may add its own). */
static int run_child(char **argv, char *text, size_t size) {
    int fds[2];
    cr_assert(pipe(fds) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        tte_opts spec = spec_all();
        tte_common com = tte_common_defaults();
        parse(&spec, &com, argv);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    for (ssize_t got; (got = read(fds[0], text + len, size - 1 - len)) > 0;) len += (size_t)got;
    text[len] = 0;
    close(fds[0]);
    char *rest = strchr(text, '\n');
    if (rest) {
        cr_expect(!strstr(rest + 1, "tool:"), "more than one line: %s", text);
        rest[1] = 0;
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A usage error is one line on stderr naming the option. */
Test(options, usage_message_is_one_line, .init = init) {
    char text[512];
    char *unknown[] = {"tool", "-n", "2", "--bogus", NULL};
    cr_expect_eq(run_child(unknown, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text, "tool: unknown option '--bogus' (see tool --help)\n");
    char *flag_value[] = {"tool", "--no-cache=1", NULL};
    cr_expect_eq(run_child(flag_value, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text, "tool: option '--no-cache' takes no value (see tool --help)\n");
    char *in_cluster[] = {"tool", "-n2", "-xo", "f", NULL};
    cr_expect_eq(run_child(in_cluster, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text, "tool: unknown option '-x' (see tool --help)\n");
}

Test(cli, ranges_of_values, .init = init) {
    cr_expect_eq(tte_cli_int("--n", "-3", -5, 5), -3);
    cr_expect_eq(tte_cli_size("--kv-mem", "4G"), (size_t)4 << 30);
    cr_expect_eq(tte_cli_size("--kv-mem", "1000"), 1000);
    cr_expect_float_eq(tte_cli_double("--level", "0.95", 0, 1), 0.95, 1e-12);
}

/* --kv-mem takes T too, and a size past the largest says which the largest is (issue 21, 15). */
Test(cli, sizes_up_to_terabytes, .init = init) {
    cr_expect_eq(tte_cli_size("--kv-mem", "1T"), (size_t)1 << 40);
    cr_expect_eq(tte_cli_size("--kv-mem", "2t"), (size_t)2 << 40);
    cr_expect_eq(tte_cli_size("--kv-mem", "512m"), (size_t)512 << 20);
    cr_expect_eq(tte_cli_size("--kv-mem", "1024T"), TTE_CLI_SIZE_MAX);
}

USAGE_ERROR(size_past_the_largest, "--kv-mem", "1025T")
USAGE_ERROR(empty_output_name, "-o", "")

Test(options, size_messages, .init = init) {
    char text[512];
    char *big[] = {"tool", "--kv-mem", "5000T", NULL};
    cr_expect_eq(run_child(big, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text,
                     "tool: --kv-mem: '5000T' is more than the largest size, 1024T (see tool --help)\n");
    char *bad[] = {"tool", "--kv-mem", "1P", NULL};
    cr_expect_eq(run_child(bad, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text, "tool: --kv-mem: '1P' is not a size like 512M, 4G or 1T (see tool --help)\n");
    char *empty[] = {"tool", "-o", "", NULL};
    cr_expect_eq(run_child(empty, text, sizeof text), TTE_EXIT_USAGE);
    cr_expect_str_eq(text,
                     "tool: -o: the file name is empty (use '-' for standard output) (see tool --help)\n");
}

/* --threads above the CPUs is capped at them, with one line on stderr, once (issue 21, 10). */
Test(options, threads_capped_at_the_cores, .init = init) {
    int cores = tte_cli_cores();
    cr_assert(cores >= 1);
    if (cores >= 1024) cr_skip_test("1024 CPUs or more here");
    int fds[2];
    cr_assert(pipe(fds) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        for (int i = 0; i < 2; i++) {
            tte_opts spec = spec_all();
            tte_common com = tte_common_defaults();
            char *argv[] = {"tool", "--threads", "1024", NULL};
            parse(&spec, &com, argv);
            if (com.threads != cores) _exit(10);
            char *within[] = {"tool", "--threads", "1", NULL};
            tte_opts again = spec_all();
            parse(&again, &com, within);
            if (com.threads != 1) _exit(11);
        }
        _exit(0);
    }
    close(fds[1]);
    char text[1024];
    size_t len = 0;
    for (ssize_t got; (got = read(fds[0], text + len, sizeof text - 1 - len)) > 0;) len += (size_t)got;
    text[len] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, text);
    char want[256];
    snprintf(want, sizeof want,
             "tool: --threads 1024: this machine gives %d CPU%s to this run; using %d threads\n", cores,
             cores == 1 ? "" : "s", cores);
    cr_expect_str_eq(text, want);
}

/* ---- outfile (issue 21, 1): no temporary file outlives the process ---- */

static int entries(const char *path) {
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* A child opens DIR/out, writes, then ends as HOW says: 0 exit(1) (as tte_die does), else that
 * signal. Returns the child's wait status. */
static int outfile_child(const char *path, int how) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        char file[256], err[256];
        snprintf(file, sizeof file, "%s/out", path);
        /* Run under nohup (SIGHUP ignored, which outfile keeps), the signal must still be one that
         * ends the child. */
        if (how) signal(how, SIG_DFL);
        tte_outfile o;
        if (tte_outfile_open(&o, file, err, sizeof err) != 0) _exit(20);
        fputs("partial\n", o.f);
        fflush(o.f);
        if (entries(path) != 1) _exit(21);
        if (how) raise(how);
        exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

Test(outfile, temporary_file_removed_at_exit_and_on_signals, .init = init) {
    char path[] = "/tmp/tte-test-outfile-XXXXXX";
    cr_assert_not_null(mkdtemp(path));
    int status = outfile_child(path, 0);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    cr_expect_eq(entries(path), 0, "exit() left a file");
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        status = outfile_child(path, sigs[i]);
        cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i], "signal %d: status %d", sigs[i],
                  status);
        cr_expect_eq(entries(path), 0, "signal %d left a file", sigs[i]);
    }
    rmdir(path);
}
