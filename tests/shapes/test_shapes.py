"""Every section on every valid data shape (hypothesis).

Real exports are not the demo: they lack optional columns and tables, name
their columns in their own words, have sparse or short histories, one
channel, statuses in their own language, or no orders table at all. Here
hypothesis generates such client shapes from a small sample of the tiny
demo data, writes them as a client's export with its own column names,
loads them through the real loader (DuckDB) and calls every section's
``metrics`` directly (no kernel): each section whose needs the shape meets
must finish and record every stable key; a section whose needs are unmet
is not available by the registry, never an error.

The examples are derandomized (the same shapes in every run) and few, to
stay within CI's time; ``JOURNEYKIT_SHAPES=<n>`` tries more locally.
"""

from __future__ import annotations

import importlib
import itertools
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from journeykit.core import config
from journeykit.data import loader, schemas
from journeykit.sections import registry

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("JOURNEYKIT_SHAPES", "12"))
_SERIAL = itertools.count()
CUSTOMERS = 250          # customers sampled from the tiny demo client
PERIOD = "2026-10"

# Client-side names for canonical columns: any mix of these is a valid export.
CLIENT_NAMES = ["고객번호", "cust no", "CustomerID", "c_id", "kunde", "주문일자", "ts", "Amount (KRW)", "x1", "field_7"]


# --------------------------------------------------------------------------
# The base data: canonical frames of a small sample of the tiny client
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tiny_data) -> dict[str, pd.DataFrame]:
    cfg = config.load("tiny", PERIOD, root=REPO)
    with loader.load(cfg) as ds:
        frames = {t: ds.raw(t).to_pandas() for t in ds.tables}
    ids = sorted(frames["customers"]["customer_id"])[:CUSTOMERS]
    keep = set(ids)
    out = {}
    for t, df in frames.items():
        if "customer_id" in df.columns and schemas.SPECS[t].customer_keyed or t == "customers":
            df = df[df["customer_id"].isin(keep) | df["customer_id"].isna()] if t == "events" else \
                df[df["customer_id"].isin(keep)]
        if t == "events":   # anonymous visits too, but a sample of them
            df = df[df["customer_id"].notna() | (df["visitor_id"].astype(str).str[-1] < "3")]
        out[t] = df.reset_index(drop=True)
    return out


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------

OPTIONAL_TABLES = ["customers", "marketing", "subscriptions", "tickets", "surveys", "messages", "experiments"]


@st.composite
def shapes(draw):
    """A client shape: which tables, which optional columns, the client's
    column names, statuses in its own words, gaps, one channel, history."""
    core = draw(st.sampled_from(["orders", "events", "both", "events_only_purchases"]))
    tables = {"orders": core in ("orders", "both"), "events": core != "orders"}
    for t in OPTIONAL_TABLES:
        tables[t] = draw(st.booleans())
    drop = {t: draw(st.sets(st.sampled_from([c for c in schemas.columns(t) if not schemas.SCHEMAS[t].columns[c].required
                                                 and c not in ("customer_id", "visitor_id")] or ["-"])))
            for t in schemas.SCHEMAS}
    return {
        "tables": tables,
        "drop": drop,
        "rename": draw(st.booleans()),
        "statuses": draw(st.sampled_from(["canonical", "korean", "upper"])),
        "gap_months": draw(st.sets(st.integers(1, 10), max_size=3)),
        "history_months": draw(st.sampled_from([3, 5, 9, 24])),
        "one_channel": draw(st.booleans()),
        "visitor_only_events": draw(st.booleans()) and core == "events",
        "period_back": draw(st.sampled_from([0, 0, 1])),
    }


KOREAN_STATUS = {"paid": "결제완료", "failed": "결제실패", "refunded": "환불", "pending": "대기", "cancelled": "취소"}


def export(shape: dict, base: dict[str, pd.DataFrame], folder: Path, name: str) -> dict:
    """Write ``shape`` of ``base`` as a client's export; return its client file."""
    folder.mkdir(parents=True)
    period_end = pd.Timestamp("2026-11-01") - pd.DateOffset(months=shape["period_back"])
    start = period_end - pd.DateOffset(months=shape["history_months"])
    gaps = {(period_end - pd.DateOffset(months=m)).strftime("%Y-%m") for m in shape["gap_months"]}
    tables_cfg = {}
    names = iter(CLIENT_NAMES * 20)
    for t, keep in shape["tables"].items():
        if not keep or t not in base:
            continue
        df = base[t].copy()
        df = df.drop(columns=[c for c in shape["drop"].get(t, ()) if c in df.columns and c != "payment_status"
                              or (c == "payment_status" and c in df.columns and t == "orders"
                                  and shape["statuses"] == "canonical" and c in shape["drop"][t])])
        tcol = schemas.SPECS[t].time_column
        when = pd.to_datetime(df[tcol])
        df = df[(when >= start) | (t == "customers")]
        if t != "customers":
            df = df[~pd.to_datetime(df[tcol]).dt.strftime("%Y-%m").isin(gaps)]
        if t == "events":
            if shape["tables"].get("orders") is False and not shape["tables"].get("both"):
                pass
            if shape["visitor_only_events"] and "customer_id" in df.columns:
                df = df.drop(columns=["customer_id"])
        if shape["one_channel"]:
            for c in ("channel", "device", "acquisition_channel"):
                if c in df.columns:
                    df[c] = df[c].where(df[c].isna(), "web")
        spec = {"file": f"{t}.csv"}
        values = {}
        if t == "orders" and "payment_status" in df.columns:
            if shape["statuses"] == "korean":
                df["payment_status"] = df["payment_status"].map(KOREAN_STATUS).fillna(df["payment_status"])
                values = {"payment_status": {v: k for k, v in KOREAN_STATUS.items()}}
            elif shape["statuses"] == "upper":
                df["payment_status"] = df["payment_status"].str.upper()
        if t == "events" and "has_comment" in df.columns:
            df = df.drop(columns=["has_comment"])
        if t == "surveys" and "has_comment" in df.columns:
            df = df.drop(columns=["has_comment"])
        if shape["rename"]:
            mapping = {c: f"{next(names)} {i}" for i, c in enumerate(df.columns)}
            df = df.rename(columns=mapping)
            spec["columns"] = {canon: src for canon, src in mapping.items() if canon in schemas.mappable_columns(t)}
        if values:
            spec["values"] = values
        df.to_csv(folder / f"{t}.csv", index=False)
        tables_cfg[t] = spec
    return {"name": f"Shape {name}", "currency": "KRW", "timezone": "Asia/Seoul", "language": "en",
            "data": {"source": str(folder), "tables": tables_cfg},
            "report": {"pdf": False}}


def section_metrics(section: registry.Section, ds, cfg) -> dict:
    mod = importlib.import_module(f"journeykit.sections.{section.package}.compute")
    if section.name == "00_data_quality":
        return mod.metrics(ds)
    return mod.metrics(ds, cfg)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    return root


# no shrinking: a failing shape is printed whole, and shrinking re-runs sections for minutes
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(shape=shapes())
def test_every_section_finishes_on_every_shape(shape, base, project):
    name = f"shape{next(_SERIAL)}"
    doc = export(shape, base, project / "data" / name, name)
    # 25 bootstrap refits (not 100) still take every path of the CLV intervals, in a fifth of the time
    doc.setdefault("definitions", {})["ltv_bootstrap_samples"] = 25
    (project / "params" / "clients" / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                                 encoding="utf-8")
    period = str(pd.Period(PERIOD) - shape["period_back"])
    cfg = config.load(name, period, root=project)
    try:
        ds = loader.load(cfg)
    except Exception as e:  # the loader refuses a shape only for a reason it names
        pytest.fail(f"shape {shape} did not load: {e}")
    with ds:
        available = registry.available(ds.report)
        for section in registry.SECTIONS:
            if section.reads_results:
                continue
            if section.missing(available):
                continue                  # not available: decided by the registry, no kernel
            try:
                metrics = section_metrics(section, ds, cfg)
            except Exception as e:
                raise AssertionError(f"{section.name} failed on shape {shape}: {type(e).__name__}: {e}") from e
            lacking = [k for k in section.keys() if k not in metrics]
            assert not lacking, f"{section.name} lacks {lacking} on shape {shape}"
