"""The executive summary arranges what the sections recorded; it never
recomputes. Fixtures are metrics.json-shaped dicts written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.stats import compare
from journeykit.core import config
from journeykit import report
from journeykit.sections.summary import compute as summary
from journeykit.sections.summary import view

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "params" / "clients").mkdir(parents=True)
    (tmp_path / "params" / "defaults.yaml").write_text((ROOT / "params" / "defaults.yaml").read_text())

    def make(language="en"):
        (tmp_path / "params" / "clients" / "c.yaml").write_text(
            f"name: C\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: {language}\n"
            "data: {source: data/c, tables: {orders: {file: o.csv}}}\n", encoding="utf-8")
        return config.load("c", "2026-10", root=tmp_path)

    return make


def rec(change, label, kind):
    return report.change_record(change, label, kind)


def sections():
    orders = compare.count("orders", 330, 31, 200, 30)      # clearly up: p < 0.001
    ctr = compare.rate("ctr", 30, 1000, 28, 1000)           # not significant
    churn = compare.rate("churn_rate", 80, 400, 40, 400, higher_is_better=False)  # up, bad news
    return {
        "00_data_quality": {"status": "ok", "title": "00 · Data quality",
                            "metrics": {"rows_repaired": 12, "unmapped_event_types": 1}},
        "10_awareness": {"status": "ok", "title": "10 · Awareness", "metrics": {"impressions": 100000, "clicks": 3000},
                         "changes": [rec(ctr, "Click-through rate", "pct")],
                         "trend": {"month": ["2026-09", "2026-10"], "ctr": [0.028, 0.03]}},
        "20_consideration": {"status": "not_available", "title": "20 · Consideration", "needs": ["events"],
                             "metrics": {"sessions": None}},
        "30_purchase": {"status": "ok", "title": "30 · Purchase", "metrics": {"orders": 330},
                        "changes": [rec(orders, "Orders", "int")]},
        "40_retention": {"status": "ok", "title": "40 · Retention", "metrics": {},
                         "changes": [rec(churn, "Churn rate", "pct")]},
        "50_advocacy": {"status": "failed", "title": "50 · Advocacy", "metrics": None},
    }


def test_scorecard_takes_recorded_changes_in_journey_order(cfg):
    rows = summary.scorecard(sections(), cfg())
    assert [(r.section, r.change.key) for r in rows] == [
        ("10_awareness", "ctr"), ("30_purchase", "orders"), ("40_retention", "churn_rate")]
    assert rows[0].trend == [0.028, 0.03]
    # the verdicts are as recorded: 330 vs 200 orders (31 vs 30 days) is significant
    assert rows[1].change.significant and not rows[0].change.significant
    assert rows[2].change.good is False          # churn up is bad news


def test_scorecard_html_escapes_and_marks(cfg):
    s = sections()
    s["30_purchase"]["changes"][0]["label"] = "<b>Orders</b>"
    html = view.Scorecard(summary.scorecard(s, cfg()), cfg())._repr_html_()
    assert "<b>Orders</b>" not in html and "&lt;b&gt;Orders&lt;/b&gt;" in html
    assert 'class="mark good"' in html and 'class="mark bad"' in html   # orders up, churn up
    assert html.count("<svg") == 1                                     # only CTR recorded a trend


def test_sparkline():
    svg = view.sparkline([1, 2, None, 4])
    assert svg.startswith("<svg") and svg.count("L") == 2 and "<circle" in svg  # 3 points, last marked
    assert view.sparkline([5]) == "" and view.sparkline([]) == ""
    assert "nan" not in view.sparkline([1.0, 1.0, 1.0])                      # flat line, no division by 0


def test_what_changed_lists_significant_moves_largest_impact_first(cfg):
    text = view.what_changed(sections(), cfg())
    # orders: +3.98 a day over 31 days = 123 orders; churn: +10 pp of 400 = 40 customers → orders first;
    # months of 31 and 30 days: orders are told per day
    assert text[0].startswith("[Purchase] Orders per day rose from 6.7 to 10.6 (+59.7% per day)")
    assert text[1].startswith("[Retention] Churn rate rose from 10.0% to 20.0%")
    assert len(text) == 2                                              # CTR is not significant


def test_what_changed_ranks_by_impact_not_by_p_value(cfg):
    import dataclasses
    s = sections()
    # a change in money comes first, though its p-value (0.01) is the largest
    revenue = dataclasses.replace(compare.daily_count("revenue", [1100.0] * 31, [1000.0] * 30), p_value=0.01)
    # churn on a huge base: p ≈ 0 but 0.2 pp of 10,000 = 20 customers, less than orders' 123
    churn = compare.rate("churn_rate", 1020, 10_000, 1000, 10_000, higher_is_better=False)
    churn = dataclasses.replace(churn, p_value=1e-12, meaningful=True)
    s["30_purchase"]["changes"].append(rec(revenue, "Revenue", "money"))
    s["40_retention"]["changes"] = [rec(churn, "Churn rate", "pct")]
    ranked = [r["key"] for _, r, _ in summary.significant_changes(s)]
    assert ranked == ["revenue", "orders", "churn_rate"]


def test_what_changed_says_so_when_nothing_moved(cfg):
    s = sections()
    del s["30_purchase"], s["40_retention"]
    assert view.what_changed(s, cfg("ko")) == ["2026년 9월 대비 통계적으로 유의하게 변한 핵심 지표는 없습니다."]


def test_journey_uses_funnel_users_and_skips_missing_steps():
    s = sections()
    assert summary.journey(s) == [("impressions", 100000.0), ("clicks", 3000.0), ("orders", 330.0)]
    s["20_consideration"] = {"status": "ok", "metrics": {"funnel": [
        {"step": "visit", "users": 900}, {"step": "product_view", "users": 500},
        {"step": "add_to_cart", "users": 0}, {"step": "purchase", "users": 120}]}}
    s["50_advocacy"] = {"status": "ok", "metrics": {"responses": 200, "promoter_share": 0.4}}
    assert summary.journey(s) == [("impressions", 100000.0), ("clicks", 3000.0), ("visit", 900.0),
                                  ("product_view", 500.0), ("purchase", 120.0), ("promoters", 80.0)]


def test_caveats(cfg):
    text = view.caveats(sections(), cfg())
    assert text == [
        "20 · Consideration is not available: it needs the events table(s).",
        "50 · Advocacy failed and is missing from this report.",
        "12 rows were repaired or dropped at load (see Data quality).",
        "1 event name(s) are not mapped to a canonical type and are not analysed.",
    ]
    clean = {"00_data_quality": {"status": "ok", "metrics": {"rows_repaired": 0}}}
    assert view.caveats(clean, cfg()) == ["No data caveats: every table was supplied and nothing was repaired."]


def test_metrics(cfg):
    m = summary.metrics(sections(), cfg())
    assert m == {"sections_read": ["00_data_quality", "10_awareness", "30_purchase", "40_retention"],
                 "headline_kpis": 3, "significant_changes": 2, "significant_up": 2, "significant_down": 0}


def test_run_results_reads_the_run_then_the_published_report(cfg, tmp_path, monkeypatch):
    import json

    c = cfg()
    assert report.run_results(c) == {}
    c.report_dir.mkdir(parents=True)
    (c.report_dir / "metrics.json").write_text(json.dumps({"sections": {"a": {"status": "ok"}}}))
    assert report.run_results(c) == {"a": {"status": "ok"}}
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"sections": {"b": {"status": "ok"}}}))
    c = c.model_copy(update={"run": config.RunContext(folder=tmp_path, exports=tmp_path, results=run)})
    assert report.run_results(c) == {"b": {"status": "ok"}}


def seg_sections():
    return {"60_segmentation": {"status": "ok", "title": "60 · Segments", "metrics": {
        "health_band_shares": {"healthy": 0.5, "at_risk": 0.3, "unhealthy": 0.2},
        "health_band_shares_prev": {"healthy": 0.45, "at_risk": 0.3, "unhealthy": 0.25},
        "lifecycle_counts": {"new": 12, "active": 100, "churned": 40},
        "lifecycle_counts_prev": {"new": 15, "active": 90, "churned": 35},
        "playbooks": [
            {"action": "welcome", "label": "Welcome", "timing": "day 1", "customers": 12, "revenue_12m": 0.0},
            {"action": "winback", "label": "Win back", "timing": "now", "customers": 40, "revenue_12m": 900000.0},
            {"action": "vip", "label": "VIP", "timing": "monthly", "customers": 3, "revenue_12m": 2000000.0},
            {"action": "none", "label": "Nobody", "timing": "-", "customers": 0, "revenue_12m": 0.0}]}},
        "70_prediction": {"status": "ok", "metrics": {"churn": {
            "status": "ok", "expected_churners": 171.96, "horizon_days": 90, "revenue_at_risk": 1234567.0,
            "roc_auc": 0.918, "roc_auc_ci_low": 0.8916, "roc_auc_ci_high": 0.9405, "actionable": True,
            "scored_customers": 621, "already_lapsed": 181}}}}


def test_health_shifts_and_table(cfg):
    c = cfg()
    rows = summary.health_shifts(seg_sections(), c)
    assert [(r["group"], r["key"]) for r in rows] == [
        ("health", "healthy"), ("health", "at_risk"), ("health", "unhealthy"),
        ("lifecycle", "new"), ("lifecycle", "active"), ("lifecycle", "churned")]
    cells = view.shifts_table(rows, c).cells()
    assert cells.iloc[0, 1:].tolist() == ["Healthy", "50.0%", "45.0%", "+5.0 pp"]   # 0.50 − 0.45
    assert cells.iloc[3, 1:].tolist() == ["New", "12", "15", "-3"]
    assert summary.health_shifts({}, c) == []


def test_actions_by_revenue_at_stake_and_small_counts_suppressed(cfg):
    c = cfg()
    books = summary.actions(seg_sections(), c)
    assert [b["action"] for b in books] == ["vip", "winback", "welcome"]   # 2.0M, 0.9M, 0; nobody left out
    cells = view.actions_table(books, c).cells()
    assert cells.iloc[0].tolist() == ["VIP", "monthly", "< 10", "–"]       # 3 customers < k = 10
    assert cells.iloc[1].tolist() == ["Win back", "now", "40", "₩900,000"]


def test_churn_risk_sentence(cfg):
    assert view.churn_risk(seg_sections(), cfg()) == [
        "Of the 621 customers not churned at the period end, the churn model expects about 172 to go the next 90 "
        "days without activity (to churn), with ₩1,234,567 of their last year's spend at risk (backtest ROC AUC "
        "0.92, 95% interval 0.89–0.94).",
        "Apart from that forecast, 181 customers already churned in the last 90 days."]
    assert view.churn_risk({}, cfg()) == []


def test_churn_risk_regression_no_forecast_from_a_model_not_to_act_on(cfg):
    # Measured: the summary repeated a churn forecast the prediction section
    # itself could not stand behind. A model that may not be acted on gives
    # one sentence saying so, and no numbers of churners or revenue.
    sec = seg_sections()
    sec["70_prediction"]["metrics"]["churn"] |= {"actionable": False, "roc_auc": 0.58, "roc_auc_ci_low": 0.49,
                                                 "roc_auc_ci_high": 0.66}
    out = view.churn_risk(sec, cfg())
    assert out == ["The churn model is not good enough to act on this month (backtest ROC AUC 0.58, 95% interval "
                   "0.49–0.66; see Prediction): no churn forecast is given here."]
    ko = view.churn_risk(sec, cfg("ko"))
    assert len(ko) == 1 and "실행에 활용할 만큼 좋지 않습니다" in ko[0]
    # without amounts the forecast has no revenue; nobody lapsed, no second sentence
    sec = seg_sections()
    sec["70_prediction"]["metrics"]["churn"] |= {"revenue_at_risk": None, "already_lapsed": 0}
    out = view.churn_risk(sec, cfg())
    assert len(out) == 1 and "spend" not in out[0] and "172" in out[0]


# --------------------------------------------------------------------------
# Since last month's report; journeykit diff
# --------------------------------------------------------------------------

def before_sections():
    """Last month's report: orders quiet, CTR significantly down, churn significantly down."""
    orders = compare.count("orders", 200, 30, 205, 31)                # not significant
    ctr = compare.rate("ctr", 20, 1000, 40, 1000)                     # down, significant
    churn = compare.rate("churn_rate", 40, 400, 80, 400, higher_is_better=False)   # down, significant
    return {
        "10_awareness": {"status": "ok", "title": "10 · Awareness", "changes": [rec(ctr, "Click-through rate", "pct")]},
        "30_purchase": {"status": "ok", "title": "30 · Purchase", "changes": [rec(orders, "Orders", "int")]},
        "40_retention": {"status": "ok", "title": "40 · Retention", "changes": [rec(churn, "Churn rate", "pct")]},
    }


def test_since_last_report_says_what_moved_differently(cfg):
    rows = {r["key"]: r for r in summary.since_last_report(sections(), before_sections())}
    assert rows["orders"]["what"] == "new"             # significant now, quiet last month
    assert rows["ctr"]["what"] == "ended"              # significant last month, quiet now
    assert rows["churn_rate"]["what"] == "reversed"    # down last month, up now
    assert rows["churn_rate"]["value_then"] == pytest.approx(0.1) and rows["churn_rate"]["value"] == pytest.approx(0.2)
    assert summary.since_last_report(sections(), None) == []
    assert summary.since_last_report(sections(), sections()) == [
        {**r, "what": "continued"} for r in summary.since_last_report(sections(), sections())]  # same both times
    quiet = {"30_purchase": before_sections()["30_purchase"]}
    assert summary.since_last_report(quiet, quiet) == []                       # quiet twice: nothing to say


@pytest.mark.parametrize("language, expected", [
    ("en", "Churn rate: rose significantly this month, after a significant fall in last month's report (10.0% → 20.0%)."),
    ("ko", "Churn rate: 지난달 리포트의 유의한 하락에 이어 이번 달에는 유의하게 상승했습니다(10.0% → 20.0%)."),
])
def test_since_last_report_sentences(cfg, language, expected):
    c = cfg(language)
    lines = view.since_last_report(sections(), c, before_sections())
    assert expected in lines
    assert view.since_last_report(sections(), c, None) == [
        {"en": "There is no September 2026 report to compare with.",
         "ko": "비교할 2026년 9월 리포트가 없습니다."}[language]]


def test_diff_compares_the_two_published_reports(cfg, tmp_path):
    import json

    from journeykit.core.errors import ConfigError
    from journeykit.run import diff

    c = cfg()
    with pytest.raises(ConfigError, match="render it first"):
        diff.compare(c)
    for period, secs in (("2026-10", sections()), ("2026-09", before_sections())):
        folder = tmp_path / "reports" / "c" / period
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"sections": secs}), encoding="utf-8")
    cmp = diff.compare(c)
    assert cmp["has_previous"] and [(r["label"], r["what"]) for r in cmp["rows"]] == [
        ("Click-through rate", "ended"), ("Orders", "new"), ("Churn rate", "reversed")]
    assert ("50_advocacy", None, "failed") in cmp["statuses"]
    text = "\n".join(diff.describe(cmp))
    assert "c: 2026-10 against the 2026-09 report" in text
    assert "REVERSED" in text and "NEW" in text and "section 50_advocacy: absent → failed" in text


def test_the_journey_note_names_only_the_sources_the_chart_shows(cfg):
    c = cfg()
    assert view.journey_note([], c) is None
    orders_only = view.journey_note([("orders", 266.0)], c).text
    assert orders_only == "Each bar is the stage's own count for the month: the month's orders."
    assert "impressions" not in orders_only and "promoters" not in orders_only
    full = view.journey_note([("impressions", 1e6), ("clicks", 1e4), ("visit", 800.0), ("promoters", 40.0)], c).text
    assert "impressions and clicks from marketing" in full and "promoters" in full and "The sources differ" in full


def test_a_kpi_two_stages_report_appears_once_under_its_owner(cfg):
    """Regression: visits were listed under [인지] (awareness) and again
    under consideration. Each KPI appears once, under the stage that owns
    it (consideration's visits); awareness's visits stay only when
    consideration recorded none."""
    s = sections()
    visits = compare.count("visits", 5200, 31, 4000, 30)               # clearly up
    sessions = compare.count("sessions", 5100, 31, 3950, 30)           # the same visits, counted by 20
    s["10_awareness"]["changes"].append(rec(visits, "Visits", "int"))
    s["20_consideration"] = {"status": "ok", "title": "20 · Consideration", "metrics": {},
                             "changes": [rec(sessions, "Visits", "int")]}
    top = [(name, r["key"]) for name, r, _ in summary.significant_changes(s)]
    assert ("20_consideration", "sessions") in top and ("10_awareness", "visits") not in top
    text = view.what_changed(s, cfg())
    assert sum("Visits" in t for t in text) == 1 and not any("[Awareness] Visits" in t for t in text)
    # without consideration, awareness's visits are the only ones: shown there
    s["20_consideration"] = {"status": "not_available", "title": "20 · Consideration", "metrics": {}}
    assert ("10_awareness", "visits") in [(n, r["key"]) for n, r, _ in summary.significant_changes(s)]
