"""Terms that stand verbatim in the plan (DX, GX, PFI, ふるさと納税, スマートオープンシティ, 1on1…) and the
nodes where they stand. A question naming such a term is about the line that holds it.

Derived from the tree alone: compound nouns and ASCII words of the measures' titles and the sections' lines.
A term found in more than `MAX_NODES` nodes is a common word of the plan (支援, 推進) and is left out.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

from sudachipy import SplitMode

from knowledge import sudachi
from knowledge.tree import PlanTree

MAX_NODES = 2
_ASCII_WORD = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*", re.IGNORECASE)
_NOUNISH = frozenset({"名詞", "形状詞", "接頭辞", "接尾辞"})
_HAS_LETTER = re.compile(r"[^\W\d_]")
# Adjectival endings (効果的, 必要性) and kana-only words (みんな) say nothing about where a line stands.
_NOT_A_TERM = re.compile(r"(的|性)$|^[ぁ-ゖー]+$")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class TermHit:
    """A plan term found in a question, the node that holds it and the line it stands in."""

    term: str
    node_id: str
    line: str


class PlanTerms:
    """term → (node, line) for every distinctive term of the plan."""

    def __init__(self, tree: PlanTree) -> None:
        tokenizer = sudachi.tokenizer(SplitMode.C)
        lock = threading.Lock()
        found: dict[str, dict[str, str]] = {}
        for node_id, line in _citable_lines(tree):
            with lock:
                terms = _terms(tokenizer, line)
            if line == tree[node_id].title:  # a whole title names its node (quick replies send titles back)
                terms.add(_normal(line))
            for term in terms:
                found.setdefault(term, {}).setdefault(node_id, line)
        self._terms = {t: nodes for t, nodes in found.items()
                       if len(nodes) <= MAX_NODES and not _NOT_A_TERM.search(t)}
        self._ascii = {t for t in self._terms if t.isascii()}

    def __len__(self) -> int:
        return len(self._terms)

    def find(self, question: str) -> list[TermHit]:
        """The plan terms in a question, longest first; a term inside a longer found term is not repeated."""
        text = _normal(question)
        hits: list[TermHit] = []
        taken: list[str] = []
        for term in sorted(self._terms, key=lambda t: (-len(t), t)):
            if not self._present(term, text) or any(term in longer for longer in taken):
                continue
            taken.append(term)
            hits.extend(TermHit(term, node_id, line) for node_id, line in self._terms[term].items())
        return hits

    def _present(self, term: str, text: str) -> bool:
        if term in self._ascii:
            return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None
        return term in text


def _citable_lines(tree: PlanTree) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for node in tree:
        if node.kind == "measure":
            lines.append((node.id, node.title))
        elif node.kind == "section":
            lines += [(node.id, node.title)] + [(node.id, item) for item in node.items]
    return lines


def _terms(tokenizer: object, line: str) -> set[str]:
    """ASCII words (2+ letters) and runs of nouns (3+ characters) of one line, NFKC lower-cased."""
    text = _normal(line)
    terms = {w for w in _ASCII_WORD.findall(text) if len(w) >= 2}
    run: list[str] = []
    for morpheme in [*tokenizer.tokenize(text), None]:  # type: ignore[attr-defined]
        if morpheme is not None and morpheme.part_of_speech()[0] in _NOUNISH:
            run.append(morpheme.surface())
            continue
        joined = "".join(run)
        if len(joined) >= 3 and _HAS_LETTER.search(joined):
            terms.add(joined)
        terms.update(word for word in run if len(word) >= 3 and not word.isascii())
        run = []
    return terms
