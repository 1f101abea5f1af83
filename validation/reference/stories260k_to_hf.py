"""llama2.c's stories260K (a real trained tiny Llama) -> a Hugging Face dir + SketchTune sketch.

    python3 validation/reference/stories260k_to_hf.py --shared ../shared/models/stories260K --out DIR

Writes (the same layout as a testdata fixture; derived from shared data, so NEVER commit it):
  DIR/hf/                         config.json, generation_config.json, model.safetensors,
                                  tokenizer.json, tokenizer_config.json
  DIR/sketch.pkl                  SketchTune sketch, G=2, 16-entry fp16 LUTs (k-means)
  DIR/tuned/sketched_params.pkl   the base LUTs cast to bf16 (a "tuned" sketch that changes little)
  DIR/reference.json              greedy 64 tokens from BOS (dense, sketched, sketched+tuned) with
                                  their text, and a story text with its token ids
Facts about the format: ../shared/models/stories260K/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sketchtune_ref as ref  # noqa: E402

GROUPS = 2  # K is 64 or 172: 172/4 = 43 columns would be odd, so G=2 (32 and 86 columns)
GREEDY = 64
STORY = ("Once upon a time, there was a little dog named Max. Max liked to run in the park "
         "with his friend Sue. One day, they found a big red ball under a tree! \"Can we play?\" "
         "asked Sue. Max barked and wagged his tail. They played all day and were very happy.")
UNUSUAL = "Tabs\tand  double  spaces, ü, 日本, emoji 🙂 and a newline\nat the end"
LINEARS = {"wq": "self_attn.q_proj", "wk": "self_attn.k_proj", "wv": "self_attn.v_proj",
           "wo": "self_attn.o_proj", "w1": "mlp.gate_proj", "w2": "mlp.down_proj", "w3": "mlp.up_proj"}


def read_checkpoint(path: str) -> tuple[dict, dict]:
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack_from("<7i", data, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    head_dim, kv_dim = dim // heads, dim // heads * kv_heads
    arr = np.frombuffer(data, dtype="<f4", offset=28)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = arr[pos:pos + n].reshape(shape).copy()
        pos += n
        return out

    w = {"tok": take(vocab, dim), "rms_att": take(layers, dim), "wq": take(layers, dim, dim),
         "wk": take(layers, kv_dim, dim), "wv": take(layers, kv_dim, dim), "wo": take(layers, dim, dim),
         "rms_ffn": take(layers, dim), "w1": take(layers, hidden, dim), "w2": take(layers, dim, hidden),
         "w3": take(layers, hidden, dim), "rms_final": take(dim)}
    pos += 2 * seq_len * head_dim // 2  # freq_cis_real / freq_cis_imag: HF recomputes RoPE
    if not shared:
        w["wcls"] = take(vocab, dim)
    if pos != arr.size:
        raise ValueError(f"{path}: {arr.size - pos} floats left over after reading the weights")
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, vocab=vocab,
               seq_len=seq_len, head_dim=head_dim, shared=shared)
    return cfg, w


def rope_permute(w: np.ndarray, n: int, head_dim: int) -> np.ndarray:
    """llama2.c rotates interleaved pairs, HF Llama rotates halves: reorder each head's rows."""
    dim = w.shape[1]
    return w.reshape(n, head_dim // 2, 2, dim).transpose(0, 2, 1, 3).reshape(n * head_dim, dim)


def hf_state_dict(cfg: dict, w: dict) -> dict:
    sd = {"model.embed_tokens.weight": w["tok"], "model.norm.weight": w["rms_final"]}
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        sd[p + "input_layernorm.weight"] = w["rms_att"][i]
        sd[p + "post_attention_layernorm.weight"] = w["rms_ffn"][i]
        for src, dst in LINEARS.items():
            m = w[src][i]
            if src == "wq":
                m = rope_permute(m, cfg["heads"], cfg["head_dim"])
            elif src == "wk":
                m = rope_permute(m, cfg["kv_heads"], cfg["head_dim"])
            sd[p + dst + ".weight"] = m
    if not cfg["shared"]:
        sd["lm_head.weight"] = w["wcls"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def config_json(cfg: dict) -> dict:
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "hidden_size": cfg["dim"], "intermediate_size": cfg["hidden"], "num_hidden_layers": cfg["layers"],
            "num_attention_heads": cfg["heads"], "num_key_value_heads": cfg["kv_heads"],
            "head_dim": cfg["head_dim"], "vocab_size": cfg["vocab"], "max_position_embeddings": cfg["seq_len"],
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
            "tie_word_embeddings": cfg["shared"], "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": "float32", "attention_bias": False, "mlp_bias": False,
            "initializer_range": 0.02, "pretraining_tp": 1, "use_cache": True}


# ----------------------------------------------------------------------------------------- tokenizer

def read_tokenizer(path: str, vocab_size: int) -> tuple[list[str], list[float]]:
    with open(path, "rb") as f:
        data = f.read()
    off = 4  # int32 max_token_length
    pieces, scores = [], []
    for _ in range(vocab_size):
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        pieces.append(data[off:off + n].decode("utf-8"))
        scores.append(score)
        off += n
    if off != len(data):
        raise ValueError(f"{path}: {len(data) - off} bytes left over")
    # llama2.c's export turned "▁" into " " and wrapped <s>/</s> in newlines
    pieces = [p.replace(" ", "▁") for p in pieces]
    pieces[1], pieces[2] = "<s>", "</s>"
    return pieces, scores


def build_tokenizer(pieces: list[str], scores: list[float]):
    """Sentencepiece-style BPE: every split of a piece into two pieces is a merge, ranked by the
    merged piece's score (highest first) - what llama2.c's encoder does greedily."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = {p: i for i, p in enumerate(pieces)}
    merges = []
    for i, piece in enumerate(pieces):
        if i < 259 or len(piece) < 2:  # specials, byte fallbacks, single characters
            continue
        for cut in range(1, len(piece)):
            a, b = piece[:cut], piece[cut:]
            if a in vocab and b in vocab:
                merges.append((-scores[i], vocab[a], vocab[b], a, b))
    merges.sort(key=lambda m: m[:3])
    model = models.BPE(vocab=vocab, merges=[(a, b) for *_, a, b in merges], unk_token="<unk>",
                       byte_fallback=True, fuse_unk=True)
    tok = Tokenizer(model)
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    # no Fuse before Metaspace: on one fused string it drops every "▁" instead of only the first
    tok.decoder = decoders.Sequence([decoders.ByteFallback(),
                                     decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok


def llama2c_encode(text: str, pieces: list[str], scores: list[float]) -> list[int]:
    """llama2.c's encode() (BOS, dummy prefix, byte fallback, best-score merges), for checking."""
    vocab = {p: i for i, p in enumerate(pieces)}
    ids = [vocab["▁"]] if text else []
    for ch in text.replace(" ", "▁"):
        ids.extend([vocab[ch]] if ch in vocab else [b + 3 for b in ch.encode("utf-8")])
    while True:
        best, at = -1e10, -1
        for i in range(len(ids) - 1):
            merged = vocab.get(pieces[ids[i]] + pieces[ids[i + 1]])
            if merged is not None and scores[merged] > best:
                best, at = scores[merged], i
        if at < 0:
            return [1] + ids
        ids[at:at + 2] = [vocab[pieces[ids[at]] + pieces[ids[at + 1]]]]


# ----------------------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="folder with stories260K.bin and tok512.bin")
    ap.add_argument("--out", required=True, help="output folder (outside git, or gitignored)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for f in ("stories260K.bin", "tok512.bin"):
        if not os.path.isfile(os.path.join(args.shared, f)):
            sys.exit(f"stories260k_to_hf: {os.path.join(args.shared, f)}: no such file")

    cfg, w = read_checkpoint(os.path.join(args.shared, "stories260K.bin"))
    pieces, scores = read_tokenizer(os.path.join(args.shared, "tok512.bin"), cfg["vocab"])
    shutil.rmtree(args.out, ignore_errors=True)
    hf = os.path.join(args.out, "hf")
    os.makedirs(os.path.join(args.out, "tuned"))
    os.makedirs(hf)
    sd = hf_state_dict(cfg, w)
    save_file(sd, os.path.join(hf, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(config_json(cfg), f, indent=2, sort_keys=True)
    with open(os.path.join(hf, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2}, f, indent=2)
    tok = build_tokenizer(pieces, scores)
    tok.save(os.path.join(hf, "tokenizer.json"))
    with open(os.path.join(hf, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "model_max_length": cfg["seq_len"], "legacy": False,
                   "tokenizer_class": "LlamaTokenizerFast", "clean_up_tokenization_spaces": False},
                  f, indent=2, sort_keys=True)

    sketch = {}
    for i in range(cfg["layers"]):
        for dst in LINEARS.values():
            name = f"model.layers.{i}.{dst}"
            sketch[name] = ref.sketch_linear(sd[name + ".weight"], bits=4, groups=GROUPS, lut_dtype=torch.float16)
    ref.write_sketch_pickle(os.path.join(args.out, "sketch.pkl"), sketch)
    ref.write_tuned_pickle(os.path.join(args.out, "tuned", "sketched_params.pkl"),
                           {k: lut.to(torch.bfloat16) for k, (lut, _) in sketch.items()})

    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM
    tok = Tokenizer.from_file(os.path.join(hf, "tokenizer.json"))
    dense = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32, attn_implementation="eager").eval()
    runs = {"dense": dense,
            "sketched": ref.load_training_time_model(hf, os.path.join(args.out, "sketch.pkl")),
            "sketched_tuned_bf16": ref.load_training_time_model(hf, os.path.join(args.out, "sketch.pkl"),
                                                                os.path.join(args.out, "tuned"))}
    result = {"note": "greedy from [BOS]; derived from llama2.c stories260K (MIT) - do not commit",
              "groups": GROUPS, "bits": 4, "lut_dtype": "float16", "tuned_dtype": "bfloat16"}
    for label, model in runs.items():
        ids = ref.greedy(model, [1], GREEDY).tolist()
        result[label] = {"tokens": ids, "text": tok.decode(ids, skip_special_tokens=True)}
    story_ids = tok.encode(STORY).ids
    result["story"] = {"text": STORY, "ids_with_bos": story_ids}
    # the tokenizer must agree with llama2.c's encoder and decode back to the same text
    for text in [STORY, UNUSUAL] + [result[label]["text"] for label in runs]:
        ids = tok.encode(text).ids
        if ids != llama2c_encode(text, pieces, scores):
            sys.exit(f"stories260k_to_hf: tokenizer.json disagrees with llama2.c's encoder on {text!r}")
        if tok.decode(ids, skip_special_tokens=True) != text:
            sys.exit(f"stories260k_to_hf: tokenizer.json does not round-trip {text!r}")
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    for label in runs:
        print(f"{label}: {result[label]['text']!r}")
    print(f"story: {len(story_ids)} ids; tokenizer.json == llama2.c encode and round-trips on "
          f"{2 + len(runs)} texts")


if __name__ == "__main__":
    main()
