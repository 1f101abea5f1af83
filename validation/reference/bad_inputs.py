"""Hostile and corrupt inputs for testdata/bad/ (see testdata/README.md).

The evil pickles are written opcode by opcode and must NEVER be loaded with pickle.load."""

from __future__ import annotations

import os
import struct

import torch

import sketchtune_ref as ref

# The fixture the semantically-bad pickles below belong to.
TARGET = "llama2_mha_g1_2d"  # 2-D (G = 1) pickles: LUT [N, 16], codes [N, K/2]
KEY = "model.layers.0.self_attn.q_proj"
HARMLESS_CMD = "echo 'sketchrt: an evil pickle was executed' >&2"


def _unicode(s: str) -> bytes:  # BINUNICODE: 'X' + uint32 length + utf-8
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _short_unicode(s: str) -> bytes:  # SHORT_BINUNICODE (protocol 4)
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def evil_os_system() -> bytes:
    """{KEY: os.system(HARMLESS_CMD)} with protocol 2 and the GLOBAL opcode."""
    return (b"\x80\x02" + b"}" + _unicode(KEY) + b"cos\nsystem\n" + _unicode(HARMLESS_CMD)
            + b"\x85" + b"R" + b"s" + b".")


def evil_builtins_eval() -> bytes:
    """{KEY: builtins.eval(...)} with protocol 4 and STACK_GLOBAL."""
    return (b"\x80\x04" + b"}" + _short_unicode(KEY) + _short_unicode("builtins") + _short_unicode("eval")
            + b"\x93" + _short_unicode("__import__('os').getpid()") + b"\x85" + b"R" + b"s" + b".")


def evil_global_in_storage(valid_pickle: bytes) -> bytes:
    """A valid sketch pickle whose first *inner* storage stream names os.system as its storage
    type (same length, so every length field stays right): tests that the legacy torch.save
    stream inside each storage is unpickled with the same restrictions."""
    for storage in (b"ctorch\nHalfStorage\n", b"ctorch\nBFloat16Storage\n", b"ctorch\nFloatStorage\n"):
        if storage in valid_pickle:
            pad = len(storage) - len(b"cos\nsystem\n")
            assert pad % 2 == 0
            evil = b"cos\nsystem\n" + b"N0" * (pad // 2)  # NONE/POP pairs: no-op padding
            return valid_pickle.replace(storage, evil, 1)
    raise AssertionError("no storage global found")


def write(bad_dir: str, fixtures_root: str) -> None:
    os.makedirs(bad_dir)
    target = os.path.join(fixtures_root, TARGET)
    base = ref.read_pickle_trusted(os.path.join(target, "sketch.pkl"))  # our own file
    tuned = ref.read_pickle_trusted(os.path.join(target, "tuned", "sketched_params.pkl"))

    # A sketch may name any subset of the linears (the rest stay dense), so small valid pickles
    # with one or two modules are enough to carry each defect.
    two = {k: base[k] for k in (KEY, "model.layers.0.mlp.down_proj")}
    small = os.path.join(bad_dir, "small_valid_sketch.pkl")
    ref.write_sketch_pickle(small, two)
    with open(small, "rb") as f:
        small_bytes = f.read()
    files = {
        "evil_os_system.pkl": evil_os_system(),
        "evil_builtins_eval.pkl": evil_builtins_eval(),
        "evil_global_in_storage.pkl": evil_global_in_storage(small_bytes),
        "truncated_sketch.pkl": small_bytes[: len(small_bytes) // 2],
        "not_a_pickle.pkl": b"this is not a pickle: a text file renamed to .pkl\n",
        "empty.pkl": b"",
    }
    for name, data in files.items():
        with open(os.path.join(bad_dir, name), "wb") as f:
            f.write(data)

    # Tuned pickles that disagree with the target fixture's sketch.pkl.
    missing = dict(tuned)
    del missing["model.layers.1.mlp.down_proj"]
    ref.write_tuned_pickle(os.path.join(bad_dir, "tuned_missing_layer.pkl"), missing)
    wrong = dict(tuned)
    wrong[KEY] = tuned[KEY][..., :8]  # 8 LUT entries where the base has 16
    ref.write_tuned_pickle(os.path.join(bad_dir, "tuned_wrong_shape.pkl"), wrong)
    extra = dict(tuned)
    extra["model.layers.9.mlp.up_proj"] = tuned["model.layers.1.mlp.up_proj"]
    ref.write_tuned_pickle(os.path.join(bad_dir, "tuned_extra_layer.pkl"), extra)

    # Valid pickles whose content disagrees with the target fixture's model.
    lut, codes = base["model.layers.0.mlp.down_proj"]
    ref.write_sketch_pickle(os.path.join(bad_dir, "sketch_wrong_k.pkl"),
                            {"model.layers.0.mlp.down_proj": (lut, codes[..., :-1])})  # K = 158, model has 160
    ref.write_sketch_pickle(os.path.join(bad_dir, "sketch_unknown_module.pkl"),
                            {KEY: base[KEY], "model.layers.0.mlp.not_a_linear": base[KEY]})
    ref.dump_pickle(os.path.join(bad_dir, "sketch_value_not_tuple.pkl"), {KEY: base[KEY][0].clone()})
    ref.write_sketch_pickle(os.path.join(bad_dir, "sketch_codes_not_uint8.pkl"),
                            {KEY: (base[KEY][0], base[KEY][1].to(torch.float16))})
    # bits = 3 (8-entry LUT) with a code of 15: a reader must not index past the LUT
    lut8 = base[KEY][0][..., :8]
    codes15 = base[KEY][1].clone()
    codes15[0, 0] = 0xF0
    ref.write_sketch_pickle(os.path.join(bad_dir, "sketch_code_exceeds_lut.pkl"), {KEY: (lut8, codes15)})
