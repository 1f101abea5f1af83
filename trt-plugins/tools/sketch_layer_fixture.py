#!/usr/bin/env python3
"""SketchMatMul layer fixtures for run_trt_checks.sh, and the comparison of TensorRT's outputs.

  make     --out DIR --n N --k K [--groups G] [--bits B] [--layers L] [--bias] [--dtype fp16|fp32]
           [--rows 1,16,512] [--seed S] [--no-reference]
      DIR/sketch.onnx  L chained SketchMatMul nodes (domain ai.sketchrt, plugin_namespace "", the
                       model-local function as the converter writes it), X [batch, seq, K]
      DIR/dense.onnx   the same layers as dense MatMul with W = gather(lut, codes) in fp16/fp32
      DIR/x_M.bin      X [1, M, K] raw bytes in the activation dtype (trtexec --loadInputs=X:...)
      DIR/ort_M.npy    ONNX Runtime CPU's Y for sketch.onnx (the function, inlined by ORT)
      DIR/exact_M.npy  float64 reference (numpy), only for L = 1
  compare  --trt OUT.json --dir DIR --rows M [--dtype fp16]
      reads trtexec --exportOutput, prints ||y - ref|| / ||ref|| against ORT CPU and float64, exits 1
      past DESIGN §5's tolerance (fp16 2e-3 vs float64; 4e-3 vs ORT's own fp16 result).
  timing   --log TRTEXEC.log
      prints trtexec's "GPU Compute Time" min, median and max in milliseconds.
  shapes   --model model.onnx [--max-batch B] [--max-seq S] [--max-past P]
      prints trtexec's --minShapes, --optShapes and --maxShapes values for a sketchrt decoder graph
      (input_ids, attention_mask, position_ids, past_key_values.*), one per line.
  self-check
      CPU only: builds small fixtures, checks ORT CPU against the float64 reference and the dense
      model, and that `compare` accepts a faithful output and rejects a perturbed one.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import onnxruntime as ort
except ImportError as e:  # ctest reads exit code 77 as "skipped"
    print(f"SKIPPED: python module missing: {e.name} (pip install numpy onnx onnxruntime)")
    sys.exit(77)

OPSET = 21
IR_VERSION = 10  # accepted by ONNX Runtime 1.2x and TensorRT 10/11's parser
DOMAIN = "ai.sketchrt"
TOL_EXACT = {"fp16": 2e-3, "fp32": 1e-5}
TOL_ORT = {"fp16": 4e-3, "fp32": 2e-5}
NP_DTYPE = {"fp16": np.float16, "fp32": np.float32}
ONNX_DTYPE = {"fp16": TensorProto.FLOAT16, "fp32": TensorProto.FLOAT}


def function_proto():
    """The converter's model-local function (converter/.../ops/SketchMatMul.java), standard ops only."""
    def const(name, array):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))

    body = [
        const("shifts", np.array([4, 0], np.uint8)),
        const("low_nibble", np.array(15, np.uint8)),
        const("last_axis", np.array([-1], np.int64)),
        const("shape_n_g_rest", np.array([0, 0, -1], np.int64)),
        const("shape_n_rest", np.array([0, -1], np.int64)),
        helper.make_node("Cast", ["codes"], ["u"], to=TensorProto.UINT8),
        helper.make_node("Unsqueeze", ["u", "last_axis"], ["u_1"]),
        helper.make_node("BitShift", ["u_1", "shifts"], ["shifted"], direction="RIGHT"),
        helper.make_node("BitwiseAnd", ["shifted", "low_nibble"], ["nibbles"]),
        helper.make_node("Reshape", ["nibbles", "shape_n_g_rest"], ["idx_u8"]),
        helper.make_node("Cast", ["idx_u8"], ["idx"], to=TensorProto.INT32),
        helper.make_node("GatherElements", ["lut", "idx"], ["w_grouped"], axis=2),
        helper.make_node("Reshape", ["w_grouped", "shape_n_rest"], ["w"]),
        helper.make_node("Flatten", ["X"], ["x_2d"], axis=-1),
        helper.make_node("Gemm", ["x_2d", "w", "bias"], ["y_2d"], transB=1),
        helper.make_node("Shape", ["X"], ["lead_dims"], end=-1),
        helper.make_node("Shape", ["codes"], ["n_dim"], end=1),
        helper.make_node("Concat", ["lead_dims", "n_dim"], ["y_shape"], axis=0),
        helper.make_node("Reshape", ["y_2d", "y_shape"], ["Y"]),
    ]
    return helper.make_function(DOMAIN, "SketchMatMul", ["X", "codes", "lut", "bias"], ["Y"], body,
                                [helper.make_opsetid("", OPSET)],
                                attributes=["bits", "groups", "K", "N", "plugin_namespace"])


def random_layer(rng, n, k, groups, bits, dtype, bias):
    """codes uint8 [N, G, K/G/2] (high nibble = even column), lut [N, G, 2^bits] scaled so |Y| ~ |X|."""
    kg = k // groups
    codes = rng.integers(0, 1 << bits, size=(n, groups, kg), dtype=np.uint8)
    packed = (codes[..., 0::2] << 4) | codes[..., 1::2]
    lut = rng.uniform(-1, 1, size=(n, groups, 1 << bits)) * np.sqrt(3.0 / k)
    lut[np.abs(lut) < 1e-4] = 1e-3  # never zeros (DESIGN §5)
    lut = lut.astype(NP_DTYPE[dtype])
    b = rng.uniform(-0.5, 0.5, size=(n,)).astype(NP_DTYPE[dtype]) if bias else None
    return packed, lut, b


def dense_weight(packed, lut):
    """W [N, K] = gather(lut, codes) in the LUT dtype, as SketchTune materialises it."""
    n, groups, half = packed.shape
    idx = np.stack([packed >> 4, packed & 15], axis=-1).reshape(n, groups, 2 * half)
    return np.take_along_axis(lut, idx.astype(np.int64), axis=2).reshape(n, -1)


def build_models(layers, k, dtype, out_dir):
    t = ONNX_DTYPE[dtype]
    x = helper.make_tensor_value_info("X", t, ["batch", "seq", k])
    sketch_nodes, dense_nodes, sketch_inits, dense_inits = [], [], [], []
    cur = "X"
    for i, (packed, lut, bias) in enumerate(layers):
        n = lut.shape[0]
        groups, bits = lut.shape[1], int(np.log2(lut.shape[2]))
        name = f"/model/layers.{i}/SketchMatMul"
        out = "Y" if i == len(layers) - 1 else f"{name}/output_0"
        inputs = [cur, f"codes_{i}", f"lut_{i}"] + ([f"bias_{i}"] if bias is not None else [])
        sketch_inits += [numpy_helper.from_array(packed.view(np.int8), f"codes_{i}"),
                         numpy_helper.from_array(lut, f"lut_{i}")]
        sketch_nodes.append(helper.make_node("SketchMatMul", inputs, [out], name=name, domain=DOMAIN, bits=bits,
                                             groups=groups, K=2 * packed.shape[1] * packed.shape[2], N=n,
                                             plugin_namespace=""))
        w_t = np.ascontiguousarray(dense_weight(packed, lut).T)  # [K, N]
        dense_inits.append(numpy_helper.from_array(w_t, f"w_{i}"))
        mm_out = out if bias is None else f"{name}/matmul"
        dense_nodes.append(helper.make_node("MatMul", [cur, f"w_{i}"], [mm_out], name=f"/dense/{i}"))
        if bias is not None:
            sketch_inits.append(numpy_helper.from_array(bias, f"bias_{i}"))
            dense_inits.append(numpy_helper.from_array(bias, f"bias_{i}"))
            dense_nodes.append(helper.make_node("Add", [mm_out, f"bias_{i}"], [out]))
        cur = out
    y = helper.make_tensor_value_info("Y", t, ["batch", "seq", layers[-1][1].shape[0]])
    for kind, nodes, inits in (("sketch", sketch_nodes, sketch_inits), ("dense", dense_nodes, dense_inits)):
        graph = helper.make_graph(nodes, f"sketchrt_{kind}_fixture", [x], [y], inits)
        opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(DOMAIN, 1)] if kind == "sketch" else [])
        model = helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION,
                                  functions=[function_proto()] if kind == "sketch" else [])
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out_dir, f"{kind}.onnx"))


def exact_forward(layers, x):
    y = x.astype(np.float64)
    for packed, lut, bias in layers:
        y = y @ dense_weight(packed, lut).astype(np.float64).T
        if bias is not None:
            y = y + bias.astype(np.float64)
    return y


def ort_forward(path, x):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return sess.run(["Y"], {"X": x})[0]


def make(args):
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    shapes = [(args.n, args.k)] if args.layers == 1 else [(args.n, args.k), (args.k, args.n)] * (args.layers // 2) \
        + ([(args.n, args.k)] if args.layers % 2 else [])
    layers = [random_layer(rng, n, k, args.groups, args.bits, args.dtype, args.bias) for n, k in shapes]
    build_models(layers, args.k, args.dtype, args.out)
    for m in [int(r) for r in args.rows.split(",")]:
        x = rng.uniform(-1, 1, size=(1, m, args.k)).astype(NP_DTYPE[args.dtype])
        x.tofile(os.path.join(args.out, f"x_{m}.bin"))
        if args.no_reference:
            continue
        np.save(os.path.join(args.out, f"ort_{m}.npy"), ort_forward(os.path.join(args.out, "sketch.onnx"), x)
                .astype(np.float32))
        if args.layers == 1:
            np.save(os.path.join(args.out, f"exact_{m}.npy"), exact_forward(layers, x))
    with open(os.path.join(args.out, "fixture.json"), "w") as f:
        json.dump(vars(args), f, indent=1)


def rel_err(y, ref):
    ref = ref.astype(np.float64)
    return float(np.linalg.norm(y.astype(np.float64) - ref) / np.linalg.norm(ref))


def read_trtexec_output(path, name="Y"):
    """trtexec --exportOutput: [{"name": ..., "dimensions": "1x1x4096", "values": [...]}, ...]."""
    with open(path) as f:
        entries = json.load(f)
    for e in entries:
        if e.get("name") == name:
            dims = [int(d) for d in str(e["dimensions"]).split("x") if d]
            return np.asarray(e["values"], dtype=np.float64).reshape(dims)
    raise SystemExit(f"{path}: no output named {name!r} (found {[e.get('name') for e in entries]})")


def compare(args):
    y = read_trtexec_output(args.trt)
    ort_ref = np.load(os.path.join(args.dir, f"ort_{args.rows}.npy"))
    ok = y.shape == ort_ref.shape and np.all(np.isfinite(y))
    line = [f"rows={args.rows}", f"shape={list(y.shape)}"]
    if not ok:
        print(" ".join(line + [f"FAILED: shape/finite check (expected {list(ort_ref.shape)})"]))
        return 1
    e_ort = rel_err(y, ort_ref)
    ok = e_ort <= TOL_ORT[args.dtype]
    line.append(f"rel_err_vs_ort_cpu={e_ort:.3g} (<= {TOL_ORT[args.dtype]:g})")
    exact_path = os.path.join(args.dir, f"exact_{args.rows}.npy")
    if os.path.exists(exact_path):
        e_exact = rel_err(y, np.load(exact_path))
        ok = ok and e_exact <= TOL_EXACT[args.dtype]
        line.append(f"rel_err_vs_float64={e_exact:.3g} (<= {TOL_EXACT[args.dtype]:g})")
    print(" ".join(line + ["OK" if ok else "FAILED"]))
    return 0 if ok else 1


def timing(args):
    """trtexec: "GPU Compute Time: min = 0.01 ms, max = 0.02 ms, mean = ..., median = 0.015 ms, ..."."""
    import re
    with open(args.log) as f:
        text = f.read()
    m = re.search(r"GPU Compute Time: min = ([0-9.e+-]+) ms, max = ([0-9.e+-]+) ms, mean = [0-9.e+-]+ ms, "
                  r"median = ([0-9.e+-]+) ms", text)
    if not m:
        raise SystemExit(f"{args.log}: no 'GPU Compute Time' line (did trtexec run inference?)")
    print(m.group(1), m.group(3), m.group(2))
    return 0


def shapes(args):
    """Profile shapes for the decoder graph of DESIGN §4: [batch, seq], [batch, past+seq], KV [batch, h, past, d]."""
    model = onnx.load(args.model, load_external_data=False)
    rows = {"min": (1, 1, 0), "opt": (1, 1, args.max_past // 2), "max": (args.max_batch, args.max_seq, args.max_past)}
    for kind, (b, s, p) in rows.items():
        parts = []
        for inp in model.graph.input:
            dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
            if inp.name in ("input_ids", "position_ids"):
                shape = [b, s]
            elif inp.name == "attention_mask":
                shape = [b, p + s]
            elif inp.name.startswith("past_key_values."):
                shape = [b, dims[1], p, dims[3]]
            else:
                raise SystemExit(f"{args.model}: unexpected graph input {inp.name!r}")
            parts.append(f"{inp.name}:{'x'.join(map(str, shape))}")
        print(",".join(parts))
    return 0


def self_check(_args):
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for dtype, groups, bits, bias, layers in (("fp32", 1, 4, False, 1), ("fp32", 4, 3, True, 1),
                                                  ("fp16", 2, 4, True, 1), ("fp16", 8, 2, False, 3)):
            d = os.path.join(tmp, f"{dtype}_{groups}_{bits}_{bias}_{layers}")
            ns = argparse.Namespace(out=d, n=96, k=128, groups=groups, bits=bits, layers=layers, bias=bias,
                                    dtype=dtype, rows="1,5", seed=3, no_reference=False)
            make(ns)
            for m in (1, 5):
                x = np.fromfile(os.path.join(d, f"x_{m}.bin"), dtype=NP_DTYPE[dtype]).reshape(1, m, 128)
                ort_y = np.load(os.path.join(d, f"ort_{m}.npy"))
                dense_y = ort_forward(os.path.join(d, "dense.onnx"), x)
                checks = {"dense model vs sketch model (ORT CPU)": rel_err(dense_y, ort_y)}
                if layers == 1:
                    checks["ORT CPU vs float64"] = rel_err(ort_y, np.load(os.path.join(d, f"exact_{m}.npy")))
                for what, err in checks.items():
                    ok = err <= TOL_ORT[dtype]
                    failures += not ok
                    print(f"{'ok  ' if ok else 'FAIL'} {dtype} G={groups} bits={bits} bias={bias} layers={layers} "
                          f"rows={m}: {what}: {err:.3g}")
                # compare() must accept ORT's own output written as trtexec would, and reject a perturbed one.
                for scale, want in ((0.0, 0), (0.05, 1)):
                    y = ort_y.astype(np.float64) * (1 + scale)
                    out = os.path.join(d, "trt.json")
                    with open(out, "w") as f:
                        json.dump([{"name": "Y", "dimensions": "x".join(map(str, y.shape)),
                                    "values": y.ravel().tolist()}], f)
                    if scale:
                        print("  (next line must say FAILED: the output was perturbed by 5 %)")
                    got = compare(argparse.Namespace(trt=out, dir=d, rows=m, dtype=dtype))
                    failures += got != want
    # timing() reads trtexec's summary line.
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write("[I] GPU Compute Time: min = 0.0123 ms, max = 0.0456 ms, mean = 0.02 ms, median = 0.0189 ms, "
                "percentile(90%) = 0.03 ms\n")
        log = f.name
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        timing(argparse.Namespace(log=log))
    os.unlink(log)
    ok = buf.getvalue().split() == ["0.0123", "0.0189", "0.0456"]
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} timing parses trtexec's GPU Compute Time line: {buf.getvalue().strip()}")
    print(f"sketch_layer_fixture self-check: {'OK' if failures == 0 else f'{failures} FAILED'}")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--n", type=int, required=True)
    m.add_argument("--k", type=int, required=True)
    m.add_argument("--groups", type=int, default=1)
    m.add_argument("--bits", type=int, default=4)
    m.add_argument("--layers", type=int, default=1)
    m.add_argument("--bias", action="store_true")
    m.add_argument("--dtype", choices=["fp16", "fp32"], default="fp16")
    m.add_argument("--rows", default="1,16,512")
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--no-reference", action="store_true", help="skip ORT/float64 outputs (timing fixtures)")
    c = sub.add_parser("compare")
    c.add_argument("--trt", required=True)
    c.add_argument("--dir", required=True)
    c.add_argument("--rows", type=int, required=True)
    c.add_argument("--dtype", choices=["fp16", "fp32"], default="fp16")
    t = sub.add_parser("timing")
    t.add_argument("--log", required=True)
    s = sub.add_parser("shapes")
    s.add_argument("--model", required=True)
    s.add_argument("--max-batch", type=int, default=1)
    s.add_argument("--max-seq", type=int, default=64)
    s.add_argument("--max-past", type=int, default=64)
    sub.add_parser("self-check")
    args = p.parse_args()
    commands = {"make": make, "compare": compare, "timing": timing, "shapes": shapes, "self-check": self_check}
    return commands[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
