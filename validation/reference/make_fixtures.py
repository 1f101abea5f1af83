"""Writes the committed test fixtures under testdata/ (deterministic: same bytes on every run).

    python3 validation/reference/make_fixtures.py                 # testdata/fixtures + testdata/bad
    python3 validation/reference/make_fixtures.py --out DIR       # somewhere else
    python3 validation/reference/make_fixtures.py --tinyllama DIR # TinyLlama-1.1B-shaped benchmark model

Each fixture is a random tiny HF checkpoint, its SketchTune sketch (sketch.pkl), a perturbed
fine-tuned sketch (tuned/sketched_params.pkl) and golden.safetensors computed by the
training-time reference (sketchtune_ref.load_training_time_model, fp32 activations, tuned LUTs).
See testdata/README.md.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sketchtune_ref as ref  # noqa: E402
from fixture_specs import FIXTURES, config_json  # noqa: E402
import bad_inputs  # noqa: E402
import tiny_tokenizer  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LINEAR_NAMES = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
GOLDEN_BATCH, GOLDEN_SEQ, PROMPT_LEN, GREEDY_LEN = 2, 12, 6, 24
MIN_GREEDY_MARGIN = 0.05  # logits; fp32 implementations differ by ~1e-5


def seed_of(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def randomise(model, gen: torch.Generator, tied: bool) -> None:
    """Weights with O(1) activations (HF's 0.02 init gives near-uniform logits and fragile argmax).

    Tied models get small embeddings and a hotter final norm: otherwise the token's own embedding
    dominates the residual stream and greedy decoding just repeats the last token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_((0.1 if tied else 1.0) * torch.randn(p.shape, generator=gen))
            else:  # linear [out, in]; lm_head a bit hotter so the logits are peaked
                scale = 2.0 if name.startswith("lm_head") else 1.0
                p.copy_(scale * torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
        if tied:
            model.model.norm.weight.mul_(6.0)


def save_hf(model, spec: dict, hf_dir: str) -> None:
    os.makedirs(hf_dir)
    dtype = DTYPES[spec["weights_dtype"]]
    model = model.to(dtype)
    kwargs = {"max_shard_size": spec["max_shard_size"]} if spec.get("max_shard_size") else {}
    model.save_pretrained(hf_dir, safe_serialization=True, **kwargs)
    if spec.get("config_style", "legacy") == "legacy":
        # Released checkpoints (transformers 4.x) carry rope_theta/rope_scaling/torch_dtype;
        # transformers 5 writes rope_parameters/dtype instead - one fixture keeps that form.
        with open(os.path.join(hf_dir, "config.json"), "w") as f:
            json.dump(config_json(spec), f, indent=2, sort_keys=True)
            f.write("\n")


def sketch_model(model, spec: dict, gen: torch.Generator):
    base, tuned = {}, {}
    lut_dtype, tuned_dtype = DTYPES[spec["lut_dtype"]], DTYPES[spec["tuned_dtype"]]
    for i in range(spec["num_hidden_layers"]):
        for lin in LINEAR_NAMES:
            name = f"model.layers.{i}.{lin}"
            w = model.get_submodule(name).weight.detach().float()
            lut, codes = ref.sketch_linear(w, bits=spec["bits"], groups=spec["groups"], lut_dtype=lut_dtype,
                                           squeeze_single_group=spec.get("two_d", False))
            base[name] = (lut, codes)
            # fine-tuning moves each LUT entry a little: noise ~5% of that row-group's spread
            spread = lut.float().std(dim=-1, keepdim=True) + 1e-3
            noise = 0.05 * spread * torch.randn(lut.shape, generator=gen)
            tuned[name] = (lut.float() + noise).to(tuned_dtype)
    return base, tuned


def top_margin(logits: torch.Tensor) -> float:
    top2 = logits.float().topk(2, dim=-1).values
    return float((top2[..., 0] - top2[..., 1]).min())


@torch.no_grad()
def golden(model, spec: dict, gen: torch.Generator) -> tuple[dict, dict]:
    vocab = spec["vocab_size"]
    input_ids = torch.randint(3, vocab, (GOLDEN_BATCH, GOLDEN_SEQ), generator=gen)
    logits = ref.forward_logits(model, input_ids)
    # the same logits through the KV cache: prefix of 5, then one token at a time
    out = model(input_ids=input_ids[:, :5], use_cache=True)
    pieces, past = [out.logits.float()], out.past_key_values
    for t in range(5, GOLDEN_SEQ):
        out = model(input_ids=input_ids[:, t:t + 1], past_key_values=past, use_cache=True)
        pieces.append(out.logits.float())
        past = out.past_key_values
    cached = torch.cat(pieces, dim=1)
    kv_diff = float((cached - logits).abs().max())
    if kv_diff > 1e-4:
        raise AssertionError(f"{spec['name']}: KV-cache logits differ by {kv_diff}")
    # a prompt whose greedy path never has a near-tie, so other implementations cannot flip it
    for attempt in range(1, 65):
        prompt = torch.cat([torch.tensor([spec["bos_token_id"]]),
                            torch.randint(3, vocab, (PROMPT_LEN - 1,), generator=gen)])
        tokens = ref.greedy(model, prompt, GREEDY_LEN)
        # the greedy tokens must be what a full (uncached) forward over prompt+tokens picks, too
        full = model(input_ids=torch.cat([prompt, tokens]).unsqueeze(0), use_cache=False).logits[0].float()
        if not torch.equal(full[PROMPT_LEN - 1:-1].argmax(-1), tokens):
            raise AssertionError(f"{spec['name']}: cached greedy disagrees with the uncached forward")
        if top_margin(full[PROMPT_LEN - 1:-1]) >= MIN_GREEDY_MARGIN:
            break
    else:
        raise AssertionError(f"{spec['name']}: no prompt with a greedy margin >= {MIN_GREEDY_MARGIN}")
    stats = {"kv_cache_max_abs_diff": kv_diff,
             "min_top1_margin_logits": top_margin(logits),
             "min_top1_margin_greedy": top_margin(full[PROMPT_LEN - 1:-1]),
             "greedy_prompt_attempts": attempt}
    return {"input_ids": input_ids, "logits": logits.contiguous(),
            "greedy_prompt": prompt, "greedy_tokens": tokens}, stats


def make_fixture(spec: dict, root: str) -> dict:
    from transformers import AutoConfig, AutoModelForCausalLM

    name = spec["name"]
    out = os.path.join(root, name)
    gen = torch.Generator().manual_seed(seed_of(name))
    torch.manual_seed(seed_of(name))
    cfg = AutoConfig.for_model(**{k: v for k, v in config_json(spec).items() if k != "architectures"})
    cfg.architectures = config_json(spec)["architectures"]
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    randomise(model, gen, spec["tie_word_embeddings"])
    if spec["weights_dtype"] != "float32":  # sketch what the checkpoint will hold
        model = model.to(DTYPES[spec["weights_dtype"]]).float()
    hf_dir = os.path.join(out, "hf")
    os.makedirs(out)
    save_hf(model, spec, hf_dir)
    if spec.get("tokenizer"):
        tok_check = tiny_tokenizer.write(hf_dir, spec)
    base, tuned = sketch_model(model, spec, gen)
    ref.write_sketch_pickle(os.path.join(out, "sketch.pkl"), base)
    os.makedirs(os.path.join(out, "tuned"))
    ref.write_tuned_pickle(os.path.join(out, "tuned", "sketched_params.pkl"), tuned)

    # golden: reload everything from disk, as a user would
    sk = ref.read_pickle_trusted(os.path.join(out, "sketch.pkl"))
    tmodel = ref.load_training_time_model(hf_dir, sk, os.path.join(out, "tuned"), dtype=torch.float32)
    tensors, stats = golden(tmodel, spec, gen)
    bmodel = ref.load_training_time_model(hf_dir, sk, None, dtype=torch.float32)
    tensors["logits_untuned"] = ref.forward_logits(bmodel, tensors["input_ids"]).contiguous()
    save_file(tensors, os.path.join(out, "golden.safetensors"),
              # ONE metadata key: safetensors writes the metadata map in hash order
              metadata={"reference": "sketchtune_ref training-time model, fp32 activations; "
                                     "logits: tuned LUTs, logits_untuned: base sketch LUTs"})

    desc = copy.deepcopy({k: v for k, v in spec.items() if k not in ("name",)})
    desc.update({"name": name, "modules": len(base), "golden": {
        "input_ids": [GOLDEN_BATCH, GOLDEN_SEQ], "greedy_prompt_len": PROMPT_LEN, "greedy_tokens": GREEDY_LEN,
        **{k: round(v, 6) for k, v in stats.items()}}})
    if spec.get("tokenizer"):
        desc["tokenizer_check"] = tok_check
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump(desc, f, indent=2, sort_keys=True)
        f.write("\n")
    return desc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "testdata"), help="testdata root (default: repo testdata/)")
    ap.add_argument("--only", nargs="*", help="fixture names to build (default: all)")
    ap.add_argument("--tinyllama", metavar="OUT_DIR", help="write the TinyLlama-1.1B-shaped benchmark model instead")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions, and a shared 2-core box
    torch.use_deterministic_algorithms(True)
    if args.tinyllama:
        import tinyllama_bench
        tinyllama_bench.write(args.tinyllama)
        return
    fixtures_root = os.path.join(args.out, "fixtures")
    os.makedirs(fixtures_root, exist_ok=True)
    for spec in FIXTURES:
        if args.only and spec["name"] not in args.only:
            continue
        shutil.rmtree(os.path.join(fixtures_root, spec["name"]), ignore_errors=True)
        d = make_fixture(spec, fixtures_root)
        print(f"{spec['name']}: {d['modules']} modules, G={spec['groups']}, bits={spec['bits']}, "
              f"lut {spec['lut_dtype']}, margin {d['golden']['min_top1_margin_greedy']:.4f}")
    if not args.only:
        bad_dir = os.path.join(args.out, "bad")
        shutil.rmtree(bad_dir, ignore_errors=True)
        bad_inputs.write(bad_dir, fixtures_root)
        print(f"bad inputs: {sorted(os.listdir(bad_dir))}")


if __name__ == "__main__":
    main()
