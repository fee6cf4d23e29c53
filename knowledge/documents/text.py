"""Joining text the way Japanese wraps: no space between two Japanese characters, one between words."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def join_lines(parts: Iterable[str]) -> str:
    """「市民」 + 「の割合」 → 「市民の割合」; 「DX」 + 「推進」 → 「DX推進」; 「a」 + 「plan」 → 「a plan」."""
    text = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if text and not (is_wide(text[-1]) or is_wide(part[0])):
            text += " "
        text += part
    return text


def squash(text: str) -> str:
    """A cell's text on one line: wrapped lines joined, runs of spaces made one, no space between Japanese."""
    joined = join_lines(text.splitlines())
    out: list[str] = []
    for i, char in enumerate(joined):
        if char.isspace():
            before = joined[i - 1] if i else ""
            after = joined[i + 1] if i + 1 < len(joined) else ""
            if not before or not after or (is_wide(before) and is_wide(after)) or (out and out[-1] == " "):
                continue
            char = " "
        out.append(char)
    return "".join(out).strip()


def is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")
