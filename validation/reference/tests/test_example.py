"""The bundled example's data, tokenizer and LUT-only training pieces (examples/arith)."""

import json
import random

import pytest
import torch

from sketchrt_ref import training_time as ref
from sketchrt_ref.example import arith, sketch_training as st
from sketchrt_ref.paths import repo_path


@pytest.fixture(scope="module")
def tok():
    return arith.build_tokenizer()


def test_prompts_encode_one_id_per_character_after_bos(tok):
    ids = arith.encode(tok, "12-3=")
    assert ids == [arith.BOS_ID] + [arith.VOCAB[c] for c in "12-3="]
    assert tok.decode(ids[1:]) == "12-3="


def test_the_committed_example_tokenizer_is_this_one(tok):
    committed = json.loads(repo_path("examples", "arith", "hf", "tokenizer.json").read_text())
    assert committed["model"]["vocab"] == arith.VOCAB
    assert committed == json.loads(tok.to_str())


def test_problems_are_correct_and_subtraction_stays_non_negative():
    rng = random.Random(5)
    for op in "+-" * 200:
        prompt, answer = arith.make_problem(rng, op, 99)
        a, b = prompt[:-1].split(op)
        assert int(answer) == (int(a) + int(b) if op == "+" else int(a) - int(b)) >= 0


def test_heldout_problems_are_distinct_and_reproducible():
    first = arith.heldout_problems(7, "-", 200, 99)
    assert len({p for p, _ in first}) == 200
    assert first == arith.heldout_problems(7, "-", 200, 99)


def test_training_batches_learn_only_the_answer_and_skip_heldout_prompts(tok):
    heldout = {p for p, _ in arith.heldout_problems(1, "+", 50, 9)}
    stream = arith.ProblemStream(tok, "+", 2, 9, heldout)
    ids, labels = stream.batch(64)
    for row_ids, row_labels in zip(ids.tolist(), labels.tolist()):
        text = tok.decode(row_ids, skip_special_tokens=True)
        prompt = text[: text.index("=") + 1]
        assert prompt not in heldout
        learned = [t for t in row_labels if t != -100]
        answer = text[len(prompt):]
        assert learned == tok.encode(answer, add_special_tokens=False).ids + [arith.EOS_ID]
        assert row_ids[len(prompt) + 1 + len(learned):] == [arith.PAD_ID] * (len(row_ids) - len(prompt) - 1 - len(learned))


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    lrs = [st._lr(step, 100, 1.0, warmup=5) for step in range(100)]
    assert lrs[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert lrs[5] == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.1, abs=1e-3)
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:]))


def test_a_trainable_sketch_computes_x_wt_and_trains_only_its_lut():
    gen = torch.Generator().manual_seed(9)
    lut, codes = ref.sketch_linear(torch.randn(6, 16, generator=gen), bits=4, groups=2)
    layer = st.TrainableSketchLinear(lut, codes)
    x = torch.randn(3, 16, generator=gen)
    y = layer(x)
    assert torch.allclose(y, x @ ref.gather_weight(lut.float(), codes).t(), atol=1e-6)
    y.sum().backward()
    assert [name for name, p in layer.named_parameters()] == ["quant_grid"]
    assert layer.quant_grid.grad is not None and layer.quant_grid.grad.abs().sum() > 0


def test_greedy_answers_stop_at_eos_and_accuracy_needs_it():
    class Scripted(torch.nn.Module):
        """Answers '7' then EOS for every prompt, whatever it is."""

        def forward(self, input_ids, use_cache=False):
            steps = input_ids.shape[1] - 6  # prompts below are 6 ids long
            logits = torch.zeros(input_ids.shape[0], input_ids.shape[1], len(arith.VOCAB))
            logits[:, -1, arith.VOCAB["7"] if steps == 0 else arith.EOS_ID] = 1.0
            return type("Out", (), {"logits": logits})()

    tok = arith.build_tokenizer()
    answers = st.greedy_answers(Scripted(), tok, ["10-3=", "12-5="], max_new=6)
    assert answers == [("7", [arith.VOCAB["7"], arith.EOS_ID], True)] * 2
    assert st.accuracy(answers, [("10-3=", "7"), ("12-5=", "6")]) == 0.5
