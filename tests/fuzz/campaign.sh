#!/usr/bin/env bash
# A fuzz campaign: each libFuzzer target in turn (one at a time, at the lowest priority), for
# SECONDS each, starting from its seeds in tests/fuzz/seeds/<target>/; the grown corpus is then
# minimized with -merge=1 back into tests/fuzz/seeds/<target>/. Figures go to LOG/<target>.log and
# one summary line per target to LOG/summary (BENCH.md has the last campaign's). A crash or timeout
# stops that target's run; its input is in LOG/crashes-<target>/.
#
#   bash tests/fuzz/campaign.sh [TARGET...]     (default: every build-fuzz/fuzz_*)
#   SECONDS_EACH=600 FUZZ_BIN=build-fuzz LOG=build-fuzz/campaign
#
# Run from the repository root: fuzz_tokenizer_encode reads the tokenizers in .cache/.
set -uo pipefail
SECONDS_EACH=${SECONDS_EACH:-600}
FUZZ_BIN=${FUZZ_BIN:-build-fuzz}
LOG=${LOG:-build-fuzz/campaign}
mkdir -p "$LOG"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || for f in "$FUZZ_BIN"/fuzz_*; do targets+=("$(basename "$f")"); done

for t in "${targets[@]}"; do
    bin=$FUZZ_BIN/$t seeds=tests/fuzz/seeds/$t corpus=$LOG/corpus-$t
    mkdir -p "$seeds" "$corpus" "$LOG/crashes-$t"
    start=$(date +%s)
    nice -n 19 "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=2048 \
        -timeout=10 -artifact_prefix="$LOG/crashes-$t/" "$corpus" "$seeds" >"$LOG/$t.log" 2>&1
    rc=$?
    # Minimize: the seeds and everything grown, into a fresh folder that replaces the seeds.
    rm -rf "$LOG/merged-$t" && mkdir -p "$LOG/merged-$t"
    nice -n 19 "$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 "$LOG/merged-$t" "$seeds" "$corpus" \
        >"$LOG/$t.merge.log" 2>&1 &&
        rm -rf "$seeds" && cp -r "$LOG/merged-$t" "$seeds"
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$LOG/$t.log" | awk '{print $2}')
    last=$(grep -E '^#[0-9]+' "$LOG/$t.log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    crashes=$(find "$LOG/crashes-$t" -type f | wc -l)
    # The fuzz build lets UBSan go on after a report: count the sites it reported, each once.
    ub=$(grep -h 'runtime error:' "$LOG/$t.log" | sort -u | wc -l)
    printf '%s rc=%s seconds=%s execs=%s cov=%s ft=%s crashes=%s ub_sites=%s seeds=%s files/%s\n' "$t" "$rc" \
        "$(($(date +%s) - start))" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$ub" \
        "$(find "$seeds" -type f | wc -l)" "$(du -sh --apparent-size "$seeds" | cut -f1)" | tee -a "$LOG/summary"
done
