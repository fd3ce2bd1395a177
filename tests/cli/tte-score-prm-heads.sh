# tte-score --prm on reward models with their own heads (Qwen2ForProcessRewardModel's classifier,
# Skywork's Qwen2ForPrmModel value head): random-weight models in Hugging Face layout with the real
# tensor names, against float64 step scores from tools/make_tiny_prm.py (its input built as each
# model's card and inference code build it). Bad PRM folders: one line each.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX=$ROOT/tests/fixtures/models
for m in qwen2-prm-f32 skywork-prm-bf16; do
    jq -c '.cases[] | {id: "c", problem, steps, answer: "11"}' "$FIX/$m/reference.json" >"$TMP/in"
    tte-score --prm "$FIX/$m" "$TMP/in" >"$TMP/out" || fail "$m: tte-score --prm failed"
    jq -s -e --slurpfile r "$FIX/$m/reference.json" '[., $r[0].cases] | transpose |
        all(.[]; (.[0].step_scores | length) == (.[1].step_scores | length) and
            ([.[0].step_scores, .[1].step_scores] | transpose | all(.[]; (.[0] - .[1] | fabs) < 1e-4)))' \
        "$TMP/out" >/dev/null || fail "$m: step scores differ from the reference: $(jq -c .step_scores "$TMP/out")"
    # The spread is real: a head that read the wrong position would not match by chance.
    jq -s -e '[.[].step_scores[]] | (max - min) > 0.02' "$TMP/out" >/dev/null || fail "$m: scores do not vary"
done

# Folder problems, one line each.
BAD=$TMP/bad-prm
mkdir -p "$BAD"
cp "$FIX/qwen2-prm-f32/"{config.json,tokenizer.json,tokenizer_config.json} "$BAD/"
echo '{}' >"$BAD/pytorch_model.bin"
expect_fail 1 'pytorch_model.bin), which tte does not read; convert them once' tte-score --prm "$BAD" "$TMP/in"
rm "$BAD/pytorch_model.bin"
cp "$FIX/qwen2-prm-f32/model.safetensors" "$BAD/"
jq '.architectures = ["Qwen2ForTokenClassification"]' "$FIX/qwen2-prm-f32/config.json" >"$BAD/config.json"
expect_fail 1 "architecture 'Qwen2ForTokenClassification' is not supported" tte-score --prm "$BAD" "$TMP/in"
jq '.architectures = ["Qwen2ForPrmModel"]' "$FIX/qwen2-prm-f32/config.json" >"$BAD/config.json"
expect_fail 1 "tensor 'v_head.summary.weight' is missing" tte-score --prm "$BAD" "$TMP/in"
cp "$FIX/qwen2-prm-f32/config.json" "$BAD/"
echo '{"style": "shepherd"}' >"$BAD/tte_prm.json"
expect_fail 1 "field \"style\": 'shepherd' needs a causal LM, but config.json says Qwen2ForProcessRewardModel" \
    tte-score --prm "$BAD" "$TMP/in"
echo "tte-score prm heads: ok"
