"""Writes the small pickles and safetensors files the converter reader tests read.

Run from the repository root:  python3 converter/src/test/python/make_reader_fixtures.py
Outputs (committed) go to converter/src/test/resources/{pickles,safetensors}/, each directory with
an expected.json holding every tensor's dtype, shape and values, so the Java tests compare against
what torch itself wrote. Only well-formed files are made here; hostile and corrupt inputs are
built byte by byte in the Java tests.
"""
import json
import os
import pickle

import torch
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "resources")
PICKLES = os.path.join(ROOT, "pickles")
SAFETENSORS = os.path.join(ROOT, "safetensors")


def describe(t):
    t = t.detach()
    dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.uint8: "U8", torch.int8: "I8", torch.int64: "I64", torch.int32: "I32",
             torch.bool: "BOOL", torch.int16: "I16", torch.float64: "F64"}[t.dtype]
    values = t.contiguous().reshape(-1)
    values = values.float().tolist() if t.is_floating_point() else values.long().tolist()
    return {"dtype": dtype, "shape": list(t.shape), "values": values}


def sketch_layer(gen, n, groups, k, bits, lut_dtype, two_d=False):
    """(quant_grid [N, G, 2^bits], codes uint8 [N, G, K/G/2]); 2-D forms when two_d (G = 1)."""
    lut = torch.randn(n, groups, 2 ** bits, generator=gen).to(lut_dtype)
    # Two codes per byte (high nibble = even column), each < 2^bits.
    shape = (n, groups, k // groups // 2)
    hi = torch.randint(0, 2 ** bits, shape, generator=gen)
    lo = torch.randint(0, 2 ** bits, shape, generator=gen)
    codes = (hi * 16 + lo).to(torch.uint8)
    if two_d:
        assert groups == 1
        return lut.reshape(n, 2 ** bits), codes.reshape(n, k // 2)
    return lut, codes


def main():
    os.makedirs(PICKLES, exist_ok=True)
    os.makedirs(os.path.join(PICKLES, "tuned"), exist_ok=True)
    os.makedirs(SAFETENSORS, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    expected = {}

    def dump(name, obj, protocol):
        with open(os.path.join(PICKLES, name), "wb") as f:
            pickle.dump(obj, f, protocol=protocol)
        entry = {}
        for key, value in obj.items():
            if isinstance(value, tuple):
                entry[key] = {"lut": describe(value[0]), "codes": describe(value[1])}
            else:
                entry[key] = describe(value)
        expected[name] = {"protocol": protocol, "layers": entry}

    # Base sketch, 3-D, fp16 LUTs, G = 2, 4 bits, protocol 4 (pickle.dump's default).
    base3d = {
        "model.layers.0.self_attn.q_proj": sketch_layer(gen, 8, 2, 16, 4, torch.float16),
        "model.layers.0.mlp.down_proj": sketch_layer(gen, 4, 2, 32, 4, torch.float16),
    }
    dump("base_3d_fp16_p4.pkl", base3d, 4)
    # The fine-tuned LUTs of that sketch (bf16, as SketchTune trains them), in a checkpoint dir.
    tuned = {k: (v[0].float() + 0.5).to(torch.bfloat16) for k, v in base3d.items()}
    dump("tuned/sketched_params.pkl", tuned, 4)
    # Base sketch, 2-D (G = 1), fp32 LUTs, protocol 2 (bytes spelled as _codecs.encode).
    dump("base_2d_fp32_p2.pkl",
         {"model.layers.0.self_attn.k_proj": sketch_layer(gen, 4, 1, 8, 4, torch.float32, True)}, 2)
    # bf16 LUTs, 2 bits, G = 4, protocol 5.
    dump("base_3d_bf16_p5.pkl",
         {"model.layers.0.self_attn.v_proj": sketch_layer(gen, 4, 4, 32, 2, torch.bfloat16)}, 5)
    # Protocol 3 with int8 codes (accepted as the same bytes).
    lut, codes = sketch_layer(gen, 2, 1, 8, 3, torch.float32)
    dump("base_int8_codes_p3.pkl", {"lm.q": (lut, codes.view(torch.int8))}, 3)
    # A strided view (transposed slice: offset 12, strides (1, 10)) and an nn.Parameter.
    grid = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    view = grid[1:5, 2:8].t()
    assert not view.is_contiguous()
    dump("strided_view_p4.pkl",
         {"view": view, "param": torch.nn.Parameter(torch.linspace(-1, 1, 6).reshape(2, 3))}, 4)

    # Well-formed pickles whose content is not a valid sketch (the reader must say what is wrong).
    os.makedirs(os.path.join(PICKLES, "bad"), exist_ok=True)
    lut, codes = sketch_layer(gen, 4, 2, 16, 4, torch.float16)
    bad = {
        "lut_3_levels": (lut[:, :, :3].contiguous(), codes),
        "lut_32_levels": (torch.cat([lut, lut], dim=2), codes),
        "lut_int": (lut.long(), codes),
        "lut_4d": (lut.reshape(4, 2, 4, 4), codes),
        "codes_float": (lut, codes.float()),
        "codes_groups": (lut, codes.reshape(4, 4, 2)),
        "codes_rows": (lut, codes[:3].contiguous()),
        "codes_2d_with_groups": (lut, codes.reshape(4, 8)),
        "not_a_tuple": lut,
        "codes_exceed_lut": (lut[:, :, :4].contiguous(), codes | 0x40),
        "triple": (lut, codes, codes),
    }
    for name, value in bad.items():
        with open(os.path.join(PICKLES, "bad", name + ".pkl"), "wb") as f:
            pickle.dump({"model.layers.0.self_attn.o_proj": value}, f)
    with open(os.path.join(PICKLES, "bad", "list_root.pkl"), "wb") as f:
        pickle.dump([lut, codes], f)
    with open(os.path.join(PICKLES, "bad", "int_key.pkl"), "wb") as f:
        pickle.dump({3: (lut, codes)}, f)
    with open(os.path.join(PICKLES, "bad", "empty_dict.pkl"), "wb") as f:
        pickle.dump({}, f)

    with open(os.path.join(PICKLES, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    # Safetensors: every dtype the reader supports, plus metadata.
    st_expected = {}
    tensors = {
        "f32": torch.randn(3, 4, generator=gen),
        "f16": torch.randn(5, generator=gen).half(),
        "bf16": torch.randn(2, 3, generator=gen).bfloat16(),
        "i64": torch.tensor([[-5, 7], [2**40, -(2**40)]], dtype=torch.int64),
        "i32": torch.tensor([1, -2, 3], dtype=torch.int32),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }
    save_file(tensors, os.path.join(SAFETENSORS, "all_dtypes.safetensors"), metadata={"format": "pt"})
    st_expected["all_dtypes.safetensors"] = {k: describe(v) for k, v in tensors.items()}

    # A sharded model directory (as transformers' save_pretrained writes it).
    sharded = os.path.join(SAFETENSORS, "sharded")
    os.makedirs(sharded, exist_ok=True)
    shard1 = {"model.embed_tokens.weight": torch.randn(6, 4, generator=gen),
              "model.norm.weight": torch.ones(4)}
    shard2 = {"lm_head.weight": torch.randn(6, 4, generator=gen).half()}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    save_file(shard1, os.path.join(sharded, names[0]), metadata={"format": "pt"})
    save_file(shard2, os.path.join(sharded, names[1]), metadata={"format": "pt"})
    weight_map = {k: names[0] for k in shard1} | {k: names[1] for k in shard2}
    with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    st_expected["sharded"] = {k: describe(v) for k, v in (shard1 | shard2).items()}

    with open(os.path.join(SAFETENSORS, "expected.json"), "w") as f:
        json.dump(st_expected, f, indent=1)
        f.write("\n")

    write_configs()


def write_configs():
    """config.json files as transformers itself writes them, one per supported family."""
    from transformers import LlamaConfig, MistralConfig, Qwen2Config
    configs = os.path.join(ROOT, "configs")
    small = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, vocab_size=256)
    LlamaConfig(**small, num_key_value_heads=2, architectures=["LlamaForCausalLM"],
                torch_dtype="bfloat16").save_pretrained(os.path.join(configs, "llama2"))
    LlamaConfig(**small, num_key_value_heads=2, architectures=["LlamaForCausalLM"],
                rope_theta=500000.0, max_position_embeddings=131072, bos_token_id=128000,
                eos_token_id=[128001, 128008, 128009], tie_word_embeddings=True,
                rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192},
                ).save_pretrained(os.path.join(configs, "llama3"))
    MistralConfig(**small, num_key_value_heads=1, sliding_window=4096,
                  architectures=["MistralForCausalLM"]).save_pretrained(
                      os.path.join(configs, "mistral"))
    Qwen2Config(**small, num_key_value_heads=2, architectures=["Qwen2ForCausalLM"],
                eos_token_id=151643).save_pretrained(os.path.join(configs, "qwen2"))


if __name__ == "__main__":
    main()
