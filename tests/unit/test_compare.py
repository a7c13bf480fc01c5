"""Period-over-period tests, the KPI table and the generated sentences,
against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from journeykit.stats import compare
from journeykit.core import config
from journeykit import report


@pytest.fixture
def cfg(tmp_path):
    (tmp_path / "params" / "clients").mkdir(parents=True)
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "params" / "defaults.yaml").write_text((root / "params" / "defaults.yaml").read_text())

    def make(language="en"):
        (tmp_path / "params" / "clients" / "c.yaml").write_text(
            f"name: C\ncurrency: KRW\ntimezone: Asia/Seoul\nlanguage: {language}\ndata: {{source: data/c, tables: {{orders: {{file: o.csv}}}}}}\n",
            encoding="utf-8")
        return config.load("c", "2026-10", root=tmp_path)

    return make


def test_rate_two_proportion_z_test():
    c = compare.rate("cr", 30, 100, 20, 100)
    # pooled p = 50/200 = 0.25; se = sqrt(0.25·0.75·(1/100 + 1/100)) = 0.061237
    # z = (0.30 − 0.20) / 0.061237 = 1.63299; two-sided p = 0.10247
    assert c.value == pytest.approx(0.30) and c.prev == pytest.approx(0.20)
    assert c.delta == pytest.approx(0.10)
    assert c.p_value == pytest.approx(0.10247, abs=1e-5)
    assert c.verdict == "not_significant" and not c.significant
    assert c.metrics() == {"cr": pytest.approx(0.30), "cr_prev": pytest.approx(0.20)}


def test_rate_significant_and_direction():
    c = compare.rate("cr", 60, 200, 30, 200)
    # pooled 0.225; se = sqrt(0.225·0.775·0.01) = 0.041758; z = 0.15/0.041758 = 3.592 → p = 0.000328
    assert c.p_value == pytest.approx(0.000328, abs=2e-6)
    assert c.significant and c.direction == "up" and c.good is True
    worse = compare.rate("failure", 60, 200, 30, 200, higher_is_better=False)
    assert worse.good is False


def test_rate_with_too_little_data_gives_no_verdict():
    c = compare.rate("cr", 5, 10, 1, 10, min_n=30)
    assert c.value == 0.5 and c.prev == 0.1
    assert c.p_value is None and c.verdict == "too_little_data" and not c.significant


def test_rate_with_no_trials_is_none():
    c = compare.rate("cr", 0, 0, 3, 50)
    assert c.value is None and c.delta is None and c.verdict == "untested"


def test_mean_welch_from_summary_statistics():
    c = compare.mean("aov", 10.0, 2.0, 50, 9.0, 3.0, 50)
    # se = sqrt(4/50 + 9/50) = 0.50990; t = 1/0.50990 = 1.9612
    # Welch df = 0.26² / ((0.08² + 0.18²)/49) = 85.37; two-sided p = 0.0531
    assert c.p_value == pytest.approx(0.0531, abs=5e-4)
    assert c.rel_delta == pytest.approx(1 / 9)


def test_mean_of_raw_values_matches_summary_form():
    a, b = [1, 2, 3, 4, 5] * 10, [2, 3, 4, 5, 6] * 10
    c = compare.mean_of("x", a, b)
    # means 3 and 4, equal sd = 1.4286 (n=50, ddof=1): same as the summary form
    s = pd.Series(a).std()
    assert c.p_value == pytest.approx(compare.mean("x", 3, s, 50, 4, s, 50).p_value)
    assert c.value == 3 and c.prev == 4


def test_count_poisson_rate_test_uses_period_lengths():
    c = compare.count("orders", 30, 31, 20, 30)
    # pooled rate 50/61 = 0.81967/day; se = sqrt(0.81967·(1/31 + 1/30)) = 0.23187
    # z = (30/31 − 20/30) / 0.23187 = 1.2985; two-sided p = 0.1941
    assert c.p_value == pytest.approx(0.1941, abs=1e-4)
    assert c.value == 30 and c.prev == 20
    # the same daily rate in a longer month is no change at all
    same = compare.count("orders", 31, 31, 30, 30)
    assert same.p_value == pytest.approx(1.0)


def test_nps_interval_by_hand():
    nps, lo, hi, var = compare.nps_interval(50, 30, 20)
    # p = 0.5, d = 0.2, nps = 0.3; var = (0.5 + 0.2 − 0.09)/100 = 0.0061
    # half-width = 1.95996·sqrt(0.0061) = 0.153078
    assert nps == pytest.approx(0.3)
    assert var == pytest.approx(0.0061)
    assert lo == pytest.approx(0.146922, abs=1e-6) and hi == pytest.approx(0.453078, abs=1e-6)
    assert compare.nps_interval(0, 0, 0) == (None, None, None, None)


def test_nps_change_z_test():
    c = compare.nps("nps", (50, 30, 20), (40, 30, 30))
    # prev: p 0.4, d 0.3 → 0.1; var0 = (0.7 − 0.01)/100 = 0.0069
    # z = 0.2 / sqrt(0.0061 + 0.0069) = 1.7541 → p = 0.0794
    assert c.p_value == pytest.approx(0.0794, abs=1e-4)
    assert c.extra["ci_low"] == pytest.approx(0.146922, abs=1e-6)


def test_value_has_no_test():
    c = compare.value("spend", 120.0, 100.0)
    assert c.p_value is None and c.verdict == "untested" and c.rel_delta == pytest.approx(0.2)


def test_fold_small_sums_into_other():
    df = pd.DataFrame({"channel": ["a", "b", "c", "d"], "users": [100, 50, 10, 5], "buyers": [10, 5, 2, 1]})
    out = compare.fold_small(df, "channel", "users", min_size=30)
    assert out["channel"].tolist() == ["a", "b", "other"]
    assert out.loc[2, "users"] == 15 and out.loc[2, "buyers"] == 3   # 10 + 5 and 2 + 1
    assert compare.fold_small(df, "channel", "users", min_size=1)["channel"].tolist() == ["a", "b", "c", "d"]


def test_safe_div():
    assert compare.safe_div(1, 4) == 0.25
    assert compare.safe_div(1, 0) is None and compare.safe_div(None, 2) is None
    assert compare.safe_div(float("nan"), 2) is None


def test_kpi_table_and_sentences_in_english(cfg):
    c = cfg("en")
    changes = [compare.rate("cr", 60, 200, 30, 200), compare.rate("ctr", 30, 100, 20, 100),
               compare.rate("tiny", 1, 5, 2, 5)]
    labels = {"cr": "Conversion rate", "ctr": "Click-through rate", "tiny": "Review rate"}
    kinds = {"cr": "pct", "ctr": "pct", "tiny": "pct"}
    cells = report.kpi_table(changes, labels, kinds, c).cells()
    assert cells.iloc[0].tolist() == ["Conversion rate", "30.0%", "15.0%", "+15.0 pp ▲", "significant (p < 0.001)"]
    assert cells.iloc[1, 4] == "not significant (p = 0.102)"
    assert cells.iloc[2, 4] == "too little data"
    assert list(cells.columns)[1:3] == ["October 2026", "September 2026"]
    text = report.describe_changes(changes, labels, kinds, c)
    assert text == [
        "Conversion rate rose from 15.0% to 30.0% (+15.0 pp); the change is significant.",
        "No other change is statistically significant: Click-through rate.",
        "Too little data to judge the change in: Review rate.",
    ]


def test_sentences_in_korean(cfg):
    c = cfg("ko")
    changes = [compare.rate("cr", 30, 200, 60, 200)]
    text = report.describe_changes(changes, {"cr": "전환율"}, {"cr": "pct"}, c)
    # 30 of 200 now vs 60 of 200 before: 15.0% vs 30.0%, −15.0 percentage points (%p in Korean)
    assert text == ["전환율 −15.0%p 하락 (30.0% → 15.0%), 통계적으로 유의합니다."]


def test_nothing_significant_says_so(cfg):
    c = cfg("en")
    text = report.describe_changes([compare.rate("ctr", 30, 100, 20, 100)], {"ctr": "CTR"}, {"ctr": "pct"}, c)
    assert text == ["None of the changes since September 2026 is statistically significant."]


def test_delta_formats(cfg):
    c = cfg("en")
    assert report.fmt_delta(compare.value("spend", 120, 100), "money", c) == "+20.0%"
    assert report.fmt_delta(compare.nps("n", (50, 30, 20), (40, 30, 30)), "nps", c) == "+20.0"
    assert report.fmt_delta(compare.value("x", 5, 0), "int", c) == "+5"
    assert report.fmt_delta(compare.value("x", None, 0), "int", c) == "–"
    # an untested KPI that did not move gets no sentence
    assert report.describe_changes([compare.value("x", 0.0, 0.0)], {"x": "X"}, {"x": "num"}, c) == []
    assert not math.isnan(compare.rate("a", 0, 50, 0, 50).p_value)


def test_kpis_without_any_value_are_left_out(cfg):
    c = cfg("en")
    changes = [compare.rate("cr", 30, 100, 20, 100), compare.rate("none", 0, 0, 0, 0)]
    cells = report.kpi_table(changes, {"cr": "CR", "none": "Nothing"}, {"cr": "pct", "none": "pct"}, c).cells()
    assert cells.iloc[:, 0].tolist() == ["CR"]
    assert all("Nothing" not in t for t in report.describe_changes(changes, {"none": "Nothing"}, {}, c))
