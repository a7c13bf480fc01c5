"""journeykit.core.config: defaults ⊕ client file ⊕ command-line overrides."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import textwrap
from pathlib import Path

import pytest

from journeykit.core import config
from journeykit.core.errors import ConfigError
from journeykit.core.periods import Period

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """
data:
  source: data/acme
  tables:
    orders: {file: orders.csv}
"""


def make_root(tmp_path: Path, clients: dict[str, str] | None = None) -> Path:
    """A project folder with the repo's defaults and the given client files."""
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    for name, text in (clients if clients is not None else {"acme": MINIMAL}).items():
        (root / "params" / "clients" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def load_error(root: Path, client: str = "acme", period="2026-10", **kw) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(client, period, root=root, **kw)
    return str(info.value)


# --------------------------------------------------------------------------
# merging
# --------------------------------------------------------------------------

def test_deep_merge_merges_nested_keys_and_replaces_scalars():
    base = {"a": 1, "nested": {"x": 1, "y": 2, "deeper": {"p": 1}}, "lst": [1, 2]}
    over = {"a": 2, "nested": {"y": 20, "deeper": {"q": 2}}, "lst": [3]}
    assert config.deep_merge(base, over) == {
        "a": 2,                                          # scalar replaced
        "nested": {"x": 1, "y": 20, "deeper": {"p": 1, "q": 2}},  # merged key by key, at any depth
        "lst": [3],                                      # lists are replaced, not appended
    }


def test_deep_merge_does_not_modify_its_inputs():
    base = {"nested": {"x": 1}}
    over = {"nested": {"y": 2}}
    config.deep_merge(base, over)
    assert base == {"nested": {"x": 1}}
    assert over == {"nested": {"y": 2}}


def test_deep_merge_mapping_replaces_scalar_and_back():
    assert config.deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert config.deep_merge({"a": {"b": 2}}, {"a": None}) == {"a": None}


def test_defaults_client_overrides_precedence(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + """
definitions:
  churn_inactivity_days: 60
  k_anonymity: 5
currency: KRW
"""})
    cfg = config.load("acme", "2026-10", root=root,
                      overrides=["definitions.churn_inactivity_days=30"])
    assert cfg.definitions.churn_inactivity_days == 30   # override beats client (60) and default (90)
    assert cfg.definitions.k_anonymity == 5              # client beats default (10)
    assert cfg.definitions.min_group_size == 30          # default kept: nested keys merge
    assert cfg.currency == "KRW"                         # client beats default (USD)
    assert cfg.timezone == "UTC"                         # default
    assert cfg.name == "acme"                            # no name: the client id is shown


def test_overrides_as_a_dict(tmp_path):
    root = make_root(tmp_path)
    cfg = config.load("acme", "2026-10", root=root, overrides={"report": {"pdf": False}})
    assert cfg.report.pdf is False                      # default is true
    assert cfg.report.sections == []                    # sibling default survives


@pytest.mark.parametrize("pairs, expected", [
    (["definitions.churn_inactivity_days=60"], {"definitions": {"churn_inactivity_days": 60}}),  # an int, not "60"
    (["report.pdf=false"], {"report": {"pdf": False}}),                                           # a bool
    (["name=ACME Coffee"], {"name": "ACME Coffee"}),                                              # text
    (["name=a=b"], {"name": "a=b"}),                                                              # split at the first '='
    (["language=ko", "timezone=Asia/Seoul"], {"language": "ko", "timezone": "Asia/Seoul"}),
    (["definitions.k_anonymity=5", "definitions.min_group_size=20"],
     {"definitions": {"k_anonymity": 5, "min_group_size": 20}}),                                  # same parent, merged
    (["data.source="], {"data": {"source": None}}),                                               # empty = unset
    ([], {}),
    (None, {}),
])
def test_parse_overrides(pairs, expected):
    assert config.parse_overrides(pairs) == expected


def test_parse_overrides_needs_key_value():
    with pytest.raises(ConfigError) as info:
        config.parse_overrides(["definitions.churn_inactivity_days"])
    assert "KEY=VALUE" in str(info.value)
    assert "fix:" in str(info.value)


def test_unknown_engine_is_named_with_the_choices(tmp_path):
    text = load_error(make_root(tmp_path), overrides=["engine.backend=snowflake"])
    assert "engine.backend" in text and "duckdb" in text and "spark" in text
    text = load_error(make_root(tmp_path / "b"), overrides=["engine.spark.mastr=local[1]"])
    assert "engine.spark.mastr" in text and "did you mean 'master'" in text


def test_override_of_unknown_key_names_the_command_line(tmp_path):
    root = make_root(tmp_path)
    text = load_error(root, overrides=["definitions.churn_days=30"])
    assert "command-line --set" in text                  # not blamed on the client file
    assert "definitions.churn_days" in text


def test_override_with_wrong_type(tmp_path):
    root = make_root(tmp_path)
    text = load_error(root, overrides=["definitions.churn_inactivity_days=soon"])
    assert "churn_inactivity_days" in text


# --------------------------------------------------------------------------
# unknown keys: the file, the key, and a suggestion
# --------------------------------------------------------------------------

@pytest.mark.parametrize("extra, key, suggestion", [
    ("defintions: {churn_inactivity_days: 60}\n", "'defintions'", "'definitions'"),        # top level
    ("timezon: Asia/Seoul\n", "'timezon'", "'timezone'"),                                  # top level scalar
    ("definitions: {churn_inactivity_day: 60}\n",
     "'definitions.churn_inactivity_day'", "'churn_inactivity_days'"),                     # under definitions
    ("report: {pfd: false}\n", "'report.pfd'", "'pdf'"),                                   # under report
])
def test_unknown_key_names_file_and_key_with_suggestion(tmp_path, extra, key, suggestion):
    root = make_root(tmp_path, {"acme": MINIMAL + extra})
    text = load_error(root)
    assert "params/clients/acme.yaml" in text
    assert f"unknown key {key}" in text
    assert f"did you mean {suggestion}" in text
    assert "fix:" in text


@pytest.mark.parametrize("typo, suggestion", [("colums", "columns"), ("fiel", "file"), ("event_typs", "event_types")])
def test_unknown_key_under_a_table(tmp_path, typo, suggestion):
    root = make_root(tmp_path, {"acme": f"""
data:
  source: data/acme
  tables:
    orders:
      file: orders.csv
      {typo}: {{}}
"""})
    text = load_error(root)
    assert "params/clients/acme.yaml" in text
    assert f"data.tables.orders.{typo}" in text
    assert f"did you mean '{suggestion}'" in text


def test_unknown_key_under_data(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL.replace("  source:", "  sourse: x\n  source:")})
    text = load_error(root)
    assert "data.sourse" in text
    assert "did you mean 'source'" in text


def test_unknown_key_without_close_match_lists_known_keys(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "definitions: {zzz: 1}\n"})
    text = load_error(root)
    assert "definitions.zzz" in text
    assert "churn_inactivity_days" in text              # the known keys are listed instead


def test_unknown_table_name(tmp_path):
    root = make_root(tmp_path, {"acme": """
data:
  source: data/acme
  tables:
    order: {file: orders.csv}
"""})
    text = load_error(root)
    assert "params/clients/acme.yaml" in text
    assert "unknown table 'order'" in text
    assert "orders" in text                             # the canonical names are listed


def test_every_problem_is_reported_at_once(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "timezon: UTC\nlanguage: kr\n"})
    text = load_error(root)
    assert "timezon" in text and "language" in text


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------

def test_bad_timezone(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "timezone: Asia/Seul\n"})
    text = load_error(root)
    assert "params/clients/acme.yaml" in text
    assert "'timezone'" in text
    assert "Asia/Seul" in text
    assert "IANA" in text                               # says what a valid value looks like


def test_bad_language(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "language: kr\n"})
    text = load_error(root)
    assert "'language'" in text
    assert "'ko'" in text and "'en'" in text            # the allowed values


def test_bad_currency(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "currency: won\n"})
    assert "'currency'" in load_error(root)


def test_definition_out_of_range(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "definitions: {churn_inactivity_days: 0}\n"})
    assert "definitions.churn_inactivity_days" in load_error(root)


def test_korean_name_and_settings(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "name: 에이크미 커피\ntimezone: Asia/Seoul\nlanguage: ko\ncurrency: KRW\n"})
    cfg = config.load("acme", "2026-10", root=root)
    assert (cfg.name, cfg.timezone, cfg.language, cfg.currency) == ("에이크미 커피", "Asia/Seoul", "ko", "KRW")


def test_missing_source_or_tables(tmp_path):
    root = make_root(tmp_path, {"nosource": "data: {tables: {orders: {file: o.csv}}}\n",
                                "notables": "data: {source: data/x}\n"})
    assert "data.source" in load_error(root, "nosource")
    assert "data.tables" in load_error(root, "notables")


# --------------------------------------------------------------------------
# the client file itself
# --------------------------------------------------------------------------

def test_missing_client_file_suggests_a_close_name(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL, "globex": MINIMAL})
    text = load_error(root, "acmee")
    assert "params/clients/acmee.yaml" in text
    assert "did you mean 'acme'" in text
    assert "new-client --client acmee" in text                   # how to create it
    assert "globex" in text                             # the known clients


@pytest.mark.parametrize("bad", ["ACME", "../acme", "acme/x", "", "-acme", "ac me", "acme.yaml"])
def test_invalid_client_name(tmp_path, bad):
    root = make_root(tmp_path)
    text = load_error(root, bad)
    assert "not valid" in text
    assert "lower-case" in text


def test_yaml_syntax_error_has_a_line_number(tmp_path):
    root = make_root(tmp_path, {"acme": "data:\n  source: data/acme\n  tables: {orders: {file: x}\nname: A\n"})
    text = load_error(root)
    assert "params/clients/acme.yaml" in text
    assert "YAML syntax error at line" in text


def test_client_file_that_is_not_a_mapping(tmp_path):
    root = make_root(tmp_path, {"acme": "- orders.csv\n"})
    assert "expected a mapping" in load_error(root)


def test_list_clients(tmp_path):
    root = make_root(tmp_path, {"b": MINIMAL, "a": MINIMAL})
    assert config.list_clients(root) == ["a", "b"]


def test_find_root(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    (root / "notebooks" / "deep").mkdir(parents=True)
    monkeypatch.delenv("JOURNEYKIT_ROOT", raising=False)
    assert config.find_root(root / "notebooks" / "deep") == root.resolve()   # walks up
    monkeypatch.setenv("JOURNEYKIT_ROOT", str(tmp_path))
    assert config.find_root(root / "notebooks") == tmp_path.resolve()        # the env var wins
    monkeypatch.delenv("JOURNEYKIT_ROOT")
    with pytest.raises(ConfigError):
        config.find_root(tmp_path)                                           # nothing above


# --------------------------------------------------------------------------
# period and derived values
# --------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["2026-10", dt.date(2026, 10, 1), "2026-10-01", Period(2026, 10)])
def test_period_parsed_once_into_a_period(tmp_path, given):
    cfg = config.load("acme", given, root=make_root(tmp_path))
    assert cfg.period == Period(2026, 10)               # whatever form it came in
    assert isinstance(cfg.period, Period)
    assert cfg.comparison == Period(2026, 9)            # the month before


def test_bad_period(tmp_path):
    text = load_error(make_root(tmp_path), period="2026-13")
    assert "2026-13" in text and "YYYY-MM" in text


def test_paths(tmp_path):
    root = make_root(tmp_path)
    cfg = config.load("acme", "2026-10", root=root)
    assert cfg.root == root.resolve()
    assert cfg.source_path == root.resolve() / "data" / "acme"     # relative to the project
    assert cfg.report_dir == root.resolve() / "reports" / "acme" / "2026-10"
    assert not cfg.data.is_database


def test_database_source_has_no_folder(tmp_path):
    root = make_root(tmp_path, {"acme": "data: {source: 'duckdb:///x.db', tables: {orders: {table: o}}}\n"})
    cfg = config.load("acme", "2026-10", root=root)
    assert cfg.data.is_database
    assert cfg.source_path is None


def test_config_is_frozen(tmp_path):
    cfg = config.load("acme", "2026-10", root=make_root(tmp_path))
    with pytest.raises(Exception):
        cfg.definitions.churn_inactivity_days = 1      # a notebook cannot change the run's rules


# --------------------------------------------------------------------------
# secret()
# --------------------------------------------------------------------------

@pytest.fixture
def no_secret_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("JOURNEYKIT_SECRET_"):
            monkeypatch.delenv(k)


def test_secret_created_once_stable_and_private(tmp_path, no_secret_env):
    root = make_root(tmp_path)
    cfg = config.load("acme", "2026-10", root=root)
    key_file = root / "params" / ".secrets" / "acme.key"
    assert not key_file.exists()
    first = cfg.secret()
    assert key_file.is_file()                                       # created on first use
    assert len(first) >= 32                                         # 32 random bytes, hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600           # readable by the owner only
    assert cfg.secret() == first                                    # stable within a run
    assert config.load("acme", "2026-11", root=root).secret() == first  # and across runs
    assert list(key_file.parent.iterdir()) == [key_file]            # no temporary file left


def test_secret_differs_between_clients(tmp_path, no_secret_env):
    root = make_root(tmp_path, {"acme": MINIMAL, "globex": MINIMAL})
    a = config.load("acme", "2026-10", root=root).secret()
    b = config.load("globex", "2026-10", root=root).secret()
    assert a != b


def test_secret_env_override(tmp_path, monkeypatch, no_secret_env):
    root = make_root(tmp_path, {"acme-co": MINIMAL})
    monkeypatch.setenv("JOURNEYKIT_SECRET_ACME_CO", "from-the-vault")   # '-' becomes '_'
    cfg = config.load("acme-co", "2026-10", root=root)
    assert cfg.secret() == b"from-the-vault"
    assert not (root / "params" / ".secrets").exists()             # no file written


def test_secret_concurrent_first_use(tmp_path, monkeypatch, no_secret_env):
    # Two section processes of one run may ask for the key at the same
    # moment. Simulate the other process creating the key between this one
    # writing its temporary file and linking it into place: both must end
    # with the same key, and nothing may crash.
    root = make_root(tmp_path)
    cfg = config.load("acme", "2026-10", root=root)
    real_link = os.link
    other: dict[str, bytes] = {}

    def link_after_another_process(src, dst, *a, **kw):
        if not other:
            other["key"] = b"(running)"
            other["key"] = cfg.secret()
        return real_link(src, dst, *a, **kw)

    monkeypatch.setattr(os, "link", link_after_another_process)
    mine = cfg.secret()
    assert mine == other["key"]
    assert (root / "params" / ".secrets" / "acme.key").read_bytes().strip() == mine
    assert [p.name for p in (root / "params" / ".secrets").iterdir()] == ["acme.key"]


# --------------------------------------------------------------------------
# the segmentation and prediction blocks are typed settings too
# --------------------------------------------------------------------------

def test_segmentation_and_prediction_defaults_and_overrides(tmp_path):
    cfg = config.load("acme", "2026-10", root=make_root(tmp_path))
    assert cfg.segmentation.rfm.lookback_days == 365 and len(cfg.segmentation.rfm.segments) == 10
    assert cfg.segmentation.health.healthy_min == 70 and cfg.segmentation.lifecycle.dormant_days == 60
    assert cfg.prediction.horizon_days == 60 and cfg.prediction.gbm.max_depth == 3
    root = make_root(tmp_path / "b", {"acme": MINIMAL + textwrap.dedent("""
        segmentation:
          health: {weights: {tickets: 0.5}}
          lifecycle: {new_days: 14}
        prediction: {horizon_days: 30}
        """)})
    cfg = config.load("acme", "2026-10", root=root)
    assert cfg.segmentation.health.weights.tickets == 0.5 and cfg.segmentation.health.weights.recency == 0.15
    assert cfg.segmentation.lifecycle.new_days == 14 and cfg.prediction.horizon_days == 30


@pytest.mark.parametrize("block, key, hint", [
    ("segmentation: {health: {wieghts: {}}}", "segmentation.health.wieghts", "did you mean 'weights'"),
    ("segmentation: {colour: 1}", "segmentation.colour", "known keys: rfm, clusters"),
    ("segmentation: {playbooks: [{action: x, whom: all}]}", "segmentation.playbooks.0.whom", "known keys: action"),
    ("prediction: {horizon_dayz: 30}", "prediction.horizon_dayz", "did you mean 'horizon_days'"),
    ("prediction: {gbm: {depth: 3}}", "prediction.gbm.depth", "max_depth"),
])
def test_unknown_settings_key_names_the_file_the_key_and_the_fix(tmp_path, block, key, hint):
    msg = load_error(make_root(tmp_path, {"acme": MINIMAL + block + "\n"}))
    assert "params/clients/acme.yaml" in msg and f"unknown key '{key}'" in msg and hint in msg
    assert "fix:" in msg


def test_an_override_with_a_typo_in_a_settings_block_is_refused(tmp_path):
    # --set segmentation.helth.healthy_min=80 used to pass validate
    msg = load_error(make_root(tmp_path), overrides=["segmentation.helth.healthy_min=80"])
    assert "command-line --set: unknown key 'segmentation.helth'" in msg and "did you mean 'health'" in msg


@pytest.mark.parametrize("block, match", [
    ("segmentation: {rfm: {segments: [{segment: all_high, r: [3, 5], fm: [1, 5]}]}}", "without a segment"),
    ("segmentation: {playbooks: [{action: vip, rfm: [vips]}]}", "unknown RFM segment"),
    ("segmentation: {clusters: {k_min: 5, k_max: 3}}", "k_min"),
    ("prediction: {risk_bands: [0.7, 0.2]}", "risk_bands"),
])
def test_invalid_settings_values_are_explained(tmp_path, block, match):
    assert match in load_error(make_root(tmp_path, {"acme": MINIMAL + block + "\n"}))


def test_updated_validates_and_changes_the_settings_digest(tmp_path):
    cfg = config.load("acme", "2026-10", root=make_root(tmp_path))
    hi = cfg.updated(segmentation={"health": {"healthy_min": 95}})
    assert hi.segmentation.health.healthy_min == 95 and cfg.segmentation.health.healthy_min == 70
    assert hi.settings_digest != cfg.settings_digest
    assert cfg.updated().settings_digest == cfg.settings_digest
    with pytest.raises(ConfigError, match="did you mean 'health'"):
        cfg.updated(segmentation={"helth": {"healthy_min": 95}})


def test_resolved_configuration_round_trips_with_its_run_context(tmp_path):
    cfg = config.load("acme", "2026-10", root=make_root(tmp_path), overrides=["definitions.churn_inactivity_days=60"])
    ctx = config.RunContext(folder=tmp_path / "run", exports=tmp_path / "run" / "exports",
                            results=tmp_path / "run" / "results.json")
    path = cfg.model_copy(update={"run": ctx}).write(tmp_path / "run" / "config.json")
    back = config.load("acme", "2026-10", resolved=str(path))
    assert back.definitions.churn_inactivity_days == 60 and back.run.exports == ctx.exports
    assert back.settings_digest == cfg.settings_digest        # the run context is not a setting
    with pytest.raises(ConfigError, match="not 'other'"):
        config.load("other", "2026-10", resolved=str(path))
    with pytest.raises(ConfigError, match="period 2026-10, not 2026-09"):
        config.load("acme", "2026-09", resolved=str(path))


@pytest.mark.parametrize("entry, key, says", [
    ("columns: {order_id: no}", "columns", "the value of order_id was read as false (an unquoted no or off)"),
    ("event_types: {yes: purchase}", "event_types", "the name yes (or on) in 'yes: purchase' was read as true"),
    ("values: {payment_status: {off: cancelled}}", "values", "the name no (or off) in 'no: cancelled'"),
    ("sheet: on", "sheet", "the value was read as true"),
])
def test_yaml_booleans_in_a_mapping_are_explained(tmp_path, entry, key, says):
    msg = load_error(make_root(tmp_path, {"acme": MINIMAL.replace("orders: {file: orders.csv}",
                                                                  f"orders: {{file: orders.csv, {entry}}}")}))
    assert "put the name in quotes" in msg and f"data.tables.orders.{key}" in msg
    assert says in msg


def test_yaml_python_tag_is_refused_as_unsafe(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL + "name: !!python/object/apply:os.system ['echo hi']\n"})
    text = load_error(root)
    assert "unsafe YAML tag '!!python/object/apply:os.system' at line 6" in text
    assert "syntax error" not in text
    assert "write the value itself" in text


def test_other_yaml_tag_is_refused_as_unsupported(tmp_path):
    text = load_error(make_root(tmp_path, {"acme": MINIMAL + "name: !Ref client_name\n"}))
    assert "unsupported YAML tag '!Ref'" in text


@pytest.mark.parametrize("entry, match", [
    ("header_row: 0", "header_row"),
    ("skip_rows: -1", "skip_rows"),
    ("time_zones: {IST: India}", "neither an IANA time zone"),
])
def test_table_reading_settings_are_checked(tmp_path, entry, match):
    text = load_error(make_root(tmp_path, {"acme": MINIMAL.replace("orders: {file: orders.csv}",
                                                                   f"orders: {{file: orders.csv, {entry}}}")}))
    assert match in text and "data.tables.orders" in text


def test_table_reading_settings_are_read(tmp_path):
    root = make_root(tmp_path, {"acme": MINIMAL.replace(
        "orders: {file: orders.csv}",
        "orders: {file: orders.xlsx, header_row: 3, skip_rows: 1, time_zones: {CST: Asia/Shanghai, IST: '+05:30'}}")})
    t = config.load("acme", "2026-10", root=root).data.tables["orders"]
    assert (t.header_row, t.skip_rows, t.time_zones) == (3, 1, {"CST": "Asia/Shanghai", "IST": "+05:30"})
