"""Purchase KPIs on hand-built orders, every expected value worked out in a
comment; period-over-period verdicts; breakdown folding; the memo under
changed settings; clients with orders only, with optional columns missing,
and with events only; the generated text in en and ko; and the tiny demo
data against the generator's truth."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from journeykit.sections.registry import require
from journeykit.core import config
from journeykit.data import loader as io
from journeykit import report
from journeykit.core.errors import SectionNotAvailable
from journeykit.sections.purchase import compute as P
from journeykit.sections.purchase import view as V

# Period 2026-10 (31 days), comparison 2026-09 (30 days); conversion window
# W = 30 days (the default). The October conversion cohort: signup + 30 d in
# [Oct 1, Nov 1), i.e. signups from Sep 1 to Oct 1; September's: signups
# from Aug 2 to Aug 31.
CUSTOMERS = pd.DataFrame([
    ("A", "2026-09-05 00:00:00"),   # Oct cohort; first order Sep 10 (5 d): converted
    ("B", "2026-09-20 10:05:00"),   # Oct cohort; first order Oct 25 10:05 (35 d): not converted
    ("C", "2026-09-28 00:00:00"),   # Oct cohort; never buys
    ("D", "2026-10-10 00:00:00"),   # Nov cohort; first order Oct 12 (2 d)
    ("E", "2026-08-10 00:00:00"),   # Sep cohort; first order Aug 15: converted
    ("F", "2026-08-20 00:00:00"),   # Sep cohort; never buys
    ("G", "2026-10-31 23:00:00"),   # Nov cohort; orders after the period end only
], columns=["customer_id", "signup_at"])

ORDERS = pd.DataFrame([
    # id,  cust, ordered_at,           amount, channel, device,   code,        status
    ("e0", "E", "2026-08-15 00:00:00", 60, "web", "desktop", None, "paid"),         # E first
    ("s1", "A", "2026-09-10 00:00:00", 100, "web", "desktop", "WELCOME10", "paid"),  # A first
    ("s3", "E", "2026-09-12 09:00:00", 140, "app", "mobile", None, "failed"),
    ("s4", "E", "2026-09-12 09:05:00", 140, "app", "mobile", None, "Paid"),         # repeat; status case ignored
    ("o1", "A", "2026-10-03 00:00:00", 100, "web", "desktop", "SALE15", "paid"),     # repeat
    ("o2", "A", "2026-10-15 00:00:00", 200, "app", "mobile", None, "paid"),         # repeat
    ("o3", "B", "2026-10-25 10:00:00", 300, "web", "tablet", "WELCOME10", "failed"),
    ("o4", "B", "2026-10-25 10:05:00", 300, "web", "tablet", "WELCOME10", "paid"),   # B first
    ("o5", "D", "2026-10-12 00:00:00", 50, "app", "mobile", "WELCOME10", "paid"),    # D first
    ("o6", "E", "2026-10-20 00:00:00", 150, "web", "desktop", None, "paid"),        # repeat
    ("o7", "A", "2026-10-28 00:00:00", 500, "web", "desktop", None, "refunded"),    # neither order nor attempt
    ("o8", "G", "2026-11-02 00:00:00", 80, "web", "desktop", None, "paid"),         # after the period end
], columns=["order_id", "customer_id", "ordered_at", "amount", "channel", "device", "discount_code",
            "payment_status"])

SUBSCRIPTIONS = pd.DataFrame([
    ("S1", "A", "2026-10-01 00:00:00", "2026-10-15 00:00:00", "trial", 0),
    ("S2", "A", "2026-10-15 00:00:00", None, "basic", 9900),        # A's trial converted
    ("S3", "B", "2026-10-10 00:00:00", "2026-10-24 00:00:00", "trial", 0),   # not converted
    ("S4", "C", "2026-10-20 00:00:00", "2026-11-03 00:00:00", "trial", 0),   # ends after the period: not counted
    ("S5", "E", "2026-09-01 00:00:00", "2026-09-15 00:00:00", "Trial", 0),
    ("S6", "E", "2026-09-15 00:00:00", None, "plus", 19900),        # E's trial converted (September)
], columns=["subscription_id", "customer_id", "started_at", "ended_at", "plan", "mrr"])


@pytest.fixture
def ds(make_dataset):
    return make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": SUBSCRIPTIONS})


def test_period_values_hand_computed(ds):
    v = P.period_values(ds, ds.cfg, ds.cfg.period)
    # paid orders in October: o1, o2, o4, o5, o6 (o3 failed, o7 refunded, o8 after the end)
    assert v["orders"] == 5
    assert v["revenue"] == pytest.approx(800.0)                 # 100 + 200 + 300 + 50 + 150
    assert v["aov"] == pytest.approx(160.0)                     # 800 / 5
    # deviations from 160: −60, 40, 140, −110, −10 → squares sum 37,000; / 4 = 9,250
    assert v["aov_sd"] == pytest.approx(math.sqrt(9250.0))
    # cohort A, B, C (windows close Oct 5, Oct 20, Oct 28); only A bought within 30 days
    assert (v["cohort"], v["converted"]) == (3, 1)
    assert v["conversion_rate"] == pytest.approx(1 / 3)
    # attempts: 5 paid + 1 failed (o3); the refunded o7 is neither
    assert (v["paid_attempts"], v["failed_attempts"]) == (5, 1)
    assert v["payment_success_rate"] == pytest.approx(5 / 6)
    assert v["discount_order_share"] == pytest.approx(3 / 5)   # o1 SALE15, o4 and o5 WELCOME10
    # repeat orders o1 (100), o2 (200), o6 (150) = 450 of 800
    assert v["repeat_revenue"] == pytest.approx(450.0)
    assert v["repeat_revenue_share"] == pytest.approx(0.5625)
    # first orders in October: B after 35 days, D after 2 days → median 18.5
    assert v["first_orders"] == 2
    assert v["median_days_to_first_purchase"] == pytest.approx(18.5)
    # trials ended in October: S1 (converted by S2) and S3 (not); S4 ends in November
    assert (v["trials"], v["trials_converted"]) == (2, 1)
    assert v["trial_to_paid_rate"] == pytest.approx(0.5)


def test_previous_period_hand_computed(ds):
    v = P.period_values(ds, ds.cfg, ds.cfg.period.previous())
    assert v["orders"] == 2                                     # s1, s4
    assert v["revenue"] == pytest.approx(240.0)                 # 100 + 140
    assert v["aov"] == pytest.approx(120.0)
    assert v["conversion_rate"] == pytest.approx(0.5)           # cohort E (converted), F
    assert v["payment_success_rate"] == pytest.approx(2 / 3)    # s1, s4 paid; s3 failed
    assert v["discount_order_share"] == pytest.approx(0.5)      # s1
    assert v["repeat_revenue_share"] == pytest.approx(140 / 240)  # s4 is E's second order
    assert v["median_days_to_first_purchase"] == pytest.approx(5.0)  # A: Sep 5 → Sep 10
    assert v["trial_to_paid_rate"] == pytest.approx(1.0)        # S5 → S6


def test_metrics_has_every_stable_key_with_prev(ds):
    m = P.metrics(ds, ds.cfg)
    for k in P.STABLE_KEYS:
        assert k in m and f"{k}_prev" in m
    assert m["orders"] == 5 and m["orders_prev"] == 2
    assert m["conversion_rate"] == pytest.approx(1 / 3) and m["conversion_rate_prev"] == pytest.approx(0.5)
    assert m["trial_to_paid_rate"] == pytest.approx(0.5) and m["trial_to_paid_rate_prev"] == pytest.approx(1.0)
    assert m["conversion_cohort"] == 3 and m["conversion_cohort_prev"] == 2
    assert report.jsonable(m) == m                              # plain JSON numbers


def test_changes_use_the_right_test_and_counts(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": SUBSCRIPTIONS},
                      definitions={"min_sample_size": 1})
    ch = {c.key: c for c in P.changes(ds, ds.cfg)}
    # orders and revenue: quasi-Poisson on the daily figures, compared per day
    assert ch["orders"].kind == "count" and (ch["orders"].n, ch["orders"].n_prev) == (31, 30)   # days
    assert ch["orders"].tested == pytest.approx((5 / 31, 2 / 30))
    # revenue: 100 + 200 + 300 + 50 + 150 = 800 in October, 100 + 140 = 240 in September
    assert ch["revenue"].kind == "count" and (ch["revenue"].value, ch["revenue"].prev) == (800, 240)
    # AOV: orders cluster within customers — October A (2 orders), B, D, E; September A, E
    aov = ch["aov"]
    assert aov.kind == "mean" and (aov.n, aov.n_prev) == (5, 2) and aov.value == pytest.approx(160)
    assert (aov.extra["clusters"], aov.extra["clusters_prev"]) == (4, 2) and aov.verdict == "too_little_data"
    assert ch["conversion_rate"].kind == "rate" and ch["conversion_rate"].test == "two-proportion z-test"
    assert (ch["conversion_rate"].extra["x"], ch["conversion_rate"].n) == (1, 3)
    # payment attempts cluster within days: 5 paid of 6 on 5 October days, 2 of 3 on 2 September days
    pay = ch["payment_success_rate"]
    assert (pay.extra["x"], pay.n, pay.extra["x_prev"], pay.n_prev) == (5, 6, 2, 3)
    assert (pay.extra["clusters"], pay.extra["clusters_prev"]) == (5, 2) and pay.verdict == "too_little_data"
    assert (ch["discount_order_share"].extra["x"], ch["discount_order_share"].n) == (3, 5)
    assert ch["discount_order_share"].higher_is_better is None
    assert ch["median_days_to_first_purchase"].higher_is_better is False
    d = P.daily_values(ds, ds.cfg, ds.cfg.period)
    assert len(d) == 31 and d.orders.sum() == 5 and d.failed_attempts.sum() == 1 and d.revenue.sum() == 800


def test_too_little_data_with_default_minimum(ds):
    ch = {c.key: c for c in P.changes(ds, ds.cfg)}
    # 5 + 2 orders < 30; 3 and 2 cohort customers < 30
    assert ch["orders"].verdict == "too_little_data"
    assert ch["conversion_rate"].verdict == "too_little_data"
    assert ch["aov"].verdict == "too_little_data"


def _bulk(n_oct: int, n_sep: int, conv_oct: int, conv_sep: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohort customers (signups Sep 10 / Aug 10) of whom the first ``conv_*``
    buy 2 days after signing up; every order 10,000."""
    cust, orders = [], []
    for month, n, conv in (("2026-09-10", n_oct, conv_oct), ("2026-08-10", n_sep, conv_sep)):
        for i in range(n):
            cid = f"{month[5:7]}-{i}"
            cust.append((cid, f"{month} 00:00:00"))
            if i < conv:
                day = pd.Timestamp(month) + pd.Timedelta(days=2)
                orders.append((f"o{cid}", cid, str(day), 10000.0, "paid"))
    return (pd.DataFrame(cust, columns=["customer_id", "signup_at"]),
            pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "amount", "payment_status"]))


def test_conversion_verdicts(make_dataset):
    c, o = _bulk(100, 100, 80, 20)
    ds = make_dataset({"customers": c, "orders": o})
    ch = {x.key: x for x in P.changes(ds, ds.cfg)}
    # conversion 80/100 vs 20/100: z ≈ 8.5 → significant rise, good news
    conv = ch["conversion_rate"]
    assert (conv.value, conv.prev) == (pytest.approx(0.8), pytest.approx(0.2))
    assert conv.verdict == "significant" and conv.direction == "up" and conv.good is True
    # every order is placed 2 days after signup: the October cohort's 80 on Sep 12, none in October
    assert ch["orders"].value == 0 and ch["orders"].prev == 80
    c, o = _bulk(100, 100, 52, 50)
    ds = make_dataset({"customers": c, "orders": o})
    conv = {x.key: x for x in P.changes(ds, ds.cfg)}["conversion_rate"]
    # 52/100 vs 50/100: pooled 0.51, se = 0.0707, z = 0.28 → p ≈ 0.78
    assert conv.verdict == "not_significant" and conv.p_value == pytest.approx(0.777, abs=0.01)


def test_monthly_starts_with_the_first_order(ds, make_dataset):
    m = P.monthly(ds, ds.cfg)
    # the first order (e0) is in August 2026: the trend starts there, not twelve months back
    assert m["month"].tolist() == [pd.Timestamp("2026-08-01"), pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01")]
    assert m["orders"].tolist() == [1, 2, 5]
    # a month without orders inside the window: a zero count, and no AOV (a gap in the chart)
    gap = make_dataset({"customers": CUSTOMERS, "orders": ORDERS[ORDERS["order_id"].isin(["e0", "o1"])]})
    g = P.monthly(gap, gap.cfg).set_index("month")
    assert g.loc["2026-09-01", "orders"] == 0 and pd.isna(g.loc["2026-09-01", "aov"])
    assert g.loc["2026-10-01", "aov"] == 100.0


def test_memo_follows_the_settings(ds):
    """The month values are memoized on the dataset, keyed on the settings:
    another conversion window on the same dataset gives the new answer."""
    assert P.period_values(ds, ds.cfg, ds.cfg.period)["cohort"] == 3          # A, B, C (30 days)
    wide = ds.cfg.updated(definitions={"first_purchase_window_days": 40})
    # 40 days: windows closing in October = signups Aug 22 – Sep 21: A and B; both bought within 40 days
    v = P.period_values(ds, wide, wide.period)
    assert (v["cohort"], v["converted"]) == (2, 2)
    assert P.period_values(ds, ds.cfg, ds.cfg.period)["cohort"] == 3          # the first answer is kept too


def test_by_device_folds_small_groups(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                      definitions={"min_group_size": 2, "k_anonymity": 1})
    d = P.by_device(ds, ds.cfg)
    # desktop: o1, o6 (2 orders, 250); mobile: o2, o5 (2 orders, 250); tablet o4 (1 order) < 2 → other
    assert d["device"].tolist() == ["desktop", "mobile", P.OTHER]
    assert d["orders"].tolist() == [2, 2, 1]
    assert d["revenue"].tolist() == [250.0, 250.0, 300.0]
    assert d["aov"].tolist() == [125.0, 125.0, 300.0]
    assert d["attempts"].tolist() == [2, 2, 2]                  # the refunded o7 is no attempt
    assert d["failure_rate"].tolist() == [0.0, 0.0, 0.5]        # tablet: o3 failed of o3, o4


def test_k_anonymity_suppresses_small_other(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                      definitions={"min_group_size": 1, "k_anonymity": 2})
    d = P.by_device(ds, ds.cfg)
    # tablet has one customer (B) < 2: folded, and the "other" row (1 customer) is not shown
    assert d["device"].tolist() == ["desktop", "mobile"]
    assert d["customers"].tolist() == [2, 2]                    # desktop A, E (o7 is A too); mobile A, D


def test_channel_discount_and_new_vs_repeat(make_dataset):
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS},
                      definitions={"min_group_size": 1, "k_anonymity": 1})
    ch = P.by_channel(ds, ds.cfg)
    # web: o1, o4, o6 = 550; app: o2, o5 = 250 (of 800)
    assert ch["channel"].tolist() == ["web", "app"]
    assert ch["revenue_share"].tolist() == pytest.approx([550 / 800, 250 / 800])
    split = P.discount_split(ds, ds.cfg).set_index("group")
    # with a code: o1 100, o4 300, o5 50 → 3 orders, AOV 150; without: o2 200, o6 150 → AOV 175
    assert split.loc["with_code", "orders"] == 3 and split.loc["with_code", "aov"] == pytest.approx(150.0)
    assert split.loc["without_code", "aov"] == pytest.approx(175.0)
    assert split.loc["with_code", "order_share"] == pytest.approx(0.6)
    codes = P.discount_codes(ds, ds.cfg).set_index("code")
    # WELCOME10 on o4, o5: both first orders (2 of 2); SALE15 on repeat o1
    assert codes.loc["WELCOME10", "first_order_share"] == pytest.approx(1.0)
    assert codes.loc["SALE15", "first_order_share"] == 0.0
    assert codes.loc["WELCOME10", "order_share"] == pytest.approx(0.4)
    nr = P.new_vs_repeat(ds, ds.cfg).set_index("group")
    assert nr.loc["first", "revenue"] == 350.0 and nr.loc["repeat", "revenue"] == 450.0   # o4 + o5; o1 + o2 + o6
    dist = P.days_to_first_purchase(ds, ds.cfg).set_index("bucket")
    assert dist.loc["d1_3", "customers"] == 1 and dist.loc["d31_90", "customers"] == 1    # D: 2 days; B: 35 days
    assert dist["share"].sum() == pytest.approx(1.0)


def test_orders_only_client_is_complete(make_dataset):
    o = ORDERS.drop(columns=["payment_status", "discount_code", "device", "channel"])
    ds = make_dataset({"orders": o})
    m = P.metrics(ds, ds.cfg)
    assert set(f"{k}{s}" for k in P.STABLE_KEYS for s in ("", "_prev")) <= set(m)
    # no payment status: every row is an order — o1…o7 in October = 7 rows:
    # 100 + 200 + 300 + 300 + 50 + 150 + 500 = 1,600
    assert m["orders"] == 7 and m["revenue"] == pytest.approx(1600.0)
    assert m["payment_success_rate"] is None and m["discount_order_share"] is None
    assert m["trial_to_paid_rate"] is None
    # customers derived from the orders alone (signup = first order): conversion and time to
    # first purchase would be 100% / 0 days by construction, so they are not computed
    assert P.signup_source(ds) is None
    assert m["conversion_rate"] is None and m["median_days_to_first_purchase"] is None
    assert m["conversion_rate_prev"] is None and m["conversion_cohort"] is None
    # the KPI table leaves out what cannot be computed ...
    keys = list(report.kpi_table(P.changes(ds, ds.cfg), V.labels(ds.cfg), V.KINDS, ds.cfg).df.iloc[:, 0])
    assert "Payment success rate" not in keys and "Orders" in keys and "Revenue" in keys
    assert V.caveats(ds, ds.cfg) is None            # orders come from an orders table
    # ... and each skipped analysis says why in one line, once
    assert repr(V.payments(ds, ds.cfg)).split("\n\n") == [
        "The orders export has no payment status: every row is counted as a paid order, and payment success "
        "cannot be measured.",
        "The orders export has no device column: no breakdown by device."]
    assert V.payment_failure_chart(ds, ds.cfg) is None
    assert repr(V.discounts(ds, ds.cfg)) == ("The orders export has no discount-code column: discount use cannot "
                                             "be measured.")
    assert repr(V.channels(ds, ds.cfg)) == "The orders export has no channel column: no breakdown by channel."
    assert repr(V.trials(ds, ds.cfg)) == ("Trial → paid conversion needs the subscriptions table, which this client "
                                          "has not supplied.")
    assert repr(V.days_chart(ds, ds.cfg)).startswith("There is no customers table and no events with customer ids")
    assert not any("customers table" in s for s in V.insights(ds, ds.cfg))


def test_section_not_available_without_orders(make_dataset):
    ev = pd.DataFrame({"customer_id": ["A"], "occurred_at": ["2026-10-01 10:00:00"], "event_type": ["visit"]})
    ds = make_dataset({"events": ev})
    with pytest.raises(SectionNotAvailable, match="orders"):
        require(ds.cfg, ds, "30_purchase")


def test_insights_en_and_ko(make_dataset):
    tables = {"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": SUBSCRIPTIONS}
    defs = {"min_group_size": 1, "k_anonymity": 1, "min_sample_size": 1}
    en_ds = make_dataset(tables, definitions=defs)
    en = V.insights(en_ds, en_ds.cfg)
    assert en[0] == ("Conversion cohort: the 3 customers who signed up between 2026-09-01 and 2026-10-01, whose "
                     "30-day window closed in October 2026; 1 of them (33.3%) made a paid order within 30 days of "
                     "signing up.")
    assert ("Half of the 2 first purchases in October 2026 came within 18.5 days of signing up; "
            "50.0% came within 30 days.") in en
    assert "Payments fail most often on tablet: 50.0% of attempts failed, against 0.0% on desktop." in en
    assert ("60.0% of orders used a discount code; those orders averaged ₩150, against ₩175 without a code."
            in en)
    assert "The most used code on first orders is WELCOME10: 100.0% of first orders." in en
    assert "Repeat orders brought 56.2% of revenue (₩450 of ₩800)." in en
    ko_ds = make_dataset(tables, definitions=defs, language="ko")
    ko = V.insights(ko_ds, ko_ds.cfg)
    assert ko[0].startswith("전환 코호트: 2026-09-01–2026-10-01에 가입해 30일 전환 기간이 2026년 10월에 끝난 고객 3명 중 1명(33.3%)")
    assert "결제 실패는 tablet에서 가장 많습니다: 시도의 50.0%가 실패했으며, desktop은 0.0%입니다." in ko   # 데스크톱은
    assert V.trials(ko_ds, ko_ds.cfg).text == (
        "2026년 10월에 종료된 체험 2건 중 1건(50.0%)이 같은 고객의 유료 구독으로 이어졌습니다 (전월: 100.0%).")


def test_changes_narrative_en_and_ko(make_dataset):
    c, o = _bulk(100, 100, 80, 20)
    for lang, expected in (("en", "First-purchase conversion (30 days) rose from 20.0% to 80.0% (+60.0 pp); "
                                  "the change is significant."),
                           ("ko", "첫 구매 전환율 (30일 이내) +60.0%p 상승 (20.0% → 80.0%), 통계적으로 유의합니다.")):
        ds = make_dataset({"customers": c, "orders": o}, language=lang)
        assert expected in report.describe_changes(P.changes(ds, ds.cfg), V.labels(ds.cfg), V.KINDS, ds.cfg)


def test_next_steps_rules(make_dataset):
    defs = {"min_group_size": 1, "k_anonymity": 1, "min_sample_size": 1}
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": SUBSCRIPTIONS}, definitions=defs)
    steps = V.next_steps(ds, ds.cfg)
    # tablet fails 1 of 2 attempts (50%) vs 1 of 6 overall (16.7%): more than twice, above 5%
    assert steps[0] == ("Check the payment flow on tablet: its failure rate (50.0%) is more than twice the "
                        "overall rate (16.7%); failed attempts this month: 1.")
    # conversion 1/3 < 50% on a cohort ≥ min_sample_size (1)
    assert any(s.startswith("Fewer than half of new customers buy within 30 days (33.3%)") for s in steps)
    # with a code AOV 150 vs 175 without: 14.3% smaller (≥ 10%)
    assert any("Orders with a code are 14.3% smaller" in s for s in steps)
    c, o = _bulk(100, 100, 80, 80)
    ds = make_dataset({"customers": c, "orders": o}, language="ko")
    # 80% conversion, no status failures, no codes column, no repeat orders in October (0 orders): nothing fires
    assert V.next_steps(ds, ds.cfg) == ["이번 달 구매 단계에서 특별히 눈에 띄는 점은 없습니다: 전환, 결제, 할인, 재구매 매출 "
                                        "모두 평소 범위입니다."]


# --------------------------------------------------------------------------
# The tiny demo data against the generator's truth
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tiny_data):
    from journeykit import demo

    cfg = config.load("tiny", "2026-10")
    ds = io.load(cfg)
    yield ds, demo.PARAMS, pd.read_parquet(tiny_data / "truth_customers.parquet")
    ds.close()


START = dt.date(2024, 11, 1)   # the demo data's first day: "since" = all of its 24 months


def test_payment_failure_by_device_matches_truth(tiny):
    """The generator fails a payment with probability p per order (by the
    order's device) and writes the failed attempt as its own row before the
    paid one, so failed / orders estimates p and failed / attempts estimates
    p / (1 + p). Tolerance: 4 binomial standard errors (the test fails by
    chance about once in 16,000 runs per device; the seed is fixed anyway)."""
    ds, params, _ = tiny
    d = P.by_device(ds, ds.cfg, since=START).set_index("device")
    for device, p in params["purchase"]["payment_failure_prob"].items():
        n, failed = d.loc[device, "attempts"], d.loc[device, "failed"]
        q = p / (1 + p)
        assert abs(failed / n - q) < 4 * math.sqrt(q * (1 - q) / n), device
        orders = d.loc[device, "orders"]
        assert abs(failed / orders - p) < 4 * math.sqrt(p * (1 - p) / orders), device
    assert d.loc["tablet", "failure_rate"] > 3 * d.loc["desktop", "failure_rate"]   # 0.13 vs 0.015


def test_welcome_code_share_of_first_orders_matches_truth(tiny):
    """WELCOME10 goes on a first order with probability 0.35, and SALE15 and
    VIP20 never on a first order. Tolerance: 4 binomial SEs on ≈ 770 first
    orders (≈ 0.07)."""
    ds, params, truth = tiny
    codes = P.discount_codes(ds, ds.cfg, since=START).set_index("code")
    n_first = int(truth["purchased"].sum())
    share = codes.loc["WELCOME10", "first_order_share"]
    p = params["purchase"]["discount"]["WELCOME10"]
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n_first)
    assert codes.loc["SALE15", "first_order_share"] == 0 and codes.loc["VIP20", "first_order_share"] == 0


def test_conversion_and_first_purchase_timing_match_truth(tiny):
    """Pooled over every cohort whose 30-day window closed in the 24 months,
    conversion matches Σ first_purchase_prob · (1 − e^(−30/4)) of the same
    customers (days to first purchase ~ Exponential(mean 4)), within 4 SEs
    of a sum of Bernoullis; every buyer is counted once as a first order;
    and the median days to first purchase is 4·ln 2 ≈ 2.77 within 4 SEs of
    a sample median (1 / (2 f(m) √n), f(m) = 1/8 per day)."""
    ds, params, truth = tiny
    mean_days = params["purchase"]["days_to_first_purchase_mean"]
    f = P.month_values(ds, ds.cfg, ds.cfg.period.trailing(24))
    close = truth["signup_at"] + pd.Timedelta(days=30)
    cohort = truth[(close >= pd.Timestamp(START)) & (close < pd.Timestamp("2026-11-01"))]
    p = cohort["first_purchase_prob"] * (1 - math.exp(-30 / mean_days))
    assert f["cohort"].sum() == len(cohort)
    assert abs(f["converted"].sum() - p.sum()) < 4 * math.sqrt((p * (1 - p)).sum())
    assert f["first_orders"].sum() == truth["purchased"].sum()
    days = P.first_purchase_days(ds, ds.cfg, since=START)
    se = 1 / (2 * (0.5 / mean_days) * math.sqrt(len(days)))
    assert abs(days.median() - mean_days * math.log(2)) < 4 * se


def test_tiny_metrics_are_plausible(tiny):
    ds, params, truth = tiny
    m = P.metrics(ds, ds.cfg)
    assert all(m[k] is not None for k in P.STABLE_KEYS)
    assert 0 < m["conversion_rate"] < 1 and 0.9 < m["payment_success_rate"] < 1
    assert m["repeat_revenue_share"] > 0.5       # BG/NBD repeat buyers carry the revenue of a 2-year-old shop


# --------------------------------------------------------------------------
# What the notebook shows, on every data shape
# --------------------------------------------------------------------------

def show_everything(ds) -> list:
    """Every cell of the notebook, as it calls them."""
    cfg = ds.cfg
    chs = P.changes(ds, cfg)
    return [report.key_figures(chs, V.labels(cfg), V.KINDS, cfg), V.caveats(ds, cfg), V.insights(ds, cfg),
            V.trend_chart(ds, cfg), V.days_chart(ds, cfg), V.payments(ds, cfg), V.payment_failure_chart(ds, cfg),
            V.discounts(ds, cfg), V.channels(ds, cfg), V.first_and_repeat(ds, cfg), V.trials(ds, cfg),
            V.next_steps(ds, cfg, chs), report.jsonable(P.metrics(ds, cfg, chs)), P.monthly(ds, cfg)]


def test_views_on_the_full_client(make_dataset):
    import matplotlib.figure

    from journeykit.report import plots

    plots.use_style()                                        # a font with Hangul glyphs
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS, "subscriptions": SUBSCRIPTIONS},
                      definitions={"min_group_size": 2, "k_anonymity": 1}, language="ko")
    cfg = ds.cfg
    assert V.caveats(ds, cfg) is None
    pay = V.payments(ds, cfg).blocks
    assert len(pay) == 1 and list(pay[0].df.columns) == ["기기", "결제 시도", "결제 실패", "결제 실패율", "주문 수", "매출",
                                                          "평균 주문 금액"]
    assert pay[0].df["기기"].tolist() == ["desktop", "mobile", "기타"]      # tablet folded into "other", named in ko
    assert isinstance(V.payment_failure_chart(ds, cfg), matplotlib.figure.Figure)
    assert isinstance(V.days_chart(ds, cfg), matplotlib.figure.Figure)
    assert isinstance(V.trend_chart(ds, cfg), matplotlib.figure.Figure)
    split, codes = V.discounts(ds, cfg).blocks
    assert split.df["주문 구분"].tolist() == ["코드 사용", "코드 미사용"]
    assert codes.df["할인 코드"].tolist() == ["WELCOME10", "기타"]           # SALE15 (1 order) folded
    chan = V.channels(ds, cfg).cells()
    assert chan["채널"].tolist() == ["web", "app"] and chan["매출 비중"].tolist() == ["68.8%", "31.2%"]
    assert V.first_and_repeat(ds, cfg).cells()["매출"].tolist() == ["₩350", "₩450"]
    assert V.group_name(P.UNKNOWN, cfg) == "(기록 없음)" and V.group_name("web", cfg) == "web"
    assert P.window_days(cfg) == 30 and V.labels(cfg)["conversion_rate"] == "첫 구매 전환율 (30일 이내)"


def test_signups_and_trials(ds, make_dataset):
    s = P.signups(ds).execute().set_index("customer_id")["signup_at"]
    assert s["A"] == pd.Timestamp("2026-09-05") and len(s) == 7
    assert P.signup_source(ds) == "customers" and P.has_trials(ds)
    plain = make_dataset({"customers": CUSTOMERS, "orders": ORDERS,
                          "subscriptions": SUBSCRIPTIONS.assign(plan="basic")})
    assert not P.has_trials(plain)
    assert repr(V.trials(plain, plain.cfg)).startswith("The subscriptions have no trial plans")
    assert P.period_values(plain, plain.cfg, plain.cfg.period)["trial_to_paid_rate"] is None


def test_a_period_without_orders(make_dataset):
    """Orders stop in August: October has none. Every cell still runs;
    breakdowns show nothing rather than empty tables; the insights say
    there were no orders once."""
    ds = make_dataset({"customers": CUSTOMERS, "orders": ORDERS[ORDERS["ordered_at"] < "2026-09-01"]})
    shown = show_everything(ds)
    m = P.metrics(ds, ds.cfg)
    assert m["orders"] == 0 and m["revenue"] is None and m["aov"] is None and m["payment_success_rate"] is None
    assert V.insights(ds, ds.cfg)[0] == "No orders in October 2026."
    assert V.payments(ds, ds.cfg) is None and V.discounts(ds, ds.cfg) is None and V.channels(ds, ds.cfg) is None
    assert V.first_and_repeat(ds, ds.cfg) is None
    assert repr(V.days_chart(ds, ds.cfg)) == "No customer made a first purchase in October 2026."
    assert shown[-1]["month"].iloc[0] == pd.Timestamp("2026-08-01")


def test_every_view_runs_without_optional_columns(make_dataset):
    o = ORDERS.drop(columns=["payment_status", "discount_code", "device", "channel", "order_id"])
    ds = make_dataset({"orders": o})
    notes = [repr(x) for x in show_everything(ds)[1:12] if isinstance(x, (report.Note, report.Blocks))]
    lines = [line for n in notes for line in n.split("\n\n")]
    assert len(lines) == len(set(lines))                                   # no note twice


def test_first_month_of_data_is_not_compared_with_zeros(make_dataset):
    """Regression: a report whose comparison month precedes the data's
    first date showed "주문 수 54 | 0 | +54 유의함". Now the previous value
    is "no data" and the change untested ("no earlier data"), in every
    section that builds changes (here purchase and LTV) and in metrics."""
    from journeykit.sections.ltv import compute as L

    rows = [(f"o{i}", f"C{i % 40}", f"2026-10-{1 + i % 28:02d} 10:00:00", 100 + i, "web", "desktop", None, "paid")
            for i in range(54)]
    orders = pd.DataFrame(rows, columns=ORDERS.columns)
    ds = make_dataset({"orders": orders}, language="ko")
    cfg = ds.cfg
    ch = {c.key: c for c in P.changes(ds, cfg)}
    assert ch["orders"].value == 54
    assert ch["orders"].prev is None and ch["orders"].verdict == "untested" and ch["orders"].test == "no_earlier_data"
    assert all(c.prev is None for c in ch.values())
    assert P.metrics(ds, cfg)["orders_prev"] is None
    row = report.kpi_table(list(ch.values()), {"orders": "주문 수"}, {"orders": "int"}, cfg).cells()
    row = row[row.iloc[:, 0] == "주문 수"].iloc[0].tolist()
    assert row[1:] == ["54", "데이터 없음", "–", "이전 데이터 없음"]
    assert all(c.prev is None for c in L.changes(ds, cfg))


def test_days_to_first_purchase_labels_say_from_what(make_dataset):
    """Regression: 20_consideration (from the first visit) and 30_purchase
    (from signup) showed two different KPIs under one label. Each label now
    says where the days start, in en and ko, and the two differ."""
    from journeykit.sections.consideration import view as CV

    ds = make_dataset({"orders": ORDERS})
    for lang, signup, visit in (("en", "signup", "first visit"), ("ko", "가입", "첫 방문")):
        cfg = ds.cfg.updated(language=lang)
        p, c = V.labels(cfg)["median_days_to_first_purchase"], CV.labels(cfg)["days_to_first_purchase"]
        assert signup in p and visit in c and p != c
