"""Tables and the decode-vs-context picture from validation/run_benchmarks.sh's results.

    python3 -m sketchrt_ref.bench.report build/bench

Reads java_MODEL.json / py_MODEL.json (and the /usr/bin/time -v logs beside them), writes
report.md and decode_vs_context.png into the same folder and prints report.md. The picture needs
matplotlib; without it the tables are still written and the script says so.
"""

from __future__ import annotations

import json
import os
import re
import sys

LABELS = {
    "arith": "examples/arith (bundled)",
    "llama3": "llama3_gqa_g4_bf16 (fixture)",
    "stories260K": "stories260K",
    "tinyllama": "TinyLlama-1.1B-shaped",
}


def load(folder: str, name: str):
    path = os.path.join(folder, name)
    return json.load(open(path)) if os.path.exists(path) else None


def peak_rss_mb(folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return "-"
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return f"{int(m.group(1)) / 1024:.0f}" if m else "-"


def speedup(java: dict, py: dict | None, phase: str) -> float | None:
    """Java tokens/s over Python tokens/s for 'prefill' or 'decode'; None without a Python run."""
    return java[phase]["tokens_per_s"] / py[phase]["tokens_per_s"] if py else None


def times(x: float | None) -> str:
    return f"{x:.1f}x" if x is not None else "-"


def fmt(x: float | None, digits: int = 1) -> str:
    return f"{x:.{digits}f}" if x is not None else "not measured"


def collect(folder: str) -> tuple[list[str], list[str], list[tuple[str, dict, dict | None]]]:
    """Table rows (speed, decode vs context) and (label, java, python) per model with a Java result."""
    rows, ctx_rows, models = [], [], []
    for key, label in LABELS.items():
        j, p = load(folder, f"java_{key}.json"), load(folder, f"py_{key}.json")
        if j is None:
            continue
        pp = p["prefill"]["tokens_per_s"] if p else None
        pd = p["decode"]["tokens_per_s"] if p else None
        rows.append(f"| {label} | {j['prefill']['tokens']} / {j['decode']['new_tokens']} | {fmt(j['prefill']['tokens_per_s'])} "
                    f"| {fmt(pp)} | {times(speedup(j, p, 'prefill'))} | {fmt(j['decode']['tokens_per_s'])} | {fmt(pd, 2)} "
                    f"| {times(speedup(j, p, 'decode'))} | {peak_rss_mb(folder, f'java_{key}.time')} "
                    f"| {peak_rss_mb(folder, f'py_{key}.time')} |")
        py_ctx = {c["context"]: c["ms_per_token"] for c in (p["contexts"] if p else [])}
        for c in j["contexts"]:
            ctx_rows.append(f"| {label} | {c['context']} | {c['ms_per_token']:.3f} | {fmt(py_ctx.get(c['context']), 3)} |")
        models.append((label, j, p))
    return rows, ctx_rows, models


def render(rows: list[str], ctx_rows: list[str]) -> str:
    """report.md: the speed table, then decode ms/token by context."""
    return "\n".join([
        "| model | prompt / new tokens | prefill tok/s Java | prefill tok/s Python | ratio | decode tok/s Java "
        "| decode tok/s Python | ratio | peak RSS MB Java | peak RSS MB Python |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        "| model | context | Java decode ms/token | Python decode ms/token |", "|---|---|---|---|", *ctx_rows, ""])


def main() -> None:
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: python3 -m sketchrt_ref.bench.report RESULTS_DIR (validation/run_benchmarks.sh writes build/bench)")
    folder = sys.argv[1]
    rows, ctx_rows, models = collect(folder)
    if not rows:
        sys.exit(f"bench_report: no java_*.json in {folder}")
    report = render(rows, ctx_rows)
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(report)
    print(report)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: matplotlib is not installed, so no picture (pip install matplotlib)")
        return
    draw(plt, models, os.path.join(folder, "decode_vs_context.png"))


def draw(plt, models: list[tuple[str, dict, dict | None]], png: str) -> None:
    """Decode ms/token against context (left) and the Java/Python speed-ups (right)."""
    fig, (ctx_ax, ratio_ax) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    for i, (label, j, p) in enumerate(models):
        color = f"C{i}"
        ctx_ax.plot([c["context"] for c in j["contexts"]], [c["ms_per_token"] for c in j["contexts"]], "o-", color=color,
                    label=f"{label}: Java")
        if p and p["contexts"]:
            ctx_ax.plot([c["context"] for c in p["contexts"]], [c["ms_per_token"] for c in p["contexts"]], "s--", color=color,
                        alpha=0.7, label=f"{label}: Python")
        elif p:  # no context sweep: its decode figure, taken just after the prompt
            ctx_ax.plot([p["decode"]["prompt_tokens"]], [p["decode"]["ms_per_token"]], "s", color=color, alpha=0.7,
                        label=f"{label}: Python (decode after {p['decode']['prompt_tokens']}-token prompt)")
    ctx_ax.set_xscale("log", base=2)
    ctx_ax.set_yscale("log")
    ctx_ax.set_xlabel("context (tokens already in the KV cache)")
    ctx_ax.set_ylabel("decode ms/token (log)")
    ctx_ax.set_title("Decode time per token vs context: Java (solid) vs Python reference (dashed)", fontsize=9)
    ctx_ax.grid(alpha=0.3, which="both")
    ctx_ax.set_ylim(top=ctx_ax.get_ylim()[1] * 300)  # room for the legend above the curves
    ctx_ax.legend(fontsize=6.5, loc="upper right", ncol=2)
    compared = [(label, j, p) for label, j, p in models if p]
    names = [label for label, _, _ in compared]
    pre = [speedup(j, p, "prefill") for _, j, p in compared]
    dec = [speedup(j, p, "decode") for _, j, p in compared]
    xs = range(len(names))
    ratio_ax.bar([x - 0.2 for x in xs], pre, 0.4, label="prefill")
    ratio_ax.bar([x + 0.2 for x in xs], dec, 0.4, label="decode")
    for x, (a, b) in enumerate(zip(pre, dec)):
        ratio_ax.text(x - 0.2, a, f"{a:.1f}x", ha="center", va="bottom", fontsize=7)
        ratio_ax.text(x + 0.2, b, f"{b:.1f}x", ha="center", va="bottom", fontsize=7)
    ratio_ax.set_xticks(list(xs), [n.split(" (")[0] for n in names], fontsize=7)
    ratio_ax.set_yscale("log")
    ratio_ax.axhline(1, color="k", lw=0.8)
    ratio_ax.set_ylabel("Java tokens/s / Python tokens/s (log)")
    ratio_ax.set_title("Speed-up of the Java runtime over the Python reference", fontsize=9)
    ratio_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"picture: {png}")


if __name__ == "__main__":
    main()
