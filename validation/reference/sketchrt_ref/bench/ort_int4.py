"""ONNX Runtime MatMulNBits int4 peer of sketchrt (validation/peers/run_peer_bench.sh).

    python3 -m sketchrt_ref.bench.ort_int4 quantize SKETCHRT_DIR OUT_DIR   # fold + MatMulNBits int4
    python3 -m sketchrt_ref.bench.ort_int4 bench OUT_DIR/model.onnx --prompts 32,64,512 --new 16

quantize: loads a `sketchrt convert` output (model.onnx whose SketchMatMul / DenseMatMul nodes are
model-local functions), lets ONNX Runtime inline and constant-fold them (ORT_ENABLE_BASIC, written
with optimized_model_filepath), so every sketched linear becomes a MatMul with a dense fp32
constant (gather(tuned LUT, codes): the very weights the sketch encodes), then quantises every
MatMul with a constant B - the sketched linears and lm_head - with MatMulNBitsQuantizer (4 bits,
block 32, symmetric, accuracy_level 4 = int8 activations). Embeddings stay fp32 (a Gather).

bench: greedy decode over the int4 session with the standard feed (input_ids, attention_mask,
position_ids, past_key_values.*, num_logits_to_keep=1), 2 intra-op threads by default. For each
prompt length: one warm-up, then `--repeats` runs; prefill tok/s = prompt / time of the prompt
forward, decode tok/s = 1 / mean time of one decode step (new - 1 steps: the first new token comes
from the prefill, as in sketchrt's GenerationResult). Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def pin_lut_index(m, src_dir: str, out_dir: str) -> str:
    """Graph m (loaded from src_dir without its weights) written to out_dir as pinned.onnx, beside a
    hard link to its weights (ORT refuses a symbolic link that leaves the model's folder), with
    sketchrt's `lut_index` input made its default constant: the peer runs the graph's own LUTs and
    has no set to select. num_logits_to_keep stays an input (the bench feeds 1, so prefill computes
    only the last position's logits, as sketchrt's does). The fold of the sketched weights does not
    need the pin: they depend on codes and LUTs only."""
    import onnx

    inits = {i.name for i in m.graph.initializer}
    pinned = [i for i in m.graph.input if i.name == "lut_index" and i.name in inits]
    for i in pinned:
        m.graph.input.remove(i)
    data = os.path.join(os.path.abspath(src_dir), "model.onnx.data")
    link = os.path.join(out_dir, "model.onnx.data")
    if os.path.lexists(link):
        os.remove(link)
    try:
        os.link(data, link)
    except OSError:  # another filesystem
        import shutil
        shutil.copyfile(data, link)
    out = os.path.join(out_dir, "pinned.onnx")
    onnx.save(m, out)
    print(f"pinned to their defaults: {[i.name for i in pinned]}", flush=True)
    return out


def fold(src_model: str, out_model: str) -> None:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = out_model
    so.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                os.path.basename(out_model) + ".data")
    so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    so.intra_op_num_threads = 2
    ort.InferenceSession(src_model, so, providers=["CPUExecutionProvider"])


def gemm_to_matmul(m) -> int:
    """The inlined function bodies compute x2d @ W^T as Gemm(transB=1) with W [N, K] constant;
    MatMulNBitsQuantizer only quantises MatMul, so rewrite each to MatMul(x2d, W^T constant)."""
    from onnx import helper, numpy_helper

    inits = {i.name: i for i in m.graph.initializer}
    count = 0
    for idx, n in enumerate(list(m.graph.node)):
        if n.op_type != "Gemm" or len(n.input) < 2 or n.input[1] not in inits:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        has_c = len(n.input) > 2 and n.input[2] != ""
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or has_c:
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        if attrs.get("transB", 0):
            w = w.T
        name = n.input[1] + "_kn"
        m.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w), name))
        m.graph.node.remove(n)
        m.graph.node.insert(idx, helper.make_node("MatMul", [n.input[0], name], list(n.output), name=n.name or f"gemm_mm_{idx}"))
        count += 1
    used = {i for n in m.graph.node for i in n.input}
    keep = [i for i in m.graph.initializer if i.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    return count


def quantize(sketchrt_dir: str, out_dir: str, block_size: int = 32, accuracy_level: int = 4) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    folded = os.path.join(out_dir, "folded.onnx")
    src = onnx.load(os.path.join(sketchrt_dir, "model.onnx"), load_external_data=False)
    sketched = sum(1 for n in src.graph.node if n.op_type in ("SketchMatMul", "DenseMatMul"))
    pinned = pin_lut_index(src, sketchrt_dir, out_dir)
    fold(pinned, folded)
    os.remove(pinned)
    os.remove(os.path.join(out_dir, "model.onnx.data"))
    m = onnx.load(folded, load_external_data=False)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    left = {k: v for k, v in ops.items() if k in ("SketchMatMul", "DenseMatMul")}
    if left:
        raise SystemExit(f"ORT did not inline/fold {left}: the folded graph still has them")
    print(f"folded in {time.time() - t0:.0f} s: {ops.get('MatMul', 0)} MatMul nodes", flush=True)
    m = onnx.load(folded)  # with the fp32 weights
    rewritten = gemm_to_matmul(m)
    print(f"{rewritten} Gemm(transB=1) nodes rewritten to MatMul", flush=True)
    if rewritten + ops.get("MatMul", 0) < sketched:
        raise SystemExit(f"ORT folded only {rewritten + ops.get('MatMul', 0)} of the {sketched} sketched/dense "
                         "linears into constant weights: the int4 peer would run the rest in fp32")
    q = MatMulNBitsQuantizer(m, bits=4, block_size=block_size, is_symmetric=True, accuracy_level=accuracy_level)
    q.process()
    out = os.path.join(out_dir, "model.onnx")
    q.model.save_model_to_file(out, use_external_data_format=True)
    del m, q
    os.remove(folded)
    os.remove(folded + ".data")
    mq = onnx.load(out, load_external_data=False)
    nb = sum(1 for n in mq.graph.node if n.op_type == "MatMulNBits")
    mm = sum(1 for n in mq.graph.node if n.op_type == "MatMul")
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"int4 model {out}: {nb} MatMulNBits (block {block_size}, accuracy_level {accuracy_level}, symmetric), "
          f"{mm} MatMul left, {size / 1e6:.0f} MB on disk, {time.time() - t0:.0f} s total", flush=True)


class Int4Model:
    def __init__(self, path: str, threads: int):
        import onnx
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.add_session_config_entry("session.intra_op.allow_spinning", "1")
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        meta = onnx.load(path, load_external_data=False)
        self.past = [i for i in meta.graph.input if i.name.startswith("past_key_values.")]
        dims = self.past[0].type.tensor_type.shape.dim
        self.kv_heads, self.head_dim = dims[1].dim_value, dims[3].dim_value
        self.inputs = {i.name for i in meta.graph.input}
        self.outputs = [o.name for o in self.sess.get_outputs()]
        self.vocab = self.sess.get_outputs()[0].shape[-1]

    def step(self, ids: np.ndarray, past: dict, pos0: int):
        n = ids.shape[1]
        feed = {"input_ids": ids,
                "attention_mask": np.ones((1, pos0 + n), dtype=np.int64),
                "position_ids": np.arange(pos0, pos0 + n, dtype=np.int64)[None, :]}
        if "num_logits_to_keep" in self.inputs:
            feed["num_logits_to_keep"] = np.array(1, dtype=np.int64)
        feed.update(past)
        res = self.sess.run(self.outputs, feed)
        new_past = {}
        for name, v in zip(self.outputs[1:], res[1:]):
            new_past[name.replace("present.", "past_key_values.")] = v
        return res[0][0, -1], new_past

    def generate(self, prompt: np.ndarray, new: int):
        past = {i.name: np.zeros((1, self.kv_heads, 0, self.head_dim), dtype=np.float32) for i in self.past}
        t0 = time.perf_counter()
        logits, past = self.step(prompt[None, :], past, 0)
        tok = int(np.argmax(logits))
        t1 = time.perf_counter()
        tokens = [tok]
        for i in range(new - 1):
            logits, past = self.step(np.array([[tok]], dtype=np.int64), past, len(prompt) + i)
            tok = int(np.argmax(logits))
            tokens.append(tok)
        t2 = time.perf_counter()
        return t1 - t0, (t2 - t1) / max(new - 1, 1), tokens


def bench(path: str, prompts: list[int], new: int, repeats: int, threads: int, warmup: int) -> None:
    t0 = time.time()
    model = Int4Model(path, threads)
    load = time.time() - t0
    rng = np.random.default_rng(2025)
    for p in prompts:
        prompt = rng.integers(3, model.vocab, size=p, dtype=np.int64)
        for _ in range(warmup):
            model.generate(prompt, new)
        for r in range(repeats):
            pre, dec, _ = model.generate(prompt, new)
            print(json.dumps({"runtime": "ort-int4", "prompt": p, "new": new, "threads": threads, "repeat": r,
                              "prefill_tok_s": p / pre, "decode_tok_s": 1 / dec, "load_s": load,
                              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python3 -m sketchrt_ref.bench.ort_int4", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quantize")
    q.add_argument("sketchrt_dir")
    q.add_argument("out_dir")
    q.add_argument("--block-size", type=int, default=32)
    q.add_argument("--accuracy-level", type=int, default=4)
    b = sub.add_parser("bench")
    b.add_argument("model")
    b.add_argument("--prompts", default="32,64,512")
    b.add_argument("--new", type=int, default=16)
    b.add_argument("--repeats", type=int, default=1)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.cmd == "quantize":
        quantize(a.sketchrt_dir, a.out_dir, a.block_size, a.accuracy_level)
    else:
        bench(a.model, [int(x) for x in a.prompts.split(",")], a.new, a.repeats, a.threads, a.warmup)


if __name__ == "__main__":
    sys.exit(main())
