"""Figures for the report: functions that return matplotlib figures, no I/O.

``use_style(cfg)`` sets one palette and a font family with Korean glyphs
for every chart of a run.
"""

from __future__ import annotations

import matplotlib
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
