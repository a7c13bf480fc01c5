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
