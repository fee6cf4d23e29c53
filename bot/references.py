"""Explicit references to plan nodes, read exactly: `1.4`, `1-4`, `３．２．２`, 施策3-2-2, 柱1の政策4,
仕事をつくるの政策4, 第3章第2節②, "policy 1.4". An incomplete one (政策3 with no pillar) yields every node it
may mean, so the bot can ask which.

Digits that belong to something else — an address (浜田2-5-1), a phone number, a date, a price — are never
read as ids: a bare number is an id only at the start of a message and followed by a word that asks about it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge.tree import PlanTree

_SEP = r"\s*[.\-ー－・‐−_/]\s*"
_P, _Q, _R = r"([1-3])", r"([1-9])", r"([1-9])"
_PREFIXED_MEASURE = re.compile(rf"(?:施策|measure|#)\s*{_P}{_SEP}{_Q}{_SEP}{_R}(?!\d)", re.IGNORECASE)
_PREFIXED_POLICY = re.compile(rf"(?:政策|policy|#)\s*{_P}{_SEP}{_Q}(?![\d.\-])", re.IGNORECASE)
_JOIN = r"\s*(?:の|、|,|/|・|>|›)?\s*"
_PILLAR_POLICY = re.compile(
    rf"(?:柱|pillar)\s*{_P}{_JOIN}(?:政策|policy)\s*{_Q}(?:{_JOIN}(?:施策|measure)\s*{_R})?", re.IGNORECASE)
_CHAPTER = re.compile(rf"第\s*{_P}\s*章\s*第\s*{_Q}\s*節\s*(?:第\s*{_R}\s*(?:款|項)?|{_R})?")
# A bare id: at the start, not part of a longer number, followed by a word that asks about it.
_BARE = re.compile(
    rf"^\s*{_P}{_SEP}{_Q}(?:{_SEP}{_R})?(?![\d.\-])"
    r"(?=\s*(?:$|[?？!！。]|って|とは|は|の(?:施策|政策|内容|中身|こと)|について|を|番|施策|政策|[=:：]"
    r"|(?:is|means|about|\?)))",
    re.IGNORECASE)
_POLICY_ALONE = re.compile(
    r"(?<![\d.\-])(?:政策|policy)\s*([1-9])(?![\d.\-])(?:\s*(?:の|、)?\s*(?:施策|measure)\s*([1-9]))?", re.IGNORECASE)


@dataclass(frozen=True)
class NodeReference:
    """What the message names: exact node ids, or (when incomplete) every node it may mean."""

    ids: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ids or self.ambiguous)


def find_reference(text: str, tree: PlanTree, pillar_names: dict[str, str]) -> NodeReference:
    """The node ids a message names explicitly. `pillar_names` maps a pillar's name or alias to its id."""
    normal = unicodedata.normalize("NFKC", text)
    ids = _exact(normal, tree, pillar_names)
    if ids:
        return NodeReference(ids=ids)
    match = _POLICY_ALONE.search(normal)
    if match is None:
        return NodeReference()
    policy, measure = match.group(1), match.group(2)
    suffix = f".{policy}" + (f".{measure}" if measure else "")
    named = {pillar for name, pillar in pillar_names.items() if name.lower() in normal.lower()}
    if len(named) == 1:  # the pillar is named elsewhere in the message: 「まちの柱で、政策5は？」
        only = f"{named.pop()}{suffix}"
        return NodeReference(ids=(only,)) if only in tree else NodeReference()
    options = [f"{p.id}{suffix}" for p in tree.of_kind("pillar")]
    return NodeReference(ambiguous=tuple(o for o in options if o in tree))


def _exact(normal: str, tree: PlanTree, pillar_names: dict[str, str]) -> tuple[str, ...]:
    found: list[str] = []
    for pattern in (_PREFIXED_MEASURE, _PILLAR_POLICY, _CHAPTER, _PREFIXED_POLICY):
        for match in pattern.finditer(normal):
            found.append(".".join(g for g in match.groups() if g))
    if not found and (bare := _BARE.search(normal)):
        found.append(".".join(g for g in bare.groups() if g))
    if not found:
        found = _named_pillar_policy(normal, pillar_names)
    return tuple(dict.fromkeys(i for i in found if i in tree))


def _named_pillar_policy(normal: str, pillar_names: dict[str, str]) -> list[str]:
    """「仕事をつくるの政策4」「まちをデザインするの政策2の施策②」: a pillar by name, then numbers."""
    lowered = normal.lower()
    for name in sorted(pillar_names, key=len, reverse=True):
        at = lowered.find(name.lower())
        if at < 0:
            continue
        rest = lowered[at + len(name):]
        match = re.match(r"\s*(?:の|、|,|'s)?\s*(?:政策|policy)\s*([1-9])"
                         r"(?:\s*(?:の|、|,)?\s*(?:施策|measure)\s*([1-9]))?", rest)
        if match:
            return [".".join([pillar_names[name], *(g for g in match.groups() if g)])]
    return []
