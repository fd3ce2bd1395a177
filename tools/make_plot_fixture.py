#!/usr/bin/python3
"""Writes tests/golden/plot/fits.jsonl: tte-fit records for tte-plot's tests, made by hand.

Two models on AIME24-sized data (30 items, budgets 2^6..2^13, 4 samples): each item's p(gold) rises
as a logistic in log2(budget) with its own onset; accuracy is sampled from it. From those the
script computes what tte-fit writes: per-budget means with item-bootstrap 95% intervals, the
log-linear, hinge and logistic fits (least squares; hinge2 left null with a "why"), the best by
AICc, the study's breakthroughness and skew per item, and pass@k / maj@k with the coverage fit
exp(a k^b). Seeded, so rerunning it gives the same file.

    /usr/bin/python3 tools/make_plot_fixture.py > tests/golden/plot/fits.jsonl
"""
import json
import math

import numpy as np
from scipy.optimize import curve_fit

rng = np.random.default_rng(2024)
BUDGETS = [2 ** e for e in range(6, 14)]
X = np.log2(BUDGETS).astype(float)
ITEMS, SAMPLES = 30, 4
MODELS = [("DeepSeek-R1-Distill-Qwen-1.5B", 1.78e9, 11.8), ("DeepSeek-R1-Distill-Qwen-7B", 7.62e9, 10.6)]


def r(v, digits=6):
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def info(sse, n, k):
    sse = max(sse, 1e-12)
    aic = n * math.log(sse / n) + 2 * k
    aicc = aic + 2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else None
    return {"sse": r(sse, 9), "aicc": r(aicc), "bic": r(n * math.log(sse / n) + k * math.log(n))}


def fits(x, y):
    n = len(x)
    out = {}
    b, a = np.polyfit(x, y, 1)
    out["loglinear"] = {"a": r(a), "b": r(b), **info(float(np.sum((a + b * x - y) ** 2)), n, 2)}
    best_h = None
    for tau in np.linspace(x[1], x[-2], 31):
        A = np.stack([np.ones(n), x, np.maximum(0, x - tau)], 1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        sse = float(np.sum((A @ coef - y) ** 2))
        if best_h is None or sse < best_h[0]:
            best_h = (sse, tau, coef)
    sse, tau, (a, b, c) = best_h
    out["hinge"] = {"tau": r(tau), "a": r(a), "b": r(b), "c": r(c), **info(sse, n, 4)}
    out["hinge2"] = None
    out["hinge2_why"] = "needs at least 7 budgets"

    def logistic(t, lo, hi, k, x0):
        return lo + (hi - lo) / (1 + np.exp(-k * (t - x0)))

    try:
        p, _ = curve_fit(logistic, x, y, p0=[y.min(), y.max(), 1.5, x.mean()], maxfev=20000)
        sse = float(np.sum((logistic(x, *p) - y) ** 2))
        out["logistic"] = {"lo": r(p[0]), "hi": r(p[1]), "x0": r(p[3]), "s": r(p[2]), **info(sse, n, 4)}
    except RuntimeError:
        out["logistic"] = None
    cands = [(v["aicc"], k) for k, v in out.items() if isinstance(v, dict) and v["aicc"] is not None]
    return out, min(cands)[1]


def emergence(y):
    """The study's breakthroughness (clipped to [0, 100]) and skew of one curve.

    The formulas are in src/lib/stats/emergence.h and man/tte-fit.1 (EMERGENCE SCORES)."""
    y = np.asarray(y, float)
    d = np.diff(y)
    n = len(d)
    sgn = 1 if np.argmax(y) > np.argmin(y) else -1
    i = sgn * (y.max() - y.min())
    denom = np.mean(np.abs(d) ** 0.5) ** 2
    b = 0.0 if denom == 0 else min(max(i / denom / n ** 2, 0.0), 100.0)
    m = d - d.mean()
    m2, m3 = np.mean(m ** 2), np.mean(m ** 3)
    skew = None if len(y) < 4 or m2 == 0 else m3 / m2 ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2) * np.abs(d).max()
    return b, skew


def curve(model, params, metric, per_item):
    """per_item: items x budgets of per-item means."""
    means = per_item.mean(0)
    boots = np.stack([per_item[rng.integers(0, ITEMS, ITEMS)].mean(0) for _ in range(400)])
    lo, hi = np.percentile(boots, [2.5, 97.5], axis=0)
    f, best = fits(X, means)
    why = {"hinge2": f.pop("hinge2_why")}
    b, s = emergence(means)
    return {"kind": "curve", "model": model, "dataset": "aime24", "metric": metric, "model_params": params,
            "points": [{"budget": B, "x": int(x), "mean": r(m), "lo": r(l), "hi": r(h), "n": ITEMS * SAMPLES}
                       for B, x, m, l, h in zip(BUDGETS, X, means, lo, hi)],
            "fits": f, "why": why, "best": best, "breakthroughness": r(b), "skew": r(s)}


def main():
    for model, params, onset in MODELS:
        x0 = rng.normal(onset, 1.2, ITEMS)
        steep = rng.uniform(0.8, 4.0, ITEMS)
        p = 1 / (1 + np.exp(-steep[:, None] * (X[None, :] - x0[:, None])))
        p = np.clip(p + rng.normal(0, 0.03, p.shape), 0.001, 0.999)
        correct = rng.binomial(SAMPLES, p) / SAMPLES
        entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p)) + 2.5 * (1 - p)
        for metric, per_item in (("correct", correct), ("p_gold_norm", p), ("neg_entropy", -entropy)):
            print(json.dumps(curve(model, params, metric, per_item)))
        scores = [emergence(p[i]) for i in range(ITEMS)]
        order = sorted(range(ITEMS), key=lambda i: -scores[i][0])
        for i in range(ITEMS):
            print(json.dumps({"kind": "item", "model": model, "dataset": "aime24", "id": f"aime24/{i}",
                              "metric": "p_gold_norm", "budgets": BUDGETS, "values": [r(v) for v in p[i]],
                              "breakthroughness": r(scores[i][0]), "skew": r(scores[i][1]),
                              "rank": order.index(i) + 1}))
        # pass@k over 16 samples at budgets 256 and 1024 (tte-fit writes one record per budget), the
        # unbiased estimator of Chen et al. (2021); maj@k simulated: wrong answers spread over 5
        # distractors, the correct one must win outright.
        def majority(pi, k, trials=200):
            votes = np.where(rng.random((trials, k)) < pi, 0, rng.integers(1, 6, (trials, k)))
            counts = np.stack([(votes == a).sum(1) for a in range(6)], 1)
            return np.mean(counts[:, 0] > counts[:, 1:].max(1))

        for budget in (256, 1024):
            n, at = 16, BUDGETS.index(budget)
            c = rng.binomial(n, p[:, at])
            ks = [1, 2, 4, 8, 16]
            pass_k = [float(np.mean([1 - math.comb(n - ci, k) / math.comb(n, k) for ci in c])) for k in ks]
            maj_k = [float(np.mean([majority(pi, k) for pi in p[:, at]])) for k in ks]
            logc = np.log(np.clip(pass_k, 1e-9, 1))
            (a, b), _ = curve_fit(lambda k, a, b: a * k ** b, np.array(ks, float), logc, p0=[-1, -0.5],
                                  maxfev=20000)
            print(json.dumps({"kind": "passk", "model": model, "dataset": "aime24", "budget": budget, "k": ks,
                              "pass_at_k": [r(v) for v in pass_k], "maj_at_k": [r(v) for v in maj_k],
                              "coverage_fit": {"a": r(a), "b": r(b)}}))
    print(json.dumps({"kind": "summary", "note": "not a plot record: tte-plot ignores it"}))


main()
