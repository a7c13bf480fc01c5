"""Every report section, declared once.

A :class:`Section` says what a section is called (its notebook's name, also
its key in ``metrics.json``), which package computes it, which tables it
cannot do without, which optional tables and columns it uses when they are
there, the stable ``metrics.json`` keys it always records, and how heavy it
is. The runner, the summary, the "not available" logic, the end-to-end
tests and the README's metrics reference all read this list: a section
whose needs are not met is recorded as not available without starting a
kernel.

Adding a section: write ``sections/<name>/compute.py`` (numbers) and
``view.py`` (what the notebook shows), a notebook ``notebooks/<NN>_<name>.ipynb``
(parameters, narrative, calls), and one entry in :data:`SECTIONS`.

This module imports nothing heavy: the runner reads it before any kernel
starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from journeykit.core import i18n

PREDICTION_MODEL_KEYS = ("status", "roc_auc", "pr_auc", "brier", "base_rate", "top_decile_lift", "n_train",
                         "n_test", "horizon_days")
"""The keys of each model's block of ``70_prediction`` (``churn``, ``promoter``, ``upsell``)."""


@dataclass(frozen=True)
class Section:
    """One report section.

    ``needs`` are requirements that must all hold, ``needs_any`` a list of
    which at least one must hold; each is a table (``"orders"``) or a
    column of a table (``"events.customer_id"``). ``optional`` lists what
    the section uses when present (table → columns; a table mapped to
    ``()`` is used as a whole): without it an analysis is skipped with a
    reason, never the section.
    """

    name: str
    """Notebook stem and ``metrics.json`` key, e.g. ``30_purchase``."""
    package: str
    """``journeykit.sections.<package>`` holds ``compute`` and ``view``."""
    needs: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stable_keys: tuple[str, ...] = ()
    """Keys always present in the section's ``metrics`` (``null`` when not computable)."""
    prev: bool = True
    """Whether each stable key has a ``<key>_prev`` twin (the comparison period)."""
    null_value: dict[str, Any] | None = None
    """What a stable key holds when the section is not available (default ``null``)."""
    headline: str | None = None
    """The stable key that shows the section computed something (checked end to end)."""
    scorecard: tuple[str, ...] = ()
    """The section's headline KPIs on the executive summary's scorecard, in order."""
    heavy: int = 0
    """Expected cost rank (higher starts first when sections run in parallel,
    for a client without an earlier report: :func:`journeykit.run.runner.expected_seconds`).
    The ranks follow the large demo client's section seconds (benchmark at
    14f43ad: prediction 129, segmentation 76, retention 74, consideration,
    campaigns, LTV and purchase 34–38, awareness 20, advocacy 9, data quality
    3); with two lanes that order ends the sections 7 s sooner than the
    earlier ranks (purchase and awareness ranked with advocacy)."""
    memory_heavy: bool = False
    """Holds per-customer tables and models in Python beside its DuckDB
    memory (on a million customers about twice a light section's peak):
    two such sections never run at the same time (:class:`journeykit.run.workers.Pool`)."""
    reads_results: bool = False
    """Reads the other sections' results: runs after them (the summary)."""
    facts: tuple[str, ...] = ()
    """The shared facts it reads (keys of :data:`journeykit.facts.SHARED`):
    one read by two sections or more is built by the runner before the
    sections start (:func:`journeykit.run.runner.prebuild_facts`)."""
    appendix: bool = False
    """Belongs to the deliverable's appendix for analysts (e.g. data
    quality), not to its client part (:mod:`journeykit.run.render`)."""

    def keys(self) -> list[str]:
        """Every stable ``metrics.json`` key, ``_prev`` twins included."""
        return [k for key in self.stable_keys for k in ((key, f"{key}_prev") if self.prev else (key,))]

    def null_metrics(self) -> dict[str, Any]:
        """The section's metrics when it is not available: every stable key
        present, holding :attr:`null_value` (``null`` by default)."""
        value = self.null_value
        return {k: (dict(value) if isinstance(value, dict) else value) for k in self.keys()}

    def missing(self, available: dict[str, set[str]]) -> list[str]:
        """The unmet requirements, given ``available``: table → its loaded
        columns (tables with rows only). Empty when the section can run."""
        out = [n for n in self.needs if not _holds(n, available)]
        if self.needs_any and not any(_holds(n, available) for n in self.needs_any):
            out += list(self.needs_any)
        return out


def _holds(need: str, available: dict[str, set[str]]) -> bool:
    table, _, column = need.partition(".")
    return table in available and (not column or column in available[table])


SECTIONS: tuple[Section, ...] = (
    Section("00_data_quality", "data_quality", stable_keys=("tables_loaded",), prev=False, appendix=True,
            headline="tables_loaded"),
    Section("10_awareness", "awareness", needs=("marketing",),
            optional={"marketing": ("spend",), "customers": ("acquisition_channel",),
                      "events": ("customer_id", "visitor_id", "session_id", "channel")},
            stable_keys=("impressions", "clicks", "ctr", "spend", "cpc", "new_customers", "cac"),
            headline="ctr", scorecard=("new_customers", "ctr", "cac"), heavy=2),
    Section("20_consideration", "consideration", needs=("events",),
            optional={"events": ("customer_id", "visitor_id", "session_id", "device", "channel", "duration_s",
                                 "page"),
                      "orders": ("payment_status",)},
            stable_keys=("sessions", "product_view_rate", "add_to_cart_rate", "checkout_rate", "funnel"),
            headline="sessions", scorecard=("sessions", "add_to_cart_rate"), heavy=3),
    Section("30_purchase", "purchase", needs=("orders",),
            optional={"orders": ("payment_status", "device", "channel", "discount_code", "order_id"),
                      "customers": (), "events": ("customer_id", "visitor_id"),
                      "subscriptions": ("plan", "ended_at")},
            stable_keys=("orders", "revenue", "aov", "conversion_rate", "payment_success_rate",
                         "discount_order_share", "repeat_revenue_share", "median_days_to_first_purchase"),
            headline="orders", scorecard=("orders", "revenue", "conversion_rate", "payment_success_rate"),
            heavy=3),
    Section("40_retention", "retention", needs_any=("orders", "events.customer_id"),
            optional={"events": ("session_id", "duration_s", "feature"), "orders": ("payment_status",),
                      "subscriptions": ("plan", "mrr", "ended_at"), "tickets": ("category", "csat", "resolved_at"),
                      "customers": ("acquisition_channel",)},
            stable_keys=("active_customers", "mau", "dau_mau", "month1_retention", "month3_retention",
                         "repeat_purchase_rate", "churn_rate", "renewal_rate", "tickets_per_100_customers", "csat"),
            headline="mau", scorecard=("mau", "month1_retention", "churn_rate"), heavy=4,
            facts=("activity_days",)),
    Section("50_advocacy", "advocacy", needs=("surveys",),
            optional={"surveys": ("nps", "touchpoint", "customer_id"), "customers": ("referred_by",),
                      "events": ("customer_id", "value"), "tickets": ("csat",), "orders": ()},
            stable_keys=("nps", "nps_ci_low", "nps_ci_high", "promoter_share", "detractor_share", "review_rate",
                         "referral_rate"),
            headline="nps", scorecard=("nps", "referral_rate"), heavy=1),
    Section("55_campaigns", "campaigns", needs_any=("messages", "experiments"),
            optional={"messages": ("channel", "opened_at", "clicked_at", "variant"),
                      "orders": ("payment_status", "amount"), "customers": ("segment", "plan"),
                      "events": ("customer_id",)},
            stable_keys=("campaigns", "experiments"), prev=False, headline="campaigns",
            scorecard=("message_open_rate", "message_conversion_rate"), heavy=3, facts=("activity_days",)),
    Section("60_segmentation", "segmentation", needs=("orders",),
            optional={"events": ("customer_id", "session_id", "duration_s", "feature", "channel"),
                      "tickets": ("csat",), "surveys": ("customer_id", "nps", "csat"),
                      "subscriptions": ("plan", "ended_at"), "orders": ("amount", "payment_status")},
            stable_keys=("segment_counts", "health_band_shares", "lifecycle_counts", "n_clusters",
                         "top10pct_revenue_share"),
            headline="health_band_shares", heavy=5, memory_heavy=True, facts=("activity_days",)),
    Section("70_prediction", "prediction", needs_any=("orders", "events.customer_id"),
            optional={"events": ("customer_id", "feature", "session_id", "device"),
                      "orders": ("discount_code", "payment_status", "device"),
                      "tickets": ("category", "csat", "resolved_at"), "surveys": ("customer_id", "nps"),
                      "subscriptions": ("mrr", "plan", "ended_at"), "messages": ("opened_at",),
                      "customers": ("acquisition_channel",)},
            stable_keys=("churn", "promoter", "upsell"), prev=False,
            null_value={**{k: None for k in PREDICTION_MODEL_KEYS}, "status": "not_available"},
            headline="churn", heavy=6, memory_heavy=True, facts=("activity_days",)),
    Section("80_ltv", "ltv", needs=("orders",),
            optional={"orders": ("payment_status", "amount"), "customers": ("acquisition_channel",),
                      "marketing": ("spend",)},
            stable_keys=("time_unit", "models", "selected_model", "gamma_gamma", "clv_total", "clv_mean",
                         "clv_median", "horizon_months", "discount_rate_monthly"),
            headline="clv_total", scorecard=("clv_mean",), heavy=3),
    Section("90_summary", "summary", stable_keys=("headline_kpis", "significant_changes"), prev=False,
            headline="headline_kpis", reads_results=True),
)

_BY_NAME = {s.name: s for s in SECTIONS}


def get(name: str) -> Section | None:
    """The section called ``name`` (``30_purchase``), or ``None`` for a
    notebook the registry does not declare (an analyst's own section)."""
    return _BY_NAME.get(name)


def available(load_report) -> dict[str, set[str]]:
    """Table → loaded columns, for the tables with rows in a load report
    (:class:`journeykit.data.load_report.LoadReport`)."""
    return {name: set(t.columns) for name, t in load_report.tables.items() if t.status != "empty"}


def needs_text(needs: list[str], language: str) -> str:
    """Unmet requirements for a reader: ``orders``, ``events (customer_id)``."""
    out = []
    for n in needs:
        table, _, column = n.partition(".")
        name = i18n.table_name(table, language)
        out.append(f"{name} ({column})" if column else name)
    return ", ".join(out)


def require(cfg, ds, name: str) -> None:
    """In a section notebook: stop with a "not available" note, after
    recording the section's null metrics, unless its needs are met.

    The runner checks the same needs before it starts a kernel; this check
    is for an analyst who runs the notebook on a client it does not fit.

    Raises
    ------
    SectionNotAvailable
        Naming what is missing; the runner records ``not_available``.
    """
    from journeykit.core.errors import SectionNotAvailable
    from journeykit.report import Note, record

    section = _BY_NAME[name]
    missing = section.missing(available(ds.report))
    if not missing:
        return
    from IPython.display import display

    display(Note(i18n.t("not_available_body", cfg.language, tables=needs_text(missing, cfg.language),
                        client=cfg.name), "warn"))
    record(name, section.null_metrics())
    raise SectionNotAvailable(f"needs: {', '.join(missing)}")


__all__ = ["Section", "SECTIONS", "PREDICTION_MODEL_KEYS", "get", "available", "needs_text", "require"]
