"""SketchTune-style sketching of one dense weight: per-(row, group) LUTs and 4-bit codes."""

from __future__ import annotations

import torch

from .codes import pack_codes


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
