# The cost fields (compute.h, man/tte.7) on budget-forcing records, recomputed here from config.json
# alone: FLOPs = 2 P x tokens fed + 4 L A x keys attended; bytes = the f32 weights once per forward
# step shared by the item's n samples + the KV read per key. A search's records carry the item's
# whole search: more than any one candidate's own path.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
tte-fetch arith --count 3 --seed 4 | tte-gen --model "$MODEL" --budgets 3..5 -n 2 --no-cache >"$TMP/gen"
jq -s -e --slurpfile c "$MODEL/config.json" '$c[0] as $c | ($c.hidden_size) as $H | ($c.num_attention_heads *
    $c.head_dim) as $q | ($c.num_key_value_heads * $c.head_dim) as $kv | ($c.num_hidden_layers) as $L |
    ($L * ($H * $q * 2 + $H * $kv * 2 + 3 * $H * $c.intermediate_size) + $c.vocab_size * $H) as $P |
    (4 * ($P + $L * (2 * $H + $q + 2 * $kv) + 2 * $H)) as $W |
    all(.[]; (.prompt_tokens + .thinking_tokens + .final_tokens) as $gen0 | .tokens_fed as $fed |
        ($fed * ($fed + 1) / 2) as $keys | (.thinking_tokens + .final_tokens) as $steps |
        .tokens_generated == .thinking_tokens + .final_tokens and $fed > $gen0 and
        ((.flops - (2 * $P * $fed + 4 * $L * $q * $keys)) / .flops | fabs) < 1e-9 and
        ((.bytes - ($W * ($steps + 2) / 2 + 4 * $L * $kv * $keys)) / .bytes | fabs) < 1e-9)' "$TMP/gen" >/dev/null ||
    fail "cost fields differ from the closed form: $(jq -c '{tokens_fed, flops, bytes}' "$TMP/gen" | head -2)"
# More thinking costs more, in every field.
jq -s -e 'group_by(.id + (.sample | tostring)) | all(.[]; sort_by(.budget) | [.[].flops] as $f | [.[].bytes] as $b |
    $f == ($f | sort) and $b == ($b | sort))' "$TMP/gen" >/dev/null || fail "cost does not grow with the budget"
echo "tte-gen compute: ok"
