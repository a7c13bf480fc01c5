"""Report text in the client's language (``en`` or ``ko``).

Every string a report shows that is not in a notebook's own markdown comes
from here, so a Korean report is Korean throughout.
"""

from __future__ import annotations

LANGUAGES = ("en", "ko")

TEXT: dict[str, dict[str, str]] = {
    # report frame
    "report_title": {"en": "Customer journey report", "ko": "고객 여정 리포트"},
    "period": {"en": "Period", "ko": "기간"},
    "comparison": {"en": "compared with {prev}", "ko": "비교 기간: {prev}"},
    "generated": {"en": "Generated {when}", "ko": "생성일 {when}"},
    "data_through": {"en": "Data through {date}", "ko": "데이터 기준일 {date}"},
    "data_through_partial": {"en": "Data through {date}: a partial month", "ko": "데이터 기준일 {date}: 일부 기간만 포함"},
    "contents": {"en": "Contents", "ko": "목차"},
    "sections": {"en": "Sections", "ko": "섹션"},
    "status_ok": {"en": "ready", "ko": "완료"},
    "status_not_available": {"en": "not available", "ko": "데이터 없음"},
    "status_failed": {"en": "failed", "ko": "실패"},
    "download_pdf": {"en": "Download the full report (PDF)", "ko": "전체 리포트 다운로드 (PDF)"},
    "analyst_notebooks": {"en": "Analyst notebooks (with code)", "ko": "분석용 노트북 (코드 포함)"},
    "back_to_index": {"en": "All sections", "ko": "전체 섹션"},
    "not_available_title": {"en": "Not available for this client", "ko": "이 고객사에는 제공되지 않는 섹션입니다"},
    "not_available_body": {
        "en": "This section needs the {tables} table(s), which {client} has not supplied. Add the export and its mapping to the client file to enable it.",
        "ko": "이 섹션에는 {tables} 테이블이 필요하지만 {client}에서 제공되지 않았습니다. 데이터를 추가하고 고객사 설정 파일에 매핑하면 표시됩니다.",
    },
    "failed_title": {"en": "This section could not be produced", "ko": "이 섹션을 생성하지 못했습니다"},
    "failed_body": {
        "en": "An error stopped this section: {error}. The other sections are unaffected; the analyst notebook has the details.",
        "ko": "오류로 이 섹션이 중단되었습니다: {error}. 다른 섹션에는 영향이 없으며, 자세한 내용은 분석용 노트북에 있습니다.",
    },
    "key_figures": {"en": "Key figures", "ko": "주요 지표"},
    # period over period
    "col_kpi": {"en": "KPI", "ko": "지표"},
    "col_this_period": {"en": "{period}", "ko": "{period}"},
    "col_change": {"en": "Change", "ko": "변화"},
    "col_significance": {"en": "Significance", "ko": "유의성"},
    "col_last_year": {"en": "{period}", "ko": "{period}"},
    "sig_significant": {"en": "significant (p {p}, q {q})", "ko": "유의함 (p {p}, q {q})"},
    "sig_too_small": {"en": "real but small (p {p}, q {q})", "ko": "유의하나 작은 변화 (p {p}, q {q})"},
    "sig_not_significant": {"en": "not significant (p {p}, q {q})", "ko": "유의하지 않음 (p {p}, q {q})"},
    "sig_too_little_data": {"en": "too little data", "ko": "데이터 부족"},
    "sig_untested": {"en": "–", "ko": "–"},
    "verdict_significant": {"en": "significant", "ko": "유의함"},
    "verdict_too_small": {"en": "real but small", "ko": "유의하나 작은 변화"},
    "verdict_not_significant": {"en": "not significant", "ko": "유의하지 않음"},
    "verdict_too_little_data": {"en": "too little data", "ko": "데이터 부족"},
    "verdict_untested": {"en": "not tested", "ko": "검정 없음"},
    "sig_untested_bought": {"en": "bought: not tested", "ko": "구매량: 검정 대상 아님"},
    "sig_untested_stock": {"en": "a stock: not tested", "ko": "누적 규모: 검정 대상 아님"},
    "sig_untested_no_earlier_data": {"en": "no earlier data", "ko": "이전 데이터 없음"},
    "prev_no_data": {"en": "no data", "ko": "데이터 없음"},
    "pp": {"en": "{sign}{x} pp", "ko": "{sign}{x}%p"},
    "per_day_delta": {"en": "{delta} per day", "ko": "일평균 {delta}"},
    "per_day_label": {"en": "{label} per day", "ko": "일평균 {label}"},
    "change_up_sig": {"en": "{label} rose from {prev} to {value} ({delta}); the change is significant.",
                      "ko": "{label} {delta} 상승 ({prev} → {value}), 통계적으로 유의합니다."},
    "change_down_sig": {"en": "{label} fell from {prev} to {value} ({delta}); the change is significant.",
                        "ko": "{label} {delta} 하락 ({prev} → {value}), 통계적으로 유의합니다."},
    "change_flat_sig": {"en": "{label} stayed at {value}; the test still finds a difference, too small to show.",
                        "ko": "{label}은(는) {value}(으)로 같지만, 표시되지 않는 작은 차이가 검정에서 확인됩니다."},
    "change_up_small": {"en": "{label} rose from {prev} to {value} ({delta}): a real change, but below the {min} "
                              "that counts as meaningful.",
                        "ko": "{label} {delta} 상승 ({prev} → {value}): 실제 변화이지만 의미 있는 변화의 기준({min})에 "
                              "못 미칩니다."},
    "change_down_small": {"en": "{label} fell from {prev} to {value} ({delta}): a real change, but below the {min} "
                                "that counts as meaningful.",
                          "ko": "{label} {delta} 하락 ({prev} → {value}): 실제 변화이지만 의미 있는 변화의 기준({min})에 "
                                "못 미칩니다."},
    "change_flat_small": {"en": "{label} stayed at {value}.", "ko": "{label}은(는) {value}(으)로 변화가 없습니다."},
    "change_untested": {"en": "{label} moved from {prev} to {value} ({delta}).",
                        "ko": "{label}: {prev} → {value} ({delta})."},
    "changes_none_sig": {"en": "No other change is statistically significant: {labels}.",
                         "ko": "그 밖의 변화는 통계적으로 유의하지 않습니다: {labels}."},
    "changes_all_none_sig": {"en": "None of the changes since {prev_period} is statistically significant.",
                             "ko": "{prev_period} 대비 통계적으로 유의한 변화는 없습니다."},
    "changes_too_little": {"en": "Too little data to judge the change in: {labels}.",
                           "ko": "데이터가 부족해 변화를 판단할 수 없는 지표: {labels}."},
    "min_effect_relative": {"en": "{x} change", "ko": "{x} 변화"},
    "min_effect_absolute": {"en": "{x}", "ko": "{x}"},
    "min_effect_or": {"en": "{a} or {b}", "ko": "{a} 또는 {b}"},
    "judged_section": {
        "en": "How these verdicts are judged: over this section's {m} tests only (Benjamini–Hochberg, q ≤ {fdr}), "
              "and a change must also reach its minimum meaningful size; the full report judges the tests of all "
              "sections together, so a verdict here may differ from the report's.",
        "ko": "판정 기준: 이 섹션의 검정 {m}개만을 대상으로 다중 비교를 보정하고(Benjamini–Hochberg, q ≤ {fdr}), "
              "변화가 최소 의미 크기에도 도달해야 유의합니다. 전체 리포트는 모든 섹션의 검정을 함께 보정하므로 "
              "여기의 판정과 다를 수 있습니다."},
    "judged_report": {
        "en": "How these verdicts are judged: over all {m} tests of this report together (Benjamini–Hochberg, "
              "q ≤ {fdr}), and a change must also reach its minimum meaningful size.",
        "ko": "판정 기준: 이 리포트의 검정 {m}개 전체를 함께 보정하고(Benjamini–Hochberg, q ≤ {fdr}), "
              "변화가 최소 의미 크기에도 도달해야 유의합니다."},
    "advice_heading": {"en": "What this suggests", "ko": "시사점"},
    "other_group": {"en": "other", "ko": "기타"},
    # data quality
    "col_table": {"en": "Table", "ko": "테이블"},
    "col_source": {"en": "Source", "ko": "원본"},
    "col_format": {"en": "Format", "ko": "형식"},
    "col_encoding": {"en": "Encoding", "ko": "인코딩"},
    "col_rows_read": {"en": "Rows read", "ko": "읽은 행"},
    "col_rows_loaded": {"en": "Rows loaded", "ko": "적재된 행"},
    "source_derived": {"en": "derived from {tables}", "ko": "{tables}에서 생성"},
    "col_rows_in_scope": {"en": "Up to period end", "ko": "기간 말까지의 행"},
    "col_rows_after": {"en": "After period end (unused)", "ko": "기간 이후 행 (미사용)"},
    "col_first": {"en": "First", "ko": "시작"},
    "col_last": {"en": "Last", "ko": "끝"},
    "col_status": {"en": "Status", "ko": "상태"},
    "col_check": {"en": "Check", "ko": "검사"},
    "col_column": {"en": "Column", "ko": "컬럼"},
    "col_result": {"en": "Result", "ko": "결과"},
    "col_repair": {"en": "Repair", "ko": "보정"},
    "col_rows": {"en": "Rows", "ko": "행 수"},
    "col_why": {"en": "Why it is safe", "ko": "안전한 이유"},
    "col_canonical": {"en": "Canonical column", "ko": "표준 컬럼"},
    "col_client_column": {"en": "Client column", "ko": "고객사 컬럼"},
    "col_renamed": {"en": "Mapped from the client's names (canonical ← client)", "ko": "고객사 컬럼에서 매핑 (표준 ← 고객사)"},
    "col_same_name": {"en": "Same name as canonical", "ko": "표준과 같은 이름"},
    "col_event_type": {"en": "Event name", "ko": "이벤트 이름"},
    "col_events": {"en": "Events", "ko": "이벤트 수"},
    "col_dropped": {"en": "Not loaded", "ko": "적재하지 않음"},
    "col_reason": {"en": "Reason", "ko": "사유"},
    "col_month": {"en": "Month", "ko": "월"},
    "col_section": {"en": "Section", "ko": "섹션"},
    "col_needs": {"en": "Needs", "ko": "필요한 테이블"},
    "reason_pii": {"en": "personal data (PII): never loaded", "ko": "개인정보(PII): 적재하지 않음"},
    "reason_unused": {"en": "not part of the data contract", "ko": "데이터 계약에 없는 컬럼"},
    "result_passed": {"en": "passed", "ko": "통과"},
    "result_failed": {"en": "{n} rows failed", "ko": "{n}행 실패"},
    "result_repaired": {"en": "{n} rows repaired", "ko": "{n}행 보정"},
    "table_loaded": {"en": "loaded", "ko": "적재됨"},
    "table_empty": {"en": "header only: treated as not supplied", "ko": "헤더만 있음: 미제공으로 처리"},
    "table_derived": {"en": "derived", "ko": "파생됨"},
    "table_missing": {"en": "not supplied", "ko": "미제공"},
    "no_repairs": {"en": "No rows needed repair.", "ko": "보정이 필요한 행이 없었습니다."},
    "no_unmapped": {"en": "Every event name maps to a canonical event type.", "ko": "모든 이벤트 이름이 표준 이벤트 유형에 매핑되었습니다."},
    "no_events": {"en": "No events table: event mapping does not apply.", "ko": "이벤트 테이블이 없어 이벤트 매핑은 해당되지 않습니다."},
    "nothing_dropped": {"en": "Every column in the exports was used.", "ko": "원본의 모든 컬럼이 사용되었습니다."},
    "all_tables_supplied": {"en": "Every canonical table was supplied.", "ko": "모든 표준 테이블이 제공되었습니다."},
    "dq_in_place": {
        "en": "The data was checked and is queried where it lives, in the client's database: no row was copied "
              "to the machine that made this report.",
        "ko": "데이터는 고객사 데이터베이스 안에서 검사하고 조회했습니다. 이 리포트를 만든 서버로 복사된 행은 없습니다.",
    },
    "tables_missing": {
        "en": "Not supplied: {tables}. Sections that need them say so instead of showing numbers.",
        "ko": "미제공 테이블: {tables}. 이 테이블이 필요한 섹션은 수치 대신 안내 문구를 표시합니다.",
    },
    # repairs (io.Repair.kind)
    "repair_generated_id": {"en": "generated {detail}", "ko": "{detail} 생성"},
    "repair_generated_id_why": {"en": "the export has no {detail}: each row is taken as one record",
                                "ko": "원본에 {detail}이(가) 없어 각 행을 하나의 레코드로 간주"},
    "repair_missing_required": {"en": "dropped rows missing a required value", "ko": "필수 값이 없는 행 제외"},
    "repair_missing_required_why": {
        "en": "a row without {detail} cannot be placed in time or attributed; the count is shown so a large one is noticed",
        "ko": "{detail} 값이 없는 행은 시점이나 고객을 알 수 없음. 많을 경우 눈에 띄도록 건수를 표시"},
    "repair_exact_duplicates": {"en": "dropped exact duplicate rows", "ko": "완전히 동일한 중복 행 제외"},
    "repair_exact_duplicates_why": {"en": "the same record exported twice (same id, same values): one copy is kept",
                                    "ko": "같은 레코드가 두 번 내보내짐(같은 ID, 같은 값): 하나만 유지"},
    "repair_unknown_customers": {"en": "added customers found only in other tables",
                                 "ko": "다른 테이블에만 있는 고객 추가"},
    "repair_unknown_customers_why": {
        "en": "their activity is real; they are added with signup = first activity (customer exports usually lag)",
        "ko": "실제 활동이 있는 고객이므로 첫 활동일을 가입일로 하여 추가 (고객 명단은 대개 늦게 갱신됨)"},
    "repair_visitor_orders": {"en": "orders attributed to a visitor id", "ko": "방문자 ID로 귀속한 주문"},
    "repair_visitor_orders_why": {
        "en": "purchase events without a customer id (before a login) are orders of their visitor; dropping them would understate orders and revenue",
        "ko": "고객 ID가 없는(로그인 전) 구매 이벤트는 해당 방문자의 주문으로 봄. 제외하면 주문과 매출이 과소 집계됨"},
    "repair_masked_personal_data": {"en": "masked personal data in {detail}", "ko": "{detail}의 개인정보 가림"},
    "repair_masked_personal_data_why": {
        "en": "e-mail addresses, phone numbers and URL query strings in names are never shown",
        "ko": "이름에 들어 있는 이메일 주소, 전화번호, URL 쿼리 문자열은 표시하지 않습니다"},
    "repair_empty_table": {"en": "header-only file", "ko": "헤더만 있는 파일"},
    "repair_empty_table_why": {"en": "no rows: the table is treated as not supplied",
                               "ko": "행이 없어 미제공 테이블로 처리"},
    # checks (io.Check.check)
    "check_unique": {"en": "{column} is unique", "ko": "{column} 중복 없음"},
    "check_known_customer": {"en": "every customer in other tables is in customers",
                             "ko": "다른 테이블의 모든 고객이 고객 테이블에 있음"},
    "check_greater_than_or_equal_to": {"en": "{column} ≥ 0", "ko": "{column} ≥ 0"},
    "check_isin": {"en": "{column} is a whole number 0–10", "ko": "{column}은(는) 0–10 정수"},
    "check_in_range": {"en": "{column} is between 1 and 5", "ko": "{column}은(는) 1–5 사이"},
    "check_clicks_le_impressions": {"en": "clicks ≤ impressions", "ko": "클릭 수 ≤ 노출 수"},
    "check_not_before": {"en": "{later} is not before {earlier}", "ko": "{later}이(가) {earlier}보다 이르지 않음"},
    "chart_rows_per_month": {"en": "Rows per month by table", "ko": "테이블별 월간 행 수"},
    "axis_rows": {"en": "Rows (log scale)", "ko": "행 수 (로그 스케일)"},
}

TABLE_NAMES = {
    "customers": {"en": "customers", "ko": "고객"},
    "marketing": {"en": "marketing", "ko": "마케팅"},
    "events": {"en": "events", "ko": "이벤트"},
    "orders": {"en": "orders", "ko": "주문"},
    "subscriptions": {"en": "subscriptions", "ko": "구독"},
    "tickets": {"en": "support tickets", "ko": "상담 티켓"},
    "surveys": {"en": "surveys", "ko": "설문"},
    "messages": {"en": "messages", "ko": "메시지"},
    "experiments": {"en": "experiments", "ko": "실험"},
}


def register(texts: dict[str, dict[str, str]]) -> None:
    """Add a module's texts (each key with ``en`` and ``ko``) to :data:`TEXT`.

    Section modules keep their labels next to their metrics and register
    them at import. A key registered twice with different text is a bug.
    """
    for key, entry in texts.items():
        if set(entry) != set(LANGUAGES):
            raise ValueError(f"text {key!r} needs exactly {LANGUAGES}, has {sorted(entry)}")
        if key in TEXT and TEXT[key] != entry:
            raise ValueError(f"text {key!r} is already registered with other wording")
        TEXT[key] = entry


_PARTICLES = {
    # placeholder → (after a final consonant, after a vowel, after ㄹ)
    "(으)로": ("으로", "로", "로"),
    "을(를)": ("을", "를", "을"),
    "이(가)": ("이", "가", "이"),
    "은(는)": ("은", "는", "은"),
    "와(과)": ("과", "와", "과"),
    "과(와)": ("과", "와", "과"),
    "(이)": ("이", "", "이"),
}
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ", "9": ""}
"""The final consonant of each digit read in Sino-Korean (영, 일, 이, 삼 …)."""
_LATIN_FINAL = {"l": "ㄹ", "r": "ㄹ", "m": "ㅁ", "n": "ㄴ"}
"""Latin letters whose Korean reading ends in a consonant (엘, 알, 엠, 엔); the others end in a vowel."""
_WORD_FINAL = {"k": "ㄱ", "g": "ㄱ", "c": "ㄱ", "l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "p": "ㅂ", "b": "ㅂ"}
"""Final letters of an English word whose Korean reading ends in a consonant."""
_CLOSERS = ")]}'\"’”»」』"
_PARTICLE_RE = None


def final_consonant(word: str) -> str:
    """The final consonant (받침) the last sound of ``word`` ends in, as a
    jamo (``"ㄱ"`` … ``"ㅎ"``), or ``""`` when it ends in a vowel. Hangul
    syllables are decomposed; digits are read in Sino-Korean (1 일, 3 삼);
    an acronym or a single Latin letter by the letters' Korean names (L 엘,
    M 엠, N 엔, R 알; others end in a vowel: NBD 엔비디); an English word as
    it is borrowed (big 빅, plan 플랜, email 이메일, test 테스트); closing quotes and brackets are skipped, and a trailing
    ``%`` reads 퍼센트 (a vowel)."""
    w = word.rstrip().rstrip(_CLOSERS)
    if not w:
        return ""
    ch = w[-1]
    if "가" <= ch <= "힣":
        jong = (ord(ch) - 0xAC00) % 28
        return "" if jong == 0 else "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"[jong - 1]
    if ch.isdigit():
        return _DIGIT_FINAL.get(ch, "")
    if ch.isascii() and ch.isalpha():
        i = len(w)
        while i and w[i - 1].isascii() and w[i - 1].isalpha():
            i -= 1
        run = w[i:]
        if len(run) >= 2 and not run.isupper():
            # an English word, read as Koreans borrow it: big 빅, team 팀, plan 플랜, email 이메일,
            # ring 링, shop 숍; a final t, s, d, e, r … takes a vowel (test 테스트, user 유저)
            low = run.lower()
            if low.endswith("ng"):
                return "ㅇ"
            return _WORD_FINAL.get(low[-1], "")
        return _LATIN_FINAL.get(ch.lower(), "")
    return ""


def particles(text: str) -> str:
    """``text`` with each Korean particle placeholder — ``(으)로``,
    ``을(를)``, ``이(가)``, ``은(는)``, ``와(과)``, ``(이)`` — replaced by the
    form the preceding word takes (:func:`final_consonant`): "이탈
    고객(으)로" → "이탈 고객으로", "챔피언(으)로" → "챔피언으로", "파일(으)로"
    → "파일로", "BG/NBD이(가)" → "BG/NBD가". A placeholder at the start of
    the text or after a space is left as it is."""
    import re

    global _PARTICLE_RE
    if _PARTICLE_RE is None:
        _PARTICLE_RE = re.compile("(?<=\\S)(" + "|".join(re.escape(p) for p in _PARTICLES) + ")")

    def pick(m):
        cons, vowel, rieul = _PARTICLES[m.group(1)]
        final = final_consonant(m.string[:m.start()])
        return vowel if not final else (rieul if final == "ㄹ" else cons)

    return _PARTICLE_RE.sub(pick, text)


def t(key: str, language: str = "en", **values: object) -> str:
    """The text for ``key`` in ``language``, with ``{placeholders}`` filled.

    Falls back to English when a Korean text is missing, and raises
    ``KeyError`` for an unknown key (a test checks every key has both).
    """
    # Fix (tests/unit/test_i18n.py::test_unknown_language_is_rejected_clearly):
    # any other language (a typo such as "kr") silently produced English.
    if language not in LANGUAGES:
        raise ValueError(f"unknown report language {language!r}: use one of {', '.join(LANGUAGES)}")
    entry = TEXT[key]
    text = entry.get(language) or entry["en"]
    text = text.format(**values) if values else text
    # Korean particles after a filled-in word are chosen from its last sound
    return particles(text) if language == "ko" else text


def check_label(check: str, column: str | None, language: str = "en") -> str:
    """Words for a load-time check (see ``journeykit.data.loader.Check``)."""
    if "_not_before_" in check:
        later, earlier = check.split("_not_before_", 1)
        return t("check_not_before", language, later=later, earlier=earlier)
    key = f"check_{check}"
    if key in TEXT:
        return t(key, language, column=column or "")
    return f"{column}: {check}" if column else check


def table_name(table: str, language: str = "en") -> str:
    """A canonical table's display name."""
    return TABLE_NAMES.get(table, {}).get(language, table)
