"""journeykit.run.portfolio: reports/index.html over two fake clients'
published metrics.json files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from journeykit import report
from journeykit.run import portfolio
from journeykit.stats import compare


def publish(reports: Path, client: str, period: str, name: str, language: str, sections: dict,
            files: tuple[str, ...] = ()) -> Path:
    d = reports / client / period
    d.mkdir(parents=True)
    doc = {"client": client, "client_name": name, "language": language, "period": period, "currency": "KRW",
           "generated_at": f"{period}-28T09:30:00+09:00", "sections": sections}
    (d / "metrics.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    for f in files:
        (d / f).write_bytes(b"x")
    return d


def purchase(orders_now: int, orders_before: int, pay=(900, 1000, 980, 1000), label="Orders") -> dict:
    return {"30_purchase": {"status": "ok", "title": "30 · Purchase", "metrics": {}, "changes": [
        report.change_record(compare.count("orders", orders_now, 31, orders_before, 30), label, "int"),
        report.change_record(compare.rate("payment_success_rate", *pay), "Payment success rate", "pct")]}}


def test_portfolio_shows_each_clients_latest_kpis_with_verdicts_and_links(tmp_path):
    reports = tmp_path / "reports"
    publish(reports, "acme", "2026-09", "ACME <Coffee>", "en", purchase(100, 100))
    publish(reports, "acme", "2026-10", "ACME <Coffee>", "en", purchase(330, 200),
            files=("report.pdf", "brief.pdf", "brief.png"))
    publish(reports, "beta", "2026-10", "베타 상점", "ko",
            purchase(101, 100, pay=(970, 1000, 975, 1000), label="주문 수"))
    publish(reports / "acme" / "_failed", "x", "2026-10", "X", "en", purchase(1, 1))   # not published

    latest = portfolio.latest_reports(reports)
    assert [(r["client"], r["period"], r["earlier"]) for r in latest] == [
        ("acme", "2026-10", ["2026-09"]), ("beta", "2026-10", [])]
    assert (latest[0]["has_pdf"], latest[0]["has_brief"], latest[0]["has_brief_png"]) == (True, True, True)
    assert (latest[1]["has_pdf"], latest[1]["has_brief"]) == (False, False)

    page = portfolio.write_portfolio(reports).read_text(encoding="utf-8")
    acme, beta = page.split('<section class="pf-client">')[1:]
    # ACME's October: 330 orders against 200 (significant, up), payment success 90.0 % against 98.0 % (down)
    assert "ACME &lt;Coffee&gt;" in acme and "<Coffee>" not in page
    assert ">330<" in acme and "▲</span> +59.7% per day · significant" in acme
    assert ">90.0%<" in acme and "▼</span> −8.0 pp · significant" in acme
    assert 'class="change good"' in acme and 'class="change bad"' in acme
    assert 'href="acme/2026-10/index.html"' in acme and 'href="acme/2026-10/report.pdf"' in acme
    assert 'href="acme/2026-10/brief.pdf"' in acme and 'href="acme/2026-10/brief.png"' in acme
    assert 'href="acme/2026-09/index.html">September 2026<' in acme          # the earlier period, linked
    # Beta: 101 orders in 31 days against 100 in 30 (3.26 against 3.33 a day: −2.3 %) and 97.0 % against
    # 97.5 %: neither significant; labels as recorded, words in the client's language (Korean)
    assert "베타 상점" in beta and "주문 수" in beta and ">101<" in beta
    assert "↘</span> 일평균 −2.3% · 유의하지 않음" in beta and "↘</span> −0.5%p · 유의하지 않음" in beta and "significant" not in beta
    assert "brief.pdf" not in beta and "report.pdf" not in beta               # not made for Beta
    assert "_failed" not in page and "default-src 'none'" in page
    assert not re.search(r"\bp\s*[=<]", page)                                # verdicts in words, no p-values
    assert page.startswith('<!DOCTYPE html><html lang="en">')               # one client reports in English


def test_portfolio_in_korean_when_every_client_is_korean_and_empty_when_none(tmp_path):
    reports = tmp_path / "reports"
    publish(reports, "beta", "2026-10", "베타 상점", "ko", purchase(101, 100))
    page = portfolio.write_portfolio(reports).read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and "고객사별 최신 리포트" in page and "2026년 10월" in page
    publish(reports, "gamma", "2026-10", "감마", "ko", {"00_data_quality": {"status": "ok", "metrics": {}}})
    page = portfolio.write_portfolio(reports).read_text(encoding="utf-8")
    assert "이 리포트에는 핵심 지표가 없습니다(1개 섹션 중 1개 생성)." in page
    empty = portfolio.write_portfolio(tmp_path / "nothing").read_text(encoding="utf-8")
    assert "No report has been rendered yet." in empty
