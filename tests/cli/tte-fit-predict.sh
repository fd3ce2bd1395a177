# tte-fit --predict-largest on the real output of tte-score --next-dist over a family of models
# (tools/make_random_family.py: three sizes sharing one tokenizer), against the numpy version of
# the strategies (tools/predict_largest_reference.py); bad families are one-line errors.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

/usr/bin/python3 "$ROOT/tools/make_random_family.py" "$ROOT/share/models/tte-tiny-arith" "$TMP/family"
tte-fetch arith --count 60 --seed 9 | jq -c '{id, prompt: .problem}' >"$TMP/in"
for size in l1 l2 l4; do tte-score --model "$TMP/family/$size" --next-dist 20 "$TMP/in"; done >"$TMP/nd"
tte-fit --predict-largest --seed 3 "$TMP/nd" >"$TMP/pred"
jq -e -s 'length == 6 and all(.[]; .kind == "prediction" and .target == "l4" and .models == ["l1", "l2"] and
    .prompts == 60 and .top1 >= 0 and .top1 <= 1 and .top1_lo <= .top1 and .top1 <= .top1_hi) and
    (map(.strategy) == ["token0", "random", "average", "largest_small", "loglinear", "damped_trend"]) and
    (map(select(.strategy == "average")) | .[0].top1 > 0.1)' "$TMP/pred" >/dev/null ||
    fail "prediction records: $(cat "$TMP/pred")"
/usr/bin/python3 "$ROOT/tools/predict_largest_reference.py" 3 <"$TMP/nd" >"$TMP/ref"
jq -e -s --slurpfile ref "$TMP/ref" 'all(.[]; (.top1 - $ref[0][.strategy] | fabs) < 1e-12)' "$TMP/pred" >/dev/null ||
    fail "strategies differ from numpy: $(jq -c '[.strategy, .top1]' "$TMP/pred" | tr '\n' ' ') against $(cat "$TMP/ref")"
# The order of the records does not matter; tte-plot and jq can read the records.
tac "$TMP/nd" | tte-fit --predict-largest --seed 3 | cmp -s - "$TMP/pred" || fail "record order changed the result"

# Bad families.
jq -c 'if .model == "l2" then .next_dist_vocab = 300 else . end' "$TMP/nd" >"$TMP/bad"
expect_fail 1 'bad:[0-9]+: field "next_dist_vocab": .* tokenizers differ' tte-fit --predict-largest "$TMP/bad"
jq -c 'if .model == "l2" then .next_dist[0].token = "zz" else . end' "$TMP/nd" >"$TMP/bad"
expect_fail 1 'tokenizers differ' tte-fit --predict-largest "$TMP/bad"
first=$(jq -r -n 'input.id' "$TMP/nd")
jq -c --arg f "$first" 'select(.model != "l2" or .id != $f)' "$TMP/nd" >"$TMP/bad"
expect_fail 1 "prompt $first has no record of model l2" tte-fit --predict-largest "$TMP/bad"
grep '"model":"l1"' "$TMP/nd" >"$TMP/bad"
expect_fail 1 'two or more models' tte-fit --predict-largest "$TMP/bad"
jq -c 'del(.model_params)' "$TMP/nd" >"$TMP/bad"
expect_fail 1 'bad:1: field "model_params": missing' tte-fit --predict-largest "$TMP/bad"
echo "tte-fit predict: ok"
