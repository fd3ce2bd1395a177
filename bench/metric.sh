#!/usr/bin/env bash
# The continuous metric's cost (tte-score): the 1000 AIME candidates after a trace, as a tree over
# the trace's KV cache and by brute force, against one forward pass over the trace; on the model of
# bench/chat_model.bash. One JSON line (bench/metric_bench.c); see BENCH.md.
#
#   bash bench/metric.sh          TTE_METRIC_TRACE: trace tokens (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/chat_model.bash
make -s build/libtte.a
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Isrc/lib \
    -o build/metric_bench bench/metric_bench.c build/libtte.a \
    $(pkg-config --libs jansson libzstd libpcre2-8 libutf8proc) -lcsv -lm -lpthread
echo "metric.sh: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
build/metric_bench "$model" "${TTE_METRIC_TRACE:-2048}"
