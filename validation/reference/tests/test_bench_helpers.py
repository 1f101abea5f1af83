"""The Python benchmark's gathering linear and the TinyLlama-shaped checkpoint layout."""

import json
import struct

import torch

from sketchrt_ref import training_time as ref
from sketchrt_ref.bench import tinyllama
from sketchrt_ref.bench.reference import GatherLinear


def test_gather_linear_equals_a_dense_linear_with_the_gathered_weight():
    gen = torch.Generator().manual_seed(11)
    lut, codes = ref.sketch_linear(torch.randn(8, 32, generator=gen), bits=4, groups=4)
    dense = torch.nn.Linear(32, 8, bias=False)
    with torch.no_grad():
        dense.weight.copy_(ref.gather_weight(lut, codes).float())
    x = torch.randn(2, 5, 32, generator=gen)
    assert torch.allclose(GatherLinear(lut, codes, torch.float32)(x), dense(x), atol=1e-6)


def test_tinyllama_shapes_are_those_of_tinyllama_1_1b():
    shapes = dict(tinyllama.shapes())
    assert len(shapes) == 3 + 22 * 9
    assert shapes["model.layers.0.self_attn.k_proj.weight"] == (256, 2048)  # 4 kv heads of 64
    assert shapes["model.layers.21.mlp.down_proj.weight"] == (2048, 5632)
    params = sum(torch.Size(s).numel() for s in shapes.values())
    assert 1.09e9 < params < 1.11e9


def test_tinyllama_safetensors_header_lays_tensors_end_to_end():
    tensors = [("a", (2, 3)), ("b", (5,)), ("c", (1, 1, 4))]
    raw = tinyllama.safetensors_header(tensors)
    (length,) = struct.unpack("<Q", raw[:8])
    assert length == len(raw) - 8 and length % 8 == 0
    header = json.loads(raw[8:])
    assert [header[n]["data_offsets"] for n, _ in tensors] == [[0, 12], [12, 22], [22, 30]]
    assert all(header[n]["dtype"] == "BF16" for n, _ in tensors)


def test_tinyllama_random_sketch_is_a_valid_g4_sketch():
    lut, codes = tinyllama.random_sketch(8, 64, torch.Generator().manual_seed(0))
    assert lut.shape == (8, 4, 16) and lut.dtype == torch.float16
    assert codes.shape == (8, 4, 8) and codes.dtype == torch.uint8
    assert torch.all(lut[..., 1:] >= lut[..., :-1])
    assert ref.gather_weight(lut, codes).shape == (8, 64)
