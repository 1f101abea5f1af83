"""repo_root: the checkout the package came from, else the one around a folder."""

from pathlib import Path

import pytest

from sketchrt_ref import paths


def test_the_installed_package_knows_its_checkout():
    root = paths.repo_root()
    assert (root / "pom.xml").is_file() and (root / "validation" / "reference" / "pyproject.toml").is_file()
    assert paths.repo_path("testdata", "fixtures") == root / "testdata" / "fixtures"


def test_away_from_its_checkout_the_working_folder_decides(monkeypatch, tmp_path):
    root = paths.repo_root()
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "a" / "b" / "c" / "paths.py"))
    assert paths.repo_root(root / "testdata" / "fixtures") == root
    with pytest.raises(FileNotFoundError, match="no sketchrt checkout at or above"):
        paths.repo_root(Path(tmp_path))
