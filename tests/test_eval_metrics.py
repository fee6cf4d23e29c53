"""Hand-made examples for every eval metric, including the ancestor rules for retrieval and citations."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.types import Answer, Citation, RetrievedNode
from evals.dataset import DatasetError, EvalRow, load_rows, parse_row, split_paths
from evals.metrics import (
    aggregate,
    citation_precision,
    citation_recall,
    percentile,
    retrieval_score,
    score_row,
)
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


def row(row_id: str = "r1", gold: tuple[str, ...] = ("3.2.2",), answerable: bool = True,
        acceptable: tuple[str, ...] = (), must_include: tuple[str, ...] = (),
        must_not_include: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> EvalRow:
    return EvalRow(row_id, "冬の除雪は？", gold, acceptable, answerable, must_include, must_not_include, tags)


def answer(cited: tuple[str, ...] = (), answerable: bool = True, text: str = "除雪を進めます。",
           retrieved: tuple[str, ...] = (), latency_ms: float = 10.0) -> Answer:
    return Answer("冬の除雪は？", text, answerable, tuple(Citation(c, c) for c in cited),
                  retrieved=tuple(RetrievedNode(r, 1.0) for r in retrieved), latency_ms=latency_ms)


# Retrieval


def test_retrieval_exact_hit_at_rank_one(tree: PlanTree) -> None:
    score = retrieval_score(tree, ["3.2.2"], ["3.2.2", "1.1.1"])
    assert (score.hit1, score.hit3, score.hit5, score.reciprocal_rank, score.ndcg5) == (1, 1, 1, 1, 1)


def test_retrieval_descendant_of_gold_policy_hits(tree: PlanTree) -> None:
    score = retrieval_score(tree, ["2.4"], ["1.1.1", "2.4.1"])
    assert score.hit1 == 0.0
    assert score.hit3 == 1.0
    assert score.reciprocal_rank == 0.5
    assert score.ndcg5 == pytest.approx(1 / math.log2(3))


def test_retrieval_ancestor_of_gold_measure_does_not_hit(tree: PlanTree) -> None:
    score = retrieval_score(tree, ["2.4.1"], ["2.4", "2", "1.1.1", "1.1.2", "1.1.3", "2.4.1"])
    assert (score.hit1, score.hit3, score.hit5) == (0.0, 0.0, 0.0)
    assert score.reciprocal_rank == pytest.approx(1 / 6)
    assert score.ndcg5 == 0.0


def test_retrieval_each_gold_counts_once_and_duplicates_collapse(tree: PlanTree) -> None:
    # 2.4.1 and 2.4.2 both sit under gold 2.4; only the first earns gain. 3.2.2 is found at rank 3.
    score = retrieval_score(tree, ["2.4", "3.2.2"], ["2.4.1", "2.4.1", "2.4.2", "3.2.2"])
    ideal = 1 + 1 / math.log2(3)
    assert score.ndcg5 == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert score.hit1 == 1.0


def test_retrieval_nothing_retrieved(tree: PlanTree) -> None:
    score = retrieval_score(tree, ["1.1.1"], [])
    assert (score.hit5, score.reciprocal_rank, score.ndcg5) == (0.0, 0.0, 0.0)


# Citations


def test_precision_ancestor_rules(tree: PlanTree) -> None:
    allowed = {"3.2.2"}
    assert citation_precision(tree, ["3.2.2"], allowed) == 1.0
    assert citation_precision(tree, ["3"], allowed) == 1.0  # vague, not wrong
    assert citation_precision(tree, ["3.2.1"], allowed) == 0.0  # a sibling is wrong
    assert citation_precision(tree, ["3.2.2", "1.1.1"], allowed) == 0.5
    assert citation_precision(tree, ["2.4.1"], {"2.4"}) == 1.0  # below a gold policy
    assert citation_precision(tree, [], allowed) is None


def test_precision_counts_acceptable_and_sections(tree: PlanTree) -> None:
    assert citation_precision(tree, ["enablers.1", "1.1.1"], {"enablers.1"}) == 0.5
    assert citation_precision(tree, ["enablers.1"], {"enablers.2"}) == 0.0


def test_recall_covers_ancestors_not_descendants(tree: PlanTree) -> None:
    assert citation_recall(tree, ["3.2.2"], ["3.2", "3"]) == 1.0
    assert citation_recall(tree, ["3.2"], ["3.2.2"]) == 0.0  # a policy does not cover its measure
    assert citation_recall(tree, ["3.2.2"], ["3.2.2", "2.4.1"]) == 0.5
    assert citation_recall(tree, ["3.2.2"], []) is None


# Answer accuracy


def test_answerable_row_correct(tree: PlanTree) -> None:
    score = score_row(tree, row(must_include=("除雪",)), answer(("3.2.2",)))
    assert score.correct and score.reasons == ()
    assert (score.precision, score.recall) == (1.0, 1.0)


def test_answerable_row_failures_say_why(tree: PlanTree) -> None:
    refused = score_row(tree, row(), answer((), answerable=False))
    assert not refused.correct
    assert refused.precision == 0.0  # nothing cited on an answerable row counts as 0, not undefined
    assert any("refused" in r for r in refused.reasons)
    assert any("not covered" in r for r in refused.reasons)
    vague = score_row(tree, row(), answer(("3.2",)))
    assert not vague.correct and vague.precision == 1.0 and vague.recall == 0.0
    imprecise = score_row(tree, row(), answer(("3.2.2", "1.1.1", "1.1.2")))
    assert not imprecise.correct
    assert imprecise.precision == pytest.approx(1 / 3)
    two_of_two = score_row(tree, row(), answer(("3.2.2", "1.1.1")))
    assert two_of_two.correct  # precision 0.5 is enough


def test_text_checks_are_nfkc_and_case_insensitive(tree: PlanTree) -> None:
    text = "ＬＩＮＥで除雪情報"
    assert score_row(tree, row(must_include=("line",)), answer(("3.2.2",), text=text)).correct
    bad = score_row(tree, row(must_not_include=("Line",)), answer(("3.2.2",), text=text))
    assert not bad.correct and "forbidden" in bad.reasons[0]
    missing = score_row(tree, row(must_include=("予算",)), answer(("3.2.2",), text=text))
    assert not missing.correct and "missing" in missing.reasons[0]


def test_unanswerable_rows(tree: PlanTree) -> None:
    out = row(gold=(), answerable=False)
    assert score_row(tree, out, answer((), answerable=False)).correct
    assert score_row(tree, out, answer((), answerable=False)).precision is None
    assert not score_row(tree, out, answer((), answerable=True)).correct
    cites_measure = score_row(tree, out, answer(("3.2.2",), answerable=False))
    assert not cites_measure.correct and "cited measures" in cites_measure.reasons[0]
    assert score_row(tree, out, answer(("enablers.1",), answerable=False)).correct
    not_in_plan = row(gold=(), answerable=False, acceptable=("3.2.2",), tags=("not_in_plan",))
    assert score_row(tree, not_in_plan, answer(("3.2.2",), answerable=False)).correct


# Aggregation


def test_aggregate_numbers(tree: PlanTree) -> None:
    rows_answers = [
        (row("a", tags=("snow",)), answer(("3.2.2",), retrieved=("3.2.2",), latency_ms=10)),
        (row("b", tags=("snow",)), answer(("1.1.1",), retrieved=("1.1.1", "3.2.2"), latency_ms=20)),
        (row("c", gold=(), answerable=False, tags=("out",)), answer(answerable=False, latency_ms=30)),
        (row("d", gold=(), answerable=False, tags=("out",)), answer(("1.1.1",), latency_ms=40)),
    ]
    metrics = aggregate([score_row(tree, r, a) for r, a in rows_answers])
    assert metrics["n"] == 4 and metrics["n_answerable"] == 2
    assert metrics["answer_accuracy"] == 0.5  # a and c
    assert metrics["citation_precision"] == pytest.approx(1 / 3)  # a=1, b=0, d=0; c undefined
    assert metrics["citation_recall"] == 0.5
    assert metrics["refusal_accuracy"] == 0.5
    assert metrics["false_refusal_rate"] == 0.0
    assert (metrics["hit@1"], metrics["hit@3"], metrics["mrr"]) == (0.5, 1.0, 0.75)
    assert metrics["latency_p50_ms"] == 25.0
    assert metrics["latency_p95_ms"] == pytest.approx(38.5)
    assert metrics["by_tag"] == {"out": {"n": 2, "answer_accuracy": 0.5}, "snow": {"n": 2, "answer_accuracy": 0.5}}


def test_aggregate_without_rows_is_undefined() -> None:
    metrics = aggregate([])
    assert metrics["answer_accuracy"] is None and metrics["latency_p95_ms"] is None


def test_percentile() -> None:
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 50) is None


# Dataset loading


def test_load_rows_and_errors_name_file_and_line(tree: PlanTree, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "x1", "question": "除雪", "gold": ["3.2.2"], "answerable": true, "tags": ["snow"]}\n\n'
                    '{"id": "x2", "question": "天気", "gold": [], "acceptable": [], "answerable": false}\n',
                    encoding="utf-8")
    rows = load_rows([good], tree)
    assert [r.id for r in rows] == ["x1", "x2"]
    assert rows[0].tags == ("snow",) and rows[0].origin == f"{good}:1"
    cases = {
        "{not json": "invalid JSON",
        '{"id": "y", "question": "q", "answerable": true}': "missing field(s): gold",
        '{"id": "y", "question": "q", "gold": ["9.9.9"], "answerable": true}': "unknown plan node id(s): 9.9.9",
        '{"id": "y", "question": "q", "gold": [], "answerable": "yes"}': "'answerable' must be true or false",
        '{"id": "y", "question": "q", "gold": ["1"], "answerable": true, "golds": []}': "unknown field(s): golds",
        '{"id": "y", "question": "q", "gold": [], "answerable": true}': "needs at least one gold id",
        '[1, 2]': "must be a JSON object",
    }
    for line, message in cases.items():
        bad = tmp_path / "bad.jsonl"
        bad.write_text(f'{good.read_text(encoding="utf-8").splitlines()[0]}\n{line}\n', encoding="utf-8")
        with pytest.raises(DatasetError, match=rf"bad\.jsonl:2: .*{message[:12]}"):
            load_rows([bad], tree)
    with pytest.raises(DatasetError, match="duplicate row id 'x1'"):
        load_rows([good, good], tree)
    with pytest.raises(DatasetError, match="not found"):
        load_rows([tmp_path / "missing.jsonl"], tree)


def test_parse_row_rejects_bad_lists(tree: PlanTree) -> None:
    with pytest.raises(DatasetError, match="'tags' must be a list"):
        parse_row({"id": "z", "question": "q", "gold": ["1"], "answerable": True, "tags": "snow"}, tree, "f:1")


def test_split_paths() -> None:
    assert [p.name for p in split_paths("all")] == ["dev.jsonl", "test.jsonl"]
    assert [p.name for p in split_paths("dev")] == ["dev.jsonl"]
    with pytest.raises(DatasetError):
        split_paths("train")
