#!/usr/bin/python3
"""SymPy as the reference for structured answers: 300 LaTeX pairs of sets, tuples, intervals (and their
unions) and equations, printed by SymPy's LaTeX printer and decided by SymPy, half equal, half not.

  sets       {a, b, c} against a permutation (equal: a set has no order) or one element changed
  tuples     (a, b) against the same elements rewritten (equal) or permuted (different: order counts)
  intervals  an interval or a union of intervals against SymPy's simplified union (equal) or one
             endpoint moved or its openness flipped (different)
  equations  y = e against e rewritten (equal: an equation is read at its right-hand side) or changed

The verdict is SymPy's: sets and intervals by ==, tuples element by element with simplify, equations
by their right-hand sides. Pairs SymPy prints the same are skipped.

Usage: /usr/bin/python3 tools/grade_sympy_structures.py > tests/golden/grade-sympy-structures.jsonl
"""
import json
import random
import sys

import sympy as sp

x = sp.Symbol("x")


def number(rng):
    kind = rng.random()
    if kind < 0.5:
        return sp.Integer(rng.randint(-20, 40))
    if kind < 0.8:
        return sp.Rational(rng.randint(-30, 30), rng.randint(2, 9))
    return sp.sqrt(rng.randint(2, 30)) * rng.randint(1, 4)


def rewrite(e):
    """The same value written otherwise."""
    return sp.UnevaluatedExpr(e * 2) / 2 if e.is_Rational else e


def pair_set(rng, equal):
    n = rng.randint(2, 4)
    elems = []
    while len(elems) < n:
        v = number(rng)
        if v not in elems:
            elems.append(v)
    other = elems[:]
    rng.shuffle(other)
    if not equal:
        i = rng.randrange(n)
        other[i] = other[i] + rng.choice([1, 2, -1])
    a, b = sp.FiniteSet(*elems), sp.FiniteSet(*other)
    # SymPy prints a set sorted; the other one is written in its own order.
    written = "\\left\\{" + ", ".join(sp.latex(e) for e in other) + "\\right\\}"
    return sp.latex(a), written, a == b


def pair_tuple(rng, equal):
    n = rng.randint(2, 3)
    elems = [number(rng) for _ in range(n)]
    if equal:
        other = [sp.nsimplify(e) for e in elems]
        b = "\\left( " + ", ".join(sp.latex(sp.expand(e * 1)) for e in other) + "\\right)"
        verdict = True
    else:
        other = elems[:]
        while other == elems:
            rng.shuffle(other)
            if len(set(elems)) == 1:
                other[0] = other[0] + 1
        b = sp.latex(sp.Tuple(*other))
        verdict = all(sp.simplify(p - q) == 0 for p, q in zip(elems, other))
    return sp.latex(sp.Tuple(*elems)), b, verdict


def interval(rng):
    lo = rng.randint(-10, 8)
    hi = lo + rng.randint(1, 9)
    return sp.Interval(lo, hi, rng.random() < 0.4, rng.random() < 0.4)


def pair_interval(rng, equal):
    a = sp.Union(interval(rng), interval(rng), evaluate=False)
    b = sp.simplify(a)
    if not equal:
        b = b if isinstance(b, sp.Interval) else sp.Interval(b.inf, b.sup)
        choice = rng.random()
        if choice < 0.5:
            b = sp.Interval(b.start, b.end + rng.choice([1, 2]), b.left_open, b.right_open)
        else:
            b = sp.Interval(b.start, b.end, not b.left_open, b.right_open)
    la, lb = sp.latex(a), sp.latex(b)
    return la, lb, sp.simplify(a) == sp.simplify(b)


def pair_equation(rng, equal):
    v = number(rng)
    e = v + rng.randint(1, 5) * rng.choice([1, -1])
    f = sp.nsimplify(e) if equal else e + rng.choice([1, 2])
    return sp.latex(sp.Eq(sp.Symbol("y"), e, evaluate=False)), sp.latex(f), sp.simplify(e - f) == 0


def main():
    rng = random.Random(20261202)
    kinds = [pair_set, pair_tuple, pair_interval, pair_equation]
    out, seen = [], set()
    count = {(k.__name__, v): 0 for k in kinds for v in (True, False)}
    while len(out) < 300:
        kind = kinds[len(out) % 4]
        want = rng.random() < 0.5
        if count[(kind.__name__, want)] >= 38:
            want = not want
        a, b, verdict = kind(rng, want)
        if verdict != want or a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        count[(kind.__name__, verdict)] += 1
        out.append({"a": a, "b": b, "equal": bool(verdict), "kind": kind.__name__[5:]})
    for rec in out:
        sys.stdout.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
