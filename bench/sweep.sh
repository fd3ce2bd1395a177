#!/usr/bin/env bash
# The cost of a budget-forcing sweep (tte-gen) against one generation to its largest budget and
# against --independent, on the random-weight model with the exact shape of
# DeepSeek-R1-Distill-Qwen-1.5B (bench/engine.sh writes it) with a tokenizer (bench/chat_model.bash).
# One AIME 2024 item, -n 4.
# One JSON line per run: wall time, tokens fed to the engine, thinking tokens; see BENCH.md.
#
#   bash bench/sweep.sh
#     TTE_BENCH_DIR         where bench/engine.sh keeps the model (build/bench)
#     TTE_SWEEP_BUDGETS     the sweep's budgets (default 7..11, as the study; the largest is A..B's B)
#     TTE_SWEEP_BATCH1      1 also runs the sweep at --batch 1 (slow on a small machine)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/chat_model.bash
budgets=${TTE_SWEEP_BUDGETS:-7..11}
largest=${budgets#*..}
make -s all
bin/tte-fetch aime24 --limit 1 >build/sweep-item.jsonl
n_end=$(echo '{"text":"</think>FINAL ANSWER: \\boxed{"}' | bin/tte-gen --model "$model" --encode | jq '.ids | length')

# run NAME OPTIONS...: one tte-gen run, timed, with the tokens it fed to the engine counted from its
# records: the prompt once, each sample's thinking once per unit of work (the longest trace of the
# unit), and every forced answer (the end-of-thinking string and the answer tokens).
run() {
    local name=$1; shift
    echo "sweep.sh: $name, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    local start end
    start=$(date +%s.%N)
    bin/tte-gen --model "$model" -n 4 --no-cache "$@" build/sweep-item.jsonl >build/sweep-$name.jsonl
    end=$(date +%s.%N)
    jq -s -c --arg name "$name" --argjson wall "$(echo "$end - $start" | bc)" --argjson n_end "$n_end" \
        --argjson independent "$([[ " $* " == *" --independent "* ]] && echo true || echo false)" '
        (if $independent then map(.thinking_tokens) | add
         else group_by(.sample) | map(map(.thinking_tokens) | max) | add end) as $thinking |
        ($thinking + .[0].prompt_tokens + (map($n_end + .final_tokens) | add)) as $fed |
        {run: $name, budgets: (map(.budget) | unique), samples: (map(.sample) | unique | length),
         wall_s: ($wall * 100 | round / 100), thinking_tokens: $thinking, tokens_fed: $fed,
         tokens_per_s: ($fed / $wall * 100 | round / 100)}' build/sweep-$name.jsonl
}

# Page the weights in first, so that no run pays for the disk.
echo '{"prompt":"warm up"}' | bin/tte-gen --model "$model" --max-tokens 1 >/dev/null
run sweep --budgets "$budgets"
run single --budgets "$largest..$largest"
run independent --budgets "$budgets" --independent
[ "${TTE_SWEEP_BATCH1:-0}" = 1 ] && run sweep-batch1 --budgets "$budgets" --batch 1
exit 0
