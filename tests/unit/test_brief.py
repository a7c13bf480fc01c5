"""journeykit.run.brief: the one-page brief reads what the sections recorded
(metrics.json-shaped dicts written by hand here) and ranks changes as the
executive summary does."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from journeykit import report
from journeykit.core import config
from journeykit.run import brief
from journeykit.sections.summary import compute as summary
from journeykit.stats import compare

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "params" / "clients").mkdir(parents=True)
    (tmp_path / "params" / "defaults.yaml").write_text((ROOT / "params" / "defaults.yaml").read_text())

    def make(language="en", name="C"):
        (tmp_path / "params" / "clients" / "c.yaml").write_text(
            f"name: '{name}'\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: {language}\n"
            "data: {source: data/c, tables: {orders: {file: o.csv}}}\n", encoding="utf-8")
        return config.load("c", "2026-10", root=tmp_path)

    return make


def rec(change, label, kind, advice=None):
    return report.change_record(change, label, kind, advice)


def sections():
    revenue = compare.count("revenue", 5_000_000, 31, 3_000_000, 30)      # money: ranked first whatever its size
    orders = compare.count("orders", 330, 31, 200, 30)                     # |Δ/day| 3.98 × 31 days = 123
    pay = compare.rate("payment_success_rate", 900, 1000, 980, 1000)       # |Δ| 0.08 × 1000 = 80, down
    churn = compare.rate("churn_rate", 80, 400, 40, 400, higher_is_better=False)   # 0.10 × 400 = 40, bad news
    referral = compare.rate("referral_rate", 60, 300, 30, 300)            # 0.10 × 300 = 30: fourth, left out
    ctr = compare.rate("ctr", 30, 1000, 28, 1000)                         # not significant
    return {
        "10_awareness": {"status": "ok", "title": "10 · Awareness", "metrics": {},
                         "changes": [rec(ctr, "Click-through rate", "pct")]},
        "30_purchase": {"status": "ok", "title": "30 · Purchase", "metrics": {},
                        "changes": [rec(orders, "Orders", "int"), rec(revenue, "Revenue", "money"),
                                    rec(pay, "Payment success rate", "pct",
                                        {"down": "purchase_next_payment_down"})]},
        "40_retention": {"status": "ok", "title": "40 · Retention", "metrics": {},
                         "changes": [rec(churn, "Churn rate", "pct")]},
        "50_advocacy": {"status": "ok", "title": "50 · Advocacy", "metrics": {},
                        "changes": [rec(referral, "Referred share", "pct")]},
        "60_segmentation": {"status": "ok", "title": "60 · Segmentation", "metrics": {"playbooks": [
            {"action": "welcome", "label": "Welcome", "timing": "day 1", "customers": 12, "revenue_12m": 0.0},
            {"action": "winback", "label": "Win back", "timing": "now", "customers": 40, "revenue_12m": 900000.0},
            {"action": "vip", "label": "VIP", "timing": "monthly", "customers": 3, "revenue_12m": 2000000.0},
            {"action": "none", "label": "Nobody", "timing": "-", "customers": 0, "revenue_12m": 0.0}]}},
    }


def test_kpi_rows_show_values_changes_and_verdict_words_not_p_values():
    rows = {r["key"]: r for r in brief.kpi_rows(sections(), "KRW", "en")}
    # the scorecard's KPIs only (registry order), as recorded
    assert list(rows) == [r.change.key for r in summary.scorecard(sections(), None)]
    assert list(rows) == ["ctr", "orders", "revenue", "payment_success_rate", "churn_rate", "referral_rate"]
    o = rows["orders"]
    assert (o["value"], o["prev"], o["arrow"], o["tone"], o["verdict_text"]) == ("330", "200", "▲", "good", "significant")
    assert o["delta"] == "+59.7% per day"             # 330/31 = 10.65 vs 200/30 = 6.67 a day
    c = rows["churn_rate"]
    assert (c["value"], c["prev"], c["delta"], c["arrow"], c["tone"]) == ("20.0%", "10.0%", "+10.0 pp", "▲", "bad")
    p = rows["payment_success_rate"]
    assert (p["value"], p["delta"], p["arrow"], p["tone"]) == ("90.0%", "−8.0 pp", "▼", "bad")
    t = rows["ctr"]                                    # 3.0 % vs 2.8 %: not significant, a grey slanted arrow
    assert (t["arrow"], t["tone"], t["verdict_text"]) == ("↗", "neutral", "not significant")
    assert rows["revenue"]["value"] == "₩5,000,000"
    assert not any(re.search(r"\bp\s*[=<]", str(v)) for r in rows.values() for v in r.values())
    ko = {r["key"]: r for r in brief.kpi_rows(sections(), "KRW", "ko")}
    assert ko["churn_rate"]["delta"] == "+10.0%p" and ko["orders"]["verdict_text"] == "유의함"


def test_top_changes_are_the_summarys_three_largest_significant(cfg):
    s = sections()
    top = brief.top_changes(s, cfg())
    # revenue (money first), then orders (123 a month), payment success (80); churn (40) and referral (30) not
    assert [t["key"] for t in top] == ["revenue", "orders", "payment_success_rate"]
    assert [t["key"] for t in top] == [rec["key"] for _, rec, _ in summary.significant_changes(s, 3)]
    assert [t["section"] for t in top] == ["Purchase"] * 3
    assert top[2]["tone"] == "bad" and "96.0%" not in top[2]["sentence"] and "98.0%" in top[2]["sentence"]
    # nothing significant: no change listed
    quiet = {"10_awareness": s["10_awareness"]}
    assert brief.top_changes(quiet, cfg()) == []


def test_top_actions_are_recorded_advice_then_playbooks_within_k_anonymity(cfg):
    actions = brief.top_actions(sections(), cfg())
    assert len(actions) == 4
    assert "payment" in actions[0].lower()             # the purchase section's advice for the fall
    # playbooks by revenue at stake: VIP (3 customers: under k = 10, no spend shown), Win back, Welcome
    assert actions[1] == "VIP: < 10 customers (monthly)."
    assert actions[2] == "Win back: 40 customers, ₩900,000 of spend in the last 12 months (now)."
    assert actions[3] == "Welcome: 12 customers (day 1)."
    assert brief.top_actions(sections(), cfg(), limit=2) == actions[:2]
    ko = brief.top_actions(sections(), cfg("ko"))
    assert ko[2] == "Win back: 대상 고객 40명, 최근 12개월 구매액 ₩900,000(now)."


def test_brief_html_is_escaped_and_in_the_clients_language(cfg):
    page = brief.brief_html(cfg("ko", name="<b>에이크미</b>"), sections(), "2026-11-02 09:30")
    assert "<b>에이크미</b>" not in page and "&lt;b&gt;에이크미&lt;/b&gt;" in page
    assert "한 장 요약" in page and "2026년 10월" in page and "가장 큰 의미 있는 변화" in page
    assert "default-src 'none'" in page and "<script" not in page
    assert page.count('class="kpi"') == 6 and page.count("<li class=") == 3
    empty = brief.brief_html(cfg(), {}, "2026-11-02 09:30")
    assert "No headline KPI changed significantly" in empty and "No section recorded an action" in empty


def _png_size(path: Path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftoppm") and shutil.which("pdfinfo")),
                    reason="needs chromium and poppler-utils (make sysdeps)")
def test_write_brief_prints_one_landscape_page_and_its_png(cfg, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    s = sections()
    many = [{"action": f"a{i}", "label": "A long playbook action name " * 6, "timing": "now", "customers": 50 + i,
             "revenue_12m": 1000.0 * i} for i in range(30)]
    s["60_segmentation"]["metrics"]["playbooks"] = many   # too much text still stays on one page
    assert brief.write_brief(cfg("ko"), out, {"sections": s}, "2026-11-02 09:30") == []
    assert sorted(p.name for p in out.iterdir()) == ["brief.pdf", "brief.png"]   # the HTML is cleaned up
    info = subprocess.run(["pdfinfo", str(out / "brief.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert w > h                                        # A4 landscape
    pw, ph = _png_size(out / "brief.png")
    assert pw > ph and pw >= 1200


def test_write_brief_keeps_the_pdf_and_warns_without_pdftoppm(cfg, tmp_path, monkeypatch):
    from journeykit.run import render

    def fake_print(html_path, pdf_path, timeout=180):
        assert "한 장 요약" in html_path.read_text(encoding="utf-8")
        pdf_path.write_bytes(b"%PDF-1.4 fake")

    monkeypatch.setattr(render, "print_pdf", fake_print)
    monkeypatch.setattr(brief.shutil, "which", lambda name: None)
    warnings = brief.write_brief(cfg("ko"), tmp_path, {"sections": sections()}, "2026-11-02 09:30")
    assert len(warnings) == 1 and "brief.png not made" in warnings[0] and "poppler-utils" in warnings[0]
    assert (tmp_path / "brief.pdf").is_file() and not (tmp_path / "brief.png").exists()
    assert not (tmp_path / ".brief.html").exists()
