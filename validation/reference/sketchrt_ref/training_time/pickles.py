"""Sketch pickles written with plain pickle.dump of torch tensors, as SketchTune writes them."""

from __future__ import annotations

import os
import pickle
import re
from typing import Mapping

import torch


def cpu_clone(t: torch.Tensor) -> torch.Tensor:
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
    dump_pickle(path, {name: (cpu_clone(lut), cpu_clone(codes)) for name, (lut, codes) in sketch.items()})


def write_tuned_pickle(path: str | os.PathLike, tuned: Mapping[str, torch.Tensor]) -> None:
    """Writes a fine-tuned sketch (sketched_params.pkl): {module: quant_grid} with pickle.dump."""
    dump_pickle(path, {name: cpu_clone(lut) for name, lut in tuned.items()})


def read_pickle_trusted(path: str | os.PathLike) -> dict:
    """pickle.load - ONLY for files this project generated itself (pickles are untrusted input)."""
    with open(path, "rb") as f:
        return pickle.load(f)
