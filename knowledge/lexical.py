"""Japanese lexical search: Sudachi tokens (mode A, normalised forms, synonym groups) scored with BM25,
plus the municipal synonym table that maps everyday words onto the plan's vocabulary."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
from sudachipy import SplitMode

from knowledge import SYNONYMS_FILE, sudachi
from knowledge.errors import ConfigError

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import

CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "接頭辞", "接尾辞"})
#: Sudachi marks these as 名詞 but they carry no topic.
STOP_FORMS = frozenset({"こと", "もの", "ため", "よう", "の", "ん", "さ", "方", "何", "どう", "いつ", "する",
                        "ある", "いる", "なる", "できる", "思う", "いう", "市", "青森", "青森市", "お", "ご",
                        "的", "等", "化", "性", "について", "教える", "くださる", "下さる", "知る"})


def normalise(text: str) -> str:
    """NFKC and lower case: the form every matcher in planbot compares."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class SynonymTable:
    """Everyday word → plan words. ASCII keys match at word starts; Japanese keys anywhere."""

    rows: tuple[tuple[str, str, re.Pattern[str] | None], ...]

    @classmethod
    def load(cls, path: Path = SYNONYMS_FILE) -> SynonymTable:
        """Read the TSV table (comments start with #)."""
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#") or "\t" not in line:
                continue
            key, expansion = (part.strip() for part in line.split("\t", 1))
            rows.append((key, expansion, _ascii_pattern(key)))
        return cls(tuple(rows))

    def expansions(self, text: str) -> list[str]:
        """The expansion words of every key found in the text, in table order, without repeats."""
        lowered = normalise(text)
        found: list[str] = []
        for key, expansion, pattern in self.rows:
            hit = pattern.search(text) if pattern is not None else normalise(key) in lowered
            if hit and expansion not in found:
                found.append(expansion)
        return found

    def expand(self, text: str) -> str:
        """The text followed by its expansion words."""
        extra = self.expansions(text)
        return f"{text} {' '.join(extra)}" if extra else text


def _ascii_pattern(key: str) -> re.Pattern[str] | None:
    if not key.isascii():
        return None
    if key.isupper():  # acronyms like IT, AI, SNS: case matters, or "it" matches everywhere
        return re.compile(rf"(?<![A-Za-z]){re.escape(key)}(?![a-z])")
    return re.compile(rf"(?<![a-z]){re.escape(key)}", re.IGNORECASE)


class JapaneseTokenizer:
    """Sudachi (core dictionary, mode A) → normalised content-word forms plus synonym-group tokens."""

    def __init__(self) -> None:
        self._tokenizer = sudachi.tokenizer(SplitMode.A)
        self._lock = threading.Lock()  # Sudachi's tokenizer object is not re-entrant

    def tokens(self, text: str) -> list[str]:
        """Tokens for BM25. ASCII words are kept lower-cased."""
        text = normalise(text)[:4000]
        with self._lock:
            morphemes = list(self._tokenizer.tokenize(text))
        tokens: list[str] = []
        for m in morphemes:
            pos = m.part_of_speech()[0]
            form = m.normalized_form()
            if pos not in CONTENT_POS or form in STOP_FORMS or not form.strip() or _is_symbol(form):
                continue
            tokens.append(form)
            tokens.extend(f"syn:{group}" for group in m.synonym_group_ids())
        return tokens


_KANA_RUN = re.compile(r"[ぁ-ゖァ-ヺー]{3,}")
_HAS_KANJI = re.compile(r"[一-龥々]")
_KATAKANA_WORD = re.compile(r"[ァ-ヺー]{3,}")


def _katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


class KanaReadings:
    """Finds the plan's kanji words in questions typed in kana (きぎょう → 企業/起業, じょせつ → 除雪).

    Built from the readings Sudachi gives the words of the indexed documents, so it covers exactly the
    plan's vocabulary; readings shorter than three kana are too ambiguous and are skipped.
    """

    def __init__(self, documents: Sequence[str]) -> None:
        tokenizer = sudachi.tokenizer(SplitMode.C)
        self._words: dict[str, set[str]] = {}
        for document in documents:
            for m in tokenizer.tokenize(normalise(document)[:4000]):
                reading, surface = m.reading_form(), m.surface()
                if len(reading) >= 3 and (_HAS_KANJI.search(surface) or _KATAKANA_WORD.fullmatch(surface)):
                    self._words.setdefault(reading, set()).add(surface)
        self._longest = max((len(r) for r in self._words), default=0)

    def expansions(self, text: str) -> list[str]:
        """Kanji words whose reading appears in a kana run of the text (longest match first)."""
        found: list[str] = []
        for run in _KANA_RUN.findall(unicodedata.normalize("NFKC", text)):
            kana, start = _katakana(run), 0
            while start <= len(kana) - 3:
                for size in range(min(self._longest, len(kana) - start), 2, -1):
                    words = self._words.get(kana[start:start + size])
                    if words:
                        found.extend(sorted(words - set(found)))
                        start += size
                        break
                else:
                    start += 1
        return found


def _is_symbol(form: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZC" for ch in form)


class LexicalIndex:
    """BM25 over the plan's node documents."""

    def __init__(self, ids: Sequence[str], documents: Sequence[str], tokenizer: JapaneseTokenizer) -> None:
        self.ids = list(ids)
        self._tokenizer = tokenizer
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenizer.tokens(doc) or ["∅"] for doc in documents], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document, in `ids` order (zeros when nothing matches)."""
        tokens = self._tokenizer.tokens(query)
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def load_node_keywords(path: Path, known_ids: Iterable[str]) -> dict[str, str]:
    """Everyday words per node id (for finding nodes only, never for answer text); ids are checked."""
    known = set(known_ids)
    keywords: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        node_id, _, words = line.partition("\t")
        if node_id not in known or not words.strip():
            raise ConfigError(f"{path.name}:{number}: unknown node id {node_id!r} or no words")
        keywords[node_id] = words.strip()
    return keywords


def load_node_texts(path: Path, known_ids: Iterable[str]) -> dict[str, list[str]]:
    """`node_id<TAB>text` lines (several per node allowed) → texts per node id; unknown ids are an error."""
    known = set(known_ids)
    texts: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        node_id, _, text = line.partition("\t")
        if node_id.strip() not in known or not text.strip():
            raise ConfigError(f"{path.name}:{number}: unknown node id {node_id!r} or no text")
        texts.setdefault(node_id.strip(), []).append(text.strip())
    return texts
