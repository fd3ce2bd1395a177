#!/usr/bin/python3
"""Keeps the ASCII renderings in man/tte-plot.1 true to the tool.

Each example in the man page is a command block (tte-plot ... --terminal dumb ... < fits.jsonl |
gnuplot) followed by its output. This script runs every command on tests/golden/plot/fits.jsonl with
bin/tte-plot and the real gnuplot, and either checks that the page shows what they print (--check,
used by tests/cli/tte-plot.sh) or writes the outputs into the page (--write).

    /usr/bin/python3 tools/plot_man_examples.py --write
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "man", "tte-plot.1")
FITS = os.path.join(ROOT, "tests", "golden", "plot", "fits.jsonl")
# A command block, then the rendering block: .nf COMMAND .fi .PP .nf ART .fi
EXAMPLE = re.compile(r"(\.nf\n(tte-plot [^\n]*(?:\\e\n[^\n]*)*\| gnuplot)\n\.fi\n\.PP\n\.nf\n)(.*?)(\n\.fi\n)", re.S)


def render(command):
    args = command.replace("\\e\n", " ").split("<")[0].split()[1:]
    # The tools under test ($BIN, as tests/cli/ get it), else bin/.
    tool = os.path.join(os.environ.get("BIN") or os.path.join(ROOT, "bin"), "tte-plot")
    script = subprocess.run([tool, *args, FITS], check=True,
                            capture_output=True, text=True).stdout
    art = subprocess.run(["gnuplot"], input=script, check=True, capture_output=True, text=True).stdout
    lines = [line.rstrip() for line in art.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    # roff: a backslash is \e, and a line must not start with a control character.
    return "\n".join(("\\&" + l if l.startswith((".", "'")) else l).replace("\\", "\\e")
                     .replace("\\e&", "\\&", 1) for l in lines)


def main():
    mode = sys.argv[1] if len(sys.argv) == 2 else ""
    if mode not in ("--check", "--write"):
        sys.exit("usage: plot_man_examples.py --check|--write")
    page = open(PAGE).read()
    examples = list(EXAMPLE.finditer(page))
    if not examples:
        sys.exit(f"{PAGE}: no examples found")
    stale = [m.group(2).split("\n")[0] for m in examples if render(m.group(2)) != m.group(3)]
    if mode == "--check":
        for command in stale:
            print(f"{PAGE}: the rendering of '{command}' is out of date (tools/plot_man_examples.py --write)")
        sys.exit(1 if stale else 0)
    page = EXAMPLE.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), page)
    open(PAGE, "w").write(page)
    print(f"{len(examples)} examples, {len(stale)} rewritten")


main()
