"""Speed of the training-time SketchTune model (the reference `sketchrt bench` is compared with).

    python3 -m sketchrt_ref.bench.reference --hf DIR/hf --sketch DIR/sketch.pkl \
        [--tuned DIR/tuned] --prompt-len 32 --new-tokens 64 [--contexts 32,512] --json OUT.json

Every sketched nn.Linear becomes a module that, on every forward, gathers its dense weight from
the LUT and the 4-bit codes (training_time.gather_weight, in the LUT's dtype, cast to fp32) and
multiplies: X @ W^T - the computation SketchTune runs while training and evaluating. Generation is
transformers' generate (greedy, KV cache, min_new_tokens = max_new_tokens so EOS never stops it)
on 2 torch threads. Prompts are seeded random token ids, as in `sketchrt bench`.

Figures (medians over --repeats runs after one warm-up), printed and written as JSON:
  prefill    time from generate() to the first new token, for --prompt-len tokens
  decode     mean time of the following steps (one token each), --new-tokens tokens
  contexts   decode ms/token with C tokens already in the cache (C from --contexts, 16 new tokens)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from transformers.generation.streamers import BaseStreamer

from .. import training_time as ref


class GatherLinear(torch.nn.Module):
    """y = x @ gather(lut, codes)^T, the weight rebuilt on every call (nothing dense is kept)."""

    def __init__(self, lut: torch.Tensor, codes: torch.Tensor, dtype: torch.dtype):
        super().__init__()
        self.register_buffer("lut", lut)
        self.register_buffer("codes", codes)
        self.dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = ref.gather_weight(self.lut, self.codes).to(self.dtype)
        return x @ w.T


def load_gather_model(hf: str, sketch_pkl: str, tuned: str | None):
    """The HF model (fp32) with every sketched linear replaced by a GatherLinear."""
    from transformers import AutoModelForCausalLM

    sketch = ref.read_pickle_trusted(sketch_pkl)
    luts = None
    if tuned:
        luts = ref.read_pickle_trusted(os.path.join(tuned, "sketched_params.pkl") if os.path.isdir(tuned) else tuned)
        if set(luts) != set(sketch):
            sys.exit("bench_reference: the tuned and base sketches name different modules")
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    for name, (lut, codes) in sketch.items():
        use = luts[name].reshape(lut.shape) if luts is not None else lut
        parent, _, child = name.rpartition(".")
        old = model.get_submodule(name)
        if tuple(ref.gather_weight(use, codes).shape) != tuple(old.weight.shape):
            sys.exit(f"bench_reference: {name}: the sketch's shape differs from the model's")
        setattr(model.get_submodule(parent), child, GatherLinear(use, codes, torch.float32))
        del old
    return model


class StepClock(BaseStreamer):
    """Records when generate() hands over each new token (the first put() is the prompt)."""

    def __init__(self):
        self.times: list[float] = []

    def put(self, value):
        self.times.append(time.perf_counter())

    def end(self):
        pass


@torch.no_grad()
def timed_generate(model, prompt: torch.Tensor, new_tokens: int) -> tuple[float, float]:
    """(prefill ms, decode ms/token) of one greedy generation of exactly new_tokens tokens."""
    clock = StepClock()
    start = time.perf_counter()
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=new_tokens,
                         min_new_tokens=new_tokens, streamer=clock, pad_token_id=0)
    if out.shape[1] != prompt.shape[1] + new_tokens or len(clock.times) != new_tokens + 1:
        raise RuntimeError("generate did not produce the requested number of tokens")
    prefill = clock.times[1] - start
    decode = (clock.times[-1] - clock.times[1]) / (new_tokens - 1)
    return prefill * 1e3, decode * 1e3


def median_of(model, prompt, new_tokens, repeats):
    timed_generate(model, prompt, new_tokens)  # warm-up
    runs = [timed_generate(model, prompt, new_tokens) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(prog=f"python3 -m {__spec__.name}", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf", required=True, help="Hugging Face model folder (config.json, model.safetensors)")
    ap.add_argument("--sketch", required=True, help="SketchTune sketch pickle")
    ap.add_argument("--tuned", help="tuned LUTs: a folder with sketched_params.pkl, or the pickle")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--contexts", default="32,512", help="comma-separated contexts for decode ms/token")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if args.prompt_len < 1 or args.new_tokens < 2 or args.repeats < 1:
        sys.exit("bench_reference: --prompt-len and --repeats must be >= 1, --new-tokens >= 2")
    contexts = [int(c) for c in args.contexts.split(",") if c]
    torch.set_num_threads(args.threads)
    torch.manual_seed(2025)

    model = load_gather_model(args.hf, args.sketch, args.tuned)
    cfg = model.config
    limit = cfg.max_position_embeddings

    def fit(length: int, new: int) -> int:
        return max(1, min(length, limit - new))

    def prompt(length: int) -> torch.Tensor:
        return torch.randint(0, cfg.vocab_size, (1, length), dtype=torch.int64)

    p = fit(args.prompt_len, args.new_tokens)
    pre, dec = median_of(model, prompt(p), args.new_tokens, args.repeats)
    result = {"implementation": "python-training-time", "torch": torch.__version__, "threads": args.threads,
              "machine": platform.processor() or platform.machine(), "model": os.path.abspath(args.hf),
              "prefill": {"tokens": p, "ms": pre, "tokens_per_s": p / pre * 1e3},
              "decode": {"prompt_tokens": p, "new_tokens": args.new_tokens, "ms_per_token": dec,
                         "tokens_per_s": 1e3 / dec},
              "contexts": []}
    print(f"prefill: {p} tokens in {pre:.2f} ms = {p / pre * 1e3:.1f} tokens/s")
    print(f"decode: {args.new_tokens} new tokens after a {p}-token prompt: {dec:.3f} ms/token = {1e3 / dec:.1f} tokens/s")
    for c in contexts:
        n = min(args.new_tokens, 16)
        fc = fit(c, n)
        _, ms = median_of(model, prompt(fc), n, args.repeats)
        result["contexts"].append({"context": fc, "new_tokens": n, "ms_per_token": ms})
        print(f"decode at context {fc}: {ms:.3f} ms/token ({n} tokens, median of {args.repeats})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
