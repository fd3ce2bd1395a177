#!/usr/bin/env bash
# The size axis and the predicting-emergence challenge on the embedded family of tiny models
# (share/models/tte-tiny-arith-*, trained by tools/train_tiny.py with the same data and recipe at
# other sizes; `make demo` runs this last):
#
#   each model: tte-gen (64 held-out items, budgets 2^3..2^8, 4 samples) | tte-score --grade-only
#   all of them | tte-fit --metric correct (sizes records) | tte-plot --figure sizes -> demo/sizes.png
#
#   each model: tte-score --next-dist 20 on prefixes of the items' worked solutions (cut after every
#   "+" and "=": the next token is a digit to copy or to add up)
#   all of them | tte-fit --predict-largest: how well do the smaller models predict the largest one?
#
# TTE_FAMILY (model folders, smallest first) replaces the family, TTE_DEMO_BIN the tools' folder. The
# tools take each model's size from its weights: model_params, in tte-gen's and tte-score
# --next-dist's records, which tte-fit's sizes records and --predict-largest read. Every stage writes
# its file through a temporary name; tte-gen caches its work ($TTE_CACHE), so a second run takes
# seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/demo_common.bash
PATH="${TTE_DEMO_BIN:+$TTE_DEMO_BIN:}$PATH"  # another build's tools (the tests')
M=share/models/tte-tiny-arith
read -r -a FAMILY <<<"${TTE_FAMILY:-$M-12k $M-22k $M-35k $M-100k $M-250k $M}"

start=$(date +%s)
# Seed 0 is held out of every model's training (tools/train_tiny.py checks every training problem).
stage $OUT/items.jsonl tte-fetch arith --seed 0 --count 64
# The challenge's prompts, as the model sees its own thinking: the chat template's text (special
# tokens are read as such) and the solution up to and including the cut.
stage $OUT/prefixes.jsonl jq -c '.id as $id | .prompt as $p | .meta.solution as $s |
    ([$s | indices("+", "=")] | add | sort)[] as $i |
    {id: "\($id)/\($i)", prompt: ("<｜begin▁of▁sentence｜><｜User｜>" + $p + "<｜Assistant｜><think>\n" +
        $s[0:$i + 1])}' $OUT/items.jsonl
graded=() dists=()
for dir in "${FAMILY[@]}"; do
    name=$(basename "$dir")
    stage $OUT/next-dist-$name.jsonl tte-score --model "$dir" --next-dist 20 $OUT/prefixes.jsonl
    stage $OUT/generations-$name.jsonl tte-gen --model "$dir" --budgets 3..8 -n 4 $OUT/items.jsonl
    stage $OUT/graded-$name.jsonl tte-score --grade-only $OUT/generations-$name.jsonl
    graded+=($OUT/graded-$name.jsonl) dists+=($OUT/next-dist-$name.jsonl)
done
stage $OUT/sizes-fits.jsonl tte-fit --metric correct "${graded[@]}"
stage $OUT/sizes.gp tte-plot --figure sizes --image $OUT/sizes.png $OUT/sizes-fits.jsonl
gnuplot $OUT/sizes.gp
stage $OUT/predictions.jsonl tte-fit --predict-largest "${dists[@]}"
# The harder question: the largest model from the two smallest alone, which straddle the size at
# which the task is learnt (the first two of FAMILY).
stage $OUT/predictions-two-smallest.jsonl tte-fit --predict-largest "${dists[0]}" "${dists[1]}" "${dists[-1]}"

# Accuracy per model and budget (the sizes records: one per budget, its points by size), then the
# challenge's strategies with their 95% intervals over prompts.
echo
jq -r -s 'map(select(.kind == "sizes")) | sort_by(.budget) as $s |
    "model                     params  " + ($s | map(.budget | tostring | " " * (6 - length) + .) | join("")),
    ($s[0].points | keys[] as $k | $s[0].points[$k] as $m |
        ($m.model + " " * (24 - ($m.model | length))) + ($m.params | tostring | " " * (8 - length) + .) + "  " +
        ($s | map(.points[$k].mean * 100 | round / 100 | tostring | " " * (6 - length) + .) | join("")))' \
    $OUT/sizes-fits.jsonl
echo
for f in $OUT/predictions.jsonl $OUT/predictions-two-smallest.jsonl; do
    jq -r -s '"predict \(.[0].target) (\(.[0].target_params) parameters) from \(.[0].models | join(", ")), " +
        "\(.[0].prompts) prompts; top-1 agreement:",
        (.[] | "  \(.strategy)" + " " * (14 - (.strategy | length)) +
            "\(.top1 * 1000 | round / 1000)  [\(.top1_lo * 1000 | round / 1000), \(.top1_hi * 1000 | round / 1000)]")' "$f"
done
echo
echo "sizes demo: $(($(date +%s) - start)) s; figure in $OUT/sizes.png"
