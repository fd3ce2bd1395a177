#!/usr/bin/env bash
# `make demo-search`: ways of spending test-time compute side by side, on one compute axis, with the
# embedded tiny policy and its tiny process reward model:
#
#   budget forcing    tte-gen --budgets 2^3..2^6, 8 samples, scored by the PRM
#   majority, Best-of-N and weighted voting over those samples (tte-fit's passk records)
#   beam search       tte-gen --search beam --prm, N = 4, 8, 16 (beam width 4)
#
#   | tte-fit --x flops --by model,dataset,search | tte-plot --figure frontier -> demo/frontier.png
#
# and a table of accuracy against FLOPs per problem. Everything samples at temperature 1 (top-p 1):
# at the tiny model's default 0.6 its 8 samples of an item are nearly always one trace, and there is
# nothing to select among. Every stage writes its file through a temporary
# name; tte-gen's sweep caches its work ($TTE_CACHE), so a second run is faster.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/demo_common.bash
PRM=${TTE_DEMO_PRM:-share/models/tte-tiny-prm}
ITEMS=${TTE_DEMO_ITEMS:-16}

start=$(date +%s)
# Seed 0 is held out of both models' training.
stage $OUT/search-items.jsonl tte-fetch arith --seed 0 --count "$ITEMS"
SAMPLING=(--temperature 1 --top-p 1)
stage $OUT/forcing.jsonl tte-gen --model $MODEL --budgets 3..6 -n 8 "${SAMPLING[@]}" $OUT/search-items.jsonl
stage $OUT/forcing-prm.jsonl tte-score --prm $PRM $OUT/forcing.jsonl
for n in 4 8 16; do
    stage $OUT/beam-$n.jsonl tte-gen --model $MODEL --search beam --prm $PRM -n $n --beam-width 4 \
        --max-steps 12 "${SAMPLING[@]}" $OUT/search-items.jsonl
done
stage $OUT/beam.jsonl tte-score --grade-only $OUT/beam-4.jsonl $OUT/beam-8.jsonl $OUT/beam-16.jsonl
stage $OUT/frontier-fits.jsonl tte-fit --x flops --by model,dataset,search --metric correct --bootstrap 0 \
    $OUT/forcing-prm.jsonl $OUT/beam.jsonl
stage $OUT/frontier.gp tte-plot --figure frontier --image $OUT/frontier.png $OUT/frontier-fits.jsonl
gnuplot $OUT/frontier.gp

jq -r -s '
    def r: . * 1000 | round / 1000;
    def g: if . >= 1e9 then "\(. / 1e9 * 100 | round / 100)G" else "\(. / 1e6 | round)M" end;
    "strategy               setting   FLOPs/problem  accuracy",
    (map(select(.kind == "curve")) | .[] | (.search // "budget forcing") as $s |
        .points[] | "\($s | . + " " * (22 - length)) \((if $s == "budget forcing" then "B=" else "N=" end) +
        (.budget | tostring) | . + " " * (9 - length)) \(.cost | g | . + " " * (14 - length)) \(.mean | r)"),
    (map(select(.kind == "passk" and (.search == null))) | max_by(.budget) |
        . as $p | range(0; .k | length) as $i |
        "k of B=\($p.budget) samples     k=\($p.k[$i])" + " " * (8 - ($p.k[$i] | tostring | length)) +
        "\($p.k[$i] * $p.cost_per_sample | g | . + " " * (14 - length)) " +
        "maj \($p.maj_at_k[$i] | r)  best-of-N \($p.bon_at_k[$i] | r)  weighted \($p.weighted_at_k[$i] | r)")' \
    $OUT/frontier-fits.jsonl
echo
echo "demo-search: $(($(date +%s) - start)) s; figure in $OUT/frontier.png"
