# tte-gen --search beam|dvts --prm: against tools/search_reference.py, an independent Python
# re-implementation of search-and-learn's beam_search.py and diverse_verifier_tree_search.py loops
# (float64 models, the PRM input re-tokenised from text as search-and-learn does), on the embedded
# model as policy and, with a tte_prm.json, as a Math-Shepherd-style PRM, with greedy steps: the
# same solutions, steps and step scores, in the same order (tests/golden/search/, regenerate with
#   /usr/bin/python3 tools/search_reference.py bin share/models/tte-tiny-arith PRM \
#       tests/golden/search/items.jsonl beam|dvts 8 4 40 last; beam-n4-m2-s6: beam 4 2 6 last).
# Then the contracts: records into tte-score and tte-fit; sampling is reproducible and --batch
# changes nothing; bad input.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
GOLD=$ROOT/tests/golden/search
PRM=$TMP/prm
mkdir -p "$PRM"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do ln -s "$MODEL/$f" "$PRM/$f"; done
cp "$GOLD/tte_prm.json" "$PRM/"

for kind in beam dvts; do
    tte-gen --model "$MODEL" --search $kind --prm "$PRM" -n 8 --beam-width 4 --max-steps 40 --greedy \
        "$GOLD/items.jsonl" >"$TMP/$kind" || fail "$kind: tte-gen failed"
    jq -s -e --slurpfile r "$GOLD/$kind-n8-m4.jsonl" 'length == ($r | length) and ([., $r] | transpose |
        all(.[]; .[0].id == .[1].id and .[0].sample == .[1].sample and .[0].text == .[1].text and
            .[0].steps == .[1].steps and (.[0].step_scores | length) == (.[1].step_scores | length) and
            ([.[0].step_scores, .[1].step_scores] | transpose | all(.[]; (.[0] - .[1] | fabs) < 1e-4)) and
            (.[0].prm_score - .[1].prm_score | fabs) < 1e-4))' "$TMP/$kind" >/dev/null ||
        fail "$kind differs from the reference: $(jq -c '{id, sample, steps: (.steps | length), prm_score}' "$TMP/$kind" | head -3)"
    jq -s -e --arg k $kind 'all(.[]; .search == $k and .n == 8 and .beam_width == 4 and .prm == "prm" and
        (.steps | add) == .text and .completion_tokens > 0 and .tokens_generated >= .completion_tokens and
        .prm_tokens_fed > .tokens_generated and .flops > 0 and .prm_bytes > 0)' \
        "$TMP/$kind" >/dev/null || fail "$kind: record fields"
done

# Six iterations: the last one runs to the end of sequence, and its step holds many delimiters, each a
# step to the PRM (search-and-learn tags every delimiter of the text): the same scores as the reference.
tte-gen --model "$MODEL" --search beam --prm "$PRM" -n 4 --beam-width 2 --max-steps 6 --greedy "$GOLD/items.jsonl" |
    jq -s -e --slurpfile r "$GOLD/beam-n4-m2-s6.jsonl" 'length == ($r | length) and ([., $r] | transpose |
        all(.[]; .[0].text == .[1].text and (.[0].step_scores | length) == (.[1].step_scores | length) and
            ([.[0].step_scores, .[1].step_scores] | transpose | all(.[]; (.[0] - .[1] | fabs) < 1e-4))))' >/dev/null ||
    fail "a last round's step is not scored as the reference scores it"

# Sampling: the same seed gives the same records, whatever --batch; the records grade and fit.
tte-gen --model "$MODEL" --search beam --prm "$PRM" -n 4 --beam-width 2 --max-steps 8 --seed 5 \
    "$GOLD/items.jsonl" >"$TMP/s1"
tte-gen --model "$MODEL" --search beam --prm "$PRM" -n 4 --beam-width 2 --max-steps 8 --seed 5 --batch 1 \
    "$GOLD/items.jsonl" | cmp -s - "$TMP/s1" || fail "--batch 1 changes the search"
# Items run in groups as --batch allows (here both items together, or one at a time): the same records.
for kind in dvts revise; do
    tte-gen --model "$MODEL" --search $kind --prm "$PRM" -n 4 --beam-width 2 --max-steps 6 --step-tokens 48 --seed 3 \
        "$GOLD/items.jsonl" >"$TMP/g1"
    tte-gen --model "$MODEL" --search $kind --prm "$PRM" -n 4 --beam-width 2 --max-steps 6 --step-tokens 48 --seed 3 \
        --batch 1 "$GOLD/items.jsonl" | cmp -s - "$TMP/g1" || fail "$kind: searching items together changes the records"
done
tte-score --grade-only "$TMP/s1" | jq -s -e 'length == 8 and all(.[]; (.correct | type) == "number")' >/dev/null ||
    fail "tte-score does not grade search records"

# Sequential revisions: R attempts on one growing sequence, each scored on its own; an attempt's
# record says its round and carries the cost of every round up to it.
tte-gen --model "$MODEL" --search revise --prm "$PRM" -n 3 --step-tokens 64 --revise-prompt $'\nCheck:\n' \
    "$GOLD/items.jsonl" >"$TMP/rev" || fail "revise failed"
jq -s -e 'length == 6 and (group_by(.id) | all(.[]; map(.n) == [1, 2, 3] and map(.round) == [0, 1, 2] and
    ([.[].flops] | . == sort and .[0] < .[2]) and all(.[]; .search == "revise" and (.steps | add // "") == .text and
    (.step_scores | length) == (.steps | length))))' "$TMP/rev" >/dev/null ||
    fail "revise records: $(jq -c '{id, n, round, steps: (.steps | length), flops}' "$TMP/rev")"

# One compute axis for every strategy, from the tools' real output: budget forcing scored by the PRM,
# beam search at two n, tte-fit --x flops (the PRM's FLOPs added), the frontier figure.
tte-gen --model "$MODEL" --budgets 3..5 -n 4 --no-cache "$GOLD/items.jsonl" | tte-score --prm "$PRM" >"$TMP/bf"
for n in 2 4; do
    tte-gen --model "$MODEL" --search beam --prm "$PRM" -n $n --beam-width 2 --max-steps 8 "$GOLD/items.jsonl"
done | tte-score --grade-only >"$TMP/bs"
cat "$TMP/bf" "$TMP/bs" | tte-fit --x flops --by model,dataset,search --bootstrap 0 >"$TMP/fits"
want=$(jq -s 'map(select(.budget == 8) | .flops + .prm_flops) | add / length' "$TMP/bf")
jq -s -e --argjson w "$want" 'map(select(.kind == "passk" and .budget == 8)) | length == 1 and
    ((.[0].cost_per_sample - $w) / $w | fabs) < 1e-12' "$TMP/fits" >/dev/null || fail "passk cost_per_sample is not the mean cost"
jq -s -e 'map(select(.kind == "curve" and .metric == "correct")) | length == 2 and all(.[]; .x_axis == "flops" and
    ([.points[].cost] | . == sort) and all(.points[]; (.x - (.cost | log / (2 | log)) | fabs) < 1e-9)) and
    (map(select(.search == "beam"))[0].points | map(.budget)) == [2, 4]' "$TMP/fits" >/dev/null ||
    fail "cost-axis curves: $(jq -c 'select(.kind == "curve" and .metric == "correct") | {search, points}' "$TMP/fits")"
tte-plot --figure frontier --terminal dumb "$TMP/fits" | gnuplot >"$TMP/frontier" 2>&1 || fail "frontier figure"
for t in 'budget forcing' 'beam search' 'majority vote' 'best-of-N (PRM)' 'FLOPs per problem'; do
    grep -qF "$t" "$TMP/frontier" || fail "frontier figure lacks '$t': $(cat "$TMP/frontier")"
done
expect_fail 1 'field "flops": missing' tte-fit --x flops <(jq -c 'del(.flops)' "$TMP/bs")
expect_fail 1 'frontier: no curve on a cost axis' tte-plot --figure frontier <(tte-fit --bootstrap 0 "$TMP/bf")

# Bad input: one line, exit 1 or 2.
expect_fail 2 '--search needs --prm DIR' tte-gen --model "$MODEL" --search beam "$GOLD/items.jsonl"
expect_fail 2 "'wide' is not beam, dvts or revise" tte-gen --model "$MODEL" --search wide --prm "$PRM" "$GOLD/items.jsonl"
expect_fail 2 '-n 6 is not a multiple of --beam-width 4' tte-gen --model "$MODEL" --search dvts --prm "$PRM" -n 6 \
    "$GOLD/items.jsonl"
expect_fail 2 '--prm, --step-delim and --prm-agg go with --search' tte-gen --model "$MODEL" --prm "$PRM" --budgets 4
echo '{"id": "x"}' >"$TMP/noprompt"
expect_fail 1 'noprompt:1: field "prompt"' tte-gen --model "$MODEL" --search beam --prm "$PRM" "$TMP/noprompt"
echo "tte-gen search: ok"
