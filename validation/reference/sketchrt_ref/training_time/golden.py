"""Golden outputs of a SketchTune model, for `sketchrt validate --reference GOLDEN.json`.

Run it where the model was trained (it needs torch and transformers, nothing of sketchrt's Java):

    python3 -m sketchrt_ref.training_time.golden --hf HF_DIR --sketch BASE.pkl --tuned CKPT_DIR \\
        --prompt "Once upon a time" --prompt "57-38=" --out golden.json

It evaluates the model the way SketchTune does (every sketched linear gathered from LUT + codes,
`--dtype bfloat16` as in the released evaluations) and records, per prompt: the input ids, the
last position's logits over the first `vocab_size` columns (SketchTune pads the vocabulary with a
random [PAD] row that is never saved), and the greedy continuation (and, with --beams N, the beam
search continuation of transformers' generate(num_beams=N, do_sample=False)).

`--sketchtune-prompts` applies SketchTune's prompt convention: a literal "<s> " before the text and
add_bos_token=False (no BOS id added by the tokenizer)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from .model import load_training_time_model

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def encode(tokenizer, text: str, sketchtune: bool) -> list[int]:
    if sketchtune:
        return tokenizer("<s> " + text, add_special_tokens=False)["input_ids"]
    return tokenizer(text)["input_ids"]


@torch.no_grad()
def golden(model, tokenizer, prompts: list[str], max_new_tokens: int, vocab_size: int, beams: int,
           sketchtune: bool, dtype: str) -> dict:
    out = {"format": "sketchrt-golden", "version": 1, "dtype": dtype, "vocab_size": vocab_size,
           "max_new_tokens": max_new_tokens, "stops_at_eos": True, "sketchtune_prompts": sketchtune, "prompts": []}
    eos = model.generation_config.eos_token_id
    for text in prompts:
        ids = encode(tokenizer, text, sketchtune)
        if not ids:
            raise SystemExit(f"golden: prompt {text!r} encodes to no tokens")
        x = torch.tensor([ids], dtype=torch.int64)
        logits = model(input_ids=x, use_cache=False).logits[0, -1, :vocab_size].float()
        if not torch.isfinite(logits).all():
            raise SystemExit(f"golden: non-finite logits for prompt {text!r}")
        common = dict(max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos,
                      pad_token_id=eos if isinstance(eos, int) else (eos[0] if eos else 0),
                      attention_mask=torch.ones_like(x))
        greedy = model.generate(x, num_beams=1, **common)[0, len(ids):].tolist()
        entry = {"text": text, "input_ids": ids, "last_logits": [float(v) for v in logits], "greedy": greedy}
        if beams > 1:
            entry[f"beam{beams}"] = model.generate(x, num_beams=beams, **common)[0, len(ids):].tolist()
        out["prompts"].append(entry)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python3 -m sketchrt_ref.training_time.golden", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf", required=True, type=Path, help="Hugging Face base model directory")
    ap.add_argument("--sketch", required=True, type=Path, help="sketch pickle (trusted: it is unpickled)")
    ap.add_argument("--tuned", type=Path, help="fine-tuned sketched_params.pkl or its checkpoint directory")
    ap.add_argument("--prompt", action="append", required=True, help="a prompt (repeatable)")
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--beams", type=int, default=0, help="also record beam search with N beams (SketchTune uses 4)")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    ap.add_argument("--vocab-size", type=int, help="compare only the first N logits (default: config.json vocab_size)")
    ap.add_argument("--sketchtune-prompts", action="store_true", help='prefix "<s> " and add no BOS (SketchTune\'s evaluation)')
    ap.add_argument("--out", required=True, type=Path)
    a = ap.parse_args(argv)
    from transformers import AutoTokenizer

    model = load_training_time_model(a.hf, a.sketch, a.tuned, dtype=DTYPES[a.dtype])
    tokenizer = AutoTokenizer.from_pretrained(a.hf)
    vocab = a.vocab_size or json.loads((a.hf / "config.json").read_text())["vocab_size"]
    if vocab > model.config.vocab_size:
        raise SystemExit(f"golden: --vocab-size {vocab} is larger than the model's {model.config.vocab_size}")
    result = golden(model, tokenizer, a.prompt, a.max_new_tokens, vocab, a.beams, a.sketchtune_prompts, a.dtype)
    a.out.write_text(json.dumps(result) + "\n")
    worst = max(math.fabs(v) for p in result["prompts"] for v in p["last_logits"])
    print(f"wrote {a.out}: {len(result['prompts'])} prompts, {vocab} logits each (max |logit| {worst:.2f})", file=sys.stderr)


if __name__ == "__main__":
    main()
