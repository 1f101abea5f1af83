"""Fixture specs: the committed ones are valid and match what is committed; broken ones are refused."""

import copy
import json

import pytest

from sketchrt_ref.fixtures.specs import FIXTURES, config_json, validate_spec, validate_specs
from sketchrt_ref.paths import repo_path

FIXTURES_DIR = repo_path("testdata", "fixtures")
BY_NAME = {spec["name"]: spec for spec in FIXTURES}


def test_every_committed_spec_is_valid_and_named_once():
    validate_specs(FIXTURES)
    assert len(BY_NAME) == len(FIXTURES) == 6


def test_every_spec_has_its_committed_fixture_and_nothing_else_is_there():
    committed = sorted(p.name for p in FIXTURES_DIR.iterdir() if p.is_dir())
    assert committed == sorted(BY_NAME)
    for name, spec in BY_NAME.items():
        desc = json.loads((FIXTURES_DIR / name / "fixture.json").read_text())
        assert {k: desc[k] for k in ("groups", "bits", "lut_dtype", "num_key_value_heads")} == \
               {k: spec[k] for k in ("groups", "bits", "lut_dtype", "num_key_value_heads")}


@pytest.mark.parametrize("name", [s["name"] for s in FIXTURES if s.get("config_style", "legacy") == "legacy"])
def test_config_json_is_what_the_committed_checkpoint_holds(name):
    committed = json.loads((FIXTURES_DIR / name / "hf" / "config.json").read_text())
    assert committed == config_json(BY_NAME[name])


def test_config_json_copies_rope_scaling():
    spec = BY_NAME["llama3_gqa_g4_bf16"]
    cfg = config_json(spec)
    cfg["rope_scaling"]["factor"] = 1.0
    assert spec["rope_scaling"]["factor"] == 8.0


def broken(base="llama_gqa_g8", **changes):
    spec = copy.deepcopy(BY_NAME[base])
    spec.update(changes)
    return spec


@pytest.mark.parametrize("spec, problem", [
    (broken(groups=3), "K=64 does not split into 3 groups"),
    (broken(groups=16), "K=176 does not split into 16 groups"),  # 11 columns per group: odd
    (broken(bits=5), "bits must be 1..4"),
    (broken(lut_dtype="int8"), "lut_dtype int8 is not one of"),
    (broken(architecture="GPT2LMHeadModel"), "unknown architecture GPT2LMHeadModel"),
    (broken(num_key_value_heads=3), "4 attention heads do not share 3"),
    (broken(head_dim=8), "differs from hidden_size 64"),
    (broken(two_d=True), "2-D pickle form exists only for groups = 1"),
    (broken(eos_token_id=[2, 256]), "below vocab_size 256"),
    (broken(name="Bad-Name"), "lower-case letters"),
    (broken(rope_scaling={"factor": 8.0}), "rope_scaling needs a rope_type"),
    (broken(config_style="transformers4"), "config_style transformers4"),
])
def test_a_broken_spec_is_refused_naming_the_problem(spec, problem):
    with pytest.raises(ValueError, match=f"fixture spec {spec['name']}: .*{problem}"):
        validate_spec(spec)


def test_a_missing_field_is_named():
    spec = broken()
    del spec["rms_norm_eps"], spec["groups"]
    with pytest.raises(ValueError, match="missing groups, rms_norm_eps"):
        validate_spec(spec)


def test_a_name_used_twice_is_refused():
    with pytest.raises(ValueError, match="llama_gqa_g8: the name is used twice"):
        validate_specs([BY_NAME["llama_gqa_g8"], broken()])
