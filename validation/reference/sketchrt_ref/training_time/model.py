"""The Hugging Face model evaluated the way SketchTune trains and evaluates it."""

from __future__ import annotations

import os
from typing import Mapping

import torch

from .codes import gather_weight
from .pickles import read_pickle_trusted


def load_training_time_model(
    hf_dir: str | os.PathLike,
    sketch_pkl: str | os.PathLike | Mapping,
    tuned: str | os.PathLike | Mapping | None = None,
    dtype: torch.dtype = torch.float32,
):
    """The HF model with every sketched linear replaced by gather(LUT, codes) cast to `dtype`.

    sketch_pkl/tuned may be paths (trusted, self-generated pickles; a tuned directory means
    <dir>/sketched_params.pkl) or already-loaded dicts. The gather runs in the LUT's dtype and is
    then cast to the activation dtype, as SketchTune does while training and evaluating."""
    from transformers import AutoModelForCausalLM

    sketch = sketch_pkl if isinstance(sketch_pkl, Mapping) else read_pickle_trusted(sketch_pkl)
    if tuned is not None and not isinstance(tuned, Mapping):
        if os.path.isdir(tuned):
            tuned = os.path.join(tuned, "sketched_params.pkl")
        tuned = read_pickle_trusted(tuned)
    if tuned is not None and set(tuned) != set(sketch):
        raise ValueError("tuned and base sketches name different modules")
    model = AutoModelForCausalLM.from_pretrained(os.fspath(hf_dir), dtype=dtype, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        for name, (lut, codes) in sketch.items():
            linear = model.get_submodule(name)
            use_lut = tuned[name] if tuned is not None else lut
            w = gather_weight(use_lut.reshape(lut.shape), codes).to(dtype)
            if tuple(w.shape) != tuple(linear.weight.shape):
                raise ValueError(f"{name}: sketch gives {tuple(w.shape)}, model has {tuple(linear.weight.shape)}")
            linear.weight.copy_(w)
    return model


@torch.no_grad()
def forward_logits(model, input_ids: torch.Tensor) -> torch.Tensor:
    """Logits [B, S, V] in fp32 for a full (unpadded) batch, no cache."""
    return model(input_ids=input_ids, use_cache=False).logits.float()


@torch.no_grad()
def greedy(model, prompt_ids, n: int) -> torch.Tensor:
    """Greedy continuation of exactly n tokens (EOS does not stop it), using the KV cache.

    prompt_ids: 1-D ids (list or tensor). Returns int64 [n]."""
    ids = torch.as_tensor(prompt_ids, dtype=torch.int64).reshape(1, -1)
    out = model(input_ids=ids, use_cache=True)
    past = out.past_key_values
    tokens = []
    nxt = out.logits[0, -1].float().argmax()
    for i in range(n):
        tokens.append(int(nxt))
        if i == n - 1:
            break
        out = model(input_ids=nxt.reshape(1, 1), past_key_values=past, use_cache=True)
        past = out.past_key_values
        nxt = out.logits[0, -1].float().argmax()
    return torch.tensor(tokens, dtype=torch.int64)
