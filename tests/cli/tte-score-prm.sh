# tte-score --prm: step scores from a PRM read at a tag token (Math-Shepherd style), against
# teacher forcing (--logprobs) of the good and bad tokens after each tag; steps from tte-gen's
# thinking and from a "steps" list; the aggregates; bad input. The embedded model stands in for a
# PRM here (its folder plus a tte_prm.json): the contract, not a good verifier.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
PRM=$TMP/prm
mkdir -p "$PRM"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do ln -s "$MODEL/$f" "$PRM/$f"; done
printf '{"style": "shepherd", "tag": "!", "good": "+", "bad": "-", "system": "Check:", "step_delim": "\\n"}\n' \
    >"$PRM/tte_prm.json"

echo '{"id": "a", "problem": "What is 1+2+8?", "steps": ["1", "+2=3", "+8=12"], "answer": "11"}' >"$TMP/steps"
tte-score --prm "$PRM" "$TMP/steps" >"$TMP/scored"
jq -e '(.step_scores | length) == 3 and all(.step_scores[]; . > 0 and . < 1) and .prm_score == .step_scores[2] and
    .prm == "prm" and (.correct | type) == "number"' "$TMP/scored" >/dev/null || fail "step scores: $(cat "$TMP/scored")"
# Step k's score is p(good) / (p(good) + p(bad)) after the text through its tag, by teacher forcing.
text='Check:\nWhat is 1+2+8?\n 1!\n+2=3!\n+8=12!'
for k in 1 2 3; do
    prefix=$(printf '%s' "$text" | awk -v k="$k" 'BEGIN{RS="!"} NR<=k {printf "%s!", $0}')
    ids=$(jq -c -n --arg t "$(printf "$prefix")" '{text: $t}' | tte-gen --model "$MODEL" --encode | jq -c .ids)
    for tok in + -; do jq -c -n --argjson p "$ids" --arg t "$tok" '{prompt_ids: $p, text: $t}'; done
done | tte-score --model "$MODEL" --logprobs | jq -s -c '[range(0; length; 2) as $i |
    (.[$i].logprobs[0] | exp) as $g | (.[$i + 1].logprobs[0] | exp) as $b | $g / ($g + $b)]' >"$TMP/want"
jq -e --slurpfile w "$TMP/want" '[.step_scores, $w[0]] | transpose | all(.[]; (.[0] - .[1] | fabs) < 1e-9)' \
    "$TMP/scored" >/dev/null || fail "step scores differ from teacher forcing: $(jq -c .step_scores "$TMP/scored") vs $(cat "$TMP/want")"
# The aggregates.
tte-score --prm "$PRM" --prm-agg min "$TMP/steps" | jq -e '.prm_score == (.step_scores | min)' >/dev/null || fail "min"
tte-score --prm "$PRM" --prm-agg prod "$TMP/steps" |
    jq -e '(.prm_score - (.step_scores | reduce .[] as $s (1; . * $s)) | fabs) < 1e-15' >/dev/null || fail "prod"

# RLHFlow style: each step a user turn and each answer an assistant turn "+", the score read where
# that "+" is predicted; against teacher forcing of the same conversation up to there.
RL=$TMP/rlhflow
mkdir -p "$RL"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do ln -s "$MODEL/$f" "$RL/$f"; done
jq -n -c '{style: "rlhflow", prefix: "Chat\n", first_step: "U {problem} {step}\nA\n{score}+\n",
    step: "U {step}\nA\n{score}+\n"}' >"$RL/tte_prm.json"
tte-score --prm "$RL" "$TMP/steps" >"$TMP/rl" || fail "rlhflow"
# The conversation through each step's assistant header, built here, teacher-forced with + and -.
jq -c '.problem as $p | .steps as $s | range(0; $s | length) as $k |
    {text: ("Chat\n" + ([range(0; $k + 1) as $i | "U " + (if $i == 0 then $p + " " else "" end) + $s[$i] +
        "\nA\n" + (if $i < $k then "+\n" else "" end)] | add))}' "$TMP/steps" |
    tte-gen --model "$MODEL" --encode | jq -c '.ids as $p | ({prompt_ids: $p, text: "+"}, {prompt_ids: $p, text: "-"})' |
    tte-score --model "$MODEL" --logprobs | jq -s -c '[range(0; length; 2) as $i |
    (.[$i].logprobs[0] | exp) as $g | (.[$i + 1].logprobs[0] | exp) as $b | $g / ($g + $b)]' >"$TMP/rlwant"
jq -e --slurpfile w "$TMP/rlwant" '[.step_scores, $w[0]] | transpose | length == 3 and
    all(.[]; (.[0] - .[1] | fabs) < 1e-9)' "$TMP/rl" >/dev/null ||
    fail "rlhflow step scores differ from teacher forcing: $(jq -c .step_scores "$TMP/rl") vs $(cat "$TMP/rlwant")"

# tte-gen's records: the thinking cut at the delimiter, then the forced answer; batching changes nothing.
tte-fetch arith --count 4 --seed 2 | tte-gen --model "$MODEL" --budgets 4..5 -n 2 >"$TMP/gen"
tte-score --prm "$PRM" "$TMP/gen" >"$TMP/gp"
jq -e -s 'length == 16 and all(.[]; (.step_scores | length) == ((.thinking | split("\n") | map(select(. != "")) |
    length) + 1) and (.correct | type) == "number")' "$TMP/gp" >/dev/null || fail "steps of generations"
tte-score --prm "$PRM" --batch 1 --threads 1 --no-cache "$TMP/gen" | cmp -s - "$TMP/gp" || fail "--batch 1 differs"
# Cached: a rerun feeds nothing (a KV cache too small for any record is then no obstacle) and gives the
# same bytes; without the cache that KV cache is too small.
tte-score --prm "$PRM" --kv-mem 64K "$TMP/gen" | cmp -s - "$TMP/gp" || fail "the cached rerun differs (or fed the PRM)"
expect_fail 1 'raise --kv-mem' tte-score --prm "$PRM" --kv-mem 64K --no-cache "$TMP/gen"

# Selection by the PRM in tte-fit's passk records, on the tools' real output: Best-of-N and weighted
# voting at k = 1 are the accuracy of one sample, as pass@1 is; at k = n, Best-of-N is the grade of
# each item's highest-scoring sample.
tte-fit --metric correct "$TMP/gp" >"$TMP/fits"
jq -e -s 'map(select(.kind == "passk")) | length == 2 and all(.[]; .k == [1, 2] and
    (.bon_at_k[0] - .pass_at_k[0] | fabs) < 1e-12 and (.weighted_at_k[0] - .pass_at_k[0] | fabs) < 1e-12 and
    all(.bon_at_k[], .weighted_at_k[]; . >= 0 and . <= 1))' "$TMP/fits" >/dev/null ||
    fail "bon_at_k / weighted_at_k: $(jq -c 'select(.kind == "passk")' "$TMP/fits")"
want=$(jq -s 'group_by(.budget)[0] | group_by(.id) | map(max_by(.prm_score) as $b |
    (map(select(.prm_score == $b.prm_score) | .correct) | add / length)) | add / length' "$TMP/gp")
jq -e -s --argjson w "$want" 'map(select(.kind == "passk")) | min_by(.budget) | (.bon_at_k[1] - $w | fabs) < 1e-12' \
    "$TMP/fits" >/dev/null || fail "bon_at_k at k = n is not the best-scored sample's grade ($want)"
# tte-plot's passk figure draws them, from tte-fit's real output.
tte-plot --figure passk --terminal dumb "$TMP/fits" | gnuplot >"$TMP/plot" 2>&1 || fail "passk figure"
grep -q 'best-of-k (PRM)' "$TMP/plot" && grep -q 'weighted vote (PRM)' "$TMP/plot" || fail "passk figure lacks the PRM lines"
# Without prm_score there is nothing to select by: the fields are absent, not zero.
tte-fit --metric correct <(jq -c 'del(.prm_score)' "$TMP/gp") |
    jq -e -s 'map(select(.kind == "passk")) | all(.[]; has("bon_at_k") | not)' >/dev/null || fail "bon_at_k without scores"

# A delimiter that occurs in no record's thinking: every record is written (scored as one step), then
# one line says so, exit 1.
expect_fail 1 "gen: field \"thinking\": the step delimiter \"@@\" occurs in none of the 16 records" \
    tte-score --prm "$PRM" --step-delim @@ "$TMP/gen"
[ "$(wc -l <"$TMP/out")" = 16 ] || fail "records lost before the delimiter error"

# Bad input: one line each.
echo '{"id": "b", "problem": "x", "steps": ["a!b"], "answer": "1"}' >"$TMP/bad"
expect_fail 1 'bad:1: field "steps": step 1 holds the token the PRM reads its score at' tte-score --prm "$PRM" "$TMP/bad"
echo '{"id": "b", "problem": "x", "steps": [], "answer": "1"}' >"$TMP/bad"
expect_fail 1 'bad:1: field "steps": must be a non-empty list' tte-score --prm "$PRM" "$TMP/bad"
printf '{"style": "value-head"}\n' >"$PRM/tte_prm.json"
expect_fail 1 "field \"style\": 'value-head' is not a kind of PRM" tte-score --prm "$PRM" "$TMP/steps"
expect_fail 2 'pipe tte-score --model' tte-score --prm "$PRM" --model "$MODEL" "$TMP/steps"
expect_fail 2 "'max' is not last, min or prod" tte-score --prm "$PRM" --prm-agg max "$TMP/steps"
echo "tte-score prm: ok"
