#!/usr/bin/env bash
# One cache, many writers (cache.h): two tte-gen sweeps on one cache at once, and a sweep killed with
# kill -9 while another writes the same units. Each output is the solo run's, byte for byte; a rerun
# then takes every unit from the cache (so no entry was left half-written or damaged: such an entry
# would be recomputed); only the killed process may leave a temporary file.
# shellcheck source=tests/cli/common.bash
source "$(dirname "$0")/common.bash"
MODEL=$(cd "$(dirname "$0")/../.." && pwd)/share/models/tte-tiny-arith
tte-fetch arith --count 16 --seed 4 >"$TMP/items"
gen() { tte-gen --model "$MODEL" --budgets 3..7 -n 2 --threads 1 "$@" "$TMP/items"; }
gen --no-cache >"$TMP/solo"
units=32
diagnose() { echo "--- stderr of the runs"; cat "$TMP"/*.err; echo "--- cache: $(find "$TTE_CACHE" -type f | wc -l) files"; find "$TTE_CACHE" -name '*.tmp.*'; }

# Two at once.
export TTE_CACHE=$TMP/cache-two
gen >"$TMP/a" 2>"$TMP/a.err" &
a=$!
gen >"$TMP/b" 2>"$TMP/b.err" &
b=$!
wait $a || fail "the first of two concurrent runs failed: $(diagnose)"
wait $b || fail "the second of two concurrent runs failed: $(diagnose)"
cmp -s "$TMP/a" "$TMP/solo" || fail "concurrent run 1 differs from the solo run: $(diagnose)"
cmp -s "$TMP/b" "$TMP/solo" || fail "concurrent run 2 differs from the solo run: $(diagnose)"
gen --progress >"$TMP/c" 2>"$TMP/c.err"
cmp -s "$TMP/c" "$TMP/solo" || fail "the rerun differs: $(diagnose)"
grep -q "$units units: $units from the cache, 0 computed" "$TMP/c.err" || fail "the rerun recomputed: $(diagnose)"
[ -z "$(find "$TTE_CACHE" -name '*.tmp.*')" ] || fail "temporary files left: $(diagnose)"

# One killed (kill -9, after its first records) while the other writes the same units.
export TTE_CACHE=$TMP/cache-kill
rm -f "$TMP"/*.err
# (tte-gen itself in the background, not the gen function: $! must be the process killed; the
# output file is made first, so the loop below can count its lines before the background shell
# has opened it)
: >"$TMP/killed"
tte-gen --model "$MODEL" --budgets 3..7 -n 2 --threads 1 --batch 1 "$TMP/items" >"$TMP/killed" 2>"$TMP/killed.err" &
k=$!
gen >"$TMP/b" 2>"$TMP/b.err" &
b=$!
while kill -0 $k 2>/dev/null && [ "$(wc -l <"$TMP/killed")" -lt 3 ]; do sleep 0.02; done
kill -9 $k 2>/dev/null || echo "tte-gen-cache: the run to kill finished first (a fast machine); the rest holds" >&2
wait $k 2>/dev/null || true
wait $b || fail "the run beside the killed one failed: $(diagnose)"
cmp -s "$TMP/b" "$TMP/solo" || fail "the run beside the killed one differs from the solo run: $(diagnose)"
gen --progress >"$TMP/c" 2>"$TMP/c.err"
cmp -s "$TMP/c" "$TMP/solo" || fail "the rerun after the kill differs: $(diagnose)"
grep -q "$units units: $units from the cache, 0 computed" "$TMP/c.err" || fail "the rerun recomputed: $(diagnose)"
left=$(find "$TTE_CACHE" -name '*.tmp.*' ! -name "*.$k.*")
[ -z "$left" ] || fail "temporary files of a process that was not killed: $left"
echo "tte-gen cache: ok"
