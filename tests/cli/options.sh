# The common options (src/lib/options.h) in every tool converted to them: -h, --help, -V, --version
# exit 0; an unknown option or a missing value is one line on stderr, exit 2.
source "$(dirname "$0")/common.bash"

for tool in tte-fetch tte-fit tte-plot; do
    for opt in -h --help; do
        "$tool" "$opt" >"$TMP/help" || fail "$tool $opt exited $?"
        grep -q "^Usage: $tool" "$TMP/help" || fail "$tool $opt: no usage line"
        grep -q -- "-o, --output FILE" "$TMP/help" || fail "$tool $opt: no -o line"
        grep -q -- "-V, --version" "$TMP/help" || fail "$tool $opt: no -V line"
    done
    for opt in -V --version; do
        [ "$("$tool" "$opt")" = "$tool 0.1.0" ] || fail "$tool $opt"
    done
    expect_fail 2 "^$tool: unknown option '--bogus' \(see $tool --help\)$" "$tool" --bogus
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "$tool --bogus: not one line: $(cat "$TMP/err")"
    expect_fail 2 "^$tool: unknown option '-Z'" "$tool" -Z
    expect_fail 2 "^$tool: option '-o' needs a value" "$tool" -o
    expect_fail 2 "^$tool: option '--output' needs a value" "$tool" --output
done
echo "options: ok"
