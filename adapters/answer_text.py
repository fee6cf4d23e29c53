"""Answer text as channels show it: staff without the citizen disclaimer and switchboard; siblings named once.

Pure functions over the core's text. The core writes for citizens; staff already know whom to call,
and a list of several measures should not repeat 「同じ政策には、ほかに…」 under every item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_DISCLAIMER_START = ("※", "Note: concrete projects")
_SIBLINGS_JA = re.compile(r"^\s*同じ政策には、ほかに(?P<names>.+)があります。\s*$")
_SIBLINGS_EN = re.compile(r"^\s*Other measures of the same policy: (?P<names>.+)$")
_NAME = re.compile(r"「([^」]+)」")
_SENTENCE = re.compile(r"[^。．.!?！？]*[。．.!?！？]?")


def _without_contact(paragraph: str, contacts: Sequence[str]) -> str:
    """The paragraph with every sentence that points to a contact removed."""
    if not any(c and c in paragraph for c in contacts):
        return paragraph
    kept = [s for s in _SENTENCE.findall(paragraph) if s and not any(c and c in s for c in contacts)]
    return "".join(kept).strip()


def staff_text(text: str, contacts: Iterable[str]) -> str:
    """`text` without the 「※ 主な取組…」 disclaimer and without the sentences naming `contacts`."""
    names = [c for c in contacts if c]
    paragraphs = []
    for paragraph in text.split("\n\n"):
        if paragraph.lstrip().startswith(_DISCLAIMER_START):
            continue
        kept = _without_contact(paragraph, names)
        if kept:
            paragraphs.append(kept)
    return "\n\n".join(paragraphs) or text


def siblings_once(text: str, listed_titles: Iterable[str]) -> str:
    """Sibling lines of a multi-measure answer: measures already listed are not named again, and each
    remaining sibling line appears once."""
    titles = [t for t in listed_titles if t]
    seen: set[str] = set()
    lines = []
    for line in text.split("\n"):
        match = _SIBLINGS_JA.match(line) or _SIBLINGS_EN.match(line)
        if match is None:
            lines.append(line)
            continue
        others = [n for n in _NAME.findall(match.group("names")) if not any(n.endswith(t) for t in titles)]
        if not others:
            continue
        names = "、".join(f"「{n}」" for n in others)
        rewritten = (f"同じ政策には、ほかに{names}があります。" if _SIBLINGS_JA.match(line)
                     else f"Other measures of the same policy: {names}")
        if rewritten not in seen:
            seen.add(rewritten)
            lines.append(("　" if line.startswith("　") else "") + rewritten)
    return "\n".join(lines)
