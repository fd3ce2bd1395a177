#!/usr/bin/env bash
# share/mk/tte.mk: a sweep over two models (the embedded tiny one and a random one,
# tools/make_random_family.py) and two datasets, as make -j4 and as make -j1, each with a cache of
# its own: the same files, byte for byte; a second make does nothing; a changed budget redoes the
# generations and what follows from them, nothing else.
# shellcheck source=tests/cli/common.bash
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARE=${TTE_SHARE:-$ROOT/share}
/usr/bin/python3 "$ROOT/tools/make_random_family.py" "$SHARE/models/tte-tiny-arith" "$TMP/family" >/dev/null
mkdir -p "$TMP/j4" "$TMP/j1"
for d in j4 j1; do
    cat >"$TMP/$d/Makefile" <<MK
TTE_MODELS      := tiny rand
TTE_MODEL_tiny  := $SHARE/models/tte-tiny-arith
TTE_MODEL_rand  := $TMP/family/l1
TTE_DATASETS    := small other
TTE_FETCH_small := arith --seed 0 --count 6
TTE_FETCH_other := arith --seed 7 --count 5 --terms 2..4
TTE_BUDGETS     := 3..6
TTE_SAMPLES     := 2
TTE_THREADS     := 1
TTE_BIN         := $BIN
include $SHARE/mk/tte.mk
MK
done
TTE_CACHE=$TMP/cache-j4 make -s -C "$TMP/j4" -j4 >"$TMP/j4.log" 2>&1 || fail "make -j4 failed: $(cat "$TMP/j4.log")"
TTE_CACHE=$TMP/cache-j1 make -s -C "$TMP/j1" -j1 >"$TMP/j1.log" 2>&1 || fail "make -j1 failed: $(cat "$TMP/j1.log")"
files() { (cd "$1/out" && find . -type f | sort); }
[ "$(files "$TMP/j4" | wc -l)" -ge 26 ] || fail "make -j4 made too few files: $(files "$TMP/j4")"
[ "$(files "$TMP/j4")" = "$(files "$TMP/j1")" ] || fail "-j4 and -j1 made different files"
for f in $(files "$TMP/j4"); do
    cmp -s "$TMP/j4/out/$f" "$TMP/j1/out/$f" || fail "$f differs between make -j4 and make -j1"
done
for m in tiny rand; do
    for d in small other; do
        [ -s "$TMP/j4/out/$m/$d/scored.jsonl" ] || fail "$m/$d: no scores"
        [ "$(jq -r .model "$TMP/j4/out/$m/$d/gen.jsonl" | sort -u | wc -l)" = 1 ] || fail "$m/$d: mixed models"
    done
done
[ "$(jq -r .model "$TMP/j4/out/tiny/small/gen.jsonl" | head -1)" != "$(jq -r .model "$TMP/j4/out/rand/small/gen.jsonl" | head -1)" ] ||
    fail "the two models' generations name the same model"
# Nothing to do the second time; a new budget list redoes the generations and what follows.
TTE_CACHE=$TMP/cache-j4 make -C "$TMP/j4" -j4 >"$TMP/again.log" 2>&1
grep -q "tte-" "$TMP/again.log" && fail "a second make ran tools: $(cat "$TMP/again.log")"
TTE_CACHE=$TMP/cache-j4 make -C "$TMP/j4" -j4 TTE_BUDGETS=3..7 >"$TMP/more.log" 2>&1 || fail "$(cat "$TMP/more.log")"
[ "$(grep -c "tte-gen " "$TMP/more.log")" = 4 ] || fail "a new budget list did not redo the 4 sweeps: $(cat "$TMP/more.log")"
grep -q "tte-fetch " "$TMP/more.log" && fail "a new budget list fetched the items again"
jq -e -s 'map(.budget) | max == 128' "$TMP/j4/out/rand/other/gen.jsonl" >/dev/null || fail "TTE_BUDGETS=3..7 not used"
echo "tte-make: ok"
