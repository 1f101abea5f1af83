"""Re-derives every committed golden from its fixture's files and compares (exit 1 on a mismatch).

    python3 validation/reference/check_fixtures.py [--root testdata/fixtures]

Checks per fixture: tuned and untuned logits against golden.safetensors, the KV-cache path against
the uncached one, and that greedy decoding from greedy_prompt yields greedy_tokens."""

from __future__ import annotations

import argparse
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sketchtune_ref as ref  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


def check_gather(sketch: dict) -> int:
    """gather_weight against DESIGN section 2 written out element by element (sampled)."""
    gen = torch.Generator().manual_seed(0)
    bad = 0
    for name, (lut, codes) in sketch.items():
        lut3 = lut if lut.dim() == 3 else lut.unsqueeze(1)
        codes3 = codes if codes.dim() == 3 else codes.unsqueeze(1)
        n_rows, groups, half = codes3.shape
        k_cols = groups * half * 2
        w = ref.gather_weight(lut, codes)
        for _ in range(64):
            n = int(torch.randint(n_rows, (1,), generator=gen))
            k = int(torch.randint(k_cols, (1,), generator=gen))
            g, j = divmod(k, k_cols // groups)
            byte = int(codes3[n, g, j // 2])
            code = byte >> 4 if j % 2 == 0 else byte & 0xF  # high nibble = even column
            bad += int(w[n, k].item() != lut3[n, g, code].item())
    return bad


@torch.no_grad()
def check(fixture: str) -> list[str]:
    g = load_file(os.path.join(fixture, "golden.safetensors"))
    hf, sketch = os.path.join(fixture, "hf"), os.path.join(fixture, "sketch.pkl")
    problems = []
    mismatches = check_gather(ref.read_pickle_trusted(sketch))
    if mismatches:
        problems.append(f"gather_weight disagrees with the element-wise definition {mismatches} times")
    model = ref.load_training_time_model(hf, sketch, os.path.join(fixture, "tuned"))
    logits = ref.forward_logits(model, g["input_ids"])
    r = rel(logits, g["logits"])
    if r > 1e-6:
        problems.append(f"tuned logits rel err {r:.2e}")
    ids = g["input_ids"]
    out = model(input_ids=ids[:, :7], use_cache=True)
    step = model(input_ids=ids[:, 7:], past_key_values=out.past_key_values, use_cache=True)
    kv = float((torch.cat([out.logits, step.logits], 1).float() - logits).abs().max())
    if kv > 1e-4:
        problems.append(f"KV-cache logits differ by {kv:.2e}")
    tokens = ref.greedy(model, g["greedy_prompt"], g["greedy_tokens"].numel())
    if not torch.equal(tokens, g["greedy_tokens"]):
        problems.append(f"greedy {tokens.tolist()} != golden {g['greedy_tokens'].tolist()}")
    base = ref.load_training_time_model(hf, sketch, None)
    r0 = rel(ref.forward_logits(base, ids), g["logits_untuned"])
    if r0 > 1e-6:
        problems.append(f"untuned logits rel err {r0:.2e}")
    print(f"{os.path.basename(fixture)}: tuned rel {r:.1e}, untuned rel {r0:.1e}, kv max {kv:.1e}, "
          f"greedy {'ok' if not problems else 'see below'}")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", default=os.path.join(REPO, "testdata", "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    failed = False
    for name in sorted(os.listdir(args.root)):
        for p in check(os.path.join(args.root, name)):
            print(f"  FAIL {name}: {p}")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
