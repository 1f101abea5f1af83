"""The peer-benchmark helpers (validation/peers/run_peer_bench.sh) on tiny inputs."""

import numpy as np
import pytest

from sketchrt_ref.bench import peer_rounds, tinyllama


def test_midsize_shape_has_about_135m_sketched_weights():
    n = sum(int(np.prod(s)) for name, s in tinyllama.shapes(tinyllama.MIDSIZE)
            if any(lin in name for lin in tinyllama.LINEARS))
    assert 130e6 < n < 140e6


def test_sketch_kernel_bench_line_parses():
    line = ("near-exact, 2 thread(s): load 1.3 s; decode 27.00 / 27.50 / 28.00 tok/s; "
            "prefill 178.0 / 179.0 / 180.0 tok/s; RSS 448 MB, peak 448 MB")
    m = peer_rounds.SKETCH_LINE.search("x\n" + line + "\n")
    assert m and (m.group(1), m.group(2), m.group(3), m.group(4)) == ("2", "1.3", "27.00", "178.0")


def test_table_spreads_and_skips_missing_decode():
    rows = [{"runtime": "llama.cpp Q4_0", "prompt": p, "prefill_tok_s": 10.0 * r + p,
             "decode_tok_s": (5.0 + r) if p == 32 else None, "peak_rss_mb": 100 + r}
            for r in range(3) for p in (32, 512)]
    t = peer_rounds.table("s", rows, [32, 512], 16, 3, 2)
    assert "| llama.cpp Q4_0 | 5.00 / 6.00 / 7.00 | 32.0 / 42.0 / 52.0 | 512.0 / 522.0 / 532.0 | 102 |" in t
    assert "sketchrt" not in t.splitlines()[-1]


def test_gemm_to_matmul_keeps_the_result():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    from sketchrt_ref.bench.ort_int4 import gemm_to_matmul

    w = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    g = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    assert gemm_to_matmul(m) == 1
    assert [n.op_type for n in m.graph.node] == ["MatMul"] and [i.name for i in m.graph.initializer] == ["w_kn"]
    x = np.ones((2, 4), np.float32)
    y = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(y, x @ w.T, rtol=1e-5)


def test_chart_takes_the_last_run_and_draws_every_bar():
    from sketchrt_ref.bench import peer_chart

    def rows(run_rounds, base):
        return [{"runtime": n, "prompt": p, "round": r, "shape": "s", "threads": 2,
                 "prefill_tok_s": base + 10.0 * r + p, "decode_tok_s": (base + r) if p == 32 else None}
                for r in range(1, run_rounds + 1) for n in peer_chart.RUNTIMES for p in (32, 512)]

    old, new = rows(2, 1000.0), rows(3, 0.0)
    last = peer_chart.last_run(old + new)
    assert last == new
    gs = peer_chart.groups(last)
    assert [g for g, _ in gs] == ["decode", "prefill(32)", "prefill(512)"]
    assert gs[0][1]["sketchrt"] == [1.0, 2.0, 3.0]
    out = peer_chart.svg([("s", gs)])
    assert out.count("<rect") == 3 * 3 + 3  # a bar per runtime and group, and the legend
    assert "sketchrt decode: median 2.0, min 1.0, max 3.0 tok/s" in out
