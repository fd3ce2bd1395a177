#!/usr/bin/python3
"""The strategies of `tte-fit --predict-largest` (src/tte-fit/predict.h) written again in numpy, from
their description, for the test that compares the two on the same records.

Reads tte-score --next-dist records (JSON lines) on stdin; prints {"strategy": top1} as JSON.
Usage: /usr/bin/python3 tools/predict_largest_reference.py SEED < records.jsonl
"""
import json
import sys

import numpy as np

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def main():
    seed = int(sys.argv[1])
    recs = [json.loads(line) for line in sys.stdin if line.strip()]
    params = {r["model"]: r["model_params"] for r in recs}
    vocab = recs[0]["next_dist_vocab"]
    order = sorted(params, key=params.get)
    small, target = order[:-1], order[-1]
    prompts = list(dict.fromkeys(r["id"] for r in recs))
    dist = {(r["id"], r["model"]): r["next_dist"] for r in recs}

    def logp(listing):
        """The full log-distribution a top-K listing stands for: the rest spread over the others."""
        ids = np.array([e["id"] for e in listing])
        lp = np.array([e["logprob"] for e in listing])
        rest = max(1 - np.exp(lp).sum(), 1e-12)
        full = np.full(vocab, np.log(rest / max(vocab - len(ids), 1)))
        full[ids] = lp
        return full

    hits = {s: 0 for s in ("token0", "random", "average", "largest_small", "loglinear", "damped_trend")}
    x = np.log([params[m] for m in small])
    xt = np.log(params[target])
    for p, pid in enumerate(prompts):
        want = dist[(pid, target)][0]["id"]
        ys = np.array([logp(dist[(pid, m)]) for m in small])  # [model, token]
        cands = sorted({e["id"] for m in small for e in dist[(pid, m)]})
        c = np.array(cands)

        def pick(scores):  # argmax over the candidates; ties to the lower id (cands are sorted)
            return int(c[int(np.argmax(scores[c]))])

        state = seed ^ fnv1a64(pid)
        _, z = splitmix64(state)
        guesses = {
            "token0": 0,
            "random": (z * vocab) >> 64,
            "average": pick(np.exp(ys).sum(0)),
            "largest_small": dist[(pid, small[-1])][0]["id"],
        }
        xm = x.mean()
        slope = ((x - xm)[:, None] * (ys - ys.mean(0))).sum(0) / max(((x - xm) ** 2).sum(), 1e-300)
        if len(small) == 1:
            slope = np.zeros(vocab)
        guesses["loglinear"] = pick(ys.mean(0) + slope * (xt - xm))
        if len(small) >= 2:
            d = ys[-1] + 0.5 * (ys[-1] - ys[-2]) / (x[-1] - x[-2]) * (xt - x[-1])
        else:
            d = ys[-1]
        guesses["damped_trend"] = pick(d)
        for s, g in guesses.items():
            hits[s] += g == want
    print(json.dumps({s: h / len(prompts) for s, h in hits.items()}))


if __name__ == "__main__":
    main()
