"""Interleaved peer rounds: sketchrt vs llama.cpp Q4_0 vs ONNX Runtime MatMulNBits int4.

    python3 -m sketchrt_ref.bench.peer_rounds --shape NAME --dir build/peers/NAME \\
        --llama-bench LLAMA_CPP_DIR/build/bin/llama-bench --java JAVA --jar sketchrt.jar \\
        [--rounds 3] [--threads 2] [--prompts 32,64,512] [--new 16]

Called by validation/peers/run_peer_bench.sh once the models exist under --dir (sketchrt/,
q4_0.gguf, ort-int4/). Each round runs A = sketchrt (SketchKernelBench, --kernels near-exact, one
JVM per prompt length, --repeats 1 after its own warm-up), B = llama.cpp (llama-bench -r 1, which
warms up too), C = ORT int4 (ort_int4 bench --repeats 1 --warmup 1), in that order, every process
under /usr/bin/time -v for its peak RSS. Decode tok/s: sketchrt and ORT decode after the
--prompts[0]-token prompt (mean step time of new-1 steps); llama-bench's tg test decodes `new`
tokens from an empty context (this llama-bench has no depth option). Prefill tok/s: prompt length
/ time of the prompt forward. Raw results go to --dir/results.jsonl; the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
SKETCH_LINE = re.compile(r"^near-exact, (\d+) thread\(s\): load ([\d.]+) s; decode ([\d.]+) / [\d.]+ / [\d.]+ tok/s; "
                         r"prefill ([\d.]+) / [\d.]+ / [\d.]+ tok/s", re.M)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(cmd: list[str], cwd: str | None = None) -> tuple[str, int]:
    """stdout and peak RSS (kB) of cmd run under /usr/bin/time -v."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    m = RSS.search(p.stderr)
    return p.stdout, int(m.group(1)) if m else 0


def run_sketchrt(a, prompts: list[int]) -> list[dict]:
    out = []
    for p in prompts:
        # -XX:MaxNewSize=32m as the sketchrt launcher runs the JVM: G1's young generation would
        # otherwise grow to ~120 MB of touched (resident) pages
        stdout, rss = timed([a.java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                             "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-XX:MaxNewSize=32m", "-cp", a.jar,
                             "io.sketchrt.validation.bench.SketchKernelBench", "--model", os.path.join(a.dir, "sketchrt"),
                             "--threads", str(a.threads), "--kernels", "near-exact", "--prompt", str(p),
                             "--new", str(a.new), "--repeats", "1"])
        m = SKETCH_LINE.search(stdout)
        if not m:
            raise SystemExit("no result line in SketchKernelBench output:\n" + stdout[-2000:])
        out.append({"runtime": "sketchrt", "prompt": p, "prefill_tok_s": float(m.group(4)),
                    "decode_tok_s": float(m.group(3)), "peak_rss_mb": rss / 1024, "load_s": float(m.group(2))})
    return out


def run_llama(a, prompts: list[int]) -> list[dict]:
    stdout, rss = timed([a.llama_bench, "-m", os.path.join(a.dir, "q4_0.gguf"), "-t", str(a.threads),
                         "-p", ",".join(map(str, prompts)), "-n", str(a.new), "-r", "1", "-o", "json"])
    res = json.loads(stdout)
    dec = next(r["avg_ts"] for r in res if r["n_prompt"] == 0 and r["n_gen"] == a.new)
    out = []
    for p in prompts:
        pre = next(r["avg_ts"] for r in res if r["n_prompt"] == p and r["n_gen"] == 0)
        out.append({"runtime": "llama.cpp Q4_0", "prompt": p, "prefill_tok_s": pre,
                    "decode_tok_s": dec if p == prompts[0] else None, "peak_rss_mb": rss / 1024})
    return out


def run_ort(a, prompts: list[int]) -> list[dict]:
    stdout, rss = timed([sys.executable, "-m", "sketchrt_ref.bench.ort_int4", "bench",
                         os.path.join(a.dir, "ort-int4", "model.onnx"), "--prompts", ",".join(map(str, prompts)),
                         "--new", str(a.new), "--repeats", "1", "--warmup", "1", "--threads", str(a.threads)],
                        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    out = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            out.append({"runtime": "ORT MatMulNBits int4", "prompt": r["prompt"], "prefill_tok_s": r["prefill_tok_s"],
                        "decode_tok_s": r["decode_tok_s"], "peak_rss_mb": rss / 1024})
    return out


def spread(v: list[float], fmt: str) -> str:
    v = sorted(x for x in v if x is not None)
    if not v:
        return "-"
    return " / ".join(fmt % x for x in (v[0], statistics.median(v), v[-1]))


def table(shape: str, rows: list[dict], prompts: list[int], new: int, rounds: int, threads: int) -> str:
    names = ["sketchrt", "llama.cpp Q4_0", "ORT MatMulNBits int4"]
    head = (f"| {shape} ({rounds} rounds, {threads} threads) | decode tok/s ({new} new, min / median / max) | "
            + " | ".join(f"prefill({p}) tok/s" for p in prompts) + " | peak RSS MB (max) |")
    lines = [head, "|" + "---|" * (3 + len(prompts))]
    for n in names:
        rs = [r for r in rows if r["runtime"] == n]
        if not rs:
            continue
        dec = [r["decode_tok_s"] for r in rs if r["prompt"] == prompts[0]]
        pre = [spread([r["prefill_tok_s"] for r in rs if r["prompt"] == p], "%.1f") for p in prompts]
        lines.append(f"| {n} | {spread(dec, '%.2f')} | " + " | ".join(pre)
                     + f" | {max(r['peak_rss_mb'] for r in rs):.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--java", required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompts", default="32,64,512")
    ap.add_argument("--new", type=int, default=16)
    ap.add_argument("--only", default="sketchrt,llama,ort", help="comma list of sketchrt,llama,ort")
    a = ap.parse_args()
    prompts = [int(x) for x in a.prompts.split(",")]
    runners = {"sketchrt": run_sketchrt, "llama": run_llama, "ort": run_ort}
    start_load = loadavg()
    print(f"{a.shape}: {os.cpu_count()} CPUs, load average at start {start_load}", flush=True)
    rows = []
    t0 = time.time()
    with open(os.path.join(a.dir, "results.jsonl"), "a") as log:
        for rnd in range(1, a.rounds + 1):
            for key in a.only.split(","):
                res = runners[key](a, prompts)
                for r in res:
                    r.update({"shape": a.shape, "round": rnd, "threads": a.threads, "new": a.new,
                              "loadavg": loadavg(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
                    log.write(json.dumps(r) + "\n")
                rows += res
                print(f"  round {rnd} {key}: " + ", ".join(
                    f"p{r['prompt']} prefill {r['prefill_tok_s']:.1f}"
                    + (f" decode {r['decode_tok_s']:.2f}" if r["decode_tok_s"] else "") for r in res)
                    + f" tok/s, peak RSS {res[0]['peak_rss_mb']:.0f} MB, load {loadavg()} ({time.time() - t0:.0f} s)",
                    flush=True)
    print(f"{a.shape}: load average at end {loadavg()} (start {start_load})\n")
    print(table(a.shape, rows, prompts, a.new, a.rounds, a.threads))


if __name__ == "__main__":
    main()
