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
    assert same.p_value == pytest.approx(1.0) and same.direction == "flat"
    # equal totals over 31 and 30 days: fewer per day, and the direction says so
    equal = compare.count("orders", 300, 31, 300, 30)
    assert equal.tested == pytest.approx((300 / 31, 10.0)) and equal.direction == "down"


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
    # not judged (no family): q is the p-value itself
    assert cells.iloc[0].tolist() == ["Conversion rate", "30.0%", "15.0%", "+15.0 pp ▲",
                                      "significant (p < 0.001, q < 0.001)"]
    assert cells.iloc[1, 4] == "not significant (p = 0.102, q = 0.102)"
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


# --------------------------------------------------------------------------
# Tests at the level where the noise lives
# --------------------------------------------------------------------------

def _t_p(t, df):
    from scipy import stats
    return 2 * stats.t.sf(abs(t), df)


def test_clustered_rate_is_the_quasi_binomial_test_by_hand():
    # 3 days of 100 trials each period: 10, 20, 30 successes (p̂ = 0.2) vs 10, 10, 10 (p̂ = 0.1)
    c = compare.clustered_rate("ctr", [10, 20, 30], [100, 100, 100], [10, 10, 10], [100, 100, 100], min_n=30)
    # Pearson X² = (10−20)²/16 + 0 + (30−20)²/16 = 12.5 (the other period fits exactly);
    # dispersion φ = 12.5 / (6 − 2) = 3.125
    assert c.extra["dispersion"] == pytest.approx(3.125)
    # log-odds difference logit(0.2) − logit(0.1) = 0.810930; var = φ·(1/(300·0.2·0.8) + 1/(300·0.1·0.9))
    # = 3.125 · 0.0578704 = 0.180845; t = 0.810930 / 0.425259 = 1.906907 on 4 df
    assert c.p_value == pytest.approx(_t_p(0.810930 / math.sqrt(0.180845), 4), rel=1e-4)
    assert c.value == pytest.approx(0.2) and c.prev == pytest.approx(0.1) and c.direction == "up"
    assert c.extra["clusters"] == 3 and c.n == 300


def test_clustered_rate_never_narrower_than_binomial():
    # identical days: X² = 0 would claim no noise at all; the dispersion is floored at 1 (binomial)
    c = compare.clustered_rate("ctr", [20, 20, 20], [100, 100, 100], [10, 10, 10], [100, 100, 100])
    # z = 0.810930 / sqrt(1/48 + 1/27) = 3.37099 → p = 0.000749
    assert c.extra["dispersion"] == 1.0
    assert c.p_value == pytest.approx(0.000749, abs=2e-6)


def test_clustered_rate_calls_day_to_day_noise_noise():
    # the case, simulated: two months of ~2.8 M impressions at a constant CTR of 0.8% whose
    # days vary ±10% (as ad data does). The z-test on impressions calls a third of such pairs
    # "significant"; the quasi-binomial test on the days holds its 5%.
    import numpy as np
    rng = np.random.default_rng(3)
    naive = clustered = 0
    runs = 200
    for _ in range(runs):
        n, n0 = rng.integers(80_000, 100_000, 31), rng.integers(80_000, 100_000, 30)
        x = rng.binomial(n, 0.008 * rng.lognormal(0, 0.1, 31))
        x0 = rng.binomial(n0, 0.008 * rng.lognormal(0, 0.1, 30))
        clustered += compare.clustered_rate("ctr", x, n, x0, n0).p_value < 0.05
        naive += compare.rate("ctr", x.sum(), n.sum(), x0.sum(), n0.sum()).p_value < 0.05
    assert naive / runs > 0.3
    assert clustered / runs < 0.09


def test_clustered_rate_needs_clusters():
    c = compare.clustered_rate("open", [50, 60], [500, 500], [40, 50, 60], [500, 500, 500])
    assert c.verdict == "too_little_data" and c.p_value is None and c.value == pytest.approx(0.11)


def test_daily_count_is_the_quasi_poisson_test_by_hand():
    c = compare.daily_count("visits", [10, 20, 30], [10, 10, 10], min_n=10)
    # means 20 and 10 per day; Pearson X² = (100 + 0 + 100)/20 = 10 → φ = 10/4 = 2.5
    # log ratio ln 2 = 0.693147; var = 2.5·(1/60 + 1/30) = 0.125; t = 1.960502 on 4 df
    assert c.extra["dispersion"] == pytest.approx(2.5)
    assert c.p_value == pytest.approx(_t_p(0.693147 / math.sqrt(0.125), 4), rel=1e-4)
    assert c.value == 60 and c.prev == 30 and c.tested == pytest.approx((20.0, 10.0))
    assert c.rel_delta == pytest.approx(1.0) and c.basis == "per_day"


def test_daily_count_compares_the_mean_per_day():
    # the same 3,000 over a 31-day and a 30-day month: fewer per day, so "down", and the sentence
    # is about the mean per day (it used to say "flat" with a per-day p-value, then raise KeyError)
    c = compare.daily_count("orders", [97] * 30 + [90], [100] * 30)
    assert c.value == c.prev == 3000
    assert c.tested == pytest.approx((3000 / 31, 100.0)) and c.direction == "down"
    assert c.rel_delta == pytest.approx(3000 / 31 / 100 - 1)
    same = compare.daily_count("orders", [100] * 31, [100] * 30)
    assert same.direction == "flat" and same.p_value == pytest.approx(1.0)


def test_daily_count_with_exposure_tests_the_rate_per_unit():
    # tickets per customer per day: 2× the tickets on 2× the customers is no change
    c = compare.daily_count("tickets", [20, 22, 18], [10, 11, 9], exposure=2000, exposure_prev=1000,
                            shown=(3.0, 3.0), min_n=10)
    assert c.value == 3.0 and c.p_value == pytest.approx(1.0) and c.direction == "flat"


def test_clustered_mean_with_one_unit_per_cluster_is_welch():
    from scipy import stats
    a, b = [3.0, 5.0, 4.0, 6.0, 7.0, 5.0], [2.0, 4.0, 3.0, 3.0, 5.0]
    c = compare.clustered_mean("x", a, [1] * 6, b, [1] * 5, min_n=3)
    assert c.value == pytest.approx(5.0) and c.prev == pytest.approx(3.4)
    assert c.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)


def test_clustered_mean_by_hand():
    # clusters (sum, units): (10, 2), (30, 2), (20, 2) → R = 60/6 = 10
    R, V, C, N = compare.ratio_mean([10, 30, 20], [2, 2, 2])
    # residuals y − R·n: −10, 10, 0; V = 3/2 · 200 / 36 = 8.3333
    assert (R, C, N) == (10.0, 3, 6.0) and V == pytest.approx(8.333333, rel=1e-6)
    # a customer's orders share her spend: the clustered variance is larger than the naive one
    amounts = [[100, 110, 105], [10, 12], [50], [200, 190], [30, 35, 28, 31]]
    sums, ns = [sum(a) for a in amounts], [len(a) for a in amounts]
    flat = [x for a in amounts for x in a]
    c = compare.clustered_mean("aov", sums, ns, sums, ns, cluster="customer", min_n=3)
    assert c.p_value == pytest.approx(1.0) and c.extra["clusters"] == 5
    _, Vc, _, _ = compare.ratio_mean(sums, ns)
    assert Vc > pd.Series(flat).var() / len(flat)


# --------------------------------------------------------------------------
# Multiplicity and magnitude
# --------------------------------------------------------------------------

def test_benjamini_hochberg_by_hand():
    q = compare.bh([0.01, 0.04, None, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): m·p/rank = 0.04, 0.06, 0.0533, 0.20;
    # step-up minimum from the top: 0.04, 0.0533, 0.0533, 0.20
    assert q[0] == pytest.approx(0.04) and q[1] == pytest.approx(0.053333, rel=1e-4)
    assert q[2] is None and q[3] == pytest.approx(0.053333, rel=1e-4) and q[4] == pytest.approx(0.20)
    assert compare.bh([]) == [] and compare.bh([None]) == [None]


def test_judge_adjusts_over_the_family_and_needs_a_meaningful_size(cfg):
    c = cfg("en")
    big = compare.rate("conversion", 600, 2000, 400, 2000)                # 30% vs 20%: +10 pp
    tiny = compare.rate("ctr", 8_400, 1_000_000, 8_000, 1_000_000)        # 0.84% vs 0.80%: +5%, 0.04 pp
    small = compare.rate("retention", 5_150, 10_000, 5_000, 10_000)        # +1.5 pp, +3 %
    noise = compare.rate("repeat", 52, 100, 50, 100)
    out = {x.key: x for x in compare.judge([big, tiny, small, noise, compare.value("spend", 2, 1)], c)}
    assert all(x.scope == "section" and x.family_size == 4 for k, x in out.items() if k != "spend")
    assert out["spend"].q_value is None and out["spend"].verdict == "untested"
    assert out["conversion"].verdict == "significant"
    # 5% relative: meets the rate minimum (5% or 1 pp) exactly
    assert out["ctr"].meaningful is True
    # +1.5 pp ≥ 1 pp: meaningful though only 3% relative
    assert out["retention"].meaningful is True
    assert out["repeat"].verdict == "not_significant"
    assert out["conversion"].q_value >= out["conversion"].p_value
    # a per-KPI minimum replaces its kind's: CTR must move 10%
    strict = c.updated(changes={"kpis": {"ctr": {"relative": 0.10}}})
    judged = {x.key: x for x in compare.judge([big, tiny], strict)}
    assert judged["ctr"].meaningful is False and judged["ctr"].verdict == "too_small"
    assert judged["ctr"].min_effect == {"relative": 0.10, "absolute": None}


def test_judge_records_uses_the_whole_report(cfg):
    c = cfg("en")
    a = compare.judge([compare.rate("cr", 60, 200, 40, 200)], c)          # p = 0.026: significant alone
    from journeykit.report import change_record
    recs = {"30_purchase": [change_record(x, "CR", "pct") for x in a],
            "40_retention": [change_record(x, f"k{i}", "pct") for i, x in enumerate(
                compare.judge([compare.rate(f"k{i}", 50, 100, 50, 100) for i in range(9)], c))]}
    assert recs["30_purchase"][0]["verdict"] == "significant" and recs["30_purchase"][0]["scope"] == "section"
    assert compare.judge_records(recs, 0.05) == 10
    r = recs["30_purchase"][0]
    # ten tests: q = 10 · 0.026 / 1 > 0.05
    assert r["scope"] == "report" and r["family_size"] == 10 and r["q_value"] == pytest.approx(min(1, 10 * r["p_value"]))
    assert r["verdict"] == "not_significant" and r["good"] is None


def test_every_verdict_and_direction_has_a_sentence_in_both_languages(cfg):
    import dataclasses
    for lang in ("en", "ko"):
        c = cfg(lang)
        for verdict_args in ({"q_value": 0.01, "meaningful": True}, {"q_value": 0.01, "meaningful": False},
                             {"q_value": 0.5, "meaningful": True}):
            for v, p in ((0.3, 0.2), (0.2, 0.3), (0.2, 0.2)):
                ch = dataclasses.replace(compare.rate("cr", v * 1000, 1000, p * 1000, 1000), scope="section",
                                         family_size=1, min_effect={"relative": 0.05, "absolute": 0.01},
                                         **verdict_args)
                text = report.change_sentence(ch, "CR", "pct", c)
                assert text and "{" not in text
        for ch in (compare.rate("cr", 1, 5, 1, 5), compare.value("spend", 2, 1), compare.value("s", 1, 1)):
            assert "{" not in report.change_sentence(ch, "X", "num", c)


def test_too_small_sentence_names_the_minimum(cfg):
    c = cfg("en")
    # 0.80% → 0.83% on a million impressions each: p = 0.017, but +3.75% and +0.03 pp are below
    # the rate minimum (5% or 1 pp)
    ch = compare.judge([compare.rate("ctr", 8_300, 1_000_000, 8_000, 1_000_000)], c)[0]
    assert ch.verdict == "too_small" and not ch.significant and ch.meaningful is False
    assert report.change_sentence(ch, "CTR", "pct", c) == (
        "CTR rose from 0.80% to 0.83% (+0.03 pp): a real change, but below the 5% change or 1 pp that counts "
        "as meaningful.")
    assert report.significance_text(ch, c) == "real but small (p = 0.018, q = 0.018)"


def test_counts_over_months_of_different_length_are_told_per_day(cfg):
    c = cfg("en")
    ch = compare.daily_count("orders", [100] * 31, [90] * 30)
    assert report.fmt_delta(ch, "int", c) == "+11.1% per day"
    text = report.change_sentence(compare.judge([ch], c)[0], "Orders", "int", c)
    assert text == "Orders per day rose from 90.0 to 100.0 (+11.1% per day); the change is significant."


def test_key_figures_are_marked_and_replaced(cfg):
    c = cfg("en")
    changes = compare.judge([compare.rate("cr", 60, 200, 30, 200)], c)
    html = report.key_figures(changes, {"cr": "CR"}, {"cr": "pct"}, c)._repr_html_()
    assert html.startswith(report.KEY_FIGURES_OPEN) and html.endswith(report.KEY_FIGURES_CLOSE)
    assert "this section&#x27;s 1 tests" in html
    page = f"<h1>t</h1>{html}<p>after</p>"
    out, n = report.replace_key_figures(page, "<p>new</p>")
    assert n == 1 and out == "<h1>t</h1><p>new</p><p>after</p>"


def test_advice_follows_the_verdict(cfg):
    import dataclasses
    c = cfg("en")
    from journeykit.core import i18n
    i18n.register({"test_advice_down": {"en": "{label} fell {delta} since {prev_period}: look at {what}.",
                                        "ko": "{label} {delta} 하락: {what}."}})
    down = compare.judge([compare.rate("cr", 30, 200, 60, 200)], c)
    advice = {"cr": {"down": ("test_advice_down", {"what": "checkout"})}}
    assert report.advise(down, {"cr": "CR"}, {"cr": "pct"}, c, advice) == [
        "CR fell −15.0 pp since September 2026: look at checkout."]
    calm = [dataclasses.replace(down[0], q_value=0.5)]
    assert report.advise(calm, {"cr": "CR"}, {"cr": "pct"}, c, advice) == []
    rec = report.change_record(down[0], "CR", "pct", advice["cr"])
    assert rec["advice"] == {"down": {"text": "test_advice_down", "params": {"what": "checkout"}}}
    again = report.key_figures_from_records([rec], c)
    assert "look at checkout" in again._repr_html_()


def test_impact_is_size_times_base():
    assert compare.impact(compare.rate("cr", 60, 200, 30, 200)) == pytest.approx(0.15 * 200)
    assert compare.impact(compare.daily_count("orders", [10] * 31, [9] * 30)) == pytest.approx(31.0)
    assert compare.impact(compare.value("x", None, 1)) is None


def test_record_round_trip_keeps_the_verdict(cfg):
    c = cfg("en")
    ch = compare.judge([compare.daily_count("orders", [100] * 31, [90] * 30), compare.rate("r", 5, 10, 5, 10)], c)
    for x in ch:
        back = report.change_from_record(report.change_record(x, "L", "int"))
        assert (back.verdict, back.direction, back.kind, back.q) == (x.verdict, x.direction, x.kind, x.q)
        assert back.delta == pytest.approx(x.delta)


def test_month_to_month_movement_is_noise_too():
    # a rate that swings ±3 pp from month to month: a 4 pp change is ordinary, though the
    # two-proportion test on 10,000 customers a month calls it p < 1e-8
    hist = [0.30, 0.33, 0.30, 0.33, 0.30, 0.33, 0.30]
    assert compare.month_variance(hist) == (pytest.approx(0.0009), 6)
    alone = compare.rate("r", 3400, 10_000, 3000, 10_000)
    held = compare.rate("r", 3400, 10_000, 3000, 10_000, history=hist)
    assert alone.p_value < 1e-8 and held.extra["noise_level"] == "month"
    # t = 0.04 / 0.03 on 6 df
    assert held.p_value == pytest.approx(_t_p(0.04 / 0.03, 6), rel=1e-6)
    # a quiet history leaves the test's own variance in charge
    quiet = compare.rate("r", 3400, 10_000, 3000, 10_000, history=[0.30, 0.301, 0.30, 0.301, 0.30])
    assert quiet.extra["noise_level"] == "within" and quiet.p_value == alone.p_value
    # too few months: no month-level variance
    assert compare.month_variance([0.3, 0.4, 0.3]) == (None, 2)
    assert compare.month_variance([0.3, None, 0.4, 0.3, 0.3, 0.2, 0.2]) == (pytest.approx(0.005), 4)


def test_history_reads_the_months_before_the_period(cfg):
    from journeykit.core.periods import Period
    frame = pd.DataFrame({"month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01"]),
                          "orders": [310.0, 300.0, 999.0]})
    assert compare.history(frame, "orders", Period(2026, 10)) == [310.0, 300.0]
    assert compare.history(frame, "orders", Period(2026, 10), per_day=True) == [10.0, 10.0]
    assert compare.history(frame, "missing", Period(2026, 10)) is None
    off = cfg("en").updated(changes={"month_level": False})
    assert compare.history(frame, "orders", Period(2026, 10), cfg=off) is None


def test_described_kpis_say_why_they_are_not_tested(cfg):
    c = cfg("en")
    assert report.significance_text(compare.value("impressions", 2, 1, described="bought"), c) == "bought: not tested"
    assert report.significance_text(compare.value("mau", 2, 1, described="stock"), c) == "a stock: not tested"
    assert report.significance_text(compare.value("cpc", 2, 1), c) == "–"
    assert report.significance_text(compare.value("mau", 2, None, described="stock"), cfg("ko")) == "–"


def test_a_comparison_month_before_the_data_is_no_data_not_zero():
    """Regression (first month of a client's data): "주문 수 54 | 0 | +54
    유의함". A comparison period wholly before the data's first date has no
    value and no test; one with at least a day of data keeps its test."""
    import datetime as dt

    from journeykit.core.periods import Period

    oct_ = Period.parse("2026-10")
    c = compare.daily_count("orders", [2] * 27, [0] * 30, min_n=5)
    assert c.significant or c.p_value is not None             # what was shown before
    late = compare.before_data([c], oct_, dt.date(2026, 10, 3))[0]
    assert late.prev is None and late.p_value is None and late.tested is None
    assert late.test == compare.NO_EARLIER_DATA and late.verdict == "untested" and late.value == c.value
    # data from Sep 30 (the comparison month's last day): kept as computed
    assert compare.before_data([c], oct_, dt.date(2026, 9, 30))[0] == c
