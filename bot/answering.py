"""Step 4 of the pipeline — compose: the answer a user sees, built from the decision and the plan's own
text (no LLM). The optional LLM step then rewrites a plan answer and passes the citation guard."""

from __future__ import annotations

from dataclasses import dataclass

from bot.compose import (
    citations_for,
    clarify_text,
    invalid_input_text,
    nearest_topics_text,
    not_in_plan_text,
    out_of_scope_text,
    passage_citation,
    passage_quote_text,
    plan_answer_text,
    term_quote_text,
)
from bot.decide import Decision
from bot.intents import Language
from bot.passages import PassageCues, passage_line, quoted_passages
from bot.retrieval import Retrieval
from bot.structure import StructureQuery, answer_structure
from bot.types import Answer, Citation
from bot.understand import Understanding
from knowledge.documents import Passage
from knowledge.tree import PlanTree


@dataclass(frozen=True)
class Composer:
    """Turns a decision into an `Answer`. `examples` are offered when a refusal has no nearby topic."""

    tree: PlanTree
    contact: str
    max_chars: int
    examples: dict[str, tuple[str, ...]]
    cues: PassageCues | None = None

    def __call__(self, u: Understanding, r: Retrieval | None, d: Decision) -> Answer:
        hits = r.hits if r is not None else ()
        language = u.language
        if d.outcome in ("answer", "navigate"):
            return self._plan(u, r, d, language)
        if d.outcome == "structure" and d.structure is not None:
            body, cited = answer_structure(d.structure, self.tree, language, u.text)
            return Answer(u.raw, body, True, citations_for(self.tree, cited), kind="structure",
                          retrieved=hits, reason=d.reason)
        candidates = citations_for(self.tree, list(d.nodes))
        if d.outcome == "clarify":
            return Answer(u.raw, clarify_text(self.tree, list(d.nodes), language), True, kind="clarify",
                          candidates=candidates, retrieved=hits, reason=d.reason)
        if d.outcome == "not_in_plan":
            version = r.plan_version if r is not None else None
            text = not_in_plan_text(self.tree, list(d.nodes), language, self.contact, version)
            return Answer(u.raw, text, False, kind="not_in_plan", candidates=candidates, retrieved=hits,
                          reason=d.reason)
        if d.outcome == "invalid_input":
            text = invalid_input_text(d.reason, language, self.max_chars)
            return Answer(u.raw, text, False, kind="invalid_input", related=self.examples.get(language, ()),
                          retrieved=hits, reason=d.reason)
        injection = d.outcome == "injection"
        text = out_of_scope_text(language, self.contact, injection=injection)
        if nearest := nearest_topics_text(self.tree, list(d.nodes), language):
            text = f"{text}\n\n{nearest}"
        related = () if d.nodes or injection else self.examples.get(language, ())
        return Answer(u.raw, text, False, kind="out_of_scope", candidates=candidates, related=related,
                      retrieved=hits, reason=d.reason)

    def _plan(self, u: Understanding, r: Retrieval | None, d: Decision, language: Language) -> Answer:
        tree, cited = self.tree, list(d.nodes)
        hits = r.hits if r is not None else ()
        if d.outcome == "navigate" and len(cited) == 1 and tree[cited[0]].kind in ("pillar", "policy"):
            query = StructureQuery("list", "policy" if tree[cited[0]].kind == "pillar" else "measure", cited[0])
            body, _ = answer_structure(query, tree, language, u.text)
            return Answer(u.raw, body, True, citations_for(tree, cited), kind="structure", retrieved=hits,
                          reason=d.reason)
        scores = {h.id: h.score for h in hits}
        version = r.plan_version if r is not None else None
        passages = self._passages(u, r, d, cited)
        body = plan_answer_text(tree, cited, language, self.contact, version if passages else None)
        quotes = [(h.term, h.node_id, h.line) for h in u.terms if h.node_id in cited]
        if quotes:
            body = f"{term_quote_text(quotes, tree, language)}\n\n{body}"
        citations = citations_for(tree, cited, scores)
        if passages and version is not None:
            body = f"{passage_quote_text(tree, passages, language, version)}\n\n{body}"
            citations = _with_passages(citations, dict(passages))
        quoted = tuple((n, passage_line(p)) for n, ps in passages for p in ps)
        return Answer(u.raw, body, True, citations, kind="plan", retrieved=hits,
                      related=_related(tree, cited, language), reason=d.reason, quoted=quoted)

    def _passages(self, u: Understanding, r: Retrieval | None, d: Decision, cited: list[str]
                  ) -> list[tuple[str, list[Passage]]]:
        """Per cited node, the passages to quote: the 指標 rows holding the figure asked for, else the
        sections the question names (主な取組 by default)."""
        if r is None or not r.passages:
            return []
        if d.figures:
            found = [(n, [p for p in r.figure_rows if p.node_id == n]) for n in cited]
        else:
            sections = self.cues.asked_sections(u.text) if self.cues is not None else ["主な取組"]
            found = [(n, quoted_passages(r.passages, n, sections)) for n in cited]
        return [(n, ps) for n, ps in found if ps]


def _with_passages(citations: tuple[Citation, ...], quoted: dict[str, list[Passage]]) -> tuple[Citation, ...]:
    return tuple(passage_citation(c, quoted[c.id]) if c.id in quoted else c for c in citations)


def _related(tree: PlanTree, cited: list[str], language: Language) -> tuple[str, ...]:
    """Follow-up questions: the other measures of the cited measure's policy."""
    if not cited or tree[cited[0]].kind != "measure":
        return ()
    parent = tree[cited[0]].parent_id or ""
    siblings = [s for s in tree.children(parent) if s.id not in cited]
    template = "Tell me about 「{}」" if language == "en" else "「{}」について教えて"
    return tuple(template.format(s.title) for s in siblings)
