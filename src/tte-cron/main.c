/* tte-cron: runs a command (a sweep's make, a script) from cron so that two runs never overlap
 * (man/tte-cron.1). It takes an flock(2) lock on a file; when another run holds it, it says so and
 * exits 0 (or, with --wait, waits for it). The command's output is appended to a log between a
 * start and an end line. What a rerun recomputes is up to the command: with tte.mk or the tools'
 * cache, only what is missing.
 *
 * The lock is held by an open file description that the command inherits, so it stays held while
 * any process of the run lives (tte-cron killed, the command's children still running), and the
 * kernel drops it when the last one ends: no stale lock files to clean after a crash. The lock
 * file's content (pid, host, start time of the holder) is only for the message. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

static const char HELP[] =
    "Usage: tte-cron --lock FILE [OPTION]... [--] COMMAND [ARG]...\n"
    "  or:  tte-cron --log FILE [OPTION]... [--] COMMAND [ARG]...\n"
    "Run COMMAND unless another run that holds the same lock is still going: then say so and exit 0\n"
    "(or wait for it, with --wait). For sweeps rerun from cron.\n"
    "\n"
    "  --lock FILE      the lock file, created when missing (default: the log's name + .lock)\n"
    "  --log FILE       append COMMAND's standard output and error to FILE, between a start and an\n"
    "                   end line (default: they go where tte-cron's go)\n"
    "  --wait           wait until the other run ends, then run\n"
    "  --timeout S      with --wait: wait at most S seconds, then exit 0 without running\n";
static const char HELP_TAIL[] =
    "Exit status: COMMAND's (128 + N when signal N ended it); 0 when another run holds the lock;\n"
    "1 when COMMAND cannot be run or the lock cannot be taken; 2 usage error. See tte-cron(1).\n";

static int log_fd = -1;
static pid_t child;

/* "2026-01-31 03:00:00" in local time. */
static void now_text(char *out, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A line "tte-cron: DATE: message" on stderr and, with --log, in the log. */
static void say(int to_stderr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int to_stderr, const char *fmt, ...) {
    char when[32], msg[2048];
    now_text(when, sizeof when);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (to_stderr) fprintf(stderr, "%s: %s\n", tte_prog, msg);
    if (log_fd >= 0) dprintf(log_fd, "%s: %s: %s\n", tte_prog, when, msg);
}

static void forward(int sig) {
    if (child > 0) kill(child, sig);
}

static void on_alarm(int sig) { (void)sig; /* interrupts flock() */ }

/* The holder's line of the lock file, for the message ("pid 123 on host, since ..."). */
static void holder(int fd, char *out, size_t n) {
    ssize_t got = pread(fd, out, n - 1, 0);
    out[got > 0 ? got : 0] = 0;
    out[strcspn(out, "\n")] = 0;
    if (!out[0]) snprintf(out, n, "another process");
}

int main(int argc, char **argv) {
    tte_cli_init(argv[0]);
    enum { OPT_LOCK = 256, OPT_LOG, OPT_WAIT, OPT_TIMEOUT };
    static const struct option own[] = {{"lock", required_argument, NULL, OPT_LOCK},
                                        {"log", required_argument, NULL, OPT_LOG},
                                        {"wait", no_argument, NULL, OPT_WAIT},
                                        {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                        {NULL, 0, NULL, 0}};
    /* "+": options end at COMMAND, whose own options are its own. */
    tte_opts spec = {.shortopts = "+", .longopts = own, .help = HELP, .help_tail = HELP_TAIL};
    tte_common com = tte_common_defaults();
    const char *lock = NULL, *log = NULL;
    int wait = 0;
    long long timeout = -1;
    for (int c; (c = tte_opts_next(&spec, &com, argc, argv)) != -1;) {
        switch (c) {
        case OPT_LOCK:
            lock = optarg;
            break;
        case OPT_LOG:
            log = optarg;
            break;
        case OPT_WAIT:
            wait = 1;
            break;
        case OPT_TIMEOUT:
            timeout = tte_cli_int("--timeout", optarg, 0, 1 << 30);
            break;
        }
    }
    if (optind >= argc) tte_cli_usage("give the COMMAND to run");
    if (!lock && !log) tte_cli_usage("give --lock FILE (or --log FILE, whose name + .lock is the lock)");
    if (timeout >= 0 && !wait) tte_cli_usage("--timeout goes with --wait");
    char lock_path[4096];
    if (!lock) {
        if ((size_t)snprintf(lock_path, sizeof lock_path, "%s.lock", log) >= sizeof lock_path)
            tte_cli_usage("--log: the name is too long for its lock's");
        lock = lock_path;
    }
    char **cmd = argv + optind;
    if (log && (log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) < 0)
        tte_die("%s: %s", log, strerror(errno));
    /* Not O_CLOEXEC: the command inherits the lock (see the top of this file). */
    int fd = open(lock, O_RDWR | O_CREAT, 0666);
    if (fd < 0) tte_die("%s: %s", lock, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) tte_die("%s: cannot lock: %s", lock, strerror(errno));
        char who[256];
        holder(fd, who, sizeof who);
        if (!wait) {
            say(1, "%s is held by %s: not starting %s (another run is still going)", lock, who, cmd[0]);
            return TTE_EXIT_OK;
        }
        say(1, "%s is held by %s: waiting for it%s", lock, who, timeout >= 0 ? "" : " (no time limit)");
        struct sigaction sa = {.sa_handler = on_alarm};
        sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: the alarm ends flock() */
        if (timeout > 0) alarm((unsigned)timeout);
        int got = timeout == 0 ? -1 : flock(fd, LOCK_EX);
        alarm(0);
        if (got != 0) {
            if (timeout >= 0 && (timeout == 0 || errno == EINTR)) {
                say(1, "%s: still held after %lld s: not starting %s", lock, timeout, cmd[0]);
                return TTE_EXIT_OK;
            }
            tte_die("%s: cannot lock: %s", lock, strerror(errno));
        }
    }
    char host[256] = "", when[32], line[512];
    gethostname(host, sizeof host - 1);
    now_text(when, sizeof when);
    int n = snprintf(line, sizeof line, "pid %ld on %s, since %s\n", (long)getpid(), host, when);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        /* Only the message of a later run loses its detail. */
    }

    /* The command line, for the start line. */
    char args[1024] = "";
    for (char **a = cmd; *a; a++) {
        size_t len = strlen(args);
        snprintf(args + len, sizeof args - len, "%s%s", a == cmd ? "" : " ", *a);
    }
    say(0, "start: %s", args);
    double start = tte_now();
    struct sigaction fw = {.sa_handler = forward};
    sigaction(SIGINT, &fw, NULL);
    sigaction(SIGTERM, &fw, NULL);
    sigaction(SIGHUP, &fw, NULL);
    /* A close-on-exec pipe tells an exec that failed (its errno comes back) from a command that
     * ran and exited 127. */
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) tte_die("pipe: %s", strerror(errno));
    fflush(NULL);
    child = fork();
    if (child < 0) tte_die("fork: %s", strerror(errno));
    if (child == 0) {
        signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL), signal(SIGHUP, SIG_DFL);
        close(ep[0]);
        int e = 0;
        if (log_fd >= 0 && (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0))
            e = errno;
        else
            execvp(cmd[0], cmd), e = errno;
        if (write(ep[1], &e, sizeof e) != (ssize_t)sizeof e) {
        }
        _exit(127);
    }
    close(ep[1]);
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(ep[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    close(ep[0]);
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) tte_die("waitpid: %s", strerror(errno));
    if (got == (ssize_t)sizeof exec_errno) {
        say(0, "end: cannot run %s: %s", cmd[0], strerror(exec_errno));
        tte_die("%s: %s", cmd[0], strerror(exec_errno));
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        say(0, "end: signal %d after %.0f s", WTERMSIG(status), tte_now() - start);
    else
        say(rc != 0 && !log, "end: exit status %d after %.0f s", rc, tte_now() - start);
    return rc;
}
