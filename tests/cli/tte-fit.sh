#!/usr/bin/env bash
# End-to-end checks of bin/tte-fit on a hand-made scored file (tests/cli/data/fit-scored.jsonl: two
# models, Tiny-1.5B and Tiny-7B, on dataset "toy"; item toy/0 jumps at budget 1024 (512 for the 7B),
# toy/1 gains one correct sample per budget, toy/2 is never solved; 4 samples per budget).
set -euo pipefail
cd "$(dirname "$0")/../.."
fit=${BIN:-bin}/tte-fit
data=tests/cli/data/fit-scored.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
check() { # check DESCRIPTION JQ-FILTER FILE: the filter must print true
    [ "$(jq -s "$2" "$3")" = true ] || fail "$1"
}

$fit "$data" > "$tmp/out.jsonl"
out=$tmp/out.jsonl
! grep -Eq 'NaN|Infinity' "$out" || fail "NaN or Infinity in the output"
check "8 curves (2 models x 4 metrics)" '[.[] | select(.kind == "curve")] | length == 8' "$out"
check "curve means of correct" \
    '[.[] | select(.kind == "curve" and .model == "Tiny-1.5B" and .metric == "correct") | .points[].mean]
     | [.[0], .[1] - 1/12, .[2] - 2/12, .[3] - 0.5, .[4] - 7/12] | map(fabs < 1e-12) | all' "$out"
check "budgets on x = log2" \
    '[.[] | select(.kind == "curve")][0].points | map(.x) == [7, 8, 9, 10, 11]' "$out"
check "bootstrap band contains the mean" \
    '[.[] | select(.kind == "curve") | .points[] | .lo <= .mean and .mean <= .hi] | all' "$out"
check "too few budgets for hinge2: null with a reason" \
    '[.[] | select(.kind == "curve") | .fits.hinge2 == null and (.why["fits.hinge2"] | test("7 budgets"))] | all' "$out"
check "5 budgets: only the log-linear fit has an AICc, so it is best" \
    '[.[] | select(.kind == "curve") | .best == "loglinear" and .fits.hinge.aicc == null] | all' "$out"
check "the jump item ranks first with breakthroughness 1" \
    '[.[] | select(.kind == "item" and .model == "Tiny-1.5B" and .metric == "correct" and .rank == 1)]
     | length == 1 and .[0].id == "toy/0" and ((.[0].breakthroughness - 1) | fabs) < 1e-12' "$out"
check "the steady item has breakthroughness 1/n = 0.25 and no skew" \
    '[.[] | select(.kind == "item" and .id == "toy/1" and .metric == "correct")]
     | map(((.breakthroughness - 0.25) | fabs) < 1e-12 and .skew == null and (.why.skew | length > 0)) | all' "$out"
check "pass@k at 2048 (Tiny-1.5B)" \
    '[.[] | select(.kind == "passk" and .model == "Tiny-1.5B" and .budget == 2048)][0]
     | .k == [1, 2, 4] and ((.pass_at_k[0] - 0.75 / 3 - 1 / 3) | fabs) < 1e-12
       and ((.pass_at_k[1] - 2 / 3) | fabs) < 1e-12' "$out"
check "maj@1 at 256: only toy/1's first sample is right" \
    '[.[] | select(.kind == "passk" and .model == "Tiny-1.5B" and .budget == 256)][0].maj_at_k[0] == (1/3)' "$out"
check "the same items emerge for both models" \
    '[.[] | select(.kind == "correlation" and .metric == "correct")][0]
     | .models == ["Tiny-1.5B", "Tiny-7B"] and .items == 3 and ((.spearman - 1) | fabs) < 1e-12' "$out"
check "a sizes record per metric and budget, on log10 parameters" \
    '[.[] | select(.kind == "sizes" and .metric == "correct" and .budget == 1024)][0].points
     | map(.model) == ["Tiny-1.5B", "Tiny-7B"] and ((.[1].x - (7e9 | log10)) | fabs) < 1e-12
       and .[0].mean == 0.5 and .[1].mean == 0.5' "$out"

# Deterministic: the same bytes twice; another seed changes only the bands.
$fit "$data" | cmp - "$out" || fail "two runs differ"
$fit --seed 7 "$data" | jq -c 'del(.points[]?.lo, .points[]?.hi)' > "$tmp/seed7"
jq -c 'del(.points[]?.lo, .points[]?.hi)' "$out" | cmp - "$tmp/seed7" || fail "--seed changed more than the bands"

# Options.
$fit --top 1 --bootstrap 0 "$data" > "$tmp/top"
check "--top 1: one item per group and metric" '[.[] | select(.kind == "item")] | length == 8' "$tmp/top"
check "--bootstrap 0: no bands" '[.[] | select(.kind == "curve") | .points[] | has("lo")] | any | not' "$tmp/top"
$fit --metric p_gold --by model "$data" > "$tmp/pg"
check "--metric p_gold: only p_gold, no passk" \
    '(map(select(.kind == "curve") | .metric) | unique) == ["p_gold"] and (map(select(.kind == "passk")) | length == 0)
     and (map(select(.kind == "curve") | has("dataset")) | any | not)' "$tmp/pg"
$fit --legacy "$data" > "$tmp/legacy"
check "--legacy: the jump item clips at 100" \
    '[.[] | select(.kind == "item" and .id == "toy/0" and .metric == "correct")] | map(.breakthroughness == 100) | all' "$tmp/legacy"

# A metric no record has gives no curve; records with a "kind" pass through; stdin and "-".
jq -c 'del(.p_gold)' "$data" > "$tmp/nopgold.jsonl"
echo '{"kind":"note","text":"kept"}' | cat - "$tmp/nopgold.jsonl" | $fit - > "$tmp/np"
check "no p_gold curve without p_gold" '[.[] | select(.kind == "curve" and .metric == "p_gold")] | length == 0' "$tmp/np"
check "a record with a kind passes through" '.[0] == {"kind":"note","text":"kept"}' "$tmp/np"

# An item without a budget: null in its values, one item fewer at that point; no --by field: null.
jq -c 'select(.id != "toy/2" or .budget != 512) | del(.dataset)' "$data" | $fit --bootstrap 0 > "$tmp/gap"
check "a missing budget is null in the item's values" \
    '[.[] | select(.kind == "item" and .id == "toy/2" and .metric == "correct")] | map(.values[2] == null) | all' "$tmp/gap"
check "and the point has one item fewer" \
    '[.[] | select(.kind == "curve" and .metric == "correct") | .points | map(.n)] | all(. == [3, 3, 2, 3, 3])' "$tmp/gap"
check "a record without a --by field is grouped under null" \
    '[.[] | select(.kind == "curve")] | map(.dataset == null) | all' "$tmp/gap"

# Bad input: exit 1 with FILE:LINE and the field; usage errors exit 2.
expect_error() { # expect_error STATUS PATTERN COMMAND...
    local want=$1 pattern=$2; shift 2
    set +e; "$@" > "$tmp/stdout" 2> "$tmp/stderr"; local got=$?; set -e
    [ "$got" = "$want" ] || fail "$* exited $got, want $want"
    grep -q -- "$pattern" "$tmp/stderr" || fail "$*: stderr lacks '$pattern': $(cat "$tmp/stderr")"
}
{ head -3 "$data"; jq -c 'del(.budget)' <<< "$(head -1 "$data")"; } > "$tmp/nobudget.jsonl"
expect_error 1 "nobudget.jsonl:4: field \"budget\": missing" $fit "$tmp/nobudget.jsonl"
{ head -1 "$data"; jq -c 'del(.id)' <<< "$(head -1 "$data")"; } > "$tmp/noid.jsonl"
expect_error 1 "noid.jsonl:2: field \"id\": missing" $fit "$tmp/noid.jsonl"
{ head -2 "$data"; echo '{"id": "x", "budget": 128,'; } > "$tmp/badjson.jsonl"
expect_error 1 "badjson.jsonl:3: invalid JSON" $fit "$tmp/badjson.jsonl"
jq -c '.correct = 2' <<< "$(head -1 "$data")" > "$tmp/badcorrect.jsonl"
expect_error 1 "badcorrect.jsonl:1: field \"correct\": must be 0 or 1" $fit "$tmp/badcorrect.jsonl"
jq -c '.p_gold_norm = "high"' <<< "$(head -1 "$data")" > "$tmp/badp.jsonl"
expect_error 1 "badp.jsonl:1: field \"p_gold_norm\": must be a number" $fit "$tmp/badp.jsonl"
expect_error 1 "no-such-file" $fit "$tmp/no-such-file"
echo previous > "$tmp/kept"
expect_error 1 "nobudget.jsonl:4" $fit -o "$tmp/kept" "$tmp/nobudget.jsonl"
[ "$(cat "$tmp/kept")" = previous ] || fail "-o replaced its file after an error"
expect_error 2 "unknown option" $fit --bogus
expect_error 2 "unknown metric" $fit --metric accuracy
expect_error 2 "--bootstrap" $fit --bootstrap -1
$fit --help | grep -q -- "--legacy" || fail "--help"
$fit --version | grep -q "^tte-fit " || fail "--version"
# An S-shaped accuracy curve on 6 budgets (the demo's: 0.11 0.20 0.44 0.92 1.0 1.0): the logistic has
# no AICc there (n - k - 1 = 0), so leave-one-out picks the best fit, and it is the logistic, not the
# log-linear line that AICc alone would have chosen.
for b in 8 16 32 64 128 256; do
    case $b in 8) k=11 ;; 16) k=20 ;; 32) k=44 ;; 64) k=92 ;; *) k=100 ;; esac
    for i in $(seq 0 99); do
        echo "{\"id\":\"i$i\",\"model\":\"m\",\"dataset\":\"d\",\"budget\":$b,\"correct\":$((i < k ? 1 : 0))}"
    done
done >"$tmp/s-curve"
$fit --metric correct --bootstrap 0 "$tmp/s-curve" | jq -s -e 'map(select(.kind == "curve"))[0] | .best == "logistic" and
    .best_by == "loo_rmse" and .fits.logistic.aicc == null and .fits.logistic.loo_rmse < .fits.loglinear.loo_rmse' \
    >/dev/null || fail "the S-shaped curve's best fit"
echo "tte-fit: all checks passed"
