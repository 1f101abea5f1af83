"""The benchmark report's helpers and tables, on hand-made result files."""

import json

import pytest

from sketchrt_ref.bench import report


def result(prefill_tps, decode_tps, contexts=(), prompt=8, new=16):
    return {"prefill": {"tokens": prompt, "tokens_per_s": prefill_tps},
            "decode": {"new_tokens": new, "prompt_tokens": prompt, "tokens_per_s": decode_tps,
                       "ms_per_token": 1e3 / decode_tps},
            "contexts": [{"context": c, "ms_per_token": ms} for c, ms in contexts]}


def test_speedup_is_java_over_python_tokens_per_second():
    assert report.speedup(result(300, 40), result(100, 8), "prefill") == 3.0
    assert report.speedup(result(300, 40), result(100, 8), "decode") == 5.0
    assert report.speedup(result(300, 40), None, "decode") is None


def test_formatting_of_missing_and_present_figures():
    assert report.times(2.04) == "2.0x" and report.times(None) == "-"
    assert report.fmt(1234.56) == "1234.6" and report.fmt(0.123, 2) == "0.12"
    assert report.fmt(None) == "not measured"


def test_peak_rss_comes_from_the_time_v_log(tmp_path):
    (tmp_path / "java_x.time").write_text("\tMaximum resident set size (kbytes): 204800\n\tExit status: 0\n")
    (tmp_path / "py_x.time").write_text("Command terminated by signal 9\n")
    assert report.peak_rss_mb(str(tmp_path), "java_x.time") == "200"
    assert report.peak_rss_mb(str(tmp_path), "py_x.time") == "-"
    assert report.peak_rss_mb(str(tmp_path), "absent.time") == "-"


@pytest.fixture
def results(tmp_path):
    files = {"java_arith.json": result(400.0, 200.0, [(8, 5.0), (16, 5.5)]),
             "py_arith.json": result(100.0, 20.0, [(8, 50.0)]),
             "java_llama3.json": result(900.0, 300.0, [(32, 3.333)], prompt=128, new=64)}
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data))
    (tmp_path / "java_arith.time").write_text("Maximum resident set size (kbytes): 102400\n")
    return tmp_path


def test_rows_follow_the_label_order_and_say_what_was_not_measured(results):
    rows, ctx_rows, models = report.collect(str(results))
    assert rows == [
        "| examples/arith (bundled) | 8 / 16 | 400.0 | 100.0 | 4.0x | 200.0 | 20.00 | 10.0x | 100 | - |",
        "| llama3_gqa_g4_bf16 (fixture) | 128 / 64 | 900.0 | not measured | - | 300.0 | not measured | - | - | - |",
    ]
    assert ctx_rows == [
        "| examples/arith (bundled) | 8 | 5.000 | 50.000 |",
        "| examples/arith (bundled) | 16 | 5.500 | not measured |",
        "| llama3_gqa_g4_bf16 (fixture) | 32 | 3.333 | not measured |",
    ]
    assert [(label, p is not None) for label, _, p in models] == [
        ("examples/arith (bundled)", True), ("llama3_gqa_g4_bf16 (fixture)", False)]


def test_the_report_holds_both_tables(results):
    text = report.render(*report.collect(str(results))[:2])
    lines = text.split("\n")
    assert lines[0].startswith("| model | prompt / new tokens |") and lines[1].count("|---") == 10
    assert lines[4] == "" and lines[5] == "| model | context | Java decode ms/token | Python decode ms/token |"
    assert text.endswith("| 3.333 | not measured |\n")


def test_no_java_result_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["report", str(tmp_path)])
    with pytest.raises(SystemExit, match="no java_"):
        report.main()
