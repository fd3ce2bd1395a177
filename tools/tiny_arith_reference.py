#!/usr/bin/python3
"""Reference log-probabilities and a greedy continuation of the embedded tiny model, from PyTorch.

The float64 reference forward pass of tools/make_tiny_models.py (written from the transformers model
definitions) runs on share/models/tte-tiny-arith's weights; the CLI tests check tte's engine against
the result through `tte-score --logprobs` and `tte-gen --max-tokens --greedy`.

Input on stdin: one JSON record {"prompt_ids": [...], "ids": [...]} (tte-gen --encode makes the ids;
the tokenizer is checked against the real tokenizers elsewhere). Output on stdout: the record with
"logprobs" (one per token of ids, given everything before it) and "greedy" (32 tokens after prompt_ids).

Usage: tte-gen ... --encode | /usr/bin/python3 tools/tiny_arith_reference.py MODEL_DIR > reference.json
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tiny_models import forward, greedy  # noqa: E402

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(raw, dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).clone()
    return out


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    rec = json.loads(sys.stdin.readline())
    prompt, ids = rec["prompt_ids"], rec["ids"]
    logits = forward(cfg, w, prompt + ids)
    logp = torch.log_softmax(logits, dim=-1)
    rec["logprobs"] = [float(logp[len(prompt) - 1 + i, t]) for i, t in enumerate(ids)]
    rec["greedy"] = greedy(cfg, w, prompt, 32)
    json.dump(rec, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
