#!/usr/bin/env python3
"""Writes the runtime's test model: runtime/src/test/resources/toy/.

A converted-model directory (CONTRACTS.md) that needs no converter: a 2-layer decoder with random
weights written directly with onnx.helper (the graph I/O of DESIGN section 4: input_ids,
attention_mask, position_ids, past_key_values.{i}.key|value -> logits, present.{i}.key|value), a
Llama-2 style tokenizer.json (BPE, metaspace, byte fallback) trained on a few sentences, and
sketchrt.json. The Java tests check the runtime against this graph run without a cache, so the
weights only need to be deterministic, not meaningful.

Run: python3 runtime/src/test/python/make_toy_model.py
"""
import json
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "toy"
LAYERS, HEADS, HEAD_DIM, HIDDEN, MAX_POS = 2, 2, 8, 16, 64
SPECIALS = ["<unk>", "<s>", "</s>"]

TEXT = [
    "Once upon a time there was a little robot who loved to read stories.",
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Sketches store four bit codes and a small lookup table for every row group.",
    "She said hello to the world and the world said hello back to her.",
] * 4


def train_tokenizer():
    """Llama-2 layout: specials, then the 256 byte tokens <0xNN>, then the BPE vocabulary."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=200, special_tokens=SPECIALS, show_progress=False)
    tok.train_from_iterator(TEXT, trainer)
    spec = json.loads(tok.to_str())
    learned = [t for t, _ in sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1]) if t not in SPECIALS]
    vocab = SPECIALS + [f"<0x{b:02X}>" for b in range(256)] + learned
    spec["model"]["vocab"] = {t: i for i, t in enumerate(vocab)}
    spec["added_tokens"] = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True} for i, t in enumerate(SPECIALS)]
    spec["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    spec["pre_tokenizer"] = None
    spec["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    spec["model"]["fuse_unk"] = True
    return spec, len(vocab)


def build_graph(vocab):
    rng = np.random.default_rng(1234)
    inits = []

    def w(name, *shape, scale=0.5):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def c(name, value, dtype=np.int64):
        inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    nodes = []

    def n(op, ins, outs, **attrs):
        nodes.append(helper.make_node(op, ins, outs, **attrs))
        return outs[0]

    c("zero", 0), c("one", 1), c("ax1", [1]), c("ax12", [1, 2]), c("neg_inf", -1e9, np.float32)
    c("scale", 1.0 / np.sqrt(HEAD_DIM), np.float32)
    c("split_heads", [0, 0, HEADS, HEAD_DIM]), c("merge_heads", [0, 0, HEADS * HEAD_DIM])
    # x = tok_emb[input_ids] + pos_emb[position_ids]            [B, S, HIDDEN]
    n("Gather", [w("tok_emb", vocab, HIDDEN), "input_ids"], ["x_tok"])
    n("Gather", [w("pos_emb", MAX_POS, HIDDEN), "position_ids"], ["x_pos"])
    x = n("Add", ["x_tok", "x_pos"], ["x0"])
    # allowed[b, 0, i, j] = attention_mask[b, j] and j <= past + i  [B, 1, S, T]
    n("Shape", ["input_ids"], ["seq"], start=1, end=2)
    n("Shape", ["attention_mask"], ["total"], start=1, end=2)
    n("Sub", ["total", "seq"], ["past"])
    n("Squeeze", ["seq"], ["seq_s"]), n("Squeeze", ["total"], ["total_s"]), n("Squeeze", ["past"], ["past_s"])
    n("Range", ["zero", "seq_s", "one"], ["q_idx0"])
    n("Add", ["q_idx0", "past_s"], ["q_idx1"])
    n("Unsqueeze", ["q_idx1", "ax1"], ["q_idx"])                     # [S, 1]
    n("Range", ["zero", "total_s", "one"], ["k_idx"])                # [T]
    n("LessOrEqual", ["k_idx", "q_idx"], ["causal"])                 # [S, T]
    n("Cast", ["attention_mask"], ["mask_b"], to=TensorProto.BOOL)
    n("Unsqueeze", ["mask_b", "ax12"], ["mask4"])                    # [B, 1, 1, T]
    n("And", ["causal", "mask4"], ["allowed"])                       # [B, 1, S, T]
    for i in range(LAYERS):
        p = f"l{i}_"

        def heads(name, src):
            n("MatMul", [src, w(p + name + "_w", HIDDEN, HEADS * HEAD_DIM)], [p + name + "_flat"])
            n("Reshape", [p + name + "_flat", "split_heads"], [p + name + "_bshd"])
            return n("Transpose", [p + name + "_bshd"], [p + name], perm=[0, 2, 1, 3])  # [B, H, S, D]

        q, k, v = heads("q", x), heads("k", x), heads("v", x)
        # present = concat(past, new) along time                      [B, H, T, D]
        kk = n("Concat", [f"past_key_values.{i}.key", k], [f"present.{i}.key"], axis=2)
        vv = n("Concat", [f"past_key_values.{i}.value", v], [f"present.{i}.value"], axis=2)
        # attn = softmax(masked(q k^T / sqrt(D))) v                    [B, H, S, D]
        n("Transpose", [kk], [p + "kT"], perm=[0, 1, 3, 2])
        n("MatMul", [q, p + "kT"], [p + "s0"])
        n("Mul", [p + "s0", "scale"], [p + "s1"])
        n("Where", ["allowed", p + "s1", "neg_inf"], [p + "s2"])
        n("Softmax", [p + "s2"], [p + "probs"], axis=-1)
        n("MatMul", [p + "probs", vv], [p + "ctx"])
        n("Transpose", [p + "ctx"], [p + "ctx_t"], perm=[0, 2, 1, 3])
        n("Reshape", [p + "ctx_t", "merge_heads"], [p + "ctx_m"])
        n("MatMul", [p + "ctx_m", w(p + "o_w", HEADS * HEAD_DIM, HIDDEN)], [p + "attn_out"])
        x = n("Add", [x, p + "attn_out"], [p + "x_attn"])
        # x = x + w2(tanh(w1 x))
        n("MatMul", [x, w(p + "w1", HIDDEN, 2 * HIDDEN)], [p + "h1"])
        n("Tanh", [p + "h1"], [p + "h2"])
        n("MatMul", [p + "h2", w(p + "w2", 2 * HIDDEN, HIDDEN)], [p + "mlp"])
        x = n("Add", [x, p + "mlp"], [p + "x_out"])
    n("MatMul", [x, w("lm_head", HIDDEN, vocab, scale=1.0)], ["logits"])

    i64, f32 = TensorProto.INT64, TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", i64, ["batch", "total"]),
              helper.make_tensor_value_info("position_ids", i64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", f32, ["batch", "seq", vocab])]
    for i in range(LAYERS):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", f32, ["batch", HEADS, "past", HEAD_DIM]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", f32, ["batch", HEADS, "total", HEAD_DIM]))
    graph = helper.make_graph(nodes, "toy_decoder", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sketchrt-test")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    spec, vocab = train_tokenizer()
    (OUT / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1))
    (OUT / "tokenizer_config.json").write_text(json.dumps({
        "add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
        "unk_token": "<unk>", "model_max_length": MAX_POS,
        "chat_template": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                         "{{ '[INST] ' + message['content'] | trim + ' [/INST]' }}{% else %}"
                         "{{ ' ' + message['content'] | trim + eos_token }}{% endif %}{% endfor %}"}, indent=1))
    (OUT / "generation_config.json").write_text(json.dumps({"bos_token_id": 1, "eos_token_id": 2}, indent=1))
    onnx.save(build_graph(vocab), str(OUT / "model.onnx"))
    (OUT / "sketchrt.json").write_text(json.dumps({
        "format": "sketchrt-model", "format_version": 1, "converter_version": "test",
        "architecture": "ToyDecoder", "target": "portable", "dtype": "fp32",
        "model_file": "model.onnx", "external_data": None,
        "num_layers": LAYERS, "hidden_size": HIDDEN, "num_attention_heads": HEADS,
        "num_key_value_heads": HEADS, "head_dim": HEAD_DIM, "vocab_size": vocab,
        "max_position_embeddings": MAX_POS, "bos_token_id": 1, "eos_token_ids": [2],
        "sketch": {"bits": [], "groups": [], "modules": 0, "tuned": False}, "sources": {}}, indent=1))
    print(f"wrote {OUT} (vocab {vocab})")


if __name__ == "__main__":
    main()
