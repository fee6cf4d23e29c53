"""Terms that stand verbatim in the plan lead to the lines that hold them; common words do not."""

from __future__ import annotations

import pytest

from knowledge.parser import parse_plan
from knowledge.terms import PlanTerms

TERMS = PlanTerms(parse_plan())


@pytest.mark.parametrize(("question", "node"), [
    ("DXはどこに出てくる？", "1.2.1"),
    ("ＧＸって何？", "1.2.2"),
    ("ふるさと納税はどこに書いてある？", "enablers.2"),
    ("PFIってやるの？", "enablers.2"),
    ("スマートオープンシティとは", "viewpoints"),
    ("1on1やってるの？", "enablers.1"),
    ("SDGsとの関係は？", "enablers.5"),
])
def test_a_named_term_finds_the_node_where_it_stands(question: str, node: str) -> None:
    hits = TERMS.find(question)
    assert node in {h.node_id for h in hits}
    hit = next(h for h in hits if h.node_id == node)
    assert hit.term.lower() in hit.line.lower()  # the quoted line really holds the term


def test_dx_stands_in_two_places_and_both_are_found() -> None:
    assert {h.node_id for h in TERMS.find("DXの取組")} == {"1.2.1", "enablers.2"}


@pytest.mark.parametrize("question", ["除雪は？", "支援してほしい", "推進って何", "GXY", "maxの値"])
def test_common_words_and_lookalikes_are_not_terms(question: str) -> None:
    assert TERMS.find(question) == []


def test_a_whole_title_names_its_measure() -> None:
    assert next(h.node_id for h in TERMS.find("「効果的・効率的な雪対策の推進」について教えて")) == "3.2.2"
