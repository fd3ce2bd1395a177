#!/usr/bin/env bash
# Input a hostile user gives (issue 21): each check failed before its fix.
#   4  repeated records in tte-fit      5  no usable record in tte-fit
#   14 values out of range, a model that is no string     10 --threads above the cores
#   13 an unwritable cache              15 plain messages (\u0000, --kv-mem 1T)
source "$(dirname "$0")/common.bash"
cd "$(dirname "$0")/../.."
DATA=$PWD/tests/cli/data/fit-scored.jsonl
MODEL=$PWD/share/models/tte-tiny-arith

# 4: the same id, sample and budget twice is an error naming both lines, in one file or across two.
head -3 "$DATA" >"$TMP/three"
{ cat "$TMP/three"; head -1 "$DATA"; } >"$TMP/repeat"
expect_fail 1 "repeat:4: repeats the record of line 1 \(id \"toy/0\", budget 128, sample 0\), which would count twice" \
    tte-fit "$TMP/repeat"
expect_fail 1 "three:1: repeats the record of .*three:1, the same file given twice \(id \"toy/0\"" tte-fit "$TMP/three" "$TMP/three"
# The same sample of another model or budget is no repeat.
jq -c '.model = "Other"' "$TMP/three" >"$TMP/other"
tte-fit --bootstrap 0 "$TMP/three" "$TMP/other" >/dev/null || fail "two models' samples taken for repeats"
expect_fail 1 'field "sample": must be an integer, 0 or more' tte-fit <<<'{"id":"a","budget":8,"sample":-1,"correct":1}'

# 5: records that were never scored (tte-gen's output), or no record at all, are an error, and -o keeps
# the good file it would have replaced.
jq -c 'del(.correct, .p_gold, .p_gold_norm, .entropy_nats)' "$DATA" >"$TMP/unscored"
tte-fit --bootstrap 0 -o "$TMP/fits" "$DATA"
cp "$TMP/fits" "$TMP/fits.good"
expect_fail 1 "^tte-fit: no usable record: none of the 120 records has a value of \"correct\", \"p_gold_norm\", \"p_gold\" or \"entropy_nats\" \(were they scored\?" \
    tte-fit -o "$TMP/fits" "$TMP/unscored"
cmp -s "$TMP/fits" "$TMP/fits.good" || fail "-o replaced a good file with nothing"
expect_fail 1 '^tte-fit: no scored record in the input: nothing to fit$' tte-fit -o "$TMP/fits" </dev/null
expect_fail 1 'none of the 120 records has a value of "p_gold"' tte-fit --metric p_gold "$(jq -c 'del(.p_gold)' "$DATA" >"$TMP/nop" && echo "$TMP/nop")"
cmp -s "$TMP/fits" "$TMP/fits.good" || fail "-o replaced a good file with nothing"
# Earlier output alone passes through, as before.
tte-fit "$TMP/fits.good" | cmp -s - "$TMP/fits.good" || fail "fit records no longer pass through"

# 14: values out of their range, and group fields that are no names, are located errors.
rec='{"model":"m","dataset":"d","id":"a","budget":8,"sample":0,"correct":1'
expect_fail 1 '<stdin>:1: field "p_gold_norm": must be a probability, in \[0, 1\]' tte-fit <<<"$rec,\"p_gold_norm\":1e308}"
expect_fail 1 'field "p_gold_norm": must be a probability' tte-fit <<<"$rec,\"p_gold_norm\":-0.5}"
expect_fail 1 'field "p_gold": must be a probability' tte-fit <<<"$rec,\"p_gold\":1.5}"
expect_fail 1 'field "entropy_nats": an entropy must not be negative' tte-fit <<<"$rec,\"entropy_nats\":-2}"
tte-fit --bootstrap 0 <<<"$rec,\"p_gold_norm\":1,\"p_gold\":0,\"entropy_nats\":0}" >/dev/null || fail "the ends of the ranges"
expect_fail 1 '<stdin>:1: field "model": must be a string' \
    tte-fit <<<'{"model":{"name":"m"},"dataset":"d","id":"a","budget":8,"correct":1}'
expect_fail 1 'field "dataset": must be a string' tte-fit <<<'{"model":"m","dataset":["d"],"id":"a","budget":8,"correct":1}'
expect_fail 1 'field "split": a --by field must be a string, number, boolean or null' \
    tte-fit --by model,split <<<'{"model":"m","split":{},"id":"a","budget":8,"correct":1}'

# 15: plain messages.
expect_fail 1 'column [0-9]+: a string holds \\u0000 \(a NUL character\)' tte-fit <<<'{"id":"a\u0000","budget":8}'
! grep -q JSON_ "$TMP/err" || fail "a jansson flag name in a message: $(cat "$TMP/err")"
expect_fail 2 "^tte-score: --kv-mem: '5000T' is more than the largest size, 1024T" tte-score --kv-mem 5000T
tte-score --kv-mem 1T --grade-only </dev/null || fail "--kv-mem 1T"

# 10: --threads above the cores is capped, said once.
cores=$(nproc)
if [ "$cores" -lt 1000 ]; then
    echo '{"text":"1+1"}' | tte-gen --model "$MODEL" --encode --threads 1000 >/dev/null 2>"$TMP/err" ||
        fail "--threads 1000: $(cat "$TMP/err")"
    grep -qx "tte-gen: --threads 1000: this machine gives $cores CPUs\? to this run; using $cores threads" "$TMP/err" ||
        fail "--threads 1000: $(cat "$TMP/err")"
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "--threads 1000: not one line: $(cat "$TMP/err")"
fi

# 13: a cache that cannot be written (every subfolder's name taken by a file, which stops root too):
# one warning for the whole run, exit 0, the same records as without a cache.
tte-fetch arith --count 3 --seed 5 >"$TMP/items"
tte-gen --model "$MODEL" --budgets 3..4 -n 2 --no-cache <"$TMP/items" >"$TMP/want"
mkdir -p "$TMP/full"
for i in $(seq 0 255); do : >"$TMP/full/$(printf %02x "$i")"; done
TTE_CACHE=$TMP/full tte-gen --model "$MODEL" --budgets 3..4 -n 2 <"$TMP/items" >"$TMP/got" 2>"$TMP/err" ||
    fail "unwritable cache: exit $?: $(cat "$TMP/err")"
cmp -s "$TMP/got" "$TMP/want" || fail "unwritable cache: other records"
[ "$(grep -c . "$TMP/err")" = 1 ] || fail "unwritable cache: not one line: $(cat "$TMP/err")"
grep -q "going on without storing results in the cache" "$TMP/err" || fail "unwritable cache: $(cat "$TMP/err")"
# ... and a cache folder that cannot be created (a file where it would go): one warning, exit 0.
: >"$TMP/not-a-dir"
TTE_CACHE=$TMP/not-a-dir/cache tte-gen --model "$MODEL" --budgets 3..4 -n 2 <"$TMP/items" >"$TMP/got" 2>"$TMP/err" ||
    fail "cache folder that cannot be made: exit $?: $(cat "$TMP/err")"
cmp -s "$TMP/got" "$TMP/want" || fail "cache folder that cannot be made: other records"
[ "$(grep -c . "$TMP/err")" = 1 ] && grep -q "going on without the cache" "$TMP/err" ||
    fail "cache folder that cannot be made: $(cat "$TMP/err")"
# 12: a config whose layer count is not the weights': a billion (no 335 GB allocation first) or one short.
for layers in 1000000000 3; do
    rm -rf "$TMP/layers" && mkdir "$TMP/layers"
    for f in model.safetensors tokenizer.json tokenizer_config.json; do ln -s "$MODEL/$f" "$TMP/layers/$f"; done
    jq --argjson n "$layers" '.num_hidden_layers = $n' "$MODEL/config.json" >"$TMP/layers/config.json"
    expect_fail 1 "layers/config.json: field \"num_hidden_layers\": $layers, but the weights hold 4 layers" \
        tte-gen --model "$TMP/layers" --max-tokens 2 <<<'{"prompt": "1+1="}'
done
# 14, 15: prompt_tokens as a string; a huge max_position_embeddings; an empty continuation phrase.
tte-fetch arith --count 1 --seed 4 | tte-gen --model "$MODEL" --budgets 3..3 >"$TMP/one"
jq -c '.prompt_tokens = "40"' "$TMP/one" >"$TMP/str"
expect_fail 1 'str:1: field "prompt_tokens": must be an integer' tte-score --model "$MODEL" "$TMP/str"
rm -rf "$TMP/layers" && mkdir "$TMP/layers"
for f in model.safetensors tokenizer.json tokenizer_config.json; do ln -s "$MODEL/$f" "$TMP/layers/$f"; done
jq '.max_position_embeddings = 1099511627776' "$MODEL/config.json" >"$TMP/layers/config.json"
expect_fail 1 "'max_position_embeddings' is 1099511627776, more than tte takes" \
    tte-gen --model "$TMP/layers" --max-tokens 2 <<<'{"prompt": "1+1="}'
expect_fail 2 '^tte-gen: --continue-phrase: must not be empty' tte-gen --model "$MODEL" --budgets 3..4 --continue-phrase ''
# 14: an added token past the model's embeddings is an error naming tokenizer.json, also for --encode.
rm -rf "$TMP/added" && mkdir "$TMP/added"
for f in model.safetensors config.json tokenizer_config.json; do ln -s "$MODEL/$f" "$TMP/added/$f"; done
jq '.added_tokens += [{"id": 5000, "content": "<extra>", "single_word": false, "lstrip": false, "rstrip": false,
    "normalized": false, "special": true}]' "$MODEL/tokenizer.json" >"$TMP/added/tokenizer.json"
expect_fail 1 'added/tokenizer.json: token id 5000 is past the model.s 326 embeddings' \
    tte-gen --model "$TMP/added" --encode <<<'{"text": "<extra>"}'
expect_fail 1 'added/tokenizer.json: token id 5000 is past' tte-gen --model "$TMP/added" --max-tokens 2 <<<'{"prompt": "1"}'
echo "hostile: all passed"
