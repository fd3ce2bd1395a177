#!/usr/bin/python3
"""An independent reference for `tte-gen --search beam|dvts`, following huggingface/search-and-learn's
src/sal/search/beam_search.py (_beam_search) and diverse_verifier_tree_search.py (_dvts) loop for
loop, with greedy steps, and its Math-Shepherd PRM (src/sal/models/reward_models.py: the input
f"{system}\\n{question}\\n {o}" where every delimiter of the solution text o gets the tag before it
and a text that does not end in one gets a final tag; the score at each tag is the softmax over
the logits of "+" and "-", "+"'s share).

The policy and the PRM are computed in float64 from their safetensors with the forward pass of
tools/make_tiny_models.py (written from transformers' modeling_qwen2.py). Text is re-tokenised as
search-and-learn re-tokenises it, with tte's tokenizer (`tte-gen --encode`, checked against the
real tokenizers elsewhere); ids are decoded here from tokenizer.json (ByteLevel). Stops as vLLM's
stop strings do: a step ends once its text holds the delimiter; the last iteration runs to EOS.

Usage: /usr/bin/python3 tools/search_reference.py BIN POLICY PRM ITEMS beam|dvts N M MAX_STEPS AGG
writes the records' essentials as JSON lines, in tte-gen's order.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_models as tiny  # noqa: E402


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        assert t["dtype"] == "F32", "the reference reads f32 models"
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(t["shape"])
    return out


def byte_decoder():
    """GPT-2's ByteLevel map, inverted."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class Model:
    def __init__(self, bin_dir, d):
        self.bin, self.dir = bin_dir, d
        self.cfg = json.load(open(os.path.join(d, "config.json")))
        self.w = load_safetensors(os.path.join(d, "model.safetensors"))
        tok = json.load(open(os.path.join(d, "tokenizer.json")))
        dec = byte_decoder()
        self.bytes = {i: bytes(dec[c] for c in s) for s, i in tok["model"]["vocab"].items()}
        for t in tok["added_tokens"]:
            self.bytes[t["id"]] = t["content"].encode()
        eos = self.cfg["eos_token_id"]
        self.eos = set(eos if isinstance(eos, list) else [eos])
        self.memo = {}

    def logits(self, ids):
        key = tuple(ids)
        if key not in self.memo:
            self.memo[key] = tiny.forward(self.cfg, self.w, list(ids))
        return self.memo[key]

    def encode(self, text, chat=False):
        args = [os.path.join(self.bin, "tte-gen"), "--model", self.dir, "--encode"] + (["--chat"] if chat else [])
        out = subprocess.run(args, input=json.dumps({"text": text}), capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["ids"]

    def decode(self, ids):
        return b"".join(self.bytes[i] for i in ids).decode("utf-8", errors="replace")


def generate_step(policy, prompt, ids, delim, last):
    """One greedy step after PROMPT + IDS: (step ids, stop reason)."""
    step = []
    while True:
        tok = int(policy.logits(prompt + ids + step)[-1].argmax())
        if tok in policy.eos:
            return step, "EOS"
        step.append(tok)
        if not last and delim in policy.decode(step):
            return step, "stop"


def shepherd_score(prm, spec, question, text):
    """search-and-learn's MathShepherd.score for one solution text: the step scores."""
    tag, delim = spec.get("tag", " ки"), spec["step_delim"]
    o = text.replace(delim, tag + delim)
    if not o.endswith(delim):
        o = o + tag
    ids = prm.encode(spec.get("system", "") + "\n" + question + "\n" + " " + o)
    tag_id = prm.encode(tag)[-1]
    good, bad = prm.encode(spec.get("good", "+"))[-1], prm.encode(spec.get("bad", "-"))[-1]
    lg = prm.logits(ids)
    pair = torch.stack([lg[:, good], lg[:, bad]], dim=-1).softmax(dim=-1)[:, 0]
    return [float(pair[i]) for i, t in enumerate(ids) if t == tag_id]


def aggregate(scores, agg):
    if not scores:
        return 0.0
    return {"last": scores[-1], "min": min(scores), "prod": float(np.prod(scores))}[agg]


def beam_search(policy, prm, spec, question, prompt, n, m, max_steps, agg):
    delim = spec["step_delim"]
    new = lambda: {"ids": [], "steps": [], "scores": [], "pruned": False, "done": False}
    beams = [new() for _ in range(n)]
    completed = []
    active = beams
    for i in range(max_steps):
        active = [b for b in active if not b["pruned"]]
        if len(active) != n:
            repeats = n // len(active) + 1
            active = [json.loads(json.dumps(b)) for b in (active * repeats)[:n]]
        last = i == max_steps - 1
        for b in active:
            step, stop = generate_step(policy, prompt, b["ids"], delim, last)
            b["ids"] += step
            if step:
                b["steps"].append(step)
            if stop == "EOS" or not step:
                b["done"] = True
                completed.append(b)
        for b in active:
            b["scores"] = shepherd_score(prm, spec, question, policy.decode(b["ids"]))
        agg_scores = [aggregate(b["scores"], agg) for b in active if not b["done"]]
        active = [b for b in active if not b["done"]]
        if not active:
            break
        top = np.argsort(np.array(agg_scores), kind="stable")[-(n // m):]
        for idx, b in enumerate(active):
            if idx not in top:
                b["pruned"] = True
    completed = completed[:n]
    if len(completed) != n:
        completed = (completed * (n // len(completed) + 1))[:n]
    return completed


def dvts(policy, prm, spec, question, prompt, n, m, max_steps, agg):
    delim = spec["step_delim"]
    beams = [{"ids": [], "steps": [], "pruned": False, "kids": None} for _ in range(n // m)]
    for i in range(max_steps):
        gen = [b for b in beams if not b["pruned"]]
        if not gen:
            break
        last = i == max_steps - 1
        for b in gen:
            kids = []
            for _ in range(m):
                step, stop = generate_step(policy, prompt, b["ids"], delim, last)
                ids = b["ids"] + step
                kid = {"ids": ids, "steps": b["steps"] + ([step] if step else []), "stop": stop, "empty": not step}
                kid["scores"] = shepherd_score(prm, spec, question, policy.decode(ids))
                kids.append(kid)
            best = int(np.argmax([aggregate(k["scores"], agg) for k in kids]))
            b["kids"] = kids
            b["ids"], b["steps"] = kids[best]["ids"], kids[best]["steps"]
            if kids[best]["stop"] == "EOS" or kids[best]["empty"]:
                b["pruned"] = True
    return [k for b in beams for k in b["kids"]]


def main():
    bin_dir, policy_dir, prm_dir, items, kind, n, m, max_steps, agg = sys.argv[1:10]
    n, m, max_steps = int(n), int(m), int(max_steps)
    policy, prm = Model(bin_dir, policy_dir), Model(bin_dir, prm_dir)
    spec = json.load(open(os.path.join(prm_dir, "tte_prm.json")))
    for line in open(items):
        item = json.loads(line)
        prompt = policy.encode(item["prompt"], chat=True)
        question = item.get("problem", item["prompt"])
        search = beam_search if kind == "beam" else dvts
        for sample, s in enumerate(search(policy, prm, spec, question, prompt, n, m, max_steps, agg)):
            print(json.dumps({"id": item["id"], "sample": sample, "text": policy.decode(s["ids"]),
                              "steps": [policy.decode(st) for st in s["steps"]], "step_scores": s["scores"],
                              "prm_score": aggregate(s["scores"], agg)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
