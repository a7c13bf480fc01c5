"""Alternative text for charts: what a figure shows, in its own words.

A chart in a notebook is a PNG; the rendered report needs an ``alt`` text
for every image (screen readers, search, a PDF read aloud). The words are
the figure's own: its title (or the figure's super-title) and the labels of
its axes. :func:`register` makes IPython's plain-text form of every
matplotlib figure this description (``Chart: …``), so an executed notebook
carries it next to the PNG and :mod:`journeykit.run.render` can use it; the
report's section kernels register it at start.
"""

from __future__ import annotations

PREFIX = "Chart: "
"""How a described figure's plain text starts (what the renderer looks for)."""

MAX_CHARS = 400
"""Longest description: a grid of small multiples lists its panels' titles
up to this length."""


def _axes_words(ax) -> str:
    """``title (x: label, y: label)`` of one axes; empty when it has none."""
    title = (ax.get_title() or ax.get_title("left") or ax.get_title("right")).strip()
    labels = [f"{name}: {text.strip()}" for name, text in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
              if text and text.strip()]
    if title and labels:
        return f"{title} ({', '.join(labels)})"
    return title or ", ".join(labels)


def describe_figure(fig) -> str:
    """The alternative text of a matplotlib figure: ``Chart: `` then the
    super-title and each visible axes' title with its axis labels, joined
    by ``; `` (colour bars and axes without any words are skipped), cut
    to :data:`MAX_CHARS` characters. A figure without any words is
    ``Chart`` alone."""
    parts = []
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        parts.append(sup.get_text().strip())
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        words = _axes_words(ax)
        if words and words not in parts:
            parts.append(words)
    if not parts:
        return PREFIX.strip().rstrip(":")
    text = PREFIX + "; ".join(parts)
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1].rstrip() + "…"


def _plain(fig, p, cycle) -> None:
    p.text(describe_figure(fig))


def register(ip=None) -> bool:
    """Make the plain-text form of every matplotlib figure its description
    (:func:`describe_figure`) in the running IPython (or ``ip``), again
    before every cell; returns whether there was a shell. Does not import
    matplotlib."""
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ip = get_ipython()
    if ip is None:
        return False
    formatter = ip.display_formatter.formatters["text/plain"]

    def again(*_args) -> None:
        # choosing figure formats (IPython's select_figure_formats, which the report's chart style
        # calls) drops every formatter of Figure, this one included: put it back before each cell
        formatter.for_type_by_name("matplotlib.figure", "Figure", _plain)

    again()
    if not getattr(ip, "_jk_alt_registered", False):
        ip.events.register("pre_run_cell", again)
        ip._jk_alt_registered = True
    return True
