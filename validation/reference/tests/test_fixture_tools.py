"""Hostile-input writers and the stories260K conversion helpers."""

import pickletools

import numpy as np
import pytest

from sketchrt_ref.fixtures import bad_inputs, stories260k_to_hf as stories
from sketchrt_ref.paths import repo_path

BAD = repo_path("testdata", "bad")


def opcodes(data: bytes) -> list[str]:
    return [op.name for op, _, _ in pickletools.genops(data)]  # parses without executing anything


@pytest.mark.parametrize("name, make", [("evil_os_system.pkl", bad_inputs.evil_os_system),
                                        ("evil_builtins_eval.pkl", bad_inputs.evil_builtins_eval)])
def test_evil_pickles_are_the_committed_ones_and_call_a_global(name, make):
    data = make()
    assert data == (BAD / name).read_bytes()
    ops = opcodes(data)
    assert "REDUCE" in ops and ("GLOBAL" in ops or "STACK_GLOBAL" in ops)


def test_the_storage_global_is_swapped_without_moving_a_byte():
    valid = (BAD / "small_valid_sketch.pkl").read_bytes()
    evil = bad_inputs.evil_global_in_storage(valid)
    assert len(evil) == len(valid) and evil != valid
    assert evil.count(b"cos\nsystem\n") == 1
    assert evil == (BAD / "evil_global_in_storage.pkl").read_bytes()


def test_rope_permute_turns_interleaved_pairs_into_halves():
    heads, head_dim, dim = 2, 8, 3
    rows = np.arange(heads * head_dim, dtype=np.float32)[:, None].repeat(dim, axis=1)
    out = stories.rope_permute(rows, heads, head_dim)[:, 0].astype(int).tolist()
    # llama2.c rotates (x0, x1), (x2, x3), ...; HF rotates x[i] with x[i + head_dim / 2]
    assert out == [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15]


def test_the_derived_tokenizer_encodes_like_llama2c():
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    words = ["▁", "a", "b", "c", "ab", "bc", "▁a", "▁ab", "abc", "▁abc", "▁c"]
    pieces += words
    scores = [0.0] * 259 + [-1.0, -2.0, -2.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0]
    tok = stories.build_tokenizer(pieces, scores)
    for text in ["abc", "abc cab", "a b c", "c ab", "xyz ü"]:
        assert tok.encode(text).ids == stories.llama2c_encode(text, pieces, scores), text
        assert tok.decode(tok.encode(text).ids, skip_special_tokens=True) == text
