"""Section 60 on every data shape (issue 16): orders without amounts, no
events, no tickets / surveys / subscriptions, surveys that do not say who
answered, one channel, fewer active customers than ``clusters.min_customers``,
behaviour the same for everyone, zero revenue, a period before the data.
Each runs the notebook's own cells (the parameters and loading cells
aside) on a hand-built client: nothing raises, each skipped analysis says
why in one line, and no sentence is shown twice."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import matplotlib
import pandas as pd

from journeykit import report
from journeykit.sections.segmentation import clusters as C
from journeykit.sections.segmentation import compute
from journeykit.sections.segmentation import experience as X
from journeykit.sections.segmentation import health as H
from journeykit.sections.segmentation import segments as S

from segment_data import CUSTOMERS, ORDERS  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "60_segmentation.ipynb"


def run_notebook(ds) -> list:
    """The value each code cell of the notebook shows (``None`` for a cell
    that shows nothing), on ``ds``; the last cell records the metrics."""
    import journeykit as jk

    ns = {"jk": jk, "ds": ds, "cfg": ds.cfg}
    jk.plots.use_style(ds.cfg)
    exec("from journeykit.sections.segmentation import compute, playbooks, view, view_health", ns)
    shown = []
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []) or "jk.load(" in src:
            continue
        tree = ast.parse(src)
        last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<cell>", "exec"), ns)
        if last is not None:
            shown.append(eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns))
    return shown


def sentences(shown) -> list[str]:
    """Every generated sentence among the shown values (notes and narratives)."""
    out = []
    for v in shown:
        if isinstance(v, report.Blocks):
            out += sentences(v.blocks)
        elif isinstance(v, report.Note):
            out.append(v.text)
        elif isinstance(v, report.Narrative):
            out += v.sentences
    return out


def check(ds) -> list[str]:
    """Run the notebook on ``ds``: every shown value renders, no sentence
    is shown twice; returns the sentences."""
    shown = run_notebook(ds)
    for v in shown:
        if v is not None and hasattr(v, "_repr_html_") and not isinstance(v, matplotlib.figure.Figure):
            html = v._repr_html_()
            assert "nan" not in html.replace("Nanum", ""), html
    said = sentences(shown)
    twice = sorted({s for s in said if said.count(s) > 1})
    assert not twice, twice
    report.jsonable(compute.metrics(ds, ds.cfg))
    return said


def _said(said: list[str], start: str) -> list[str]:
    return [s for s in said if s.startswith(start)]


def many_orders(n: int, amount=10.0, day: str = "2026-10-10 00:00:00") -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"u{i:03d}" for i in range(n)], "ordered_at": day, "amount": amount})


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------

def test_orders_without_amounts_skip_rfm_and_value_tiers(make_dataset):
    """An events-only client whose purchase events carry no value: its
    orders have no amounts. RFM used to fail (NaN monetary scores cannot be
    integers) and take the whole section down."""
    days = pd.date_range("2026-06-01", periods=60, freq="2D")
    ev = pd.DataFrame({"customer_id": [f"u{i % 12}" for i in range(60)], "occurred_at": days.astype(str),
                       "event_type": ["purchase" if i % 3 == 0 else "login" for i in range(60)]})
    ds = make_dataset({"events": ev})
    cfg = ds.cfg
    assert S.rfm_reason(ds, cfg) == "no_amounts" and S.tiers_reason(ds, cfg) == "no_amounts"
    assert S.rfm(ds, cfg) is None and S.segment_counts(ds, cfg) is None and S.rfm_transitions(ds, cfg) is None
    m = compute.metrics(ds, cfg)
    assert m["segment_counts"] is None and m["top10pct_revenue_share"] is None
    assert m["segment_counts_prev"] is None and sum(m["lifecycle_counts"].values()) == 12
    keys = {c.key for c in compute.changes(ds, cfg)}
    assert "live_customers" in keys and not {"rfm_customers", "champions_share", "top10pct_revenue_share"} & keys
    # spend is not a cluster feature; health still scores on the other components
    assert "spend" not in C.behaviour(ds, cfg).columns
    assert H.health(ds, cfg)["score"].notna().any()
    said = check(ds)
    assert len(_said(said, "No RFM segments: this client's orders carry no amounts")) == 1
    assert len(_said(said, "No value tiers: this client's orders carry no amounts")) == 1
    assert not _said(said, "The top 10% of buyers")


def test_orders_only_client_without_events_tickets_surveys_subscriptions(make_dataset):
    ds = make_dataset({"orders": ORDERS})
    cfg = ds.cfg
    assert X.experience_reason(ds, cfg) == "no_tables"
    assert {c for c, why in H.available_components(ds).items() if why} == {"tickets", "nps_csat", "subscription"}
    said = check(ds)
    assert _said(said, "Experience segments need the surveys or tickets table") != []
    assert _said(said, "Health components dropped for this client: Support tickets, NPS / CSAT, Subscription")
    # five customers: too few to cluster, said once
    assert len(_said(said, "Too few active customers (2, fewer than 50)")) == 1


def test_surveys_without_customer_ids(make_dataset):
    """Surveys that do not say who answered, and no tickets: experience
    segments used to fail ("No objects to concatenate")."""
    sv = pd.DataFrame({"response_id": ["r1", "r2"], "responded_at": ["2026-10-01 00:00:00", "2026-10-02 00:00:00"],
                       "nps": [9, 3]})
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "surveys": sv})
    assert X.experience_reason(ds, ds.cfg) == "no_customer_ids" and X.experience(ds, ds.cfg) is None
    assert H.available_components(ds)["nps_csat"] == "column:surveys.customer_id"
    said = check(ds)
    assert len(_said(said, "Experience segments need to know who answered")) == 1


def test_one_channel_is_left_out_of_the_clusters_and_said(make_dataset):
    """60 customers on one channel: "channels used" is 1 for everyone, so
    it is left out before fitting, and the note says so."""
    n = 60
    rows = []
    for i in range(n):
        heavy = i < 20
        for d in range(12 if heavy else 2):
            rows.append((f"u{i:03d}", f"2026-10-{1 + d:02d} 10:00:00", "login", "web", f"s{i}-{d}"))
    ev = pd.DataFrame(rows, columns=["customer_id", "occurred_at", "event_type", "channel", "session_id"])
    orders = many_orders(n)
    orders.loc[:19, "amount"] = 200.0
    ds = make_dataset({"events": ev, "orders": orders})
    fit = C.clusters(ds, ds.cfg)
    assert fit.reason is None and fit.constant == ["channels", "orders"]
    assert "channels" not in fit.z.columns and fit.k >= 2
    said = check(ds)
    left_out = "Left out because every active customer has the same value: channels used, orders."
    assert len([s for s in said if s.endswith(left_out)]) == 1


def test_behaviour_the_same_for_everyone(make_dataset):
    """80 customers with one order of the same amount on the same day:
    every feature is constant. The note used to say "too few active
    customers (80, fewer than 50)"."""
    ds = make_dataset({"orders": many_orders(80)})
    fit = C.clusters(ds, ds.cfg)
    assert fit.reason == "constant" and fit.n == 80
    assert fit.constant == ["active_days", "days_between", "orders", "spend"]
    assert C.n_clusters(ds, ds.cfg) is None
    said = check(ds)
    assert len(_said(said, "The 80 active customers behave alike on every measure (active days, days between "
                           "visits, orders, spend): no behavioural clusters.")) == 1
    assert not _said(said, "Too few active customers")


def test_fit_clusters_drops_constant_and_all_missing_features():
    rng = pd.Series(range(60))
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)], "active_days": (rng % 2) * 20 + 1,
                       "channels": 1.0, "features_used": float("nan")})
    from journeykit.core.settings import ClusterSettings

    fit = C.fit_clusters(df, ClusterSettings(k_min=2, k_max=3))
    # two groups of 30 on active days; one channel and no feature values carry nothing
    assert fit.constant == ["channels", "features_used"] and fit.features == ["active_days"]
    assert fit.k == 2 and fit.sizes.tolist() == [30, 30]


def test_zero_revenue_skips_value_tiers(make_dataset):
    """Paid orders of amount 0: the Pareto chart used to fail on a missing
    top-10% share."""
    o = ORDERS.copy()
    o["amount"] = 0
    ds = make_dataset({"customers": CUSTOMERS, "orders": o})
    assert S.rfm_reason(ds, ds.cfg) is None and S.tiers_reason(ds, ds.cfg) == "no_revenue"
    assert S.top10pct_revenue_share(ds, ds.cfg) is None
    said = check(ds)
    assert len(_said(said, "The paid orders of the last 365 days add up to no revenue: no value tiers.")) == 1


def test_a_period_before_the_data(make_dataset):
    """Nobody had signed up at either end: the lifecycle flow chart used to
    fail on an empty matrix; now one sentence each for RFM, lifecycle and
    health, and nothing drawn."""
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS}, period="2024-06")
    assert S.rfm_reason(ds, ds.cfg) == "no_buyers"
    shown = run_notebook(ds)
    assert not any(isinstance(v, matplotlib.figure.Figure) for v in shown)
    said = check(ds)
    assert len(_said(said, "No paid order in the last 365 days: no RFM segments.")) == 1
    assert len(_said(said, "No paid order in the last 365 days: no value tiers.")) == 1
    assert len(_said(said, "No customer had signed up by the end of June 2024.")) == 1
    assert len(_said(said, "No customer to score at the end of June 2024.")) == 1
    m = compute.metrics(ds, ds.cfg)
    assert m["health_band_shares"] is None and m["n_clusters"] is None
    assert m["segment_counts"] == {k: 0 for k in m["segment_counts"]}


def test_the_hand_built_client_shows_each_note_once(make_dataset):
    from segment_data import SUBSCRIPTIONS, SURVEYS, TICKETS

    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "tickets": TICKETS, "surveys": SURVEYS,
                       "subscriptions": SUBSCRIPTIONS}, language="ko")
    said = check(ds)
    assert any(s.startswith("최근 365일간 3명이 결제를 완료했습니다") for s in said)
    assert len(_said(said, "활동 고객이 너무 적어(2명, 50명 미만)")) == 1


def test_registry_lists_what_the_section_reads():
    from journeykit.sections import registry

    sec = registry.get("60_segmentation")
    assert sec.needs == ("orders",)
    assert set(sec.optional) == {"events", "tickets", "surveys", "subscriptions", "orders"}
    assert "channel" in sec.optional["events"] and "customer_id" in sec.optional["surveys"]
    assert "amount" in sec.optional["orders"]  # unknown for orders derived from events without a value


def test_events_only_client_keyed_by_visitor(make_dataset):
    """Events with a visitor id only and purchase values: orders (with
    amounts) are derived from the purchase events; activity is those orders."""
    days = pd.date_range("2026-07-01", periods=40, freq="2D")
    ev = pd.DataFrame({"visitor_id": [f"v{i % 8}" for i in range(40)], "occurred_at": days.astype(str),
                       "event_type": ["purchase" if i % 2 == 0 else "page_view" for i in range(40)],
                       "value": [1000.0 * (1 + i % 8) if i % 2 == 0 else None for i in range(40)]})
    ds = make_dataset({"events": ev})
    assert S.rfm_reason(ds, ds.cfg) is None and sum(S.segment_counts(ds, ds.cfg).values()) == 4
    said = check(ds)
    assert any(s.startswith("4 customers paid for an order in the last 365 days.") for s in said)
