# The embedded tiny PRM (share/models/tte-tiny-prm) on held-out arith items (tte-fetch arith --seed 0,
# the first 32, none of whose problems it was trained on), with the tools' real output: the policy's
# generations at budgets 2^4..2^5, 8 samples each at temperature 1 (at the policy's default of 0.6
# its 8 samples of an item are the same trace, so no selector can beat one sample), scored by the PRM:
#   - prm_score separates correct from incorrect records: AUROC >= 0.85 (the fraction of
#     (correct, incorrect) pairs ranked right, ties half);
#   - tte-fit's passk records: Best-of-8 by prm_score and weighted voting at k = 8 beat one sample
#     (bon_at_k and weighted_at_k at k = 8 above pass_at_k at k = 1) at both budgets.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
POLICY=$ROOT/share/models/tte-tiny-arith
PRM=$ROOT/share/models/tte-tiny-prm

tte-fetch arith --seed 0 --count 32 >"$TMP/items"
tte-gen --model "$POLICY" --budgets 4..5 -n 8 --temperature 1 --top-p 1 "$TMP/items" >"$TMP/gen" 2>"$TMP/err" ||
    fail "tte-gen: $(cat "$TMP/err")"
tte-score --prm "$PRM" "$TMP/gen" >"$TMP/scored" 2>"$TMP/err" || fail "tte-score --prm: $(cat "$TMP/err")"
[ "$(grep -c . "$TMP/scored")" = 512 ] || fail "expected 512 scored records, got $(grep -c . "$TMP/scored")"

# Both classes are there, or the AUROC would say nothing.
jq -s -e '([.[] | select(.correct == 1)] | length) >= 50 and ([.[] | select(.correct == 0)] | length) >= 50' \
    "$TMP/scored" >/dev/null || fail "too few correct or incorrect records to measure"
AUROC=$(jq -s '([.[] | select(.correct == 1) | .prm_score]) as $p | ([.[] | select(.correct == 0) | .prm_score]) as $n
    | [$p[] as $a | $n[] | if $a > . then 1 elif $a == . then 0.5 else 0 end] | add / length' "$TMP/scored")
awk -v a="$AUROC" 'BEGIN { exit !(a >= 0.85) }' || fail "prm_score AUROC $AUROC < 0.85"

tte-fit --metric correct "$TMP/scored" >"$TMP/fit" 2>"$TMP/err" || fail "tte-fit: $(cat "$TMP/err")"
jq -s -e '[.[] | select(.kind == "passk")] | length == 2 and
    all(.[]; .k[3] == 8 and .weighted_at_k[3] > .pass_at_k[0] and .bon_at_k[3] > .pass_at_k[0])' \
    "$TMP/fit" >/dev/null ||
    fail "selection by prm_score not above one sample: $(jq -c 'select(.kind == "passk") | {budget, pass_at_k, bon_at_k, weighted_at_k}' "$TMP/fit")"
echo "tte-tiny-prm: AUROC $AUROC; $(jq -r 'select(.kind == "passk") | "budget \(.budget): pass@1 \(.pass_at_k[0]) bon@8 \(.bon_at_k[3]) weighted@8 \(.weighted_at_k[3])"' "$TMP/fit" | paste -sd ';' -): ok"
