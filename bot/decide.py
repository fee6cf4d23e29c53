"""Step 3 of the pipeline — decide: answer, clarify or refuse, with a reason.

Reads what `understand` found (exact ids, plan terms, the learned message kind) and how well retrieval
matched. Thresholds are calibrated on the dev split only (`planbot eval calibrate`). No word decides alone:
refusals come from the learned kind weighed against how well the plan matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.retrieval import Retrieval
from bot.structure import StructureQuery, parse_structure_query
from bot.understand import Understanding
from knowledge.tree import PlanTree

Outcome = Literal["answer", "navigate", "structure", "clarify", "not_in_plan", "out_of_scope", "injection",
                  "invalid_input"]


@dataclass(frozen=True)
class Thresholds:
    """Where the decision's lines fall. Calibrated on dev (evals/README.md); never on test."""

    dense_min: float = 0.87  # the plan covers it: the best node is at least this close in meaning …
    lexical_min: float = 6.0  # … or shares at least this much BM25 weight
    plausible_min: float = 0.8  # below coverage but above this: ask which topic rather than refuse
    refuse_kind_min: float = 0.4  # P(lookup or chit-chat) needed to refuse a message the plan matches
    strong_dense: float = 0.92  # a match this close is answered whatever the kind
    figures_min: float = 0.3  # P(figures) for "not in the loaded plan"
    injection_min: float = 0.5  # P(injection) to decline
    unreadable_min: float = 0.5  # P(unreadable) to ask for words
    structure_min: float = 0.3  # P(structure) before the tree's exact counts and lists are tried
    clarify_plan_max: float = 0.5  # P(plan) below this with only a plausible match: clarify
    second_dense_gap: float = 0.02  # a second node is cited when this close in meaning …
    second_lexical_ratio: float = 0.5  # … and sharing this share of the top node's words
    topic_dense_gap: float = 0.02
    topic_lexical_ratio: float = 0.2
    max_topic_citations: int = 6
    max_citations: int = 2
    max_candidates: int = 3


@dataclass(frozen=True)
class Decision:
    """What to do, about which nodes (cited, or offered as candidates), and why."""

    outcome: Outcome
    nodes: tuple[str, ...] = ()
    reason: str = ""
    structure: StructureQuery | None = None
    figures: bool = False  # answered from the 指標 rows that hold the figure asked for (`Retrieval.figure_rows`)


def decide(u: Understanding, r: Retrieval | None, tree: PlanTree, t: Thresholds) -> Decision:
    """Answer, clarify or refuse one understood, retrieved question."""
    if u.problem:
        return Decision("invalid_input", reason=u.problem)
    if r is None or u.kinds is None:
        return Decision("injection", reason="only an instruction to the bot")
    kinds = u.kinds
    if u.reference.ids and kinds.of("figures") < t.figures_min:
        return Decision("navigate", u.reference.ids, "the message names these ids")
    if u.reference.ambiguous:
        return Decision("clarify", u.reference.ambiguous[:t.max_candidates], "the id is incomplete")
    if kinds.of("injection") >= t.injection_min:
        return Decision("injection", reason=f"P(injection)={kinds.of('injection'):.2f}")
    if kinds.of("unreadable") >= t.unreadable_min and not r.term_nodes:
        return Decision("invalid_input", reason="no_words")
    covered = r.top_dense >= t.dense_min or r.top_lexical >= t.lexical_min or bool(r.term_nodes)
    nearest = _near_the_top(r, t.second_dense_gap, t.second_lexical_ratio, 1) if covered else ()
    if kinds.of("figures") >= t.figures_min:
        if r.figure_rows:  # the figure stands in a loaded 指標 row: quote it
            rows = tuple(dict.fromkeys(p.node_id for p in r.figure_rows))
            return Decision("answer", rows, f"P(figures)={kinds.of('figures'):.2f}; the figure stands in a "
                            "loaded 指標 row", figures=True)
        return Decision("not_in_plan", nearest, f"P(figures)={kinds.of('figures'):.2f}")
    if kinds.of("structure") >= t.structure_min or u.topic_list:
        structure = parse_structure_query(u.text, tree, has_topic=bool(r.expansions) or bool(r.term_nodes))
        if structure is not None and not u.topic_list:
            return Decision("structure", reason="a question about the plan's shape", structure=structure)
    refuse = kinds.of("lookup", "chitchat")
    if refuse >= t.refuse_kind_min and not r.term_nodes and r.top_dense < t.strong_dense:
        offered = _candidates(r, t) if covered else ()
        return Decision("out_of_scope", offered, f"P(lookup|chit-chat)={refuse:.2f}")
    if covered:
        if u.topic_list:
            return Decision("answer", _near_the_top(r, t.topic_dense_gap, t.topic_lexical_ratio,
                                                    t.max_topic_citations), "every node on a theme")
        if kinds.of("plan", "structure") < t.clarify_plan_max and not r.term_nodes and r.top_dense < t.strong_dense:
            return Decision("clarify", _candidates(r, t), "the plan matches but the message is unclear")
        return Decision("answer", _chosen(r, t), "the plan covers it")
    if r.top_dense >= t.plausible_min and kinds.of("plan", "structure") >= refuse:
        return Decision("clarify", _candidates(r, t), "a plausible but weak match")
    return Decision("out_of_scope", (), "nothing in the plan matches")


def _chosen(r: Retrieval, t: Thresholds) -> tuple[str, ...]:
    chosen = list(_near_the_top(r, t.second_dense_gap, t.second_lexical_ratio, t.max_citations))
    for node in r.term_nodes:  # every node where a named plan term stands
        if node not in chosen:
            chosen.append(node)
    return tuple(chosen[:t.max_citations])


def _candidates(r: Retrieval, t: Thresholds) -> tuple[str, ...]:
    return tuple(h.id for h in r.hits[:t.max_candidates])


def _near_the_top(r: Retrieval, dense_gap: float, lexical_ratio: float, limit: int) -> tuple[str, ...]:
    """The top hit plus, in rank order, hits within `dense_gap` of its meaning that share enough words."""
    if not r.hits:
        return ()
    top = r.hits[0]
    near = [h.id for h in r.hits[1:]
            if h.lexical > 0 and h.dense >= top.dense - dense_gap and h.lexical >= lexical_ratio * top.lexical]
    return (top.id, *near)[:limit]
