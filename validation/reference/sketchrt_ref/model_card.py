"""The one check of every sketchrt.json (model card) that a Python generator writes.

The format module owns the card's schema and exports it as a JSON Schema file; generators validate
what they write against that file instead of re-spelling the format."""

from __future__ import annotations

import json
from pathlib import Path

from .paths import repo_path

# Exported by the Java format module (io.sketchrt.format).
SCHEMA_RESOURCE = ("format", "src", "main", "resources", "io", "sketchrt", "format", "sketchrt.schema.json")


class ModelCardError(ValueError):
    """A sketchrt.json that does not match the schema (one line naming the field)."""


def schema_path() -> Path:
    return repo_path(*SCHEMA_RESOURCE)


def validate_model_card(card: dict, schema_file: Path | None = None) -> bool:
    """Validates `card` against the sketchrt.json JSON Schema and returns True. Raises
    ModelCardError on a mismatch, FileNotFoundError when the schema is missing (it is committed)
    and ImportError when the jsonschema package is missing (make python-env installs it into build/venv)."""
    path = schema_file or schema_path()
    if not path.is_file():
        raise FileNotFoundError(f"sketchrt_ref: the sketchrt.json schema {path} is missing (format module)")
    try:
        import jsonschema
    except ImportError as e:
        raise ImportError(f"sketchrt_ref: validating sketchrt.json against {path} needs the jsonschema "
                          f"package ({e}): run make python-env, then use build/venv/bin/python") from e
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(card), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        field = "/".join(str(p) for p in first.absolute_path) or "(the card itself)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ModelCardError(f"sketchrt.json: {field}: {first.message}{more}")
    return True


def write_model_card(path: Path, card: dict, **json_args) -> None:
    """Validates `card`, then writes it to `path` as JSON (json.dumps keyword arguments pass through)."""
    validate_model_card(card)
    path.write_text(json.dumps(card, **json_args))
