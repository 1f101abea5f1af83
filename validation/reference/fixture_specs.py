"""The committed fixtures: what each one exercises (see testdata/README.md)."""

from __future__ import annotations

import copy

_COMMON = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
               head_dim=16, vocab_size=256, bos_token_id=1, eos_token_id=2, bits=4,
               weights_dtype="float32", tuned_dtype="bfloat16")

FIXTURES = [
    dict(_COMMON, name="llama2_mha_g1_2d", family="llama2", architecture="LlamaForCausalLM",
         num_key_value_heads=4, groups=1, two_d=True, lut_dtype="float16", tie_word_embeddings=True,
         rope_theta=10000.0, rope_scaling=None, rms_norm_eps=1e-5, max_position_embeddings=4096,
         vocab_size=320, tokenizer=True,
         exercises="Llama-2 layout: MHA, tied embeddings (no lm_head.weight), G=1 pickled in the 2-D "
                   "form [N,16]/[N,K/2], fp16 LUTs; byte-level BPE tokenizer.json + tokenizer_config.json"),
    dict(_COMMON, name="llama3_gqa_g4_bf16", family="llama3", architecture="LlamaForCausalLM",
         num_key_value_heads=2, groups=4, lut_dtype="bfloat16", tie_word_embeddings=False,
         rope_theta=500000.0, rms_norm_eps=1e-5, max_position_embeddings=2048, weights_dtype="bfloat16",
         intermediate_size=176,
         rope_scaling={"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 256, "rope_type": "llama3"},
         eos_token_id=[2, 3],
         exercises="Llama-3 layout: GQA 4/2, rope_scaling llama3 (theta 500000; head_dim 16 puts "
                   "frequencies in all three llama3 regimes), untied lm_head, bf16 safetensors "
                   "(torch_dtype bfloat16), G=4 bf16 LUTs, two eos ids"),
    dict(_COMMON, name="mistral_gqa_g2_sharded", family="mistral", architecture="MistralForCausalLM",
         num_key_value_heads=2, groups=2, lut_dtype="float16", tie_word_embeddings=False,
         rope_theta=10000.0, rope_scaling=None, rms_norm_eps=1e-5, max_position_embeddings=4096,
         sliding_window=4096, max_shard_size="100KB", vocab_size=288, weights_dtype="float16",
         exercises="Mistral: GQA, sliding_window larger than any test sequence, sharded safetensors "
                   "with model.safetensors.index.json, fp16 safetensors, G=2 fp16 LUTs"),
    dict(_COMMON, name="llama_gqa_g8", family="llama", architecture="LlamaForCausalLM",
         num_key_value_heads=1, intermediate_size=176, groups=8, lut_dtype="float16",
         tie_word_embeddings=False, rope_theta=10000.0, rope_scaling=None, rms_norm_eps=1e-6,
         max_position_embeddings=2048, weights_dtype="bfloat16",
         exercises="G=8 (8 columns per group at K=64, so the 16-entry LUTs hold duplicates; 22 at "
                   "K=176), fp16 LUTs, multi-query attention (1 kv head), bf16 safetensors"),
    dict(_COMMON, name="llama_mha_bits3_g2_fp32lut", family="llama", architecture="LlamaForCausalLM",
         num_key_value_heads=4, groups=2, bits=3, lut_dtype="float32", tuned_dtype="float32",
         tie_word_embeddings=False, rope_theta=10000.0, rope_scaling=None, rms_norm_eps=1e-5,
         max_position_embeddings=2048, config_style="transformers5",
         exercises="bits=3: 8-entry LUTs, codes 0..7 still in 4-bit nibbles; G=2; fp32 base and "
                   "tuned LUTs; config.json in the transformers-5 form (rope_parameters, dtype) "
                   "instead of rope_theta/rope_scaling/torch_dtype"),
    dict(_COMMON, name="qwen2_gqa_bias_g4", family="qwen2", architecture="Qwen2ForCausalLM",
         num_key_value_heads=2, groups=4, lut_dtype="bfloat16", tie_word_embeddings=True,
         rope_theta=1000000.0, rope_scaling=None, rms_norm_eps=1e-6, max_position_embeddings=2048,
         weights_dtype="bfloat16",
         exercises="Qwen2: q/k/v biases kept dense beside sketched weights, tied embeddings, "
                   "theta 1e6, bf16 safetensors, G=4 bf16 LUTs"),
]

_MODEL_TYPE = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2"}


def config_json(spec: dict) -> dict:
    """config.json as transformers 4.x writes it for released checkpoints."""
    arch = spec["architecture"]
    cfg = {
        "architectures": [arch], "model_type": _MODEL_TYPE[arch], "hidden_act": "silu",
        "hidden_size": spec["hidden_size"], "intermediate_size": spec["intermediate_size"],
        "num_hidden_layers": spec["num_hidden_layers"], "num_attention_heads": spec["num_attention_heads"],
        "num_key_value_heads": spec["num_key_value_heads"], "vocab_size": spec["vocab_size"],
        "max_position_embeddings": spec["max_position_embeddings"], "rms_norm_eps": spec["rms_norm_eps"],
        "rope_theta": spec["rope_theta"], "rope_scaling": copy.deepcopy(spec["rope_scaling"]),
        "tie_word_embeddings": spec["tie_word_embeddings"], "bos_token_id": spec["bos_token_id"],
        "eos_token_id": spec["eos_token_id"], "torch_dtype": spec["weights_dtype"],
        "initializer_range": 0.02, "use_cache": True, "attention_dropout": 0.0,
    }
    if arch == "LlamaForCausalLM":
        cfg.update(attention_bias=False, mlp_bias=False, head_dim=spec["head_dim"], pretraining_tp=1)
    elif arch == "MistralForCausalLM":
        cfg.update(sliding_window=spec.get("sliding_window"), head_dim=spec["head_dim"])
    elif arch == "Qwen2ForCausalLM":
        cfg.update(use_sliding_window=False, sliding_window=None, max_window_layers=spec["num_hidden_layers"])
    return cfg
