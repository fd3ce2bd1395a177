# tte-plot's layout as a reader sees it, on the real pipeline's output (tte-fetch | tte-gen |
# tte-score | tte-fit on the embedded model): every figure it yields, at each size man/tte-plot.1
# documents (its default from the panels, one column of 3.4 in, the text width of 7.2 in), rendered
# to PDF, whose word boxes (pdftotext -bbox, poppler-utils) must lie on the page, not overlap, and
# not cover the points, bars and curves drawn (tests/cli/plot_layout.py). PNG, SVG and PDF share
# the layout: the PNG's text is as large against the figure as the PDF's.
source "$(dirname "$0")/common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/share/models/tte-tiny-arith
CHECK=$ROOT/tests/cli/plot_layout.py
command -v pdftotext >/dev/null || fail "pdftotext not found (poppler-utils: make deps)"

# Five budgets, so that the fits beyond log-linear (a key of three lines) are drawn.
tte-fetch arith --count 12 --seed 0 | tte-gen --model "$MODEL" --budgets 3..7 -n 2 |
    tte-score --model "$MODEL" >"$TMP/scored"
tte-fit "$TMP/scored" >"$TMP/fits"
tte-fit --x flops "$TMP/scored" >"$TMP/fits-flops"

checked=0
# figure, fits, sizes (- is the default).
while read -r figure fits sizes; do
    for size in $sizes; do
        opt=()
        [ "$size" = - ] || opt=(--size "$size")
        name="$figure${size/,/x}"
        tte-plot --figure "$figure" "${opt[@]}" -t pdf --image "$TMP/$name.pdf" "$TMP/$fits" >"$TMP/$name.gp" ||
            fail "$figure ${opt[*]}: tte-plot exited $?"
        /usr/bin/python3 "$CHECK" instrument "$TMP/$name.gp" >"$TMP/checked.gp"
        gnuplot "$TMP/checked.gp" >"$TMP/$name.areas" 2>"$TMP/gnuplot.err" ||
            fail "$figure ${opt[*]}: gnuplot failed: $(head -c 300 "$TMP/gnuplot.err")"
        pdftotext -bbox "$TMP/$name.pdf" "$TMP/$name.html"
        /usr/bin/python3 "$CHECK" check "$TMP/$name.gp" "$TMP/$name.areas" "$TMP/$name.html" >"$TMP/problems" ||
            fail "$figure ${opt[*]}: $(head -5 "$TMP/problems" | tr '\n' ';')"
        checked=$((checked + 1))
    done
done <<'LIST'
curves fits - 3.4,2.5 7.2,2.5
discrete-vs-continuous fits - 7.2,2.5
items fits - 7.2,4.5
heatmap fits - 3.4,3 7.2,3
scores fits - 3.4,2.5 7.2,2.5
passk fits - 3.4,2.5 7.2,2.5
frontier fits-flops - 3.4,2.5 7.2,3.6
LIST

# The check sees what it should: text pushed off the page, two texts on each other, and a key
# over the data fail it.
for bad in "passk s/^set xlabel .*/set xlabel 'k (samples per problem at 128 thinking tokens)' offset 12,0/" \
    "passk s/^set ylabel .*/set ylabel 'problems solved' offset 3.5,0/" \
    "curves s/^set key .*/set key at graph 0.5, graph 0.5 center/"; do
    tte-plot --figure "${bad%% *}" -t pdf --image "$TMP/bad.pdf" "$TMP/fits" | sed -E "${bad#* }" >"$TMP/bad.gp"
    /usr/bin/python3 "$CHECK" instrument "$TMP/bad.gp" >"$TMP/checked.gp"
    gnuplot "$TMP/checked.gp" >"$TMP/bad.areas" 2>/dev/null
    pdftotext -bbox "$TMP/bad.pdf" "$TMP/bad.html"
    ! /usr/bin/python3 "$CHECK" check "$TMP/bad.gp" "$TMP/bad.areas" "$TMP/bad.html" >/dev/null ||
        fail "the layout check passes a broken figure ($bad)"
done

# One layout in every terminal: the PNG at 150 dpi and the PDF rasterised at 150 dpi have their
# title (the top rows with ink) as wide, to a few pixels.
tte-plot --figure scores --image "$TMP/s.png" "$TMP/fits" | gnuplot
tte-plot --figure scores -t pdf --image "$TMP/s.pdf" "$TMP/fits" | gnuplot
pdftoppm -r 150 -png -singlefile "$TMP/s.pdf" "$TMP/s-pdf"
/usr/bin/python3 - "$TMP/s.png" "$TMP/s-pdf.png" <<'PY' || fail "the PNG's and the PDF's text differ in size"
import struct, sys, zlib
def rows(path):  # 8-bit RGB(A) PNG, not interlaced: each row's pixels as bytes
    data = open(path, "rb").read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else b if pb <= pc else c
            else:
                p = [0, a, b, (a + b) // 2][f]
            line[i] = (line[i] + p) & 255
        out.append([min(line[x * bpp:x * bpp + 3]) < 128 for x in range(w)])
        prev = line
    return out
def title_width(path):
    r = rows(path)
    top = next(y for y, row in enumerate(r) if any(row))
    band = [x for row in r[top:top + 12] for x, ink in enumerate(row) if ink]
    return max(band) - min(band)
png, pdf = title_width(sys.argv[1]), title_width(sys.argv[2])
sys.exit(0 if abs(png - pdf) <= 4 else f"title {png} px wide in the PNG, {pdf} px in the PDF")
PY
# The report: one PDF, a page of tables, then a page per figure.
tte-plot --figure report -t pdf --image "$TMP/report.pdf" "$TMP/fits" | gnuplot 2>"$TMP/gnuplot.err" || fail "report: gnuplot failed"
[ ! -s "$TMP/gnuplot.err" ] || fail "report: gnuplot warned: $(head -c 300 "$TMP/gnuplot.err")"
pages=$(pdfinfo "$TMP/report.pdf" | awk '/^Pages:/ { print $2 }')
[ "$pages" -ge 7 ] || fail "report: $pages pages, want the tables and 6 figures"
pdftotext -f 1 -l 1 "$TMP/report.pdf" - | grep -q 'AICc weights' || fail "report: no table of fits on page 1"
expect_fail 1 'report: .*--terminal pdf' tte-plot --figure report "$TMP/fits"
echo "tte-plot-layout: ok ($checked figures and sizes)"
