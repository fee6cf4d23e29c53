"""The words a 基本計画 is read by (knowledge/documents/words.tsv): section sub-headings, the parts of a document
that are no measure's (序論, 資料編), contents pages, the column words of 指標 tables and units."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("words.tsv")
_DECORATION = re.compile(r"[【】\[\]［］〔〕《》〈〉<>＜＞■□◆◇●○◎◯▼▽▲△★☆◼◻▪▫♦・:：\s]")
_NUMBERING = re.compile(r"^(?:\(\d{1,2}\)|\d{1,2}[.)、]?|[①-⑳]|[ア-ン][.)、]|第\d+[部章節]?)")


def fold(text: str) -> str:
    """NFKC, lower-cased Latin, no spaces or decorations: what heading words are compared on."""
    return _DECORATION.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True)
class Vocabulary:
    """Everything in words.tsv, folded."""

    sections: dict[str, str]
    section_ends: tuple[tuple[str, str], ...]
    section_starts: tuple[tuple[str, str], ...]
    list_sections: frozenset[str]
    intro_parts: frozenset[str]
    appendix_parts: frozenset[str]
    contents_titles: frozenset[str]
    header_words: dict[str, tuple[str, ...]]
    units: tuple[str, ...]

    def section_of(self, text: str) -> str | None:
        """「【主な取組】」, 「(3) 主な取り組み」, 「市民・地域・事業者に期待される役割」 → the section's name."""
        line = fold(text)
        if len(line) > 30 or re.search(r"[。、,]", line):
            return None
        line = _NUMBERING.sub("", line)
        if not line:
            return None
        if line in self.sections:
            return self.sections[line]
        for word, name in self.section_ends:
            if line.endswith(word):
                return name
        for word, name in self.section_starts:
            if line.startswith(word):
                return name
        return None

    def part_of(self, text: str) -> str | None:
        """「資料編」, 「第1部 序論」 → "appendix" / "intro"; None for anything else."""
        line = _NUMBERING.sub("", fold(text))
        if line in self.appendix_parts:
            return "appendix"
        if line in self.intro_parts:
            return "intro"
        return None

    def is_contents_title(self, text: str) -> bool:
        return fold(text) in self.contents_titles


@cache
def vocabulary(path: Path = WORDS_FILE) -> Vocabulary:
    """The vocabulary, read once."""
    entries: list[tuple[str, str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, key, listed = [*line.split("\t"), "", ""][:3]
            entries.append((kind, key, listed.split()))

    def of(kind: str) -> list[tuple[str, str]]:
        return [(fold(w), key) for k, key, words in entries if k == kind for w in words]

    headers: dict[str, list[str]] = {}
    for kind, _, words in entries:
        if kind.startswith("header-"):
            headers.setdefault(kind.removeprefix("header-"), []).extend(fold(w) for w in words)
    units = [unicodedata.normalize("NFKC", w) for k, _, words in entries if k == "unit" for w in words]
    return Vocabulary(
        sections=dict(of("section")),
        section_ends=tuple(sorted(of("section-end"), key=lambda p: -len(p[0]))),
        section_starts=tuple(sorted(of("section-start"), key=lambda p: -len(p[0]))),
        list_sections=frozenset(key for _, key in of("list")),
        intro_parts=frozenset(w for w, _ in of("part-intro")),
        appendix_parts=frozenset(w for w, _ in of("part-appendix")),
        contents_titles=frozenset(w for w, _ in of("contents")),
        header_words={role: tuple(sorted(set(ws), key=len, reverse=True)) for role, ws in headers.items()},
        units=tuple(sorted(set(units), key=len, reverse=True)),
    )
