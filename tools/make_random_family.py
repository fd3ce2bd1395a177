#!/usr/bin/python3
"""A family of random-weight Qwen2 models of growing size that share one tokenizer, for the tests of
`tte-score --next-dist` and `tte-fit --predict-largest` (the tools' contract, not a scaling result).

Writes OUTDIR/l{1,2,4}/{config.json, model.safetensors, tokenizer files copied from TOKDIR}: f32,
hidden 32, with 1, 2 and 4 layers. The models share their embeddings, final norm, output matrix
and first layers, and each added layer is a small residual change, so their next-token
distributions are related the way a family's are: the larger ones move away from the smaller ones
a little at a time. The vocabulary is TOKDIR's config.json's.

Usage: /usr/bin/python3 tools/make_random_family.py TOKDIR OUTDIR
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

HIDDEN, LAYERS = 32, [1, 2, 4]


def tensors(h, layers, vocab):
    d = h // 4
    out = [("model.embed_tokens.weight", (vocab, h))]
    for l in range(layers):
        p = f"model.layers.{l}."
        out += [(p + "input_layernorm.weight", (h,)), (p + "self_attn.q_proj.weight", (4 * d, h)),
                (p + "self_attn.q_proj.bias", (4 * d,)), (p + "self_attn.k_proj.weight", (2 * d, h)),
                (p + "self_attn.k_proj.bias", (2 * d,)), (p + "self_attn.v_proj.weight", (2 * d, h)),
                (p + "self_attn.v_proj.bias", (2 * d,)), (p + "self_attn.o_proj.weight", (h, 4 * d)),
                (p + "post_attention_layernorm.weight", (h,)), (p + "mlp.gate_proj.weight", (3 * h, h)),
                (p + "mlp.up_proj.weight", (3 * h, h)), (p + "mlp.down_proj.weight", (h, 3 * h))]
    return out + [("model.norm.weight", (h,)), ("lm_head.weight", (vocab, h))]


def main():
    tokdir, outdir = sys.argv[1], sys.argv[2]
    base = json.load(open(os.path.join(tokdir, "config.json")))
    rng = np.random.default_rng(7)
    h, most = HIDDEN, max(LAYERS)
    # One set of weights for the deepest model; the others take its first layers.
    weights = {}
    for name, shape in tensors(h, most, base["vocab_size"]):
        x = rng.standard_normal(shape).astype(np.float32)
        if len(shape) == 1:
            x = (0.0 if name.endswith("bias") else 1.0) + 0.1 * x
        elif not name.startswith("model.embed"):
            # later layers change the residual stream less: the family's sizes stay related
            layer = int(name.split(".")[2]) if name.startswith("model.layers.") else 0
            x *= (0.5 if layer == 0 else 1.0) / np.sqrt(shape[1])
            if name == "lm_head.weight":
                x *= 8
        weights[name] = x
    for layers in LAYERS:
        d = os.path.join(outdir, f"l{layers}")
        os.makedirs(d, exist_ok=True)
        cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": base["vocab_size"],
               "hidden_size": h, "intermediate_size": 3 * h, "num_hidden_layers": layers, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": base["max_position_embeddings"],
               "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32",
               "bos_token_id": base.get("bos_token_id"), "eos_token_id": base.get("eos_token_id")}
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(tokdir, f), d)
        header, blobs, offset = {}, [], 0
        for name, shape in tensors(h, layers, base["vocab_size"]):
            b = weights[name].tobytes()
            header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(b)]}
            blobs.append(b)
            offset += len(b)
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    main()
