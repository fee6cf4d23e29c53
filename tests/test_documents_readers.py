"""Readers: each format gives the same passages for the same sample; bad files get one clear error each."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from knowledge.documents import DocumentError, Passage
from knowledge.documents.attach import attach
from knowledge.documents.readers import read_document
from knowledge.parser import parse_plan
from knowledge.tree import PlanTree

SAMPLE = Path(__file__).parent / "fixtures" / "sample_plan"


@pytest.fixture(scope="module")
def tree() -> PlanTree:
    return parse_plan()


def _passages(path: Path, tree: PlanTree) -> list[Passage]:
    return attach(read_document(path), tree, "test")[0]


def _content(passages: list[Passage]) -> list[tuple[object, ...]]:
    return [(p.node_id, p.section, p.text, p.indicator) for p in passages]


@pytest.mark.parametrize("name", ["sample_plan.md", "sample_plan.pdf", "sample_plan.docx"])
def test_each_format_gives_the_snow_measures_items_and_indicator_rows(name: str, tree: PlanTree) -> None:
    passages = [p for p in _passages(SAMPLE / name, tree) if p.node_id == "3.2.2"]
    items = [p.text for p in passages if p.section == "主な取組"]
    assert items == ["除排雪作業の委託区域の見直しによる作業の効率化", "流雪溝の整備と延伸",
                     "地域と協働した雪置き場の確保", "除雪車の位置情報を活用した作業状況の情報発信"]
    rows = [p.indicator for p in passages if p.section == "指標"]
    assert [(r.name, r.current_value, r.current_year, r.target_value, r.target_year, r.unit)
            for r in rows if r is not None] == [
        ("除排雪に対する市民満足度", "35.2", "令和5年度", "50.0", "令和12年度", "%"),
        ("流雪溝の整備延長", "120.5", "令和5年度", "135.0", "令和12年度", "km"),
        ("地域と協働して確保した雪置き場の数", "48", "令和5年度", "60", "令和12年度", "箇所"),
    ]
    assert rows[0] is not None
    assert rows[0].quote() == "除排雪に対する市民満足度: 現状値 35.2% (令和5年度) → 目標値 50.0% (令和12年度)"
    assert {p.section for p in passages} == {"現状と課題", "目指す姿", "主な取組", "指標", "コラム"}


@pytest.mark.parametrize("name", ["sample_plan.md", "sample_plan.pdf", "sample_plan.docx"])
def test_every_indicator_row_is_whole_and_no_header_is_a_passage(name: str, tree: PlanTree) -> None:
    passages = _passages(SAMPLE / name, tree)
    rows = [p.indicator for p in passages if p.indicator is not None]
    assert len(rows) == 25
    assert all(r.name and r.current_value and r.current_year and r.target_value and r.target_year and r.unit
               for r in rows), [r for r in rows if not r.unit]
    assert not [p for p in passages if p.section == "指標" and p.indicator is None]  # no header, no unit leaking
    assert not [r for r in rows if " " in r.name or "現状値" in r.name or "単位" in r.name]


def test_pdf_docx_and_markdown_agree_passage_for_passage(tree: PlanTree) -> None:
    markdown = _content(_passages(SAMPLE / "sample_plan.md", tree))
    assert _content(_passages(SAMPLE / "sample_plan.pdf", tree)) == markdown
    assert _content(_passages(SAMPLE / "sample_plan.docx", tree)) == markdown


def test_pdf_passages_carry_their_page(tree: PlanTree) -> None:
    passages = _passages(SAMPLE / "sample_plan.pdf", tree)
    pages = {p.node_id: p.source.page for p in passages}
    assert pages["1.2.1"] == 4 and pages["3.2.2"] == 9  # after the contents page and the 序論
    assert all(p.source.file == "sample_plan.pdf" for p in passages)
    assert all(p.source.page is None for p in _passages(SAMPLE / "sample_plan.docx", tree))


def test_every_fixture_says_it_is_an_invented_sample() -> None:
    assert "サンプル（架空の内容）" in (SAMPLE / "sample_plan.md").read_text(encoding="utf-8")
    for name in ("sample_plan.pdf", "sample_plan.docx"):
        texts = [b.text for b in read_document(SAMPLE / name).blocks]
        assert any("サンプル（架空の内容）" in t for t in texts), name


def test_html_with_headings_lists_and_a_table(tree: PlanTree, tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    page.write_text("""<html><head><meta charset="utf-8"><title>サンプル（架空の内容）</title>
    <script>var x = "施策3-2-3 空家等対策の推進";</script></head><body>
    <nav><a href="/">施策3-2-1 人口減少に対応した災害に強い都市基盤整備</a></nav>
    <h2>第3章 まちをデザインする</h2><h3>政策2 災害防止・雪対策の充実</h3>
    <h4>施策② 効果的・効率的な雪対策の推進</h4>
    <h5>主な取組</h5><ul><li>流雪溝の<strong>整備</strong>と延伸</li><li>雪置き場の確保</li></ul>
    <h5>指標</h5><table><tr><th>指標名</th><th>現状値</th><th>基準年度</th><th>目標値</th><th>目標年度</th><th>単位</th></tr>
    <tr><td>除排雪に対する市民満足度</td><td>35.2</td><td>令和5年度</td><td>50.0</td><td>令和12年度</td><td>%</td></tr>
    </table></body></html>""", encoding="utf-8")
    passages = _passages(page, tree)
    assert [(p.node_id, p.section, p.text) for p in passages if p.section == "主な取組"] == [
        ("3.2.2", "主な取組", "流雪溝の整備と延伸"), ("3.2.2", "主な取組", "雪置き場の確保")]
    row = next(p.indicator for p in passages if p.indicator is not None)
    assert (row.current_value, row.current_year, row.target_value, row.target_year, row.unit) == (
        "35.2", "令和5年度", "50.0", "令和12年度", "%")
    assert {p.node_id for p in passages} == {"3.2.2"}  # nothing from <script> or <nav>


def test_plain_text_in_shift_jis(tree: PlanTree, tmp_path: Path) -> None:
    text = tmp_path / "plan.txt"
    text.write_bytes("サンプル（架空の内容）\n3-2-3 空家等対策の推進\n主な取組\n・空き家バンクの運営\n".encode("cp932"))
    passages = _passages(text, tree)
    assert [(p.node_id, p.section, p.text) for p in passages] == [("3.2.3", "主な取組", "空き家バンクの運営")]


def test_a_pdf_protected_only_against_editing_is_read(tree: PlanTree, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(SAMPLE / "sample_plan.pdf"))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    target = tmp_path / "protected.pdf"
    with target.open("wb") as handle:
        writer.write(handle)
    assert _content(_passages(target, tree)) == _content(_passages(SAMPLE / "sample_plan.pdf", tree))


def _docx_bytes() -> bytes:
    return (SAMPLE / "sample_plan.docx").read_bytes()


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("scanned.pdf", None, "no text layer"),
    ("encrypted.pdf", None, "encrypted with a password"),
    ("corrupt.pdf", None, "corrupt"),
    ("empty.pdf", b"", "empty"),
    ("blank.md", b"  \n\n", "empty"),
    ("plan.pdf", "word", "not a PDF"),
    ("plan.docx", "pdf", "not a Word .docx"),
    ("plan.md", "pdf", "not a markdown file"),
    ("plan.html", "word", "not a html file"),
    ("plan.xlsx", b"PK\x03\x04rest", "unsupported file type"),
    ("plan.doc", b"\xd0\xcf\x11\xe0rest", "save it as .docx"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt"),
])
def test_bad_files_get_one_line_naming_the_file(name: str, content: bytes | str | None, expected: str,
                                                tmp_path: Path) -> None:
    if content is None:
        path = SAMPLE / name
    else:
        path = tmp_path / name
        data = {"word": _docx_bytes(), "pdf": (SAMPLE / "sample_plan.pdf").read_bytes()}.get(content, content)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(DocumentError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and expected in message
    assert "\n" not in message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^nothing\.pdf: cannot read"):
        read_document(tmp_path / "nothing.pdf")


def test_a_document_that_places_nothing_is_an_error(tree: PlanTree, tmp_path: Path) -> None:
    other = tmp_path / "minutes.md"
    other.write_text("# 議事録\n\n本日の会議では予算について話し合った。\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"^minutes\.md: nothing in it could be placed"):
        _passages(other, tree)


def test_images_in_a_pdf_with_text_are_no_problem(tree: PlanTree) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(SAMPLE / "sample_plan.pdf"))
    writer.append(PdfReader(SAMPLE / "scanned.pdf"))
    buffer = io.BytesIO()
    writer.write(buffer)
    from knowledge.documents.pdf import read_pdf

    document = read_pdf(Path("mixed.pdf"), buffer.getvalue())
    last = len(PdfReader(SAMPLE / "sample_plan.pdf").pages) + 1
    assert document.pages == last and f"pages without text (scanned images?): {last}" in document.notes


def test_a_word_file_without_heading_styles_and_with_its_own_chapter_numbers(tree: PlanTree, tmp_path: Path) -> None:
    """As many offices write them: bold body paragraphs for headings, chapters numbered after an introduction."""
    import docx

    document = docx.Document()
    document.add_paragraph("サンプル（架空の内容）")
    for line in ("第1章 計画の概要", "この計画は架空のサンプルです。", "第5章 まちをデザインする",
                 "第2節 災害防止・雪対策の充実", "② 効果的・効率的な雪対策の推進", "【主な取組】",
                 "・流雪溝の整備と延伸", "・雪置き場の確保", "【成果指標】"):
        document.add_paragraph().add_run(line).bold = True
    table = document.add_table(rows=2, cols=3)
    rows = [("指標名", "現状値", "目標値"), ("除排雪に対する市民満足度", "35.2%（R5年度）", "50.0%（R12年度）")]
    for row, cells in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    path = tmp_path / "city.docx"
    document.save(str(path))
    passages, report = attach(read_document(path), tree, "test")
    assert [(p.node_id, p.section) for p in passages] == [("3.2.2", "主な取組"), ("3.2.2", "主な取組"),
                                                          ("3.2.2", "指標")]
    assert passages[-1].indicator is not None and passages[-1].indicator.target_year == "R12年度"
    assert report.covered == ["3.2.2"]
    assert report.unplaced == []  # the introduction is no measure's: left out and reported as the 序論
    assert [(part.kind, part.heading, part.blocks) for part in report.parts] == [
        ("intro", "", 1), ("intro", "第1章 計画の概要", 3)]  # the chapter headings inside it count too


def test_the_documents_package_imports_nothing_from_bot() -> None:
    import ast

    package = Path(__file__).resolve().parents[1] / "knowledge" / "documents"
    imported = [node.module or "" for path in package.glob("*.py")
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for path in package.glob("*.py")
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Import) for alias in node.names]
    assert imported and not [name for name in imported if name.split(".")[0] in ("bot", "adapters", "evals")]
