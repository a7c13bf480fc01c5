"""Notebook conventions (STYLE.md, "A notebook, top to bottom"), checked on
every section notebook so a new or edited one cannot drift from them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from journeykit.sections import registry

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PARAMETERS = {"client": "str", "period": "str", "run_config": "str"}


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb(request):
    return request.param.stem, nbformat.read(request.param, as_version=4)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) == len(registry.SECTIONS)


def test_committed_without_outputs(nb):
    name, book = nb
    for i, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name} cell {i} has outputs: strip them"


def test_one_flat_typed_parameters_cell(nb):
    name, book = nb
    params = [c for c in book.cells if "parameters" in tags(c)]
    assert len(params) == 1, f"{name}: exactly one cell tagged 'parameters'"
    tree = ast.parse(params[0].source)
    found = {}
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), f"{name}: the parameters cell holds typed assignments only"
        assert isinstance(node.value, ast.Constant), f"{name}: parameters are scalars (derived values go below)"
        found[node.target.id] = node.annotation.id
    assert found == PARAMETERS, name
    for line in params[0].source.splitlines():
        assert "  # " in line, f"{name}: every parameter has a trailing comment ({line!r})"


def test_title_and_subtitle_in_both_languages(nb):
    name, book = nb
    first_en = next(c for c in book.cells if c.cell_type == "markdown" and "lang-en" in tags(c))
    first_ko = next(c for c in book.cells if c.cell_type == "markdown" and "lang-ko" in tags(c))
    for cell in (first_en, first_ko):
        assert re.match(rf"^# {name[:2]} · .+\n\n> .+", cell.source), f"{name}: H1 with the number, then a > subtitle"


def test_narrative_comes_in_en_ko_pairs(nb):
    name, book = nb
    md = [c for c in book.cells if c.cell_type == "markdown"]
    assert all(tags(c) & {"lang-en", "lang-ko"} for c in md), f"{name}: every markdown cell is tagged lang-en or lang-ko"
    langs = ["en" if "lang-en" in tags(c) else "ko" for c in md]
    assert langs == ["en", "ko"] * (len(md) // 2), f"{name}: each English cell is followed by its Korean twin"
    for en, ko in zip(md[::2], md[1::2]):
        head = lambda c: [len(m) for m in re.findall(r"^(#+) ", c.source, re.M)]  # noqa: E731
        assert head(en) == head(ko), f"{name}: paired cells have the same headings ({en.source[:40]!r})"


def test_setup_reads_the_runs_configuration(nb):
    name, book = nb
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert "jk.config.load(client, period, resolved=run_config)" in code, name
    assert "os.environ" not in code, f"{name}: the run context comes through run_config, not the environment"


def test_ends_by_recording_its_metrics(nb):
    name, book = nb
    last = [c for c in book.cells if c.cell_type == "code"][-1]
    assert re.search(rf"report\.record\(\s*\"{name}\"", last.source), f"{name}: the last cell records its metrics"
    if registry.get(name) and registry.get(name).needs + registry.get(name).needs_any:
        code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
        assert f'jk.sections.require(cfg, ds, "{name}")' in code, f"{name}: checks its needs through the registry"


def test_code_cells_are_short(nb):
    # logic lives in journeykit; a notebook cell calls it
    name, book = nb
    for cell in book.cells:
        if cell.cell_type == "code" and "parameters" not in tags(cell):
            assert len(cell.source.splitlines()) <= 8, f"{name}: a long code cell belongs in journeykit ({cell.source[:60]!r})"


def test_opens_on_the_journeykit_kernel_with_the_korean_narrative_collapsed(nb):
    # JupyterLab (make lab) offers the project's environment as the "journeykit" kernel; the
    # English narrative is the one shown, the Korean twin collapsed (kept, rendered for ko clients)
    name, book = nb
    assert book.metadata["kernelspec"]["name"] == "journeykit", name
    for cell in book.cells:
        if cell.cell_type == "markdown":
            hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
            assert hidden == ("lang-ko" in tags(cell)), f"{name}: {cell.source[:40]!r}"
    assert all(cell.get("id") for cell in book.cells), f"{name}: every cell has an id"
