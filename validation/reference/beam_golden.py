"""Golden beam-search outputs of Hugging Face transformers for the Java runtime's beam search.

    python3 validation/reference/beam_golden.py                          # testdata/fixtures/*/beam_golden.json
    python3 validation/reference/beam_golden.py --stories build/stories260K   # <dir>/beam_reference.json

Each case is `model.generate(prompt, num_beams=N, do_sample=False, length_penalty=..., early_stopping=...,
max_new_tokens=...)` on the training-time model (sketchtune_ref.load_training_time_model: fp32
activations, tuned LUTs), i.e. exactly what `sketchrt convert --tuned` deploys. Some cases declare
an EOS id that the beams actually meet, so finished hypotheses, the length penalty and the early
stopping rules all decide the answer.

Another implementation computes slightly different fp32 logits (~1e-5), so a case is kept only if
its answer survives random perturbations of every step's log-probabilities by up to NOISE (it
draws another prompt otherwise): a near-tie between two beams cannot then flip the golden.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sketchtune_ref as ref  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAX_NEW = 20
NOISE = 2e-3       # per-step log-prob perturbation a case must withstand
NOISE_TRIALS = 6
ATTEMPTS = 40


class Perturb:
    """A logits processor that adds uniform noise in [-eps, eps] (applied to beam log-probs)."""

    def __init__(self, eps: float, seed: int):
        self.eps = eps
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, input_ids, scores):
        noise = (torch.rand(scores.shape, generator=self.gen) * 2 - 1) * self.eps
        return scores + noise.to(scores.dtype)


@torch.no_grad()
def beam(model, prompt: list[int], case: dict, noise_seed: int | None = None) -> list[int]:
    from transformers import LogitsProcessorList
    kwargs = {}
    if noise_seed is not None:
        kwargs["logits_processor"] = LogitsProcessorList([Perturb(NOISE, noise_seed)])
    out = model.generate(
        torch.tensor([prompt], dtype=torch.int64), attention_mask=torch.ones(1, len(prompt), dtype=torch.int64),
        num_beams=case["num_beams"], do_sample=False, length_penalty=case["length_penalty"],
        early_stopping=case["early_stopping"], max_new_tokens=case["max_new_tokens"],
        eos_token_id=case["eos_token_id"], pad_token_id=case["eos_token_id"][0] if case["eos_token_id"] else 0,
        num_return_sequences=1, repetition_penalty=case.get("repetition_penalty", 1.0),
        temperature=None, top_p=None, top_k=None, **kwargs)
    return out[0, len(prompt):].tolist()


def trimmed(tokens: list[int], eos: list[int]) -> list[int]:
    """HF pads a finished answer after its EOS with pad_token_id; the answer ends at the EOS."""
    for i, t in enumerate(tokens):
        if t in eos:
            return tokens[:i + 1]
    return tokens


def solve(model, case: dict, prompts, distinct: bool = False) -> dict:
    """The first prompt (from the `prompts` iterator) whose beam answer is stable under noise.

    distinct: prefer a prompt whose answer differs under the other early_stopping modes, so the
    case tells the modes apart (falls back to the first stable prompt)."""
    eos = case["eos_token_id"]
    fallback = None
    for attempt, prompt in enumerate(prompts, 1):
        tokens = trimmed(beam(model, prompt, case), eos)
        differs = distinct and all(trimmed(beam(model, prompt, {**case, "early_stopping": mode}), eos) != tokens
                                   for mode in (False, True, "never") if mode != case["early_stopping"])
        if (not distinct or differs or fallback is None) and \
                all(trimmed(beam(model, prompt, case, noise_seed=s), eos) == tokens for s in range(NOISE_TRIALS)):
            found = {**case, "prompt": prompt, "tokens": tokens, "attempts": attempt,
                     "ends_with_eos": bool(tokens) and tokens[-1] in eos}
            if not distinct:
                return found
            if differs:
                return {**found, "differs_from_other_early_stopping_modes": True}
            fallback = {**found, "differs_from_other_early_stopping_modes": False}
        if attempt >= ATTEMPTS:
            break
    if fallback:
        return fallback
    raise AssertionError(f"no prompt with a beam answer stable under noise {NOISE} for {case}")


def random_prompts(gen: torch.Generator, bos: int, vocab: int, length: int, first: list[int] | None = None):
    if first is not None:
        yield first
    while True:
        yield [bos] + torch.randint(3, vocab, (length - 1,), generator=gen).tolist()


def cases_for(model, eos: list[int], bos: int, vocab: int, greedy_prompt: list[int], seed: int) -> list[dict]:
    gen = torch.Generator().manual_seed(seed)
    base = {"max_new_tokens": MAX_NEW, "eos_token_id": eos}
    out = [solve(model, {**base, "name": "beams4_default", "num_beams": 4, "length_penalty": 1.0,
                         "early_stopping": False}, random_prompts(gen, bos, vocab, 6, greedy_prompt)),
           solve(model, {**base, "name": "beams2_default", "num_beams": 2, "length_penalty": 1.0,
                         "early_stopping": False}, random_prompts(gen, bos, vocab, 9))]
    # EOS the beams meet: a token of an earlier answer becomes the end-of-sequence id.
    eos_a = [out[0]["tokens"][4]]
    eos_b = [out[1]["tokens"][2], out[0]["tokens"][7]]
    out.append(solve(model, {**base, "name": "beams4_eos_lp0.6_early_true", "num_beams": 4, "length_penalty": 0.6,
                             "early_stopping": True, "eos_token_id": eos_a}, random_prompts(gen, bos, vocab, 6, out[0]["prompt"])))
    out.append(solve(model, {**base, "name": "beams4_eos_lp1.5_never", "num_beams": 4, "length_penalty": 1.5,
                             "early_stopping": "never", "eos_token_id": eos_a}, random_prompts(gen, bos, vocab, 6, out[0]["prompt"])))
    out.append(solve(model, {**base, "name": "beams3_two_eos_lp-0.5", "num_beams": 3, "length_penalty": -0.5,
                             "early_stopping": False, "eos_token_id": eos_b}, random_prompts(gen, bos, vocab, 4, out[1]["prompt"])))
    out.append(solve(model, {**base, "name": "beams2_eos_early_false", "num_beams": 2, "length_penalty": 1.0,
                             "early_stopping": False, "eos_token_id": eos_b}, random_prompts(gen, bos, vocab, 7, out[1]["prompt"]),
                     distinct=True))
    out.append(solve(model, {**base, "name": "beams4_repetition_penalty", "num_beams": 4, "length_penalty": 1.0,
                             "early_stopping": False, "repetition_penalty": 1.3}, random_prompts(gen, bos, vocab, 5)))
    return out


def write(path: str, doc: dict) -> None:
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


def header(source: str) -> dict:
    import transformers
    return {"reference": f"transformers {transformers.__version__} generate(num_beams, do_sample=False) on "
                         f"{source}; tokens are the generated ids (EOS included when it ended the answer)",
            "noise": NOISE, "noise_trials": NOISE_TRIALS}


def fixtures(root: str, only: list[str] | None) -> None:
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "golden.safetensors")) or (only and name not in only):
            continue
        with open(os.path.join(d, "fixture.json")) as f:
            spec = json.load(f)
        model = ref.load_training_time_model(os.path.join(d, "hf"), os.path.join(d, "sketch.pkl"),
                                             os.path.join(d, "tuned"), dtype=torch.float32)
        eos = spec["eos_token_id"] if isinstance(spec["eos_token_id"], list) else [spec["eos_token_id"]]
        greedy_prompt = load_file(os.path.join(d, "golden.safetensors"))["greedy_prompt"].tolist()
        cases = cases_for(model, eos, spec["bos_token_id"], spec["vocab_size"], greedy_prompt,
                          seed=int.from_bytes(name.encode()[:4], "little"))
        write(os.path.join(d, "beam_golden.json"), {**header("the training-time model (fp32, tuned LUTs)"),
                                                    "cases": cases})
        print(f"{name}: " + ", ".join(f"{c['name']} {len(c['tokens'])} tok{' eos' if c['ends_with_eos'] else ''}"
                                      f"{' distinct' if c.get('differs_from_other_early_stopping_modes') else ''}"
                                      f" ({c['attempts']} try)" for c in cases))


def stories(data: str) -> None:
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(data, "hf", "tokenizer.json"))
    model = ref.load_training_time_model(os.path.join(data, "hf"), os.path.join(data, "sketch.pkl"),
                                         os.path.join(data, "tuned"), dtype=torch.float32)
    cases = []
    texts = ["Once upon a time", "Lily wanted to play with her", "The big dog"]
    for i, text in enumerate(texts):
        for n in (4, 2):
            case = {"name": f"{text!r} beams {n}", "num_beams": n, "length_penalty": 1.0, "early_stopping": False,
                    "max_new_tokens": MAX_NEW, "eos_token_id": [2]}
            c = solve(model, case, iter([tok.encode(text).ids]))
            c["text"] = tok.decode(c["tokens"], skip_special_tokens=True)
            cases.append(c)
    # A real EOS-like end: the first sentence. Finished and running beams compete on a trained model.
    stop = tok.token_to_id(".")
    if stop is None:
        raise AssertionError("stories260K tokenizer has no '.' token")
    c = solve(model, {"name": "'The big dog' beams 4, EOS '.'", "num_beams": 4, "length_penalty": 1.0,
                      "early_stopping": False, "max_new_tokens": MAX_NEW, "eos_token_id": [stop]},
              iter([tok.encode("The big dog").ids]))
    c["text"] = tok.decode(c["tokens"], skip_special_tokens=True)
    cases.append(c)
    # The evaluation setting of SketchTune (num_beams=4) with early stopping and a short-answer penalty.
    c = solve(model, {"name": "BOS beams 4 early lp0.8", "num_beams": 4, "length_penalty": 0.8, "early_stopping": True,
                      "max_new_tokens": 32, "eos_token_id": [2]}, iter([[1]]))
    c["text"] = tok.decode(c["tokens"], skip_special_tokens=True)
    cases.append(c)
    write(os.path.join(data, "beam_reference.json"),
          {**header("stories260K, training-time sketch with tuned LUTs (fp32)") , "cases": cases})
    for c in cases:
        print(f"{c['name']}: {c['text']!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=os.path.join(REPO, "testdata", "fixtures"), help="fixtures root")
    ap.add_argument("--only", nargs="*", help="fixture names (default: all)")
    ap.add_argument("--stories", metavar="DIR", help="a stories260k_to_hf.py output folder instead of the fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.stories:
        stories(args.stories)
    else:
        fixtures(args.fixtures, args.only)


if __name__ == "__main__":
    main()
