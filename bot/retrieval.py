"""Step 2 of the pipeline — retrieve: dense (several vectors per node, best match) and Japanese BM25 fused
with reciprocal rank fusion; nodes where a named plan term stands verbatim go first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.types import RetrievedNode
from knowledge.documents import Passage
from knowledge.embeddings import Embedder
from knowledge.index import PlanIndex
from knowledge.lexical import KanaReadings, LexicalIndex, SynonymTable
from knowledge.terms import TermHit
from knowledge.tree import PlanTree

RRF_K = 60


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits plus the raw signals the decision reads."""

    hits: tuple[RetrievedNode, ...]
    top_dense: float
    top_lexical: float
    expansions: tuple[str, ...]
    term_nodes: tuple[str, ...] = ()
    # The loaded 基本計画 (none with the 体系図 alone): passages of the top nodes, the 指標 rows holding the
    # figure a figure question asks for, and the version searched (「v0002 基本計画2026」).
    passages: tuple[Passage, ...] = ()
    figure_rows: tuple[Passage, ...] = ()
    plan_version: str | None = None

    @property
    def dense_gap(self) -> float:
        """How far the best node's meaning stands ahead of the second's (1.0 with one hit)."""
        dense = sorted((h.dense for h in self.hits), reverse=True)
        return dense[0] - dense[1] if len(dense) > 1 else 1.0


class HybridRetriever:
    """Ranks every citable plan node for a question."""

    def __init__(self, tree: PlanTree, index: PlanIndex, lexical: LexicalIndex,
                 synonyms: SynonymTable, embedder: Embedder, readings: KanaReadings) -> None:
        self.tree = tree
        self._index = index
        self._lexical = lexical
        self._synonyms = synonyms
        self._embedder = embedder
        self._readings = readings
        self._citable = frozenset(n.id for n in tree if n.kind not in ("pillar", "policy"))

    def retrieve(self, text: str, terms: tuple[TermHit, ...] = (), k: int = 8) -> Retrieval:
        """The `k` best nodes for the question, best first."""
        expansions = tuple(self._synonyms.expansions(text)) + tuple(self._readings.expansions(text))
        expanded = f"{text} {' '.join(expansions)}" if expansions else text
        dense_all = self._index.dense_scores(self._embedder.embed_query(expanded))
        lexical_scores = self._lexical.scores(expanded)
        lexical_all = {nid: float(s) for nid, s in zip(self._lexical.ids, lexical_scores, strict=True) if s > 0}
        # Answers cite measures and sections; pillars and policies are reached through their measures.
        dense = {nid: s for nid, s in dense_all.items() if nid in self._citable}
        lexical = {nid: s for nid, s in lexical_all.items() if nid in self._citable}
        fused = _rrf([_ranked(dense), _ranked(lexical)])
        term_nodes = tuple(dict.fromkeys(h.node_id for h in terms if h.node_id in self._citable))
        ranked = sorted(fused.items(), key=lambda item: (item[0] not in term_nodes, -item[1], item[0]))[:k]
        hits = tuple(RetrievedNode(nid, score, dense.get(nid, 0.0), lexical.get(nid, 0.0)) for nid, score in ranked)
        top_lexical = float(np.max(lexical_scores)) if len(lexical_scores) else 0.0
        return Retrieval(hits, max(dense.values(), default=0.0), top_lexical, expansions, term_nodes)

    def index_count(self) -> int:
        """How many plan nodes the dense index holds."""
        return self._index.count()


def _ranked(scores: dict[str, float]) -> list[str]:
    return [nid for nid, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def _rrf(rankings: list[list[str]]) -> dict[str, float]:
    """Reciprocal rank fusion. Only nodes a ranking actually matched take part in it (no zero-score ties)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, nid in enumerate(ranking, start=1):
            fused[nid] = fused.get(nid, 0.0) + 1.0 / (RRF_K + rank)
    return fused
