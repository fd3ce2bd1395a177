#!/usr/bin/env bash
# tte-cron: two overlapping reruns of a sweep: one runs, the other says so and exits 0 (or waits,
# with --wait); the log holds both; the outputs are whole and the same as one run's; a rerun takes
# everything from the cache. The lock outlives a killed tte-cron while its command still runs.
# shellcheck source=tests/cli/common.bash
source "$(dirname "$0")/common.bash"
MODEL=$(cd "$(dirname "$0")/../.." && pwd)/share/models/tte-tiny-arith
tte-fetch arith --count 12 --seed 1 >"$TMP/items"
tte-gen --model "$MODEL" --budgets 3..7 -n 2 --no-cache "$TMP/items" >"$TMP/solo"
LOG=$TMP/sweep.log
sweep() { tte-cron --log "$LOG" -- tte-gen --model "$MODEL" --budgets 3..7 -n 2 --progress --threads 1 \
    -o "$TMP/out" "$TMP/items"; }
wait_for() { for _ in $(seq 300); do grep -q "$1" "$LOG" 2>/dev/null && return 0; sleep 0.05; done; fail "no '$1' in the log"; }

# A slow first run (it holds the lock), and a second one started meanwhile.
tte-cron --log "$LOG" -- sh -c 'sleep 2; exec "$@"' sh tte-gen --model "$MODEL" --budgets 3..7 -n 2 \
    --threads 1 -o "$TMP/out" "$TMP/items" &
first=$!
wait_for "start: sh"
status=0
sweep 2>"$TMP/err" || status=$?
[ "$status" = 0 ] || fail "the overlapping run exited $status: $(cat "$TMP/err")"
grep -q "is held by pid $first on .*: not starting tte-gen" "$TMP/err" || fail "the overlapping run did not say so: $(cat "$TMP/err")"
grep -q "not starting tte-gen" "$LOG" || fail "the log does not say the second run did not start"
wait $first || fail "the first run failed: $(cat "$LOG")"
cmp -s "$TMP/out" "$TMP/solo" || fail "the first run's output differs from a solo run's"
grep -q "end: exit status 0" "$LOG" || fail "no end line in the log: $(cat "$LOG")"

# The rerun after it: everything from the cache, the same bytes, appended to the log.
sweep 2>"$TMP/err" || fail "the rerun failed: $(cat "$TMP/err") $(cat "$LOG")"
cmp -s "$TMP/out" "$TMP/solo" || fail "the rerun's output differs"
grep -q "24 units: 24 from the cache, 0 computed" "$LOG" || fail "the rerun recomputed: $(cat "$LOG")"
[ "$(grep -c "start: " "$LOG")" = 2 ] || fail "the log should hold two starts: $(cat "$LOG")"

# --wait: the second run waits for the first, then runs; --timeout gives up (exit 0).
tte-cron --lock "$TMP/lock" -- sleep 1.5 &
first=$!
for _ in $(seq 100); do [ -s "$TMP/lock" ] && break; sleep 0.05; done
status=0
tte-cron --lock "$TMP/lock" --wait --timeout 0 -- true 2>"$TMP/err" || status=$?
{ [ "$status" = 0 ] && grep -q "still held" "$TMP/err"; } || fail "--timeout 0 while held: exit $status, $(cat "$TMP/err")"
start=$(date +%s%N)
tte-cron --lock "$TMP/lock" --wait -- sh -c 'echo ran' >"$TMP/ran" 2>"$TMP/err" || fail "--wait failed: $(cat "$TMP/err")"
wait $first
grep -q ran "$TMP/ran" || fail "--wait did not run the command"
grep -q "waiting for it" "$TMP/err" || fail "--wait did not say it waits: $(cat "$TMP/err")"
[ $((($(date +%s%N) - start) / 1000000)) -ge 500 ] || fail "--wait did not wait"

# The command's status is tte-cron's; a killed tte-cron's command keeps the lock until it ends.
status=0
tte-cron --lock "$TMP/lock" -- sh -c 'exit 3' || status=$?
[ "$status" = 3 ] || fail "exit status $status, not the command's 3"
tte-cron --lock "$TMP/lock" -- sleep 2 &
cron=$!
for _ in $(seq 100); do pgrep -P $cron >/dev/null && break; sleep 0.05; done
kill -9 $cron
wait $cron 2>/dev/null || true
tte-cron --lock "$TMP/lock" -- true 2>"$TMP/err" || fail "refusing must exit 0"
grep -q "not starting" "$TMP/err" || fail "the lock went with the killed tte-cron, its command still runs"
expect_fail 2 "give --lock" tte-cron -- true
expect_fail 2 "COMMAND" tte-cron --lock "$TMP/lock"
expect_fail 1 "no-such-command" tte-cron --lock "$TMP/lock2" -- "$TMP/no-such-command"
echo "tte-cron: ok"
