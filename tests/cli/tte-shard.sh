#!/usr/bin/env bash
# --shard K/N on tte-fetch, tte-gen and tte-score (shard.h: by a hash of the record's id) and
# tte-merge: the shards are disjoint and cover the input, an item keeps its shard when items are
# added, and the merged outputs are the bytes one process writes. Bad shard files are errors.
# shellcheck source=tests/cli/common.bash
source "$(dirname "$0")/common.bash"
MODEL=$(cd "$(dirname "$0")/../.." && pwd)/share/models/tte-tiny-arith
tte-fetch arith --count 12 --seed 2 >"$TMP/items"
tte-gen --model "$MODEL" --budgets 3..6 -n 2 --no-cache "$TMP/items" >"$TMP/gen"
tte-score --model "$MODEL" --no-cache "$TMP/gen" >"$TMP/scored"
for k in 0 1 2; do
    tte-gen --model "$MODEL" --budgets 3..6 -n 2 --no-cache --shard $k/3 -o "$TMP/gen.$k" "$TMP/items"
    tte-score --model "$MODEL" --no-cache --shard $k/3 -o "$TMP/scored.$k" "$TMP/gen"
    tte-fetch arith --count 12 --seed 2 --shard $k/3 >"$TMP/items.$k"
    [ -s "$TMP/gen.$k" ] || fail "shard $k/3 of 12 items is empty"
done
[ "$(cat "$TMP"/gen.[012] | wc -l)" = "$(wc -l <"$TMP/gen")" ] || fail "the shards do not cover the generations"
[ "$(cat "$TMP"/gen.[012] | jq -r .id | sort | uniq -c | awk '{print $1}' | sort -u)" = 8 ] ||
    fail "an item's records are split over shards"
tte-merge --order "$TMP/items" "$TMP"/gen.[012] | cmp -s - "$TMP/gen" || fail "merged generations differ"
tte-merge --order "$TMP/items" "$TMP"/scored.[012] | cmp -s - "$TMP/scored" || fail "merged scores differ"
tte-merge --order "$TMP/gen" "$TMP"/scored.[012] | cmp -s - "$TMP/scored" || fail "--order with the generations"
{ tte-merge --order "$TMP/items" -o "$TMP/merged" "$TMP"/items.[012] && cmp -s "$TMP/merged" "$TMP/items"; } ||
    fail "tte-fetch's shards do not merge into the items"
# tte-fetch's shard K and tte-gen's shard K hold the same items.
for k in 0 1 2; do
    [ "$(jq -r .id "$TMP/items.$k" | sort -u)" = "$(jq -r .id "$TMP/gen.$k" | sort -u)" ] ||
        fail "tte-fetch --shard $k/3 and tte-gen --shard $k/3 differ"
done
# More items move none: each id of the 12 is in the same shard among 40.
tte-fetch arith --count 40 --seed 2 --shard 1/3 | jq -r .id >"$TMP/ids40"
grep -qvxF -f "$TMP/ids40" <(jq -r .id "$TMP/items.1") && fail "adding items moved an item to another shard"
# Errors: files out of order, too few, records left over, an id again, no id, a bad value.
expect_fail 1 'is in shard 1/3, but this is file 0 of 3' tte-merge --order "$TMP/items" "$TMP/gen.1" "$TMP/gen.0" "$TMP/gen.2"
expect_fail 1 'give the files in shard order' tte-merge --order "$TMP/items" "$TMP/gen.0" "$TMP/gen.1"
head -6 "$TMP/items" >"$TMP/half"
expect_fail 1 'is not in .*half' tte-merge --order "$TMP/half" "$TMP"/gen.[012]
cat "$TMP/items" <(head -1 "$TMP/items") >"$TMP/twice"
expect_fail 1 'twice:13: id "arith/2/0" again' tte-merge --order "$TMP/twice" "$TMP"/items.[012]
echo '{"prompt":"x","answer":"1"}' >"$TMP/noid"
expect_fail 1 'noid:1: field "id": missing \(--shard splits records by their id\)' tte-score --grade-only --shard 0/2 "$TMP/noid"
expect_fail 2 "--shard: '' is not an integer in \[1, " tte-gen --model "$MODEL" --budgets 3..4 --shard 2/ "$TMP/items"
expect_fail 2 "--shard: 'x' is not K/N" tte-score --grade-only --shard x "$TMP/gen"
expect_fail 2 "order FILE is required" tte-merge "$TMP/gen.0"
echo "tte-shard: ok"
