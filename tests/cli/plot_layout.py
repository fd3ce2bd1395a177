#!/usr/bin/env python3
"""What a reader of a tte-plot figure sees, checked on its PDF: tests/cli/tte-plot-layout.sh.

    plot_layout.py instrument SCRIPT.gp > CHECKED.gp    # adds prints of each panel's plot area
    gnuplot CHECKED.gp > AREAS                          # writes the PDF, and the areas on stdout
    pdftotext -bbox FIGURE.pdf WORDS.html
    plot_layout.py check SCRIPT.gp AREAS WORDS.html     # one line per problem; exit 1 if any

The checks, on the word boxes pdftotext reads from the PDF (the glyphs' font boxes, in points from
the top left of the page):
  - every word lies on the page (a glyph wholly off the page is not even read, so every word of the
    script's titles, labels, axis labels and key entries must also be found);
  - no two words overlap (by more than TOL points each way: font boxes of neighbouring lines touch);
  - no word covers what is drawn: the points, interval bars and lines of each panel's data and
    fitted functions, placed on the page from the panel's plot area (gnuplot's GPVAL_ variables).
Histograms and heatmap cells fill their areas and are not checked against the text.
"""
import math
import re
import sys

TOL = 0.6  # points


def words_of(html):
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    width, height = float(page.group(1)), float(page.group(2))
    words = []
    for m in re.finditer(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>', html):
        x0, y0, x1, y1 = map(float, m.groups()[:4])
        text = m.group(5).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        text = text.replace("&apos;", "'")
        words.append((x0, y0, x1, y1, text))
    return width, height, words


def quoted(s):
    """The gnuplot single-quoted strings of S, in order."""
    return [m.group(1).replace("''", "'") for m in re.finditer(r"'((?:[^']|'')*)'", s)]


def commands(script):
    """The script's commands with continuation lines joined, and its datablocks."""
    lines, blocks, out = script.split("\n"), {}, []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\$(\w+) << EOD$", line)
        if m:
            rows = []
            i += 1
            while lines[i] != "EOD":
                rows.append([float(v) if v not in ("NaN", "nan") else math.nan for v in lines[i].split()])
                i += 1
            blocks[m.group(1)] = rows
            i += 1
            continue
        while line.endswith("\\"):
            i += 1
            line = line[:-1] + lines[i].lstrip()
        out.append(line)
        i += 1
    return out, blocks


def split_clauses(plot):
    """The comma-separated clauses of a plot command, quotes respected."""
    clauses, depth, quote, start = [], 0, False, 0
    for j, ch in enumerate(plot):
        if ch == "'":
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif not quote and depth == 0 and ch == ",":
            clauses.append(plot[start:j].strip())
            start = j + 1
    clauses.append(plot[start:].strip())
    return clauses


def instrument(path):
    """The script with, after each plot, a line "AREA ..." (the panel's plot area in terminal units
    and its axis ranges, from gnuplot's GPVAL_ variables) and lines "FN NAME X Y" sampling each
    function it drew across the x range, so that what is drawn can be placed on the page."""
    out, plot, xlog = ["set print '-'"], None, 0
    for line in open(path).read().split("\n"):
        out.append(line)
        if line.startswith("unset logscale"):
            xlog = 0
        elif line.startswith("set logscale x"):
            xlog = 1
        if plot is None and line.startswith("plot "):
            plot = ""
        if plot is None:
            continue
        plot += line[:-1] if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        out.append('print sprintf("AREA %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g %.9g", '
                   'GPVAL_TERM_XMIN, GPVAL_TERM_XMAX, GPVAL_TERM_YMIN, GPVAL_TERM_YMAX, GPVAL_TERM_XSIZE, '
                   'GPVAL_TERM_YSIZE, GPVAL_TERM_SCALE, GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX, '
                   + str(xlog) + ')')
        for name in re.findall(r"(?:^plot |,)\s*(\w+)\(x\) with lines", plot):
            out.append(f"do for [i = 0:80] {{ xx = {xlog} ? GPVAL_X_MIN * (GPVAL_X_MAX / GPVAL_X_MIN)**(i / 80.0)"
                       f" : GPVAL_X_MIN + (GPVAL_X_MAX - GPVAL_X_MIN) * i / 80.0; "
                       f"print sprintf('FN {name} %.9g %.9g', xx, {name}(xx)) }}")
        plot = None
    print("\n".join(out))


def sampled(clause, blocks, functions):
    """The (x, y) points, in axis units, that CLAUSE draws: its points, interval bars and lines,
    or None for what fills an area or is not understood (histograms, heatmap cells)."""
    m = re.match(r"\$(\w+)\s+using\s+([\d:]+)\s+with\s+(\w+)", clause)
    if m:
        rows, cols, style = blocks[m.group(1)], [int(c) for c in m.group(2).split(":")], m.group(3)
        pts = [(r[cols[0] - 1], r[cols[1] - 1]) for r in rows]
        bars = []
        if style in ("yerrorbars", "yerrorlines") and len(cols) == 4:
            for r in rows:
                lo, hi = r[cols[2] - 1], r[cols[3] - 1]
                bars += [(r[cols[0] - 1], lo + (hi - lo) * t / 8) for t in range(9)]
        lines = style in ("lines", "linespoints", "yerrorlines")
        return pts, bars, lines
    m = re.match(r"(\w+)\(x\)\s+with\s+lines", clause)
    if m and m.group(1) in functions:
        return m.group(1), [], True
    return None


def check(script_path, areas_path, words_path):
    width, height, words = words_of(open(words_path).read())
    problems = []
    for x0, y0, x1, y1, text in words:
        if x0 < -TOL or y0 < -TOL or x1 > width + TOL or y1 > height + TOL:
            problems.append(f"'{text}' lies outside the {width:g} x {height:g} pt page: "
                            f"[{x0:.1f}, {x1:.1f}] x [{y0:.1f}, {y1:.1f}]")
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > TOL and dy > TOL:
                problems.append(f"'{a[4]}' and '{b[4]}' overlap by {dx:.1f} x {dy:.1f} pt "
                                f"at ({max(a[0], b[0]):.0f}, {max(a[1], b[1]):.0f})")
    script = open(script_path).read()
    cmds, blocks = commands(script)
    # Every word of the texts in effect at each plot must be on the page.
    present, state, labels, wanted = {w[4] for w in words}, {}, [], []
    for c in cmds:
        m = re.match(r"set ((?:x|y|cb)?label|title|key title) '", c)
        if m and m.group(1) == "label":
            labels.append(quoted(c)[0])
        elif m:
            state[m.group(1)] = quoted(c)[0]
        elif re.match(r"set multiplot .* title '", c):
            wanted.append(quoted(c)[-1])
        elif c.startswith("unset label"):
            labels = []
        elif re.match(r"unset (x|y|cb)?label", c):
            state.pop(c.split()[1], None)
        elif c.startswith("set key") and "notitle" in c:
            state.pop("key title", None)
        elif c.startswith("plot "):
            wanted += list(state.values()) + labels
            wanted += [t for cl in split_clauses(c[5:]) for t in re.findall(r"\btitle '((?:[^']|'')*)'", cl)]
    for t in wanted:
        for w in t.replace("''", "'").split():
            if w not in present:
                problems.append(f"'{w}' (of '{t}') is not on the page")
    # Data under text.
    functions = set(re.findall(r"^(\w+)\(t\) = ", script, re.M))
    areas = [list(map(float, l.split()[1:])) for l in open(areas_path) if l.startswith("AREA ")]
    plots = [c for c in cmds if c.startswith("plot ")]
    if len(areas) != len(plots):
        problems.append(f"{len(plots)} plot commands but {len(areas)} plot areas printed")
        return problems
    fn_values = {}
    for line in open(areas_path):
        if line.startswith("FN "):
            _, name, x, y = line.split()
            fn_values.setdefault(name, []).append((float(x), float(y)))
    for plot, area in zip(plots, areas):
        txmin, txmax, tymin, tymax, xsize, ysize, scale, xmin, xmax, ymin, ymax, xlog = area
        def page(x, y):
            if xlog:
                if not x > 0:
                    return None
                u = (math.log(x) - math.log(xmin)) / (math.log(xmax) - math.log(xmin))
            else:
                u = (x - xmin) / (xmax - xmin)
            v = (y - ymin) / (ymax - ymin)
            if not (-1e-9 <= u <= 1 + 1e-9 and -1e-9 <= v <= 1 + 1e-9):
                return None
            px = (txmin + u * (txmax - txmin)) * scale / xsize * width
            py = height - (tymin + v * (tymax - tymin)) * scale / ysize * height
            return px, py
        drawn = []
        for clause in split_clauses(plot[5:]):
            s = sampled(clause, blocks, functions)
            if s is None:
                continue
            pts, bars, lines = s
            if isinstance(pts, str):
                pts = fn_values.get(pts, [])
            placed = [page(x, y) for x, y in pts if not (math.isnan(x) or math.isnan(y))]
            drawn += [p for p in placed if p]
            drawn += [p for p in (page(x, y) for x, y in bars if not math.isnan(y)) if p]
            if lines:
                for p, q in zip(placed, placed[1:]):
                    if p and q:
                        drawn += [(p[0] + (q[0] - p[0]) * t / 12, p[1] + (q[1] - p[1]) * t / 12) for t in range(13)]
        for x0, y0, x1, y1, text in words:
            for px, py in drawn:
                if x0 + TOL < px < x1 - TOL and y0 + TOL < py < y1 - TOL:
                    problems.append(f"'{text}' covers the data at ({px:.0f}, {py:.0f}) pt")
                    break
    return problems


if __name__ == "__main__":
    if sys.argv[1] == "instrument":
        instrument(sys.argv[2])
    elif sys.argv[1] == "check":
        found = check(sys.argv[2], sys.argv[3], sys.argv[4])
        for p in found:
            print(p)
        sys.exit(1 if found else 0)
