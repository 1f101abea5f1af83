"""A tiny byte-level BPE tokenizer (built with the `tokenizers` library) for one fixture."""

from __future__ import annotations

import json
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

# Training text written for this project (no external data).
_TEXT = [
    "The sketch keeps four bit codes and a small table for every row group of a linear layer.",
    "Fine tuning moves only the tables; the codes never change after sketching the model.",
    "A converter reads the pickles, checks every shape, and writes one graph with custom nodes.",
    "The runtime loads the graph, keeps a cache of keys and values, and samples the next token.",
    "Once the story starts, the little robot walks to the river and counts the stones twice.",
    "Numbers like 12, 345 and 6789 appear too, with punctuation: commas, dots; and questions?",
]
CHAT_TEMPLATE = ("{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}")
CHECK_TEXT = "The little robot counts 42 stones; the tables move, the codes stay."


def build(vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_TEXT * 4, trainer)
    # like Llama-3's tokenizer.json: the post-processor adds BOS
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok


def write(hf_dir: str, spec: dict) -> dict:
    """Writes tokenizer.json + tokenizer_config.json; returns an encode check for fixture.json."""
    tok = build(spec["vocab_size"])
    assert tok.token_to_id("<s>") == spec["bos_token_id"] and tok.token_to_id("</s>") == spec["eos_token_id"]
    assert tok.get_vocab_size() <= spec["vocab_size"]
    tok.save(os.path.join(hf_dir, "tokenizer.json"))
    config = {
        "add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
        "pad_token": "<pad>", "model_max_length": spec["max_position_embeddings"],
        "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE,
    }
    with open(os.path.join(hf_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    reloaded = Tokenizer.from_file(os.path.join(hf_dir, "tokenizer.json"))
    ids = reloaded.encode(CHECK_TEXT).ids
    assert reloaded.decode(ids, skip_special_tokens=True) == CHECK_TEXT
    return {"text": CHECK_TEXT, "ids_with_bos": ids, "vocab_size": reloaded.get_vocab_size()}
