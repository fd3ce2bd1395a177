# The common options (src/lib/options.h) in every tool: -h, --help, -V, --version exit 0; an unknown
# option, a missing value or a bad one is one line on stderr, exit 2.
source "$(dirname "$0")/common.bash"

for tool in tte-fetch tte-gen tte-score tte-fit tte-plot; do
    for opt in -h --help; do
        "$tool" "$opt" >"$TMP/help" || fail "$tool $opt exited $?"
        grep -q "^Usage: $tool" "$TMP/help" || fail "$tool $opt: no usage line"
        grep -q -- "-o, --output FILE" "$TMP/help" || fail "$tool $opt: no -o line"
        grep -q -- "-V, --version" "$TMP/help" || fail "$tool $opt: no -V line"
    done
    for opt in -V --version; do
        "$tool" "$opt" >"$TMP/version" || fail "$tool $opt exited $?"
        [ "$(head -1 "$TMP/version")" = "$tool 0.1.0" ] || fail "$tool $opt: $(cat "$TMP/version")"
    done
    expect_fail 2 "^$tool: unknown option '--bogus' \(see $tool --help\)$" "$tool" --bogus
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "$tool --bogus: not one line: $(cat "$TMP/err")"
    expect_fail 2 "^$tool: unknown option '-Z'" "$tool" -Z
    expect_fail 2 "^$tool: option '-o' needs a value" "$tool" -o
    expect_fail 2 "^$tool: option '--output' needs a value" "$tool" --output
done
# The tools that run a model name the CPU kernels, and a forced path the CPU lacks is one line.
for tool in tte-gen tte-score; do
    "$tool" -V | grep -Eq '^cpu kernels: (avx512|avx2|scalar)$' || fail "$tool -V: no kernel line"
    [ "$(TTE_CPU=scalar "$tool" -V | tail -1)" = "cpu kernels: scalar" ] || fail "$tool: TTE_CPU=scalar ignored"
    expect_fail 1 "^$tool: TTE_CPU=mmx: not one of" env TTE_CPU=mmx "$tool" -V
    expect_fail 2 "^$tool: --batch: '0' is not an integer" "$tool" --batch 0
    expect_fail 2 "^$tool: --device: 'tpu' is not cpu, cuda or auto" "$tool" --device tpu
    expect_fail 2 "^$tool: --kv-mem: 'lots' is not a size" "$tool" --kv-mem lots
done
echo "options: ok"
