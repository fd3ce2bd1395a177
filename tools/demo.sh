#!/usr/bin/env bash
# `make demo`: the whole study on the embedded tiny model, in a few minutes on a laptop.
#
#   tte-fetch arith (64 held-out items) | tte-gen (budgets 2^3..2^8, 4 samples) | tte-score |
#   tte-fit | tte-plot  ->  demo/curves.png, demo/discrete-vs-continuous.png, demo/report.pdf
#   (tables, then every figure) and a table
#
# Every stage writes its file through a temporary name, so an interrupted demo leaves no half file;
# tte-gen and tte-score cache their work ($TTE_CACHE), so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/demo_common.bash

start=$(date +%s)
# Seed 0 is held out of the model's training (tools/train_tiny.py checks every training problem).
stage $OUT/items.jsonl tte-fetch arith --seed 0 --count 64
stage $OUT/generations.jsonl tte-gen --model $MODEL --budgets 3..8 -n 4 $OUT/items.jsonl
stage $OUT/scored.jsonl tte-score --model $MODEL $OUT/generations.jsonl
stage $OUT/fits.jsonl tte-fit --metric correct,p_gold_norm $OUT/scored.jsonl
stage $OUT/curves.gp tte-plot --figure curves \
    --image $OUT/curves.png $OUT/fits.jsonl
stage $OUT/discrete-vs-continuous.gp tte-plot --figure discrete-vs-continuous --image $OUT/discrete-vs-continuous.png \
    $OUT/fits.jsonl
stage $OUT/report.gp tte-plot --figure report --terminal pdf --image $OUT/report.pdf $OUT/fits.jsonl
gnuplot $OUT/curves.gp
gnuplot $OUT/discrete-vs-continuous.gp
gnuplot $OUT/report.gp

# The table: per budget, accuracy and p_gold_norm; per metric, the best fit and the scores.
jq -r -s '
    (map(select(.kind == "curve")) | map({(.metric): .}) | add) as $c |
    "budget  accuracy  p_gold_norm",
    ([$c.correct.points, $c.p_gold_norm.points] | transpose[] |
        "\(.[0].budget | tostring | .[0:6] | " " * (6 - length) + .)  " +
        "\(.[0].mean * 1000 | round / 1000 | tostring | .[0:8] | . + " " * (8 - length))  " +
        "\(.[1].mean * 1000 | round / 1000)"),
    "",
    (["correct", "p_gold_norm"][] as $m | $c[$m] |
        "\($m): best fit \(.best), breakthroughness \(.breakthroughness * 1000 | round / 1000), " +
        "skew \(.skew * 1000 | round / 1000)"),
    (map(select(.kind == "item" and .metric == "correct" and (.values | max) > 0)) |
        "items ever solved: \(length), with item breakthroughness >= 0.5: " +
        "\(map(select(.breakthroughness >= 0.5)) | length)")' $OUT/fits.jsonl
echo
echo "demo: $(($(date +%s) - start)) s; figures in $OUT/curves.png and $OUT/discrete-vs-continuous.png"
echo "report (tables, then every figure): $OUT/report.pdf"
bash tools/demo_sizes.sh
