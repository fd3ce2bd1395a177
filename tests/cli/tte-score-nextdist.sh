# tte-score --next-dist: next-token distributions on the embedded model, against teacher forcing
# (--logprobs) of the same tokens, the .npy file of whole distributions, batching, bad input.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith

tte-fetch arith --count 7 --seed 5 | jq -c '{id, prompt: (.problem + " ")}' >"$TMP/in"
tte-score --model "$MODEL" --next-dist 4 "$TMP/in" >"$TMP/nd"
[ "$(wc -l <"$TMP/nd")" = 7 ] || fail "records in, records out"
cmp -s <(jq -c .id "$TMP/in") <(jq -c .id "$TMP/nd") || fail "order changed"
jq -e -s 'all(.[]; (.next_dist | length) == 4 and .model == "tte-tiny-arith" and .model_params > 800000 and
    (.next_dist | map(.logprob) | . == (sort | reverse)) and .next_dist[0].logprob <= 0 and
    .entropy_nats >= 0 and (.next_dist | all(.[]; (.token | type) == "string")))' "$TMP/nd" >/dev/null ||
    fail "next_dist fields: $(head -c 300 "$TMP/nd")"
# Each listed token's log-probability is teacher forcing's of that token after the same ids.
jq -c '{text: .prompt}' "$TMP/in" | tte-gen --model "$MODEL" --encode | jq -c .ids >"$TMP/ids"
paste -d' ' "$TMP/ids" <(jq -c '.next_dist' "$TMP/nd") | while read -r ids dist; do
    for k in 0 1 2 3; do
        jq -c -n --argjson p "$ids" --argjson d "$dist" --argjson k "$k" \
            '{prompt_ids: $p, ids: [$d[$k].id], want: $d[$k].logprob}'
    done
done | tte-score --model "$MODEL" --logprobs | jq -e -s 'all(.[]; (.logprobs[0] - .want | fabs) <= 1e-6)' >/dev/null ||
    fail "next_dist differs from teacher forcing"
# prompt_ids give the same distribution as the text they encode.
paste -d' ' "$TMP/ids" <(jq -c .id "$TMP/in") | jq -c -R 'split(" ") | {id: (.[1] | fromjson), prompt_ids: (.[0] | fromjson)}' |
    tte-score --model "$MODEL" --next-dist 4 | jq -c .next_dist | cmp -s - <(jq -c .next_dist "$TMP/nd") ||
    fail "prompt_ids and prompt differ"
# The same bytes at every --batch and --threads.
tte-score --model "$MODEL" --next-dist 4 --batch 1 --threads 1 "$TMP/in" | cmp -s - "$TMP/nd" || fail "--batch 1 differs"

# All of it: one .npy array, rows in record order, each a distribution; its argmax is next_dist's first.
tte-score --model "$MODEL" --next-dist all --next-dist-file "$TMP/nd.npy" "$TMP/in" >"$TMP/all"
jq -e -s 'map(.next_dist_row) == [range(7)]' "$TMP/all" >/dev/null || fail "next_dist_row"
jq -c '.next_dist[0].id' "$TMP/nd" >"$TMP/top"
/usr/bin/python3 - "$TMP/nd.npy" "$TMP/top" <<'PY' || fail "the .npy file"
import sys, numpy as np
a = np.load(sys.argv[1])
top = [int(l) for l in open(sys.argv[2])]
assert a.dtype == np.float32 and a.shape[0] == 7, (a.dtype, a.shape)
assert np.allclose(np.exp(a.astype(np.float64)).sum(1), 1, atol=1e-5)
assert list(a.argmax(1)) == top, (list(a.argmax(1)), top)
PY
tte-score --model "$MODEL" --next-dist all --next-dist-file "$TMP/nd16.npy" --next-dist-dtype f16 "$TMP/in" >/dev/null
/usr/bin/python3 -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.dtype == np.float16 and a.shape == b.shape
assert np.array_equal(a, b.astype(np.float16)), 'f16 rows are not the f32 rows rounded'" "$TMP/nd16.npy" "$TMP/nd.npy" ||
    fail "the f16 .npy file"

# Bad input: one line each; a failed run leaves no .npy file.
expect_fail 1 'the model has 326 tokens' tte-score --model "$MODEL" --next-dist 100000 "$TMP/in"
expect_fail 2 'next-dist-file' tte-score --model "$MODEL" --next-dist all "$TMP/in"
expect_fail 2 "'f8' is not f32 or f16" tte-score --model "$MODEL" --next-dist all --next-dist-file x --next-dist-dtype f8
echo '{"id":"x","prompt_ids":[1,99999]}' >"$TMP/bad"
expect_fail 1 'bad:1: field "prompt_ids"' tte-score --model "$MODEL" --next-dist all --next-dist-file "$TMP/bad.npy" "$TMP/bad"
[ ! -e "$TMP/bad.npy" ] || fail "a failed run wrote the .npy file"
echo "tte-score next-dist: ok"
