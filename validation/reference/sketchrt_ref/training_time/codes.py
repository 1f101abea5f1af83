"""4-bit code packing and the training-time gather (DESIGN.md section 2).

Codes sit two per byte, the high nibble holding the even column; each row's K columns are split
into G contiguous groups with their own 2^bits-entry LUT (quant_grid)."""

from __future__ import annotations

import torch


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


def as_3d(quant_grid: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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
    quant_grid, codes = as_3d(quant_grid, codes)
    n, g, entries = quant_grid.shape
    idx = unpack_codes(codes)  # [N, K]
    k = idx.shape[1]
    if int(idx.max()) >= entries:
        raise ValueError(f"a code is >= the LUT size {entries}")
    idx = idx.reshape(n, g, k // g)
    return torch.gather(quant_grid, 2, idx).reshape(n, k)
