#!/usr/bin/env bash
# tte-gen --search against plain sampling, and a PRM's cost per scored trace against one forward pass,
# side by side in one run, TTE_SEARCH_ROUNDS times (default 3) in turn so that the machine's load
# falls on all of them alike. One JSON line per round.
#   beam      tte-gen --search beam -n N --beam-width M (N 16, M 4) on TTE_SEARCH_ITEMS items (2), the
#             policy as its own PRM (Math-Shepherd style, a tte_prm.json beside its files): policy
#             tokens generated per second, PRM tokens fed per second, over the whole search
#   sample    plain sampling (--max-tokens) of the same number of policy tokens: N continuations of each
#             item's prompt; tokens per second
#   prm       tte-score --prm on the search's records: PRM seconds per token of its input
#   forward   tte-score --logprobs over each record's prompt and text (one teacher-forced pass):
#             seconds per token
# Ratios: beam_vs_sample (tokens/s, search over sampling), prm_vs_forward (per-token cost of scoring a
# trace over one pass over it; 1 is the best a PRM can do).
#   TTE_SEARCH_MODEL   a model folder (default share/models/tte-tiny-arith; bench/chat_model.bash's
#                      build/bench/r1-chat for the 1.5B shape)
#   TTE_SEARCH_DELIM   the step delimiter (default "\n": the tiny model's steps are lines)
#   TTE_SEARCH_STEPS, TTE_SEARCH_STEP_TOKENS  --max-steps (8), --step-tokens (64)
#   TTE_SEARCH_GREEDY  1: --greedy (a random-weight model's delimiters come from a greedy loop)
#
#   bash bench/search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s all
model=${TTE_SEARCH_MODEL:-share/models/tte-tiny-arith}
items=${TTE_SEARCH_ITEMS:-2}
rounds=${TTE_SEARCH_ROUNDS:-3}
n=${TTE_SEARCH_N:-16}
m=${TTE_SEARCH_M:-4}
delim=${TTE_SEARCH_DELIM:-$'\n'}
steps=${TTE_SEARCH_STEPS:-8}
step_tokens=${TTE_SEARCH_STEP_TOKENS:-64}
greedy=()
[ "${TTE_SEARCH_GREEDY:-0}" = 1 ] && greedy=(--greedy)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TTE_SHARE=$PWD/share
prm=$work/prm
mkdir -p "$prm"
for f in "$model"/*; do ln -s "$(realpath "$f")" "$prm/$(basename "$f")"; done
jq -n -c --arg d "$delim" '{style: "shepherd", system: "Check:", step_delim: $d}' >"$prm/tte_prm.json"
bin/tte-fetch arith --seed 0 --count "$items" >"$work/items.jsonl"
jq -c '{text: .prompt}' "$work/items.jsonl" | bin/tte-gen --model "$model" --encode --chat |
    jq -c '{prompt_ids: .ids}' >"$work/prompts.jsonl"
echo "search.sh: model $model, $items items, N $n, M $m, $(bin/tte-gen -V | tail -1)" >&2

seconds() { echo "$2 - $1" | bc; }
for round in $(seq "$rounds"); do
    echo "search.sh: round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    t0=$(date +%s.%N)
    bin/tte-gen --model "$model" --search beam --prm "$prm" -n "$n" --beam-width "$m" --max-steps "$steps" \
        --step-tokens "$step_tokens" "${greedy[@]}" "$work/items.jsonl" >"$work/beam.jsonl"
    t1=$(date +%s.%N)
    gen=$(jq -s 'group_by(.id) | map(.[0].tokens_generated) | add' "$work/beam.jsonl")
    prm_fed=$(jq -s 'group_by(.id) | map(.[0].prm_tokens_fed) | add' "$work/beam.jsonl")
    # The same number of tokens by plain sampling: N continuations of each prompt.
    per=$(((gen + n * items - 1) / (n * items)))
    for _ in $(seq "$n"); do cat "$work/prompts.jsonl"; done >"$work/sample_in.jsonl"
    t2=$(date +%s.%N)
    bin/tte-gen --model "$model" --max-tokens "$per" "${greedy[@]}" "$work/sample_in.jsonl" >"$work/sample.jsonl"
    t3=$(date +%s.%N)
    sampled=$(jq -s 'map(.ids | length) | add' "$work/sample.jsonl")
    bin/tte-score --prm "$prm" --no-cache "$work/beam.jsonl" >"$work/prm.jsonl"
    t4=$(date +%s.%N)
    # One pass over each record: its chat prompt and its text, teacher-forced.
    jq -c --slurpfile p "$work/prompts.jsonl" --slurpfile it "$work/items.jsonl" \
        '(.id) as $id | ($it | map(.id) | index($id)) as $i | {prompt_ids: $p[$i].prompt_ids, text: .text}' \
        "$work/beam.jsonl" >"$work/forward_in.jsonl"
    t5=$(date +%s.%N)
    bin/tte-score --model "$model" --logprobs "$work/forward_in.jsonl" >"$work/forward.jsonl"
    t6=$(date +%s.%N)
    prm_tokens=$(jq -s 'map(.prm_tokens_fed) | add' "$work/prm.jsonl")
    fwd_tokens=$(jq -s --slurpfile f "$work/forward_in.jsonl" '[$f[].prompt_ids | length] | add' /dev/null)
    fwd_tokens=$((fwd_tokens + $(jq -s 'map(.logprobs | length) | add' "$work/forward.jsonl")))
    jq -n -c --argjson round "$round" --argjson gen "$gen" --argjson prm_fed "$prm_fed" \
        --argjson sampled "$sampled" --argjson prm_tokens "$prm_tokens" --argjson fwd_tokens "$fwd_tokens" \
        --argjson tb "$(seconds "$t0" "$t1")" --argjson ts "$(seconds "$t2" "$t3")" \
        --argjson tp "$(seconds "$t3" "$t4")" --argjson tf "$(seconds "$t5" "$t6")" \
        '{round: $round, beam_s: $tb, beam_policy_tokens: $gen, beam_prm_tokens: $prm_fed,
          beam_tok_s: ($gen / $tb), sample_s: $ts, sample_tokens: $sampled, sample_tok_s: ($sampled / $ts),
          beam_vs_sample: (($gen / $tb) / ($sampled / $ts)),
          prm_s_per_token: ($tp / $prm_tokens), forward_s_per_token: ($tf / $fwd_tokens),
          prm_vs_forward: (($tp / $prm_tokens) / ($tf / $fwd_tokens))}'
done
