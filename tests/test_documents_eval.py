"""The documents eval's judging and gate, on answers made up here (the eval itself runs the real core:
`planbot eval --documents`)."""

from __future__ import annotations

from pathlib import Path

from bot.types import Answer, Citation
from evals.documents import DocumentRow, gate_failures, judge, load_questions, metrics, numbers_in
from evals.gate import load_config


def _row(answerable: bool = True, figures: tuple[str, ...] = ("3,000",)) -> DocumentRow:
    return DocumentRow("doc-x", "子育て相談窓口の年間相談件数を何件にしたい？", "2.1.1", answerable,
                       "指標" if answerable else None, figures if answerable else (), ("令和12年度", "件"), (), ())


def _answer(text: str, kind: str = "plan", node: str = "2.1.1") -> Answer:
    return Answer("q", text, kind == "plan", (Citation(node, "p", section="指標"),) if kind == "plan" else (),
                  kind=kind)


def test_figures_are_compared_after_nfkc_and_without_thousands_separators() -> None:
    assert numbers_in("目標値 ３，０００件 (令和12年度)") == {"3000", "12"}
    answer = _answer("相談件数: 現状値 2,400件 (令和5年度) → 目標値 3000件 (令和12年度)")
    result = judge(_row(), answer, {"2400", "3000", "5", "12"})
    assert result.passed, result.reasons


def test_a_number_in_neither_the_document_nor_the_question_is_invented() -> None:
    result = judge(_row(), _answer("目標値 3,000件 (令和12年度)、予算は7億円です"), {"3000", "12"})
    assert not result.passed and result.invented == {"7"}
    assert "invented" in result.reasons[0]


def test_a_cited_page_is_no_figure_and_a_refusal_must_be_a_refusal() -> None:
    cited = judge(_row(), _answer("目標値 3,000件 (令和12年度)（出典：v / plan.pdf p.9）"), {"3000", "12"})
    assert cited.passed, cited.reasons
    refused = judge(_row(answerable=False), _answer("記載されていません。", kind="not_in_plan"), set())
    answered = judge(_row(answerable=False), _answer("目標値 3,000件"), {"3000"})
    assert refused.passed and not answered.passed
    scores = metrics([refused, answered])
    assert scores["refusals"] == 0.5 and scores["invented_figures"] == 0


def test_the_gate_reads_accuracy_and_invented_figures_and_the_split_gate_ignores_it() -> None:
    passing = {"pdf": {"accuracy": 0.96, "invented_figures": 0}}
    assert gate_failures(passing) == []
    failing = gate_failures({"docx": {"accuracy": 0.94, "invented_figures": 1}})
    assert len(failing) == 2 and all(line.startswith("[documents docx]") for line in failing)
    assert "documents" not in load_config().minimums


def test_the_question_file_holds_what_the_issue_asks() -> None:
    rows = load_questions()
    tags = [r.tags[0] for r in rows]
    assert len(rows) >= 100 and tags.count("figure-absent") >= 25
    assert {"figure-present", "items", "issues"} <= set(tags)
    assert all(r.figures and r.section == "指標" for r in rows if r.tags[0] == "figure-present")
    assert Path("tests/fixtures/sample_plan/sample_plan.pdf").exists()
