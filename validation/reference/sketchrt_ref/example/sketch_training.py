"""Training pieces of the bundled example: dense pre-training, SketchTune-style LUT fine-tuning, greedy eval.

LUT fine-tuning follows SketchTune: every decoder linear becomes a sketch whose codes are frozen
buffers and whose quant_grid (the LUT) is the only trainable parameter; the layer computes
Y = X @ gather(quant_grid, codes)^T, so gradients reach the LUT entries through the gather.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .. import training_time as ref
from .arith import EOS_ID, ProblemStream, encode

SKETCHED_SUFFIXES = (
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
)


class TrainableSketchLinear(nn.Module):
    """A sketched linear layer as SketchTune trains it: frozen codes, trainable LUT."""

    def __init__(self, quant_grid: torch.Tensor, codes: torch.Tensor):
        super().__init__()
        # fp32 master copy of the LUT; it is written out in bf16 as SketchTune's checkpoints are.
        self.quant_grid = nn.Parameter(quant_grid.detach().to(torch.float32).clone())
        self.register_buffer("codes", codes.clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = ref.gather_weight(self.quant_grid, self.codes)  # [N, K], differentiable in the LUT
        return x @ w.to(x.dtype).t()


def sketched_module_names(model) -> list[str]:
    return [name for name, _ in model.named_modules() if name.endswith(SKETCHED_SUFFIXES)]


def install_sketches(model, sketch: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> dict[str, TrainableSketchLinear]:
    """Replaces each sketched nn.Linear by a TrainableSketchLinear; everything else is frozen."""
    model.requires_grad_(False)
    installed = {}
    for name, (lut, codes) in sketch.items():
        parent_name, _, child = name.rpartition(".")
        layer = TrainableSketchLinear(lut, codes)
        setattr(model.get_submodule(parent_name), child, layer)
        installed[name] = layer
    return installed


def _lr(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def train(model, params, stream: ProblemStream, steps: int, batch: int, lr: float, weight_decay: float,
          label: str, log_every: int = 100) -> float:
    """AdamW on `params` for `steps` steps; returns the last logged mean loss."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    model.train()
    start, running, last = time.time(), 0.0, float("nan")
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, lr, warmup=max(1, steps // 20))
        ids, labels = stream.batch(batch)
        loss = model(input_ids=ids, labels=labels, use_cache=False).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        running += loss.item()
        if (step + 1) % log_every == 0:
            last = running / log_every
            print(f"[{label}] step {step + 1}/{steps} loss {last:.4f} ({time.time() - start:.0f}s)", flush=True)
            running = 0.0
    model.eval()
    return last


@torch.no_grad()
def greedy_answers(model, tok, prompts: list[str], max_new: int) -> list[tuple[str, list[int], bool]]:
    """Greedy decode until EOS (or max_new tokens) for each prompt: (answer text, generated ids, hit EOS).

    Prompts of equal length are decoded together (no padding), recomputing the whole sequence
    each step; the generated ids include the EOS when one was produced."""
    model.eval()
    results: dict[int, tuple[str, list[int], bool]] = {}
    by_len: dict[int, list[int]] = {}
    encoded = [encode(tok, p) for p in prompts]
    for i, ids in enumerate(encoded):
        by_len.setdefault(len(ids), []).append(i)
    for idx in by_len.values():
        seq = torch.tensor([encoded[i] for i in idx], dtype=torch.int64)
        gen = [[] for _ in idx]
        done = [False] * len(idx)
        for _ in range(max_new):
            nxt = model(input_ids=seq, use_cache=False).logits[:, -1].float().argmax(-1)
            for r, t in enumerate(nxt.tolist()):
                if not done[r]:
                    gen[r].append(t)
                    done[r] = t == EOS_ID
            if all(done):
                break
            seq = torch.cat([seq, nxt[:, None]], dim=1)
        for r, i in enumerate(idx):
            body = gen[r][:-1] if done[r] else gen[r]
            results[i] = (tok.decode(body, skip_special_tokens=False), gen[r], done[r])
    return [results[i] for i in range(len(prompts))]


def accuracy(answers: list[tuple[str, list[int], bool]], problems: list[tuple[str, str]]) -> float:
    """Exact match: the answer text equals the expected digits and generation stopped at EOS."""
    hits = sum(1 for (text, _, eos), (_, want) in zip(answers, problems) if eos and text == want)
    return hits / len(problems)
