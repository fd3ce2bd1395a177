#!/usr/bin/env bash
# -o FILE in every tool (src/lib/outfile.c, issue 21 item 1): a regular file is replaced atomically
# and keeps its mode, a new one gets the umask's, a symbolic link is followed (the link stays), a
# FIFO or a device is written directly, the tool's own input and an empty name are refused, and a
# killed run leaves no temporary file.
source "$(dirname "$0")/common.bash"
cd "$(dirname "$0")/../.."
DATA=$PWD/tests/cli/data/fit-scored.jsonl
MODEL=$PWD/share/models/tte-tiny-arith
cd "$TMP"
mode() { stat -c %a "$1"; }
no_tmp() { ! ls "$1"/*.tmp?????? >/dev/null 2>&1 || fail "$2: a temporary file is left: $(ls "$1")"; }

tte-fit --bootstrap 0 "$DATA" >want

# A new file: the umask's permissions (not 0600).
(umask 022 && tte-fit --bootstrap 0 -o new.jsonl "$DATA") || fail "-o new.jsonl"
cmp -s new.jsonl want || fail "-o new.jsonl: not the output"
[ "$(mode new.jsonl)" = 644 ] || fail "new file with umask 022 has mode $(mode new.jsonl)"
(umask 077 && tte-fit --bootstrap 0 -o private.jsonl "$DATA") || fail "-o private.jsonl"
[ "$(mode private.jsonl)" = 600 ] || fail "new file with umask 077 has mode $(mode private.jsonl)"

# A replaced file keeps its mode.
echo old >kept.jsonl && chmod 640 kept.jsonl
(umask 077 && tte-fit --bootstrap 0 -o kept.jsonl "$DATA") || fail "-o kept.jsonl"
cmp -s kept.jsonl want || fail "-o kept.jsonl: not replaced"
[ "$(mode kept.jsonl)" = 640 ] || fail "replaced 0640 file now has mode $(mode kept.jsonl)"
# One the user may not write is refused, and stays.
if [ "$(id -u)" != 0 ]; then
    echo old >ro.jsonl && chmod 444 ro.jsonl
    expect_fail 1 "^tte-fit: ro.jsonl: cannot write: Permission denied$" tte-fit -o ro.jsonl "$DATA"
    [ "$(cat ro.jsonl)" = old ] || fail "a read-only file was replaced"
fi

# Symbolic links are followed, also relative ones through another folder and chains; the links stay.
mkdir -p real links
echo old >real/target.jsonl && chmod 604 real/target.jsonl
ln -s ../real/target.jsonl links/one
ln -s one links/two
tte-fit --bootstrap 0 -o links/two "$DATA" || fail "-o through two links"
[ -L links/two ] && [ -L links/one ] || fail "-o replaced a symbolic link"
cmp -s real/target.jsonl want || fail "-o: the link's target was not written"
[ "$(mode real/target.jsonl)" = 604 ] || fail "-o: the link's target lost its mode"
no_tmp real "-o through links"
no_tmp links "-o through links"
# A dangling link: the file is created where it points.
ln -s ../real/created.jsonl links/dangling
tte-fit --bootstrap 0 -o links/dangling "$DATA" || fail "-o a dangling link"
[ -L links/dangling ] && cmp -s real/created.jsonl want || fail "-o a dangling link: target not created"
ln -s loop1 loop2 && ln -s loop2 loop1
expect_fail 1 "^tte-fit: loop1: cannot follow the link: " tte-fit -o loop1 "$DATA"

# Not regular files: written directly, never replaced.
tte-fit --bootstrap 0 -o /dev/null "$DATA" || fail "-o /dev/null"
[ -c /dev/null ] || fail "/dev/null is no longer a device"
tte-fit --bootstrap 0 -o /dev/stdout "$DATA" >via-stdout || fail "-o /dev/stdout"
cmp -s via-stdout want || fail "-o /dev/stdout: not written to stdout"
echo first >appended && tte-fit --bootstrap 0 -o /dev/stdout "$DATA" >>appended || fail "-o /dev/stdout >>"
[ "$(head -1 appended)" = first ] && [ "$(wc -l <appended)" = $(($(wc -l <want) + 1)) ] ||
    fail "-o /dev/stdout did not append to >>"
tte-fit --bootstrap 0 -o /dev/stdout "$DATA" | cmp -s - want || fail "-o /dev/stdout into a pipe"
mkfifo fifo
cat fifo >from-fifo &
reader=$!
tte-fit --bootstrap 0 -o fifo "$DATA" || fail "-o fifo"
wait $reader
[ -p fifo ] || fail "-o replaced a FIFO"
cmp -s from-fifo want || fail "-o fifo: the reader did not get the output"
mkdir adir
expect_fail 1 "^tte-fit: adir: is a directory$" tte-fit -o adir "$DATA"

# The tool's own input is refused and stays as it was: by name, through a link, as standard input.
cp "$DATA" in.jsonl && ln -s in.jsonl in-link
expect_fail 1 "^tte-fit: -o in.jsonl: that is also an input of this run; write the output to another file$" \
    tte-fit -o in.jsonl in.jsonl
expect_fail 1 "^tte-fit: -o in-link: that is also an input of this run \(in.jsonl\)" tte-fit -o in-link in.jsonl
expect_fail 1 "^tte-fit: -o in.jsonl: that is also an input of this run \(standard input\)" \
    sh -c 'tte-fit -o in.jsonl <in.jsonl'
expect_fail 1 "^tte-fit: -o in.jsonl: that is also an input" tte-fit -o in.jsonl - <in.jsonl
cmp -s in.jsonl "$DATA" || fail "tte-fit -o its input changed the input"
tte-fit --bootstrap 0 "$DATA" >fits.jsonl
expect_fail 1 "^tte-plot: -o fits.jsonl: that is also an input" tte-plot -o fits.jsonl fits.jsonl
tte-fetch arith --count 3 >items.jsonl
cp items.jsonl items.orig
expect_fail 1 "^tte-fetch: -o items.jsonl: that is also an input" tte-fetch -o items.jsonl items.jsonl
expect_fail 1 "^tte-gen: -o items.jsonl: that is also an input" \
    tte-gen --model "$MODEL" --encode -o items.jsonl items.jsonl
echo '{"id":"a","gold":"1","pred":"1"}' >graded.jsonl && cp graded.jsonl graded.orig
expect_fail 1 "^tte-score: -o graded.jsonl: that is also an input" \
    tte-score --grade-only -o graded.jsonl graded.jsonl
cmp -s items.jsonl items.orig && cmp -s graded.jsonl graded.orig || fail "an input was changed"
# Another file is fine, and so is a file that is not among the inputs.
tte-fetch arith --count 3 -o items2.jsonl && cmp -s items2.jsonl items.jsonl || fail "tte-fetch -o"

# An empty name.
for tool in tte-fetch tte-gen tte-score tte-fit tte-plot; do
    expect_fail 2 "^$tool: -o: the file name is empty \(use '-' for standard output\)" "$tool" -o '' x
done

# A killed run: no temporary file is left (SIGTERM, SIGHUP, and SIGINT with job control on, as at a
# terminal; SIGKILL cannot be caught, see outfile.h). tte-fit opens its output, then waits for input
# on a FIFO that this script holds open.
mkfifo input
exec 3<>input
# Under nohup SIGHUP is ignored from the start, and the tools keep it so (as nohup means): not tested then.
sigs="TERM HUP INT"
if trap -p HUP | grep -q "''"; then sigs="TERM INT"; echo "output: SIGHUP is ignored here (nohup): not tested"; fi
for sig in $sigs; do
    mkdir "k$sig"
    set -m
    tte-fit -o "k$sig/out.jsonl" <input &
    pid=$!
    set +m
    for _ in $(seq 100); do ls "k$sig"/out.jsonl.tmp* >/dev/null 2>&1 && break; sleep 0.05; done
    ls "k$sig"/out.jsonl.tmp* >/dev/null 2>&1 || fail "SIG$sig: no temporary file while running"
    kill -s "$sig" $pid
    status=0 && { wait $pid; } 2>/dev/null || status=$?
    [ $status = $((128 + $(kill -l "$sig"))) ] || fail "SIG$sig: exit status $status"
    no_tmp "k$sig" "SIG$sig"
    [ ! -e "k$sig/out.jsonl" ] || fail "SIG$sig: the output was created"
done
exec 3>&-
echo "output: all passed"
