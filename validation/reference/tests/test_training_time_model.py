"""The training-time model against a committed fixture's golden (committed data: never skipped)."""

import pytest
import torch
from safetensors.torch import load_file

from sketchrt_ref import training_time as ref
from sketchrt_ref.fixtures import check_fixtures
from sketchrt_ref.paths import repo_path

FIXTURE = repo_path("testdata", "fixtures", "llama_gqa_g8")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_committed_fixture_is_there():
    assert (FIXTURE / "golden.safetensors").is_file(), f"{FIXTURE} is missing: the fixtures moved or were not committed"


def test_check_fixtures_finds_no_problem_in_a_committed_fixture():
    assert check_fixtures.check(str(FIXTURE)) == []


def test_the_golden_logits_and_a_longer_greedy_run_agree_with_the_fixture():
    golden = load_file(FIXTURE / "golden.safetensors")
    model = ref.load_training_time_model(FIXTURE / "hf", FIXTURE / "sketch.pkl", FIXTURE / "tuned")
    logits = ref.forward_logits(model, golden["input_ids"])
    assert torch.allclose(logits, golden["logits"], rtol=0, atol=1e-5)
    assert not torch.allclose(golden["logits"], golden["logits_untuned"], rtol=0, atol=1e-3)
    tokens = ref.greedy(model, golden["greedy_prompt"], 40)  # exactly 40: EOS does not stop it
    assert tokens.shape == (40,) and tokens.dtype == torch.int64
    assert torch.equal(tokens[:24], golden["greedy_tokens"])


def test_a_tuned_sketch_naming_other_modules_is_refused():
    sketch = ref.read_pickle_trusted(FIXTURE / "sketch.pkl")
    tuned = {name: lut for name, (lut, _) in sketch.items()}
    tuned.pop(next(iter(tuned)))
    with pytest.raises(ValueError, match="different modules"):
        ref.load_training_time_model(FIXTURE / "hf", sketch, tuned)
