"""Load generator for OpenAI-compatible servers (`sketchrt serve`, llama.cpp's `llama-server`):
C concurrent clients, each streaming R completions of a random token-id prompt with a fixed
output length (ignore_eos), through the official `openai` client. Per concurrency level it
prints and appends to --out: generated tokens per second over the level's wall time, and time to
first token p50/p99 over its requests. Runs of several rounds (--round) are summed up as
min/median/max over the rounds.

  python3 serve_load.py --url http://127.0.0.1:8000/v1 --name sketchrt --round 1 --out results.jsonl
  python3 serve_load.py --chart results.jsonl --svg chart.svg --table table.md  # the README's
"""

import argparse
import json
import random
import statistics
import sys
import threading
import time

import openai


def one_request(client, model, prompt, new_tokens):
    start = time.perf_counter()
    first = None
    chunks = 0
    usage = None
    stream = client.completions.create(
        model=model,
        prompt=prompt,
        max_tokens=new_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        # llama-server would otherwise reuse a slot's cached prompt prefix; sketchrt ignores both
        extra_body={"ignore_eos": True, "cache_prompt": False},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices:
            chunks += 1
            if first is None:
                first = time.perf_counter()
    tokens = usage.completion_tokens if usage is not None else chunks
    return {"ttft": (first or time.perf_counter()) - start, "tokens": tokens}


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def level(args, concurrency, warm_up=False):
    client = openai.OpenAI(base_url=args.url, api_key=args.key, max_retries=0, timeout=600)
    # fresh prompts for every level, round and the warm-up, so no server sees one twice
    rnd = random.Random(f"{args.round}/{concurrency}/{warm_up}")
    prompts = [
        [rnd.randrange(3, args.vocab) for _ in range(args.prompt_tokens)]
        for _ in range(concurrency * args.requests)
    ]
    results, errors = [], []
    lock = threading.Lock()

    def client_loop(c):
        for r in range(args.requests):
            try:
                out = one_request(client, args.model, prompts[c * args.requests + r], args.new_tokens)
                with lock:
                    results.append(out)
            except Exception as e:  # counted and reported, not hidden
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttft = [r["ttft"] for r in results]
    row = {
        "server": args.name,
        "round": args.round,
        "concurrency": concurrency,
        "requests": len(results),
        "errors": len(errors),
        "prompt_tokens": args.prompt_tokens,
        "new_tokens": args.new_tokens,
        "tokens_per_s": sum(r["tokens"] for r in results) / wall,
        "ttft_p50_s": statistics.median(ttft) if ttft else None,
        "ttft_p99_s": percentile(ttft, 99) if ttft else None,
        "wall_s": wall,
        "load_avg_1m": round(__import__("os").getloadavg()[0], 2),  # other work on the machine
    }
    if errors:
        row["first_error"] = errors[0]
    return row


KEYS = ("tokens_per_s", "ttft_p50_s", "ttft_p99_s")


def medians(rows):
    """One row per (server, concurrency): the median of each figure over the rounds, with
    "<key>_range" = (min, max) beside it."""
    groups = {}
    for r in rows:
        groups.setdefault((r["server"], r["concurrency"]), []).append(r)
    out = []
    for (server, c), rs in sorted(groups.items()):
        m = {"server": server, "concurrency": c, "rounds": len(rs),
             "errors": sum(r["errors"] for r in rs)}
        for k in KEYS:
            vs = [r[k] for r in rs if r[k] is not None]
            m[k] = statistics.median(vs) if vs else 0.0
            m[k + "_range"] = (min(vs), max(vs)) if vs else (0.0, 0.0)
        out.append(m)
    return out


def table(rows, md_path):
    """Markdown: per level, each server's tokens/s and TTFT as median (min–max) over rounds."""
    ms = medians(rows)
    servers = sorted({m["server"] for m in ms})
    by = {(m["server"], m["concurrency"]): m for m in ms}
    lines = ["| clients | server | tokens/s | TTFT p50 s | TTFT p99 s | rounds | errors |",
             "|---|---|---|---|---|---|---|"]
    for c in sorted({m["concurrency"] for m in ms}):
        for s in servers:
            m = by.get((s, c))
            if m is None:
                continue
            cells = [f"{m[k]:.3g} ({m[k + '_range'][0]:.3g}–{m[k + '_range'][1]:.3g})" for k in KEYS]
            lines.append(f"| {c} | {s} | " + " | ".join(cells) + f" | {m['rounds']} | {m['errors']} |")
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def chart(rows, svg_path):
    """Two panels, hand-written SVG (no plotting library in the venv): tokens/s and TTFT p50
    (bars) with p99 (ticks) per concurrency, one colour per server; medians over the rounds."""
    rows = medians(rows)
    servers = sorted({r["server"] for r in rows})
    levels = sorted({r["concurrency"] for r in rows})
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    by = {(r["server"], r["concurrency"]): r for r in rows}
    w, h, pad = 360, 240, 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 20}" height="{h + 60}" '
           'font-family="sans-serif" font-size="11">']

    def panel(x0, title, value, extra=None):
        vmax = max([value(r) for r in rows] + ([extra(r) for r in rows] if extra else [])) or 1
        out.append(f'<text x="{x0 + w / 2}" y="15" text-anchor="middle" font-size="13">{title}</text>')
        base = h
        out.append(f'<line x1="{x0 + pad}" y1="{base}" x2="{x0 + w - 10}" y2="{base}" stroke="black"/>')
        out.append(f'<line x1="{x0 + pad}" y1="{base}" x2="{x0 + pad}" y2="25" stroke="black"/>')
        for k in range(5):
            v = vmax * k / 4
            y = base - (base - 25) * k / 4
            out.append(f'<text x="{x0 + pad - 4}" y="{y + 4}" text-anchor="end">{v:.3g}</text>')
        group = (w - pad - 10) / len(levels)
        bar = group * 0.8 / len(servers)
        for i, c in enumerate(levels):
            gx = x0 + pad + i * group + group * 0.1
            out.append(f'<text x="{gx + group * 0.4}" y="{base + 14}" text-anchor="middle">{c}</text>')
            for j, s in enumerate(servers):
                r = by.get((s, c))
                if r is None:
                    continue
                v = value(r)
                bh = (base - 25) * v / vmax
                out.append(f'<rect x="{gx + j * bar}" y="{base - bh}" width="{bar - 1}" height="{bh}" '
                           f'fill="{colours[j % len(colours)]}"/>')
                if extra:
                    y = base - (base - 25) * extra(r) / vmax
                    out.append(f'<line x1="{gx + j * bar}" y1="{y}" x2="{gx + (j + 1) * bar - 1}" y2="{y}" '
                               'stroke="black" stroke-width="2"/>')
        out.append(f'<text x="{x0 + w / 2}" y="{base + 30}" text-anchor="middle">concurrent clients</text>')

    panel(0, "generated tokens/s (higher is better)", lambda r: r["tokens_per_s"])
    panel(w + 20, "TTFT s: p50 bar, p99 tick (lower is better)", lambda r: r["ttft_p50_s"],
          lambda r: r["ttft_p99_s"])
    for j, s in enumerate(servers):
        out.append(f'<rect x="{10 + j * 150}" y="{h + 42}" width="10" height="10" fill="{colours[j % len(colours)]}"/>')
        out.append(f'<text x="{24 + j * 150}" y="{h + 51}">{s}</text>')
    out.append("</svg>")
    with open(svg_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url")
    p.add_argument("--name", default="server")
    p.add_argument("--key", default="none")
    p.add_argument("--model", default="default")
    p.add_argument("--concurrency", default="1,4,16,32")
    p.add_argument("--requests", type=int, default=2, help="requests per client per level")
    p.add_argument("--prompt-tokens", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--round", type=int, default=1, help="recorded with each row")
    p.add_argument("--out")
    p.add_argument("--chart", help="a results .jsonl to draw")
    p.add_argument("--svg")
    p.add_argument("--table", help="with --chart: also write the min/median/max table here")
    args = p.parse_args()
    if args.chart:
        with open(args.chart, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        chart(rows, args.svg)
        if args.table:
            table(rows, args.table)
        return
    level(args, 1, warm_up=True)  # not recorded
    for c in [int(x) for x in args.concurrency.split(",")]:
        row = level(args, c)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        if row["errors"]:
            print(f"serve_load: {row['errors']} requests failed: {row['first_error']}", file=sys.stderr)


if __name__ == "__main__":
    main()
