#!/bin/bash
# Grading speed of tte-score --grade-only: MATH-500's solutions as model texts (extraction from a
# few hundred words of LaTeX prose, then equivalence), repeated to 20,000 records. Prints records
# per second; record the result in BENCH.md with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jq -c '{id, answer, text: .solution}' share/data/math500.jsonl >"$tmp/one.jsonl"
for _ in $(seq 40); do cat "$tmp/one.jsonl"; done >"$tmp/in.jsonl"
n=$(wc -l <"$tmp/in.jsonl")
start=$(date +%s.%N)
bin/tte-score --grade-only "$tmp/in.jsonl" >"$tmp/out.jsonl"
end=$(date +%s.%N)
correct=$(jq -s 'map(.correct) | add' "$tmp/out.jsonl")
awk -v n="$n" -v s="$start" -v e="$end" -v c="$correct" \
    'BEGIN { printf "tte-score --grade-only: %d records (%d correct) in %.2f s: %.0f records/s\n", n, c, e - s, n / (e - s) }'
