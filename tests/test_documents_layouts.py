"""PDFs laid out as cities lay theirs out, each test with its own small PDF (tests/fixtures/layout_pdfs.py):
the 指標 table styles, tables continued over a page break, contents pages, running headers, the sub-headings
that are not 取組, the 序論 and the 資料編, a plan-wide table, and a self-check that tells the truth."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from knowledge.documents.attach import attach
from knowledge.documents.model import Indicator, Passage
from knowledge.documents.readers import read_document
from knowledge.documents.report import DocumentReport
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree
from tests.fixtures.layout_pdfs import Element, heading, item, page_break, space, table, text, write_pdf

pytest.importorskip("fpdf")
if not Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf").exists():
    pytest.skip("no Japanese font (apt-get install fonts-ipafont-gothic)", allow_module_level=True)

SNOW = heading("施策3-2-2 効果的・効率的な雪対策の推進")
HOUSES = heading("施策3-2-3 空家等対策の推進")
ITEMS = [heading("主な取組", 11), item("流雪溝の整備と延伸"), item("地域と協働した雪置き場の確保")]


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


def load(path: Path, tree: PlanTree) -> tuple[list[Passage], DocumentReport]:
    return attach(read_document(path), tree, "test")


def rows_of(passages: list[Passage]) -> list[Indicator]:
    return [p.indicator for p in passages if p.indicator is not None]


def quotes(passages: list[Passage]) -> list[str]:
    return [p.text for p in passages if p.section == "指標"]


# --- the three table styles ----------------------------------------------------------------------


def test_year_in_the_column_header_with_bare_numbers(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS, heading("成果指標", 11), table([
        ("指標名", "現状値（令和5年度）", "目標値（令和12年度）", "単位"),
        ("除排雪に対する市民満足度", "35.2", "50.0", "%"),
        ("流雪溝の整備延長", "120.5", "135.0", "km")])])
    passages, report = load(pdf, tree)
    assert quotes(passages) == ["除排雪に対する市民満足度: 現状値 35.2% (令和5年度) → 目標値 50.0% (令和12年度)",
                                "流雪溝の整備延長: 現状値 120.5km (令和5年度) → 目標値 135.0km (令和12年度)"]
    assert report.counts["3.2.2"] == {"主な取組": 2, "指標": 2} and report.unread_tables == []


def test_unit_as_the_last_column_never_leaks_into_the_next_name(tree: PlanTree, tmp_path: Path) -> None:
    startups = heading("施策1-2-3 若者等への起業・創業支援")
    pdf = write_pdf(tmp_path / "plan.pdf", [startups, *ITEMS, heading("指標", 11),
                                            table([("成果指標", "基準値", "目標値", "単位"),
                                                   ("事業承継の相談件数", "40（R4）", "75（R12）", "件"),
                                                   ("創業支援の融資実行額", "255.8（R4）", "300.0（R12）", "億円")])])
    rows = rows_of(load(pdf, tree)[0])
    assert [(r.name, r.current_value, r.current_year, r.target_value, r.target_year, r.unit) for r in rows] == [
        ("事業承継の相談件数", "40", "R4", "75", "R12", "件"),
        ("創業支援の融資実行額", "255.8", "R4", "300.0", "R12", "億円")]


def test_ruled_table_with_merged_and_wrapped_cells(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS, heading("指標", 11), table([
        ("指標名", "基準", "基準", "目標", "目標"), ("", "年度", "値（%）", "年度", "値（%）"),
        ("地域と協働して確保した雪置き場に満足している市民の割合", "令和4年度", "38.6", "令和11年度", "60.0"),
        ("除排雪に対する市民満足度", "令和4年度", "35.2", "令和11年度", "50.0")], merged_header=True,
        widths=(50, 30, 30, 30, 30))])
    passages, _ = load(pdf, tree)
    assert quotes(passages) == [
        "地域と協働して確保した雪置き場に満足している市民の割合: 現状値 38.6% (令和4年度) → "
        "目標値 60.0% (令和11年度)",
        "除排雪に対する市民満足度: 現状値 35.2% (令和4年度) → 目標値 50.0% (令和11年度)"]


def test_unruled_table_with_a_wrapped_name(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS, heading("指標", 11), table([
        ("指標名", "現状値（令和5年）", "目標値（令和12年）", "単位"),
        ("除雪ボランティアに登録して地域の除雪に参加している市民の人数", "2,180", "2,500", "人"),
        ("流雪溝の整備延長", "120.5", "135.0", "km")], ruled=False, widths=(50, 40, 40, 20)),
        text("※ 数値は架空のものです（サンプル）。")])
    passages, _ = load(pdf, tree)
    assert quotes(passages)[:2] == [
        "除雪ボランティアに登録して地域の除雪に参加している市民の人数: 現状値 2,180人 (令和5年) → "
        "目標値 2,500人 (令和12年)",
        "流雪溝の整備延長: 現状値 120.5km (令和5年) → 目標値 135.0km (令和12年)"]


@pytest.mark.parametrize("repeat_header", [True, False])
def test_a_table_continued_over_a_page_break_is_one_table(tree: PlanTree, tmp_path: Path,
                                                          repeat_header: bool) -> None:
    rows = [("指標名", "現状値（年度）", "目標値（年度）", "単位")]
    rows += [(f"雪対策に関する指標{n}", f"{n}.5（令和5年度）", f"{n + 10}.5（令和12年度）", "%") for n in range(1, 13)]
    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS, heading("指標", 11), space(175),
                                            table(rows, repeat_header=repeat_header)],
                    running_header="青森市 前期基本計画（サンプル・架空）")
    passages, report = load(pdf, tree)
    found = rows_of(passages)
    assert [r.name for r in found] == [f"雪対策に関する指標{n}" for n in range(1, 13)]
    assert {p.source.page for p in passages if p.indicator} == {1, 2}
    assert not [p for p in passages if p.section == "指標" and p.indicator is None]  # no header, no furniture
    assert report.counts["3.2.2"]["指標"] == 12


# --- furniture -------------------------------------------------------------------------------------


def test_contents_page_running_header_and_page_numbers_are_left_out(tree: PlanTree, tmp_path: Path) -> None:
    contents = [heading("目次", 14), text("施策3-2-2 効果的・効率的な雪対策の推進 ・・・・・・・・ 2"),
                text("施策3-2-3 空家等対策の推進 ・・・・・・・・ 3"), page_break()]
    body = [SNOW, *ITEMS, page_break(), HOUSES, heading("主な取組", 11), item("空き家バンクによる利活用の促進")]
    pdf = write_pdf(tmp_path / "plan.pdf", [*contents, *body],
                    running_header="青森市 前期基本計画（サンプル・架空）")
    passages, report = load(pdf, tree)
    assert report.covered == ["3.2.2", "3.2.3"] and report.duplicates == {}
    assert report.contents_pages == [1]
    assert not [p for p in passages if "前期基本計画" in p.text or p.text.strip("- ").isdigit()]
    assert any("running header" in note for note in report.notes)


def test_sub_headings_that_are_not_main_projects_keep_their_own_section(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [
        SNOW, *ITEMS, heading("市民・地域・事業者に期待される役割", 11), item("市民は、自宅前の除雪に協力します"),
        heading("関連する個別計画", 11), text("青森市雪対策基本計画（サンプル）"), heading("SDGsとの関係", 11),
        text("目標11 住み続けられるまちづくりを"), heading("コラム 雪寄せの知恵", 11),
        text("昔から雪寄せが行われてきました。")])
    passages, _ = load(pdf, tree)
    sections = {p.section: p.text for p in passages}
    main_projects = [p.text for p in passages if p.section == "主な取組"]
    assert main_projects == ["流雪溝の整備と延伸", "地域と協働した雪置き場の確保"]
    assert sections["役割"] == "市民は、自宅前の除雪に協力します"
    assert sections["関連計画"] == "青森市雪対策基本計画（サンプル）" and "SDGs" in sections and "コラム" in sections


def test_introduction_plan_wide_table_and_appendix_are_no_measures(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [
        heading("序論", 16), text("この計画は将来都市像の実現に向けた施策を定めます。（サンプル）"),
        heading("施策の体系", 13), text("施策3-2-1 人口減少に対応した災害に強い都市基盤整備"),
        text("施策3-2-2 効果的・効率的な雪対策の推進"), text("施策3-2-3 空家等対策の推進"),
        text("体系の各施策は次章以降で説明します。"), page_break(),
        SNOW, *ITEMS, page_break(), heading("資料編", 16), heading("施策と関連計画の一覧", 12),
        item("施策3-2-3 空家等対策の推進：青森市空家等対策計画（サンプル）"), text("用語解説：流雪溝とは…")])
    passages, report = load(pdf, tree)
    assert report.covered == ["3.2.2"] and report.duplicates == {}
    assert {p.node_id for p in passages} == {"3.2.2"}
    assert not [p for p in passages if "次章以降" in p.text or "用語解説" in p.text or "空家等対策計画" in p.text]
    kinds = [part.kind for part in report.parts]
    assert "intro" in kinds and kinds[-1] == "appendix"
    assert any("資料編" in line for line in report.lines(tree))


# --- the self-check ---------------------------------------------------------------------------------


def _measures(tree: PlanTree, count: int) -> list[Element]:
    elements: list[Element] = []
    header = ("指標名", "現状値（年度）", "目標値（年度）", "単位")
    for node in [n for n in tree if n.kind == "measure"][:count]:
        number = node.id.replace(".", "-")
        row = (f"{node.title}の指標", "1.0（令和5年度）", "2.0（令和12年度）", "%")
        elements += [heading(f"施策{number} {node.title}"), heading("主な取組", 11),
                     item(f"{node.title}の取組（サンプル）"), heading("指標", 11), table([header, row]), page_break()]
    return elements


def test_a_cut_of_eleven_measures_says_eleven(tree: PlanTree, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "cut.pdf", _measures(tree, 11), running_header="前期基本計画（サンプル・架空）")
    _, report = load(pdf, tree)
    assert len(report.covered) == 11 and report.duplicates == {}
    assert "on 11/52 measures" in report.lines(tree)[0]
    assert all(report.counts[n] == {"主な取組": 1, "指標": 1} for n in report.covered)


def test_an_unreadable_indicator_table_is_named_with_its_page_and_strict_fails(tree: PlanTree,
                                                                             tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS, page_break(), heading("指標", 11),
                                            text("市民満足度の向上を目指します（数値は検討中）。")])
    _, report = load(pdf, tree)
    assert [(t.node_id, t.page) for t in report.unread_tables] == [("3.2.2", 2)]
    assert any(line.startswith("  指標 not read p.2: 3.2.2") for line in report.lines(tree))
    assert report.strict_failures(tree) == [f"plan.pdf: 3.2.2 {tree['3.2.2'].title} has no readable 指標"]


def test_index_strict_exits_1_and_writes_nothing(tree: PlanTree, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.cli import main

    pdf = write_pdf(tmp_path / "plan.pdf", [SNOW, *ITEMS])
    monkeypatch.setenv("PLANBOT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["index", "--strict", "--source", str(pdf)])
    assert result.exit_code == 1, result.output
    assert "--strict: nothing written" in result.output and "has no readable 指標" in result.output
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.sqlite3"))


# --- the same row reader for HTML and Word tables ------------------------------------------------------


def test_html_table_with_years_in_the_header_and_merged_cells(tree: PlanTree, tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    page.write_text("""<html><head><meta charset="utf-8"><title>サンプル（架空の内容）</title></head><body>
    <h3>施策3-2-2 効果的・効率的な雪対策の推進</h3><h4>主な取組</h4><ul><li>流雪溝の整備と延伸</li></ul>
    <h4>成果指標</h4><table>
    <tr><th rowspan="2">指標名</th><th colspan="2">現状</th><th colspan="2">目標</th></tr>
    <tr><th>令和5年度</th><th>単位</th><th>令和12年度</th><th>単位</th></tr>
    <tr><td>除排雪に対する<br>市民満足度</td><td>35.2</td><td rowspan="2">%</td><td>50.0</td><td rowspan="2">%</td></tr>
    <tr><td>除雪に協力する町会の割合</td><td>61.0</td><td>80.0</td></tr></table></body></html>""",
                    encoding="utf-8")
    rows = rows_of(load(page, tree)[0])
    assert [(r.name, r.current_value, r.current_year, r.target_value, r.target_year, r.unit) for r in rows] == [
        ("除排雪に対する市民満足度", "35.2", "令和5年度", "50.0", "令和12年度", "%"),
        ("除雪に協力する町会の割合", "61.0", "令和5年度", "80.0", "令和12年度", "%")]


def test_word_table_with_a_unit_column_and_a_merged_cell(tree: PlanTree, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("サンプル（架空の内容）")
    document.add_heading("施策3-2-2 効果的・効率的な雪対策の推進", level=3)
    document.add_heading("主な取組", level=4)
    document.add_paragraph("流雪溝の整備と延伸", style="List Bullet")
    document.add_heading("指標", level=4)
    cells = [("指標名", "現状値（令和5年度）", "目標値（令和12年度）", "単位"),
             ("流雪溝の整備延長", "120.5", "135.0", "km"), ("除雪車の位置情報の公開路線の延長", "80.0", "150.0", "")]
    table = document.add_table(rows=3, cols=4)
    for row, texts in zip(table.rows, cells, strict=True):
        for cell, value in zip(row.cells, texts, strict=True):
            cell.text = value
    table.cell(1, 3).merge(table.cell(2, 3))  # the unit written once for both rows
    path = tmp_path / "plan.docx"
    document.save(str(path))
    rows = rows_of(load(path, tree)[0])
    assert [(r.name, r.current_value, r.target_value, r.target_year, r.unit) for r in rows] == [
        ("流雪溝の整備延長", "120.5", "135.0", "令和12年度", "km"),
        ("除雪車の位置情報の公開路線の延長", "80.0", "150.0", "令和12年度", "km")]
