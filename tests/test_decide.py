"""The decision alone, on hand-built understandings and retrievals: answer, clarify or refuse, and why."""

from __future__ import annotations

from bot.decide import Thresholds, decide
from bot.kinds import KindScores
from bot.references import NodeReference
from bot.retrieval import Retrieval
from bot.types import RetrievedNode
from bot.understand import Understanding
from knowledge.parser import parse_plan
from knowledge.terms import TermHit

TREE = parse_plan()
T = Thresholds()


def kinds(**probabilities: float) -> KindScores:
    rest = (1.0 - sum(probabilities.values())) / 7
    base = dict.fromkeys(("plan", "structure", "figures", "lookup", "chitchat", "injection", "unreadable"), rest)
    return KindScores({**base, **probabilities})


def understood(text: str = "q", **fields: object) -> Understanding:
    values: dict[str, object] = {"kinds": kinds(plan=0.9), **fields}
    return Understanding(text, text, "ja", **values)  # type: ignore[arg-type]


def retrieval(*scores: tuple[str, float, float], terms: tuple[str, ...] = ()) -> Retrieval:
    hits = tuple(RetrievedNode(i, 1.0 / n, d, lex) for n, (i, d, lex) in enumerate(scores, start=1))
    return Retrieval(hits, max((h.dense for h in hits), default=0.0), max((h.lexical for h in hits), default=0.0),
                     (), terms)


STRONG = retrieval(("3.2.2", 0.91, 6.0), ("3.2.3", 0.85, 1.0), ("3.2.1", 0.84, 0.0))
WEAK = retrieval(("3.2.2", 0.835, 0.0), ("1.4.2", 0.833, 0.0), ("2.3.1", 0.83, 0.0))
NOTHING = retrieval(("3.2.2", 0.70, 0.0), ("1.4.2", 0.69, 0.0))


def test_a_covered_plan_question_is_answered_with_the_best_node() -> None:
    d = decide(understood(), STRONG, TREE, T)
    assert (d.outcome, d.nodes[0]) == ("answer", "3.2.2")


def test_a_plausible_but_weak_match_asks_which_topic() -> None:
    d = decide(understood(), WEAK, TREE, T)
    assert d.outcome == "clarify" and d.nodes == ("3.2.2", "1.4.2", "2.3.1")


def test_nothing_near_is_refused_without_candidates() -> None:
    d = decide(understood(kinds=kinds(chitchat=0.9)), NOTHING, TREE, T)
    assert (d.outcome, d.nodes) == ("out_of_scope", ())


def test_a_lookup_the_plan_matches_is_refused_with_the_nearest_topics() -> None:
    d = decide(understood(kinds=kinds(lookup=0.9)), retrieval(("2.2.2", 0.87, 3.5), ("1.4.2", 0.86, 1.0)), TREE, T)
    assert d.outcome == "out_of_scope" and d.nodes[0] == "2.2.2"


def test_a_very_close_match_is_answered_even_when_the_kind_leans_to_lookup() -> None:
    lenient = Thresholds(strong_dense=0.9)  # the override, wherever calibration puts it (1.1 turns it off)
    d = decide(understood(kinds=kinds(lookup=0.7, plan=0.25)), retrieval(("3.2.2", 0.95, 8.0)), TREE, lenient)
    assert d.outcome == "answer"
    assert decide(understood(kinds=kinds(lookup=0.7, plan=0.25)), retrieval(("3.2.2", 0.85, 1.0)), TREE,
                  lenient).outcome == "out_of_scope"


def test_figures_are_not_in_the_loaded_plan_and_name_the_related_node() -> None:
    d = decide(understood(kinds=kinds(figures=0.8)), STRONG, TREE, T)
    assert (d.outcome, d.nodes) == ("not_in_plan", ("3.2.2",))


def test_an_explicit_id_navigates_and_an_incomplete_one_clarifies() -> None:
    assert decide(understood(reference=NodeReference(ids=("1.4",))), NOTHING, TREE, T).outcome == "navigate"
    d = decide(understood(reference=NodeReference(ambiguous=("1.3", "2.3", "3.3"))), NOTHING, TREE, T)
    assert (d.outcome, d.nodes) == ("clarify", ("1.3", "2.3", "3.3"))


def test_a_named_plan_term_is_answered_where_it_stands() -> None:
    hit = TermHit("ふるさと納税", "enablers.2", "ふるさと納税や企業版ふるさと納税による外からの税収拡大")
    d = decide(understood(terms=(hit,), kinds=kinds(structure=0.6)),
               retrieval(("1.3.1", 0.86, 2.0), ("enablers.2", 0.84, 5.0), terms=("enablers.2",)), TREE, T)
    assert d.outcome == "answer" and "enablers.2" in d.nodes


def test_injection_problems_and_unreadable_text() -> None:
    assert decide(understood(kinds=kinds(injection=0.9)), STRONG, TREE, T).outcome == "injection"
    assert decide(Understanding("", "", "ja", problem="empty"), None, TREE, T).outcome == "invalid_input"
    assert decide(Understanding("x", "", "ja", injection=True), None, TREE, T).outcome == "injection"
    assert decide(understood(kinds=kinds(unreadable=0.95)), NOTHING, TREE, T).outcome == "invalid_input"


def test_every_decision_says_why() -> None:
    for r in (STRONG, WEAK, NOTHING):
        assert decide(understood(), r, TREE, T).reason
