"""Warehouse-native loading: ``data.mode: in_place`` for a database source.

In the default ``copy`` mode the loader streams the mapped columns of every
table of a database source into the local DuckDB cache and validates them
there (:mod:`journeykit.data.loader`). With ``in_place`` no row leaves the
database: the data contract's checks run there as Ibis queries that return
counts and a few examples, and the mapped, typed, repaired canonical tables
stay there as Ibis expressions (renames, casts and value mappings are column
expressions; rows dropped by a repair are a filter, counted by a query;
exact duplicates a ``distinct()``; masked names a substitution of the few
distinct values that hold personal data). A :class:`~journeykit.data.dataset.Dataset`
on such a cache entry hands these expressions to the sections, whose
aggregations therefore run on the warehouse; only aggregates and
per-customer tables come back.

The cache entry of an in-place load holds the load report and the plan
(``in_place.json``: which column maps to which, which repairs apply), never a
row. What cannot be expressed in place is refused with a clear error instead
of being copied silently: text timestamps that name a time zone or an
offset, ``date_format``, timestamp columns with a time zone, and the Spark
engine (see the README, "Warehouses and Spark").
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from journeykit import __version__
from journeykit.core import privacy
from journeykit.core.config import RunConfig, TableConfig
from journeykit.core.errors import ConfigError, DataError, DataErrors
from journeykit.data import schemas
from journeykit.data.load_report import Check, LoadReport, Repair, TableLoad
from journeykit.data.loader import _TableLoader, classify_values

PLAN_FILE = "in_place.json"
"""The file of a cache entry that marks it as in place and holds its plan."""

_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
"""Text the in-place load casts to a number (after removing thousands commas)."""
_ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?)?$"
"""Text the in-place load casts to a timestamp: ISO 8601 without a zone."""

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def source_url(cfg: RunConfig) -> str:
    """``data.source`` with every ``${NAME}`` replaced by the environment
    variable ``NAME``: credentials stay out of the client file
    (``postgres://analyst:${ACME_PG_PASSWORD}@db.acme.internal/shop``).

    Raises
    ------
    ConfigError
        When a named variable is not set.
    """
    url = str(cfg.data.source)

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(
                f"params/clients/{cfg.client}.yaml: data.source refers to the environment variable {name}, "
                "which is not set",
                fix=f"export {name}=... in the environment that runs journeykit (never write the secret into the client file)")
        return os.environ[name]

    return _ENV_REF.sub(value, url)


def _scrub(text: str, cfg: RunConfig) -> str:
    """``text`` (a backend's error) without the values of the environment
    variables ``data.source`` names: a password never reaches a log."""
    for name in _ENV_REF.findall(str(cfg.data.source)):
        value = os.environ.get(name)
        if value:
            text = text.replace(value, "***")
    return text


def duckdb_file(cfg: RunConfig) -> Path | None:
    """The database file of a ``duckdb://`` source (relative paths against
    the project folder, as the copy mode reads them), else ``None``."""
    url = source_url(cfg)
    if not url.startswith("duckdb://"):
        return None
    path = Path(url[len("duckdb://"):].split("?", 1)[0]).expanduser()
    return path if path.is_absolute() else cfg.root / path


class Warehouse:
    """An open connection to a client's database and its canonical tables
    as Ibis expressions on it (built from a cache entry's plan on first use)."""

    def __init__(self, cfg: RunConfig, plan: dict | None = None):
        import ibis

        from journeykit.data.dataset import _duckdb_connection

        self.cfg = cfg
        self.plan = plan or {}
        self.file = duckdb_file(cfg)
        if self.file is not None:
            if not self.file.is_file():
                raise DataError(client=cfg.client, table=", ".join(cfg.data.tables) or "-", column=None,
                                problem=f"the database file {self.file} of data.source does not exist",
                                fix="check data.source in the client file")
            self.backend = _duckdb_connection(self.file, cfg.engine.memory_limit)
        else:
            try:
                self.backend = ibis.connect(source_url(cfg))
            except ConfigError:
                raise
            except Exception as e:  # backend errors have no common base class
                from journeykit.data.loader import _redact

                raise DataError(client=cfg.client, table=", ".join(cfg.data.tables) or "-", column=None,
                                problem=f"cannot connect to {_redact(str(cfg.data.source))}: {type(e).__name__}: "
                                        f"{_scrub(str(e), cfg)}",
                                fix="check data.source, the credentials in the environment and that the "
                                    "Ibis backend for this database is installed (see the README)") from None
        self._tables: dict[str, Any] = {}
        self._views: dict[str, tuple[str | None, Any]] = {}
        self._closed = False

    def table(self, name: str):
        """The canonical table ``name`` as an Ibis expression on the warehouse."""
        if name not in self._tables:
            tables = self.plan.get("tables", {})
            if name == "customers" and self.plan.get("customers") in ("derived", "with_unknown"):
                self._tables[name] = self._customers()
            elif name == "orders" and self.plan.get("orders") == "derived":
                self._tables[name] = derive_orders(self.table("events"))
            elif name in tables:
                t = _InPlaceTable(self, name, self.cfg.data.tables[name])
                self._tables[name] = t.canonical(tables[name])
            else:
                raise KeyError(name)
        return self._tables[name]

    def view(self, name: str):
        """:meth:`table` as a temporary view of the warehouse session, so
        that the sections' queries name the view instead of repeating its
        expression (compiling a query over the full expression took most of
        a section's time on the tiny data); the expression itself where the
        database has no temporary views (BigQuery)."""
        if name not in self._views:
            import ibis

            expr = self.table(name)
            view = f"jk_{uuid.uuid4().hex[:12]}_{name}"
            try:
                sql = ibis.to_sql(expr, dialect=self.backend.name)
                self._sql(f"CREATE TEMPORARY VIEW {view} AS {sql}")
                self._views[name] = (view, self.backend.table(view))
            except Exception:  # no temporary views here: the expression is as right, only slower to compile
                self._views[name] = (None, expr)
        return self._views[name][1]

    def _customers(self):
        first = first_seen(self, [t for t in self.plan.get("customer_sources", [])])
        if self.plan["customers"] == "derived":
            return first.order_by("customer_id")
        return with_unknown(self.table_given("customers"), first)[0]

    def table_given(self, name: str):
        """The client's own ``customers`` table, before unknown customers are added."""
        return _InPlaceTable(self, name, self.cfg.data.tables[name]).canonical(self.plan["tables"][name])

    def _sql(self, statement: str) -> None:
        cur = self.backend.raw_sql(statement)
        # DuckDB hands back its connection itself: only a cursor is closed.
        if cur is not getattr(self.backend, "con", None) and hasattr(cur, "close"):
            cur.close()

    def close(self) -> None:
        """Release the connection (a shared DuckDB one: its share)."""
        if self._closed:
            return
        self._closed = True
        for view, _ in self._views.values():
            if view is not None:
                try:
                    self._sql(f"DROP VIEW IF EXISTS {view}")
                except Exception:  # the session may be gone already; its temporary views went with it
                    pass
        if self.file is not None:
            from journeykit.data.dataset import _release

            _release(self.file, self.backend)
        else:
            try:
                self.backend.disconnect()
            except Exception:
                pass


def _n(cond):
    """The number of rows where ``cond`` holds (an Ibis aggregate)."""
    import ibis

    # Not cond.cast(int): PostgreSQL cannot cast a boolean to a bigint.
    return ibis.ifelse(cond.fill_null(False), 1, 0).sum().fill_null(0)


def _count(expr) -> int:
    return int(expr.count().execute())


# --------------------------------------------------------------------------
# One table
# --------------------------------------------------------------------------

class _InPlaceTable(_TableLoader):
    """The loader of one table in place: the same mapping, messages and
    repairs as :class:`journeykit.data.loader._TableLoader`, as queries on
    the warehouse."""

    def __init__(self, wh: Warehouse, table: str, tcfg: TableConfig):
        super().__init__(None, wh.cfg, table, tcfg, Path("."))
        self.wh = wh
        self.src = None
        self.plan: dict[str, Any] = {}

    # -- reading ---------------------------------------------------------
    def read(self) -> TableLoad:
        from journeykit.data.loader import _redact

        name, parts, database = self._database_table()
        self.file_label = name
        try:
            self.src = self.wh.backend.table(parts[-1], database=database)
        except Exception as e:  # backend errors have no common base class
            try:
                known = sorted(self.wh.backend.list_tables(database=database))
            except Exception:
                known = []
            close = difflib.get_close_matches(parts[-1], known, n=1)
            raise self.error(
                None, f"cannot read table '{name}' from {_redact(str(self.cfg.data.source))}: "
                      f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
                (f"did you mean '{close[0]}'? " if close else "")
                + f"check data.source and data.tables.{self.table}.table"
                + (f"; tables there: {', '.join(known[:15])}" if known else "")) from None
        for canon in ("date_format",):
            if getattr(self.tcfg, canon):
                raise ConfigError(
                    f"params/clients/{self.cfg.client}.yaml: data.tables.{self.table}.{canon} is set, but "
                    "data.mode: in_place reads timestamps only as the database types them (or ISO 8601 text)",
                    fix="convert the column to a timestamp in a view on the database and map the view, "
                        "or set data.mode: copy")
        return TableLoad(self.table, f"{_redact(str(self.cfg.data.source))} / {name}", "database (in place)")

    def source_columns(self) -> dict[str, str]:
        """Source column name -> its type on the warehouse."""
        return {c: str(t) for c, t in self.src.schema().items()}

    # -- typing ----------------------------------------------------------
    def typed(self, canon: str, src: str):
        """The canonical column ``canon`` from the client's column ``src``:
        text trimmed (blank is null), event names and categorical values
        mapped, numbers and timestamps cast (null when they cannot be)."""
        import ibis

        col = self.src[src]
        kind = schemas.dtype(self.table, canon)
        t = col.type()
        if kind == "str":
            base = col.cast("string").strip().nullif("")
            if canon == "event_type":
                mapping = dict(self.tcfg.event_types)
                bad = [v for v in mapping.values() if v not in schemas.EVENT_TYPES]
                if bad:
                    raise ConfigError(
                        f"params/clients/{self.cfg.client}.yaml: data.tables.events.event_types maps to '{bad[0]}', "
                        "which is not a canonical event type", fix=f"use one of: {', '.join(schemas.EVENT_TYPES)}")
                cases = [(base == k, ibis.literal(v)) for k, v in mapping.items()]
                cases.append((base.lower().isin(list(schemas.EVENT_TYPES)), base.lower()))
                return ibis.cases(*cases, else_=base)
            if (self.table, canon) in schemas.CATEGORIES:
                mapping = {k: v for k, (v, _) in self.value_map(canon).items()}
                return base.lower().substitute(mapping, else_=base) if mapping else base
            return base
        if kind == "float64":
            if t.is_numeric() or t.is_boolean():
                return col.cast("float64")
            s = col.cast("string").strip()
            plain = ibis.cases((s.re_search(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"), s.replace(",", "")), else_=s)
            # Cast only what reads as a number: PostgreSQL's cast has no
            # TRY_ form, and one bad value would fail the whole query
            # instead of being counted and shown.
            return ibis.cases((plain.re_search(_NUMBER), plain.try_cast("float64")), else_=ibis.null("float64"))
        if kind.startswith("datetime"):
            if t.is_timestamp():
                if t.timezone is not None:
                    raise self.error(
                        canon, f"column '{src}' is a timestamp with a time zone ({t}), which data.mode: in_place "
                               "does not convert", "map a view that converts it to the client's local time "
                               f"({self.cfg.timezone}) as a timestamp without zone, or set data.mode: copy")
                return col.cast("timestamp")
            if t.is_date():
                return col.cast("timestamp")
            s = col.cast("string").strip()
            # A zone or offset would need the copy mode's conversion: such a
            # value is not read (and is reported) rather than read wrongly;
            # only ISO 8601 text is cast (see _NUMBER for why).
            return ibis.cases((s.re_search(_ISO_TIMESTAMP), s.try_cast("timestamp")), else_=ibis.null("timestamp"))
        raise AssertionError(f"no cast for {kind}")

    def _failing(self, canon: str, src: str, expr):
        col = self.src[src]
        return col.notnull() & (col.cast("string").strip() != "") & expr.isnull()

    # -- the load ----------------------------------------------------------
    def expressions(self, chosen: dict[str, str]) -> dict[str, Any]:
        """canonical column -> its Ibis expression on the source table."""
        import ibis

        exprs: dict[str, Any] = {}
        for canon, src in chosen.items():
            if canon in schemas.SPECS[self.table].pii:
                continue
            exprs[canon] = self.typed(canon, src)
        if self.table == "events" and self.tcfg.event_type:
            exprs["event_type"] = ibis.literal(self.tcfg.event_type)
        for derived, from_col in schemas.DERIVED_COLUMNS.get(self.table, {}).items():
            if from_col in chosen:
                exprs[derived] = self.src[chosen[from_col]].cast("string").strip().nullif("").notnull()
        return exprs

    def _kept(self, exprs: dict[str, Any]):
        """The typed rows with every required value (the repair's filter)."""
        import ibis

        typed = self.src.select(**exprs)
        cond = [typed[c].notnull() for c in schemas.required_columns(self.table) if c in exprs]
        if self.table == "events":
            ids = [c for c in ("customer_id", "visitor_id") if c in exprs]
            cond.append(ibis.or_(*[typed[c].notnull() for c in ids]))
        kept = typed.filter(*cond) if cond else typed
        id_col = self.spec.id_column
        if id_col and id_col not in exprs:
            # Each row is one order; ids numbered in a stable order of the rows.
            order = [kept[c] for c in kept.columns]
            kept = kept.mutate(**{id_col: ibis.literal("row-") + (ibis.row_number().over(order_by=order) + 1).cast("string")})
        return kept

    def _masks(self, kept, columns: list[str]) -> dict[str, dict[str, str]]:
        """column -> {value as stored: masked value} for the names holding
        personal data (the distinct values only are read)."""
        out = {}
        for col in columns:
            values = kept.filter(kept[col].notnull() & kept[col].re_search(privacy.HINT)).select(v=kept[col]).distinct()
            got = values.execute()["v"].tolist()
            changed = {v: privacy.mask_text(v) for v in got if privacy.mask_text(v) != v}
            if changed:
                out[col] = changed
        return out

    def canonical(self, plan: dict):
        """The canonical table described by ``plan`` (see :meth:`load`)."""
        self.read()
        self.duplicates = {}
        chosen = self.mapping(TableLoad(self.table, "", ""), self.source_columns())
        kept = self._kept(self.expressions(chosen))
        if plan.get("distinct"):
            kept = kept.distinct()
        return _masked(kept, self._masks(kept, plan.get("masked", [])))

    def load(self) -> TableLoad:
        import ibis

        load = self.read()
        source = self.source_columns()
        chosen = self.mapping(load, source)
        self.plan = {"columns": {c: s for c, s in chosen.items() if c not in schemas.SPECS[self.table].pii}}
        load.rows_read = _count(self.src)
        if load.rows_read == 0:
            load.status = "empty"
            load.note = "the table has no rows: it is treated as not supplied"
            return load
        exprs = self.expressions(chosen)
        self._scan(load, exprs, chosen)
        self._values(load, chosen)

        kept = self._kept(exprs)
        n_kept = _count(kept)
        required = [c for c in schemas.required_columns(self.table) if c in exprs]
        id_col = self.spec.id_column
        if id_col and id_col not in exprs:
            load.repairs.append(Repair(
                "generated_id", f"generated {id_col}", n_kept,
                f"the export has no {id_col}: each row is taken as one {self.table[:-1]}", id_col))
        if n_kept < load.rows_read:
            load.repairs.append(Repair(
                "missing_required", "dropped rows missing a required value", load.rows_read - n_kept,
                f"a row without {', '.join(required)} cannot be placed in time or attributed; "
                "the count is shown so a large one is noticed", ", ".join(required)))
        unique = list(self.schema.unique or [])
        if unique and all(c in exprs or c == id_col for c in unique):
            kept = self._dedupe(load, kept, unique, n_kept)

        shown = [c for c in schemas.shown_text_columns(self.table) if c in exprs]
        masks = self._masks(kept, shown)
        for col, changed in masks.items():
            rows = int(_n(kept[col].isin(list(changed))).execute())
            load.repairs.append(Repair(
                "masked_personal_data", f"masked personal data in {col}", rows,
                "e-mail addresses, phone numbers and URL query strings in names are never shown", col))
        self.plan["masked"] = sorted(masks)
        kept = _masked(kept, masks)

        if self.table == "events":
            t = kept.filter(~kept.event_type.isin(list(schemas.EVENT_TYPES)))
            rows = t.group_by("event_type").aggregate(n=t.count()).order_by([ibis.desc("n"), "event_type"]).execute()
            load.unmapped_event_types = {r.event_type: int(r.n) for r in rows.itertuples()}
        self._checks(load, kept)
        col = self.spec.time_column
        got = kept.aggregate(n=kept.count(), lo=kept[col].min(), hi=kept[col].max()).execute().iloc[0]
        load.rows_loaded = int(got["n"])
        load.first_at = _iso(got["lo"])
        load.last_at = _iso(got["hi"])
        return load

    def _scan(self, load: TableLoad, exprs: dict, chosen: dict[str, str]) -> None:
        """Values that cannot be cast, decimals in a currency without minor
        units, and required columns without a single value: one query."""
        from journeykit.data.loader import _DOTTED_THOUSANDS, _MONEY_COLUMNS, ZERO_DECIMAL_CURRENCIES, _n_values

        aggs: dict[str, Any] = {}
        cast = [c for c in exprs if c in chosen and schemas.dtype(self.table, c) not in ("str", "bool")]
        for i, c in enumerate(cast):
            aggs[f"cast{i}"] = _n(self._failing(c, chosen[c], exprs[c]))
        decimals = {}
        for i, c in enumerate(cast):
            cond = self._zero_decimal_cond(c, exprs, chosen, _MONEY_COLUMNS, ZERO_DECIMAL_CURRENCIES)
            if cond is not None:
                decimals[c] = cond
                aggs[f"dec{i}"] = _n(cond)
        blank = [c for c in schemas.required_columns(self.table) if c in chosen]
        for i, c in enumerate(blank):
            aggs[f"blank{i}"] = self.src[chosen[c]].cast("string").strip().nullif("").count()
        if not aggs:
            return
        got = self.src.aggregate(**aggs).execute().iloc[0]
        for i, c in enumerate(cast):
            n = int(got[f"cast{i}"])
            if not n:
                continue
            failing = self.src.filter(self._failing(c, chosen[c], exprs[c]))
            examples = sorted(failing.select(v=failing[chosen[c]].cast("string")).distinct().limit(5).execute()["v"].tolist())
            if schemas.dtype(self.table, c).startswith("datetime"):
                self.errors.append(self.error(
                    c, f"{_n_values(n)} in column '{chosen[c]}' cannot be read as a date or timestamp",
                    n_rows=n, examples=examples,
                    fix="write them as YYYY-MM-DD HH:MM:SS; with data.mode: in_place a text timestamp must be "
                        "ISO 8601 without a time zone or UTC offset: convert it in a view on the database (to "
                        f"{self.cfg.timezone}), or set data.mode: copy"))
            else:
                self.errors.append(self.error(
                    c, f"{_n_values(n)} in column '{chosen[c]}' {'is not a number' if n == 1 else 'are not numbers'}",
                    n_rows=n, examples=examples,
                    fix="export plain numbers (no currency signs or units"
                        + ("; dots are not thousands separators: write 1234567 or 1,234,567, not 1.234.567"
                           if any(re.fullmatch(_DOTTED_THOUSANDS, str(e).strip()) for e in examples) else "")
                        + "); check that the mapping names the right column"))
        for i, c in enumerate(cast):
            if c in decimals and int(got[f"dec{i}"]):
                n = int(got[f"dec{i}"])
                failing = self.src.filter(decimals[c])
                examples = sorted(failing.select(v=failing[chosen[c]].cast("string")).distinct().limit(5).execute()["v"].tolist())
                if "currency" in chosen:
                    cur = failing[chosen["currency"]].cast("string").strip().upper().nullif("").fill_null(self.cfg.currency)
                    codes = sorted({str(v).strip().upper() for v in
                                    failing.select(v=cur).distinct().limit(5).execute()["v"].tolist()})
                else:
                    codes = [self.cfg.currency.upper()]
                self.errors.append(self.error(
                    c, f"{_n_values(n)} in column '{chosen[c]}' {'has' if n == 1 else 'have'} decimals, but "
                       f"{' and '.join(codes)} {'has' if len(codes) == 1 else 'have'} no minor unit: amounts are whole "
                       "numbers (a value such as 1.234 is usually 1,234 written with a European thousands separator)",
                    n_rows=n, examples=examples,
                    fix="remove the thousands separators from the amounts in the export (1234, not 1.234 or 1.234,00); "
                        f"if the decimals are real, check that data.tables.{self.table}.columns.{c} names the amount "
                        f"column (not a rate or a price in another currency) and that the client's currency "
                        f"({self.cfg.currency}) is right"))
        for i, c in enumerate(blank):
            if not int(got[f"blank{i}"]):
                self.errors.append(self._blank_error(c, chosen[c], load.rows_read))

    def _zero_decimal_cond(self, canon, exprs, chosen, money, codes):
        import ibis

        if (self.table, canon) not in money:
            return None
        own = self.cfg.currency.upper()
        x = exprs[canon]
        cond = x.notnull() & ((x - x.round()).abs() > 1e-6)
        if self.src[chosen[canon]].type().is_string():
            cond = cond | self.src[chosen[canon]].strip().re_search(r"^-?[0-9]{1,3}(\.[0-9]{3})+$")
        if "currency" in chosen:
            cur = self.src[chosen["currency"]].cast("string").strip().upper().nullif("").fill_null(ibis.literal(own))
            return cur.isin(sorted(codes)) & cond
        return cond if own in codes else None

    def _values(self, load: TableLoad, chosen: dict[str, str]) -> None:
        """Every value of each categorical column with its canonical value;
        unmapped values are an error (the same as for files)."""
        import ibis

        for (table, canon), allowed in schemas.CATEGORIES.items():
            if table != self.table or canon not in chosen:
                continue
            mapping = self.value_map(canon)
            v = self.src[chosen[canon]].cast("string").strip().nullif("")
            q = self.src.select(v=v).group_by("v").aggregate(n=ibis._.count())
            rows = q.order_by([ibis.desc("n"), ibis.asc("v")]).execute()
            listed, unmapped = classify_values(zip(rows["v"], rows["n"]), mapping, allowed)
            load.values[canon] = listed
            if unmapped:
                self.errors.append(self._unmapped_error(canon, chosen[canon], unmapped, allowed))

    def _dedupe(self, load: TableLoad, kept, key: list[str], n_kept: int):
        import ibis

        def shared(t) -> int:
            g = t.group_by(key).aggregate(n=ibis._.count())
            return int(g.filter(g.n > 1).n.sum().fill_null(0).execute())

        n = shared(kept)
        if n:
            after = _count(kept.distinct())
            if after < n_kept:
                kept = kept.distinct()
                self.plan["distinct"] = True
                load.repairs.append(Repair("exact_duplicates", "dropped exact duplicate rows", n_kept - after,
                                           "the same record exported twice (same id, same values): one copy is kept"))
                n = shared(kept)
        load.checks.append(Check("unique", "+".join(key), n))
        if n:
            g = kept.group_by(key).aggregate(n=ibis._.count())
            dups = g.filter(g.n > 1).order_by([ibis.desc("n"), *key]).limit(5).execute()
            examples = [r[0] if len(key) == 1 else tuple(r) for r in dups[key].itertuples(index=False)]
            self.errors.append(self._shared_id_error(key, n, examples))
        return kept

    def _checks(self, load: TableLoad, kept) -> None:
        """The schema's value checks as queries: one count each, examples
        for those that fail (the checks and messages of the copy mode). A
        table-wide check whose columns are not all mapped (a message export
        without ``clicked_at``) has nothing to fail, as in the copy mode."""
        present = [c for c in self.schema.columns if c in kept.columns]
        found: list[tuple[str, str | None, Any, tuple[str, ...]]] = []  # (check, column, failing condition, example columns)
        for col in present:
            x = kept[col]
            for chk in self.schema.columns[col].checks:
                st = chk.statistics or {}
                if chk.name == "greater_than_or_equal_to":
                    bad = x < st["min_value"]
                elif chk.name == "isin":
                    bad = x.notnull() & ~x.isin(list(st["allowed_values"]))
                elif chk.name == "in_range":
                    lo = (x < st["min_value"]) if st.get("include_min", True) else (x <= st["min_value"])
                    hi = (x > st["max_value"]) if st.get("include_max", True) else (x >= st["max_value"])
                    bad = lo | hi
                else:
                    raise self.error(col, f"the contract's check '{chk.name}' cannot run in place",
                                     "set data.mode: copy for this client")
                found.append((chk.name, col, bad, ()))
        for chk in self.schema.checks:
            m = re.match(r"(\w+)_not_before_(\w+)$", chk.name or "")
            if chk.name == "clicks_le_impressions":
                if {"clicks", "impressions"} <= set(kept.columns):
                    found.append((chk.name, None, kept.clicks > kept.impressions, ("impressions", "clicks")))
                else:
                    found.append((chk.name, None, None, ()))   # its columns are not mapped: nothing fails it
            elif m:
                later, earlier = m.groups()
                if {later, earlier} <= set(kept.columns):
                    found.append((chk.name, None, kept[later] < kept[earlier], (earlier, later)))
                else:
                    found.append((chk.name, None, None, ()))   # its columns are not mapped: nothing fails it
            else:
                raise self.error(None, f"the contract's check '{chk.name}' cannot run in place",
                                 "set data.mode: copy for this client")
        if not found:
            return
        counted = {f"c{i}": _n(bad) for i, (_, _, bad, _) in enumerate(found) if bad is not None}
        got = kept.aggregate(**counted).execute().iloc[0] if counted else {}
        for i, (check, column, bad, cols) in sorted(enumerate(found), key=lambda k: (k[1][1] or "", k[1][0])):
            n = int(got[f"c{i}"]) if bad is not None else 0
            load.checks.append(Check(check, column, n))
            if not n:
                continue
            failing = kept.filter(bad)
            if column is not None:
                examples = failing.select(v=failing[column]).distinct().order_by("v").limit(5).execute()["v"].tolist()
            else:
                rows = failing.select(*cols).order_by(list(cols)).limit(5).execute()
                examples = [dict(zip(cols, (str(v) for v in r))) for r in rows.itertuples(index=False)]
                column = next((c for c in self.schema.columns if check.startswith(c + "_")), None)
            self.errors.append(self._check_error(check, column, n, examples))


def _masked(kept, masks: dict[str, dict[str, str]]):
    if not masks:
        return kept
    return kept.mutate(**{c: kept[c].substitute(m, else_=kept[c]) for c, m in masks.items()})


def _iso(v) -> str | None:
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return pd.Timestamp(v).to_pydatetime().isoformat()


# --------------------------------------------------------------------------
# Across tables
# --------------------------------------------------------------------------

def derive_orders(events):
    """An events-only client's orders (see the copy mode's
    ``journeykit.data.loader._derive_orders``): its ``purchase`` events
    (paid) and ``payment_failed`` events (failed), one per event, the
    customer being the ``customer_id``, else the ``visitor_id``."""
    import ibis

    ids = [c for c in ("customer_id", "visitor_id") if c in events.columns]
    who = ibis.coalesce(*[events[c] for c in ids]) if len(ids) > 1 else events[ids[0]]
    ev = events.mutate(_who=who).filter(events.event_type.isin(["purchase", "payment_failed"]))
    ev = ev.filter(ev._who.notnull())
    cols = {
        "order_id": ibis.literal("ev-") + (ibis.row_number().over(order_by=[ev.occurred_at, ev._who, ev.event_type]) + 1).cast("string"),
        "customer_id": ev._who,
        "ordered_at": ev.occurred_at,
        "amount": ev.value.cast("float64") if "value" in ev.columns else ibis.null("float64"),
        "payment_status": ibis.ifelse(ev.event_type == "purchase", "paid", "failed"),
    }
    cols.update({c: ev[c] for c in ("channel", "device") if c in ev.columns})
    return ev.select(**cols)


def first_seen(wh: Warehouse, tables: list[str]):
    """Each customer's first activity (``customer_id``, ``signup_at``) over
    the named customer-keyed tables."""
    parts = []
    for name in tables:
        t = wh.table(name)
        col = schemas.SPECS[name].time_column
        parts.append(t.filter(t.customer_id.notnull()).select(customer_id=t.customer_id, first_seen=t[col].cast("timestamp")))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    return u.group_by("customer_id").aggregate(signup_at=u.first_seen.min())


def with_unknown(customers, first):
    """``customers`` with the customers found only in other tables added
    (signup = first activity), and those added (an expression)."""
    import ibis

    unknown = first.filter(~first.customer_id.isin(customers.customer_id))
    added = unknown.select(**{c: (unknown[c].cast(customers[c].type()) if c in ("customer_id", "signup_at")
                                  else ibis.null(customers[c].type())) for c in customers.columns})
    return customers.union(added), unknown


def _customer_sources(wh: Warehouse, loaded: set[str]) -> list[str]:
    return [t for t in sorted(loaded) if schemas.SPECS[t].customer_keyed and "customer_id" in wh.table(t).columns]


def _relations(wh: Warehouse, report: LoadReport) -> None:
    """Derived orders and customers, unknown customers (see the copy mode)."""
    ev = report.tables.get("events")
    if (ev is not None and ev.status == "loaded"
            and not ("orders" in report.tables and report.tables["orders"].status != "empty")):
        events = wh.table("events")
        if _count(events.filter(events.event_type.isin(["purchase", "payment_failed"]))):
            wh.plan["orders"] = "derived"
            orders = wh.table("orders")
            got = orders.aggregate(n=orders.count(), lo=orders.ordered_at.min(), hi=orders.ordered_at.max(),
                                   paid=_n(orders.payment_status == "paid")).execute().iloc[0]
            n, paid = int(got["n"]), int(got["paid"])
            ids = [c for c in ("customer_id", "visitor_id") if c in events.columns]
            has_value = "value" in events.columns
            columns = {"order_id": "(one per event)", "customer_id": " or ".join(f"events.{c}" for c in ids),
                       "ordered_at": "events.occurred_at", "payment_status": "events.event_type"}
            if has_value:
                columns["amount"] = "events.value"
            columns.update({c: f"events.{c}" for c in ("channel", "device") if c in events.columns})
            load = TableLoad(
                "orders", "derived from events", "derived", rows_read=n, rows_loaded=n, status="derived",
                columns=columns, first_at=_iso(got["lo"]), last_at=_iso(got["hi"]),
                note=(f"no orders table: {paid:,} purchase and {n - paid:,} payment_failed events are taken as "
                      "orders and failed payment attempts, one per event"
                      + ("; amounts from the events' value" if has_value
                         else "; the events carry no value, so amounts are unknown: revenue, order value and CLV are not measured")))
            if len(ids) > 1:
                anonymous = _count(events.filter(events.event_type.isin(["purchase", "payment_failed"])
                                                 & events.customer_id.isnull() & events.visitor_id.notnull()))
                if anonymous:
                    load.repairs.append(Repair(
                        "visitor_orders", "orders attributed to a visitor id", anonymous,
                        "purchase and payment_failed events without a customer id (before a login) are orders of their "
                        "visitor: dropping them would understate orders, revenue and failed payments"))
            report.tables["orders"] = load
    loaded = {t for t, l in report.tables.items() if l.status == "loaded" or (l.status == "derived" and t != "customers")}
    sources = _customer_sources(wh, loaded)
    wh.plan["customer_sources"] = sources
    if "customers" in loaded:
        if not sources:
            return
        _, unknown = with_unknown(wh.table("customers"), first_seen(wh, sources))
        n = _count(unknown)
        cust = report.tables["customers"]
        cust.checks.append(Check("known_customer", "customer_id", n))
        if n:
            wh.plan["customers"] = "with_unknown"
            wh._tables.pop("customers", None)
            cust.repairs.append(Repair(
                "unknown_customers", "added customers found only in other tables", n,
                "their orders/events are real; they are added with signup_at = first activity, "
                "as for a client without a customers table (the customers export is usually a lagging snapshot)"))
            cust.rows_loaded += n
    elif sources:
        wh.plan["customers"] = "derived"
        customers = wh.table("customers")
        got = customers.aggregate(n=customers.count(), lo=customers.signup_at.min(), hi=customers.signup_at.max()).execute().iloc[0]
        report.tables["customers"] = TableLoad(
            "customers", "derived from " + ", ".join(sorted(t for t in loaded if schemas.SPECS[t].customer_keyed)),
            "derived", rows_loaded=int(got["n"]), status="derived",
            columns={"customer_id": "customer_id", "signup_at": "first activity"},
            first_at=_iso(got["lo"]), last_at=_iso(got["hi"]),
            note="no customers table: each customer's signup is taken as their first order or event")


# --------------------------------------------------------------------------
# Build a cache entry (no rows) and open it
# --------------------------------------------------------------------------

def check_supported(cfg: RunConfig) -> None:
    """Refuse settings ``data.mode: in_place`` cannot honour (ConfigError)."""
    client_file = f"params/clients/{cfg.client}.yaml"
    if not cfg.data.is_database:
        raise ConfigError(f"{client_file}: data.mode is in_place, but data.source ({cfg.data.source}) is a folder",
                          fix="in_place applies to a database URL; remove data.mode for files (DuckDB reads them in place)")
    if cfg.engine.backend == "spark":
        raise ConfigError(f"{client_file}: data.mode: in_place with engine.backend: spark is not supported",
                          fix="run in place on the database (engine.backend: duckdb, the default), or set data.mode: copy")


def build(cfg: RunConfig, folder: Path, key: str) -> Path:
    """Validate the client's database tables in place and write a cache
    entry holding the load report and the plan, never a row (the
    counterpart of :func:`journeykit.data.loader._build`)."""
    from journeykit.data.loader import _lock_new, sweep

    check_supported(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f".build-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    lock = _lock_new(work)
    wh = None
    try:
        wh = Warehouse(cfg)
        report = LoadReport(cfg.client, dt.datetime.now().isoformat(timespec="seconds"), __version__)
        errors: list[DataError] = []
        plans: dict[str, dict] = {}
        for table, tcfg in cfg.data.tables.items():
            loader = _InPlaceTable(wh, table, tcfg)
            try:
                report.tables[table] = loader.load()
            except DataError as e:
                errors.append(e)
                continue
            errors.extend(loader.errors)
            if report.tables[table].status == "loaded":
                plans[table] = loader.plan
        if errors:
            raise DataErrors(errors) if len(errors) > 1 else errors[0]
        usable = {t for t, l in report.tables.items() if l.status == "loaded"}
        if not usable & {"orders", "events"}:
            raise DataError(
                client=cfg.client, table="orders", column=None,
                problem="no usable orders or events: every report needs at least one of them",
                fix="map an orders or events export under data.tables in the client file")
        wh.plan = {"tables": plans}
        _relations(wh, report)
        (work / PLAN_FILE).write_text(json.dumps(wh.plan, indent=1, ensure_ascii=False), encoding="utf-8")
        (work / "load_report.json").write_text(report.to_json(), encoding="utf-8")
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{key}-{stamp}-{uuid.uuid4().hex[:4]}"
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if wh is not None:
            wh.close()
        os.close(lock)
    sweep(folder, keep={target})
    return target


def open_entry(cfg: RunConfig, path: Path) -> Warehouse:
    """The warehouse of an in-place cache entry, its tables built from the plan."""
    check_supported(cfg)
    plan = json.loads((Path(path) / PLAN_FILE).read_text(encoding="utf-8"))
    return Warehouse(cfg, plan)


__all__ = ["Warehouse", "build", "open_entry", "source_url", "duckdb_file", "derive_orders", "first_seen",
           "with_unknown", "check_supported", "PLAN_FILE"]
