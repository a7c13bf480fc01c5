"""Shared fixtures. The notebooks' default parameters point at the `tiny`
demo client, so the tiny demo data is generated once per session (and kept
in data/tiny, like `make lab` does) before the first test that needs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "data" / "tiny"


def ensure_tiny() -> Path:
    from journeykit import demo

    if not demo.is_current(TINY, "tiny"):
        demo.generate(TINY, size="tiny", seed=7)
    return TINY


def pytest_collection_finish(session):
    """Generate the tiny data only when a collected test needs it: a
    notebook (nbval runs it on the tiny client) or a `tiny_data` user."""
    for item in session.items:
        if item.path.suffix == ".ipynb" or "tiny_data" in getattr(item, "fixturenames", ()):
            ensure_tiny()
            return


@pytest.fixture(scope="session")
def tiny_data() -> Path:
    return ensure_tiny()


@pytest.fixture
def project(tmp_path: Path, tiny_data: Path) -> Path:
    """A throw-away project folder: the repo's params and notebooks, the
    tiny demo data, and an empty reports/ folder."""
    (tmp_path / "params" / "clients").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", tmp_path / "params" / "defaults.yaml")
    shutil.copy(ROOT / "params" / "clients" / "tiny.yaml", tmp_path / "params" / "clients" / "tiny.yaml")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tiny").symlink_to(tiny_data)
    (tmp_path / "reports").mkdir()
    return tmp_path
