"""sketch_linear: shapes, valid codes, nearest-entry assignment and error that falls with bits."""

import pytest
import torch

from sketchrt_ref import training_time as ref


def weight(n=16, k=64, seed=0):
    return torch.randn(n, k, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("bits, groups", [(4, 1), (4, 4), (3, 2), (2, 8), (1, 1)])
def test_shapes_codes_and_sorted_luts(bits, groups):
    lut, codes = ref.sketch_linear(weight(), bits=bits, groups=groups, lut_dtype=torch.float32)
    assert lut.shape == (16, groups, 1 << bits)
    assert codes.shape == (16, groups, 64 // groups // 2) and codes.dtype == torch.uint8
    assert int(ref.unpack_codes(codes).max()) < (1 << bits)
    assert torch.all(lut[..., 1:] >= lut[..., :-1])


def test_every_column_takes_the_nearest_entry_of_the_lut_in_its_dtype():
    w = weight(seed=1)
    lut, codes = ref.sketch_linear(w, bits=4, groups=2, lut_dtype=torch.float16)
    assert lut.dtype == torch.float16
    got = ref.gather_weight(lut, codes).float()
    # the distance to the chosen entry is the smallest distance to any entry of that row group's LUT
    lut_f = lut.float().repeat_interleave(32, dim=1)  # [N, K, 16]: each column's own LUT
    best = (w.unsqueeze(-1) - lut_f).abs().min(dim=-1).values
    assert torch.allclose((w - got).abs(), best, rtol=0, atol=1e-6)


def test_more_bits_give_a_closer_sketch():
    w = weight(n=32, k=128, seed=2)
    errors = []
    for bits in (1, 2, 3, 4):
        lut, codes = ref.sketch_linear(w, bits=bits, groups=1, lut_dtype=torch.float32)
        errors.append(float((ref.gather_weight(lut, codes) - w).norm() / w.norm()))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 0.15  # 16 k-means levels on a Gaussian row: ~0.1


def test_two_d_form_for_a_single_group():
    lut, codes = ref.sketch_linear(weight(), bits=4, groups=1, squeeze_single_group=True)
    assert lut.shape == (16, 16) and codes.shape == (16, 32)
    lut3, codes3 = ref.sketch_linear(weight(), bits=4, groups=1)
    assert torch.equal(lut, lut3[:, 0]) and torch.equal(codes, codes3[:, 0])


@pytest.mark.parametrize("kwargs, error", [
    (dict(bits=5), "bits must be 1..4"),
    (dict(bits=0), "bits must be 1..4"),
    (dict(groups=3), "not divisible into 3 groups"),
    (dict(groups=64), "even size"),  # 1 column per group
])
def test_rejects_what_no_sketch_can_be(kwargs, error):
    with pytest.raises(ValueError, match=error):
        ref.sketch_linear(weight(), **kwargs)
