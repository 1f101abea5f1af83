"""The peer benchmark as a picture: decode and prefill tok/s of sketchrt, llama.cpp Q4_0 and ONNX
Runtime int4, one panel per shape, from the last run in each results.jsonl.

    python3 -m sketchrt_ref.bench.peer_chart build/peers/tinyllama/results.jsonl \\
        build/peers/midsize/results.jsonl --svg validation/docs/peers_tok_s.svg

Bars are medians over the run's rounds, whiskers min to max. results.jsonl gathers every run of
peer_rounds; a run starts where the round number drops. The SVG is written by hand: the venv
has no plotting library.
"""

from __future__ import annotations

import argparse
import json
import statistics

RUNTIMES = ["sketchrt", "llama.cpp Q4_0", "ORT MatMulNBits int4"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c"]


def last_run(rows: list[dict]) -> list[dict]:
    """The rows of the last peer_rounds invocation: the rounds count up within a run."""
    start = 0
    for i in range(1, len(rows)):
        if rows[i]["round"] < rows[i - 1]["round"]:
            start = i
    return rows[start:]


def groups(rows: list[dict]) -> list[tuple[str, dict[str, list[float]]]]:
    """(label, runtime -> values) for decode (the shortest prompt's) and each prompt's prefill."""
    prompts = sorted({r["prompt"] for r in rows})
    out = [("decode", {n: [r["decode_tok_s"] for r in rows if r["runtime"] == n and r["prompt"] == prompts[0]
                           and r["decode_tok_s"] is not None] for n in RUNTIMES})]
    for p in prompts:
        out.append((f"prefill({p})", {n: [r["prefill_tok_s"] for r in rows if r["runtime"] == n and r["prompt"] == p]
                                      for n in RUNTIMES}))
    return out


def svg(panels: list[tuple[str, list[tuple[str, dict[str, list[float]]]]]]) -> str:
    """One panel per (title, groups): a bar per runtime and group, its min-max whisker."""
    w, h, pad, top = 420, 240, 50, 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{len(panels) * (w + 20)}" height="{h + 60}" '
           'font-family="sans-serif" font-size="11">']
    for k, (title, gs) in enumerate(panels):
        x0 = k * (w + 20)
        vmax = max([max(v) for _, by in gs for v in by.values() if v] + [1])
        out.append(f'<text x="{x0 + w / 2}" y="15" text-anchor="middle" font-size="13">{title}</text>')
        out.append(f'<line x1="{x0 + pad}" y1="{h}" x2="{x0 + w - 10}" y2="{h}" stroke="black"/>')
        out.append(f'<line x1="{x0 + pad}" y1="{h}" x2="{x0 + pad}" y2="{top}" stroke="black"/>')
        for t in range(5):
            y = h - (h - top) * t / 4
            out.append(f'<text x="{x0 + pad - 4}" y="{y + 4}" text-anchor="end">{vmax * t / 4:.3g}</text>')
        group = (w - pad - 10) / len(gs)
        bar = group * 0.8 / len(RUNTIMES)
        for i, (label, by) in enumerate(gs):
            gx = x0 + pad + i * group + group * 0.1
            out.append(f'<text x="{gx + group * 0.4}" y="{h + 14}" text-anchor="middle">{label}</text>')
            for j, n in enumerate(RUNTIMES):
                v = by.get(n) or []
                if not v:
                    continue
                bh = (h - top) * statistics.median(v) / vmax
                bx = gx + j * bar
                out.append(f'<rect x="{bx:.1f}" y="{h - bh:.1f}" width="{bar - 1:.1f}" height="{bh:.1f}" '
                           f'fill="{COLOURS[j]}"><title>{n} {label}: median {statistics.median(v):.1f}, '
                           f'min {min(v):.1f}, max {max(v):.1f} tok/s</title></rect>')
                lo, hi = (h - (h - top) * x / vmax for x in (min(v), max(v)))
                cx = bx + (bar - 1) / 2
                out.append(f'<line x1="{cx:.1f}" y1="{lo:.1f}" x2="{cx:.1f}" y2="{hi:.1f}" stroke="black"/>')
        out.append(f'<text x="{x0 + w / 2}" y="{h + 30}" text-anchor="middle">tok/s, higher is better</text>')
    for j, n in enumerate(RUNTIMES):
        out.append(f'<rect x="{10 + j * 170}" y="{h + 42}" width="10" height="10" fill="{COLOURS[j]}"/>')
        out.append(f'<text x="{24 + j * 170}" y="{h + 51}">{n}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="results.jsonl of each shape")
    ap.add_argument("--svg", required=True)
    a = ap.parse_args()
    panels = []
    for path in a.results:
        with open(path, encoding="utf-8") as f:
            rows = last_run([json.loads(line) for line in f if line.strip()])
        if not rows:
            raise SystemExit(f"peer_chart: {path} holds no results")
        rounds = max(r["round"] for r in rows)
        panels.append((f"{rows[0]['shape']} ({rounds} rounds, {rows[0]['threads']} threads)", groups(rows)))
    with open(a.svg, "w", encoding="utf-8") as f:
        f.write(svg(panels))
    print(f"peer_chart: wrote {a.svg}")


if __name__ == "__main__":
    main()
