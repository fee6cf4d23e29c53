"""Step 4 of the pipeline — compose: the answer's parts (lead, points, scope), built from the decision, the plan's
own text and the hand-written titles (no LLM). The optional LLM step then rewrites a plan answer's lead and
passes the citation guard. Channel prose (contact, disclaimer) is the renderers' job."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

from bot.chat import ChatKind, ChatPhrases, chat_reply
from bot.compose import (
    Titles,
    body_text,
    citations_for,
    clarify_lead,
    clarify_text,
    invalid_input_text,
    lead_text,
    nearest_topics_text,
    node_point,
    not_in_plan_lead,
    out_of_scope_lead,
    passage_citation,
    passage_intro,
    passage_points,
    related_names_text,
    term_points,
    tree_points,
)
from bot.contacts import Contact
from bot.decide import Decision
from bot.intents import Language
from bot.passages import PassageCues, passage_line, quoted_passages
from bot.retrieval import Retrieval
from bot.structure import StructureQuery, answer_structure
from bot.types import Answer, Citation, Point, RetrievedNode
from bot.understand import Understanding
from knowledge.documents import Passage
from knowledge.titles import load_titles
from knowledge.tree import PlanTree

#: Example questions a greeting offers.
GREETING_EXAMPLES = 3
Hits = tuple[RetrievedNode, ...]


@cache
def shipped_titles() -> Titles:
    """knowledge/node_titles.tsv, read once."""
    return load_titles()


@cache
def shipped_phrases() -> ChatPhrases:
    """knowledge/chat_phrases.tsv, read once."""
    return ChatPhrases.load()


@dataclass(frozen=True)
class Composer:
    """Turns a decision into an `Answer`. `examples` are offered when a refusal has no nearby topic."""

    tree: PlanTree
    contact: str
    max_chars: int
    examples: dict[str, tuple[str, ...]]
    cues: PassageCues | None = None
    titles: Titles = field(default_factory=shipped_titles)
    phrases: ChatPhrases = field(default_factory=shipped_phrases)

    def __call__(self, u: Understanding, r: Retrieval | None, d: Decision) -> Answer:
        answer = self._compose(u, r, d)
        return answer if answer.contact is not None else replace(answer, contact=Contact(self.contact))

    def _compose(self, u: Understanding, r: Retrieval | None, d: Decision) -> Answer:
        hits = r.hits if r is not None else ()
        language = u.language
        chat = self.phrases.kind_of(u.raw, refused=d.outcome == "out_of_scope", weak=d.outcome == "clarify")
        if chat is not None and d.outcome != "invalid_input":
            return self._chat(u, chat, hits, d)
        if d.outcome in ("answer", "navigate"):
            return self._plan(u, r, d, language)
        if d.outcome == "structure" and d.structure is not None:
            return self._structure(u, d.structure, hits, d.reason)
        candidates = citations_for(self.tree, list(d.nodes))
        if d.outcome == "clarify":
            return Answer(u.raw, clarify_text(self.titles, self.tree, list(d.nodes), language), True, kind="clarify",
                          candidates=candidates, retrieved=hits, reason=d.reason, lead=clarify_lead(language),
                          scope="titles_only" if r is None or r.plan_version is None else "document")
        if d.outcome == "not_in_plan":
            version = r.plan_version if r is not None else None
            lead = not_in_plan_lead(language, version)
            text = " ".join(p for p in (lead, related_names_text(self.titles, self.tree, list(d.nodes), language)) if p)
            return Answer(u.raw, text, False, kind="not_in_plan", candidates=candidates, retrieved=hits,
                          reason=d.reason, lead=lead, scope="figure_absent")
        if d.outcome == "invalid_input":
            text = invalid_input_text(d.reason, language, self.max_chars)
            return Answer(u.raw, text, False, kind="invalid_input", related=self.examples.get(language, ()),
                          retrieved=hits, reason=d.reason, lead=text, scope="none")
        injection = d.outcome == "injection"
        lead = out_of_scope_lead(language, injection=injection)
        nearest = nearest_topics_text(self.titles, self.tree, list(d.nodes), language)
        related = () if d.nodes or injection else self.examples.get(language, ())
        return Answer(u.raw, "\n\n".join(p for p in (lead, nearest) if p), False, kind="out_of_scope",
                      candidates=candidates, related=related, retrieved=hits, reason=d.reason, lead=lead,
                      scope="instruction" if injection else "outside_plan")

    def _chat(self, u: Understanding, chat: ChatKind, hits: Hits, d: Decision) -> Answer:
        """A greeting, thanks or 「使い方」: a friendly word and example questions (or the nearest topics, when the
        small talk came near one); still "not answered"."""
        language = u.language
        lead = chat_reply(chat, language)
        nodes = list(d.nodes) if d.outcome == "out_of_scope" else []
        examples = () if nodes else self.examples.get(language, ())[:GREETING_EXAMPLES]
        nearest = nearest_topics_text(self.titles, self.tree, nodes, language)
        text = "\n".join([lead, *(f"・{e}" for e in examples), *([nearest] if nearest else [])])
        return Answer(u.raw, text, False, kind="out_of_scope", related=examples, retrieved=hits,
                      candidates=citations_for(self.tree, nodes), reason=f"{chat}; {d.reason}" if d.reason else chat,
                      lead=lead, scope="greeting")

    def _structure(self, u: Understanding, query: StructureQuery, hits: Hits, reason: str) -> Answer:
        body, cited = answer_structure(query, self.tree, u.language, u.text)
        lead, _, rest = body.partition("\n")
        points = self._structure_points(query, rest, cited, u.language)
        return Answer(u.raw, body, True, citations_for(self.tree, cited), kind="structure", retrieved=hits,
                      reason=reason, lead=lead.strip(), points=tuple(points), scope="structure")

    def _structure_points(self, query: StructureQuery, rest: str, cited: list[str], language: Language
                          ) -> list[Point]:
        """A list names its members by node (so channels can show their short names); counts keep their rows."""
        if query.action == "list" and query.scope is not None:
            node = self.tree[query.scope]
            members = ([m.id for m in self.tree.measures_under(node.id)] if query.target == "measure"
                       else list(node.children) if node.kind == "pillar" else [])
            if members:
                return [node_point(self.titles, self.tree, m, language, "child") for m in members]
        if query.action == "list" and query.scope is None and query.target == "pillar":
            return [node_point(self.titles, self.tree, p.id, language, "child") for p in self.tree.of_kind("pillar")]
        lines = [line.lstrip("・- ").strip() for line in rest.splitlines() if line.strip().startswith(("・", "- "))]
        return [Point(line, cited[0] if cited else "plan", None, "item") for line in lines]

    def _plan(self, u: Understanding, r: Retrieval | None, d: Decision, language: Language) -> Answer:
        tree, cited = self.tree, list(d.nodes)
        hits = r.hits if r is not None else ()
        if d.outcome == "navigate" and len(cited) == 1 and tree[cited[0]].kind in ("pillar", "policy"):
            query = StructureQuery("list", "policy" if tree[cited[0]].kind == "pillar" else "measure", cited[0])
            return self._structure(u, query, hits, d.reason)
        scores = {h.id: h.score for h in hits}
        version = r.plan_version if r is not None else None
        passages = self._passages(u, r, d, cited)
        lead, in_lead = lead_text(self.titles, tree, cited, language)
        # A named term's line is worth quoting unless it is only the node's own title.
        terms = term_points([(h.term, h.node_id, h.line) for h in u.terms
                             if h.node_id in cited and h.line.strip() != tree[h.node_id].title])
        citations = citations_for(tree, cited, scores)
        if passages and version is not None:
            points = [*passage_points(passages), *terms]
            text = body_text(lead, points, language, intro=passage_intro(version, language))
            citations = _with_passages(citations, dict(passages))
            scope = "document"
        else:
            points = [*terms, *tree_points(self.titles, tree, cited, language, in_lead)]
            text = body_text(lead, points, language)
            scope = "titles_only"
        quoted = tuple((n, passage_line(p)) for n, ps in passages for p in ps)
        return Answer(u.raw, text, True, citations, kind="plan", retrieved=hits,
                      related=_related(tree, cited, language), reason=d.reason, quoted=quoted, lead=lead,
                      points=tuple(points), scope=scope)  # type: ignore[arg-type]

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
