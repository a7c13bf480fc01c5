"""The demo generator: deterministic, the promised sizes and files, a truth
file, and data whose shape carries the effects the truth says it does."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from journeykit import demo

FILES = ["customers.csv", "marketing.csv", "events.parquet", "orders.csv", "subscriptions.csv",
         "tickets.csv", "surveys.csv", "messages.csv", "experiments.csv"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "tiny"
    demo.generate(out, size="tiny", seed=7)
    return out


@pytest.fixture(scope="module")
def truth(tiny: Path) -> dict:
    return json.loads((tiny / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def con(tiny: Path):
    c = duckdb.connect()
    orders = pd.read_csv(tiny / "orders.csv", encoding="cp949")
    c.register("orders", orders)
    for name in ("customers", "subscriptions", "tickets", "surveys", "messages", "experiments", "marketing"):
        c.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{tiny / (name + '.csv')}', header=true)")
    c.execute(f"CREATE VIEW events AS SELECT * FROM '{tiny / 'events.parquet'}'")
    return c


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_same_seed_writes_byte_identical_files(tiny: Path, tmp_path: Path):
    again = tmp_path / "again"
    demo.generate(again, size="tiny", seed=7)
    names = sorted(p.name for p in tiny.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(tiny, again, names, shallow=False)
    assert mismatch == [] and errors == []


def test_another_seed_writes_other_data(tiny: Path, tmp_path: Path):
    other = tmp_path / "other"
    demo.generate(other, size="tiny", seed=8)
    assert (tiny / "orders.csv").read_bytes() != (other / "orders.csv").read_bytes()


def test_every_canonical_file_and_the_truth_are_written(tiny: Path, truth: dict):
    for f in FILES + ["truth.json", "truth_customers.parquet"]:
        assert (tiny / f).is_file(), f
    meta = truth["meta"]
    assert meta["customers"] == demo.SIZES["tiny"] == 1_500
    assert set(meta["rows"]) == set(FILES)
    # truth.json counts data rows, header excluded
    with open(tiny / "customers.csv", encoding="utf-8") as f:
        assert meta["rows"]["customers.csv"] == sum(1 for _ in f) - 1
    for key in ("awareness", "consideration", "purchase", "bgnbd", "gamma_gamma", "churn", "subscriptions",
                "advocacy", "campaigns", "experiments"):
        assert key in truth, key
    assert truth["bgnbd"]["time_unit"] == "week"
    assert set(truth["bgnbd"]) >= {"r", "alpha", "a", "b"}
    assert set(truth["gamma_gamma"]) >= {"p", "q", "v"}


def test_24_months_ending_with_the_end_month(con, truth: dict):
    assert truth["meta"]["start"] == "2024-11-01" and truth["meta"]["end_exclusive"] == "2026-11-01"
    lo, hi = con.execute("SELECT min(signup_at), max(signup_at) FROM customers").fetchone()
    assert lo.strftime("%Y-%m") == "2024-11" and hi.strftime("%Y-%m") == "2026-10"
    last_event = _one(con, "SELECT max(ts) FROM events")
    assert last_event < pd.Timestamp("2026-11-01")


def test_other_end_month_shifts_the_window(tmp_path: Path):
    t = demo.generate(tmp_path / "x", size="tiny", seed=1, end="2025-12")
    assert t["meta"]["start"] == "2024-01-01" and t["meta"]["end_exclusive"] == "2026-01-01"


def test_bad_arguments_are_rejected(tmp_path: Path):
    with pytest.raises(ValueError, match="size"):
        demo.generate(tmp_path / "x", size="huge")
    with pytest.raises(ValueError, match="2026-10"):
        demo.generate(tmp_path / "x", size="tiny", end="October")
    assert not (tmp_path / "x").exists()


def test_orders_look_like_a_korean_excel_export(tiny: Path):
    raw = (tiny / "orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.decode("cp949").splitlines()[0]
    assert header.split(",")[:4] == ["주문번호", "고객번호", "주문일자", "결제금액"]


def test_ids_are_unique_and_orders_point_at_customers(con):
    assert _one(con, "SELECT count(*) - count(DISTINCT customer_id) FROM customers") == 0
    assert _one(con, "SELECT count(*) - count(DISTINCT 주문번호) FROM orders") == 0
    assert _one(con, "SELECT count(*) FROM orders WHERE 고객번호 NOT IN (SELECT customer_id FROM customers)") == 0
    assert _one(con, "SELECT count(*) FROM events WHERE customer_id IS NOT NULL "
                     "AND customer_id NOT IN (SELECT customer_id FROM customers)") == 0


def test_values_respect_the_contract(con):
    assert _one(con, "SELECT count(*) FROM marketing WHERE clicks > impressions") == 0
    assert _one(con, "SELECT count(*) FROM surveys WHERE nps < 0 OR nps > 10") == 0
    assert _one(con, "SELECT count(*) FROM tickets WHERE csat < 1 OR csat > 5") == 0
    assert _one(con, "SELECT count(*) FROM orders WHERE 결제금액 <= 0") == 0
    assert _one(con, "SELECT count(*) FROM subscriptions WHERE ended_at < started_at") == 0
    assert _one(con, "SELECT count(*) FROM messages WHERE opened_at < sent_at OR clicked_at < sent_at") == 0


def test_fake_personal_data_is_there_for_the_loader_to_drop(con):
    # The privacy tests need PII in the raw exports to prove it never gets out.
    assert _one(con, "SELECT count(*) FROM customers WHERE email LIKE '%@example.com'") == 1_500
    assert _one(con, "SELECT count(*) FROM customers WHERE phone LIKE '010-____-____'") == 1_500
    assert _one(con, "SELECT count(*) FROM surveys WHERE comment IS NOT NULL") > 0


def test_the_client_uses_its_own_event_names(con):
    names = {r[0] for r in con.execute("SELECT DISTINCT name FROM events").fetchall()}
    # incl. APP_OPEN, which the client files leave unmapped; three of its rows carry personal data in a
    # query string (demo.PLANTED_PII), which the loader masks
    planted = {n for n in names if "?" in n}
    assert names - planted == set(demo.EVENT_NAMES)
    assert planted == {"APP_OPEN?email=hong.gildong@example.com&tel=010-9876-5432"}
    assert _one(con, "SELECT count(*) FROM events WHERE name LIKE 'APP_OPEN?%'") == 3
    anonymous = _one(con, "SELECT count(*) FROM events WHERE customer_id IS NULL")
    assert anonymous > 0                          # visitors before sign-up and those who never sign up


def test_payment_failures_concentrate_on_tablets(con):
    rate = dict(con.execute("SELECT 기기, avg((결제상태 = 'failed')::INT) FROM orders GROUP BY 1").fetchall())
    assert rate["tablet"] > 2 * rate["mobile"] and rate["mobile"] > rate["desktop"]
    assert rate["tablet"] > 0.08 and rate["desktop"] < 0.04


def test_funnel_drop_off_differs_by_device(con):
    # add-to-cart given a product view in browse sessions: desktop 0.30 vs mobile 0.18 (PARAMS)
    rates = dict(con.execute("""
        WITH s AS (
            SELECT session_id, any_value(device) AS device,
                   bool_or(name = 'PDP') AS pdp, bool_or(name = 'CART') AS cart, bool_or(name = 'PURCHASE') AS buy
            FROM events GROUP BY session_id)
        SELECT device, avg(cart::INT) FROM s WHERE pdp AND NOT buy GROUP BY device""").fetchall())
    assert rates["desktop"] > rates["mobile"] + 0.05


def test_repeat_purchases_recover_the_bgnbd_parameters(con, truth: dict):
    """A BG/NBD fit on the tiny data's weekly RFM lands near the generator's
    parameters (1,500 customers: loose bounds; the demo size is much closer)."""
    from lifetimes import BetaGeoFitter

    rfm = con.execute("""
        WITH d AS (SELECT 고객번호 AS c, CAST(주문일자 AS DATE) AS d FROM orders WHERE 결제상태 = 'paid' GROUP BY 1, 2)
        SELECT count(*) - 1 AS frequency,
               date_diff('day', min(d), max(d)) / 7.0 AS recency,
               date_diff('day', min(d), DATE '2026-11-01') / 7.0 AS T
        FROM d GROUP BY c""").df()
    bg = BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    want = truth["bgnbd"]
    # mean purchase rate r/alpha and mean dropout a/(a+b) are the well-identified quantities
    assert bg.params_["r"] / bg.params_["alpha"] == pytest.approx(want["r"] / want["alpha"], rel=0.25)
    assert bg.params_["a"] / (bg.params_["a"] + bg.params_["b"]) == pytest.approx(
        want["a"] / (want["a"] + want["b"]), rel=0.35)


def test_churn_is_visible_in_behaviour_before_it_happens(tiny: Path, con):
    """Customers who leave use the app less in their last 8 weeks than before."""
    tc = pd.read_parquet(tiny / "truth_customers.parquet")
    left = tc[tc["left_at"].notna() & (tc["left_at"] - tc["signup_at"] > pd.Timedelta(days=180))]
    assert len(left) > 20
    con.register("left_", left[["customer_id", "left_at"]])
    early, late = con.execute("""
        SELECT count(*) FILTER (WHERE e.ts < l.left_at - INTERVAL 112 DAY AND e.ts >= l.left_at - INTERVAL 168 DAY),
               count(*) FILTER (WHERE e.ts >= l.left_at - INTERVAL 56 DAY)
        FROM events e JOIN left_ l USING (customer_id) WHERE e.name = 'LOGIN'""").fetchone()
    assert late < 0.8 * early


def test_promoters_refer_and_referred_customers_name_them(tiny: Path, con):
    tc = pd.read_parquet(tiny / "truth_customers.parquet").set_index("customer_id")
    refs = con.execute("SELECT referred_by FROM customers WHERE referred_by IS NOT NULL").df()["referred_by"]
    assert len(refs) > 0
    assert tc.loc[refs, "promoter"].all()


def test_experiment_truth_and_the_sample_ratio_mismatch(con, truth: dict):
    cr = truth["experiments"]["checkout_redesign"]
    assert cr["true_lift"] > 0
    assert cr["true_conversion_rate"]["B"] > cr["true_conversion_rate"]["A"]
    counts = dict(con.execute("SELECT variant, count(*) FROM experiments "
                              "WHERE experiment = 'free_shipping_banner' GROUP BY 1").fetchall())
    assert counts == truth["experiments"]["free_shipping_banner"]["users"]
    assert counts["control"] > counts["treatment"]  # the planted 53/47 split
    assert _one(con, "SELECT count(*) - count(DISTINCT (customer_id, experiment)) FROM experiments") == 0


def test_chunking_keeps_memory_bounded_and_ids_unique(tmp_path: Path, monkeypatch):
    # Two chunks of 800 and 700 customers: ids continue across chunks.
    monkeypatch.setattr(demo, "CHUNK", 800)
    demo.generate(tmp_path / "c", size="tiny", seed=3)
    c = duckdb.connect()
    ids = c.execute(f"SELECT customer_id FROM read_csv('{tmp_path / 'c' / 'customers.csv'}') ").df()["customer_id"]
    assert ids.is_unique and len(ids) == 1_500
    assert np.array_equal(np.sort(ids.str[1:].astype(int).to_numpy()), np.arange(1, 1_501))


def test_is_current_tells_whether_to_generate_again(tiny: Path, tmp_path: Path):
    assert demo.is_current(tiny, "tiny", 7, "2026-10")
    assert not demo.is_current(tiny, "demo")
    assert not demo.is_current(tiny, seed=8)
    assert not demo.is_current(tmp_path / "nothing-here")
    stale = json.loads((tiny / "truth.json").read_text(encoding="utf-8"))
    stale["meta"]["generator_version"] = demo.GENERATOR_VERSION - 1
    (tmp_path / "truth.json").write_text(json.dumps(stale), encoding="utf-8")
    assert not demo.is_current(tmp_path)


# --------------------------------------------------------------------------
# Scenarios: a stationary shop, and one with planted changes (tests/calibration/)
# --------------------------------------------------------------------------

def _monthly_orders(folder: Path) -> pd.DataFrame:
    o = pd.read_csv(folder / "orders.csv", encoding="cp949")
    o["month"] = o["주문일자"].str[:7]
    o["failed"] = o["결제상태"] == "failed"
    o["mobile"] = o["기기"] == "mobile"
    return o


def test_scenarios_are_selectable_and_the_default_is_unchanged(tiny: Path, tmp_path: Path):
    assert demo.scenario_params("default") is demo.PARAMS
    p = demo.scenario_params("stationary")
    assert p["acquisition"]["growth_first_to_last_month"] == [1.0, 1.0]
    assert set(p["acquisition"]["month_factor"].values()) == {1.0}
    assert p["experiments"]["checkout_redesign"]["relative_lift_first_purchase"] == 0.0
    assert p["churn"]["lifetime_days_mean"] == 120.0 and "lifetime_days_mean" not in demo.PARAMS["churn"]
    with pytest.raises(ValueError, match="scenario must be one of"):
        demo.generate(tmp_path / "x", size="tiny", scenario="wobbly")
    # the default scenario writes what it always wrote: truth.json names no scenario
    assert "scenario" not in json.loads((tiny / "truth.json").read_text(encoding="utf-8"))["meta"]
    assert not demo.is_current(tiny, "tiny", 7, scenario="stationary")


def test_stationary_and_planted_scenarios(tmp_path: Path):
    st, pl = tmp_path / "st", tmp_path / "pl"
    demo.generate(st, size="tiny", seed=3, scenario="stationary")
    truth = demo.generate(pl, size="tiny", seed=3, scenario="planted")
    assert demo.is_current(st, "tiny", 3, scenario="stationary") and not demo.is_current(st, "tiny", 3)
    assert truth["meta"]["scenario"] == "planted" and truth["planted"]["month"] == demo.DEFAULT_END
    assert truth["planted"]["ctr_factor"] == demo.PLANTED["ctr_factor"]
    # stationary: sign-ups do not grow (the first and last year hold about as many)
    c = pd.read_csv(st / "customers.csv")
    first, last = (c["signup_at"] < "2025-11-01").sum(), (c["signup_at"] >= "2025-11-01").sum()
    assert abs(first - last) / (first + last) < 0.05
    # planted: in the last month mobile payments fail ~12% of the time (4% before), CTR is 20% higher
    o = _monthly_orders(pl)
    mob = o[o["mobile"]]
    last_m, before = mob[mob["month"] == demo.DEFAULT_END], mob[mob["month"] < demo.DEFAULT_END]
    assert last_m["failed"].mean() > 2 * before["failed"].mean()
    m = pd.read_csv(pl / "marketing.csv")
    m["month"] = m["date"].str[:7]
    g = m.groupby("month")[["clicks", "impressions"]].sum()
    ctr = g["clicks"] / g["impressions"]
    assert ctr[demo.DEFAULT_END] / ctr.iloc[:-1].mean() == pytest.approx(1.20, abs=0.06)
    # and NPS answers in the last month are lower
    s = pd.read_csv(pl / "surveys.csv")
    s["month"] = s["responded_at"].str[:7]
    assert s[s["month"] == demo.DEFAULT_END]["nps"].mean() < s[s["month"] < demo.DEFAULT_END]["nps"].mean() - 0.5
