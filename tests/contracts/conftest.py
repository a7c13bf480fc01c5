"""The broken-input corpus: one folder per case under ``cases/``.

Layout of a case folder ``cases/<case>/``::

    client.yaml     the client file, exactly as a consultant would write it,
                    except that it has no ``data.source`` (see below)
    expect.yaml     the expected outcome (format below)
    *.csv, ...      the client's exports, a handful of rows each

How a case is run (``run_case``): a throw-away project folder ``ROOT`` is
built in pytest's tmp dir with

    ROOT/params/defaults.yaml              copied from the repository
    ROOT/params/clients/<case>.yaml        client.yaml, copied byte for byte
    ROOT/data/<case>/                      the case's data files

and loaded with ``journeykit.core.config.load(<case>, period, root=ROOT,
overrides={"data": {"source": "data/<case>"}})`` and
``journeykit.data.loader.load(cfg)``. The source is given as an override (the
``--set data.source=...`` of the command line) rather than written into each
client.yaml, so a case folder can be renamed without editing it, and the
client file is copied unmodified (a case with a YAML syntax error could not
be rewritten anyway). The case folder's name is the client name, so it
must match ``[a-z0-9][a-z0-9_-]*``.

Files with bytes that are awkward in git and diffs (CP949, a BOM) are kept
in the folder as readable UTF-8 text and written in their real encoding at
test time, as listed under ``generate:`` in expect.yaml::

    generate:
      orders.csv: {from: orders.utf8.txt, encoding: cp949}

expect.yaml keys
----------------
why (required)
    One line: why this is an error, or why the repair is safe.
outcome (required)
    ``error`` | ``repaired`` | ``ok``.
period
    The run's period (default ``2026-10``).
For ``outcome: error``:
    error               ``DataError`` or ``ConfigError`` (exactly one problem per case)
    table, column       where; a DataError's attributes must equal these and
                        the message must name them (``column: null`` for a
                        whole-table problem); for a ConfigError the message
                        must contain them
    n_rows              DataError.n_rows, also shown as "rows affected: N"
    examples            every one is in DataError.examples and shown (repr)
    message_contains    strings that ``str(err)`` must contain
For ``outcome: repaired`` / ``ok``:
    repairs             ``[{table, kind, rows, what_contains}]``: each must be in
                        ``ds.report.tables[table].repairs``; with ``ok`` no
                        repairs at all are allowed besides those listed
    report              ``{table: {attribute: value}}`` of the LoadReport's TableLoad
    tables              ``ds.tables`` exactly
    data                ``{table: {...}}`` checked on the Dataset:
                        rows (``ds.table(t).count()``), raw_rows (``ds.raw(t)``),
                        sum ``{column: value}``, values ``{column: [sorted distinct
                        non-null]}``, lacks_columns ``[...]``, lookup ``[{where,
                        column, equals}]`` (on ``ds.table(t)``; timestamps as
                        ``YYYY-MM-DD HH:MM:SS``)
    pii_values          strings that no column of any table of the Dataset may contain
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CASES_DIR = Path(__file__).resolve().parent / "cases"
DEFAULT_PERIOD = "2026-10"


def case_names() -> list[str]:
    """Every case folder, sorted (folders starting with '.' or '_' are ignored)."""
    return sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir() and p.name[0] not in "._")


def read_expect(case: str) -> dict[str, Any]:
    return yaml.safe_load((CASES_DIR / case / "expect.yaml").read_text(encoding="utf-8")) or {}


@dataclass
class CaseRun:
    case: str
    root: Path
    expect: dict[str, Any]

    def load(self):
        """config.load + io.load; returns (cfg, ds). Raises what they raise."""
        import journeykit.core.config
        import journeykit.data.loader

        cfg = journeykit.core.config.load(
            self.case,
            str(self.expect.get("period", DEFAULT_PERIOD)),
            overrides={"data": {"source": f"data/{self.case}"}},
            root=self.root,
        )
        return cfg, journeykit.data.loader.load(cfg)


def build_root(case: str, tmp: Path) -> CaseRun:
    """The throw-away project for ``case`` (see the module docstring)."""
    src = CASES_DIR / case
    expect = read_expect(case)
    root = tmp / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    shutil.copy(src / "client.yaml", root / "params" / "clients" / f"{case}.yaml")
    data = root / "data" / case
    generated = expect.get("generate") or {}
    inputs = {spec["from"] for spec in generated.values()}
    shutil.copytree(src, data, ignore=lambda d, names: [
        n for n in names if n in ("client.yaml", "expect.yaml") or n in inputs])
    for target, spec in generated.items():
        text = (src / spec["from"]).read_text(encoding="utf-8")
        (data / target).write_bytes(text.encode(spec["encoding"]))
    return CaseRun(case, root, expect)


def pytest_generate_tests(metafunc):
    # A test that takes a ``case`` argument runs once per case folder.
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", case_names())


@pytest.fixture
def case_root(tmp_path):
    """``case_root(name)`` -> CaseRun in a fresh tmp project."""
    return lambda case: build_root(case, tmp_path)


@pytest.fixture
def cases_dir() -> Path:
    return CASES_DIR


@pytest.fixture
def all_cases() -> list[str]:
    return case_names()


@pytest.fixture
def expect_of():
    """``expect_of(case)`` -> the parsed expect.yaml."""
    return read_expect
