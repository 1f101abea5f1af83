"""Arithmetic-as-text data and the character-level tokenizer of the bundled example (examples/arith).

A problem is the prompt a user types, e.g. "123-45=", and the answer the model must write after it,
"78", followed by EOS. The tokenizer adds BOS itself, so the model sees "<s>123-45=78</s>".
"""

from __future__ import annotations

import json
import os
import random

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
CHARS = "0123456789+-="
VOCAB = {PAD: 0, BOS: 1, EOS: 2, UNK: 3, **{c: 4 + i for i, c in enumerate(CHARS)}}
PAD_ID, BOS_ID, EOS_ID = VOCAB[PAD], VOCAB[BOS], VOCAB[EOS]


def build_tokenizer() -> Tokenizer:
    """WordLevel over single characters: every character is one token, decoding fuses them back."""
    tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, BOS_ID)]
    )
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens([PAD, BOS, EOS, UNK])
    return tok


def save_tokenizer_files(hf_dir: str, max_len: int) -> Tokenizer:
    """tokenizer.json and tokenizer_config.json of the HF directory."""
    tok = build_tokenizer()
    tok.save(os.path.join(hf_dir, "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "unk_token": UNK,
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": max_len,
        "clean_up_tokenization_spaces": False,
    }
    with open(os.path.join(hf_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return tok


def encode(tok: Tokenizer, text: str) -> list[int]:
    """Ids as a user's prompt is encoded: BOS + one id per character."""
    return tok.encode(text).ids


def make_problem(rng: random.Random, op: str, max_operand: int) -> tuple[str, str]:
    """One (prompt, answer) pair; subtraction keeps the result non-negative."""
    a, b = rng.randint(0, max_operand), rng.randint(0, max_operand)
    if op == "-":
        a, b = max(a, b), min(a, b)
        return f"{a}-{b}=", str(a - b)
    return f"{a}+{b}=", str(a + b)


def heldout_problems(seed: int, op: str, count: int, max_operand: int) -> list[tuple[str, str]]:
    """`count` distinct problems drawn with their own seed; training never sees them."""
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < count:
        p = make_problem(rng, op, max_operand)
        if p[0] not in seen:
            seen.add(p[0])
            out.append(p)
    return out


class ProblemStream:
    """Endless training batches of one operation, skipping the held-out prompts."""

    def __init__(self, tok: Tokenizer, op: str, seed: int, max_operand: int, exclude: set[str]):
        self.tok, self.op, self.max_operand, self.exclude = tok, op, max_operand, exclude
        self.rng = random.Random(seed)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """input_ids [B, S] (right-padded) and labels [B, S]: loss only on answer digits and EOS."""
        rows, masks = [], []
        while len(rows) < size:
            prompt, answer = make_problem(self.rng, self.op, self.max_operand)
            if prompt in self.exclude:
                continue
            p = encode(self.tok, prompt)
            a = self.tok.encode(answer, add_special_tokens=False).ids + [EOS_ID]
            rows.append(p + a)
            masks.append([False] * len(p) + [True] * len(a))
        width = max(map(len, rows))
        ids = torch.full((size, width), PAD_ID, dtype=torch.int64)
        keep = torch.zeros((size, width), dtype=torch.bool)
        for i, (r, m) in enumerate(zip(rows, masks)):
            ids[i, : len(r)] = torch.tensor(r)
            keep[i, : len(m)] = torch.tensor(m)
        # HF shifts labels itself: labels[t] is the token at t, predicted from positions < t.
        labels = torch.where(keep, ids, torch.full_like(ids, -100))
        return ids, labels
