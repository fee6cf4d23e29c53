"""Hand-written titles of every plan node (knowledge/node_titles.tsv): a short label for buttons, the node in
plain words, what the city will do as a verb phrase, and the same in English. Loaded and checked here, so a
bad row fails at start-up with its file and line rather than as a cut label in front of a citizen."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from knowledge import NODE_TITLES_FILE
from knowledge.errors import ConfigError
from knowledge.tree import SECTION_IDS

#: Limits in UTF-16 code units, the unit LINE counts label lengths in.
MAX_UNITS = {"short_ja": 12, "plain_ja": 24, "short_en": 20}
_BRACKETS = {"」": "「", "』": "『", "）": "（", ")": "("}
_TREE_ID = re.compile(r"[1-9](\.[1-9][0-9]?){0,2}")
# A node id shown to a citizen (「3.2.2」「2.1」) is what the titles exist to replace.
_ID_IN_TEXT = re.compile(r"(?<![0-9.])[0-9]+\.[0-9]+(\.[0-9]+)?(?![0-9])")
_JAPANESE_COLUMNS = ("short_ja", "plain_ja", "does_ja")
_ENGLISH_COLUMNS = ("en", "short_en", "does_en")


@dataclass(frozen=True, slots=True)
class NodeTitles:
    """The hand-written titles of one node."""

    id: str
    short_ja: str
    plain_ja: str
    does_ja: str
    en: str
    short_en: str
    does_en: str

    def short(self, language: str) -> str:
        """The button label: English for "en", Japanese otherwise."""
        return self.short_en if language == "en" else self.short_ja

    def plain(self, language: str) -> str:
        """The node in plain words (Japanese) or its full English title."""
        return self.en if language == "en" else self.plain_ja

    def does(self, language: str) -> str:
        """What the city will do, as a verb phrase to end a sentence with."""
        return self.does_en if language == "en" else self.does_ja


COLUMNS = tuple(f.name for f in fields(NodeTitles))


def utf16_units(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def load_titles(path: Path = NODE_TITLES_FILE, known_ids: Iterable[str] | None = None) -> dict[str, NodeTitles]:
    """Raises knowledge.errors.ConfigError naming file:line for a malformed row, an unknown or duplicate id,
    a missing column, a label over its length, or unbalanced brackets; with known_ids, also for any known id
    without a row."""
    known = set(known_ids) if known_ids is not None else None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read node titles: {exc}") from exc
    titles: dict[str, NodeTitles] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        row = _parse_row(line, f"{path.name}:{number}", known)
        if row.id in titles:
            raise ConfigError(f"{path.name}:{number}: duplicate id {row.id!r}")
        titles[row.id] = row
    if known is not None:
        missing = [node_id for node_id in known if node_id not in titles]
        if missing:
            raise ConfigError(f"{path.name}: no row for node ids {', '.join(sorted(missing))}")
    return titles


def _parse_row(line: str, where: str, known: set[str] | None) -> NodeTitles:
    cells = [cell.strip() for cell in line.split("\t")]
    if len(cells) != len(COLUMNS):
        raise ConfigError(f"{where}: {len(cells)} columns, expected {len(COLUMNS)} ({', '.join(COLUMNS)})")
    row = dict(zip(COLUMNS, cells, strict=True))
    for column, text in row.items():
        if not text:
            raise ConfigError(f"{where}: column {column} is empty")
    node_id = row["id"]
    if not (node_id in known if known is not None else _is_node_id(node_id)):
        raise ConfigError(f"{where}: unknown node id {node_id!r}")
    for column, limit in MAX_UNITS.items():
        if utf16_units(row[column]) > limit:
            raise ConfigError(f"{where}: {column} {row[column]!r} is {utf16_units(row[column])} units, "
                              f"over {limit}")
    for column in COLUMNS[1:]:
        if not _balanced(row[column]):
            raise ConfigError(f"{where}: unbalanced brackets in {column} {row[column]!r}")
    for column in _ENGLISH_COLUMNS:
        if not row[column].isascii():
            raise ConfigError(f"{where}: {column} {row[column]!r} is not ASCII")
    for column in _JAPANESE_COLUMNS:
        if _ID_IN_TEXT.search(row[column]):
            raise ConfigError(f"{where}: {column} {row[column]!r} shows a node id")
    return NodeTitles(**row)


def _is_node_id(node_id: str) -> bool:
    return node_id in SECTION_IDS or _TREE_ID.fullmatch(node_id) is not None


def _balanced(text: str) -> bool:
    """Every bracket of 「」『』（）() is closed, in order."""
    openers = set(_BRACKETS.values())
    stack: list[str] = []
    for char in text:
        if char in openers:
            stack.append(char)
        elif char in _BRACKETS and (not stack or stack.pop() != _BRACKETS[char]):
            return False
    return not stack
