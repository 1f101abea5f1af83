"""A TinyLlama-1.1B-shaped random SketchTune model for converter/runtime benchmarks (not committed).

    python3 -m sketchrt_ref.fixtures.make_fixtures --tinyllama OUT_DIR
    python3 -m sketchrt_ref.fixtures.make_fixtures --midsize OUT_DIR   # 12 x 1024, ~135M sketched weights

Writes OUT_DIR/hf (config.json, generation_config.json, ONE 2.2 GB bf16 model.safetensors written
tensor by tensor, so it also exercises > 2 GB memory mapping), OUT_DIR/sketch.pkl (G=4, 16-entry fp16
LUTs) and OUT_DIR/tuned/sketched_params.pkl (LUT + noise, bf16).

To stay fast on a small CPU box the sketch is NOT computed by k-means: codes are uniform random
nibbles and each LUT is 16 sorted normal values scaled by 1/sqrt(K); the dense weights stored in
model.safetensors are then gather(LUT, codes) in bf16, so dense and sketched models agree.
Peak memory is about 2 GB (all codes are held for the pickle); only one layer's dense weights exist
at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time

import torch

from .. import training_time as ref

CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
    "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
    "num_key_value_heads": 4, "vocab_size": 32000, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False, "bos_token_id": 1,
    "eos_token_id": 2, "torch_dtype": "bfloat16", "attention_bias": False, "mlp_bias": False,
    "initializer_range": 0.02, "pretraining_tp": 1, "use_cache": True,
}
# Llama-3-8B's shapes (GQA 32/8, vocab 128,256, rope_theta 500,000) with a random GPR-4 sketch: the
# memory check of the CPU kernel at the size SketchTune users have. Written without the dense
# weights of the sketched linears (the converter reads those from the sketch), so the base model
# is 2.1 GB instead of 16 GB; generating it needs about 9 GB of memory for the pickle.
LLAMA3_8B = {**CONFIG, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
             "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
             "max_position_embeddings": 8192, "rope_theta": 500000.0, "bos_token_id": 128000,
             "eos_token_id": 128001}
# A mid-size shape for the peer benchmarks (validation/peers): 12 layers, hidden 1024, GQA 16/4,
# intermediate 2816, vocab 32,000 - about 135M sketched weights (11.3M per layer).
MIDSIZE = {**CONFIG, "hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": 12,
           "num_attention_heads": 16, "num_key_value_heads": 4}
GROUPS, BITS = 4, 4
LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def shapes(config: dict = CONFIG) -> list[tuple[str, tuple[int, ...]]]:
    """Every tensor of the checkpoint, in file order."""
    h, i, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = h // config["num_attention_heads"] * config["num_key_value_heads"]
    lin = {"self_attn.q_proj": (h, h), "self_attn.k_proj": (kv, h), "self_attn.v_proj": (kv, h),
           "self_attn.o_proj": (h, h), "mlp.gate_proj": (i, h), "mlp.up_proj": (i, h), "mlp.down_proj": (h, i)}
    out = [("model.embed_tokens.weight", (v, h))]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        out += [(p + "input_layernorm.weight", (h,)), (p + "post_attention_layernorm.weight", (h,))]
        out += [(p + name + ".weight", lin[name]) for name in LINEARS]
    out += [("model.norm.weight", (h,)), ("lm_head.weight", (v, h))]
    return out


def safetensors_header(tensors: list[tuple[str, tuple[int, ...]]]) -> bytes:
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        size = 2 * int(torch.tensor(shape).prod())
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def random_sketch(n: int, k: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    entries = 1 << BITS
    lut = (torch.randn(n, GROUPS, entries, generator=gen).sort(dim=-1).values / k ** 0.5).to(torch.float16)
    codes = torch.randint(0, 256, (n, GROUPS, k // GROUPS // 2), generator=gen, dtype=torch.uint8)
    return lut, codes


def write(out_dir: str, config: dict = CONFIG, dense_linears: bool = True) -> None:
    """dense_linears=False leaves the sketched linears out of model.safetensors (the 8B check)."""
    t0 = time.time()
    gen = torch.Generator().manual_seed(1100)
    shutil.rmtree(out_dir, ignore_errors=True)
    hf = os.path.join(out_dir, "hf")
    os.makedirs(hf)
    os.makedirs(os.path.join(out_dir, "tuned"))
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    with open(os.path.join(hf, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"],
                   "max_length": config["max_position_embeddings"]}, f, indent=2)

    def sketched(name: str) -> bool:
        module = name[: -len(".weight")]
        return module.startswith("model.layers.") and module.split(".", 3)[3] in LINEARS

    all_tensors = shapes(config)
    tensors = all_tensors if dense_linears else [(n, s) for n, s in all_tensors if not sketched(n)]
    sketch, tuned = {}, {}
    with open(os.path.join(hf, "model.safetensors"), "wb") as f:
        f.write(safetensors_header(tensors))
        for name, shape in all_tensors:
            module = name[: -len(".weight")]
            if sketched(name):
                lut, codes = random_sketch(shape[0], shape[1], gen)
                sketch[module] = (lut, codes)
                spread = lut.float().std(dim=-1, keepdim=True)
                tuned[module] = (lut.float() + 0.05 * spread * torch.randn(lut.shape, generator=gen)).to(torch.bfloat16)
                if not dense_linears:
                    continue
                w = ref.gather_weight(lut, codes).to(torch.bfloat16)
            elif name.endswith("norm.weight"):
                w = (1.0 + 0.1 * torch.randn(shape, generator=gen)).to(torch.bfloat16)
            else:  # embeddings / lm_head
                w = (torch.randn(shape, generator=gen) / (1.0 if "embed" in name else shape[1] ** 0.5)).to(torch.bfloat16)
            assert tuple(w.shape) == shape
            f.write(w.contiguous().view(torch.uint8).numpy().tobytes())
            if name.endswith("mlp.down_proj.weight"):
                print(f"  {module.rsplit('.', 2)[0]} written ({time.time() - t0:.0f} s)", flush=True)
    # pickles of ~0.5 GB: skip the byte-level storage-key renaming (it rescans the bytes per key)
    ref.dump_pickle(os.path.join(out_dir, "sketch.pkl"),
                    {k: (ref.cpu_clone(l), ref.cpu_clone(c)) for k, (l, c) in sketch.items()}, deterministic=False)
    ref.dump_pickle(os.path.join(out_dir, "tuned", "sketched_params.pkl"),
                    {k: ref.cpu_clone(v) for k, v in tuned.items()}, deterministic=False)
    sizes = {p: os.path.getsize(os.path.join(out_dir, p)) for p in
             ("hf/model.safetensors", "sketch.pkl", "tuned/sketched_params.pkl")}
    print(f"{config['num_hidden_layers']} x {config['hidden_size']} model in {out_dir}: {len(sketch)} sketched linears, "
          + ", ".join(f"{p} {s / 1e9:.2f} GB" for p, s in sizes.items()) + f", {time.time() - t0:.0f} s")
