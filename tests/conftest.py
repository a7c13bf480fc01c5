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


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """The 20,000-customer demo data (data/demo, as `make demo` leaves it;
    generated in a few seconds when missing or stale), for the few tests
    whose effect is too small to see on the tiny sample."""
    from journeykit import demo

    folder = ROOT / "data" / "demo"
    if not demo.is_current(folder, "demo", 7, demo.DEFAULT_END):
        demo.generate(folder, size="demo", seed=7)
    return folder


def make_project(folder: Path, tiny_data: Path) -> Path:
    """A throw-away project folder: the repo's params and notebooks, the
    tiny demo data, and an empty reports/ folder."""
    (folder / "params" / "clients").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", folder / "params" / "defaults.yaml")
    shutil.copy(ROOT / "params" / "clients" / "tiny.yaml", folder / "params" / "clients" / "tiny.yaml")
    shutil.copytree(ROOT / "notebooks", folder / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (folder / "data").mkdir()
    (folder / "data" / "tiny").symlink_to(tiny_data)
    (folder / "reports").mkdir()
    return folder


@pytest.fixture(scope="session")
def project_factory():
    """:func:`make_project`, for fixtures of a wider scope than ``project``."""
    return make_project


@pytest.fixture
def project(tmp_path: Path, tiny_data: Path) -> Path:
    """A throw-away project (see :func:`make_project`)."""
    return make_project(tmp_path, tiny_data)


@pytest.fixture
def make_dataset(tmp_path: Path):
    """Build a real, loaded :class:`journeykit.data.loader.Dataset` from a few rows.

    ``make_dataset({"orders": df, ...}, period="2026-10", language="en",
    definitions={...})`` writes each frame as a CSV with canonical column
    names, writes a client file for them, and loads it through the real
    loader (validation and the DuckDB cache included). Every call makes a
    new client, so one test can build several datasets.
    """
    import yaml

    from journeykit.core import config
    from journeykit.data import loader as io

    counter = {"n": 0}
    root = tmp_path / "jk"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    opened = []

    def make(tables: dict, period: str = "2026-10", language: str = "en", definitions: dict | None = None,
             currency: str = "KRW", **client):
        counter["n"] += 1
        name = f"c{counter['n']}"
        folder = root / "data" / name
        folder.mkdir(parents=True)
        spec = {}
        for table, df in tables.items():
            df.to_csv(folder / f"{table}.csv", index=False)
            spec[table] = {"file": f"{table}.csv"}
        doc = {"name": f"Client {name}", "currency": currency, "timezone": "Asia/Seoul", "language": language,
               "data": {"source": f"data/{name}", "tables": spec}, **client}
        if definitions:
            doc["definitions"] = definitions
        (root / "params" / "clients" / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                                  encoding="utf-8")
        ds = io.load(config.load(name, period, root=root))
        opened.append(ds)
        return ds

    yield make
    for ds in opened:
        ds.close()
