"""The per-document self-check, and the structure rules: tables of contents, running headers, rows kept whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.documents.attach import attach
from knowledge.documents.indicators import indicator_from_cells, indicator_from_line
from knowledge.documents.model import Block, Passage
from knowledge.documents.readers import ReadDocument
from knowledge.documents.report import DocumentReport
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


def _lines(*lines: str, page_break_every: int = 0) -> ReadDocument:
    blocks = [Block("text", line, page=(i // page_break_every + 1) if page_break_every else 1)
              for i, line in enumerate(lines)]
    return ReadDocument(Path("plan.pdf"), "pdf", blocks, pages=blocks[-1].page)


def _attach(document: ReadDocument, tree: PlanTree) -> tuple[list[Passage], DocumentReport]:
    return attach(document, tree, "v-test")


def test_the_report_lists_covered_unplaced_twice_and_differing_titles(tree: PlanTree) -> None:
    document = _lines(
        "施策3-2-2 効果的・効率的な雪対策の推進", "主な取組", "・流雪溝の整備と延伸",
        "施策3-2-3 空き家等対策の推進", "主な取組", "・空き家バンクの運営",
        "施策3-2-9 雪国ライフの推進", "主な取組", "・雪かき体験ツアー", "・雪像コンテスト",
        "施策3-2-2 効果的・効率的な雪対策の推進", "主な取組", "・雪置き場の確保",
    )
    passages, report = _attach(document, tree)
    assert report.covered == ["3.2.2", "3.2.3"]
    assert list(report.duplicates) == ["3.2.2"]
    assert [(d.node_id, d.document_title) for d in report.title_differences] == [("3.2.3", "空き家等対策の推進")]
    assert [(u.heading, u.dropped) for u in report.unplaced] == [("施策3-2-9 雪国ライフの推進", 3)]
    assert not any("雪かき" in p.text or "雪像" in p.text for p in passages)  # never attached to 3.2.3
    text = "\n".join(report.lines(tree))
    assert "2/52 measures" in text and "found twice: 3.2.2" in text and "雪国ライフ" in text


def test_a_table_of_contents_is_not_a_duplicate(tree: PlanTree) -> None:
    document = _lines(
        "目次", "施策3-2-2 効果的・効率的な雪対策の推進", "施策3-2-3 空家等対策の推進",
        "施策3-2-2 効果的・効率的な雪対策の推進", "主な取組", "・流雪溝の整備と延伸",
        "施策3-2-3 空家等対策の推進", "主な取組", "・空き家バンクの運営",
    )
    _, report = _attach(document, tree)
    assert report.duplicates == {} and report.covered == ["3.2.2", "3.2.3"]


def test_a_running_header_on_every_page_does_not_break_a_measure(tree: PlanTree) -> None:
    document = _lines(
        "第3章 まちをデザインする", "施策3-2-2 効果的・効率的な雪対策の推進", "主な取組", "・流雪溝の",
        "第3章 まちをデザインする", "整備と延伸", "・雪置き場の確保",
        page_break_every=4,
    )
    passages, report = _attach(document, tree)
    assert [p.text for p in passages] == ["流雪溝の整備と延伸", "雪置き場の確保"]
    assert [p.source.page for p in passages] == [1, 2]
    assert report.duplicates == {} and report.unplaced == []


def test_text_under_a_policy_is_kept_as_its_overview(tree: PlanTree) -> None:
    document = _lines("政策2 災害防止・雪対策の充実", "雪に強いまちをつくります。",
                      "施策② 効果的・効率的な雪対策の推進", "現状と課題", "除雪費が増えています。")
    passages, report = _attach(document, tree)
    assert [(p.node_id, p.section) for p in passages] == [("3.2", "概要"), ("3.2.2", "現状と課題")]
    assert report.covered_other == ["3.2"]


def test_long_narrative_is_split_at_sentence_ends_only(tree: PlanTree) -> None:
    sentences = [f"これは{i}番目の文で、雪対策の現状について詳しく説明するための架空の文章です。" for i in range(20)]
    document = _lines("施策3-2-2 効果的・効率的な雪対策の推進", "現状と課題", *sentences)
    passages, _ = _attach(document, tree)
    assert len(passages) > 1
    assert all(p.text.endswith("。") for p in passages)
    assert "".join(p.text for p in passages) == "".join(sentences)


def test_a_wrapped_indicator_row_stays_whole(tree: PlanTree) -> None:
    document = _lines(
        "施策3-2-2 効果的・効率的な雪対策の推進", "指標", "指標名 現状値（年度） 目標値（年度） 単位",
        "地域と協働して確保した", "雪置き場の数 48箇所（令和5年度） 60箇所（令和12年度）",
        "※ 雪置き場の数は各年度末の値（サンプル）",
        "除排雪に対する市民満足度 35.2%（R5年度） 50.0%（R12年度）",
    )
    passages, _ = _attach(document, tree)
    rows = [p.indicator for p in passages if p.indicator is not None]
    assert [(r.name, r.current_value, r.target_value, r.unit) for r in rows] == [
        ("地域と協働して確保した雪置き場の数", "48", "60", "箇所"), ("除排雪に対する市民満足度", "35.2", "50.0", "%")]
    assert [p.text for p in passages if p.indicator is None] == ["※ 雪置き場の数は各年度末の値（サンプル）"]


@pytest.mark.parametrize(("line", "expected"), [
    ("除排雪に対する市民満足度 35.2%（令和5年度） 50.0%（令和12年度）",
     ("35.2", "令和5年度", "50.0", "令和12年度", "%")),
    ("流雪溝の整備延長 120.5 km (2023年度) 135.0 km (2030年度)", ("120.5", "2023年度", "135.0", "2030年度", "km")),
    ("相談件数 2,400件 令和5年度 3,000件 令和12年度", ("2,400", "令和5年度", "3,000", "令和12年度", "件")),
    ("満足度 | 35.2（令和元年度） | 50.0（令和12年度） | %", ("35.2", "令和元年度", "50.0", "令和12年度", "%")),
])
def test_indicator_lines(line: str, expected: tuple[str, ...]) -> None:
    row = indicator_from_line(line)
    assert row is not None
    assert (row.current_value, row.current_year, row.target_value, row.target_year, row.unit) == expected


def test_indicator_line_without_two_values_is_not_a_row() -> None:
    assert indicator_from_line("除排雪に対する市民満足度 35.2%（令和5年度）") is None
    assert indicator_from_line("指標名 現状値（年度） 目標値（年度）") is None


def test_indicator_cells_with_year_columns() -> None:
    from knowledge.documents.indicators import read_header

    columns = read_header(("指標", "基準値", "基準年度", "目標値", "目標年度", "単位"))
    row = indicator_from_cells(("流雪溝の整備延長", "120.5", "令和5年度", "135.0", "令和12年度", "km"), columns)
    assert row is not None
    assert row.quote() == "流雪溝の整備延長: 現状値 120.5km (令和5年度) → 目標値 135.0km (令和12年度)"


def test_a_heading_wrapped_onto_two_lines_is_joined(tree: PlanTree) -> None:
    document = _lines("施策2-1-1 多様なニーズに応じた切れ目のない", "子育て支援", "主な取組", "・一時預かりの拡充")
    passages, report = _attach(document, tree)
    assert [(p.node_id, p.section, p.text) for p in passages] == [("2.1.1", "主な取組", "一時預かりの拡充")]
    assert report.unplaced == [] and report.title_differences == []


def test_sub_headings_under_main_projects_are_items_with_their_description(tree: PlanTree) -> None:
    blocks = [Block("heading", "施策② 効果的・効率的な雪対策の推進", level=3), Block("heading", "主な取組", level=4),
              Block("heading", "(1) 除排雪の効率化", level=5), Block("text", "委託区域を見直します。"),
              Block("heading", "(2) 流雪溝の整備", level=5), Block("text", "延伸を進めます。"),
              Block("heading", "関連する個別計画", level=4), Block("text", "青森市雪対策計画（サンプル）")]
    document = ReadDocument(Path("plan.md"), "markdown", [Block("heading", "政策2 災害防止・雪対策の充実", level=2),
                                                          *blocks])
    passages, _ = _attach(document, tree)
    assert [(p.section, p.text) for p in passages] == [
        ("主な取組", "除排雪の効率化委託区域を見直します。"), ("主な取組", "流雪溝の整備延伸を進めます。"),
        ("関連計画", "青森市雪対策計画（サンプル）")]


def test_text_in_the_style_of_the_taikeizu_with_bullet_headings(tree: PlanTree, tmp_path: Path) -> None:
    from knowledge.documents.readers import read_document

    source = tmp_path / "plan.txt"
    source.write_text("サンプル（架空の内容）\n- 政策 2 災害防止・雪対策の充実**\n"
                      " - 施策② 効果的・効率的な雪対策の推進\n"
                      "主な取組\n - 流雪溝の整備と延伸\n - 雪置き場の確保\n", encoding="utf-8")
    passages, report = _attach(read_document(source), tree)
    assert [(p.node_id, p.section, p.text) for p in passages] == [
        ("3.2.2", "主な取組", "流雪溝の整備と延伸"), ("3.2.2", "主な取組", "雪置き場の確保")]
    assert report.covered == ["3.2.2"]
