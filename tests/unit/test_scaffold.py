"""journeykit new-client: the client file it writes, and what it refuses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from journeykit.core import config
from journeykit.data import loader as io
from journeykit import scaffold
from journeykit.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "params").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    return root


def test_new_client_file_loads_as_a_valid_config(root):
    path = scaffold.new_client(root, "acme")
    assert path == root / "params" / "clients" / "acme.yaml"
    cfg = config.load("acme", "2026-10", root=root)
    assert (cfg.name, cfg.language, cfg.currency, cfg.timezone) == ("acme", "en", "USD", "UTC")
    assert cfg.data.source == "data/acme"
    assert list(cfg.data.tables) == ["orders"]
    orders = cfg.data.tables["orders"]
    assert orders.file == "orders.csv"
    assert orders.columns == {"customer_id": "customer_id", "ordered_at": "ordered_at", "amount": "amount"}
    assert cfg.definitions.churn_inactivity_days == 90


def test_the_templates_payment_status_example_loads_when_uncommented(root):
    path = scaffold.new_client(root, "acme")
    text = path.read_text(encoding="utf-8")
    for line in ("values:", "payment_status:"):
        assert f"# {line}" in text or f"#   {line}" in text
    text = text.replace("      # values:", "      values:").replace("      #   payment_status:", "        payment_status:")
    path.write_text(text, encoding="utf-8")
    orders = config.load("acme", "2026-10", root=root).data.tables["orders"]
    assert orders.values == {"payment_status": {"결제완료": "paid", "결제실패": "failed", "환불": "refunded"}}


def test_korean_client_with_a_name_that_needs_quoting(root):
    name = '카페 "서울": 본점 #1 \\ 2호'
    scaffold.new_client(root, "seoul-cafe", name=name, language="ko")
    cfg = config.load("seoul-cafe", "2026-10", root=root)
    assert cfg.name == name                               # quotes, colon, '#', backslash survive YAML
    assert (cfg.language, cfg.currency, cfg.timezone) == ("ko", "KRW", "Asia/Seoul")


def test_written_file_is_commented_yaml_with_only_known_keys(root):
    text = scaffold.new_client(root, "acme").read_text(encoding="utf-8")
    assert text.lstrip().startswith("# acme: journeykit client file")
    data = yaml.safe_load(text)
    assert set(data) == {"name", "currency", "timezone", "language", "data", "definitions"}


def test_scaffolded_client_loads_a_canonical_export(root):
    # The template's mapping works as written for an export with canonical names.
    scaffold.new_client(root, "acme")
    data = root / "data" / "acme"
    data.mkdir(parents=True)
    (data / "orders.csv").write_bytes(b"customer_id,ordered_at,amount\nc1,2026-10-01,10\nc2,2026-10-02,15\n")
    with io.load(config.load("acme", "2026-10", root=root)) as ds:
        assert ds.report.tables["orders"].rows_loaded == 2
        assert ds.table("orders").amount.sum().to_pyarrow().as_py() == 25.0   # 10 + 15


def test_refuses_to_overwrite(root):
    path = scaffold.new_client(root, "acme")
    path.write_text(path.read_text(encoding="utf-8") + "# my edits\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        scaffold.new_client(root, "acme", name="Other")
    assert "params/clients/acme.yaml already exists" in str(info.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("bad", ["Acme", "../evil", "", "a b", "-acme"])
def test_refuses_invalid_client_names(root, bad):
    with pytest.raises(ConfigError, match="not valid"):
        scaffold.new_client(root, bad)
    clients = root / "params" / "clients"
    assert not clients.exists() or list(clients.iterdir()) == []
