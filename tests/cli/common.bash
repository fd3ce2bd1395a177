# Helpers for the CLI tests: each test script sources this and runs the tools as a user would.
set -euo pipefail
BIN=${BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/bin}
export PATH="$BIN:$PATH"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TTE_CACHE="$TMP/cache"

# TTE_WRAP (e.g. valgrind with options, from `make valgrind`) runs every tool under a wrapper.
if [ -n "${TTE_WRAP:-}" ]; then
    mkdir -p "$TMP/wrap"
    for tool in "$BIN"/tte-*; do
        printf '#!/bin/sh\nexec %s %s "$@"\n' "$TTE_WRAP" "$tool" > "$TMP/wrap/${tool##*/}"
        chmod +x "$TMP/wrap/${tool##*/}"
    done
    export PATH="$TMP/wrap:$PATH"
fi

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail STATUS PATTERN CMD...: CMD must exit with STATUS and print one stderr line matching PATTERN.
expect_fail() {
    local want=$1 pattern=$2; shift 2
    local status=0
    "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
    [ "$status" = "$want" ] || fail "$* exited $status, not $want: $(cat "$TMP/err")"
    grep -qE -- "$pattern" "$TMP/err" || fail "$*: stderr does not match '$pattern': $(cat "$TMP/err")"
    [ "$(grep -c . "$TMP/err")" -le 1 ] || fail "$*: more than one error line: $(cat "$TMP/err")"
}
