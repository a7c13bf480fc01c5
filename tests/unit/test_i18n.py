"""journeykit.core.i18n: report text in English and Korean."""

from __future__ import annotations

import re

import string
import textwrap
import shutil
from pathlib import Path

import pytest

from journeykit.core import config
from journeykit.core import i18n
from journeykit.data import schemas
from journeykit.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _import_every_module() -> None:
    """Text is registered by the modules that use it: import them all, so
    the checks below see every key whatever the test order."""
    import importlib
    import pkgutil

    import journeykit

    for mod in pkgutil.walk_packages(journeykit.__path__, "journeykit."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)


_import_every_module()


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_languages_are_en_and_ko():
    assert i18n.LANGUAGES == ("en", "ko")


@pytest.mark.parametrize("key", sorted(i18n.TEXT))
def test_every_key_has_english_and_korean(key):
    entry = i18n.TEXT[key]
    assert set(entry) == {"en", "ko"}
    assert entry["en"].strip() and entry["ko"].strip()


@pytest.mark.parametrize("key", sorted(i18n.TEXT))
def test_placeholders_agree_between_languages(key):
    entry = i18n.TEXT[key]
    assert placeholders(entry["en"]) == placeholders(entry["ko"])
    # and both fill without error, every value landing in the text (a
    # field with a number format gets a number)
    specs = {f: spec for text in entry.values() for _, f, spec, _ in string.Formatter().parse(text) if f}
    values = {p: (1234.5 if specs.get(p) else f"<{p}>") for p in placeholders(entry["en"])}
    for lang in i18n.LANGUAGES:
        filled = i18n.t(key, lang, **values)
        assert all(f"<{p}>" in filled for p, v in values.items() if isinstance(v, str))


def test_placeholder_helper_sees_every_field():
    # The check above is only as good as this parser.
    assert placeholders("{a} and {b:,} but not {{c}}") == {"a", "b"}
    assert placeholders("no fields") == set()


def has_hangul(s: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in s)


def literal(text: str) -> str:
    return "".join(lit for lit, _, _, _ in string.Formatter().parse(text))


def test_korean_text_is_korean():
    # A Korean text is not the English one copied, nor Latin words without
    # Hangul (placeholders aside): either would pass the key check, not this.
    def words(s: str) -> bool:
        # acronyms Korean reports write in Latin letters (NPS, CTR, CAC, MAU …) are not English words
        text = re.sub(r"\b[A-Z]{2,5}\b", "", literal(s))
        return any(c.isascii() and c.isalpha() for c in text)

    allowed = {"pp"}  # "%p" is how Korean writes percentage points
    english_only = [k for k, e in i18n.TEXT.items()
                    if ((e["ko"] == e["en"] and words(e["en"])) or (words(e["ko"]) and not has_hangul(e["ko"])))
                    and k not in allowed]
    assert english_only == []
    for table, names in i18n.TABLE_NAMES.items():
        assert has_hangul(names["ko"]), table


def test_t_fills_placeholders():
    assert i18n.t("comparison", "en", prev="September 2026") == "compared with September 2026"
    assert i18n.t("comparison", "ko", prev="2026년 9월") == "비교 기간: 2026년 9월"
    assert i18n.t("result_repaired", "ko", n="1,234") == "1,234행 보정"


def test_unknown_key_raises_key_error():
    with pytest.raises(KeyError):
        i18n.t("no_such_key", "en")


@pytest.mark.parametrize("language", ["fr", "kr", "EN", ""])
def test_unknown_language_is_rejected_clearly(language):
    with pytest.raises(ValueError) as info:
        i18n.t("report_title", language)
    msg = str(info.value)
    assert repr(language) in msg and "en" in msg and "ko" in msg


def test_unknown_language_in_a_client_file_is_a_config_error(tmp_path):
    root = tmp_path / "project"
    (root / "params" / "clients").mkdir(parents=True)
    shutil.copy(REPO / "params" / "defaults.yaml", root / "params" / "defaults.yaml")
    (root / "params" / "clients" / "acme.yaml").write_text(textwrap.dedent("""
        language: fr
        data:
          source: data/acme
          tables:
            orders: {file: orders.csv}
        """), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load("acme", "2026-10", root=root)
    text = str(info.value)
    assert "language" in text and "acme.yaml" in text
    assert "'en'" in text and "'ko'" in text


def test_every_canonical_table_has_a_name_in_both_languages():
    assert set(i18n.TABLE_NAMES) == set(schemas.SCHEMAS)
    for table in schemas.SCHEMAS:
        assert set(i18n.TABLE_NAMES[table]) == {"en", "ko"}
    assert i18n.table_name("tickets", "en") == "support tickets"
    assert i18n.table_name("tickets", "ko") == "상담 티켓"


@pytest.mark.parametrize("status", ["ok", "not_available", "failed"])
def test_every_section_status_has_a_label(status):
    assert i18n.t(f"status_{status}", "en") and i18n.t(f"status_{status}", "ko")


@pytest.mark.parametrize("check, column, en, ko", [
    ("unique", "order_id", "order_id is unique", "order_id 중복 없음"),
    ("greater_than_or_equal_to", "amount", "amount ≥ 0", "amount ≥ 0"),
    ("isin", "nps", "nps is a whole number 0–10", "nps는 0–10 정수"),
    ("in_range", "csat", "csat is between 1 and 5", "csat는 1–5 사이"),
    ("clicks_le_impressions", None, "clicks ≤ impressions", "클릭 수 ≤ 노출 수"),
    ("ended_at_not_before_started_at", None, "ended_at is not before started_at", "ended_at가 started_at보다 이르지 않음"),
    ("some_new_check", "plan", "plan: some_new_check", "plan: some_new_check"),   # unknown: shown as is
])
def test_check_labels(check, column, en, ko):
    assert i18n.check_label(check, column, "en") == en
    assert i18n.check_label(check, column, "ko") == ko


def test_every_check_the_schemas_run_has_words():
    # Checks named by pandera (per column) and ours (table-wide) all map to a text key.
    names = set()
    for schema in schemas.SCHEMAS.values():
        for col in schema.columns.values():
            names |= {c.name for c in col.checks}
        names |= {c.name for c in schema.checks}
    for name in names:
        if "_not_before_" in name:
            continue
        assert f"check_{name}" in i18n.TEXT, name


def test_every_repair_kind_has_words():
    for kind in ("generated_id", "missing_required", "exact_duplicates", "unknown_customers", "empty_table"):
        assert f"repair_{kind}" in i18n.TEXT and f"repair_{kind}_why" in i18n.TEXT


def test_register_requires_both_languages_and_refuses_rewording(monkeypatch):
    monkeypatch.setattr(i18n, "TEXT", dict(i18n.TEXT))
    i18n.register({"test_hello": {"en": "Hello {who}", "ko": "{who}님 안녕하세요"}})
    assert i18n.t("test_hello", "ko", who="민수") == "민수님 안녕하세요"
    i18n.register({"test_hello": {"en": "Hello {who}", "ko": "{who}님 안녕하세요"}})   # same again: fine
    with pytest.raises(ValueError, match="test_only_en"):
        i18n.register({"test_only_en": {"en": "Only English"}})
    with pytest.raises(ValueError, match="test_hello"):
        i18n.register({"test_hello": {"en": "Hi {who}", "ko": "{who}님 안녕"}})


@pytest.mark.parametrize("raw, fixed", [
    ("이탈 고객(으)로 옮겨 갔습니다", "이탈 고객으로 옮겨 갔습니다"),    # 객: ㄱ → 으로
    ("휴면(으)로", "휴면으로"),                                            # ㄴ
    ("신규 파일(으)로", "신규 파일로"),                                      # ㄹ takes 로
    ("챔피언(으)로", "챔피언으로"),
    ("활성 고객 비율(으)로", "활성 고객 비율로"),
    ("49명(으)로", "49명으로"),
    ("12.5%(으)로", "12.5%로"),                                             # 퍼센트: a vowel
    ("3(으)로", "3으로"), ("2(으)로", "2로"), ("7(으)로", "7로"),            # 삼, 이, 칠
    ("email(으)로", "email로"), ("BG/NBD이(가)", "BG/NBD가"), ("파레토/NBD은(는)", "파레토/NBD는"),
    ("big을(를)", "big을"), ("test을(를)", "test를"), ("B이(가)", "B가"), ("B와(과) A", "B와 A"),   # 빅, 테스트, 비
    ("spring은(는)", "spring은"), ("HTML은(는)", "HTML은"), ("exp1을(를)", "exp1을"),
    ("모델을(를)", "모델을"), ("세그먼트을(를)", "세그먼트를"), ("A와(과) B", "A와 B"), ("구간와(과)", "구간과"),
    ("'휴면'(으)로", "'휴면'으로"),                                         # closing quote skipped
    ("(으)로 시작", "(으)로 시작"),                                         # nothing before: left as it is
])
def test_korean_particles_follow_the_last_sound(raw, fixed):
    assert i18n.particles(raw) == fixed


def test_korean_texts_choose_their_particles_and_english_is_untouched():
    """Regression: "이탈 고객(으)로" was printed raw in a Korean report."""
    i18n.register({"test_particle": {"en": "{n} went to {dst} (or not)", "ko": "{n}명이 {dst}(으)로 옮겨 갔습니다"}})
    assert i18n.t("test_particle", "ko", n=3, dst="이탈 고객") == "3명이 이탈 고객으로 옮겨 갔습니다"
    assert i18n.t("test_particle", "ko", n=3, dst="신규") == "3명이 신규로 옮겨 갔습니다"
    assert i18n.t("test_particle", "en", n=3, dst="churned") == "3 went to churned (or not)"
    assert i18n.final_consonant("고객") == "ㄱ" and i18n.final_consonant("고객님이") == ""
    i18n.TEXT.pop("test_particle")


def test_no_korean_text_prints_a_particle_placeholder_after_a_value():
    """Every Korean text in the package that puts a particle after a
    ``{placeholder}`` uses the placeholder form (so :func:`i18n.particles`
    picks it), never a fixed "{x}로" / "{x}을"."""
    import importlib
    import pkgutil

    import journeykit.sections as sections

    for m in pkgutil.walk_packages(sections.__path__, "journeykit.sections."):
        if m.name.split(".")[-1].startswith("view"):
            importlib.import_module(m.name)            # each view registers its texts

    bad = [k for k, v in i18n.TEXT.items() if re.search(r"\}(로|을|를|은|는|이|가)(?=[\s,.:])", v.get("ko", ""))]
    assert bad == []
