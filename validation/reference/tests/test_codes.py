"""Nibble packing and the training-time gather against DESIGN.md section 2 written out by hand."""

import pytest
import torch

from sketchrt_ref import training_time as ref


def test_pack_puts_the_even_column_in_the_high_nibble():
    packed = ref.pack_codes(torch.tensor([[1, 2, 3, 4], [15, 0, 0, 15]]))
    assert packed.dtype == torch.uint8
    assert packed.tolist() == [[0x12, 0x34], [0xF0, 0x0F]]


def test_unpack_inverts_pack_for_every_code_pair():
    codes = torch.arange(256).reshape(16, 16) // 16, torch.arange(256).reshape(16, 16) % 16
    interleaved = torch.stack(codes, dim=-1).reshape(16, 32)  # every (even, odd) pair of 0..15
    packed = ref.pack_codes(interleaved)
    assert sorted(packed.flatten().tolist()) == list(range(256))
    assert torch.equal(ref.unpack_codes(packed), interleaved)


def test_unpack_reads_the_2d_and_3d_forms_alike():
    gen = torch.Generator().manual_seed(1)
    codes3 = torch.randint(0, 256, (5, 4, 3), generator=gen, dtype=torch.uint8)
    assert torch.equal(ref.unpack_codes(codes3), ref.unpack_codes(codes3.reshape(5, 12)))
    assert ref.unpack_codes(codes3).shape == (5, 24)


@pytest.mark.parametrize("codes, error", [
    (torch.tensor([[1, 2, 3]]), "odd"),
    (torch.tensor([[1, 16]]), "0..15"),
    (torch.tensor([[-1, 2]]), "0..15"),
])
def test_pack_rejects_what_cannot_be_nibbles(codes, error):
    with pytest.raises(ValueError, match=error):
        ref.pack_codes(codes)


def test_unpack_rejects_codes_that_are_not_bytes():
    with pytest.raises(TypeError, match="uint8"):
        ref.unpack_codes(torch.zeros(2, 2, dtype=torch.int8))


def gather_by_hand(lut3, codes3):
    """W[n, k] = lut[n, k // (K/G), code(n, k)], code = high nibble for even k (DESIGN.md section 2)."""
    n_rows, groups, half = codes3.shape
    k_cols = groups * half * 2
    w = torch.empty(n_rows, k_cols, dtype=lut3.dtype)
    for n in range(n_rows):
        for k in range(k_cols):
            g, j = divmod(k, k_cols // groups)
            byte = int(codes3[n, g, j // 2])
            w[n, k] = lut3[n, g, byte >> 4 if j % 2 == 0 else byte & 0xF]
    return w


@pytest.mark.parametrize("groups, bits, dtype", [(1, 4, torch.float32), (2, 3, torch.float16),
                                                 (4, 4, torch.bfloat16), (8, 2, torch.float32)])
def test_gather_matches_the_definition(groups, bits, dtype):
    gen = torch.Generator().manual_seed(groups * 10 + bits)
    n_rows, k_cols, entries = 6, 32, 1 << bits
    lut = torch.randn(n_rows, groups, entries, generator=gen).to(dtype)
    codes = ref.pack_codes(torch.randint(0, entries, (n_rows, groups, k_cols // groups), generator=gen))
    w = ref.gather_weight(lut, codes)
    assert w.dtype == dtype  # the gather runs in the LUT's dtype
    assert torch.equal(w, gather_by_hand(lut, codes))


def test_gather_of_the_2d_form_equals_the_3d_form():
    gen = torch.Generator().manual_seed(3)
    lut = torch.randn(4, 16, generator=gen)
    codes = torch.randint(0, 256, (4, 8), generator=gen, dtype=torch.uint8)
    assert torch.equal(ref.gather_weight(lut, codes), ref.gather_weight(lut[:, None], codes[:, None]))


def test_gather_refuses_a_code_past_the_lut():
    lut = torch.zeros(2, 1, 8)  # bits = 3
    codes = torch.tensor([[[0x07, 0x70]], [[0xF0, 0x00]]], dtype=torch.uint8)
    with pytest.raises(ValueError, match="LUT size 8"):
        ref.gather_weight(lut, codes)


def test_gather_refuses_lut_and_codes_that_disagree_on_rows_or_groups():
    with pytest.raises(ValueError, match="disagree"):
        ref.gather_weight(torch.zeros(4, 2, 16), torch.zeros(4, 1, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="ranks"):
        ref.as_3d(torch.zeros(4, 2, 2, 16), torch.zeros(4, 2, 8, dtype=torch.uint8))


def test_gather_gradient_counts_how_often_each_lut_entry_is_used():
    """What LUT fine-tuning relies on: d(sum W)/d lut[n, g, e] = #columns of group g in row n with code e."""
    gen = torch.Generator().manual_seed(4)
    groups, per_group = 2, 8
    raw = torch.randint(0, 16, (3, groups, per_group), generator=gen)
    lut = torch.randn(3, groups, 16, generator=gen, requires_grad=True)
    ref.gather_weight(lut, ref.pack_codes(raw)).sum().backward()
    counts = torch.zeros(3, groups, 16).scatter_add_(2, raw, torch.ones(3, groups, per_group))
    assert torch.equal(lut.grad, counts)
