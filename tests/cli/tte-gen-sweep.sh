#!/usr/bin/env bash
# tte-gen's budget-forcing sweep on the embedded tiny model (share/models/tte-tiny-arith): budget
# accounting, the prefix property, --independent, determinism across --batch and --threads, the
# cache and resume after kill -9, early stops, the final answer, and bad input.
source "$(dirname "$0")/common.bash"
MODEL=$(cd "$(dirname "$0")/../.." && pwd)/share/models/tte-tiny-arith
# --top-p 0 would keep no token: a usage error that points to --greedy.
expect_fail 2 "^tte-gen: --top-p: 0 keeps no token" tte-gen --model "$MODEL" --budgets 3..4 --top-p 0
tte-fetch arith --count 8 --seed 0 >"$TMP/items"
gen() { tte-gen --model "$MODEL" "$@"; }

# Budget accounting: forced records have exactly B thinking tokens, continuation phrases included,
# and the record carries the ids that make them up.
gen --budgets 3..7 -n 2 --no-cache <"$TMP/items" >"$TMP/sweep"
[ "$(wc -l <"$TMP/sweep")" = 80 ] || fail "8 items x 2 samples x 5 budgets: $(wc -l <"$TMP/sweep") records"
jq -e -s 'all(.[]; .ended == "budget" and .thinking_tokens == .budget and (.thinking_ids | length) == .budget)' \
    "$TMP/sweep" >/dev/null || fail "forced records must have thinking_tokens == budget"
jq -e -s 'any(.[]; .continues > 0)' "$TMP/sweep" >/dev/null || fail "the tiny model never stopped early: no continuation tested"
# Each continue put the phrase into the trace (the last one may be cut by the budget); the tiny
# model also writes the phrase itself, as it was trained to, so the trace may hold more.
jq -e -s 'all(.[]; (.thinking | [scan(" Hmm")] | length) >= .continues - 1)' "$TMP/sweep" \
    >/dev/null || fail "continues counts phrases that are not in the trace"
# Input order, samples, then budgets.
[ "$(jq -r '"\(.id) \(.sample) \(.budget)"' "$TMP/sweep" | head -6 | tr '\n' ,)" = \
  "arith/0/0 0 8,arith/0/0 0 16,arith/0/0 0 32,arith/0/0 0 64,arith/0/0 0 128,arith/0/0 1 8," ] ||
    fail "record order: $(head -c 300 "$TMP/sweep")"

# The prefix property: the trace at B is the start of the trace at 2B, for the same sample.
jq -e -s 'group_by([.id, .sample]) | all(.[]; . as $g | all(range(1; $g | length);
          $g[.].thinking_ids[: $g[. - 1].budget] == $g[. - 1].thinking_ids))' "$TMP/sweep" >/dev/null ||
    fail "a trace at B is not the prefix of the trace at 2B"

# The final answer: at most --answer-tokens tokens, ending at the first "}" when there is one.
gen --budgets 3..7 -n 2 --no-cache --answer-tokens 3 <"$TMP/items" >"$TMP/short"
jq -e -s 'all(.[]; .final_tokens <= 3 and (.final_ids | length) == .final_tokens and
          ((.final | endswith("}")) or .final_tokens == 3) and ((.final | rtrimstr("}")) | contains("}") | not))' \
    "$TMP/short" >/dev/null || fail "final answers must stop at '}' or after --answer-tokens"
jq -e -s 'all(.[]; .final | endswith("}"))' "$TMP/sweep" >/dev/null || fail "the tiny model's answers close with '}'"

# Same output for any --batch and --threads.
for b in 1 7 32; do
    gen --budgets 3..7 -n 2 --no-cache --batch $b --threads 1 <"$TMP/items" | cmp -s - "$TMP/sweep" ||
        fail "--batch $b gives different records"
done
gen --budgets 3..7 -n 2 --no-cache --threads 2 <"$TMP/items" | cmp -s - "$TMP/sweep" || fail "--threads 2 differs"
# A KV cache that holds only a few samples at a time: admission waits, the records are the same.
gen --budgets 3..7 -n 2 --no-cache --kv-mem 2M <"$TMP/items" | cmp -s - "$TMP/sweep" || fail "--kv-mem 2M differs"

# --independent: each budget sampled from scratch, so traces are not prefixes of each other, but
# budgets are still met exactly. (At its default temperature of 0.6 the tiny model's traces hardly
# vary, so this samples hotter.)
gen --budgets 3..7 -n 2 --no-cache --independent --temperature 1.5 <"$TMP/items" >"$TMP/indep"
jq -e -s 'all(.[]; .thinking_tokens == .budget)' "$TMP/indep" >/dev/null || fail "--independent budgets"
jq -e -s 'group_by([.id, .sample]) | any(.[]; .[0].thinking_ids != .[1].thinking_ids[: .[0].budget])' \
    "$TMP/indep" >/dev/null || fail "--independent traces are all prefixes of each other"

# Early stop: with --allow-early-stop (or --max-continues 0) the model's own end stands.
gen --budgets 3..7 --no-cache --allow-early-stop <"$TMP/items" >"$TMP/early"
jq -e -s 'any(.[]; .ended == "model") and all(.[]; .continues == 0 and .thinking_tokens <= .budget and
          (.ended == "model" or .thinking_tokens == .budget))' "$TMP/early" >/dev/null || fail "--allow-early-stop"
gen --budgets 3..7 --no-cache --max-continues 0 <"$TMP/items" | cmp -s - "$TMP/early" ||
    fail "--max-continues 0 is not --allow-early-stop"

# --compat study: every budget from scratch, in chunks of budget x --chunk-frac whose last token is
# overwritten by the phrase, and the repetition guard ending thinking early.
phrase=$(echo '{"text":" Hmm, but let me keep thinking..."}' | tte-gen --model "$MODEL" --encode | jq -c .ids)
gen --budgets 3..8 --no-cache --compat study <"$TMP/items" >"$TMP/study"
jq -e -s 'all(.[]; .thinking_tokens <= .budget and (.ended == "budget" or .ended == "guard") and
          (.ended == "guard" or .thinking_tokens == .budget)) and any(.[]; .ended == "guard")' "$TMP/study" \
    >/dev/null || fail "--compat study: budgets and the guard"
jq -e -s --argjson p "$phrase" 'any(.[]; .budget == 64 and .thinking_ids[15:31] == $p)' "$TMP/study" >/dev/null ||
    fail "--compat study: the 16th token of a 64-token budget's first chunk is not overwritten by the phrase"
gen --budgets 3..8 --no-cache --compat study --chunk-frac 0.5 <"$TMP/items" | cmp -s - "$TMP/study" &&
    fail "--chunk-frac changes nothing"
expect_fail 2 'compat' gen --budgets 3..4 --compat other "$TMP/items"

# Cache: a second run computes nothing and writes the same records; --refresh recomputes them.
gen --budgets 3..7 -n 2 <"$TMP/items" >"$TMP/first"
cmp -s "$TMP/first" "$TMP/sweep" || fail "the cached run differs from --no-cache"
gen --budgets 3..7 -n 2 --progress <"$TMP/items" 2>"$TMP/err" | cmp -s - "$TMP/sweep" || fail "second run differs"
grep -q "16 units: 16 from the cache, 0 computed" "$TMP/err" || fail "second run recomputed: $(cat "$TMP/err")"
gen --budgets 3..7 -n 2 --refresh --progress <"$TMP/items" 2>"$TMP/err" | cmp -s - "$TMP/sweep" || fail "--refresh"
grep -q "0 from the cache, 16 computed" "$TMP/err" || fail "--refresh used the cache: $(cat "$TMP/err")"

# Resume after kill -9: kill once the first records are out, rerun, and get exactly the records of
# an uninterrupted run, with the finished units taken from the cache.
tte-fetch arith --count 24 --seed 3 >"$TMP/many"
gen --budgets 3..7 -n 4 --no-cache <"$TMP/many" >"$TMP/full"
export TTE_CACHE="$TMP/cache-kill"
# (tte-gen itself in the background, not the gen function: $! must be the process killed; the
# output file is made first, so the loop below can count its lines before the background shell
# has opened it)
: >"$TMP/partial"
tte-gen --model "$MODEL" --budgets 3..7 -n 4 --batch 1 <"$TMP/many" >"$TMP/partial" 2>"$TMP/killed.err" &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$(wc -l <"$TMP/partial")" -lt 5 ]; do sleep 0.02; done
kill -9 $pid 2>/dev/null || fail "the run finished before it could be killed"
wait $pid 2>/dev/null || true
# What a failure here needs to be understood: the killed run's messages (a cache write that failed
# says so there) and what the cache holds.
resume_diag() {
    echo "killed run: $(wc -l <"$TMP/partial") records written; its stderr:"
    cat "$TMP/killed.err"
    echo "cache $TTE_CACHE: $(find "$TTE_CACHE" -name '*.zst' | wc -l) entries, temporary files:" \
        "$(find "$TTE_CACHE" -name '*.tmp.*' | wc -l)"
    find "$TTE_CACHE" -type f | head -20
}
[ "$(wc -l <"$TMP/partial")" -lt "$(wc -l <"$TMP/full")" ] || fail "the killed run was complete"
gen --budgets 3..7 -n 4 --progress <"$TMP/many" 2>"$TMP/err" >"$TMP/resumed"
cmp -s "$TMP/resumed" "$TMP/full" || fail "resumed output differs from an uninterrupted run: $(resume_diag)"
grep -qE "96 units: [1-9][0-9]* from the cache" "$TMP/err" ||
    fail "nothing was resumed: $(cat "$TMP/err")
$(resume_diag)"

# Bad input: one located line, exit 1.
echo '{"id":"x","problem":"no prompt"}' >"$TMP/bad"
expect_fail 1 'tte-gen: .*bad:1: field "prompt": missing' gen --budgets 3..4 "$TMP/bad"
expect_fail 1 'field "prompt": .* positions, the model has 1024' gen --budgets 11..11 "$TMP/items"
expect_fail 1 'tte-gen: .*nonexistent' tte-gen --model "$TMP/nonexistent" --budgets 3..4 "$TMP/items"
expect_fail 2 'budgets' gen --budgets 8..3 "$TMP/items"
expect_fail 2 'increasing' gen --budgets 300,100 "$TMP/items"
expect_fail 2 'give --budgets' gen "$TMP/items"
expect_fail 2 'kv-mem' gen --budgets 3..4 --kv-mem lots "$TMP/items"
# A cache too small for one sample is an error, not a hang.
expect_fail 1 'holds no page' gen --budgets 3..7 --no-cache --kv-mem 1K "$TMP/items"
expect_fail 1 'raise --kv-mem' gen --budgets 3..7 --no-cache --kv-mem 64K "$TMP/items"

echo "tte-gen sweep: ok"
