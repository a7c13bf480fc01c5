"""Run configuration: defaults ⊕ client file ⊕ command-line overrides.

``load(client, period)`` is the one call a notebook makes to know who and
when it is reporting on. The client file format (DESIGN.md, "Client file")
is a stable interface; unknown keys are rejected with the file and key
named, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import secrets
import typing
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from journeykit.core.errors import ConfigError
from journeykit.core.periods import Period
from journeykit.core.settings import ExperimentPlan, PredictionSettings, SegmentationSettings

TABLE_NAMES = (
    "customers", "marketing", "events", "orders", "subscriptions",
    "tickets", "surveys", "messages", "experiments",
)
TableName = Literal[
    "customers", "marketing", "events", "orders", "subscriptions",
    "tickets", "surveys", "messages", "experiments",
]

CLIENT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CLIENT_MAX = 64
"""Longest client name: it names files and folders (``params/clients/<client>.yaml``,
``reports/<client>/``, cache entries, locks), and file systems refuse names over 255 bytes."""

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableConfig(_Strict):
    """Where one canonical table comes from and how its columns map."""

    file: str | None = None
    """File (or glob) inside the source folder: .csv, .parquet, .xlsx."""
    table: str | None = None
    """Table name, when the source is a database URL."""
    columns: dict[str, str] = Field(default_factory=dict)
    """canonical column -> the client's column name."""
    event_types: dict[str, str] = Field(default_factory=dict)
    """events only: the client's event name -> canonical event type."""
    event_type: str | None = None
    """events only: the canonical type of every row, for an export that holds
    one kind of event and no event-type column (e.g. ``purchase`` for a
    transaction log of customer id and date)."""
    encoding: str | None = None
    """CSV encoding; detected (UTF-8, UTF-8 BOM, CP949) when absent."""
    sheet: str | None = None
    """Excel sheet name; the first sheet when absent."""
    header_row: int | None = Field(None, ge=1)
    """CSV and Excel: the 1-based row (a CSV's line) that holds the column
    names, when rows above it hold a title, notes or a first header level;
    row 1 when absent. E.g. ``header_row: 3`` for a sheet whose title is in
    row 1 and names in row 3 (row 2 blank); for a two-level header (group
    names over column names) the row with the column names."""
    skip_rows: int | None = Field(None, ge=0)
    """CSV and Excel: how many rows right below the header row to ignore (a
    units line, a second header level under the names, a separator);
    none when absent."""
    date_format: str | None = None
    """strftime format of the timestamps when they are not ISO 8601."""
    time_zones: dict[str, str] = Field(default_factory=dict)
    """Time zone names at the end of the timestamps -> the zone they mean:
    an IANA name or a UTC offset, e.g. ``{CST: Asia/Shanghai, IST:
    "+05:30"}``. Timestamps ending in a zone name (``2024-11-04 08:25:30
    PST``, ``... America/New_York``) or a UTC offset (``Z``, ``+09:00``) are
    converted to the client's time zone; those without are taken as its
    local time. IANA names and common abbreviations are known (see
    ``journeykit.data.loader.ZONE_ABBREVIATIONS``: CST is North American
    Central time, BST British Summer Time); an ambiguous one (IST, AST,
    SST, GST, ECT) or an unknown one stops the load until it is named here."""
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    """A categorical column -> {the client's value: canonical value}, e.g.
    ``payment_status: {결제완료: paid, 결제실패: failed}`` (canonical:
    paid, failed, refunded, pending, cancelled). Common English values are
    mapped by default; any other value stops the load with a list of the
    values to map."""

    @field_validator("columns", "event_types", "values", "time_zones", "file", "table", "event_type",
                     "encoding", "sheet", "date_format", mode="before")
    @classmethod
    def _no_yaml_booleans(cls, v: Any) -> Any:
        # YAML 1.1 (PyYAML) reads an unquoted no / yes / on / off as a boolean:
        # a client column named "no" would become False. (ValueError, not
        # TypeError: pydantic reports only the former as a validation error.)
        why = "YAML reads an unquoted no, yes, on or off as true/false; put the name in quotes"

        def check(d: Any, key: Any = None) -> None:
            if isinstance(d, bool):
                word = "yes" if d else "no"
                where = f"the value of {key}" if key is not None else "the value"
                raise ValueError(f"{where} was read as {str(d).lower()} (an unquoted {word} or "  # noqa: TRY004
                                 f"{'on' if d else 'off'}): {why}, e.g. "
                                 + (f"{key}: '{word}'" if key is not None else f"'{word}'"))
            if isinstance(d, dict):
                for k, x in d.items():
                    if isinstance(k, bool):
                        word = "yes" if k else "no"
                        raise ValueError(f"the name {word} (or {'on' if k else 'off'}) in '{word}: {x}' was read "  # noqa: TRY004
                                         f"as {str(k).lower()}: {why}, e.g. '{word}': {x}")
                    check(x, k)

        check(v)
        return v

    @field_validator("time_zones")
    @classmethod
    def _known_zones(cls, v: dict[str, str]) -> dict[str, str]:
        for name, zone in v.items():
            if re.fullmatch(r"[+-][0-9]{2}:?[0-9]{2}", zone.strip()):
                continue
            try:
                zoneinfo.ZoneInfo(zone.strip())
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{name}: {zone!r} is neither an IANA time zone (Asia/Shanghai) nor a UTC "
                                 "offset (+08:00)") from None
        return v


class DataConfig(_Strict):
    source: str | None = None
    tables: dict[TableName, TableConfig] = Field(default_factory=dict)
    mode: Literal["copy", "in_place"] = "copy"
    """Database sources only. ``copy``: the mapped columns are streamed into
    the local DuckDB cache and validated there. ``in_place``: the contract's
    checks run as queries on the database itself and the sections query it
    there; no row is copied to the host (see :mod:`journeykit.data.warehouse`)."""

    @property
    def is_database(self) -> bool:
        return bool(self.source) and "://" in str(self.source)


class SparkConfig(_Strict):
    """A Spark session for ``engine.backend: spark``."""

    master: str = "local[2]"
    """Used only when no Spark session is active in the process."""
    conf: dict[str, str] = Field(default_factory=dict)
    """Extra ``spark.*`` settings for a session journeykit starts."""
    remote: str | None = None
    """A Spark Connect URL (``sc://host:15002``) of a cluster to run on;
    when absent, a run starts one local Spark Connect server for its
    sections (``master`` and ``conf`` apply to it)."""


class EngineConfig(_Strict):
    """Where the sections' queries run (see :mod:`journeykit.core.engine`)."""

    backend: Literal["duckdb", "spark"] = "duckdb"
    spark: SparkConfig = Field(default_factory=SparkConfig)
    memory_limit: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    """Memory of each DuckDB connection journeykit opens (the load, each
    section's kernel); a query needing more spills to disk instead. DuckDB's
    own default, 80 % of the machine per connection, let two parallel
    sections on a million customers reach 11 GB together."""


class Definitions(_Strict):
    """Business rules. Each has a default in params/defaults.yaml."""

    churn_inactivity_days: int = Field(gt=0)
    min_group_size: int = Field(ge=1)
    k_anonymity: int = Field(ge=1)
    trend_periods: int = Field(ge=2, le=60)
    min_sample_size: int = Field(ge=1)
    funnel_window: Literal["session", "days"]
    funnel_window_days: int = Field(ge=1)
    first_purchase_window_days: int = Field(ge=1)
    subscription_renewal_days: int = Field(ge=1)
    ltv_time_unit: Literal["day", "week", "month"]
    ltv_horizon_months: int = Field(ge=1, le=120)
    ltv_discount_rate_monthly: float = Field(ge=0, lt=1)
    ltv_holdout_days: int = Field(ge=7)
    ltv_max_fit_customers: int = Field(ge=100)
    ltv_bootstrap_samples: int = Field(100, ge=0, le=2000)
    """Refits of the selected purchase model (and Gamma-Gamma) on customers
    resampled with replacement, behind the CLV and LTV:CAC intervals; 0: no intervals."""
    ltv_bootstrap_seconds: float | None = Field(None, gt=0)
    """Optional time budget of those refits: the bootstrap stops after the
    refit that passes it and says how many it used. ``None`` (the default):
    every refit runs, so the intervals (and metrics.json) are the same on
    every machine; with a budget they depend on the machine's speed."""
    gross_margin: float = Field(1.0, gt=0, le=1)
    """Share of revenue left after the cost of goods (0–1), applied to LTV in
    LTV:CAC and CAC payback; 1.0 (the default) compares revenue with CAC."""
    attribution_window_days: int = Field(ge=1)
    experiment_window_days: int = Field(ge=1)
    experiment_mde: float = Field(0.02, gt=0, le=0.5)
    """The minimum detectable effect of an experiment without its own
    ``experiments.<name>.mde``: an absolute lift of the conversion rate
    (0–1 points)."""


class MinEffect(_Strict):
    """The smallest change of a KPI worth calling significant: its relative
    change (of the quantity tested: per day for counts) at least
    ``relative``, **or** its absolute change at least ``absolute`` (in the
    KPI's unit: 0–1 points for rates and NPS). Neither: every change counts."""

    relative: float | None = Field(None, ge=0)
    absolute: float | None = Field(None, ge=0)


class MinEffects(_Strict):
    """The minimum meaningful size of a change, by kind of KPI."""

    rate: MinEffect = MinEffect(relative=0.05, absolute=0.01)
    count: MinEffect = MinEffect(relative=0.05)
    mean: MinEffect = MinEffect(relative=0.05)
    nps: MinEffect = MinEffect(absolute=0.05)


class ChangeSettings(_Strict):
    """How period-over-period changes are judged (README, "How changes are
    judged"): the false discovery rate of the Benjamini–Hochberg adjustment
    across one report's tests, whether the month-to-month movement of a KPI
    counts as noise (``month_level``), and the minimum meaningful size of a change
    by kind of KPI (``min_effect``) or for one KPI (``kpis``, by its key,
    e.g. ``{ctr: {relative: 0.10}}``; it replaces the kind's)."""

    fdr: float = Field(0.05, gt=0, lt=1)
    month_level: bool = True
    """Also hold each change to the KPI's recent month-to-month movement
    (:func:`journeykit.stats.compare.month_variance`); off: only the noise
    within the month (days, customers, campaigns) counts."""
    min_effect: MinEffects = Field(default_factory=MinEffects)
    kpis: dict[str, MinEffect] = Field(default_factory=dict)


class BrandingConfig(_Strict):
    """Who the deliverable comes from and for: shown on the cover and in
    every page's header and footer. Logo files are PNG, JPEG or SVG, given
    relative to the project folder (or absolute); a missing file is a
    configuration error naming it."""

    client_logo: str | None = None
    """The client's logo (top of the cover and of each page)."""
    consultancy: str | None = None
    """The name of the consultancy delivering the report."""
    consultancy_logo: str | None = None
    """The consultancy's logo (cover)."""
    prepared_by: str | None = None
    """Who prepared the report (a person or a team), on the cover."""
    confidentiality: str | None = None
    """A confidentiality line on the cover and in every page's footer,
    e.g. "Confidential — prepared for ACME Coffee only"."""

    LOGO_KEYS: typing.ClassVar[tuple[str, ...]] = ("client_logo", "consultancy_logo")
    LOGO_SUFFIXES: typing.ClassVar[dict[str, str]] = {
        ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

    @field_validator("client_logo", "consultancy_logo")
    @classmethod
    def _logo_kind(cls, v: str | None) -> str | None:
        if v is not None and Path(v).suffix.lower() not in cls.LOGO_SUFFIXES:
            raise ValueError(f"logo {v!r} is not a .png, .jpg or .svg file")
        return v


class ReportConfig(_Strict):
    sections: list[str] = Field(default_factory=list)
    pdf: bool = True
    appendix: bool = True
    """``true``: the deliverable ends with an appendix for analysts (data
    quality, methods: tests with p and q values, model parameters and
    validation, definitions); ``false``: the client part only. The executed
    notebooks and metrics.json keep everything either way."""
    branding: BrandingConfig = Field(default_factory=BrandingConfig)
    """Logos, consultancy, "prepared by" and confidentiality line (:class:`BrandingConfig`)."""
    section_timeout_minutes: float = Field(60, gt=0)
    """A section still running after this many minutes is stopped (its
    kernel killed) and recorded as failed; the run goes on with the others."""


class RunContext(_Strict):
    """Where a report run puts what its sections produce. The runner sets it
    in the resolved configuration it hands every section (the notebooks'
    ``run_config`` parameter); an analyst's own notebook has none, and then
    nothing is exported and the summary reads the published report."""

    folder: Path
    """The run's staging folder (the report being rendered)."""
    exports: Path
    """Where target lists are written (``exports/`` of that report)."""
    results: Path
    """The results of the sections that ran before this one (JSON, the
    ``sections`` of metrics.json): the summary reads them."""
    spark_remote: str | None = None
    """The run's Spark Connect server (``engine.backend: spark``)."""
    cache: Path | None = None
    """The cache entry of the client's data the run loaded and validated:
    every section opens this one (:func:`journeykit.data.loader.load`), so a
    changed export or a ``journeykit validate`` meanwhile cannot mix two
    versions of the data in one report."""


class RunConfig(_Strict):
    """Everything one run needs to know, validated once."""

    client: str
    period: Period
    root: Path
    name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    language: Literal["ko", "en"]
    data: DataConfig
    engine: EngineConfig = Field(default_factory=EngineConfig)
    definitions: Definitions
    changes: ChangeSettings = Field(default_factory=ChangeSettings)
    """How changes are judged (:class:`ChangeSettings`)."""
    report: ReportConfig
    schedule: Literal["monthly"] | None = None
    """``monthly``: ``journeykit batch`` (``make monthly``) renders this client
    every month; without it the client is rendered only on request."""
    segmentation: SegmentationSettings = Field(default_factory=SegmentationSettings)
    """Segments, lifecycle states, health score and playbooks
    (:class:`journeykit.core.settings.SegmentationSettings`)."""
    prediction: PredictionSettings = Field(default_factory=PredictionSettings)
    """Churn, promoter and upsell models (:class:`journeykit.core.settings.PredictionSettings`)."""
    experiments: dict[str, ExperimentPlan] = Field(default_factory=dict)
    """Planned experiments by name: allocation, minimum detectable effect,
    start, alpha spending (:class:`journeykit.core.settings.ExperimentPlan`);
    an experiment not listed is planned as an equal split with the defaults."""

    run: RunContext | None = None
    """Set by the runner for the run's sections; ``None`` in an analyst's notebook."""

    @field_serializer("period")
    def _period_text(self, p: Period) -> str:
        return str(p)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Seoul)")
        return v

    @field_validator("period", mode="before")
    @classmethod
    def _parse_period(cls, v: Any) -> Period:
        return Period.parse(v)

    @property
    def settings_digest(self) -> str:
        """A digest of every setting (the run context aside): what a result
        computed from the data depends on besides the data itself. The
        dataset's memo keys results on it, so a changed setting is never
        answered from a result computed under another."""
        # not the project folder: the same client file and data give the same results wherever they sit
        return hashlib.blake2b(self.model_dump_json(exclude={"run", "root"}).encode(), digest_size=8).hexdigest()

    def updated(self, **changes: Any) -> "RunConfig":
        """A copy with ``changes`` merged in (nested mappings key by key) and
        validated again, e.g. ``cfg.updated(segmentation={"health":
        {"healthy_min": 80}})``: the analyst's way to try another setting.

        Raises
        ------
        ConfigError
            When the result is not a valid configuration.
        """
        merged = deep_merge(self.model_dump(mode="json"), changes)
        try:
            return RunConfig.model_validate(merged)
        except ValidationError as e:
            raise _explain(e, Path("(updated settings)"), {}, changes, "cfg.updated(...)") from None

    def write(self, path: Path) -> Path:
        """Write this configuration, resolved (defaults, client file,
        overrides and run context merged), as JSON: what a run hands its
        sections (:func:`read_resolved`)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        return path

    @property
    def comparison(self) -> Period:
        """The comparison period (the month before)."""
        return self.period.previous()

    @property
    def source_path(self) -> Path | None:
        """The data folder, when the source is a folder."""
        if not self.data.source or self.data.is_database:
            return None
        p = Path(self.data.source)
        return p if p.is_absolute() else self.root / p

    def logo_path(self, key: str) -> Path | None:
        """The file of ``report.branding.<key>`` (``client_logo`` or
        ``consultancy_logo``), relative paths taken from the project folder;
        ``None`` when not set."""
        value = getattr(self.report.branding, key)
        if not value:
            return None
        p = Path(value)
        return p if p.is_absolute() else self.root / p

    @property
    def report_dir(self) -> Path:
        """Where the finished report for this client and period lives."""
        return self.root / "reports" / self.client / str(self.period)

    def secret(self) -> bytes:
        """The per-client key for pseudonymizing customer ids.

        From ``JOURNEYKIT_SECRET_<CLIENT>`` if set, else from
        ``params/.secrets/<client>.key`` (git-ignored), created on first use.
        """
        env = os.environ.get(f"JOURNEYKIT_SECRET_{self.client.upper().replace('-', '_')}")
        if env:
            return env.encode()
        path = self.root / "params" / ".secrets" / f"{self.client}.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Fix (see tests/unit/test_config.py::test_secret_concurrent_first_use):
            # the temporary file is private to this call and created 0600. With one
            # shared "<client>.tmp", processes starting together rewrote the key
            # after it had been linked into place (two different keys) or unlinked
            # it under each other (FileNotFoundError); and it was readable by
            # others until the chmod.
            tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)  # atomic: never two different keys
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip().encode()


def find_root(start: Path | None = None) -> Path:
    """The project folder: ``$JOURNEYKIT_ROOT`` or the nearest folder above
    ``start`` (default: the working directory) holding params/defaults.yaml."""
    env = os.environ.get("JOURNEYKIT_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "params" / "defaults.yaml").is_file():
            return d
    raise ConfigError(
        f"no params/defaults.yaml found in {here} or any folder above it",
        fix="run journeykit from inside the project folder, or set JOURNEYKIT_ROOT",
    )


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, turning syntax errors into a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as e:
        # safe_load builds plain values only: a tag such as
        # !!python/object/apply:os.system would run code under yaml.load.
        mark = e.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        found = re.search(r"tag '([^']*)'", e.problem or "")
        tag = (found.group(1) if found else "?").replace("tag:yaml.org,2002:", "!!")
        unsafe = tag.startswith("!!python/")
        raise ConfigError(
            f"{path}: {'unsafe ' if unsafe else 'unsupported '}YAML tag '{tag}'{where} is refused"
            + (": a client file holds plain values only, and a !!python tag would build Python objects or run code"
               if unsafe else ": a client file holds plain values only (text, numbers, true/false, lists, mappings)"),
            fix="remove the tag and write the value itself: a name or text in quotes (e.g. 'orders.csv'), "
                "a number, or a mapping",
        ) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(
            f"{path}: YAML syntax error{where}: {problem}",
            fix="check indentation (spaces, not tabs) and that every 'key: value' has a space after the colon",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base``; nested mappings merge key by key,
    anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["definitions.churn_inactivity_days=60"]`` into a nested dict.

    Values are parsed as YAML scalars, so ``60`` is an int and ``true`` a bool.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"override {pair!r} is not KEY=VALUE", fix="e.g. --set definitions.churn_inactivity_days=60")
        key, raw = pair.split("=", 1)
        value = yaml.safe_load(raw) if raw else None
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def check_client_name(client: str) -> str:
    """``client`` stripped, when it can name the client's files: lower-case
    letters, digits, ``-`` and ``_``, at most :data:`CLIENT_MAX` characters.

    Raises
    ------
    ConfigError
        Saying which rule the name breaks.
    """
    client = str(client).strip()
    if len(client) > CLIENT_MAX:
        raise ConfigError(
            f"client name {client[:40]!r}… is {len(client)} characters long: at most {CLIENT_MAX} are allowed",
            fix="use a short name (it names params/clients/<client>.yaml and the report folders); "
                "the client file's `name:` holds the display name, of any length",
        )
    if not CLIENT_RE.match(client):
        raise ConfigError(
            f"client name {client!r} is not valid",
            fix="use lower-case letters, digits, '-' and '_' (it names params/clients/<client>.yaml)",
        )
    return client


def client_path(root: Path, client: str) -> Path:
    return root / "params" / "clients" / f"{client}.yaml"


def list_clients(root: Path) -> list[str]:
    """Every client with a file in params/clients/, sorted."""
    return sorted(p.stem for p in (root / "params" / "clients").glob("*.yaml"))


def _known_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``Model``, ``Model | None``,
    ``tuple[Model, ...]``, ``dict[str, Model]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that holds the last key of ``loc`` (a pydantic
    error location such as ``("segmentation", "health", "weights", "x")``)."""
    model: type[BaseModel] = RunConfig
    parts = list(loc[:-1])
    i = 0
    while i < len(parts):
        part = parts[i]
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        inner = _inner_model(field.annotation)
        if inner is None:
            return None
        origin = typing.get_origin(field.annotation)
        if origin in (dict, tuple, list) and i + 1 < len(parts):
            i += 1  # skip the mapping key or the list index
        model = inner
        i += 1
    return model


def _explain(e: ValidationError, path: Path, client_raw: dict, overrides: dict,
             override_source: str = "command-line --set") -> ConfigError:
    lines = []
    for err in e.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(x) for x in loc)
        if err["type"] == "extra_forbidden":
            src = override_source if _has(overrides, loc) else str(path)
            model = _model_at(loc)
            hint = ""
            if model is not None:
                close = difflib.get_close_matches(str(loc[-1]), _known_keys(model), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(_known_keys(model))})"
            lines.append(f"{src}: unknown key '{key}'{hint}")
        elif err["type"] == "literal_error" and len(loc) >= 3 and loc[:2] == ("data", "tables"):
            lines.append(f"{path}: unknown table '{loc[2]}' under data.tables (tables: {', '.join(TABLE_NAMES)})")
        else:
            src = override_source if _has(overrides, loc) else str(path)
            lines.append(f"{src}: '{key}': {err['msg']}")
    where = "the file or option named above" if any(ln.startswith(override_source) for ln in lines) else "the file named above"
    return ConfigError(
        "invalid configuration:\n  " + "\n  ".join(lines),
        fix=f"correct the key in {where}; see params/defaults.yaml and the README's client file reference",
    )


def _has(d: dict, loc: tuple[Any, ...]) -> bool:
    node: Any = d
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def load(
    client: str,
    period: str | Period,
    overrides: dict[str, Any] | list[str] | None = None,
    root: Path | str | None = None,
    resolved: str | Path | None = None,
) -> RunConfig:
    """Build the validated ``RunConfig`` for ``client`` and ``period``.

    Parameters
    ----------
    client : str
        Name of ``params/clients/<client>.yaml``.
    period : str or Period
        ``YYYY-MM``; the comparison period is the month before.
    overrides : dict or list of ``KEY=VALUE``, optional
        Applied last (command line).
    root : path, optional
        Project folder; found from the working directory when omitted.
    resolved : path, optional
        A run's resolved configuration (:meth:`RunConfig.write`), which the
        runner hands every section as its ``run_config`` parameter: read as
        it is, with its overrides and run context. Empty: build it from the
        files.

    Raises
    ------
    ConfigError
        Naming the file and key of every problem.
    """
    if resolved:
        return read_resolved(resolved, client, period)
    root = Path(root).resolve() if root else find_root()
    client = check_client_name(client)
    path = client_path(root, client)
    if not path.is_file():
        known = list_clients(root)
        close = difflib.get_close_matches(client, known, n=1)
        raise ConfigError(
            f"no client file {path.relative_to(root)}"
            + (f" (did you mean '{close[0]}'?)" if close else ""),
            fix=f"create it with `journeykit new-client --client {client}`; known clients: {', '.join(known) or 'none'}",
        )
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    overrides = overrides or {}
    defaults = read_yaml(root / "params" / "defaults.yaml")
    client_raw = read_yaml(path)
    merged = deep_merge(deep_merge(defaults, client_raw), overrides)
    merged.setdefault("name", client)
    merged.update(client=client, period=period, root=root)
    try:
        cfg = RunConfig.model_validate(merged)
    except ValidationError as e:
        raise _explain(e, path.relative_to(root), client_raw, overrides) from None
    if not cfg.data.source:
        raise ConfigError(
            f"{path.relative_to(root)}: data.source is not set",
            fix="set data.source to a folder (relative to the project) or a database URL",
        )
    if not cfg.data.tables:
        raise ConfigError(
            f"{path.relative_to(root)}: data.tables names no table",
            fix="map at least one table (orders or events) under data.tables",
        )
    for key in BrandingConfig.LOGO_KEYS:
        logo = cfg.logo_path(key)
        if logo is not None and not logo.is_file():
            raise ConfigError(
                f"{path.relative_to(root)}: report.branding.{key}: the file {logo} does not exist",
                fix="put the logo there (PNG, JPEG or SVG), give its path relative to the project folder, "
                    f"or remove report.branding.{key}",
            )
    return cfg


def read_resolved(path: str | Path, client: str | None = None, period: str | Period | None = None) -> RunConfig:
    """The configuration a run resolved and wrote (:meth:`RunConfig.write`).

    Raises
    ------
    ConfigError
        When the file is missing or unreadable, or names another client or
        period than the notebook's parameters.
    """
    path = Path(path)
    try:
        cfg = RunConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as e:
        raise ConfigError(f"cannot read the run's configuration {path}: {str(e).splitlines()[0]}",
                          fix="run the notebook through `journeykit run`, or leave run_config empty") from None
    if client is not None and str(client).strip() != cfg.client:
        raise ConfigError(f"run_config {path} is for client {cfg.client!r}, not {client!r}",
                          fix="leave run_config empty when you change the client parameter")
    if period is not None and Period.parse(period) != cfg.period:
        raise ConfigError(f"run_config {path} is for period {cfg.period}, not {period}",
                          fix="leave run_config empty when you change the period parameter")
    return cfg
