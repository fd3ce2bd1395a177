# tte-plot: every figure through the real gnuplot (PNG of the expected size, exit 0, no warnings),
# ASCII renderings against golden files, the fit functions against the records' formulas, missing
# data and bad input. UPDATE_GOLDEN=1 rewrites the golden renderings (gnuplot 5.4, Debian 12).
source "$(dirname "$0")/common.bash"
GOLDEN=$(cd "$(dirname "$0")/../golden/plot" && pwd)
FITS=$GOLDEN/fits.jsonl

# The width x height of a PNG, from its IHDR chunk (bytes 16-23, big-endian).
png_size() {
    od -An -tu1 -j16 -N8 "$1" |
        awk '{ printf "%dx%d", (($1*256+$2)*256+$3)*256+$4, (($5*256+$6)*256+$7)*256+$8 }'
}

# name, figure, PNG size (150 dpi: 3.4 x 2.5 in a panel, 7.2 in at most across), extra options.
while read -r name figure size extra; do
    # shellcheck disable=SC2086 # extra holds several options
    tte-plot --figure "$figure" $extra --terminal png --image "$TMP/$name.png" <"$FITS" >"$TMP/$name.gp" ||
        fail "$name: tte-plot exited $?"
    gnuplot "$TMP/$name.gp" 2>"$TMP/gnuplot.err" || fail "$name: gnuplot failed: $(cat "$TMP/gnuplot.err")"
    [ ! -s "$TMP/gnuplot.err" ] || fail "$name: gnuplot warned: $(cat "$TMP/gnuplot.err")"
    [ "$(head -c 4 "$TMP/$name.png" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "$name: not a PNG"
    [ "$(png_size "$TMP/$name.png")" = "$size" ] || fail "$name: PNG is $(png_size "$TMP/$name.png"), want $size"
    # shellcheck disable=SC2086
    tte-plot --figure "$figure" $extra --terminal dumb <"$FITS" | gnuplot >"$TMP/$name.txt" 2>"$TMP/gnuplot.err"
    [ ! -s "$TMP/gnuplot.err" ] || fail "$name (dumb): gnuplot warned: $(cat "$TMP/gnuplot.err")"
    if [ -n "${UPDATE_GOLDEN:-}" ]; then
        cp "$TMP/$name.txt" "$GOLDEN/$name.txt"
    else
        diff -u "$GOLDEN/$name.txt" "$TMP/$name.txt" >"$TMP/diff" || fail "$name: dumb rendering differs: $(head -40 "$TMP/diff")"
    fi
done <<'LIST'
curves curves 1020x375
curves-overlay curves 510x375 --overlay model
curves-p_gold_norm curves 510x375 --metric p_gold_norm --model DeepSeek-R1-Distill-Qwen-7B
discrete-vs-continuous discrete-vs-continuous 1080x675
items items 1080x675 --model DeepSeek-R1-Distill-Qwen-1.5B
heatmap heatmap 1020x675
scores scores 1020x375
scores-skew scores 1020x375 --score skew
passk passk 1020x375
passk-256 passk 1020x375 --budget 256
passk-overlay passk 510x375 --overlay model
sizes sizes 510x375
sizes-1k sizes 510x375 --budget 1024
LIST

# -entropy under another name is the same third column.
jq -c 'if .metric == "neg_entropy" then .metric = "-entropy_nats" else . end' "$FITS" |
    tte-plot --figure discrete-vs-continuous --terminal dumb | gnuplot | diff -q - "$GOLDEN/discrete-vs-continuous.txt" >/dev/null ||
    fail "discrete-vs-continuous: -entropy_nats is not read as neg_entropy"

# The other terminals, the title and the size option.
tte-plot --terminal svg --title 'AIME 2024' <"$FITS" | gnuplot >"$TMP/c.svg" 2>"$TMP/gnuplot.err"
grep -q '<svg' "$TMP/c.svg" && grep -q 'AIME 2024' "$TMP/c.svg" && [ ! -s "$TMP/gnuplot.err" ] || fail "svg"
tte-plot --terminal pdf --image "$TMP/c.pdf" <"$FITS" | gnuplot 2>"$TMP/gnuplot.err"
[ "$(head -c 4 "$TMP/c.pdf")" = "%PDF" ] && [ ! -s "$TMP/gnuplot.err" ] || fail "pdf"
tte-plot --size 5,3 <"$FITS" | gnuplot >"$TMP/s.png"
[ "$(png_size "$TMP/s.png")" = 750x450 ] || fail "--size 5,3 gave $(png_size "$TMP/s.png")"
tte-plot <"$FITS" | gnuplot >"$TMP/default.png"
cmp -s "$TMP/default.png" "$TMP/curves.png" || fail "the default figure is not curves as PNG on stdout"

# The fit functions of the script against the formulas of man/tte-fit.1 (FITS), computed by jq from the
# records (curveN is the N-th curve drawn: here the records of metric "correct" in input order).
hinge2='{"kind":"curve","model":"m","dataset":"d","metric":"correct","points":[{"budget":64,"mean":0.1},{"budget":8192,"mean":0.9}],
 "fits":{"loglinear":null,"hinge":{"why":"too few points"},"hinge2":{"a":0.5,"b":-0.02,"c1":0.1,"c2":-0.05,"tau1":8,"tau2":11},
 "sigmoid":{"lo":0.05,"hi":0.8,"k":2.5,"x0":10.5}},"best":"hinge2"}'
{ cat "$FITS"; echo "$hinge2" | jq -c .; } >"$TMP/fits.jsonl"
tte-plot <"$TMP/fits.jsonl" >"$TMP/f.gp"
for t in 100 700 3000; do
    jq -r --argjson t "$t" 'select(.kind == "curve" and .metric == "correct") | .fits as $f | ($t | log2) as $x |
        def relu: if . > 0 then . else 0 end;
        [ ($f.loglinear | if . then .a + .b*$x else empty end),
          ($f.hinge | if .a then .a + .b*$x + .c*(($x - .tau) | relu) else empty end),
          ($f.hinge2 | if . then .a + .b*$x + .c1*(($x - .tau1) | relu) + .c2*(($x - .tau2) | relu) else empty end),
          ($f.logistic | if . then .lo + (.hi - .lo)/(1 + ((-.s*($x - .x0)) | exp)) else empty end),
          ($f.sigmoid | if . then .lo + (.hi - .lo)/(1 + ((-.k*($x - .x0)) | exp)) else empty end) ][]' \
        "$TMP/fits.jsonl" >"$TMP/want"
    # print writes to stderr; the functions come in the order the records list them.
    { cat "$TMP/f.gp"; grep -o '^curve[0-9]*_[a-z0-9]*' "$TMP/f.gp" | sed "s/.*/print sprintf('%.9f', &($t))/"; } |
        gnuplot 2>"$TMP/got" >/dev/null
    paste "$TMP/want" "$TMP/got" | awk -v t="$t" '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 || NF != 2) bad = 1 }
        END { if (bad || NR != 8) { print "fit functions differ at " t; exit 1 } }' || fail "$(paste "$TMP/want" "$TMP/got")"
done

# A figure asked for data that is missing: one line, exit 1, nothing on stdout.
jq -c 'select(.kind == "curve")' "$FITS" >"$TMP/curves.jsonl"
jq -c 'select(.kind != "curve")' "$FITS" >"$TMP/nocurves.jsonl"
for figure in items heatmap scores passk; do
    expect_fail 1 "^tte-plot: $figure: no " tte-plot --figure "$figure" "$TMP/curves.jsonl"
    [ ! -s "$TMP/out" ] || fail "$figure: wrote a script after failing"
done
for figure in curves discrete-vs-continuous sizes; do
    expect_fail 1 "^tte-plot: $figure: no " tte-plot --figure "$figure" "$TMP/nocurves.jsonl"
done
jq -c 'del(.model_params)' "$FITS" | expect_fail 1 "sizes: no dataset has curve records of metric 'correct' for two or more" tte-plot --figure sizes
expect_fail 1 "curves: no curve records with points for metric 'correct'" tte-plot --model nobody "$FITS"
expect_fail 1 "scores: no item records of metric 'p_gold_norm' carry a skew" \
    tte-plot --figure scores --score skew <(jq -c 'del(.skew)' "$FITS")

expect_fail 1 "passk: no passk records at budget 512" tte-plot --figure passk --budget 512 "$FITS"
expect_fail 1 "sizes: no dataset .* at --budget" tte-plot --figure sizes --budget 1000 "$FITS"

# What tte-fit may leave out: "budgets" of items (items and heatmap say so, scores and curves go on),
# the group fields, a fit's parameter (null with a why: that fit is not drawn).
jq -c 'del(.budgets)' "$FITS" >"$TMP/nobudgets.jsonl"
for figure in items heatmap; do
    expect_fail 1 "$figure: 60 item records have no \"budgets\" field .* \(the first at .*nobudgets.jsonl:4\)" \
        tte-plot --figure "$figure" "$TMP/nobudgets.jsonl"
done
for figure in scores curves; do
    tte-plot --figure "$figure" --terminal dumb "$TMP/nobudgets.jsonl" | gnuplot >"$TMP/nb.txt" || fail "$figure without budgets"
    cmp -s "$TMP/nb.txt" "$GOLDEN/$figure.txt" || fail "$figure: items without budgets changed the figure"
done
jq -c 'del(.dataset)' "$FITS" | tte-plot --terminal dumb | gnuplot | grep -q 'DeepSeek-R1-Distill-Qwen-7B  y: accuracy' ||
    fail "a record without dataset: the title is the model alone"
jq -c 'if .kind == "curve" then .fits.logistic.x0 = null else . end' "$FITS" | tte-plot >"$TMP/nx0.gp"
! grep -q '_logistic(t)' "$TMP/nx0.gp" || fail "a logistic fit with a null parameter is drawn"
grep -q "title 'log-linear'" "$TMP/nx0.gp" || fail "without its best fit a curve lost its log-linear fit"

# Bad input names the file, line and field; usage errors exit 2.
printf '%s\n' "$hinge2" | jq -c . >"$TMP/bad.jsonl"
echo '{"kind":"curve","model":"m","dataset":"d","metric":"correct","points":"none"}' >>"$TMP/bad.jsonl"
expect_fail 1 "bad.jsonl:2: field \"points\": must be an array" tte-plot "$TMP/bad.jsonl"
echo '{"kind":"curve","model":"m","dataset":"d","metric":"correct","points":[],"fits":{"hinge":{"a":1}}}' >"$TMP/bad.jsonl"
expect_fail 1 "bad.jsonl:1: field \"fits.hinge.b\": missing" tte-plot "$TMP/bad.jsonl"
echo '{"kind":"item","model":"m","dataset":"d","metric":"x","id":"a","budgets":[1,2],"values":[0.1]}' >"$TMP/bad.jsonl"
expect_fail 1 'bad.jsonl:1: field "values": must have as many entries as "budgets"' tte-plot "$TMP/bad.jsonl"
echo '{"kind":' >"$TMP/bad.jsonl"
expect_fail 1 "bad.jsonl:1: invalid JSON" tte-plot "$TMP/bad.jsonl"
expect_fail 1 "missing.jsonl" tte-plot "$TMP/missing.jsonl"
expect_fail 2 "--figure: 'pie' is not a figure" tte-plot --figure pie
expect_fail 2 "--terminal: 'gif' is not one of" tte-plot --terminal gif
expect_fail 2 "--overlay: only 'model'" tte-plot --overlay dataset
expect_fail 2 "--size: 'big' is not W,H" tte-plot --size big
expect_fail 2 "unknown" tte-plot --colour
tte-plot --help | grep -q 'discrete-vs-continuous' || fail "--help"

# -o writes the script (the same bytes as stdout), only when complete; --image names the image.
tte-plot --image "$TMP/o.png" -o "$TMP/o.gp" "$FITS"
tte-plot --image "$TMP/o.png" "$FITS" | cmp -s - "$TMP/o.gp" || fail "-o differs from stdout"
grep -q "^set output '$TMP/o.png'" "$TMP/o.gp" || fail "--image is not gnuplot's output"
expect_fail 1 "items: no " tte-plot --figure items -o "$TMP/o.gp" "$TMP/curves.jsonl"
tte-plot --image "$TMP/o.png" "$FITS" | cmp -s - "$TMP/o.gp" || fail "-o replaced its file after an error"
[ "$(tte-plot --version)" = "tte-plot 0.1.0" ] || fail "--version"

# Names from the data cannot run commands or break the script: quotes, backquotes, macros, newlines.
jq -c --arg m "it's \`touch $TMP/pwned\` @x \$(touch $TMP/pwned2)" 'select(.kind == "curve") | .model = $m' "$FITS" |
    tte-plot --terminal dumb | gnuplot >"$TMP/q.txt" 2>"$TMP/gnuplot.err" || fail "quoted names: gnuplot failed"
[ ! -e "$TMP/pwned" ] && [ ! -e "$TMP/pwned2" ] || fail "a model name ran a command"
grep -qF "it's \`touch" "$TMP/q.txt" || fail "the model name is not shown as written"
for figure in curves scores; do
    jq -c --arg m "x'
system('touch $TMP/pwned3')
# \`touch $TMP/pwned4\`" '.metric = $m' "$FITS" | tte-plot --figure "$figure" --terminal dumb | gnuplot >/dev/null 2>&1 ||
        fail "$figure: a metric name with a newline broke the script"
    [ ! -e "$TMP/pwned3" ] && [ ! -e "$TMP/pwned4" ] || fail "$figure: a metric name ran a command"
done

# The man page shows each figure as the tool draws it now.
/usr/bin/python3 "$(dirname "$0")/../../tools/plot_man_examples.py" --check || fail "man/tte-plot.1 is out of date"

# tte-fit on records without "model" or "dataset" writes them as null: every figure of its real
# output draws (titled by what the records have), as the records without those fields do.
DATA=$(dirname "$0")/data
jq -c 'select(.model == "Tiny-1.5B") | del(.model, .dataset)' "$DATA/fit-scored.jsonl" | tte-fit >"$TMP/nomodel.jsonl"
grep -q '"model":null' "$TMP/nomodel.jsonl" && grep -q '"dataset":null' "$TMP/nomodel.jsonl" ||
    fail "tte-fit no longer writes null for a missing model and dataset: update this test"
for figure in curves discrete-vs-continuous items heatmap scores passk; do
    tte-plot --figure "$figure" --terminal dumb "$TMP/nomodel.jsonl" | gnuplot >/dev/null 2>"$TMP/gnuplot.err" ||
        fail "$figure: tte-plot or gnuplot failed on tte-fit's \"model\": null"
    [ ! -s "$TMP/gnuplot.err" ] || fail "$figure (model null): gnuplot warned: $(cat "$TMP/gnuplot.err")"
done
expect_fail 1 'field "model": must be a string' tte-plot <<<'{"kind":"curve","model":7,"metric":"correct","points":[]}'

# Records of other kinds pass silently; the same input gives the same script.
[ "$(tte-plot "$FITS" | md5sum)" = "$(tte-plot <"$FITS" | md5sum)" ] || fail "file and stdin differ"
echo "tte-plot: ok"
