"""validate_model_card: the one check of a sketchrt.json written from Python."""

import json
import sys

import pytest

from sketchrt_ref import model_card
from sketchrt_ref.model_card import ModelCardError, validate_model_card, write_model_card
from sketchrt_ref.paths import repo_path

# A stand-in for the schema the format module exports (only the shape of a JSON Schema matters here).
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["format", "format_version", "target", "num_layers"],
    "properties": {
        "format": {"const": "sketchrt-model"},
        "format_version": {"type": "integer", "minimum": 1},
        "target": {"enum": ["portable", "ort-cpu"]},
        "num_layers": {"type": "integer", "minimum": 1},
        "eos_token_ids": {"type": "array", "items": {"type": "integer"}},
    },
}
CARD = {"format": "sketchrt-model", "format_version": 1, "target": "portable", "num_layers": 2, "eos_token_ids": [2]}


@pytest.fixture
def schema(tmp_path):
    path = tmp_path / "sketchrt.schema.json"
    path.write_text(json.dumps(SCHEMA))
    return path


def test_a_valid_card_passes(schema):
    assert validate_model_card(CARD, schema) is True


@pytest.mark.parametrize("change, message", [
    ({"target": "tensorrt"}, "sketchrt.json: target: 'tensorrt' is not one of"),
    ({"num_layers": "2"}, "sketchrt.json: num_layers: '2' is not of type 'integer'"),
    ({"eos_token_ids": [2, "x"]}, "sketchrt.json: eos_token_ids/1: 'x' is not of type 'integer'"),
])
def test_a_wrong_field_is_named_in_one_line(schema, change, message):
    with pytest.raises(ModelCardError) as e:
        validate_model_card({**CARD, **change}, schema)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_a_missing_field_is_named(schema):
    card = dict(CARD)
    del card["target"]
    with pytest.raises(ModelCardError, match="'target' is a required property"):
        validate_model_card(card, schema)


def test_without_jsonschema_a_present_schema_is_an_error(schema, monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema now raises ImportError
    with pytest.raises(ImportError, match="needs the jsonschema package"):
        validate_model_card(CARD, schema)


def test_a_missing_schema_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.json is missing"):
        validate_model_card({"anything": True}, tmp_path / "absent.json")


def test_write_model_card_checks_before_writing(tmp_path, schema, monkeypatch):
    monkeypatch.setattr(model_card, "schema_path", lambda: schema)
    out = tmp_path / "sketchrt.json"
    write_model_card(out, CARD, indent=1)
    assert out.read_text() == json.dumps(CARD, indent=1)
    with pytest.raises(ModelCardError):
        write_model_card(tmp_path / "bad.json", {**CARD, "format_version": 0})
    assert not (tmp_path / "bad.json").exists()


def test_the_schema_path_is_the_format_modules_resource():
    assert model_card.schema_path() == repo_path("format", "src", "main", "resources", "io", "sketchrt", "format",
                                                 "sketchrt.schema.json")


def test_the_committed_toy_card_passes_the_real_schema():
    card = json.loads(repo_path("runtime", "src", "test", "resources", "toy", "sketchrt.json").read_text())
    assert validate_model_card(card) is True


def test_the_real_schema_refuses_an_unknown_target():
    card = json.loads(repo_path("runtime", "src", "test", "resources", "toy", "sketchrt.json").read_text())
    with pytest.raises(ModelCardError, match="target"):
        validate_model_card({**card, "target": "ort-cpu"})
