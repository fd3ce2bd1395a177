#!/usr/bin/env bash
# The matrix-product kernels of two builds side by side: bench/kernel_bench.c linked against each
# build's libtte.a, run alternately for several rounds, at prefill (512 rows), batch (32) and decode
# (1 row) shapes. One JSON line per shape and run, with "build" added; equal output_hash values mean
# the two builds compute the same bits.
#
#   bash bench/kernel.sh
#     TTE_BENCH_BUILDS  build folders to compare (default "build"); e.g. "build-old build", where
#                       build-old came from `git worktree add ../old REV && make -C ../old build/libtte.a`
#                       and is given as ../old/build
#     TTE_BENCH_ROUNDS  rounds (default 3)
#     TTE_BENCH_ROWS    activation-row counts (default "512 32 1")
set -euo pipefail
cd "$(dirname "$0")/.."
builds=${TTE_BENCH_BUILDS:-build}
rounds=${TTE_BENCH_ROUNDS:-3}
rows=${TTE_BENCH_ROWS:-512 32 1}
make -s build/libtte.a
for b in $builds; do
    [ -f "$b/libtte.a" ] || { echo "kernel.sh: $b/libtte.a: no such file" >&2; exit 1; }
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Isrc/lib -o "$b/kernel_bench" bench/kernel_bench.c \
        "$b/libtte.a" $(pkg-config --libs jansson libzstd libpcre2-8 libutf8proc) -lcsv -lm -lpthread
done
for round in $(seq "$rounds"); do
    for t in $rows; do
        for b in $builds; do
            echo "kernel.sh: round $round, $t rows, $b, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
            "$b/kernel_bench" "$t" | sed "s|^{|{\"build\":\"$b\",\"round\":$round,|"
        done
    done
done
