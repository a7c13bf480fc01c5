"""The rendered report in a real browser (Debian's headless Chromium): no
console errors (a blocked script or style would log one), no broken links
or images, client-supplied strings escaped, and a screenshot to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from journeykit.run import cli
from journeykit.run import render

PERIOD = "2026-10"
EVIL = "<script>console.error('pwned')</script>"


def _browse(page: Path, shot: Path) -> list[str]:
    """Open ``page`` headless, save a screenshot, return the console messages."""
    chromium = render.find_chromium()
    profile = shot.parent / f".profile-{shot.stem}"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           "--window-size=1200,1600", f"--screenshot={shot}", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)


def _broken_refs(page: Path) -> list[str]:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    broken = []
    for ref in parser.refs:
        if ref.startswith(("data:", "#")):
            continue
        if re.match(r"^[a-z]+:", ref):  # nothing in a report may point outside it
            broken.append(ref)
            continue
        if not (page.parent / ref.split("#")[0]).exists():
            broken.append(ref)
    return broken


def _run(project: Path, client: str, *extra: str) -> int:
    return cli.main(["--root", str(project), "run", "--client", client, "--period", PERIOD, *extra])


@pytest.mark.e2e
def test_report_pages_open_cleanly_in_chromium(full_run: Path, tmp_path: Path):
    out = full_run / "reports" / "tiny" / PERIOD
    pages = [out / "index.html", out / "90_summary.html", out / "00_data_quality.html", out / "10_awareness.html",
             full_run / "reports" / "index.html"]
    for page in pages:
        assert _broken_refs(page) == [], page.name
        console = _browse(page, tmp_path / f"{page.parent.name}-{page.stem}.png")
        assert console == [], f"{page.name}: {console}"


@pytest.mark.e2e
def test_client_strings_are_escaped_and_never_run(project: Path, tmp_path: Path, tiny_data: Path):
    # A hostile client name and a hostile campaign name in the marketing export.
    data = project / "data" / "evil"
    data.mkdir()
    marketing = (tiny_data / "marketing.csv").read_text(encoding="utf-8").splitlines()
    head, rows = marketing[0], marketing[1:]
    rows = [r.replace('"brand_keywords"', '"' + EVIL.replace('"', '""') + '"') for r in rows]
    (data / "marketing.csv").write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    for name in ("customers.csv", "orders.csv"):
        (data / name).symlink_to(tiny_data / name)
    (project / "params" / "clients" / "evil.yaml").write_text(
        f"name: \"{EVIL}\"\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: en\n"
        "data:\n  source: data/evil\n  tables:\n    marketing: {file: marketing.csv}\n"
        "    customers: {file: customers.csv}\n"
        "    orders: {file: orders.csv, columns: {customer_id: 고객번호, ordered_at: 주문일자, amount: 결제금액}}\n",
        encoding="utf-8")
    assert _run(project, "evil", "--sections", "00", "10", "--set", "report.pdf=false") == 0
    out = project / "reports" / "evil" / PERIOD
    for page in [*out.glob("*.html"), project / "reports" / "index.html"]:
        text = page.read_text(encoding="utf-8")
        assert EVIL not in text, page.name
        assert "&lt;script&gt;console.error" in text, page.name  # shown, as text
        console = _browse(page, tmp_path / f"evil-{page.stem}.png")
        assert not [c for c in console if "pwned" in c], page.name
