"""Where the sketchrt checkout is, for tools whose default output lies inside it."""

from __future__ import annotations

from pathlib import Path

# Files that only the sketchrt checkout has at its root.
_MARKERS = ("pom.xml", "validation/reference/pyproject.toml")


def _is_checkout(folder: Path) -> bool:
    return all((folder / m).is_file() for m in _MARKERS)


def repo_root(start: Path | None = None) -> Path:
    """The checkout this package was installed from (editable install, or run from
    validation/reference), else the first folder at or above `start` (default: the working
    directory) that is one. Raises FileNotFoundError when there is none."""
    source = Path(__file__).resolve().parents[3]  # sketchrt_ref/paths.py -> the repository
    if _is_checkout(source):
        return source
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_checkout(folder):
            return folder
    raise FileNotFoundError(f"sketchrt_ref: no sketchrt checkout at or above {here} (and the package "
                            "is not installed from one): run inside the repository or pass an output path")


def repo_path(*parts: str) -> Path:
    """A path inside the checkout, e.g. repo_path("testdata", "fixtures")."""
    return repo_root().joinpath(*parts)
