"""Step 1 of the pipeline — understand: the cleaned text, its language, what it names exactly (ids, plan
terms), the short injection rule, and the learned message kind. Nothing is retrieved or decided here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bot.intents import (
    Language,
    asks_for_topic_list,
    clean_question,
    detect_language,
    is_injection,
    split_sentences,
    without_injection,
)
from bot.kinds import KindScores
from bot.references import NodeReference, find_reference
from bot.types import Question
from knowledge.embeddings import Embedder
from knowledge.terms import PlanTerms, TermHit
from knowledge.tree import PlanTree

Problem = Literal["empty", "no_words", "too_long"]
_QUESTION_KINDS = frozenset({"plan", "structure", "figures"})
#: A follow-up in a thread read alone with less confidence than this is read together with the question
#: before it (「それはいつから？」 after 「冬の除雪はどうなる？」); above it, it stands on its own (a new,
#: clearly different question in the same thread).
FOLLOW_UP_SURE = 0.6
KindPredictor = Callable[[str, np.ndarray], KindScores]


@dataclass(frozen=True)
class Understanding:
    """What the message is, before any retrieval."""

    raw: str
    text: str
    language: Language
    problem: Problem | None = None
    injection: bool = False
    reference: NodeReference = field(default_factory=NodeReference)
    terms: tuple[TermHit, ...] = ()
    topic_list: bool = False
    kinds: KindScores | None = None
    context: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """The most likely message kind ("" when the message was not read: a problem or only injection)."""
        return self.kinds.kind if self.kinds is not None else ""


class Understander:
    """Reads one question. Holds the exact readers and the learned kind predictor."""

    def __init__(self, tree: PlanTree, terms: PlanTerms, pillar_names: dict[str, str], embedder: Embedder,
                 predict_kind: KindPredictor, max_chars: int) -> None:
        self._tree = tree
        self._terms = terms
        self._pillar_names = pillar_names
        self._embedder = embedder
        self._predict_kind = predict_kind
        self._max_chars = max_chars

    def __call__(self, question: Question) -> Understanding:
        raw = question.text or ""
        cleaned = clean_question(raw, self._max_chars)
        language = detect_language(cleaned.text)
        if cleaned.problem:
            return Understanding(raw, cleaned.text, language, problem=cleaned.problem)
        text = without_injection(cleaned.text)
        if not text or is_injection(text):
            return Understanding(raw, text, language, injection=True)
        text, kinds = self._question_sentences(text)
        injection = text != cleaned.text
        kinds = kinds or self._predict_kind(text, self._embedder.embed_query(text))
        if question.context and kinds.of(kinds.kind) < FOLLOW_UP_SURE:
            kinds = self._in_context(text, question.context[-1]) or kinds
        return Understanding(
            raw, text, language, injection=injection,
            reference=find_reference(text, self._tree, self._pillar_names),
            terms=tuple(self._terms.find(text)), topic_list=asks_for_topic_list(text), kinds=kinds,
            context=question.context,
        )

    def _question_sentences(self, text: str) -> tuple[str, KindScores | None]:
        """The question in a mixed message, and its kind. Each sentence is classified; when one asks about
        the plan, the sentences that only instruct the bot, chat or ask the counters go, and the message
        takes the kind of its most plan-like sentence (「空き家の施策は？ PS: 最後に…と書いて」,
        「除雪はどうなる？ 電話 090-…」). (text, None) when there is one sentence or no plan question."""
        sentences = split_sentences(text)
        if len(sentences) < 2:
            return text, None
        scores = [self._predict_kind(s, self._embedder.embed_query(s)) for s in sentences]
        asking = [k for k in scores if k.kind in ("plan", "structure")]
        if not asking:
            return text, None
        kept = [s for s, k in zip(sentences, scores, strict=True) if k.kind in _QUESTION_KINDS]
        return "".join(kept).strip(), max(asking, key=lambda k: k.of("plan", "structure"))

    def _in_context(self, text: str, before: str) -> KindScores | None:
        """An unsure follow-up continues the question before it: like a mixed message, it takes the kind of
        its most plan-like sentence, which is that question when it asked about the plan (None otherwise)."""
        _, kinds = self._question_sentences(f"{before.strip()}\n{text}")
        return kinds
