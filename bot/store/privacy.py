"""Pseudonymous user ids and masking of personal data before anything is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from pydantic import SecretStr

_KANJI_KANA = r"[一-龥々〆ヶぁ-んァ-ヴー]"
_NUM = r"(?:\d+|[一二三四五六七八九十〇]+)"

# Order matters: the longest and most specific patterns run first.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[メール]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[マイナンバー]", re.compile(r"(?<!\d)\d{4}[ -]?\d{4}[ -]?\d{4}(?!\d)")),
    ("[郵便番号]", re.compile(r"〒\s?\d{3}-?\d{4}")),
    ("[電話番号]", re.compile(r"(?:\+81[ -]?|(?<!\d)0)\d{1,4}[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}(?!\d)")),
    ("[郵便番号]", re.compile(r"(?<![\d-])\d{3}-\d{4}(?![\d-])")),
    (
        "[住所]",
        re.compile(
            rf"{_KANJI_KANA}{{0,12}}(?:{_NUM}丁目|{_NUM}番町)\s*(?:{_NUM}(?:番地?|-)\s*)?(?:{_NUM}号?)?"
            rf"|{_KANJI_KANA}{{1,12}}(?:町|字|通り?|台|野|沢|森|浜){_NUM}(?:-{_NUM}){{1,2}}(?:号)?"
            rf"|{_KANJI_KANA}{{1,12}}{_NUM}番地(?:の?{_NUM})?"
        ),
    ),
)


def mask_personal_data(text: str) -> str:
    """Replace phone numbers, e-mail addresses, My Numbers, postal codes and street addresses.

    Full-width digits and hyphens are folded first (NFKC) so ０１７−７３４… is caught too. Names are
    not detected: a free-text name looks like any other word.
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"(?<=\d)[‐‑–—―−ｰ](?=\d)", "-", folded)
    for label, pattern in _PATTERNS:
        folded = pattern.sub(label, folded)
    return folded


def hash_user(salt: SecretStr, platform: str, raw_user_id: str | None) -> str | None:
    """A salted, keyed hash of a platform user id; the raw id is never stored or logged."""
    if not raw_user_id:
        return None
    key = salt.get_secret_value().encode("utf-8")
    digest = hmac.new(key, f"{platform}:{raw_user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]
