"""SketchTune reference: sketching, pickles and the training-time computation (DESIGN.md section 2).

This is the ground truth the Java converter/runtime and the CUDA kernels are checked against:
  * sketch_linear   - a SketchTune-style sketch of one weight: per-(row, group) 2^bits-entry LUT
                      (1-D k-means initialised at quantiles) and 4-bit-nibble codes.
  * gather_weight   - the training-time gather W[n, k] = quant_grid[n, k // (K/G), code(n, k)].
  * write_*_pickle  - pickles written with plain pickle.dump of torch tensors, as SketchTune does.
  * load_training_time_model / greedy - the HF model evaluated the way SketchTune evaluates.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from typing import Mapping

import torch

__all__ = [
    "sketch_linear",
    "pack_codes",
    "unpack_codes",
    "gather_weight",
    "write_sketch_pickle",
    "write_tuned_pickle",
    "read_pickle_trusted",
    "dump_pickle",
    "load_training_time_model",
    "greedy",
    "forward_logits",
]


def pack_codes(codes: torch.Tensor) -> torch.Tensor:
    """Packs integer codes [..., L] (values < 16, L even) two per byte: high nibble = even column."""
    if codes.shape[-1] % 2:
        raise ValueError(f"code row length {codes.shape[-1]} is odd")
    c = codes.to(torch.int64)
    if c.numel() and (int(c.min()) < 0 or int(c.max()) > 15):
        raise ValueError("codes must lie in 0..15")
    pairs = c.reshape(*c.shape[:-1], c.shape[-1] // 2, 2)
    return ((pairs[..., 0] << 4) | pairs[..., 1]).to(torch.uint8).contiguous()


def unpack_codes(codes: torch.Tensor) -> torch.Tensor:
    """Packed codes [N, G, K/G/2] or [N, K/2] (uint8) -> int64 codes [N, K]."""
    if codes.dtype != torch.uint8:
        raise TypeError(f"codes must be uint8, got {codes.dtype}")
    flat = codes.reshape(codes.shape[0], -1).to(torch.int64)
    return torch.stack((flat >> 4, flat & 0x0F), dim=-1).reshape(codes.shape[0], -1)


def _as_3d(quant_grid: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalises the G = 1 two-dimensional pickle form to [N, 1, L] / [N, 1, K/2]."""
    if quant_grid.dim() == 2:
        quant_grid = quant_grid.unsqueeze(1)
    if codes.dim() == 2:
        codes = codes.unsqueeze(1)
    if quant_grid.dim() != 3 or codes.dim() != 3:
        raise ValueError(f"bad sketch ranks: quant_grid {tuple(quant_grid.shape)}, codes {tuple(codes.shape)}")
    if quant_grid.shape[:2] != codes.shape[:2]:
        raise ValueError(f"quant_grid {tuple(quant_grid.shape)} and codes {tuple(codes.shape)} disagree on [N, G]")
    return quant_grid, codes


def gather_weight(quant_grid: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """The training-time gather: dense W [N, K] in the LUT's dtype.

    W[n, k] = quant_grid[n, k // (K/G), code(n, k)] with code(n, k) the high nibble for even k."""
    quant_grid, codes = _as_3d(quant_grid, codes)
    n, g, entries = quant_grid.shape
    idx = unpack_codes(codes)  # [N, K]
    k = idx.shape[1]
    if int(idx.max()) >= entries:
        raise ValueError(f"a code is >= the LUT size {entries}")
    idx = idx.reshape(n, g, k // g)
    return torch.gather(quant_grid, 2, idx).reshape(n, k)


def sketch_linear(
    weight: torch.Tensor,
    bits: int = 4,
    groups: int = 1,
    lut_dtype: torch.dtype = torch.float16,
    iters: int = 8,
    squeeze_single_group: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sketches weight [N, K] into (quant_grid [N, G, 2^bits], codes uint8 [N, G, K/G/2]).

    Each (row, group) gets its own 2^bits-entry codebook: 1-D k-means (Lloyd, `iters` steps,
    vectorised over all rows/groups) initialised at evenly spaced quantiles. Codes are assigned
    against the codebook *after* the cast to lut_dtype, so the sketch is exact in that dtype.
    With squeeze_single_group and groups == 1 the 2-D form [N, 2^bits] / [N, K/2] is returned."""
    if not 1 <= bits <= 4:
        raise ValueError(f"bits must be 1..4, got {bits}")
    n, k = weight.shape
    if k % groups or (k // groups) % 2:
        raise ValueError(f"K={k} is not divisible into {groups} groups of an even size")
    entries = 1 << bits
    x = weight.detach().to(torch.float32).reshape(n, groups, k // groups)
    q = torch.linspace(0.0, 1.0, entries + 2, dtype=torch.float32)[1:-1]
    centroids = torch.quantile(x, q, dim=-1).permute(1, 2, 0).contiguous()  # [N, G, E]
    for _ in range(iters):
        assign = (x.unsqueeze(-1) - centroids.unsqueeze(-2)).abs().argmin(dim=-1)  # [N, G, L]
        sums = torch.zeros_like(centroids).scatter_add_(2, assign, x)
        counts = torch.zeros_like(centroids).scatter_add_(2, assign, torch.ones_like(x))
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
    centroids, _ = centroids.sort(dim=-1)
    lut = centroids.to(lut_dtype)
    assign = (x.unsqueeze(-1) - lut.to(torch.float32).unsqueeze(-2)).abs().argmin(dim=-1)
    codes = pack_codes(assign)
    lut = lut.contiguous()
    if squeeze_single_group and groups == 1:
        return lut.reshape(n, entries).clone(), codes.reshape(n, k // 2).clone()
    return lut.clone(), codes.clone()


# ---------------------------------------------------------------------------------------------
# Pickles

def _cpu_clone(t: torch.Tensor) -> torch.Tensor:
    # A fresh contiguous CPU tensor: its storage holds exactly its own elements (no shared views).
    return t.detach().to("cpu").contiguous().clone()


# torch's legacy storage stream names each storage by str(storage._cdata) - a memory address.
_STORAGE_KEY = re.compile(rb"X(....)(\d+)q\x02X\x03\x00\x00\x00cpuq\x03", re.DOTALL)


def _deterministic_keys(data: bytes) -> bytes:
    """Renames storage keys (memory addresses) to same-length counters so fixtures are
    reproducible byte for byte. Same length => every pickle length/frame field stays valid."""
    keys = []
    for m in _STORAGE_KEY.finditer(data):
        if m.group(2) not in keys:
            keys.append(m.group(2))
    for i, key in enumerate(keys):
        new = str(i + 1).rjust(len(key), "0").encode()
        if len(new) != len(key) or data.count(key) != 2:
            return data  # unexpected layout: keep torch's bytes untouched
        data = data.replace(key, new)
    return data


def dump_pickle(path: str | os.PathLike, obj: object, deterministic: bool = True) -> None:
    """pickle.dump(obj) to path (atomically); storage keys made reproducible unless told not to."""
    data = pickle.dumps(obj)
    if deterministic:
        data = _deterministic_keys(data)
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_sketch_pickle(path: str | os.PathLike, sketch: Mapping[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Writes the sketched base model: {module: (quant_grid, weight_codes)} with pickle.dump."""
    dump_pickle(path, {name: (_cpu_clone(lut), _cpu_clone(codes)) for name, (lut, codes) in sketch.items()})


def write_tuned_pickle(path: str | os.PathLike, tuned: Mapping[str, torch.Tensor]) -> None:
    """Writes a fine-tuned sketch (sketched_params.pkl): {module: quant_grid} with pickle.dump."""
    dump_pickle(path, {name: _cpu_clone(lut) for name, lut in tuned.items()})


def read_pickle_trusted(path: str | os.PathLike) -> dict:
    """pickle.load - ONLY for files this project generated itself (pickles are untrusted input)."""
    with open(path, "rb") as f:
        return pickle.load(f)


# ---------------------------------------------------------------------------------------------
# The training-time model

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
