# The whole pipeline on the embedded model, with nothing hand-made between the tools: tte-fetch |
# tte-gen | tte-score | tte-fit | tte-plot, and every figure that one model's records make, in every
# terminal, rendered by gnuplot. (The sizes figure needs a family of models: tte-fit-predict.sh's.)
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith

tte-fetch arith --count 12 --seed 0 | tte-gen --model "$MODEL" --budgets 3..6 -n 2 |
    tte-score --model "$MODEL" | tte-fit >"$TMP/fits"
for figure in curves discrete-vs-continuous items heatmap scores passk; do
    for terminal in png svg pdf dumb; do
        tte-plot --figure "$figure" --terminal "$terminal" "$TMP/fits" >"$TMP/plot.gp" ||
            fail "tte-plot --figure $figure --terminal $terminal on tte-fit's output: $(cat "$TMP/plot.gp")"
        gnuplot "$TMP/plot.gp" >"$TMP/image" 2>"$TMP/gnuplot.err" ||
            fail "gnuplot on --figure $figure --terminal $terminal: $(head -c 300 "$TMP/gnuplot.err")"
        [ -s "$TMP/image" ] || fail "--figure $figure --terminal $terminal: an empty image"
        [ ! -s "$TMP/gnuplot.err" ] || fail "--figure $figure --terminal $terminal: gnuplot warned: $(head -c 300 "$TMP/gnuplot.err")"
    done
done
echo "pipeline: ok"
