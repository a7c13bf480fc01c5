"""30_purchase and 40_retention count the same orders.

One hand-built client whose payment statuses arrive as the client's raw
values (``Paid``, ``approved``, ``settled``, ``failure``, ``FAILED``,
``Declined``, ``pending``, ``PENDING``, ``refunded`` and empty), mapped at
load to the canonical statuses: purchase's orders and payment success,
retention's repeat-purchase rate, purchase cohorts and gaps between
purchases all rest on :mod:`journeykit.facts`, and agree. (The bug this
pins: with statuses ``pending`` and ``failure``, retention counted two
purchases where purchase counted one order and one failed attempt.)
"""

from __future__ import annotations

import pandas as pd
import pytest

from journeykit import facts
from journeykit.core.periods import Period
from journeykit.sections.purchase import compute as P
from journeykit.sections.retention import compute as R

OCT, SEP = Period(2026, 10), Period(2026, 9)

CUSTOMERS = pd.DataFrame([
    ("X", "2026-09-15 00:00:00"),
    ("Y", "2026-09-10 00:00:00"),
    ("Z", "2026-08-05 00:00:00"),
    ("W", "2026-10-02 00:00:00"),
    ("Q", "2026-10-05 00:00:00"),
], columns=["customer_id", "signup_at"])

ORDERS = pd.DataFrame([
    # id,   cust, ordered_at,            amount, raw status   → canonical
    ("x1", "X", "2026-10-03 09:00:00", 100, "failure"),    # failed attempt
    ("x2", "X", "2026-10-03 09:05:00", 100, "paid"),       # X's first order
    ("x3", "X", "2026-10-04 10:00:00", 100, "pending"),    # neither order nor attempt
    ("y1", "Y", "2026-09-12 10:00:00", 50, "Paid"),        # Y's first order (September)
    ("y2", "Y", "2026-10-06 10:00:00", 50, "PENDING"),     # neither
    ("y3", "Y", "2026-10-07 10:00:00", 50, "Declined"),    # failed attempt
    ("z1", "Z", "2026-08-06 10:00:00", 80, "approved"),    # Z's first order (August)
    ("z2", "Z", "2026-10-08 10:00:00", 80, None),          # empty status: an order (not an attempt)
    ("z3", "Z", "2026-10-09 10:00:00", 80, "refunded"),    # neither
    ("w1", "W", "2026-10-10 10:00:00", 60, "FAILED"),      # failed attempt
    ("w2", "W", "2026-10-11 10:00:00", 60, "failure"),     # failed attempt
    ("q1", "Q", "2026-10-12 10:00:00", 70, "settled"),     # Q's first order
], columns=["order_id", "customer_id", "ordered_at", "amount", "payment_status"])


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                        definitions={"min_group_size": 1, "k_anonymity": 1})


def test_statuses_are_mapped_at_load(ds):
    got = ds.table("orders").execute().set_index("order_id")["payment_status"]
    assert {k: None if pd.isna(v) else v for k, v in got.items()} == {"x1": "failed", "x2": "paid", "x3": "pending", "y1": "paid", "y2": "pending",
                             "y3": "failed", "z1": "paid", "z2": None, "z3": "refunded", "w1": "failed",
                             "w2": "failed", "q1": "paid"}


def test_purchase_counts_orders_and_attempts(ds):
    v = P.period_values(ds, ds.cfg, OCT)
    # October orders: x2, z2 (empty status), q1; x3/y2 pending and z3 refunded are not orders
    assert v["orders"] == 3 and v["revenue"] == pytest.approx(250.0)      # 100 + 80 + 70
    # attempts: paid x2, q1; failed x1, y3, w1, w2 (z2 has no status: an order, not an attempt)
    assert (v["paid_attempts"], v["failed_attempts"]) == (2, 4)
    assert v["payment_success_rate"] == pytest.approx(2 / 6)
    # first orders x2, q1; repeat z2
    nr = P.new_vs_repeat(ds, ds.cfg).set_index("group")["orders"]
    assert (nr["first"], nr["repeat"]) == (2, 1)
    s = P.period_values(ds, ds.cfg, SEP)
    assert (s["orders"], s["paid_attempts"], s["failed_attempts"]) == (1, 1, 0)   # y1


def test_retention_counts_the_same_purchases(ds):
    # the same October orders, as purchases: buyers X, Z, Q — Z (z1, z2) is the one repeat buyer,
    # and X's failed and pending rows do not make her one
    assert R.repeat_purchase(ds, ds.cfg, OCT) == (1, 3)
    assert R.repeat_purchase(ds, ds.cfg, SEP) == (0, 1)                    # Y's first purchase
    p = facts.purchases(ds).execute()
    assert len(p[(p["at"] >= "2026-10-01") & (p["at"] < "2026-11-01")]) == P.period_values(ds, ds.cfg, OCT)["orders"]
    # the one gap between purchases ending in October: Z, Aug 6 → Oct 8 = 63 days
    ip = R.inter_purchase(ds, ds.cfg, OCT)
    assert (ip["n"], ip["mean"]) == (1, pytest.approx(63.0))


def test_purchase_cohorts_count_the_same_orders(ds):
    m = R.cohort_matrix(ds, ds.cfg, by="purchase", months=3)
    m = m.set_index(m["cohort"].dt.strftime("%Y-%m"))
    # August (Z): bought in August, not September (no row), October (z2, empty status)
    assert [m.loc["2026-08", k] for k in range(3)] == [1.0, 0.0, 1.0]
    # September (X, Y): Y bought in September; in October only X (Y's rows are pending and declined)
    assert [m.loc["2026-09", k] for k in range(2)] == [0.5, 0.5]
    # October (W, Q): Q only — W's two attempts failed
    assert m.loc["2026-10", 0] == 0.5
    # October buyers by cohort = the customers with an October order in 30_purchase
    october = sum(m.loc[c, k] * m.loc[c, "size"] for c, k in (("2026-08", 2), ("2026-09", 1), ("2026-10", 0)))
    o = facts.paid_orders(ds).execute()
    assert october == o[o["ordered_at"] >= "2026-10-01"]["customer_id"].nunique() == 3
    assert R.month_k_retention(ds, ds.cfg, OCT, 1, by="purchase") == (1, 2)   # September cohort: X
    # activity is wider: a failed attempt is contact (Y and W are active in October)
    assert R.mau(ds, ds.cfg, OCT) == 5


def test_is_trial():
    import ibis

    t = ibis.memtable({"plan": ["trial", "Trial", "trial_14d", "basic", None, "Pro"]})
    got = t.select(x=facts.is_trial(t.plan)).execute()["x"].tolist()
    assert got == [True, True, True, False, False, False]
