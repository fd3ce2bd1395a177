#!/usr/bin/env bash
# The embedded model's targets (issue 10), measured with tte's own engine on 200 held-out items
# (tte-fetch arith --seed 0; training never sees seed 0's problems): accuracy per budget at 4 samples,
# and how many of the items ever solved jump sharply (item breakthroughness of accuracy >= 0.5).
#
#   bash tools/eval_tiny.sh [MODEL_DIR]     (default share/models/tte-tiny-arith)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-share/models/tte-tiny-arith}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bin/tte-fetch arith --seed 0 --count 200 >"$out/items"
bin/tte-gen --model "$model" --budgets 3..8 -n 4 --no-cache "$out/items" | bin/tte-score --grade-only >"$out/scored"
bin/tte-fit --metric correct --bootstrap 0 "$out/scored" >"$out/fits"
jq -r -s 'group_by(.budget)[] | "budget \(.[0].budget): accuracy \(map(.correct) | add / length)"' "$out/scored"
jq -r -s 'map(select(.kind == "item" and (.values | max) > 0)) |
    "items ever solved: \(length); item breakthroughness >= 0.5: \(map(select(.breakthroughness >= 0.5)) | length)"' \
    "$out/fits"
