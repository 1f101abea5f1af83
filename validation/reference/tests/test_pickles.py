"""The pickle writers: reproducible bytes, standalone storages, and only the globals a reader allows."""

import collections
import io
import pickle
import re

import torch

from sketchrt_ref import training_time as ref

# The globals DESIGN.md section 2 lets a restricted reader accept.
ALLOWED = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
           ("torch.storage", "_load_from_bytes"), ("collections", "OrderedDict")}


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED or (module == "torch" and name.endswith("Storage")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def small_sketch():
    gen = torch.Generator().manual_seed(7)
    big = torch.randn(8, 2, 16, generator=gen).half()
    return {"model.layers.0.self_attn.q_proj": (big[:4], torch.randint(0, 256, (4, 2, 8), generator=gen, dtype=torch.uint8)),
            "model.layers.0.mlp.down_proj": (big[4:], torch.randint(0, 256, (4, 2, 8), generator=gen, dtype=torch.uint8))}


def test_the_same_sketch_gives_the_same_bytes(tmp_path):
    sketch = small_sketch()
    ref.write_sketch_pickle(tmp_path / "a.pkl", sketch)
    ref.write_sketch_pickle(tmp_path / "b.pkl", {k: (lut.clone(), codes.clone()) for k, (lut, codes) in sketch.items()})
    a, b = (tmp_path / "a.pkl").read_bytes(), (tmp_path / "b.pkl").read_bytes()
    assert a == b
    # storage keys are zero-padded counters, not memory addresses
    keys = re.findall(rb"X(?:....)(\d+)q\x02X\x03\x00\x00\x00cpuq\x03", a, re.DOTALL)
    assert [int(k) for k in keys] == [1, 2, 3, 4]


def test_views_are_written_as_standalone_tensors(tmp_path):
    sketch = small_sketch()  # both LUTs are views of one [8, 2, 16] tensor
    ref.write_sketch_pickle(tmp_path / "s.pkl", sketch)
    back = ref.read_pickle_trusted(tmp_path / "s.pkl")
    for name, (lut, codes) in sketch.items():
        got_lut, got_codes = back[name]
        assert torch.equal(got_lut, lut) and torch.equal(got_codes, codes)
        assert got_lut.untyped_storage().nbytes() == lut.numel() * lut.element_size()
        assert got_lut.storage_offset() == 0


def test_pickles_name_only_the_globals_a_restricted_reader_accepts(tmp_path):
    ref.write_sketch_pickle(tmp_path / "sketch.pkl", small_sketch())
    ref.write_tuned_pickle(tmp_path / "tuned.pkl", {"m": torch.randn(4, 2, 16).bfloat16()})
    for name in ("sketch.pkl", "tuned.pkl"):
        obj = RestrictedUnpickler(io.BytesIO((tmp_path / name).read_bytes())).load()
        assert isinstance(obj, dict) and obj


def test_the_restricted_reader_of_this_test_does_refuse_other_globals():
    evil = pickle.dumps(collections.Counter("ab"))
    try:
        RestrictedUnpickler(io.BytesIO(evil)).load()
    except pickle.UnpicklingError as e:
        assert "collections.Counter" in str(e)
    else:
        raise AssertionError("collections.Counter was accepted")


def test_dump_pickle_replaces_the_file_whole(tmp_path):
    target = tmp_path / "t.pkl"
    target.write_bytes(b"old")
    ref.dump_pickle(target, {"x": 1})
    assert pickle.loads(target.read_bytes()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["t.pkl"]  # no temporary file left behind
