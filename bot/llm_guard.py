"""The citation guard: pure checks deciding whether an LLM's answer may replace the extractive one.

An LLM answer is kept only when it cites at least one node it was given, gives no number that is not in
its context or the question, and does not refuse a question the core decided the plan answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from typing import Literal

FallbackReason = Literal["no_valid_citations", "invented_number", "contradicts_decision", "timeout", "error"]

# A bracket group such as [3.2.2] or [3.2.2, vision]; full-width brackets are normalised first.
_BRACKET = re.compile(r"\[([^\[\]\n]{1,80})\]")
_ID = re.compile(r"^(?:\d+(?:\.\d+){0,2}|plan|vision|viewpoints|challenges|enablers\.\d+|schedule)$")
_ID_SEPARATORS = re.compile(r"[,、，;；/\s]+")
_DIGITS = re.compile(r"\d+")
# Amounts written in kanji numerals ("三十億円", "五割") carry no ASCII digit but are still figures.
_KANJI_AMOUNT = re.compile(r"[一二三四五六七八九十][〇一二三四五六七八九十百千万億兆]*(?:円|%|パーセント|割)")
_REFUSAL = re.compile(
    r"記載(は|が)?(あり|ござい)ません|書かれていません|含まれていません|お答え(でき|いたしかね)ません"
    r"|回答(でき|いたしかね)ません|わかりません|分かりません|情報がありません"
    r"|\bI (cannot|can't|am unable to|could not|couldn't) (answer|find|help)"
    r"|\b(does|do) not (mention|cover|contain|say)|\bnot (mentioned|covered) in\b|\bno information\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s|\n")


def normalise(text: str) -> str:
    """NFKC, so that ［３．２．２］ and 施策② compare equal to [3.2.2] and 施策2."""
    return unicodedata.normalize("NFKC", text)


def _group_ids(group: str) -> list[str]:
    return [token for token in _ID_SEPARATORS.split(group.strip()) if _ID.match(token)]


def cited_ids(text: str) -> list[str]:
    """Every plan id the text cites in square brackets, first occurrence order, without duplicates."""
    found: list[str] = []
    for match in _BRACKET.finditer(normalise(text)):
        for node_id in _group_ids(match.group(1)):
            if node_id not in found:
                found.append(node_id)
    return found


def valid_ids(cited: Iterable[str], allowed: Collection[str]) -> list[str]:
    """The cited ids that were among the nodes given to the model, in citation order."""
    return [node_id for node_id in cited if node_id in allowed]


def strip_invalid_citations(text: str, allowed: Collection[str]) -> str:
    """The text with every cited id the model was not given removed; emptied brackets disappear."""

    def keep(match: re.Match[str]) -> str:
        ids = _group_ids(match.group(1))
        if not ids:
            return match.group(0)  # not a citation (e.g. a bracketed word): leave it alone
        kept = [node_id for node_id in ids if node_id in allowed]
        return f"[{', '.join(kept)}]" if kept else ""

    cleaned = _BRACKET.sub(keep, normalise_brackets(text))
    cleaned = re.sub(r"[ \t]+([。、.,!?！？])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def lead_of(text: str, sentences: int = 2) -> str:
    """The first sentences of a model answer, without its citation brackets: what a citizen reads first."""
    plain = strip_invalid_citations(text, ())
    parts = [p.strip() for p in re.split(r"(?<=[。！？!?])|(?<=\.)\s|\n", plain) if p and p.strip()]
    return "".join(p if p.endswith(("。", "！", "？")) else f"{p} " for p in parts[:sentences]).strip()


def normalise_brackets(text: str) -> str:
    """Full-width brackets to ASCII, leaving the rest of the text as the model wrote it."""
    return text.replace("［", "[").replace("］", "]")


def invented_numbers(text: str, *sources: str) -> list[str]:
    """Figures in the text that appear in none of the sources (the context given to the model, the question).

    Citation brackets are ignored: whether their ids are real is the citation check's business.
    """
    body = _BRACKET.sub(" ", normalise(text))
    source = normalise("\n".join(sources))
    known = set(_DIGITS.findall(source))
    invented = [number for number in _DIGITS.findall(body) if number not in known]
    invented += [amount for amount in _KANJI_AMOUNT.findall(body) if amount not in source]
    return list(dict.fromkeys(invented))


def is_refusal(text: str, anywhere: bool = False) -> bool:
    """Does the model say the plan does not answer the question?

    By default only the opening sentence counts: a grounded answer may well add that budgets are not
    in the plan.
    """
    body = normalise(text).strip()
    if not anywhere:
        body = _SENTENCE_END.split(body, maxsplit=1)[0]
    return bool(_REFUSAL.search(body))


def judge(text: str, allowed: Collection[str], sources: Iterable[str], answerable: bool = True
          ) -> tuple[FallbackReason | None, list[str]]:
    """The guard's verdict on one model answer: (reason to fall back or None, the valid cited ids)."""
    valid = valid_ids(cited_ids(text), allowed)
    if answerable and is_refusal(text, anywhere=not valid):
        return "contradicts_decision", valid
    if not valid:
        return "no_valid_citations", valid
    if invented_numbers(text, *sources):
        return "invented_number", valid
    return None, valid
