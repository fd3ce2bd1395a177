#!/usr/bin/env bash
# tte-score's batching across records and its reuse within a run, on the embedded model (or
# $TTE_SCORE_MODEL): generations of TTE_SCORE_ITEMS arith items (default 24) at budgets
# TTE_SCORE_BUDGETS (default 3..6: 2^3..2^6) with 2 samples, scored with the continuous metric at one thread, each run with an empty cache:
#   batch1    --batch 1
#   batch32   --batch 32
#   no_cache  --batch 32 --no-cache (no stored results; the reuse within the run stays)
# The three run in turn, TTE_SCORE_ROUNDS times (default 3), so that the machine's other load falls
# on all of them alike; one JSON line per round with the wall times and the ratios. The outputs must
# be byte-identical, or the benchmark fails.
#
#   bash bench/score_batch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s all
model=${TTE_SCORE_MODEL:-share/models/tte-tiny-arith}
items=${TTE_SCORE_ITEMS:-24}
rounds=${TTE_SCORE_ROUNDS:-3}
budgets=${TTE_SCORE_BUDGETS:-3..6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TTE_SHARE=$PWD/share
bin/tte-fetch arith --seed 0 --count "$items" >"$work/items.jsonl"
bin/tte-gen --model "$model" --budgets "$budgets" -n 2 --no-cache "$work/items.jsonl" >"$work/gens.jsonl"
echo "score_batch.sh: $(wc -l <"$work/gens.jsonl") records, model $model, $(bin/tte-score -V | tail -1)" >&2

# run NAME OPTIONS...: one scoring run with a cache of its own, empty; prints its wall time.
run() {
    local name=$1; shift
    rm -rf "$work/cache"
    local start end
    start=$(date +%s.%N)
    TTE_CACHE=$work/cache bin/tte-score --model "$model" --threads 1 "$@" "$work/gens.jsonl" >"$work/$name.jsonl"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

for round in $(seq "$rounds"); do
    echo "score_batch.sh: round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    b1=$(run batch1 --batch 1)
    b32=$(run batch32 --batch 32)
    nc=$(run no_cache --batch 32 --no-cache)
    cmp -s "$work/batch1.jsonl" "$work/batch32.jsonl" || { echo "score_batch.sh: --batch 1 and 32 differ" >&2; exit 1; }
    cmp -s "$work/batch32.jsonl" "$work/no_cache.jsonl" || { echo "score_batch.sh: --no-cache differs" >&2; exit 1; }
    jq -n -c --argjson round "$round" --argjson b1 "$b1" --argjson b32 "$b32" --argjson nc "$nc" \
        --argjson records "$(wc -l <"$work/gens.jsonl")" '
        {round: $round, records: $records, batch1_s: ($b1 * 100 | round / 100),
         batch32_s: ($b32 * 100 | round / 100), no_cache_s: ($nc * 100 | round / 100),
         batch1_over_batch32: ($b1 / $b32 * 100 | round / 100),
         no_cache_over_empty_cache: ($nc / $b32 * 100 | round / 100), identical: true}'
done
