"""journeykit.report.plots: Korean text in charts, and figure-returning helpers."""

from __future__ import annotations

import io as _io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from journeykit.report import plots  # noqa: E402

HANGUL = "월별 주문 수"


@pytest.fixture
def styled():
    """use_style() inside an rc_context, so other tests keep matplotlib's defaults."""
    with matplotlib.rc_context():
        plots.use_style()
        yield


def render_warnings(fig) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(_io.BytesIO(), format="png")
    return [str(w.message) for w in caught]


def hangul_figure():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [-2, 0, 5])
    ax.set_title(HANGUL)
    ax.set_xlabel("월")
    ax.set_ylabel("주문 수 (건)")
    ax.set_xticks([1, 2, 3], ["1월", "2월", "3월"])
    return fig


def test_a_font_with_hangul_is_installed_and_found():
    # fonts-noto-cjk (make sysdeps); without it every Korean label is boxes.
    assert plots.korean_font() in plots.CJK_FONTS


def test_use_style_sets_the_korean_font_and_ascii_minus(styled):
    assert plt.rcParams["font.sans-serif"][0] == plots.korean_font()
    assert plt.rcParams["axes.unicode_minus"] is False
    assert plt.rcParams["font.family"] == ["sans-serif"]


def test_hangul_renders_without_missing_glyph_warnings(styled):
    fig = hangul_figure()
    missing = [w for w in render_warnings(fig) if "missing from" in w or "Glyph" in w]
    assert missing == []
    plt.close(fig)


def test_without_the_style_hangul_glyphs_are_missing():
    # The check above can fail: with matplotlib's default font the same figure warns.
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig = hangul_figure()
        missing = [w for w in render_warnings(fig) if "missing from" in w]
        plt.close(fig)
    assert missing, "DejaVu Sans unexpectedly has Hangul"


def test_negative_ticks_use_the_ascii_minus(styled):
    fig = hangul_figure()
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    negative = [s for s in labels if s.startswith(("-", "\u2212"))]
    assert negative and all(s.startswith("-") for s in negative)   # "-2", not "−2"
    plt.close(fig)


def test_monthly_rows_returns_a_labelled_log_scale_figure(styled):
    counts = pd.DataFrame({
        "month": pd.to_datetime(["2026-09-01", "2026-10-01", "2026-09-01", "2026-10-01", "2026-10-01"]),
        "table": ["주문", "주문", "이벤트", "이벤트", "설문"],
        "rows": [10, 20, 1000, 1500, 3],
    })
    fig = plots.monthly_rows(counts, "테이블별 월간 행 수", "행 수 (로그 스케일)", "월")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert (ax.get_title(), ax.get_ylabel(), ax.get_xlabel()) == ("테이블별 월간 행 수", "행 수 (로그 스케일)", "월")
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert lines == {"주문": [10, 20], "이벤트": [1000, 1500], "설문": [3]}   # one line per table, months in order
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["주문", "이벤트", "설문"]
    assert [w for w in render_warnings(fig) if "missing from" in w] == []
    # Returned closed: a notebook shows it once, through its display, not twice.
    assert not plt.fignum_exists(fig.number)


def test_trends_returns_one_panel_per_kpi(styled):
    df = pd.DataFrame({"month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01"]),
                       "conversion_rate": [0.10, 0.12, 0.15], "orders": [100, 120, 150]})
    fig = plots.trends(df, [("conversion_rate", "전환율", "pct"), ("orders", "주문 수", "int")], title="추이")
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["전환율", "주문 수"]
    fig.canvas.draw()
    pct_ticks = [t.get_text() for t in visible[0].get_yticklabels() if t.get_text()]
    assert all(s.endswith("%") for s in pct_ticks)             # 0–1 rates shown as percentages


def test_bars_returns_a_labelled_figure(styled):
    df = pd.DataFrame({"channel": ["네이버", "카카오"], "rate": [0.25, 0.5]})
    fig = plots.bars(df, "channel", "rate", "채널별 전환율", kind="pct")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "채널별 전환율"
    labels = [t.get_text() for t in ax.texts]
    assert sorted(labels) == ["25.0%", "50.0%"]                 # 0.25 and 0.5 as percentages


def test_tick_decimals_follow_the_spacing():
    from journeykit.report.plots import tick_decimals

    assert tick_decimals([0, 5000, 10000]) == 0
    assert tick_decimals([3.2, 3.25, 3.3]) == 2        # steps of 0.05 → 2 decimals
    assert tick_decimals([0.95, 0.955, 0.96], 100) == 1  # 95.0%, 95.5%, 96.0%
    assert tick_decimals([12, 12.5, 13]) == 1
    assert tick_decimals([7]) == 0


MONTHS = pd.to_datetime(["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"])


def _ticks(ax, axis="y") -> list[str]:
    ax.figure.canvas.draw()
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    locs = ax.get_yticks() if axis == "y" else ax.get_xticks()
    return [t.get_text() for t, v in zip(labels, locs) if t.get_text() and lo - 1e-9 <= v <= hi + 1e-9]


def _pct(text: str) -> float:
    return float(text.rstrip("%").replace(",", ""))


def test_rate_trends_start_at_zero_and_never_pass_100_percent(styled):
    # payment success 95.7–97.3 % drew an axis of 94–97.5 % (and, with headroom, up to 104 %);
    # stickiness of 9.2–10 % an axis of 9.2–10 %: both now from 0, the first ending at exactly 100 %
    df = pd.DataFrame({"month": MONTHS, "pay": [0.957, 0.962, 0.973, 0.967, 1.0],
                       "dau_mau": [0.092, 0.095, 0.1, 0.094, 0.097], "orders": [100, 120, 150, 140, 160]})
    fig = plots.trends(df, [("pay", "Payment success", "pct"), ("dau_mau", "Stickiness", "pct"),
                            ("orders", "Orders", "int")])
    pay, stick, orders = [ax for ax in fig.axes if ax.get_visible()]
    assert pay.get_ylim() == (0.0, 1.0)                     # 1.0 × 1.1 capped at 100 %
    assert stick.get_ylim() == pytest.approx((0.0, 0.11))   # 10 % + 10 % headroom
    for ax in (pay, stick):
        ticks = [_pct(t) for t in _ticks(ax)]
        assert ticks[0] == 0 and max(ticks) <= 100
    assert _ticks(pay)[-1] == "100%"
    assert orders.get_ylim()[0] > 0                         # counts keep matplotlib's limits


def test_per_mille_and_nps_trends_include_zero(styled):
    df = pd.DataFrame({"month": MONTHS, "ctr": [7.9, 8.3, 8.0, 8.2, 8.1], "nps": [0.1, 0.3, 0.2, 0.25, 0.05],
                       "nps_neg": [-0.4, -0.2, -0.3, -0.1, -0.25]})
    fig = plots.trends(df, [("ctr", "CTR ‰", "per_mille"), ("nps", "NPS", "nps"), ("nps_neg", "NPS", "nps")])
    ctr, nps, neg = [ax for ax in fig.axes if ax.get_visible()]
    assert ctr.get_ylim() == pytest.approx((0.0, 8.3 * 1.1))
    assert nps.get_ylim() == pytest.approx((0.0, 0.33))     # 0.3 + 10 % of 0.3
    assert neg.get_ylim() == pytest.approx((-0.44, 0.0))
    assert "0" in _ticks(nps) and max(float(t) for t in _ticks(nps)) <= 100


def test_rate_limits():
    assert plots.rate_limits([0.5, 0.8], "pct") == pytest.approx((0.0, 0.88))
    assert plots.rate_limits([0.99], "pct") == (0.0, 1.0)
    assert plots.rate_limits([0.0, 0.0], "pct") == (0.0, 0.05)   # an all-zero rate still gets an axis
    assert plots.rate_limits([None, float("nan")], "pct") is None
    assert plots.rate_limits([5, 9], "int") is None and plots.rate_limits([1.3], "ratio") is None
    assert plots.rate_limits([-0.95, 0.99], "nps") == (-1.0, 1.0)
    assert plots.rate_limits([0.2, 0.4], "nps") == pytest.approx((0.0, 0.44))   # positive: from 0, not below
    assert plots.rate_limits([0.0], "nps") == (-0.05, 0.05)                     # never an empty axis


def test_trends_start_at_the_first_month_with_data(styled):
    df = pd.DataFrame({"month": MONTHS, "rate": [None, None, 0.2, 0.3, 0.25]})
    fig = plots.trends(df, [("rate", "Rate", "pct")])
    ax = fig.axes[0]
    xs = [matplotlib.dates.num2date(x).strftime("%Y-%m") for x in ax.lines[0].get_xdata(orig=False)]
    assert xs[0] == "2026-08"                               # June and July had no value


def test_share_bars_end_at_100_percent_ratio_bars_may_pass_it(styled):
    df = pd.DataFrame({"device": ["mobile", "desktop"], "rate": [0.97, 1.0]})
    h = plots.bars(df, "device", "rate", "Payment success by device", kind="pct").axes[0]
    assert h.get_xlim() == (0.0, 1.0) and _pct(_ticks(h, "x")[-1]) <= 100
    v = plots.bars(df, "device", "rate", "Share", kind="pct", horizontal=False).axes[0]
    assert v.get_ylim() == (0.0, 1.0)
    r = plots.bars(pd.DataFrame({"hour": ["7", "8"], "rel": [0.8, 1.4]}), "hour", "rel", "Relative open rate",
                   kind="ratio", horizontal=False).axes[0]
    assert r.get_ylim()[1] > 1.4 and "140.0%" in [t.get_text() for t in r.texts]


def test_bars_of_only_the_other_group_draw_nothing(styled):
    from journeykit.report.blocks import Note

    only_other = pd.DataFrame({"channel": ["other"], "cac": [25262.0]})
    assert plots.bars(only_other, "channel", "cac", "CAC by channel", kind="money") is None
    note = plots.bars(only_other.assign(channel=["기타"]), "channel", "cac", "CAC", kind="money",
                      empty="All channels are too small to show.")
    assert isinstance(note, Note) and "too small" in note.text
    assert plots.bars(only_other.iloc[:0], "channel", "cac", "CAC") is None
    two = pd.DataFrame({"channel": ["search", "other"], "cac": [1.0, 2.0]})
    assert isinstance(plots.bars(two, "channel", "cac", "CAC", kind="money"), Figure)


def test_a_panel_with_one_point_spans_the_same_months_as_the_others(styled):
    df = pd.DataFrame({"month": MONTHS[-2:], "churn": [None, 0.5], "mau": [1, 2]})
    fig = plots.trends(df, [("churn", "Churn", "pct"), ("mau", "MAU", "int")])
    spans = [tuple(matplotlib.dates.num2date(v).strftime("%Y-%m") for v in ax.get_xlim())
             for ax in fig.axes if ax.get_visible()]
    assert spans == [("2026-08", "2026-10"), ("2026-08", "2026-10")]   # not ±2 years around the point


def test_from_first_data():
    df = pd.DataFrame({"month": MONTHS[::-1], "a": [1, 2, None, None, None], "b": [None, None, 3, None, None]})
    assert plots.from_first_data(df, ["a", "b"])["month"].tolist() == list(MONTHS[2:])   # from August, sorted
    assert plots.from_first_data(df, ["a"])["month"].tolist() == list(MONTHS[3:])
    assert plots.from_first_data(df.assign(a=None, b=None), ["a", "b"]).empty
