#!/usr/bin/env bash
# CPU engine speed on a random-weight model with the exact shape of DeepSeek-R1-Distill-Qwen-1.5B
# (bf16): load time, prefill and decode tokens/s at batch 1, 8 and 32, this machine's read
# bandwidth and the batch-1 bandwidth bound, resident memory; and llama.cpp (node-llama-cpp's
# prebuilt CPU libraries) on the same weights written as GGUF, in the same rounds. One JSON line per
# run; see BENCH.md.
#
#   bash bench/engine.sh
#     TTE_BENCH_DIR       where the 3.5 GB model, its GGUF copy and node-llama-cpp go (build/bench)
#     TTE_BENCH_THREADS   thread counts to run (default: "1 <all cores>")
#     TTE_BENCH_PREFILL   prompt tokens of the prefill measure (default 128)
#     TTE_BENCH_PATHS     CPU kernel paths to run, each forced by TTE_CPU (default: the one this
#                         machine gets), e.g. "avx512 avx512bf16" to compare them side by side
#                         (with avx512bf16, bench/engine_dpbf16.c first: vdpbf16ps against FMA rates)
#     TTE_BENCH_BUILDS    build folders whose libtte.a is linked, each run in turn (default build),
#                         e.g. "../old/build build" to compare a change with a worktree of the code
#                         before it
#     TTE_BENCH_ROUNDS    rounds (default 1); each round runs every build and path, then llama.cpp,
#                         at each thread count, so on a shared machine they alternate and only
#                         ratios within a round count
#     TTE_BENCH_LLAMACPP  0 skips llama.cpp (default 1: needs node and npm)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TTE_BENCH_DIR:-build/bench}
model=$dir/r1-distill-qwen-1.5b-shape-bf16
threads=${TTE_BENCH_THREADS:-1 $(nproc)}
prefill=${TTE_BENCH_PREFILL:-128}
paths=${TTE_BENCH_PATHS:-default}
rounds=${TTE_BENCH_ROUNDS:-1}
builds=${TTE_BENCH_BUILDS:-build}
llamacpp=${TTE_BENCH_LLAMACPP:-1}
if [ ! -f "$model/model.safetensors" ]; then
    echo "engine.sh: writing the benchmark model to $model (once)" >&2
    /usr/bin/python3 tools/make_bench_model.py "$model" >&2
fi
make -s build/libtte.a
for b in $builds; do
    [ -f "$b/libtte.a" ] || { echo "engine.sh: $b/libtte.a: no such file" >&2; exit 1; }
    cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Isrc/lib \
        -o "$b/engine_bench" bench/engine_bench.c "$b/libtte.a" \
        $(pkg-config --libs jansson libzstd libpcre2-8 libutf8proc) -lcsv -lm -lpthread
done
case " $paths " in
*" avx512bf16 "*) # the instruction rates that decide whether that path can pay on this CPU
    cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -o build/engine_dpbf16 bench/engine_dpbf16.c
    build/engine_dpbf16
    ;;
esac
if [ "$llamacpp" = 1 ] && ! { command -v node && command -v npm; } >/dev/null; then
    echo "engine.sh: no node/npm, skipping llama.cpp" >&2
    llamacpp=0
fi
llama=$dir/node-llama-cpp
gguf=$dir/r1-distill-qwen-1.5b-shape-bf16.gguf
if [ "$llamacpp" = 1 ]; then
    if [ ! -d "$llama/node_modules/node-llama-cpp" ]; then
        # --ignore-scripts: use the prebuilt binaries, never build llama.cpp from source
        npm install --prefix "$llama" --ignore-scripts --no-audit --no-fund node-llama-cpp@3.22.1 >&2
    fi
    [ -f "$gguf" ] || /usr/bin/python3 tools/safetensors_to_gguf.py "$model" "$gguf" >&2
fi
for round in $(seq "$rounds"); do
    for t in $threads; do
        for b in $builds; do
            for p in $paths; do
                echo "engine.sh: round $round, tte ($b), path $p, $t thread(s), $(nproc) cores," \
                    "load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
                if [ "$p" = default ]; then
                    "$b/engine_bench" "$model" "$t" "$prefill"
                else
                    TTE_CPU=$p "$b/engine_bench" "$model" "$t" "$prefill"
                fi | sed "s|^{|{\"round\":$round,\"build\":\"$b\",|"
            done
        done
        [ "$llamacpp" = 1 ] || continue
        echo "engine.sh: round $round, llama.cpp, $t thread(s), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        NODE_LLAMA_CPP_DIR=$llama node bench/llamacpp_decode.mjs "$gguf" "$t" "$prefill" |
            sed "s|^{|{\"round\":$round,|"
    done
done
