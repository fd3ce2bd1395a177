#!/usr/bin/python3
"""Tiny random process reward models in the Hugging Face folder layout, with float64 step scores.

Two heads that tte reads instead of lm_head (src/lib/engine/model.h), with their real tensor names
and architectures:
  qwen2-prm-f32     Qwen2ForProcessRewardModel (Qwen2.5-Math-PRM): score.0 (H to H, bias), ReLU,
                    score.2 (H to 2, bias); step score = softmax(head)[1] at each <extra_0>
  skywork-prm-bf16  Qwen2ForPrmModel (Skywork o1 Open PRM): a Qwen2 causal LM plus v_head.summary
                    (H to 1, bias); step score = sigmoid(value) at the "\n" after each step

The reference builds each model's input as its model card and inference code do (Qwen: the chat
template with the steps joined by <extra_0>, scores where the input id is <extra_0>; Skywork:
io_utils.prepare_input, BOS + problem + "\n", then each step encoded alone and followed by the id
of "\n"), and computes the body with make_tiny_models.final_hidden in float64. Token ids come from
tte's own tokenizer (`tte-gen --encode`, checked against the real tokenizers elsewhere), the
tokenizer of share/models/tte-tiny-arith with three added tokens.

Usage: /usr/bin/python3 tools/make_tiny_prm.py BIN_DIR [OUTDIR]   (default tests/fixtures/models)
"""
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_models as tiny  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARITH = os.path.join(ROOT, "share", "models", "tte-tiny-arith")
ADDED = ["<|im_start|>", "<|im_end|>", "<extra_0>"]
QWEN_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
CASES = [
    ("What is 1+2+8?", ["1+2=3", "3+8=11", "The answer is 11"]),
    ("Add 7 and 5, then 9.", ["7+5=12", "12+9=22 so far", "12 + 9 = 21", "\\boxed{21}"]),
]


def tokenizer_files(outdir):
    tok = json.load(open(os.path.join(ARITH, "tokenizer.json")))
    base = max(t["id"] for t in tok["added_tokens"]) + 1
    for i, text in enumerate(ADDED):
        tok["added_tokens"].append({"id": base + i, "content": text, "single_word": False, "lstrip": False,
                                    "rstrip": False, "normalized": False, "special": True})
    json.dump(tok, open(os.path.join(outdir, "tokenizer.json"), "w"), ensure_ascii=False)
    conf = json.load(open(os.path.join(ARITH, "tokenizer_config.json")))
    conf.pop("chat_template", None)
    json.dump(conf, open(os.path.join(outdir, "tokenizer_config.json"), "w"), ensure_ascii=False)
    return base + len(ADDED), conf.get("bos_token")


def encode(bin_dir, model, text):
    out = subprocess.run([os.path.join(bin_dir, "tte-gen"), "--model", model, "--encode"],
                         input=json.dumps({"text": text}), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["ids"]


def make(bin_dir, outdir, name, arch, dtype, head):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    vocab, bos = tokenizer_files(d)
    cfg = tiny.make_config(name, "qwen2", dtype, True, 4, 2, 32, 8, 64, {})
    cfg["architectures"], cfg["vocab_size"] = [arch], vocab
    gen = torch.Generator().manual_seed(sum(map(ord, name)))
    w = tiny.make_weights(cfg, "qwen2", dtype, gen)
    H = cfg["hidden_size"]
    if head == "classifier":
        w["score.0.weight"] = torch.randn(H, H, generator=gen) * (1.0 / H ** 0.5)
        w["score.0.bias"] = 0.3 * torch.randn(H, generator=gen)
        w["score.2.weight"] = torch.randn(2, H, generator=gen) * (0.4 / H ** 0.5)
        w["score.2.bias"] = 0.3 * torch.randn(2, generator=gen)
    else:
        w["v_head.summary.weight"] = torch.randn(1, H, generator=gen) * (3.0 / H ** 0.5)
        w["v_head.summary.bias"] = 0.3 * torch.randn(1, generator=gen)
    w = {k: v.to(tiny.TORCH_DTYPE[dtype]) for k, v in w.items()}
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
    tiny.write_safetensors(os.path.join(d, "model.safetensors"), w)
    w64 = {k: v.to(torch.float64) for k, v in w.items()}

    cases = []
    for problem, steps in CASES:
        if head == "classifier":
            text = (f"<|im_start|>system\n{QWEN_SYSTEM}<|im_end|>\n<|im_start|>user\n{problem}<|im_end|>\n"
                    f"<|im_start|>assistant\n" + "<extra_0>".join(steps) + "<extra_0><|im_end|>\n")
            ids = encode(bin_dir, d, text)
            extra = vocab - 1
            at = [i for i, t in enumerate(ids) if t == extra]
        else:
            ids = encode(bin_dir, d, (bos or "") + problem + "\n")
            newline = encode(bin_dir, d, "\n")[-1]
            at = []
            for step in steps:
                ids += encode(bin_dir, d, step) + [newline]
                at.append(len(ids) - 1)
        x = tiny.final_hidden(cfg, w, ids)
        if head == "classifier":
            mid = torch.relu(x @ w64["score.0.weight"].T + w64["score.0.bias"])
            out = mid @ w64["score.2.weight"].T + w64["score.2.bias"]
            scores = torch.softmax(out, dim=-1)[:, 1]
        else:
            value = (x @ w64["v_head.summary.weight"].T + w64["v_head.summary.bias"]).squeeze(-1)
            scores = torch.sigmoid(value)
        assert len(at) == len(steps), (name, len(at), len(steps))
        cases.append({"problem": problem, "steps": steps, "ids": ids,
                      "step_scores": [float(scores[i]) for i in at]})
    ref = {"model": name, "note": "float64 reference from tools/make_tiny_prm.py", "cases": cases}
    json.dump(ref, open(os.path.join(d, "reference.json"), "w"))


def main():
    bin_dir = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests", "fixtures", "models")
    make(bin_dir, outdir, "qwen2-prm-f32", "Qwen2ForProcessRewardModel", "F32", "classifier")
    make(bin_dir, outdir, "skywork-prm-bf16", "Qwen2ForPrmModel", "BF16", "value")


if __name__ == "__main__":
    main()
