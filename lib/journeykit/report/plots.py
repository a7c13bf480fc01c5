"""Figures for the report: functions that return matplotlib figures, no I/O.

``use_style(cfg)`` sets one palette and a font family with Korean glyphs
for every chart of a run.
"""

from __future__ import annotations

import matplotlib
import matplotlib.dates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

PALETTE = ["#1f4e79", "#e07b39", "#3a9d5d", "#b8423c", "#7d5ba6", "#8c8c8c", "#c9a227", "#4aa3c8"]
CJK_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic", "AppleGothic")


def _available_fonts() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


def korean_font() -> str | None:
    """The first installed font with Hangul glyphs, or None.

    Matplotlib caches its font list at first import; fonts installed later
    are missing until the cache is rebuilt, which this does once.
    """
    names = _available_fonts()
    for f in CJK_FONTS:
        if f in names:
            return f
    font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
    names = _available_fonts()
    return next((f for f in CJK_FONTS if f in names), None)


def use_style(cfg=None) -> None:
    """Apply the report's chart style (palette, font with Hangul, sizes)."""
    font = korean_font()
    family = ([font] if font else []) + ["DejaVu Sans"]
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": family,
        "axes.unicode_minus": False,  # some Korean fonts lack U+2212
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "figure.figsize": (8, 3.6),
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "legend.frameon": False,
    })
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
            ip.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': 'tight', 'dpi': 150}")
    except ImportError:
        pass


def monthly_rows(counts: pd.DataFrame, title: str, ylabel: str, xlabel: str):
    """Line chart of rows per month per table (log scale).

    Parameters
    ----------
    counts : DataFrame
        Columns ``month`` (timestamp), ``table`` (display name), ``rows``.
    """
    fig, ax = plt.subplots()
    for name, grp in counts.groupby("table", sort=False):
        grp = grp.sort_values("month")
        ax.plot(grp["month"], grp["rows"], marker="o", markersize=3, label=name)
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    fig.autofmt_xdate()
    plt.close(fig)
    return fig


def tick_decimals(ticks, scale: float = 1.0) -> int:
    """Decimals that tell neighbouring ticks apart: 0 for a step of 1 or
    more, 1 for 0.1–1, 2 for 0.01–0.1 … (ticks multiplied by ``scale``)."""
    import math

    vals = sorted({round(float(t) * scale, 12) for t in ticks})
    steps = [b - a for a, b in zip(vals, vals[1:]) if b - a > 0]
    if not steps:
        return 0
    return max(0, min(4, -math.floor(math.log10(min(steps)) + 1e-9)))


def _tick_formatter(axis, kind: str):
    """A formatter for ``axis`` whose decimals follow the tick spacing."""
    from matplotlib.ticker import FuncFormatter

    scale = 100.0 if kind in ("pct", "ratio", "nps") else 1.0
    suffix = "%" if kind in ("pct", "ratio") else ""

    def fmt(v, _pos):
        d = tick_decimals(axis.get_majorticklocs(), scale)
        return f"{v * scale:,.{d}f}{suffix}"

    return FuncFormatter(fmt)


def _axis_format(ax, kind: str) -> None:
    ax.yaxis.set_major_formatter(_tick_formatter(ax.yaxis, kind))


def rate_limits(values, kind: str, headroom: float = 0.1) -> tuple[float, float] | None:
    """Honest value-axis limits for a chart of ``values`` of ``kind``: a
    share (``pct``, 0–1) from 0 to at most 1 (100 %), a rate per thousand
    (``per_mille``, 0–1000, shown as is) from 0 to at most 1000, a score shown
    −100…100 (``nps``, −1…1) including 0 and within −1…1, each with
    ``headroom`` (a fraction of the largest magnitude) above the data;
    ``None`` for other kinds (counts, money, ratios keep matplotlib's
    limits) or without a value. A share near 100 % gets an axis ending at
    exactly 100 %, never 104 %; a stickiness of 9–10 % an axis from 0."""
    vals = pd.to_numeric(pd.Series(list(values), dtype="float64"), errors="coerce").dropna()
    if kind not in ("pct", "per_mille", "nps") or vals.empty:
        return None
    lo, hi = float(vals.min()), float(vals.max())
    if kind in ("pct", "per_mille"):
        full = 1.0 if kind == "pct" else 1000.0
        top = hi * (1 + headroom) if hi > 0 else 0.05 * full
        return 0.0, min(full, top)
    span = max(abs(lo), abs(hi)) * headroom or 0.05
    if lo == hi == 0:
        return -span, span
    return (0.0 if lo >= 0 else max(-1.0, lo - span)), (0.0 if hi <= 0 else min(1.0, hi + span))


def from_first_data(df: pd.DataFrame, columns, x: str = "month") -> pd.DataFrame:
    """The rows of ``df`` (sorted by ``x``) from the first one where any of
    ``columns`` has a value: a trend starts with the data, not with empty
    months before it. Empty when no row has a value."""
    d = df.sort_values(x)
    has = d[list(columns)].apply(pd.to_numeric, errors="coerce").notna().any(axis=1)
    if not has.any():
        return d.iloc[:0]
    return d[d[x] >= d.loc[has, x].min()]


def _is_only_other(categories) -> bool:
    """Whether a breakdown is one group and that group is "other" (the
    small groups folded together, :data:`journeykit.facts.OTHER`)."""
    from journeykit import facts
    from journeykit.core import i18n

    names = {str(facts.OTHER).lower(), *(i18n.t("other_group", lang).lower() for lang in i18n.LANGUAGES)}
    cats = [str(c).strip().lower() for c in categories]
    return len(cats) == 1 and cats[0] in names


def trends(df: pd.DataFrame, panels: list[tuple[str, str, str]], x: str = "month", group: str | None = None,
           ncols: int = 3, title: str | None = None, empty: str | None = None):
    """Small multiples of KPIs over the trailing months, the last one marked.

    Panels without a single value are left out, and so are the leading
    months where no panel has a value (a trend starts with the data). With
    nothing left to draw, the figure is replaced by the sentence ``empty``
    (a note), or ``None``.

    Parameters
    ----------
    df : DataFrame
        One row per month (and per ``group``), a column per KPI.
    panels : list of (column, title, kind)
        ``kind`` is ``pct`` (0–1 rates shown as %), ``per_mille`` (a rate
        per 1,000, shown as is), ``nps`` (−1…1 shown as −100…100),
        ``money``, ``int`` or ``num``. Rate axes start at zero and end at
        100 % at most (:func:`rate_limits`).
    """
    panels = [p for p in panels if p[0] in df.columns and pd.to_numeric(df[p[0]], errors="coerce").notna().any()]
    if not panels or df.empty:
        from journeykit.report.blocks import Note

        return Note(empty) if empty else None
    df = from_first_data(df, [p[0] for p in panels], x)
    n = len(panels)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols + 0.6, 2.5 * nrows + (0.4 if title else 0)),
                             squeeze=False)
    data = df.sort_values(x)
    for ax, (col, label, kind) in zip(axes.flat, panels):
        groups = data.groupby(group, sort=False) if group else [(None, data)]
        for name, g in groups:
            line, = ax.plot(g[x], g[col], marker="o", markersize=2.5, linewidth=1.4, label=name)
            last = g.dropna(subset=[col]).tail(1)
            if len(last):
                ax.plot(last[x], last[col], marker="o", markersize=5, color=line.get_color())
        ax.set_title(label, fontsize=10)
        limits = rate_limits(data[col], kind)
        if limits is not None:
            ax.set_ylim(*limits)
        # every panel spans the same months, from the first with data: a panel with one point would
        # otherwise get matplotlib's ±2 years around it
        if pd.api.types.is_datetime64_any_dtype(data[x]):
            pad = pd.Timedelta(days=12)
            ax.set_xlim(pd.Timestamp(data[x].min()) - pad, pd.Timestamp(data[x].max()) + pad)
        _axis_format(ax, kind)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.tick_params(axis="y", labelsize=8)
        ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator(interval=max(1, data[x].nunique() // 6)))
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%y-%m"))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if group:
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", ncol=min(len(names), 6), bbox_to_anchor=(0.5, 0.0),
                   fontsize=8)
    if title:
        fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    plt.close(fig)
    return fig


def bars(df: pd.DataFrame, category: str, value: str, title: str, kind: str = "num", horizontal: bool = True,
         empty: str | None = None):
    """A bar per category (a breakdown), values labelled, the value axis
    from zero (a share, ``pct``, ending at 100 % at most; ``ratio`` is a
    ratio shown in % that may pass 100 %). A breakdown of nothing, or of
    one "other" group only (every group was too small to show), is no
    chart: the sentence ``empty`` (a note), or ``None``."""
    if df.empty or _is_only_other(df[category]):
        from journeykit.report.blocks import Note

        return Note(empty) if empty else None
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(df) + 1.0) if horizontal else (7, 3.4))
    fmt = {"pct": lambda v: f"{v * 100:.1f}%", "ratio": lambda v: f"{v * 100:.1f}%", "nps": lambda v: f"{v * 100:.0f}",
           "int": lambda v: f"{v:,.0f}", "money": lambda v: f"{v:,.0f}"}.get(kind, lambda v: f"{v:,.2f}")
    cats = df[category].astype(str).tolist()
    vals = df[value].astype(float).fillna(0).tolist()
    if horizontal:
        bars_ = ax.barh(cats[::-1], vals[::-1], color=PALETTE[0])
        ax.grid(axis="y", visible=False)
        ax.bar_label(bars_, labels=[fmt(v) for v in vals[::-1]], padding=3, fontsize=8)
        _axis_format_x(ax, kind)
    else:
        bars_ = ax.bar(cats, vals, color=PALETTE[0])
        ax.bar_label(bars_, labels=[fmt(v) for v in vals], padding=2, fontsize=8)
        _axis_format(ax, kind)
    ax.set_title(title)
    ax.margins(x=0.15) if horizontal else ax.margins(y=0.15)
    limits = rate_limits(vals, kind, headroom=0.15)
    if limits is not None:
        (ax.set_xlim if horizontal else ax.set_ylim)(*limits)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _axis_format_x(ax, kind: str) -> None:
    ax.xaxis.set_major_formatter(_tick_formatter(ax.xaxis, kind))
