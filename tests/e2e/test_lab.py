"""The analyst's JupyterLab, as `make lab` sets it up: JupyterLab in its own
``.venv-lab`` (so it does not slow every report run), whose default kernel
is the project's environment ("journeykit"). The server is started headless
on a free port, its kernelspec checked through the REST API, and a section
notebook executed twice in a row in one kernel of that spec (an analyst's
Run All, twice)."""

from __future__ import annotations

import copy
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / ".venv-lab"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read().decode())


@pytest.fixture
def lab_server(tmp_path, tiny_data):
    if not (LAB / "bin" / "jupyter-lab").exists():
        pytest.fail("JupyterLab's environment is missing: `make lab-env` creates it (`make test` does)")
    port, token = _free_port(), secrets.token_hex(16)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(
        [str(LAB / "bin" / "jupyter-lab"), "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/api/status", token)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.e2e
def test_lab_serves_the_journeykit_kernel_and_runs_a_section_twice(lab_server):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    base, token = lab_server
    specs = _get(f"{base}/api/kernelspecs", token)
    assert specs["default"] == "journeykit"
    spec = specs["kernelspecs"]["journeykit"]["spec"]
    # the kernel is the project's environment, where journeykit is installed
    assert Path(spec["argv"][0]).parent.parent.name == ".venv"

    source = nbformat.read(REPO / "notebooks" / "40_retention.ipynb", as_version=4)
    assert source.metadata.get("kernelspec", {}).get("name") == "journeykit"   # it opens on that kernel
    nb = copy.deepcopy(source)
    for i, cell in enumerate(copy.deepcopy(source.cells)):   # Run All, then Run All again
        cell["id"] = f"again-{i}"
        nb.cells.append(cell)
    ksm = KernelSpecManager(kernel_dirs=[str(LAB / "share" / "jupyter" / "kernels")])
    km = KernelManager(kernel_name="journeykit", kernel_spec_manager=ksm)
    NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[:1]
    recorded = [o["data"]["application/vnd.journeykit.metrics+json"]["metrics"] for c in nb.cells
                for o in c.get("outputs", []) if "application/vnd.journeykit.metrics+json" in o.get("data", {})]
    assert len(recorded) == 2
    # the same answer the second time (DuckDB's parallel sums may differ in the last bits)
    assert json.dumps(recorded[0], sort_keys=True) == json.dumps(recorded[1], sort_keys=True) or \
        _rounded(recorded[0]) == _rounded(recorded[1])


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
