#!/usr/bin/env python3
"""Builds the bundled example examples/arith: a tiny Llama that learns addition, sketched and LUT-tuned to subtract.

  1. trains a character-level LlamaForCausalLM from scratch on "a+b=" -> "c" (dense, fp32);
  2. sketches every decoder linear (4-bit codes, `--groups` LUTs per row, fp16 LUTs) -> sketch.pkl;
  3. fine-tunes ONLY the LUTs, codes frozen, on "a-b=" -> "c" (c >= 0) -> tuned/sketched_params.pkl (bf16);
  4. evaluates the training-time model rebuilt from the written files (gather + matmul, fp32
     activations) on 200 held-out problems by greedy decoding until EOS, and writes heldout.jsonl
     and reference_accuracy.json.

Run:  python3 -m sketchrt_ref.example.train   (writes examples/arith; --out DIR to write elsewhere)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time

import torch
import transformers

from .. import training_time as ref
from ..paths import repo_path
from . import arith
from . import sketch_training as st

HELDOUT = 200
MAX_NEW_TOKENS = 6  # longest answer (4 digits) + EOS, plus one token of slack


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=f"python3 -m {__spec__.name}", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="output directory (default: the checkout's examples/arith)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--max-operand", type=int, default=99)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--intermediate", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--groups", type=int, default=2, help="sketch groups (LUTs) per row")
    p.add_argument("--pretrain-steps", type=int, default=1600)
    p.add_argument("--pretrain-lr", type=float, default=3e-3)
    p.add_argument("--tune-steps", type=int, default=1000)
    p.add_argument("--tune-lr", type=float, default=3e-3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def build_model(args: argparse.Namespace):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(arith.VOCAB), hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=32, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
        bos_token_id=arith.BOS_ID, eos_token_id=arith.EOS_ID, pad_token_id=arith.PAD_ID,
        attention_bias=False, mlp_bias=False, initializer_range=0.02,
    )
    model = LlamaForCausalLM(config).to(torch.float32)
    # written as hf/generation_config.json: greedy, stop at EOS
    model.generation_config = transformers.GenerationConfig(
        bos_token_id=arith.BOS_ID, eos_token_id=arith.EOS_ID, pad_token_id=arith.PAD_ID, do_sample=False)
    return model


def evaluate(model, tok, problems):
    answers = st.greedy_answers(model, tok, [p for p, _ in problems], MAX_NEW_TOKENS)
    return answers, st.accuracy(answers, problems)


def write_heldout(path: str, problems, answers) -> None:
    with open(path, "w") as f:
        for (prompt, expected), (text, ids, eos) in zip(problems, answers):
            row = {"prompt": prompt, "expected": expected, "model_answer": text,
                   "model_token_ids": ids, "ended_with_eos": eos, "correct": eos and text == expected}
            f.write(json.dumps(row) + "\n")


def build(args: argparse.Namespace, stage: str) -> dict:
    """Runs steps 1-4 writing into `stage`; returns the accuracy report."""
    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    seed_everything(args.seed)
    t0 = time.time()
    hf_dir = os.path.join(stage, "hf")
    os.makedirs(os.path.join(stage, "tuned"))
    os.makedirs(hf_dir)

    tok = arith.save_tokenizer_files(hf_dir, max_len=32)
    add_eval = arith.heldout_problems(args.seed + 1, "+", HELDOUT, args.max_operand)
    sub_eval = arith.heldout_problems(args.seed + 2, "-", HELDOUT, args.max_operand)

    # 1. dense pre-training on addition
    model = build_model(args)
    add_stream = arith.ProblemStream(tok, "+", args.seed + 3, args.max_operand, {p for p, _ in add_eval})
    st.train(model, list(model.parameters()), add_stream, args.pretrain_steps, args.batch,
             args.pretrain_lr, weight_decay=0.01, label="pretrain +")
    model.save_pretrained(hf_dir)
    t_pretrain = time.time() - t0

    # 2. sketch every decoder linear
    names = st.sketched_module_names(model)
    sketch = {n: ref.sketch_linear(model.get_submodule(n).weight, bits=4, groups=args.groups,
                                   lut_dtype=torch.float16) for n in names}
    sketch_pkl = os.path.join(stage, "sketch.pkl")
    ref.write_sketch_pickle(sketch_pkl, sketch)

    # 3. LUT-only fine-tuning on subtraction
    layers = st.install_sketches(model, sketch)
    luts = [layer.quant_grid for layer in layers.values()]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    sub_stream = arith.ProblemStream(tok, "-", args.seed + 4, args.max_operand, {p for p, _ in sub_eval})
    t1 = time.time()
    st.train(model, luts, sub_stream, args.tune_steps, args.batch, args.tune_lr, weight_decay=0.0,
             label="LUT-tune -")
    t_tune = time.time() - t1
    tuned = {n: layer.quant_grid.detach().to(torch.bfloat16) for n, layer in layers.items()}
    ref.write_tuned_pickle(os.path.join(stage, "tuned", "sketched_params.pkl"), tuned)

    # 4. evaluate what was written, rebuilt from the files alone
    dense = ref.load_training_time_model(hf_dir, {}, None, torch.float32)
    base = ref.load_training_time_model(hf_dir, sketch_pkl, None, torch.float32)
    final = ref.load_training_time_model(hf_dir, sketch_pkl, os.path.join(stage, "tuned"), torch.float32)
    acc = {}
    _, acc["dense_addition"] = evaluate(dense, tok, add_eval)
    _, acc["sketched_base_addition"] = evaluate(base, tok, add_eval)
    _, acc["sketched_base_subtraction"] = evaluate(base, tok, sub_eval)
    _, acc["tuned_addition"] = evaluate(final, tok, add_eval)
    sub_answers, acc["tuned_subtraction"] = evaluate(final, tok, sub_eval)
    write_heldout(os.path.join(stage, "heldout.jsonl"), sub_eval, sub_answers)

    # The same answers through a different decode path (pyref's KV-cache greedy, one prompt at a time).
    agree = sum(ref.greedy(final, arith.encode(tok, p), len(ids)).tolist() == ids
                for (p, _), (_, ids, _) in zip(sub_eval, sub_answers))

    # The module trained in step 3 (fp32 LUTs) and the file-built model (bf16 LUTs) should agree closely.
    probe = torch.tensor([arith.encode(tok, p) for p, _ in sub_eval[:16] if len(p) == len(sub_eval[0][0])])
    with torch.no_grad():
        gap = (model(input_ids=probe).logits - final(input_ids=probe).logits).abs().max().item()

    report = {
        "task": "LUT-only fine-tuning of a sketched char-level Llama from addition to subtraction",
        "accuracy": acc,
        "heldout_problems": HELDOUT,
        "max_operand": args.max_operand,
        "metric": "exact match of the greedy answer, generation must stop at EOS",
        "evaluation": {"activations": "float32", "gather": "in the LUT dtype, then cast",
                       "decode": "greedy, full recompute, prompts of equal length batched"},
        "model": {"hidden": args.hidden, "intermediate": args.intermediate, "layers": args.layers,
                  "heads": args.heads, "kv_heads": args.kv_heads, "vocab": len(arith.VOCAB),
                  "params": sum(p.numel() for p in dense.parameters())},
        "sketch": {"bits": 4, "groups": args.groups, "modules": len(names), "base_lut_dtype": "float16",
                   "tuned_lut_dtype": "bfloat16", "trainable_lut_params": trainable},
        "training": {"pretrain_steps": args.pretrain_steps, "pretrain_lr": args.pretrain_lr,
                     "tune_steps": args.tune_steps, "tune_lr": args.tune_lr, "batch": args.batch,
                     "optimizer": "AdamW(0.9, 0.98), warm-up + cosine, grad clip 1.0"},
        "max_abs_logit_gap_fp32_vs_bf16_luts": round(gap, 6),
        "kv_cache_greedy_agrees": f"{agree}/{len(sub_eval)}",
        "seeds": {"seed": args.seed, "addition_heldout": args.seed + 1, "subtraction_heldout": args.seed + 2,
                  "addition_train": args.seed + 3, "subtraction_train": args.seed + 4},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__,
                     "tokenizers": __import__("tokenizers").__version__, "threads": args.threads},
        "wall_seconds": {"pretrain": round(t_pretrain), "lut_tune": round(t_tune),
                         "total": round(time.time() - t0)},
    }
    with open(os.path.join(stage, "reference_accuracy.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    return report


def main() -> int:
    args = parse_args()
    out = os.path.abspath(args.out or repo_path("examples", "arith"))
    stage = tempfile.mkdtemp(prefix=".arith-", dir=os.path.dirname(out))  # swapped in only when complete
    try:
        report = build(args, stage)
        _swap_in(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print(json.dumps(report["accuracy"], indent=2))
    print(f"wrote {out} in {report['wall_seconds']['total']}s")
    return 0


def _swap_in(stage: str, out: str) -> None:
    """Replaces the generated files in `out`, keeping anything else there (e.g. README.md)."""
    os.makedirs(out, exist_ok=True)
    for name in ("hf", "tuned", "sketch.pkl", "heldout.jsonl", "reference_accuracy.json"):
        target = os.path.join(out, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)
        os.replace(os.path.join(stage, name), target)


if __name__ == "__main__":
    sys.exit(main())
