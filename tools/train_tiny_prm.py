#!/usr/bin/python3
"""Train tte's embedded tiny process reward model (PRM) for the arith task, as a Hugging Face folder.

The PRM is Math-Shepherd style: a Qwen2ForCausalLM read at a tag after each step, step score =
P("+") against P("-") there (prm_format.h, kind "shepherd"). It shares share/models/tte-tiny-arith's
tokenizer and shape and starts from its weights, and it reads a solution in the policy's own
context: its tte_prm.json says

    prefix  <bos><|User|>{problem}\\n\\n Please reason step by step, ... \\boxed{}\\n.<|Assistant|><think>\\n
    step    {step}\\n        (the tag is the line break that ends a step; "join" is empty)

so that the input of a trace is the trace as the policy wrote it, one score per line, and the
policy's features (which term comes next, the running sum) are there from the first training step.

An arith step is checkable (label_steps): the first line is the first term; a line "+x=y" is good
when x is the next term and y the right running sum, or when it re-checks the last line after
tte-gen's continuation phrase; a line cut short (budget forcing stops mid-line) or the phrase
itself is good while no step before it was wrong; once a step is wrong every later one is; the last
step, "\\boxed{N}", is good when N is the true total. Training traces (make_dataset):
  - the policy's own samples: `tte-gen --model share/models/tte-tiny-arith --budgets 3..6 -n 8` on
    training items, at its sampling defaults (temperature 0.6) and at temperature 1, labelled;
  - synthetic traces in the shapes budget forcing produces: the worked solution, the continuation
    phrase and re-checks, cut at any character with the boxed answer the running sum reached so far
    (what the tiny policy answers at a small budget), and corrupted: running sums off by a little,
    skipped, repeated or wrong terms, errors carried on or not, a wrong final answer.
Each trace is turned into ids exactly as tte-score --prm builds them (tte_prm_encode: the prefix and
the first step tokenised as one text, then each later step and its tag), by tte's own tokenizer
(`tte-gen --encode`). The loss is the cross-entropy of the "+"/"-" pair at each read position.

Training items are `tte-fetch arith --seed 1..` with every problem of --seed 0's first 1000 items
(the demo's and tests' held-out items) left out. At the end the script writes held-out labelled
steps (seed 0, items 64..163: synthetic traces and the policy's samples, as {"problem", "answer",
"steps", "labels"} records) and reports the AUROC of the step scores that `tte-score --prm` gives
them.

Usage: /usr/bin/python3 tools/train_tiny_prm.py [--bin DIR] [--steps N] [--out DIR]
(Debian's python3-torch, CPU; --threads 2 at most on a shared machine)
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_tiny as tiny  # noqa: E402
from tiny_arith_reference import read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLICY = os.path.join(ROOT, "share", "models", "tte-tiny-arith")
PHRASE = tiny.CONTINUE_PHRASE
PROMPT_TAIL = "\n\n Please reason step by step, and put your final answer within \\boxed{}\n."  # tte-fetch arith
PRM_FORMAT = {
    "style": "shepherd",
    "prefix": tiny.BOS + tiny.USER + "{problem}" + PROMPT_TAIL + tiny.ASSISTANT + tiny.THINK + "\n",
    "step": "{step}\n",
    "join": "",
    "step_delim": "\n",
    "good": "+",
    "bad": "-",
}
EVAL_SEED, EVAL_COUNT = 0, 1000  # as train_tiny.py: no problem of these items is trained on
HELDOUT = (64, 164)  # seed 0 items whose labelled steps the README's step AUROC is measured on


def run(args, stdin=None):
    return subprocess.run(args, input=stdin, check=True, capture_output=True, text=True).stdout


def fetch(bindir, seed, count):
    out = run([os.path.join(bindir, "tte-fetch"), "arith", "--seed", str(seed), "--count", str(count)])
    return [json.loads(line) for line in out.splitlines()]


def terms_of(problem):
    return [int(t) for t in re.findall(r"\d+", problem)]


# ----------------------------------------------------------------------------------------------
# Labels: which steps of a trace are right.

ARITH = re.compile(r"[0-9+=]+")


def label_steps(terms, steps):
    """1 (good) or 0 (bad) for each step; the last step is the boxed answer."""
    sums = [sum(terms[:i + 1]) for i in range(len(terms))]
    i, ok, last, labels = 0, True, None, []  # i: terms consumed; last: (line, its label)
    for k, step in enumerate(steps[:-1]):
        for m in ARITH.finditer(step):
            seg = m.group()
            expect = (str(terms[0]) if i == 0 else f"+{terms[i]}={sums[i]}") if i < len(terms) else None
            if seg == expect:
                last, i = (seg, ok), i + 1
            elif last and seg == last[0]:
                ok = ok and last[1]  # a re-check of the last line
            elif (expect and expect.startswith(seg)) or (last and last[0].startswith(seg)):
                pass  # a line cut short: right so far
            else:
                ok, last = False, (seg, False)
                if seg.startswith("+") or i == 0:
                    i += 1
        labels.append(int(ok))
    m = re.match(r"\\boxed\{(\d+)", steps[-1])
    labels.append(int(bool(m) and int(m.group(1)) == sums[-1]))
    return labels


def trace_steps(thinking, final):
    """The steps tte-score --prm cuts a generation record into (step_delim "\\n")."""
    return [s for s in thinking.split("\n") if s] + ["\\boxed{" + final]


# ----------------------------------------------------------------------------------------------
# Synthetic traces in the shapes of budget forcing, with corruptions.

def synthetic(terms, rng):
    """A thinking text and its forced answer (without the closing brace's absence: "N}")."""
    lines, s, skip_done = [], 0, False
    carry = rng.random() < 0.7  # an error is carried on (the next sums build on it) or not
    n_err = 0 if rng.random() < 0.45 else rng.choice([1, 1, 1, 2])
    err_at = set(rng.sample(range(len(terms)), min(n_err, len(terms))))
    true_s = 0
    k = 0
    while k < len(terms):
        t = terms[k]
        kind = rng.choice(["off", "off", "skip", "repeat", "term"]) if k in err_at else None
        if kind == "skip" and k > 0 and not skip_done:
            skip_done = True
            true_s += t
            k += 1
            continue
        if kind == "term":
            t = rng.choice([x for x in range(1, 10) if x != terms[k]])
        true_s += terms[k]
        s = (s if carry else true_s - terms[k]) + t
        if kind == "off":
            s += rng.choice([-10, -3, -2, -1, 1, 1, 2, 3, 10])
            s = max(s, 0)
        lines.append(str(t) if k == 0 else f"+{t}={s}")
        if kind == "repeat" and k > 0:
            s += t
            lines.append(f"+{t}={s}")
        if not carry and kind:
            s = true_s
        k += 1
    text = lines[0] + "\n" + "".join(line + "\n" for line in lines[1:])
    # An early end mid-line, as the policy sometimes tries at temperature 1, then the phrase.
    if rng.random() < 0.15 and len(text) > 3:  # then the line again, from its start
        cut = rng.randrange(1, len(text) - 1)
        text = text[:cut] + PHRASE + "\n" + text[text.rfind("\n", 0, cut) + 1:]
    rechecks = rng.choice([0, 0, 1, 1, 2, 3])
    for _ in range(rechecks):
        text += PHRASE + "\n" + lines[-1] + "\n"
    answer = str(s)
    if rng.random() < 0.7:  # budget forcing stops the thinking: the answer is the sum reached so far
        cut = int(min(rng.random(), rng.random()) * len(text))  # small budgets are the common case
        text = text[:cut]
        answer = tiny.best_guess(text)
    if rng.random() < 0.12:  # a wrong final answer after right steps
        answer = str(max(0, int(answer) + rng.choice([-10, -2, -1, 1, 2, 10])))
    elif rng.random() < 0.05:  # the right total though the trace stopped short
        answer = str(sum(terms))
    return text, answer + "}"


# ----------------------------------------------------------------------------------------------
# Ids as tte builds them.

def chunks(problem, steps):
    """tte_prm_encode's texts: the prefix and the first step with its tag, then each later step."""
    prefix = PRM_FORMAT["prefix"].replace("{problem}", problem)
    out = []
    for k, s in enumerate(steps):
        out.append((prefix if k == 0 else PRM_FORMAT["join"]) + PRM_FORMAT["step"].replace("{step}", s))
    return out


def encode_all(bindir, texts):
    uniq = sorted(set(texts))
    lines = "".join(json.dumps({"text": t}) + "\n" for t in uniq)
    out = run([os.path.join(bindir, "tte-gen"), "--model", POLICY, "--encode"], stdin=lines)
    return {t: json.loads(line)["ids"] for t, line in zip(uniq, out.splitlines())}


def to_example(enc, problem, steps, labels):
    ids, reads = [], []
    for c in chunks(problem, steps):
        ids += enc[c]
        reads.append(len(ids) - 1)
    return ids, reads, labels


# ----------------------------------------------------------------------------------------------
# Data.

def policy_samples(bindir, items, temperature, seed):
    """The policy's own traces at budgets 2^3..2^6, 8 samples, de-duplicated."""
    lines = "".join(json.dumps(it) + "\n" for it in items)
    args = [os.path.join(bindir, "tte-gen"), "--model", POLICY, "--budgets", "3..6", "-n", "8",
            "--seed", str(seed), "--no-cache"]
    if temperature is not None:
        args += ["--temperature", str(temperature), "--top-p", "1"]
    out = run(args, stdin=lines)
    seen, traces = set(), []
    for line in out.splitlines():
        r = json.loads(line)
        key = (r["problem"], r["thinking"], r["final"])
        if key not in seen:
            seen.add(key)
            traces.append((r["problem"], trace_steps(r["thinking"], r["final"])))
    return traces


def make_traces(bindir, items, n_synth, rng, seed):
    traces = []
    for temperature in (None, 1.0):
        traces += policy_samples(bindir, items, temperature, seed)
    n_policy = len(traces)
    for _ in range(n_synth):
        it = items[rng.randrange(len(items))]
        thinking, final = synthetic(terms_of(it["problem"]), rng)
        traces.append((it["problem"], trace_steps(thinking, final)))
    return [(p, s, label_steps(terms_of(p), s)) for p, s in traces], n_policy


# ----------------------------------------------------------------------------------------------
# The model: train_tiny.Qwen2, scored at the read positions only.

def read_logits(model, x, reads, good, bad):
    """The GOOD and BAD logits at each (row, position) of READS: (n, 2)."""
    c = model.c
    t = x.shape[1]
    hd = c["hidden_size"] // c["num_attention_heads"]
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    emb = torch.outer(torch.arange(t, dtype=torch.float32), inv)
    emb = torch.cat((emb, emb), -1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mask = torch.full((t, t), float("-inf")).triu(1)
    h = model.embed_tokens(x)
    for layer in model.layers:
        if any(p.requires_grad for p in layer.parameters()):
            h = layer(h, cos, sin, mask)
        else:
            with torch.no_grad():
                h = layer(h, cos, sin, mask)
    rows, cols = reads
    h = model.norm(h[rows, cols])
    return h @ model.embed_tokens.weight[[good, bad]].T


def batches(examples, batch, rng):
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), rng.random()))
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    rng.shuffle(groups)
    return groups


def collate(examples, group, pad, answer_weight):
    t = max(len(examples[i][0]) for i in group)
    x = torch.full((len(group), t), pad, dtype=torch.long)
    rows, cols, y, w = [], [], [], []
    for r, i in enumerate(group):
        ids, reads, labels = examples[i]
        x[r, :len(ids)] = torch.tensor(ids)
        for j, (p, lab) in enumerate(zip(reads, labels)):
            rows.append(r), cols.append(p), y.append(1 - lab)  # class 0 = "+" (good), 1 = "-"
            w.append(answer_weight if j == len(reads) - 1 else 1.0)  # the answer's step decides prm_score (last)
    return x, (torch.tensor(rows), torch.tensor(cols)), torch.tensor(y), torch.tensor(w)


def auroc(pos, neg):
    """The fraction of (good, bad) pairs ranked right, ties half."""
    if not pos or not neg:
        return float("nan")
    neg = sorted(neg)
    import bisect
    total = 0.0
    for p in pos:
        lo, hi = bisect.bisect_left(neg, p), bisect.bisect_right(neg, p)
        total += lo + 0.5 * (hi - lo)
    return total / (len(pos) * len(neg))


def save(model, out):
    """The PRM's folder: the weights, the policy's config and tokenizer, tte_prm.json."""
    os.makedirs(out, exist_ok=True)
    tiny.save_safetensors(model.hf_state(), os.path.join(out, "model.safetensors"))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(POLICY, name), encoding="utf-8") as f, \
                open(os.path.join(out, name), "w", encoding="utf-8") as g:
            g.write(f.read())
    with open(os.path.join(out, "tte_prm.json"), "w", encoding="utf-8") as f:
        json.dump(PRM_FORMAT, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"), help="where tte-fetch, tte-gen, tte-score are")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--items", type=int, default=400, help="training items (policy samples on each)")
    ap.add_argument("--synthetic", type=int, default=6000, help="synthetic traces")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--heldout", default="/tmp/tte-tiny-prm-heldout.jsonl", help="where the held-out labelled steps go")
    ap.add_argument("--answer-weight", type=float, default=3.0, help="the loss weight of the boxed answer's step")
    ap.add_argument("--freeze", type=int, default=2, help="the lowest layers kept as they are")
    ap.add_argument("--init", help="start from this PRM folder's weights instead of the policy's")
    ap.add_argument("--seed", type=int, default=1, help="for the data and the order")
    ap.add_argument("--out", default=os.path.join(ROOT, "share", "models", "tte-tiny-prm"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    start = time.time()

    held_out = {it["problem"] for it in fetch(args.bin, EVAL_SEED, EVAL_COUNT)}
    pool = [it for s in range(1, 4) for it in fetch(args.bin, s, 1000) if it["problem"] not in held_out]
    rng.shuffle(pool)
    items = pool[:args.items]
    traces, n_policy = make_traces(args.bin, items, args.synthetic, rng, seed=args.seed)
    heldout_items = fetch(args.bin, EVAL_SEED, HELDOUT[1])[HELDOUT[0]:]
    heldout, _ = make_traces(args.bin, heldout_items, len(heldout_items), random.Random(2), seed=2)
    enc = encode_all(args.bin, [c for p, s, _ in traces + heldout for c in chunks(p, s)])
    examples = [to_example(enc, p, s, lab) for p, s, lab in traces]
    n_steps = sum(len(lab) for _, _, lab in traces)
    n_bad = sum(len(lab) - sum(lab) for _, _, lab in traces)
    print(f"training traces: {len(traces)} ({n_policy} the policy's, {len(traces) - n_policy} synthetic) on "
          f"{len(items)} items, {n_steps} steps ({n_bad} bad), longest {max(len(e[0]) for e in examples)} ids; "
          f"{time.time() - start:.0f}s", file=sys.stderr)

    vocab = json.load(open(os.path.join(POLICY, "config.json")))["vocab_size"]
    model = tiny.Qwen2(tiny.CONFIG, vocab)
    model.load_hf_state(read_safetensors(os.path.join(args.init or POLICY, "model.safetensors")))
    plus_minus = encode_all(args.bin, ["+", "-"])
    good, bad = plus_minus["+"][-1], plus_minus["-"][-1]
    pad = json.load(open(os.path.join(POLICY, "config.json")))["eos_token_id"]
    # The embedding (tied to the output: "+" is also a step's first token) and the lowest --freeze
    # layers stay the policy's: they already track the terms and the running sum.
    frozen = [model.embed_tokens] + list(model.layers[:args.freeze])
    for m in frozen:
        m.requires_grad_(False)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trained, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    groups, step = [], 0
    while step < args.steps:
        if not groups:
            groups = batches(examples, args.batch, rng)
        lr = args.lr * min(1.0, (step + 1) / 20) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        x, reads, y, w = collate(examples, groups.pop(), pad, args.answer_weight)
        logits = read_logits(model, x, reads, good, bad)
        loss = (F.cross_entropy(logits, y, reduction="none") * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        if step % 10 == 0 or step == args.steps - 1:
            acc = (logits.argmax(-1) == y).float().mean().item()
            print(f"step {step} loss {loss.item():.4f} acc {acc:.3f} lr {lr:.2e} {time.time() - start:.0f}s",
                  file=sys.stderr, flush=True)
        step += 1
        if step % 25 == 0 or step == args.steps:
            save(model, args.out)  # a usable folder as training goes


    # Held-out labelled steps, scored by tte itself.
    path = args.heldout
    answers = {it["problem"]: it["answer"] for it in heldout_items}
    with open(path, "w") as f:
        for p, s, lab in heldout:
            f.write(json.dumps({"id": "heldout", "problem": p, "answer": answers[p], "steps": s, "labels": lab}) + "\n")
    out = run([os.path.join(args.bin, "tte-score"), "--prm", args.out, "--no-cache", path])
    pos, neg, last_pos, last_neg = [], [], [], []
    # tte's scores are the model's: the ids and read positions above are tte_prm_encode's.
    model.eval()
    held = [to_example(enc, p, s, lab) for p, s, lab in heldout[:64]]
    with torch.no_grad():
        mine = [F.softmax(read_logits(model, torch.tensor([ids]), (torch.zeros(len(r), dtype=torch.long),
                                                                  torch.tensor(r)), good, bad), -1)[:, 0]
                for ids, r, _ in held]
    tte_scores = [json.loads(line)["step_scores"] for line in out.splitlines()[:64]]
    diff = max(abs(a - float(b)) for m, t in zip(mine, tte_scores) for a, b in zip(t, m))
    print(f"tte-score --prm against this script's forward pass on 64 held-out traces: max |diff| {diff:.2e}",
          file=sys.stderr)
    for line in out.splitlines():
        r = json.loads(line)
        for j, (sc, lab) in enumerate(zip(r["step_scores"], r["labels"])):
            (pos if lab else neg).append(sc)
            if j == len(r["labels"]) - 1:
                (last_pos if lab else last_neg).append(sc)
    print(f"held-out labelled steps ({path}): {len(pos) + len(neg)} steps, {len(neg)} bad: AUROC "
          f"{auroc(pos, neg):.4f}; answer steps only: {len(last_pos) + len(last_neg)}, AUROC "
          f"{auroc(last_pos, last_neg):.4f}", file=sys.stderr)
    print(f"wrote {args.out} ({time.time() - start:.0f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
