"""Pseudonymous customer ids: keyed, stable, not reversible without the key."""

from __future__ import annotations

import pandas as pd

from journeykit.core import privacy


def test_known_value():
    # HMAC-SHA-256(key b"secret-1", message b"C0000001"), first 16 hex digits,
    # checked once with `python -c "import hmac, hashlib; ..."`.
    assert privacy.pseudonym("C0000001", b"secret-1") == "cx_e1095a063714e6a9"


def test_same_key_same_pseudonym_other_key_other_pseudonym():
    a = privacy.pseudonym("C0000001", b"k1")
    assert a == privacy.pseudonym("C0000001", b"k1")
    assert a != privacy.pseudonym("C0000001", b"k2")
    assert a != privacy.pseudonym("C0000002", b"k1")
    assert "C0000001" not in a and a.startswith("cx_") and len(a) == 3 + 16


def test_missing_ids_stay_missing_and_numbers_match_strings():
    s = privacy.pseudonymize(["7", 7, None, float("nan")], b"k")
    assert s[0] == s[1] and s[2] is None and s[3] is None


def test_frame_keeps_other_columns(tmp_path):
    class Cfg:
        def secret(self):
            return b"k"

    df = pd.DataFrame({"customer_id": ["a", "b"], "clv": [1.0, 2.0]})
    out = privacy.pseudonymize_frame(df, Cfg())
    assert out["clv"].tolist() == [1.0, 2.0]
    assert out["customer_id"].tolist() == [privacy.pseudonym("a", b"k"), privacy.pseudonym("b", b"k")]
    assert df["customer_id"].tolist() == ["a", "b"]  # the input is not changed
