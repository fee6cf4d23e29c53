"""The loaded 基本計画 passages for a question: found per plan node, chosen by the section the question asks
about, and — for figure questions — the 指標 rows that hold the figure asked for. Nothing here invents text:
every line an answer quotes is a passage as it stands in the document."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.retrieval import Retrieval
from bot.types import RetrievedNode
from knowledge.documents import Passage, PassageLibrary, PassageStore, PassageStoreError, PlanVersion
from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

DEFAULT_SECTION = "主な取組"
INDICATORS = "指標"
# A bigram carries meaning when it holds a kanji, katakana or Latin letter (not two particles).
_CONTENT = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9々ー]")
_PUNCT = re.compile(r"[\s、。，．,.!?！？「」『』（）()・:：]")


@dataclass(frozen=True)
class PassageCues:
    """Words from knowledge/passage_cues.tsv: section → words, unit → words, generic figure words."""

    sections: dict[str, tuple[str, ...]]
    units: dict[str, tuple[str, ...]]
    generic: tuple[str, ...]

    @staticmethod
    def load(path: Path) -> PassageCues:
        """Read the cue file (kind, key, words)."""
        sections: dict[str, tuple[str, ...]] = {}
        units: dict[str, tuple[str, ...]] = {}
        generic: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            kind, key, words = [*line.split("\t"), "", ""][:3]
            found = tuple(_fold(w) for w in words.split())
            if kind == "section":
                sections[key] = found
            elif kind == "unit":
                units[_fold(key)] = found
            elif kind == "generic":
                generic.extend(found)
        return PassageCues(sections, units, tuple(sorted(generic, key=len, reverse=True)))

    def asked_sections(self, text: str) -> list[str]:
        """The sections the question names, in the cue file's order (the default when it names none)."""
        folded = _fold(text)
        named = [s for s, words in self.sections.items() if any(w in folded for w in words)]
        return named or [DEFAULT_SECTION]

    def asked_units(self, text: str) -> set[str]:
        """The units a figure question asks in (empty: it names none)."""
        folded = _fold(text)
        return {unit for unit, words in self.units.items() if any(w in folded for w in words)}

    def is_generic(self, text: str) -> bool:
        """Does the question ask for 指標 or 目標値 as such?"""
        folded = _fold(text)
        return any(w in folded for w in self.generic)

    def without_section_words(self, text: str) -> str:
        """The question without the words that name a section (取組, 課題 …): they say nothing about which node."""
        folded = _fold(text)
        for word in sorted({w for words in self.sections.values() for w in words}, key=len, reverse=True):
            folded = folded.replace(word, " ")
        return folded

    def without_generic(self, text: str) -> str:
        """The question with the generic figure words taken out (they say nothing about which row)."""
        folded = _fold(text)
        for word in self.generic:
            folded = folded.replace(word, " ")
        return folded


@dataclass(frozen=True)
class PassageFinder:
    """Reads the current version's passages of the nodes retrieval ranked highest."""

    library: PassageLibrary
    embedder: Embedder
    per_node: int = 40
    anywhere: int = 24
    _cache: dict[str, list[Passage]] = field(default_factory=dict, compare=False, repr=False)

    def find(self, text: str, node_ids: Sequence[str]) -> tuple[tuple[Passage, ...], PlanVersion | None]:
        """Every passage of these nodes, scored by meaning against the question; and the version searched."""
        try:
            store = self.library.current()
            if store is None:
                return (), None
            ids = list(dict.fromkeys(node_ids))
            if not ids:
                return (), store.version
            vector = self.embedder.embed_query(text)
            found = store.search(vector, ids, self.per_node * len(ids))
            # What the question asks may stand in a measure retrieval ranked low: every 指標 row of the version
            # and the passages nearest the question anywhere are looked at too (figure_rows and promoted() then
            # demand that the words fit).
            seen = {(p.node_id, p.order) for p in found}
            extra = []
            for passage in (*self._rows(store), *store.search(vector, None, self.anywhere)):
                if (passage.node_id, passage.order) not in seen:
                    seen.add((passage.node_id, passage.order))
                    extra.append(passage)
            return (*found, *extra), store.version
        except PassageStoreError:
            # The 体系図 still answers when the passage store cannot be read; the log says why.
            log.exception("passage lookup failed; answering from the 体系図 alone")
            return (), None


    def _rows(self, store: PassageStore) -> list[Passage]:
        cached = self._cache.get(store.version.id)
        if cached is None:
            cached = store.indicator_rows()
            self._cache.clear()
            self._cache[store.version.id] = cached
        return cached


def figure_rows(text: str, passages: Sequence[Passage], top_node: str | None, cues: PassageCues) -> tuple[Passage, ...]:
    """The 指標 rows that hold the figure a question asks for; empty when no loaded row does.

    A row matches when its unit fits the unit asked in (if any) and its name shares at least two content
    bigrams with the question; a question asking for 指標/目標値 as such gets every row of the top node.
    """
    units = cues.asked_units(text)
    rows = [p for p in passages if p.indicator is not None and (not units or unit_fits(p.indicator.unit, units))]
    if not rows:
        return ()
    asked = _bigrams(cues.without_generic(text))
    overlap = {id(p): _name_overlap(asked, p.indicator.name) for p in rows if p.indicator is not None}
    best = max(overlap.values())
    if best >= 2:
        return tuple(sorted((p for p in rows if overlap[id(p)] == best), key=lambda p: (p.node_id, p.order)))
    if top_node is not None and cues.is_generic(text):
        return tuple(sorted((p for p in rows if p.node_id == top_node), key=lambda p: p.order))
    return ()


_SCALE = re.compile(r"^(?:百万|千|万|億)")
_QUALIFIER = re.compile(r"(?:以上|以下|未満|超|/.*)$")


def unit_fits(unit: str, asked: set[str]) -> bool:
    """Does a row's unit answer a question asked in one of `asked`? 「億円」 and 「千円」 are 円, 「人/年」 is 人,
    「%以上」 is %."""
    folded = _fold(unit).strip()
    base = _QUALIFIER.sub("", _SCALE.sub("", folded)) or folded
    return folded in asked or base in asked


#: A document passage that shares at least this many content bigrams with the question (3 for a short question
#: whose words are half in it) names the measure the question is about: another measure (clearly more than any
#: passage of the top measure) goes first; the top measure itself is confirmed, as a node holding a plan term is.
PROMOTE_MIN = 4
PROMOTE_SHORT = 3
PROMOTE_RATIO = 1.5


def promoted(text: str, retrieval: Retrieval, passages: Sequence[Passage], cues: PassageCues) -> Retrieval:
    """The retrieval with the measure whose 基本計画 passage says what the question asks put first (as a node
    holding a named term is); unchanged when the document points nowhere clearer than the top hit."""
    asked = _bigrams(cues.without_section_words(cues.without_generic(text)))
    best: dict[str, int] = {}
    for passage in passages:
        words = passage.indicator.name if passage.indicator is not None else passage.text
        best[passage.node_id] = max(best.get(passage.node_id, 0), len(asked & _bigrams(words)))
    if not best or not retrieval.hits:
        return retrieval
    node, score = max(best.items(), key=lambda item: item[1])
    top = retrieval.hits[0]
    needed = PROMOTE_SHORT if len(asked) / 2 <= PROMOTE_SHORT else PROMOTE_MIN
    if score < needed or (node != top.id and score < PROMOTE_RATIO * best.get(top.id, 0)):
        return retrieval
    hit = next((h for h in retrieval.hits if h.id == node), RetrievedNode(node, top.score, top.dense, top.lexical))
    terms = retrieval.term_nodes if node in retrieval.term_nodes else (node, *retrieval.term_nodes)
    return replace(retrieval, hits=(hit, *(h for h in retrieval.hits if h.id != node)), term_nodes=terms)


#: A row's name must share this much of its content bigrams with the question (「回収量」 alone does not make
#: 「資源物の集団回収量」 the answer to 「小型家電の回収量は？」).
NAME_SHARE = 0.4


def _name_overlap(asked: set[str], name: str) -> int:
    """Content bigrams the question shares with the row's name; 0 when that is under NAME_SHARE of the name."""
    own = _bigrams(name)
    shared = len(asked & own)
    return shared if own and shared >= NAME_SHARE * len(own) else 0


def quoted_passages(passages: Sequence[Passage], node_id: str, sections: Sequence[str],
                    limit: int = 8) -> list[Passage]:
    """The passages of one node in the sections asked for, in document order."""
    chosen = [p for p in passages if p.node_id == node_id and p.section in sections]
    return sorted(chosen, key=lambda p: (list(sections).index(p.section), p.order))[:limit]


def passage_line(passage: Passage) -> str:
    """One quoted line: an 指標 row as 「名: 現状値 … (年度) → 目標値 … (年度)」, else the passage's text."""
    return passage.indicator.quote() if passage.indicator is not None else passage.text


def version_name(version: PlanVersion | None) -> str | None:
    """「v0002 基本計画2026」 for the log and the review page."""
    if version is None:
        return None
    return version.id if version.label == version.id else f"{version.id} {version.label}"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _bigrams(text: str) -> set[str]:
    chars = _PUNCT.sub(" ", _fold(text))
    return {chars[i:i + 2] for i in range(len(chars) - 1)
            if " " not in chars[i:i + 2] and _CONTENT.search(chars[i:i + 2])}
