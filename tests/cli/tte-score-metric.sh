#!/usr/bin/env bash
# tte-score with a model: the engine against PyTorch (--logprobs, and tte-gen --max-tokens), the
# continuous metric over solution sets (tree against plain teacher forcing, normalisation), the
# cache, and bad input. On the embedded tiny model.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
REF=$ROOT/tests/fixtures/tte-tiny-arith-reference.json

# The engine against the float64 PyTorch reference of tools/tiny_arith_reference.py: teacher-forced
# log-probabilities to 1e-4, and the same 32 greedy tokens.
jq -c '{prompt_ids, ids}' "$REF" | tte-score --model "$MODEL" --logprobs >"$TMP/lp"
jq -e --slurpfile r "$REF" '(.logprobs | length) == ($r[0].ids | length) and
    ([.logprobs, $r[0].logprobs] | transpose | map(.[0] - .[1] | fabs) | max) <= 1e-4' "$TMP/lp" >/dev/null ||
    fail "--logprobs differs from PyTorch: $(head -c 300 "$TMP/lp")"
jq -c '{prompt_ids}' "$REF" | tte-gen --model "$MODEL" --max-tokens 32 --greedy >"$TMP/greedy"
jq -e --slurpfile r "$REF" '.ids == $r[0].greedy' "$TMP/greedy" >/dev/null || fail "greedy continuation differs"
# Text in, ids and text out.
echo '{"prompt":"1+2=","text":"3"}' | tte-score --model "$MODEL" --logprobs | jq -e '(.ids | length) == 1 and
    (.logprobs | length) == 1 and .logprobs[0] < 0' >/dev/null || fail "--logprobs on text"
echo '{"prompt":"1+2="}' | tte-gen --model "$MODEL" --max-tokens 4 --greedy | jq -e '(.ids | length) <= 4 and
    (.text | type) == "string"' >/dev/null || fail "--max-tokens on text"

# The metric on a small sweep.
tte-fetch arith --count 6 --seed 0 | tte-gen --model "$MODEL" --budgets 3..6 -n 2 >"$TMP/gen"
tte-score --model "$MODEL" "$TMP/gen" >"$TMP/scored"
[ "$(wc -l <"$TMP/scored")" = 48 ] || fail "records in, records out"
jq -e -s 'all(.[]; .solution_set == "int:0-999" and .set_size == 1000 and .p_gold >= 0 and
          .p_gold <= .p_gold_norm and .p_gold_norm <= 1 and .gold_rank >= 1 and .entropy_nats >= -1e-12 and
          .entropy_nats <= (1000 | log) and ((.logp_gold | exp) - .p_gold | fabs) < 1e-12 and
          (.correct == 0 or .correct == 1))' "$TMP/scored" >/dev/null || fail "metric fields out of range"
jq -e -s 'map(.p_gold_norm) | (min < 0.1 and max > 0.9)' "$TMP/scored" >/dev/null ||
    fail "the tiny model should be sure at large budgets and unsure at small ones"
# Same records in the same order, with grading's fields.
cmp -s <(jq -c '{id, budget, sample, correct}' "$TMP/scored") \
       <(tte-score --grade-only "$TMP/gen" | jq -c '{id, budget, sample, correct}') || fail "grading differs"

# The tree equals plain teacher forcing of the gold answer after the same context.
jq -c -n 'first(inputs | select(.budget == 16 and .sample == 1))' "$TMP/gen" >"$TMP/one"
ctx=$(jq -c '{text: .prompt}' "$TMP/one" | tte-gen --model "$MODEL" --encode --chat | jq -c .ids)
end=$(jq -c '{text: .end_thinking}' "$TMP/one" | tte-gen --model "$MODEL" --encode | jq -c .ids)
gold=$(jq -c '{text: (.answer + "}")}' "$TMP/one" | tte-gen --model "$MODEL" --encode | jq -c .ids)
jq -c --argjson c "$ctx" --argjson e "$end" --argjson g "$gold" '{prompt_ids: ($c + .thinking_ids + $e), ids: $g}' \
    "$TMP/one" | tte-score --model "$MODEL" --logprobs | jq '.logprobs | add' >"$TMP/forced"
want=$(cat "$TMP/forced")
tte-score --model "$MODEL" "$TMP/one" | jq -e --argjson w "$want" '(.logp_gold - $w | fabs) <= 1e-5' >/dev/null ||
    fail "the tree's log p(gold) differs from teacher forcing ($want)"

# Normalisation: the four letters of a choice item, each taken as gold in turn, sum to 1.
for letter in A B C D; do
    jq -c --arg l "$letter" '.id += "/" + $l | .answer = $l | .answer_type = "choice" |
        .choices = ["one", "two", "three", "four"]' "$TMP/one"
done >"$TMP/choice"
tte-score --model "$MODEL" "$TMP/choice" | jq -s -e '(map(.p_gold_norm) | add - 1 | fabs) < 1e-9 and
    all(.[]; .solution_set == "choice:A-D" and .set_size == 4)' >/dev/null || fail "choice set does not sum to 1"
# Free-form answers: the gold answer and the distinct answers given for the item.
jq -c -n 'limit(8; inputs) | .answer_type = "latex" | .answer = "11"' "$TMP/gen" | tte-score --model "$MODEL" |
    jq -e -s 'all(.[]; .solution_set == "answers" and .set_size >= 1 and .p_gold_norm <= 1)' >/dev/null ||
    fail "answers set"

# Cache: a second run gives the same bytes; --no-cache too.
tte-score --model "$MODEL" "$TMP/gen" | cmp -s - "$TMP/scored" || fail "cached rerun differs"
tte-score --model "$MODEL" --no-cache "$TMP/gen" | cmp -s - "$TMP/scored" || fail "--no-cache differs"

# Batching across records (the library's scheduler) changes no byte, nor does the thread count, nor a
# KV cache so small that one trace with its tree runs at a time.
for opts in "--batch 1 --threads 1" "--batch 5 --threads 2" "--batch 32 --kv-mem 34M"; do
    # shellcheck disable=SC2086
    tte-score --model "$MODEL" --no-cache $opts "$TMP/gen" | cmp -s - "$TMP/scored" || fail "tte-score $opts differs"
done
expect_fail 1 'raise --kv-mem' tte-score --model "$MODEL" --no-cache --kv-mem 64K "$TMP/gen"
# --logprobs and --max-tokens batch their records too: the same bytes at every --batch, in input order.
tte-fetch arith --count 9 --seed 3 | jq -c '{id, prompt, text: .answer}' >"$TMP/lp-in"
tte-score --model "$MODEL" --logprobs --batch 1 "$TMP/lp-in" >"$TMP/lp1"
tte-score --model "$MODEL" --logprobs --batch 4 "$TMP/lp-in" | cmp -s - "$TMP/lp1" || fail "--logprobs --batch differs"
cmp -s <(jq -c .id "$TMP/lp-in") <(jq -c .id "$TMP/lp1") || fail "--logprobs changed the order"
tte-gen --model "$MODEL" --max-tokens 12 --batch 1 "$TMP/lp-in" >"$TMP/mt1"
tte-gen --model "$MODEL" --max-tokens 12 --batch 4 "$TMP/lp-in" | cmp -s - "$TMP/mt1" || fail "--max-tokens --batch differs"
# A bad record in the middle: the records before it are written, then its error.
{ head -3 "$TMP/lp-in"; echo '{"id":"x","prompt":"1+1="}'; tail -2 "$TMP/lp-in"; } >"$TMP/bad"
expect_fail 1 'bad:4: field "text"' tte-score --model "$MODEL" --logprobs --batch 4 "$TMP/bad"
[ "$(wc -l <"$TMP/out")" = 3 ] || fail "--logprobs: the records before the bad one were not all written"
# -o writes the file only when the run succeeded.
echo keep >"$TMP/kept"
expect_fail 1 'bad:4' tte-score --model "$MODEL" --logprobs -o "$TMP/kept" "$TMP/bad"
[ "$(cat "$TMP/kept")" = keep ] || fail "-o replaced the file on a failed run"
tte-score --model "$MODEL" --logprobs -o "$TMP/kept" "$TMP/lp-in"
cmp -s "$TMP/kept" "$TMP/lp1" || fail "-o FILE differs from stdout"
[ -z "$(ls "$TMP" | grep '\.tmp')" ] || fail "a temporary file was left behind"

# Records another model generated are refused, unless --rescore says to score them with this one.
jq -c '.model_hash = "xxh3:00000000000000000000000000000000"' "$TMP/one" >"$TMP/other"
expect_fail 1 'other:1: field "model_hash": the record was generated by model xxh3:0000' \
    tte-score --model "$MODEL" "$TMP/other"
tte-score --model "$MODEL" --rescore "$TMP/other" | jq -e '.p_gold > 0' >/dev/null || fail "--rescore"
# Two records with one id and different gold answers each get the metric of their own gold.
jq -c '.answer = "5"' "$TMP/one" >"$TMP/gold5"
tte-score --model "$MODEL" --no-cache "$TMP/gold5" | jq -c '[.p_gold, .gold_rank]' >"$TMP/alone"
cat "$TMP/one" "$TMP/gold5" | tte-score --model "$MODEL" --no-cache | tail -1 | jq -c '[.p_gold, .gold_rank]' |
    cmp -s - "$TMP/alone" || fail "the second gold answer was scored as the first's"
# A bad line after good ones: the good ones are scored and written, then the error (exit 1).
{ head -24 "$TMP/gen"; echo '{"id": 1}'; } >"$TMP/late"
expect_fail 1 'late:25: field' tte-score --model "$MODEL" "$TMP/late"
head -24 "$TMP/scored" | cmp -s - "$TMP/out" || fail "the records before the bad line were not written"

# Bad input.
jq -c 'del(.thinking_ids)' "$TMP/one" >"$TMP/bad"
expect_fail 1 'bad:1: field "thinking_ids": missing' tte-score --model "$MODEL" "$TMP/bad"
jq -c '.prompt_tokens = 3' "$TMP/one" >"$TMP/bad"
expect_fail 1 'bad:1: field "prompt_tokens": the record has 3' tte-score --model "$MODEL" "$TMP/bad"
jq -c '.thinking_ids = [1, 99999]' "$TMP/one" >"$TMP/bad"
expect_fail 1 'field "thinking_ids": entry 1 is not a token id' tte-score --model "$MODEL" "$TMP/bad"
echo '{"prompt":"x","text":"y","ids":"no"}' >"$TMP/bad"
expect_fail 1 'bad:1: field "ids"' tte-score --model "$MODEL" --logprobs "$TMP/bad"
expect_fail 2 'without a model' tte-score --grade-only --model "$MODEL" "$TMP/gen"
expect_fail 2 'give --model' tte-score "$TMP/gen"

echo "tte-score metric: ok"
