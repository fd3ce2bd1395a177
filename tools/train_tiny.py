#!/usr/bin/python3
"""Train tte's embedded tiny reasoning model and write it as a Hugging Face folder.

The model solves `tte-fetch arith` items (sums of K numbers) by thinking one line per step, so an
item needs a known thinking budget. It is a Qwen2ForCausalLM (q/k/v biases, tied embeddings) with a
byte-level BPE tokenizer and the DeepSeek-R1-Distill chat template, trained on exactly the token
shapes tte-gen's budget forcing produces:

    <bos><|User|>{prompt}<|Assistant|><think>\n{thinking}</think>FINAL ANSWER: \boxed{N}<eos>

where the thinking is the worked solution, or the solution cut off at any token (the answer is then
the running sum reached so far: the model's best guess), or the solution followed by tte-gen's
continuation phrase and a re-check of the last step, possibly several times.

Items are made by tte-fetch itself (bin/tte-fetch arith --seed S), so the task format has one
source. Evaluation items (seed 0, the first EVAL_COUNT) never occur in training: every training
problem is checked against them.

Usage: tools/train_tiny.py [--steps N] [--out DIR]     (Debian's python3-torch; CPU or CUDA)

The defaults make share/models/tte-tiny-arith (hidden 128, 4 layers, 4 query / 2 key-value heads,
intermediate 384: 830,336 parameters). --hidden, --layers, --heads, --kv-heads and --intermediate
change the shape and nothing else (same data, tokenizer, seeds and schedule): the family
share/models/tte-tiny-arith-{12k,22k,35k,100k,250k} is made so (each README.md has its command). --micro N
computes each batch in N slices of similar lengths: the same gradient, far less padding.
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_arith_reference import read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FETCH = os.environ.get("TTE_FETCH") or os.path.join(ROOT, "bin", "tte-fetch")  # TTE_FETCH: another build

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
THINK, END_THINK = "<think>", "</think>"
SPECIALS = [BOS, EOS, USER, ASSISTANT, THINK, END_THINK]
CONTINUE_PHRASE = " Hmm, but let me keep thinking..."  # tte-gen's default
END_THINKING = "</think>FINAL ANSWER: \\boxed{"  # tte-gen's default, then N and "}"
EVAL_SEED, EVAL_COUNT = 0, 1000

CONFIG = dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=1024, rope_theta=10000.0, rms_norm_eps=1e-6)


# ----------------------------------------------------------------------------------------------
# Tokenizer: byte-level BPE as in GPT-2 / Qwen2. Bytes map to printable characters, text is split
# by Qwen2's pre-tokenizer regex, and merges join frequent letter pairs inside words.

def bytes_to_unicode():
    """GPT-2's reversible map from the 256 bytes to printable unicode characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, n = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


BYTE_CHAR = bytes_to_unicode()
# Qwen2's pre-tokenizer pattern. The training text is ASCII, where \p{L} is [A-Za-z] and \p{N} is
# [0-9], so Python's re (which lacks \p{..}) splits it exactly as the real pattern does.
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
ASCII_PATTERN = re.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
                           r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def pretokenize(text):
    assert text.isascii(), "training text must be ASCII (see ASCII_PATTERN)"
    return ["".join(BYTE_CHAR[b] for b in piece.encode()) for piece in ASCII_PATTERN.findall(text)]


def learn_merges(texts, count):
    """Plain BPE training on letter runs: the most frequent adjacent pair becomes the next merge."""
    words = {}
    for t in texts:
        for w in pretokenize(t):
            if any(c.isalpha() for c in w):
                words[tuple(w)] = words.get(tuple(w), 0) + 1
    merges = []
    for _ in range(count):
        pairs = {}
        for w, n in words.items():
            for p in zip(w, w[1:]):
                pairs[p] = pairs.get(p, 0) + n
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        new_words = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + n
        words = new_words
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges
        self.rank = {m: i for i, m in enumerate(merges)}
        self.vocab = {BYTE_CHAR[b]: b for b in range(256)}
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.special = {s: len(self.vocab) + i for i, s in enumerate(SPECIALS)}
        self.size = len(self.vocab) + len(SPECIALS)
        self.split = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.rank.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            r, i = min(pairs)
            if r == math.inf:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.vocab[p] for p in parts]

    def encode(self, text):
        ids = []
        for chunk in self.split.split(text):
            if chunk in self.special:
                ids.append(self.special[chunk])
            elif chunk:
                for w in pretokenize(chunk):
                    ids.extend(self.bpe(w))
        return ids

    def save(self, out):
        added = [dict(id=i, content=s, single_word=False, lstrip=False, rstrip=False, normalized=False,
                      special=s not in (THINK, END_THINK)) for s, i in self.special.items()]
        tokenizer = {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                               "use_regex": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": self.vocab, "merges": [a + " " + b for a, b in self.merges]},
        }
        with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        template = ("{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
                    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                    "{{ '<｜User｜>' + message['content'] }}{% elif message['role'] == 'assistant' %}"
                    "{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}"
                    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}")
        config = {"add_bos_token": True, "add_eos_token": False, "bos_token": BOS, "eos_token": EOS,
                  "pad_token": EOS, "model_max_length": CONFIG["max_position_embeddings"],
                  "tokenizer_class": "LlamaTokenizerFast", "clean_up_tokenization_spaces": False,
                  "legacy": True, "chat_template": template}
        with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)


# ----------------------------------------------------------------------------------------------
# The model: Qwen2ForCausalLM as transformers defines it (RMSNorm, rotary embeddings with
# rotate_half, grouped-query attention, SwiGLU MLP, q/k/v biases, tied input and output embedding).

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.heads, self.kv_heads, self.head_dim = h, kv, d // h
        self.q_proj = nn.Linear(d, h * self.head_dim)
        self.k_proj = nn.Linear(d, kv * self.head_dim)
        self.v_proj = nn.Linear(d, kv * self.head_dim)
        self.o_proj = nn.Linear(h * self.head_dim, d, bias=False)
        self.gate_proj = nn.Linear(d, c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(d, c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], d, bias=False)
        self.input_layernorm = RMSNorm(d, c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(d, c["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Qwen2(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(vocab, c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        nn.init.normal_(self.embed_tokens.weight, std=0.02)

    def forward(self, ids):
        t = ids.shape[1]
        hd = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv_freq = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32, device=ids.device) / hd))
        freqs = torch.outer(torch.arange(t, dtype=torch.float32, device=ids.device), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((t, t), float("-inf"), device=ids.device).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed_tokens.weight.T  # tied lm_head

    def hf_named(self):
        """transformers' name of each parameter (the tied lm_head is not one)."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight}
        for i, l in enumerate(self.layers):
            p = f"model.layers.{i}."
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + f"self_attn.{name}.weight"] = getattr(l, name).weight
            for name in ("q_proj", "k_proj", "v_proj"):
                out[p + f"self_attn.{name}.bias"] = getattr(l, name).bias
            for name in ("gate_proj", "up_proj", "down_proj"):
                out[p + f"mlp.{name}.weight"] = getattr(l, name).weight
            out[p + "input_layernorm.weight"] = l.input_layernorm.weight
            out[p + "post_attention_layernorm.weight"] = l.post_attention_layernorm.weight
        return out

    def load_hf_state(self, tensors):
        with torch.no_grad():
            for name, param in self.hf_named().items():
                param.copy_(tensors[name])

    def hf_state(self):
        """Tensors under transformers' names (the tied lm_head is not stored, as save_pretrained does)."""
        return {k: v.detach().float().cpu().contiguous() for k, v in self.hf_named().items()}


def save_safetensors(tensors, path, bf16=False):
    """The safetensors format: u64 header length, a JSON header of dtypes, shapes and byte offsets,
    then the raw little-endian data (f32, or bf16 rounded to nearest even)."""
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        if bf16:
            data = tensors[name].to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            data = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "BF16" if bf16 else "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ----------------------------------------------------------------------------------------------
# Training data in the shapes budget forcing produces.

def fetch(seed, count):
    out = subprocess.run([FETCH, "arith", "--seed", str(seed), "--count", str(count)], check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def example(item, rng, tok):
    """Token ids of one training sequence and the index where the loss starts (after the prompt)."""
    prompt = tok.encode(BOS + USER + item["prompt"] + ASSISTANT + THINK + "\n")
    solution = item["meta"]["solution"]
    lines = solution.splitlines(keepends=True)
    answer = item["answer"]
    kind = rng.random()
    # Forced continuations after a finished solution: few usually, up to 12 (a budget of 2^8 tokens
    # forces about that many on the shortest items), so long budgets stay in distribution.
    rechecks = rng.choice([0, 0, 1, 2, 3]) if rng.random() < 0.6 else rng.randrange(4, 13)
    if kind < 0.45:  # the model's own full solution, maybe re-checked after forced continuations
        thinking = tok.encode(solution)
        for _ in range(rechecks):
            thinking += tok.encode(CONTINUE_PHRASE + "\n" + lines[-1])
        ids = thinking + tok.encode(END_THINK + "FINAL ANSWER: \\boxed{" + answer + "}") + [tok.special[EOS]]
    else:  # cut off at a random token: the answer is the running sum reached so far
        full = tok.encode(solution)
        if kind < 0.6:
            full += tok.encode((CONTINUE_PHRASE + "\n" + lines[-1]) * max(1, rechecks))
        cut = rng.randrange(0, len(full) + 1)
        done = tok_decode_prefix(tok, full[:cut])
        guess = answer if cut >= len(tok.encode(solution)) else best_guess(done)
        ids = full[:cut] + tok.encode(END_THINKING + guess + "}") + [tok.special[EOS]]
    return prompt + ids, len(prompt)


def tok_decode_prefix(tok, ids):
    inv = {i: s for s, i in tok.vocab.items()}
    char_byte = {c: b for b, c in BYTE_CHAR.items()}
    return bytes(char_byte[c] for i in ids for c in inv[i]).decode(errors="replace")


def best_guess(done):
    """The last running sum fully written (a line ended by a newline), else the first number."""
    sums = re.findall(r"=(\d+)\n", done)
    if sums:
        return sums[-1]
    first = re.match(r"(\d+)\n", done)
    return first.group(1) if first else "0"


def pad(batch, tok, device):
    """Inputs (padded with EOS) and targets (-100 where there is no loss) of a list of examples."""
    t = max(len(ids) for ids, _ in batch)
    x = torch.full((len(batch), t), tok.special[EOS], dtype=torch.long)
    y = torch.full((len(batch), t), -100, dtype=torch.long)
    for i, (ids, start_loss) in enumerate(batch):
        x[i, :len(ids)] = torch.tensor(ids)
        y[i, start_loss - 1:len(ids) - 1] = torch.tensor(ids[start_loss:])
    return x.to(device), y.to(device)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--out", default=os.path.join(ROOT, "share", "models", "tte-tiny-arith"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--init", help="start from this folder's model.safetensors (same tokenizer) instead of random")
    ap.add_argument("--hidden", type=int, default=CONFIG["hidden_size"])
    ap.add_argument("--layers", type=int, default=CONFIG["num_hidden_layers"])
    ap.add_argument("--heads", type=int, default=CONFIG["num_attention_heads"])
    ap.add_argument("--kv-heads", type=int, default=CONFIG["num_key_value_heads"])
    ap.add_argument("--intermediate", type=int, default=CONFIG["intermediate_size"])
    ap.add_argument("--micro", type=int, default=1,
                    help="compute each batch in this many slices of similar lengths (same gradient, faster on a CPU)")
    ap.add_argument("--bf16", action="store_true", help="store the weights as bf16 (half the file)")
    args = ap.parse_args()
    if args.hidden % args.heads or (args.hidden // args.heads) % 2 or args.heads % args.kv_heads:
        ap.error("--hidden must be a multiple of --heads with an even head size, --heads of --kv-heads")
    CONFIG.update(hidden_size=args.hidden, num_hidden_layers=args.layers, num_attention_heads=args.heads,
                  num_key_value_heads=args.kv_heads, intermediate_size=args.intermediate)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    import random
    rng = random.Random(1)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    held_out = {it["problem"] for it in fetch(EVAL_SEED, EVAL_COUNT)}
    pool = [it for s in range(1, 41) for it in fetch(s, 1000) if it["problem"] not in held_out]
    print(f"training pool: {len(pool)} items (held out: {len(held_out)} problems of seed {EVAL_SEED})", file=sys.stderr)

    texts = [pool[i]["prompt"] + CONTINUE_PHRASE + "FINAL ANSWER: \\boxed{" for i in range(200)]
    tok = Tokenizer(learn_merges(texts, 64))
    model = Qwen2(CONFIG, tok.size)
    if args.init:
        model.load_hf_state(read_safetensors(os.path.join(args.init, "model.safetensors")))
    model = model.to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"vocab {tok.size}, parameters {params}", file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    start = time.time()
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = [example(pool[rng.randrange(len(pool))], rng, tok) for _ in range(args.batch)]
        opt.zero_grad()
        if args.micro <= 1:
            x, y = pad(batch, tok, device)
            loss = F.cross_entropy(model(x).view(-1, tok.size), y.view(-1), ignore_index=-100)
            loss.backward()
        else:
            # The same gradient (the mean over every loss token of the batch) in slices of similar
            # lengths, each padded to its own longest: causal attention never sees the padding, so
            # only the floating-point order of the sums changes, and far less padding is computed.
            batch.sort(key=lambda e: len(e[0]))
            total, loss = sum(len(ids) - s for ids, s in batch), 0.0
            for k in range(args.micro):
                part = batch[k * len(batch) // args.micro:(k + 1) * len(batch) // args.micro]
                x, y = pad(part, tok, device)
                part_loss = F.cross_entropy(model(x).view(-1, tok.size), y.view(-1), ignore_index=-100,
                                            reduction="sum") / total
                part_loss.backward()
                loss += part_loss.detach()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.2e} {time.time() - start:.0f}s", file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    save_safetensors(model.hf_state(), os.path.join(args.out, "model.safetensors"), args.bf16)
    tok.save(args.out)
    hf_config = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", vocab_size=tok.size,
                     head_dim=CONFIG["hidden_size"] // CONFIG["num_attention_heads"], hidden_act="silu",
                     tie_word_embeddings=True, torch_dtype="bfloat16" if args.bf16 else "float32", bos_token_id=tok.special[BOS],
                     eos_token_id=tok.special[EOS], use_sliding_window=False, attention_dropout=0.0,
                     initializer_range=0.02, use_cache=True, **CONFIG)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(hf_config, f, indent=1)
    with open(os.path.join(args.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": tok.special[BOS], "eos_token_id": tok.special[EOS], "do_sample": True,
                   "temperature": 0.6, "top_p": 0.95}, f, indent=1)
    print(f"wrote {args.out} ({params} parameters, {time.time() - start:.0f}s)", file=sys.stderr)


if __name__ == "__main__":
    main()
